"""Clipping: ``clip_by_value``, ``clip_by_norm``, ``global_norm``, ``clip_by_global_norm``,
``clip_by_average_norm`` (TF 1.x semantics and names). All are built from rillet ops, so
gradients flow through them."""

from __future__ import annotations

from typing import Any

from rillet.graph import get_default_graph
from rillet.ops import array_ops, math_ops
from rillet.registry import convert_to_tensor

__all__ = ["clip_by_value", "clip_by_norm", "global_norm", "clip_by_global_norm",
           "clip_by_average_norm"]


def _sqrt(x: Any, name: str | None = None) -> Any:
    f = getattr(math_ops, "sqrt", None)
    return f(x, name=name) if f is not None else math_ops.pow(x, 0.5, name=name)


def _is_finite(x: Any) -> Any:
    f = getattr(math_ops, "is_finite", None)
    if f is not None:
        return f(x)
    return math_ops.less(math_ops.abs(x), float("inf"))  # False for inf and nan


def _clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any,
                   name: str | None = None) -> Any:
    """``min(max(t, clip_value_min), clip_value_max)`` elementwise; the gradient is passed
    where ``t`` is inside the range."""
    with get_default_graph().name_scope(name or "clip_by_value") as scope:
        t = convert_to_tensor(t, name="t")
        lo = convert_to_tensor(clip_value_min, dtype_hint=t.dtype)
        hi = convert_to_tensor(clip_value_max, dtype_hint=t.dtype)
        t_min = math_ops.minimum(t, hi)
        if not t_min.shape.is_compatible_with(t.shape):
            raise ValueError(f"Incompatible shapes: {t.shape} vs. {t_min.shape}")
        t_max = math_ops.maximum(t_min, lo, name=scope)
        if not t_max.shape.is_compatible_with(t.shape):
            raise ValueError(f"Incompatible shapes: {t.shape} vs. {t_max.shape}")
        return t_max


clip_by_value = getattr(math_ops, "clip_by_value", None) or _clip_by_value


def clip_by_norm(t: Any, clip_norm: Any, axes: Any = None, name: str | None = None) -> Any:
    """``t * clip_norm / max(l2norm(t), clip_norm)``: ``t`` rescaled so its L2 norm (over
    ``axes``, default all) is at most ``clip_norm``."""
    with get_default_graph().name_scope(name or "clip_by_norm") as scope:
        t = convert_to_tensor(t, name="t")
        clip_norm = math_ops.cast(clip_norm, t.dtype)
        l2sum = math_ops.reduce_sum(t * t, axes, keepdims=True)
        pred = math_ops.greater(l2sum, 0)
        l2sum_safe = math_ops.where_(pred, l2sum, math_ops.ones_like(l2sum))
        l2norm = math_ops.where_(pred, _sqrt(l2sum_safe), l2sum)
        intermediate = t * clip_norm
        if not intermediate.shape.is_compatible_with(t.shape):
            raise ValueError(f"Shapes {intermediate.shape} and {t.shape} are incompatible")
        return array_ops.identity(intermediate / math_ops.maximum(l2norm, clip_norm),
                                  name=scope)


def _check_list(t_list: Any) -> list:
    if not isinstance(t_list, list | tuple) or isinstance(t_list, str):
        raise TypeError("t_list should be a sequence")
    return list(t_list)


def global_norm(t_list: Any, name: str | None = None) -> Any:
    """``sqrt(sum(l2norm(t)**2 for t in t_list))``; None entries are ignored."""
    t_list = _check_list(t_list)
    with get_default_graph().name_scope(name or "global_norm") as scope:
        ts = [convert_to_tensor(t, name=f"t_{i}") for i, t in enumerate(t_list)
              if t is not None]
        if not ts:
            raise ValueError("global_norm needs at least one tensor that is not None")
        sums = [math_ops.reduce_sum(t * t) for t in ts]
        dtype = sums[0].dtype
        total = math_ops.add_n([math_ops.cast(s, dtype) for s in sums]) if len(sums) > 1 \
            else sums[0]
        return _sqrt(total, name=scope)


def clip_by_global_norm(t_list: Any, clip_norm: Any, use_norm: Any = None,
                        name: str | None = None) -> tuple[list, Any]:
    """Scales every tensor by ``clip_norm / max(global_norm, clip_norm)``. Returns
    ``(clipped_list, global_norm)``; None entries stay None. If the global norm is inf or
    nan, every entry becomes nan (as in TensorFlow)."""
    t_list = _check_list(t_list)
    if use_norm is None:
        use_norm = global_norm(t_list, name)
    with get_default_graph().name_scope(name or "clip_by_global_norm"):
        use_norm = convert_to_tensor(use_norm)
        clip = math_ops.cast(clip_norm, use_norm.dtype)
        scale_finite = clip * math_ops.minimum(1.0 / use_norm, 1.0 / clip)
        scale = math_ops.where_(_is_finite(use_norm), scale_finite,
                                math_ops.cast(float("nan"), use_norm.dtype))
        out = []
        for i, t in enumerate(t_list):
            if t is None:
                out.append(None)
                continue
            t = convert_to_tensor(t)
            out.append(array_ops.identity(t * math_ops.cast(scale, t.dtype), name=f"_{i}"))
        return out, use_norm


def clip_by_average_norm(t: Any, clip_norm: Any, name: str | None = None) -> Any:
    """``t * clip_norm / max(l2norm(t) / size(t), clip_norm)`` (deprecated in TF 1.x)."""
    with get_default_graph().name_scope(name or "clip_by_average_norm") as scope:
        t = convert_to_tensor(t, name="t")
        clip_norm = math_ops.cast(clip_norm, t.dtype)
        n = math_ops.cast(array_ops.size(t), t.dtype)
        l2norm_inv = 1.0 / _sqrt(math_ops.reduce_sum(t * t))
        tclip = array_ops.identity(
            t * clip_norm * math_ops.minimum(l2norm_inv * n, 1.0 / clip_norm), name=scope)
        return tclip

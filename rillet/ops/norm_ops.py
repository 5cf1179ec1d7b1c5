"""Normalisation ops: ``batch_normalization`` (composed), ``fused_batch_norm`` (one forward
kernel; gradients in rillet ops, so they differentiate again) and
``local_response_normalization``."""

from __future__ import annotations

from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet.graph import get_default_graph
from rillet.ops._util import same_as_input
from rillet.ops.array_ops import reshape, size
from rillet.ops.math_ops import cast, maximum, pow, reduce_mean, reduce_sum, rsqrt, square
from rillet.ops.nn_ops import _is_zeros
from rillet.registry import apply_op, convert_to_tensor, register
from rillet.shapes import TensorShape


def batch_normalization(x: Any, mean: Any, variance: Any, offset: Any, scale: Any,
                        variance_epsilon: float, name: str | None = None) -> Any:
    """scale * (x - mean) / sqrt(variance + eps) + offset (all broadcast against x)."""
    with get_default_graph().name_scope(name or "batchnorm"):
        x = convert_to_tensor(x)
        inv = rsqrt(convert_to_tensor(variance, dtype_hint=x.dtype) + variance_epsilon)
        if scale is not None:
            inv = inv * scale
        mean = convert_to_tensor(mean, dtype_hint=x.dtype)
        shift = (offset - mean * inv) if offset is not None else -mean * inv
        return x * cast(inv, x.dtype) + cast(shift, x.dtype)


# --- fused batch norm -------------------------------------------------------------------------


def _fbn_axes(data_format: str) -> tuple:
    return (0, 1, 2) if data_format == "NHWC" else (0, 2, 3)


def _fbn_infer(op: Any) -> list:
    x, scale, offset, mean, var = op.inputs
    if not x.dtype.is_floating:
        raise TypeError(f"Value passed to parameter 'x' has DataType {x.dtype.name} not in "
                        "list of allowed values: float16, float32, float64")
    pdt = scale.dtype
    for t, n in ((offset, "offset"), (mean, "mean"), (var, "variance")):
        if t.dtype is not pdt:
            raise TypeError(f"Input '{n}' of 'FusedBatchNorm' Op has type {t.dtype.name} that "
                            f"does not match type {pdt.name} of argument 'scale'")
    if x.shape.ndims is not None and x.shape.ndims != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {x.shape.ndims}")
    c = None
    if x.shape.ndims == 4:
        c = x.shape[3] if op.attrs["data_format"] == "NHWC" else x.shape[1]
    ts = (scale, offset) + ((mean, var) if not op.attrs["is_training"] else ())
    for t in ts:
        if t.shape.ndims is not None and t.shape.ndims != 1:
            raise ValueError(f"Shape must be rank 1 but is rank {t.shape.ndims}")
        d = t.shape[0] if t.shape.ndims else None
        if c is not None and d is not None and c != d:
            raise ValueError(f"Dimensions must be equal, but are {c} and {d}")
        c = c if c is not None else d
    return [(x.dtype, x.shape), (pdt, TensorShape([c])), (pdt, TensorShape([c]))]


def _fbn_kernel(xp: Any, x: Any, scale: Any, offset: Any, mean: Any, var: Any, *,
                epsilon: float, data_format: str, is_training: bool) -> tuple:
    axes = _fbn_axes(data_format)
    xc = x.astype(scale.dtype, copy=False)
    if is_training:
        mean = xc.mean(axis=axes)
        var = xc.var(axis=axes)
    shape = (1, 1, 1, -1) if data_format == "NHWC" else (1, -1, 1, 1)
    inv = 1 / xp.sqrt(var + scale.dtype.type(epsilon))
    y = (xc - mean.reshape(shape)) * (inv * scale).reshape(shape) + offset.reshape(shape)
    if is_training:
        n = x.size // max(x.shape[3 if data_format == "NHWC" else 1], 1)
        var = var * (n / max(n - 1, 1))  # the unbiased variance, for moving averages
    return y.astype(x.dtype, copy=False), mean, var.astype(scale.dtype, copy=False)


def _fbn_grad(op: Any, gy: Any, g_mean: Any, g_var: Any) -> list:
    x, scale, offset, mean, var = op.inputs
    eps, df = op.attrs["epsilon"], op.attrs["data_format"]
    axes = list(_fbn_axes(df))
    xf = cast(x, scale.dtype)
    gy = cast(gy, scale.dtype)

    def bc(v: Any) -> Any:  # per-channel [C] -> broadcastable against x
        return v if df == "NHWC" else reshape(v, [1, -1, 1, 1])

    if op.attrs["is_training"]:
        n = cast(size(x), scale.dtype) / cast(size(scale), scale.dtype)
        mu = reduce_mean(xf, axes, keepdims=True)
        xc = xf - mu
        inv = rsqrt(reduce_mean(square(xc), axes, keepdims=True) + eps)
        xhat = xc * inv
        sum_gy = reduce_sum(gy, axes)
        sum_gy_xhat = reduce_sum(gy * xhat, axes)
        dx = bc(scale) * inv * (gy - (bc(sum_gy) + xhat * bc(sum_gy_xhat)) / n)
        if not _is_zeros(g_mean):
            dx = dx + bc(g_mean) / n
        if not _is_zeros(g_var):
            dx = dx + bc(g_var) * 2 * xc / maximum(n - 1, 1)
        return [cast(dx, x.dtype), sum_gy_xhat, sum_gy, None, None]
    inv = rsqrt(var + eps)
    xc = xf - bc(mean)
    sum_gy = reduce_sum(gy, axes)
    sum_gy_xc = reduce_sum(gy * xc, axes)
    d_mean = -sum_gy * scale * inv
    d_var = -0.5 * sum_gy_xc * scale * inv * inv * inv
    if not _is_zeros(g_mean):
        d_mean = d_mean + g_mean
    if not _is_zeros(g_var):
        d_var = d_var + g_var
    return [cast(gy * bc(scale * inv), x.dtype), sum_gy_xc * inv, sum_gy, d_mean, d_var]


register("FusedBatchNorm", infer=_fbn_infer, kernel=_fbn_kernel, grad=_fbn_grad)


def fused_batch_norm(x: Any, scale: Any, offset: Any, mean: Any = None, variance: Any = None,
                     epsilon: float = 0.001, data_format: str = "NHWC",
                     is_training: bool = True, name: str | None = None) -> tuple:
    """Batch norm of a 4-D ``x`` over all but the channel axis.

    Returns (y, batch_mean, batch_variance). Training: statistics of this batch (the returned
    variance is the unbiased one, for moving averages); inference: ``mean``/``variance`` given.
    """
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"data_format must be NHWC or NCHW, got {data_format!r}")
    x = convert_to_tensor(x)
    scale = convert_to_tensor(scale, dtype_hint=_dt.float32 if x.dtype is _dt.float16
                              else x.dtype)
    pdt = scale.dtype
    offset = convert_to_tensor(offset, dtype_hint=pdt)
    if is_training:
        if mean is None:
            mean = np.zeros([0], pdt.np)
        if variance is None:
            variance = np.zeros([0], pdt.np)
    elif mean is None or variance is None:
        raise ValueError("Both 'mean' and 'variance' must be a 1-D tensor when is_training is "
                         "False.")
    mean = convert_to_tensor(mean, dtype_hint=pdt)
    variance = convert_to_tensor(variance, dtype_hint=pdt)
    eps = max(float(epsilon), 1.001e-5)  # TF's minimum (cuDNN's)
    y, m, v = apply_op("FusedBatchNorm", (x, scale, offset, mean, variance),
                       {"epsilon": eps, "data_format": data_format,
                        "is_training": bool(is_training)}, name=name or "FusedBatchNorm")
    return y, m, v


# --- local response normalisation -------------------------------------------------------------


def _window_sum(xp: Any, x: Any, r: int) -> Any:
    """sum(x[..., c - r : c + r + 1]) along the last axis (zero outside)."""
    c = x.shape[-1]
    p = xp.pad(x, [(0, 0)] * (x.ndim - 1) + [(r, r)])
    out = p[..., 0:c].copy()
    for k in range(1, 2 * r + 1):
        out += p[..., k:k + c]
    return out


register("LRNWindowSum", infer=same_as_input,
         kernel=lambda xp, x, *, depth_radius: _window_sum(xp, x, depth_radius),
         grad=lambda op, g: [apply_op("LRNWindowSum", (g,), dict(op.attrs))])


def _lrn_kernel(xp: Any, x: Any, *, depth_radius: int, bias: float, alpha: float,
                beta: float) -> Any:
    t = x.dtype.type
    s = t(bias) + t(alpha) * _window_sum(xp, x * x, depth_radius)
    return x * s ** t(-beta)


def _lrn_grad(op: Any, g: Any) -> list:
    x = op.inputs[0]
    a = op.attrs
    r = {"depth_radius": a["depth_radius"]}
    s = a["bias"] + a["alpha"] * apply_op("LRNWindowSum", (square(x),), r)
    p = pow(s, -a["beta"])
    w = apply_op("LRNWindowSum", (g * x * p / s,), r)
    return [g * p - (2 * a["alpha"] * a["beta"]) * x * w]


def _lrn_infer(op: Any) -> tuple:
    x = op.inputs[0]
    if x.shape.ndims is not None and x.shape.ndims != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {x.shape.ndims}")
    if not x.dtype.is_floating:
        raise TypeError(f"Value passed to parameter 'input' has DataType {x.dtype.name} not in "
                        "list of allowed values: float16, float32")
    return x.dtype, x.shape


register("LRN", infer=_lrn_infer, kernel=_lrn_kernel, grad=_lrn_grad)


def local_response_normalization(input: Any, depth_radius: int = 5, bias: float = 1.0,
                                 alpha: float = 1.0, beta: float = 0.5,
                                 name: str | None = None) -> Any:
    """input [N, H, W, C] / (bias + alpha * sum of squares over 2r+1 channels) ** beta."""
    return apply_op("LRN", (convert_to_tensor(input),),
                    {"depth_radius": int(depth_radius), "bias": float(bias),
                     "alpha": float(alpha), "beta": float(beta)}, name=name)


lrn = local_response_normalization

"""Helpers shared by op definitions: inference rules and constant folding of shape inputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet.shapes import TensorShape, broadcast_shapes


def same_as_input(op: Any) -> tuple:
    x = op.inputs[0]
    return x.dtype, x.shape


def check_same_dtype(op: Any, names: tuple = ("x", "y")) -> _dt.DType:
    """TF's error when two inputs of one op disagree on dtype."""
    first = op.inputs[0].dtype
    for i, t in enumerate(op.inputs[1:], 1):
        if t.dtype is not first:
            n = names[i] if i < len(names) else f"input_{i}"
            raise TypeError(f"Input '{n}' of '{op.type}' Op has type {t.dtype.name} that does "
                            f"not match type {first.name} of argument '{names[0]}'")
    return first


def broadcast_infer(op: Any) -> tuple:
    dt = check_same_dtype(op)
    return dt, broadcast_shapes(op.inputs[0].shape, op.inputs[1].shape)


def compare_infer(op: Any) -> tuple:
    check_same_dtype(op)
    return _dt.bool_, broadcast_shapes(op.inputs[0].shape, op.inputs[1].shape)


def require_float(op: Any, i: int = 0) -> None:
    dt = op.inputs[i].dtype
    if not (dt.is_floating or dt.is_complex):
        raise TypeError(f"Value passed to parameter 'x' has DataType {dt.name} not in list "
                        "of allowed values: float16, float32, float64, complex64, complex128")


def float_unary_infer(op: Any) -> tuple:
    require_float(op)
    return same_as_input(op)


# Ops folded at graph-building time when all their inputs are small known constants (shape
# arithmetic such as ``tf.shape(x)[0] * 2``); their kernels are pure functions of the inputs.
FOLDABLE = {"Add", "Sub", "Mul", "FloorDiv", "FloorMod", "Maximum", "Minimum", "Neg", "Pack",
            "ConcatV2", "StridedSlice", "Slice", "Range", "Reshape", "Prod", "Sum", "Max",
            "Min", "ExpandDims", "Squeeze", "GatherV2", "Fill", "Size", "Rank", "Transpose",
            "Tile", "Equal", "NotEqual", "Less", "Greater", "LessEqual", "GreaterEqual",
            "SelectV2", "Abs", "RealDiv", "TrueDiv"}
_FOLD_LIMIT = 4096


def constant_value(t: Any) -> np.ndarray | None:
    """The value of ``t`` when it is known at graph-building time (a Const, the shape of a
    fully defined tensor, or small shape arithmetic on those), else None."""
    if hasattr(t, "numpy") and not hasattr(t, "op"):
        return np.asarray(t.numpy())
    op = getattr(t, "op", None)
    if op is None:
        return None
    if op.type == "Const":
        return op.attrs["value"]
    if op.type == "Shape":
        if op.inputs[0].shape.is_fully_defined():
            return np.array(op.inputs[0].shape.as_list(), dtype=op.outputs[0].dtype.np)
        return None
    if op.type in ("Size", "Rank"):
        s = op.inputs[0].shape
        if op.type == "Rank" and s.ndims is not None:
            return np.array(s.ndims, dtype=np.int32)
        n = s.num_elements()
        return None if op.type == "Rank" or n is None else np.array(n, t.dtype.np)
    if op.type in ("Identity", "Cast", "StopGradient"):
        v = constant_value(op.inputs[0])
        return None if v is None else v.astype(t.dtype.np)
    if op.type in FOLDABLE and len(op.outputs) == 1:
        vals = [constant_value(x) for x in op.inputs]
        if any(v is None or np.size(v) > _FOLD_LIMIT for v in vals):
            return None
        from rillet import registry
        d = registry.get(op.type)
        try:
            with np.errstate(all="ignore"):
                out = d.kernel(np, *vals, **d.kernel_kwargs(op.attrs))
        except Exception:  # noqa: BLE001 - the run-time kernel reports it
            return None
        return np.asarray(out, dtype=t.dtype.np)
    return None


def partial_value(t: Any) -> Any:
    """What is known of a small integer tensor's value: an int (scalar), a list whose unknown
    entries are None (1-D, e.g. ``tf.shape(x)`` with ``x`` of shape ``[None, 3]``), or None."""
    v = constant_value(t)
    if v is not None:
        return [int(d) for d in v] if np.ndim(v) == 1 else (int(v) if np.ndim(v) == 0
                                                                else None)
    op = getattr(t, "op", None)
    if op is None:
        return None
    if op.type == "Shape" and op.inputs[0].shape.ndims is not None:
        return list(op.inputs[0].shape.as_list())
    if op.type in ("Identity", "Cast"):
        return partial_value(op.inputs[0])
    if op.type == "Pack" and op.attrs.get("axis", 0) == 0 and \
            all(x.shape.ndims == 0 for x in op.inputs):
        parts = [partial_value(x) for x in op.inputs]
        return [p if isinstance(p, int) else None for p in parts]
    if op.type == "ConcatV2":
        parts = [partial_value(x) for x in op.inputs]
        if all(isinstance(p, list) for p in parts):
            return [d for p in parts for d in p]
        return None
    if op.type == "StridedSlice":
        base = partial_value(op.inputs[0])
        spec = [constant_value(x) for x in op.inputs[1:]]
        if not isinstance(base, list) or any(s is None for s in spec):
            return None
        from rillet.ops.slicing import slice_key
        try:
            out = np.array(base + [0], dtype=object)[:-1][slice_key(*spec, **op.attrs)]
        except (IndexError, ValueError, TypeError):
            return None
        return out.tolist() if isinstance(out, np.ndarray) else out
    if op.type in FOLDABLE and len(op.outputs) == 1:
        # Shape arithmetic on partly known values, e.g. tf.shape(x)[1] * 2 with x [None, 3].
        parts = [partial_value(x) for x in op.inputs]
        if all(isinstance(p, int) or (isinstance(p, list) and None not in p) for p in parts):
            from rillet import registry
            d = registry.get(op.type)
            vals = [np.asarray(p, dtype=x.dtype.np) for p, x in zip(parts, op.inputs)]
            try:
                with np.errstate(all="ignore"):
                    out = np.asarray(d.kernel(np, *vals, **d.kernel_kwargs(op.attrs)))
            except Exception:  # noqa: BLE001 - the run-time kernel reports it
                return None
            if out.ndim == 0:
                return int(out)
            return [int(v) for v in out.reshape(-1)] if out.ndim == 1 else None
    return None


def static_ints(value: Any, what: str) -> list[int] | int:
    """``value`` (Python ints, a NumPy array or a constant tensor) as an int or a list of ints;
    raises when it is a tensor whose value is not known at graph-building time."""
    if hasattr(value, "dtype") and not isinstance(value, np.ndarray | np.generic):
        v = constant_value(value)
        if v is None:
            raise ValueError(f"{what} must be known when the graph is built (a Python value or "
                             "a constant), got a computed tensor")
        value = v
    if isinstance(value, np.ndarray | np.generic):
        return int(value) if np.ndim(value) == 0 else [int(d) for d in np.reshape(value, [-1])]
    if isinstance(value, list | tuple):
        return [int(static_ints(d, what)) for d in value]
    return int(value)


def shape_from_tensor(t: Any) -> TensorShape:
    """A static shape from a 1-D shape tensor: known entries where they can be found."""
    v = partial_value(t)
    if isinstance(v, list):
        return TensorShape([None if d is None or d < 0 else int(d) for d in v])
    if isinstance(v, int):
        return TensorShape([None if v < 0 else v])
    n = t.shape[0] if t.shape.ndims == 1 else None
    return TensorShape(None if n is None else [None] * n)


def scalar_or_none(t: Any) -> int | None:
    """A scalar int tensor's value when known at graph-building time."""
    v = partial_value(t)
    return v if isinstance(v, int) else None


_scalar_or_none = scalar_or_none


def normalize_axis(axis: int, ndim: int | None, opname: str = "",
                   what: str = "reduction dimension") -> int:
    """``axis`` in ``[0, ndim)``; raises TF's error when out of range. Unknown rank: as is."""
    if ndim is None:
        return axis
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"Invalid {what} {axis} for input with {ndim} dimensions")
    return axis % max(ndim, 1)


def bool_infer(op: Any) -> tuple:
    """Bool-valued elementwise test of one float input (is_nan, is_finite, ...)."""
    require_float(op)
    return _dt.bool_, op.inputs[0].shape


def require_int(op: Any, i: int, what: str) -> None:
    dt = op.inputs[i].dtype
    if dt not in (_dt.int32, _dt.int64):
        raise TypeError(f"Value passed to parameter '{what}' has DataType {dt.name} not in "
                        "list of allowed values: int32, int64")


def require_rank(shape: TensorShape, rank: int, what: str = "") -> None:
    """TF's "Shape must be rank N but is rank M" check (unknown rank passes)."""
    if shape.ndims is not None and shape.ndims != rank:
        raise ValueError(f"Shape must be rank {rank} but is rank {shape.ndims}"
                         + (f" for {what}" if what else ""))


def require_rank_at_least(shape: TensorShape, rank: int) -> None:
    if shape.ndims is not None and shape.ndims < rank:
        raise ValueError(f"Shape must be at least rank {rank} but is rank {shape.ndims}")

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


def constant_value(t: Any) -> np.ndarray | None:
    """The value of ``t`` when it is known at graph-building time (a Const, or the shape of a
    fully defined tensor), else None."""
    if hasattr(t, "numpy") and not hasattr(t, "op"):
        return np.asarray(t.numpy())
    op = getattr(t, "op", None)
    if op is None:
        return None
    if op.type == "Const":
        return op.attrs["value"]
    if op.type == "Shape" and op.inputs[0].shape.is_fully_defined():
        return np.array(op.inputs[0].shape.as_list(), dtype=op.outputs[0].dtype.np)
    if op.type in ("Identity", "Cast"):
        v = constant_value(op.inputs[0])
        return None if v is None else v.astype(t.dtype.np)
    if op.type == "Pack":
        vals = [constant_value(x) for x in op.inputs]
        if all(v is not None for v in vals):
            return np.stack(vals, axis=op.attrs.get("axis", 0))
    return None


def shape_from_tensor(t: Any) -> TensorShape:
    """A static shape from a 1-D shape tensor: known entries where they can be found."""
    v = constant_value(t)
    if v is not None:
        return TensorShape([int(d) if d >= 0 else None for d in np.reshape(v, [-1])])
    op = getattr(t, "op", None)
    if op is not None and op.type == "Pack":
        return TensorShape([_scalar_or_none(x) for x in op.inputs])
    n = t.shape[0] if t.shape.ndims == 1 else None
    return TensorShape(None if n is None else [None] * n)


def _scalar_or_none(t: Any) -> int | None:
    v = constant_value(t)
    return None if v is None else int(v)


def normalize_axis(axis: int, ndim: int, opname: str = "") -> int:
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"Invalid reduction dimension {axis} for input with {ndim} dimensions")
    return axis % max(ndim, 1)

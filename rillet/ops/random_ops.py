"""Random ops. Seeds follow TensorFlow's rule: with a graph seed (``set_random_seed``) and/or
an op seed, a program gives the same numbers on every run; each run of a random op within one
Session gives new numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet.graph import get_default_graph
from rillet.ops._util import shape_from_tensor
from rillet.ops.array_ops import _shape_tensor
from rillet.registry import NOT_DIFFERENTIABLE, apply_op, convert_to_tensor, register

DEFAULT_GRAPH_SEED = 87654321


def set_random_seed(seed: int | None) -> None:
    """Sets the graph-level seed of the default graph."""
    get_default_graph().seed = seed


def get_seed(op_seed: int | None) -> tuple[int, int]:
    """(seed, seed2) for a new random op, following TensorFlow: 0, 0 means nondeterministic."""
    g = get_default_graph()
    if g.seed is not None:
        return int(g.seed), int(op_seed if op_seed is not None else len(g._ops))
    if op_seed is not None:
        return DEFAULT_GRAPH_SEED, int(op_seed)
    return 0, 0


def _random_infer(op: Any) -> tuple:
    return op.attrs["dtype"], shape_from_tensor(op.inputs[0])


def _dims(shape: Any) -> tuple:
    return tuple(int(d) for d in np.reshape(np.asarray(shape), [-1]))


def _normal(ctx: Any, shape: Any, *, dtype: Any, **_: Any) -> Any:
    return ctx.rng().standard_normal(_dims(shape)).astype(dtype.np)


def _truncated(ctx: Any, shape: Any, *, dtype: Any, **_: Any) -> Any:
    rng = ctx.rng()
    out = rng.standard_normal(_dims(shape))
    bad = np.abs(out) > 2
    while bad.any():  # resample the tails, as TF's truncated normal does
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return out.astype(dtype.np)


def _uniform(ctx: Any, shape: Any, *, dtype: Any, **_: Any) -> Any:
    return ctx.rng().random(_dims(shape)).astype(dtype.np)


def _uniform_int(ctx: Any, shape: Any, lo: Any, hi: Any, *, dtype: Any, **_: Any) -> Any:
    return ctx.rng().integers(int(lo), int(hi), _dims(shape)).astype(dtype.np)


for _t, _k in [("RandomStandardNormal", _normal), ("TruncatedNormal", _truncated),
               ("RandomUniform", _uniform)]:
    register(_t, infer=_random_infer, kernel=_k, stateful=True, needs_ctx=True,
             grad=NOT_DIFFERENTIABLE)
register("RandomUniformInt", infer=_random_infer, kernel=_uniform_int, stateful=True,
         needs_ctx=True, grad=NOT_DIFFERENTIABLE)


def _rand(op_type: str, shape: Any, dtype: Any, seed: Any, name: str | None) -> Any:
    s1, s2 = get_seed(seed)
    return apply_op(op_type, (_shape_tensor(shape),),
                    {"dtype": _dt.as_dtype(dtype), "seed": s1, "seed2": s2}, name=name)


def random_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = _dt.float32,
                  seed: int | None = None, name: str | None = None) -> Any:
    """Samples N(mean, stddev**2) of the given shape."""
    dtype = _dt.as_dtype(dtype)
    x = _rand("RandomStandardNormal", shape, dtype, seed, name)
    return _affine(x, stddev, mean, dtype)


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0,
                     dtype: Any = _dt.float32, seed: int | None = None,
                     name: str | None = None) -> Any:
    """Normal samples redrawn until within two standard deviations of the mean."""
    dtype = _dt.as_dtype(dtype)
    x = _rand("TruncatedNormal", shape, dtype, seed, name)
    return _affine(x, stddev, mean, dtype)


def random_uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = _dt.float32,
                   seed: int | None = None, name: str | None = None) -> Any:
    """Uniform samples in [minval, maxval) (maxval defaults to 1 for floats)."""
    dtype = _dt.as_dtype(dtype)
    if dtype.is_integer:
        if maxval is None:
            raise ValueError(f"Must specify maxval for integer dtype {dtype.name}")
        s1, s2 = get_seed(seed)
        return apply_op("RandomUniformInt",
                        (_shape_tensor(shape), convert_to_tensor(minval, dtype=dtype),
                         convert_to_tensor(maxval, dtype=dtype)),
                        {"dtype": dtype, "seed": s1, "seed2": s2}, name=name)
    x = _rand("RandomUniform", shape, dtype, seed, name)
    return _affine(x, (1.0 if maxval is None else maxval) - minval, minval, dtype)


def _affine(x: Any, scale: Any, shift: Any, dtype: Any) -> Any:
    from rillet.ops import math_ops
    if not (isinstance(scale, int | float) and scale == 1):
        x = math_ops.multiply(x, convert_to_tensor(scale, dtype=dtype))
    if not (isinstance(shift, int | float) and shift == 0):
        x = math_ops.add(x, convert_to_tensor(shift, dtype=dtype))
    return x

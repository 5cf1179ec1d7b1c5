"""Random ops. Seeds follow TensorFlow's rule: with a graph seed (``set_random_seed``) and/or
an op seed, a program gives the same numbers on every run; each run of a random op within one
Session gives new numbers."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet.graph import get_default_graph
from rillet.ops import array_ops
from rillet.ops._util import scalar_or_none, shape_from_tensor
from rillet.ops.array_ops import _shape_tensor
from rillet.registry import NOT_DIFFERENTIABLE, apply_op, convert_to_tensor, is_tensor, register
from rillet.shapes import TensorShape

DEFAULT_GRAPH_SEED = 87654321


def set_random_seed(seed: int | None) -> None:
    """Sets the graph-level seed of the default graph (and restarts eager random streams, so
    re-seeding replays eager random numbers as TF does)."""
    get_default_graph().seed = seed
    eager = sys.modules.get("rillet.eager.execute")
    if eager is not None:
        eager.ctx.reset_random()


def get_seed(op_seed: int | None) -> tuple[int, int]:
    """(seed, seed2) for a new random op, following TensorFlow: 0, 0 means nondeterministic."""
    g = get_default_graph()
    if g.seed is not None:
        seeds = int(g.seed), int(op_seed if op_seed is not None else len(g._ops))
        # (0, 0) means "nondeterministic" to the kernels; TF maps it to (0, 2**31 - 1).
        return seeds if seeds != (0, 0) else (0, 2**31 - 1)
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


# --- shuffle / multinomial / crop ------------------------------------------------------------
def _shuffle_infer(op: Any) -> tuple:
    return op.inputs[0].dtype, op.inputs[0].shape


def _shuffle_kernel(ctx: Any, x: Any, **_: Any) -> Any:
    if np.ndim(x) == 0:
        return ctx.xp.array(x, copy=True)
    return ctx.xp.asarray(x)[ctx.rng().permutation(np.shape(x)[0])]


register("RandomShuffle", infer=_shuffle_infer, kernel=_shuffle_kernel, stateful=True,
         needs_ctx=True, grad=NOT_DIFFERENTIABLE)


def random_shuffle(value: Any, seed: int | None = None, name: str | None = None) -> Any:
    """``value`` with its first dimension randomly permuted (a new order on every run)."""
    s1, s2 = get_seed(seed)
    return apply_op("RandomShuffle", (convert_to_tensor(value),), {"seed": s1, "seed2": s2},
                    name=name)


def _multinomial_infer(op: Any) -> tuple:
    logits, n = op.inputs
    if not logits.dtype.is_floating:
        raise TypeError(f"logits must be float, got {logits.dtype.name}")
    if logits.shape.ndims not in (None, 2):
        raise ValueError(f"logits should be a matrix, got shape {logits.shape}")
    batch = logits.shape[0] if logits.shape.ndims == 2 else None
    return op.attrs["output_dtype"], TensorShape([batch, scalar_or_none(n)])


def _multinomial_kernel(ctx: Any, logits: Any, n: Any, *, output_dtype: Any, **_: Any) -> Any:
    n = int(n)
    if n < 0:
        raise ValueError(f"num_samples should be nonnegative, got {n}")
    b, k = logits.shape
    if k == 0 and n > 0:
        raise ValueError("num_classes should be positive, got 0")
    # Gumbel-max: argmax(logits + Gumbel noise) is a draw from softmax(logits).
    u = ctx.rng().random((b, n, k))
    with np.errstate(divide="ignore"):
        noise = -np.log(-np.log(u + np.finfo(np.float64).tiny))
    return ctx.xp.argmax(logits.astype(np.float64)[:, None, :] + noise, axis=-1).astype(
        output_dtype.np)


register("Multinomial", infer=_multinomial_infer, kernel=_multinomial_kernel, stateful=True,
         needs_ctx=True, grad=NOT_DIFFERENTIABLE)


def multinomial(logits: Any, num_samples: Any, seed: int | None = None,
                name: str | None = None, output_dtype: Any = None) -> Any:
    """``num_samples`` class indices per row drawn from ``softmax(logits)``:
    logits ``[batch, classes]`` -> ``[batch, num_samples]`` (int64)."""
    s1, s2 = get_seed(seed)
    n = convert_to_tensor(num_samples, dtype=_dt.int32) if not is_tensor(num_samples) else \
        convert_to_tensor(num_samples)
    return apply_op("Multinomial", (convert_to_tensor(logits), n),
                    {"seed": s1, "seed2": s2,
                     "output_dtype": _dt.as_dtype(output_dtype or _dt.int64)}, name=name)


def categorical(logits: Any, num_samples: Any, dtype: Any = None, seed: int | None = None,
                name: str | None = None) -> Any:
    """``tf.random.categorical``: as ``multinomial`` with the dtype third."""
    return multinomial(logits, num_samples, seed=seed, name=name, output_dtype=dtype)


def random_crop(value: Any, size: Any, seed: int | None = None, name: str | None = None) -> Any:
    """A random window of shape ``size`` from ``value`` (same offset in all of it)."""
    from rillet.graph import get_default_graph as _g
    from rillet.ops import math_ops, slicing
    with _g().name_scope(name or "random_crop"):
        value = convert_to_tensor(value)
        size = _shape_tensor(size)
        shape = array_ops.shape(value)
        limit = shape - size + 1
        check = math_ops.reduce_all(math_ops.greater_equal(limit, 1))
        limit = array_ops.identity(apply_op("AssertCrop", (check, limit)))
        offset = math_ops.floormod(random_uniform(array_ops.shape(shape), 0,
                                                  np.iinfo(np.int32).max, _dt.int32,
                                                  seed=seed), limit)
        return slicing.slice(value, offset, size)


def _assert_crop(xp: Any, ok: Any, limit: Any) -> Any:
    if not bool(ok):
        raise ValueError("Need value.shape >= size, got shape - size + 1 = "
                         f"{np.asarray(limit).tolist()}")
    return limit


register("AssertCrop", infer=lambda op: (op.inputs[1].dtype, op.inputs[1].shape),
         kernel=_assert_crop, grad=NOT_DIFFERENTIABLE)


# TF 2 spellings, re-exported by ``rillet.random``.
normal = random_normal
uniform = random_uniform
shuffle = random_shuffle

"""Table-driven op tests, shared data: each ``Case`` names a rillet function, a NumPy reference,
input generators and the inputs to differentiate. ``tests/test_ops_*.py`` run every case:
forward vs the reference (float32 and float64, non-contiguous inputs, shape ``()`` where
meaningful, unknown batch dims), inferred static shapes and dtypes vs the kernel's output, and
gradients vs central differences. ``tests/test_registry.py`` builds every case to check that
each registered op appears here (or in ``tests/op_table_nn.py``).

Helpers: ``F`` float inputs (uniform in [lo, hi], optionally kept ``away`` from a point), ``I``
integer inputs, ``B`` bool inputs, ``K`` a fixed array.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import rillet as rt
from rillet.ops import array_ops, linalg_ops, math_ops, random_ops, slicing
from rillet.test_util import _project, check_gradients, numeric_and_symbolic


# --- input specs ---------------------------------------------------------------------------
@dataclass
class F:
    """Float input of ``shape``, uniform in [lo, hi]; entries closer than ``gap`` to ``away``
    are pushed off it (kinks, poles)."""
    shape: tuple = (2, 3)
    lo: float = -2.0
    hi: float = 2.0
    away: float | None = None
    gap: float = 0.2

    def make(self, rng: np.random.Generator, dtype: Any) -> np.ndarray:
        x = rng.uniform(self.lo, self.hi, self.shape)
        if self.away is not None:
            d = x - self.away
            x = np.where(np.abs(d) < self.gap, self.away + np.copysign(self.gap, d) * 1.5, x)
        return np.asarray(x, dtype=dtype)

    def scalar(self) -> F:
        return F((), self.lo, self.hi, self.away, self.gap)


@dataclass
class I:  # noqa: E742 - short on purpose, like F/B/K
    """Integer input of ``shape`` in [lo, hi)."""
    shape: tuple = (2, 3)
    lo: int = -5
    hi: int = 6
    dtype: Any = np.int32

    def make(self, rng: np.random.Generator, dtype: Any) -> np.ndarray:
        return rng.integers(self.lo, self.hi, self.shape).astype(self.dtype)

    def scalar(self) -> I:
        return I((), self.lo, self.hi, self.dtype)


@dataclass
class B:
    """Bool input of ``shape``."""
    shape: tuple = (2, 3)

    def make(self, rng: np.random.Generator, dtype: Any) -> np.ndarray:
        return rng.random(self.shape) < 0.5

    def scalar(self) -> B:
        return B(())


@dataclass
class K:
    """A fixed array (float arrays take the tested float dtype)."""
    value: Any

    def make(self, rng: np.random.Generator, dtype: Any) -> np.ndarray:
        v = np.asarray(self.value)
        return v.astype(dtype) if v.dtype.kind == "f" else v.copy()

    def scalar(self) -> K:
        return self


@dataclass
class Case:
    name: str
    fn: Callable[..., Any]
    ref: Callable[..., Any]
    inputs: Sequence[Any] = ()
    grad: Sequence[int] = ()          # inputs whose gradient is checked
    family: str = "math"
    scalar: bool = False              # also run with every input of shape ()
    unknown: bool = True              # also run with an unknown first dimension
    exact_shape: bool = True          # known input shapes give a fully known output shape
    grad_fn: Callable[..., Any] | None = None  # single-output view for the gradient check
    rtol: float = 1e-10
    rtol32: float = 2e-5
    atol32: float = 2e-6
    grad_atol: float = 1e-5
    grad_rtol: float = 1e-4
    float_dtypes: tuple = (np.float32, np.float64)
    tags: set = field(default_factory=set)

    def __str__(self) -> str:
        return self.name


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def make_inputs(case: Case, dtype: Any, scalar: bool = False) -> list[np.ndarray]:
    rng = rng_for(case.name)
    return [(s.scalar() if scalar else s).make(rng, dtype) for s in case.inputs]


def noncontiguous(a: np.ndarray) -> np.ndarray:
    """The same values as a strided (non-contiguous) view."""
    if a.ndim == 0:
        return a
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    big[..., ::2] = a
    view = big[..., ::2]
    assert not view.flags.c_contiguous or a.shape[-1] <= 1
    return view


def build(case: Case, arrays: Sequence[np.ndarray], unknown: bool = False) -> tuple:
    """Placeholders for ``arrays`` (first dim None with ``unknown``), ``fn``'s output(s)."""
    phs = []
    for a in arrays:
        shape = list(a.shape)
        if unknown and shape:
            shape[0] = None
        phs.append(rt.placeholder(rt.as_dtype(a.dtype), shape))
    return phs, case.fn(*phs)


def as_list(x: Any) -> list:
    return list(x) if isinstance(x, list | tuple) else [x]


# --- small reference helpers -----------------------------------------------------------------
def _np_erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(x).astype(x.dtype)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1 / (1 + np.exp(-x.astype(np.float64)))).astype(x.dtype)


def _lse(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _cum(f: Callable, x: np.ndarray, axis: int, exclusive: bool, reverse: bool,
         init: int) -> np.ndarray:
    if reverse:
        x = np.flip(x, axis)
    out = f(x, axis=axis)
    if exclusive:
        out = np.concatenate([np.full_like(np.take(out, [0], axis=axis), init),
                              np.delete(out, -1, axis=axis)], axis=axis)
    return np.flip(out, axis) if reverse else out


def _top_k(x: np.ndarray, k: int) -> tuple:
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k].astype(np.int32)
    return np.take_along_axis(x, idx, -1), idx


def _unique(x: np.ndarray) -> tuple:
    seen: dict = {}
    for v in x.tolist():
        seen.setdefault(v, len(seen))
    return np.array(list(seen), dtype=x.dtype), np.array([seen[v] for v in x.tolist()],
                                                          dtype=np.int32)


def _reverse_seq(x: np.ndarray, lengths: np.ndarray, seq_axis: int, batch_axis: int) -> Any:
    out = x.copy()
    for b, n in enumerate(lengths.tolist()):
        src = [slice(None)] * x.ndim
        src[batch_axis] = b
        src[seq_axis] = slice(0, n)
        dst = list(src)
        out[tuple(dst)] = np.flip(x[tuple(src)], seq_axis - (seq_axis > batch_axis))
    return out


def _scatter_nd(idx: np.ndarray, upd: np.ndarray, shape: list) -> np.ndarray:
    out = np.zeros(shape, upd.dtype)
    np.add.at(out, tuple(np.moveaxis(idx, -1, 0)), upd)
    return out


def _segsum(data: np.ndarray, ids: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n,) + data.shape[ids.ndim:], data.dtype)
    keep = ids >= 0
    np.add.at(out, ids[keep], data[keep])
    return out


def _stitch(idxs: list, datas: list) -> np.ndarray:
    n = max(int(i.max()) + 1 for i in idxs)
    rest = datas[0].shape[idxs[0].ndim:]
    out = np.zeros((n,) + rest, datas[0].dtype)
    for i, d in zip(idxs, datas):
        out[i.reshape(-1)] = d.reshape((-1,) + rest)
    return out


def _pos(shape: tuple = (2, 3), lo: float = 0.3, hi: float = 2.0) -> F:
    return F(shape, lo, hi)


def _nz(shape: tuple = (2, 3)) -> F:
    return F(shape, -2, 2, away=0.0, gap=0.3)


X = F()          # the default [2, 3] float input
XB = F((3,))     # broadcasts against X


# --- unary elementwise --------------------------------------------------------------------
def _unary(name: str, fn: Callable, ref: Callable, spec: Any = X, grad: bool = True,
           scalar: bool = True, **kw: Any) -> Case:
    return Case(name, fn, ref, [spec], [0] if grad else [], scalar=scalar, **kw)


MATH: list[Case] = [
    _unary("negative", rt.negative, np.negative),
    _unary("abs", rt.abs, np.abs, _nz()),
    _unary("sign", rt.sign, np.sign, _nz()),
    _unary("square", rt.square, np.square),
    _unary("sqrt", rt.sqrt, np.sqrt, _pos()),
    _unary("rsqrt", rt.rsqrt, lambda x: 1 / np.sqrt(x), _pos()),
    _unary("reciprocal", rt.reciprocal, np.reciprocal, _nz()),
    _unary("exp", rt.exp, np.exp),
    _unary("expm1", rt.expm1, np.expm1),
    _unary("log", rt.log, np.log, _pos()),
    _unary("log1p", rt.log1p, np.log1p, F((2, 3), -0.5, 2)),
    _unary("sin", rt.sin, np.sin),
    _unary("cos", rt.cos, np.cos),
    _unary("tan", rt.tan, np.tan, F((2, 3), -1.2, 1.2)),
    _unary("asin", rt.asin, np.arcsin, F((2, 3), -0.9, 0.9)),
    _unary("acos", rt.acos, np.arccos, F((2, 3), -0.9, 0.9)),
    _unary("atan", rt.atan, np.arctan),
    _unary("sinh", rt.sinh, np.sinh),
    _unary("cosh", rt.cosh, np.cosh),
    _unary("tanh", rt.tanh, np.tanh),
    _unary("sigmoid", rt.sigmoid, _sigmoid, F((2, 3), -6, 6)),
    _unary("erf", rt.erf, _np_erf, F((3, 4), -3, 3)),
    _unary("floor", rt.floor, np.floor, grad=False),
    _unary("ceil", rt.ceil, np.ceil, grad=False),
    _unary("round", rt.round, np.round, F((3, 4), -4, 4), grad=False),
    _unary("round_half_even", rt.round, np.round,
           K([[0.5, 1.5, 2.5], [-0.5, -1.5, -2.5]]), grad=False),
    _unary("is_nan", rt.is_nan, np.isnan, K([[np.nan, 1.0, np.inf], [-np.inf, 0, 2]]),
           grad=False),
    _unary("is_inf", rt.is_inf, np.isinf, K([[np.nan, 1.0, np.inf], [-np.inf, 0, 2]]),
           grad=False),
    _unary("is_finite", rt.is_finite, np.isfinite, K([[np.nan, 1.0, np.inf], [-np.inf, 0, 2]]),
           grad=False),
    _unary("logical_not", rt.logical_not, np.logical_not, B(), grad=False),
    _unary("cast_f_to_i", lambda x: rt.cast(x, rt.int32), lambda x: x.astype(np.int32),
           grad=False),
    _unary("cast_i_to_f", lambda x: rt.cast(x, rt.float64), lambda x: x.astype(np.float64),
           I(), grad=False),
    _unary("zeros_like", rt.zeros_like, np.zeros_like, grad=False),
    _unary("ones_like", rt.ones_like, np.ones_like, grad=False),
    _unary("identity", rt.identity, lambda x: x),
    _unary("placeholder_with_default", lambda x: rt.placeholder_with_default(x, [None, 3]) * 2.0,
           lambda x: x * 2, scalar=False, exact_shape=False),
    _unary("stop_gradient", lambda x: x * rt.stop_gradient(x), lambda x: x * x, grad=False),
]


# --- binary elementwise ---------------------------------------------------------------------
def _binary(name: str, fn: Callable, ref: Callable, a: Any = X, b: Any = XB,
            grad: Sequence[int] = (0, 1), scalar: bool = True, **kw: Any) -> Case:
    return Case(name, fn, ref, [a, b], grad, scalar=scalar, **kw)


MATH += [
    _binary("add", rt.add, np.add),
    _binary("subtract", rt.subtract, np.subtract),
    _binary("multiply", rt.multiply, np.multiply),
    _binary("divide", rt.divide, np.divide, b=_nz((3,))),
    _binary("truediv_int", rt.truediv, np.true_divide, I(), I((3,), 1, 5), grad=()),
    _binary("truediv", rt.truediv, np.true_divide, b=_nz((3,))),
    _binary("realdiv", rt.realdiv, np.true_divide, b=_nz((3,))),
    _binary("div_int", rt.div, np.floor_divide, I(), I((3,), 1, 5), grad=()),
    _binary("floordiv", rt.floordiv, np.floor_divide, I(), I((3,), 1, 5), grad=()),
    _binary("floordiv_float", rt.floordiv, np.floor_divide, b=_pos((3,), 0.5, 2), grad=()),
    _binary("mod", rt.mod, np.mod, F((2, 3), 0.1, 5), K([1.3, 0.7, 2.9]), grad=(0,)),
    _binary("floormod_int", rt.floormod, np.mod, I(), I((3,), 1, 5), grad=()),
    _binary("pow", rt.pow, np.power, _pos(), F((3,), -2, 2)),
    _binary("maximum", rt.maximum, np.maximum),
    _binary("minimum", rt.minimum, np.minimum),
    _binary("squared_difference", rt.squared_difference, lambda x, y: (x - y) ** 2),
    _binary("atan2", rt.atan2, np.arctan2, X, _nz((3,))),
    _binary("div_no_nan", rt.div_no_nan, np.divide, X, _nz((3,))),
    _binary("div_no_nan_zero", rt.div_no_nan, lambda x, y: np.where(y == 0, 0 * x, x / np.where(
        y == 0, 1, y)), X, K([0.0, 2.0, 0.0]), grad=(0,)),
    _binary("equal", rt.equal, np.equal, I(lo=0, hi=3), I((3,), 0, 3), grad=()),
    _binary("not_equal", rt.not_equal, np.not_equal, I(lo=0, hi=3), I((3,), 0, 3), grad=()),
    _binary("less", rt.less, np.less, grad=()),
    _binary("less_equal", rt.less_equal, np.less_equal, I(lo=0, hi=3), I((3,), 0, 3), grad=()),
    _binary("greater", rt.greater, np.greater, grad=()),
    _binary("greater_equal", rt.greater_equal, np.greater_equal, grad=()),
    _binary("logical_and", rt.logical_and, np.logical_and, B(), B((3,)), grad=()),
    _binary("logical_or", rt.logical_or, np.logical_or, B(), B((3,)), grad=()),
    _binary("logical_xor", rt.logical_xor, np.logical_xor, B(), B((3,)), grad=()),
    _binary("operators", lambda x, y: (x + y) * x - y / 2.0 + (-x) ** 2.0 + abs(y) @ rt.transpose(
        x), lambda x, y: (x + y) * x - y / 2.0 + (-x) ** 2.0 + np.abs(y) @ x.T, F((3, 3)),
        _nz((3, 3)), unknown=False, scalar=False),
    Case("where3", rt.where, np.where, [B(), X, XB], [1, 2], scalar=True),
    Case("where1", rt.where, lambda c: np.argwhere(c).astype(np.int64), [B((3, 4))],
         exact_shape=False),
    Case("where1_int", rt.where, lambda c: np.argwhere(c).astype(np.int64), [I((5,), 0, 2)],
         exact_shape=False),
    Case("clip_by_value", rt.clip_by_value, np.clip, [F((3, 4), -2, 2, away=-0.5, gap=0.05),
                                                      K(-0.5), K(0.8)], [0, 1, 2], scalar=True),
    Case("clip_by_value_tensor_bounds", rt.clip_by_value, np.clip,
         [F((2, 3), -2, 2), K([-1.0, -0.3, 0.1]), K([0.5, 1.0, 1.5])], [0, 1, 2]),
    Case("clip_by_value_py_bounds", lambda x: rt.clip_by_value(x, -0.5, 0.5),
         lambda x: np.clip(x, -0.5, 0.5), [F((2, 3), -2, 2, away=0.5, gap=0.05)], [0],
         scalar=True),
    Case("add_n", lambda a, b, c: rt.add_n([a, b, c]), lambda a, b, c: a + b + c,
         [X, X, X], [0, 1, 2], scalar=True),
]

# --- matmul / tensordot / einsum ----------------------------------------------------------
MATH += [
    Case("matmul", rt.matmul, np.matmul, [F((2, 3)), F((3, 4))], [0, 1]),
    Case("matmul_ta", lambda a, b: rt.matmul(a, b, transpose_a=True),
         lambda a, b: a.T @ b, [F((3, 2)), F((3, 4))], [0, 1]),
    Case("matmul_tb", lambda a, b: rt.matmul(a, b, transpose_b=True),
         lambda a, b: a @ b.T, [F((2, 3)), F((4, 3))], [0, 1]),
    Case("matmul_tab", lambda a, b: rt.matmul(a, b, transpose_a=True, transpose_b=True),
         lambda a, b: a.T @ b.T, [F((3, 2)), F((4, 3))], [0, 1]),
    Case("matmul_batch", rt.matmul, np.matmul, [F((2, 2, 3)), F((3, 4))], [0, 1]),
    Case("matmul_batch_both", rt.matmul, np.matmul, [F((2, 2, 3)), F((2, 3, 2))], [0, 1]),
    Case("tensordot_1", lambda a, b: rt.tensordot(a, b, 1), lambda a, b: np.tensordot(a, b, 1),
         [F((2, 3)), F((3, 2))], [0, 1]),
    Case("tensordot_axes", lambda a, b: rt.tensordot(a, b, [[0, 2], [2, 0]]),
         lambda a, b: np.tensordot(a, b, [[0, 2], [2, 0]]), [F((2, 3, 2)), F((2, 2, 2))],
         [0, 1]),
    Case("tensordot_0", lambda a, b: rt.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0),
         [F((2,)), F((3,))], [0, 1]),
    Case("einsum_matmul", lambda a, b: rt.einsum("ij,jk->ik", a, b),
         lambda a, b: a @ b, [F((2, 3)), F((3, 2))], [0, 1]),
    Case("einsum_batch", lambda a, b: rt.einsum("bij,bjk->bik", a, b),
         lambda a, b: a @ b, [F((2, 2, 3)), F((2, 3, 2))], [0, 1]),
    Case("einsum_transpose", lambda a: rt.einsum("ij->ji", a), lambda a: a.T, [F((2, 3))], [0]),
    Case("einsum_implicit", lambda a, b: rt.einsum("ij,ij", a, b),
         lambda a, b: np.einsum("ij,ij", a, b), [F((2, 3)), F((2, 3))], [0, 1]),
    Case("einsum_sum_out", lambda a: rt.einsum("ijk->j", a), lambda a: a.sum(axis=(0, 2)),
         [F((2, 3, 2))], [0]),
    Case("einsum_outer", lambda a, b: rt.einsum("i,j->ij", a, b), np.outer,
         [F((3,)), F((2,))], [0, 1]),
    Case("einsum_ellipsis", lambda a, b: rt.einsum("...ij,...jk->...ik", a, b),
         lambda a, b: np.einsum("...ij,...jk->...ik", a, b), [F((2, 2, 3)), F((1, 3, 2))],
         [0, 1]),
    Case("einsum_three", lambda a, b, c: rt.einsum("ij,jk,kl->il", a, b, c),
         lambda a, b, c: a @ b @ c, [F((2, 3)), F((3, 2)), F((2, 2))], [0, 1, 2]),
    Case("einsum_trace", lambda a: rt.einsum("ii->", a), np.trace, [F((3, 3))], unknown=False),
]


# --- reductions ---------------------------------------------------------------------------
def _red(name: str, fn: Callable, ref: Callable, spec: Any = F((2, 3, 4)),
         grad: bool = True, **kw: Any) -> Case:
    return Case(name, fn, ref, [spec], [0] if grad else [], **kw)


MATH += [
    _red("reduce_sum_all", rt.reduce_sum, np.sum, scalar=True),
    _red("reduce_sum_axis", lambda x: rt.reduce_sum(x, 1), lambda x: x.sum(1)),
    _red("reduce_sum_ri", lambda x: rt.reduce_sum(x, reduction_indices=[0, 2]),
         lambda x: x.sum((0, 2))),
    _red("reduce_sum_keep", lambda x: rt.reduce_sum(x, -1, keepdims=True),
         lambda x: x.sum(-1, keepdims=True)),
    _red("reduce_sum_keep_dims", lambda x: rt.reduce_sum(x, [0, 1], keep_dims=True),
         lambda x: x.sum((0, 1), keepdims=True)),
    _red("reduce_sum_int", lambda x: rt.reduce_sum(x, 1), lambda x: x.sum(1, dtype=x.dtype),
         I((2, 3)), grad=False),
    _red("reduce_mean", lambda x: rt.reduce_mean(x, [0, 2]), lambda x: x.mean((0, 2))),
    _red("reduce_mean_all", rt.reduce_mean, np.mean, scalar=True),
    _red("reduce_mean_int", lambda x: rt.reduce_mean(x, 0),
         lambda x: np.trunc(x.mean(0)).astype(x.dtype), I((4, 3)), grad=False),
    _red("reduce_max", lambda x: rt.reduce_max(x, 1), lambda x: x.max(1)),
    _red("reduce_min", lambda x: rt.reduce_min(x, [0, 1], keepdims=True),
         lambda x: x.min((0, 1), keepdims=True)),
    _red("reduce_prod", lambda x: rt.reduce_prod(x, 1), lambda x: x.prod(1)),
    _red("reduce_prod_all", rt.reduce_prod, np.prod, F((2, 3), 0.5, 1.5), scalar=True),
    _red("reduce_prod_zeros", lambda x: rt.reduce_prod(x, [0, 2], keepdims=True),
         lambda x: x.prod((0, 2), keepdims=True), K([[[0.0, 2.0], [1.5, 0.0]],
                                                       [[0.0, -1.0], [3.0, 0.5]]])),
    _red("reduce_prod_int", lambda x: rt.reduce_prod(x, 0),
         lambda x: x.prod(0, dtype=x.dtype), I((3, 2), 1, 4), grad=False),
    _red("reduce_any", lambda x: rt.reduce_any(x, 1), lambda x: x.any(1), B((3, 4)),
         grad=False),
    _red("reduce_all", lambda x: rt.reduce_all(x, keepdims=True),
         lambda x: x.all(keepdims=True), B((3, 2)), grad=False),
    _red("reduce_logsumexp", lambda x: rt.reduce_logsumexp(x, 1), lambda x: _lse(x, 1)),
    _red("reduce_logsumexp_all", rt.reduce_logsumexp, _lse, F((2, 3), -50, 50), scalar=True),
    _red("reduce_logsumexp_keep", lambda x: rt.reduce_logsumexp(x, [0, 2], keepdims=True),
         lambda x: _lse(x, (0, 2), True)),
    _red("count_nonzero", lambda x: rt.count_nonzero(x, 1),
         lambda x: np.count_nonzero(x, 1).astype(np.int64), I((3, 4), -1, 2), grad=False),
    _red("count_nonzero_all", rt.count_nonzero,
         lambda x: np.int64(np.count_nonzero(x)), K([[0.0, 1.5], [0.0, -2.0]]), grad=False),
    _red("argmax", lambda x: rt.argmax(x, 1), lambda x: x.argmax(1), grad=False),
    _red("argmin", lambda x: rt.argmin(x, dimension=0), lambda x: x.argmin(0), grad=False),
    _red("argmax_int32", lambda x: rt.argmax(x, -1, output_type=rt.int32),
         lambda x: x.argmax(-1).astype(np.int32), grad=False),
    _red("cumsum", lambda x: rt.cumsum(x, 1), lambda x: np.cumsum(x, 1)),
    _red("cumsum_excl_rev", lambda x: rt.cumsum(x, -1, exclusive=True, reverse=True),
         lambda x: _cum(np.cumsum, x, -1, True, True, 0)),
    _red("cumsum_excl", lambda x: rt.cumsum(x, 0, exclusive=True),
         lambda x: _cum(np.cumsum, x, 0, True, False, 0)),
    _red("cumsum_int", lambda x: rt.cumsum(x, 0, reverse=True),
         lambda x: _cum(np.cumsum, x, 0, False, True, 0).astype(x.dtype), I((4, 3)),
         grad=False),
    _red("cumprod", lambda x: rt.cumprod(x, 1), lambda x: np.cumprod(x, 1),
         F((2, 3, 2), -2, 2, away=0.0, gap=0.3)),
    _red("cumprod_excl_rev", lambda x: rt.cumprod(x, 2, exclusive=True, reverse=True),
         lambda x: _cum(np.cumprod, x, 2, True, True, 1), F((2, 2, 3), -2, 2, away=0.0, gap=0.3)),
    Case("top_k", lambda x: math_ops.top_k(x, 2), lambda x: _top_k(x, 2), [F((3, 5))], [0],
         grad_fn=lambda x: math_ops.top_k(x, 2)[0]),
    Case("top_k_ties", lambda x: math_ops.top_k(x, 3), lambda x: _top_k(x, 3),
         [K([[1.0, 3.0, 3.0, 2.0, 3.0], [0.0, 0.0, 0.0, 0.0, 0.0]])], float_dtypes=(np.float64,)),
    Case("top_k_int", lambda x: math_ops.top_k(x, 1), lambda x: _top_k(x, 1), [I((2, 4), 0, 3)]),
    Case("moments", lambda x: math_ops.moments(x, [0, 1]),
         lambda x: (x.mean((0, 1)), x.var((0, 1))), [F((3, 2, 2))], [0],
         grad_fn=lambda x: sum(math_ops.moments(x, [0, 1]))),
    Case("moments_keep", lambda x: math_ops.moments(x, 1, keep_dims=True),
         lambda x: (x.mean(1, keepdims=True), x.var(1, keepdims=True)), [F((3, 4))], [0],
         grad_fn=lambda x: math_ops.moments(x, 1, keep_dims=True)[1]),
]


# --- arrays ------------------------------------------------------------------------------
def _arr(name: str, fn: Callable, ref: Callable, inputs: Sequence[Any] = (X,),
         grad: Sequence[int] = (0,), **kw: Any) -> Case:
    return Case(name, fn, ref, list(inputs), list(grad), family="array", **kw)


def _split_ref(x: np.ndarray, sizes: list, axis: int) -> list:
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


ARRAY: list[Case] = [
    _arr("reshape", lambda x: rt.reshape(x, [3, -1]), lambda x: x.reshape(3, -1),
         unknown=False),
    _arr("reshape_batch", lambda x: rt.reshape(x, [-1, 6]), lambda x: x.reshape(-1, 6),
         [F((2, 2, 3))]),
    _arr("reshape_shape_of", lambda x: rt.reshape(x, [rt.shape(x)[0], -1]),
         lambda x: x.reshape(x.shape[0], -1), [F((2, 2, 3))]),
    _arr("transpose", rt.transpose, np.transpose, [F((2, 3, 4))]),
    _arr("transpose_perm", lambda x: rt.transpose(x, [1, 2, 0]),
         lambda x: x.transpose(1, 2, 0), [F((2, 3, 4))]),
    _arr("matrix_transpose", rt.matrix_transpose, lambda x: np.swapaxes(x, -1, -2),
         [F((2, 3, 4))]),
    _arr("expand_dims", lambda x: rt.expand_dims(x, 1), lambda x: np.expand_dims(x, 1)),
    _arr("expand_dims_neg", lambda x: rt.expand_dims(x, -1), lambda x: x[..., None],
         scalar=True),
    _arr("squeeze_axis", lambda x: rt.squeeze(x, [1]), lambda x: x.squeeze(1),
         [F((2, 1, 3, 1))]),
    _arr("squeeze_all", lambda x: rt.squeeze(x, squeeze_dims=None), np.squeeze,
         [F((2, 1, 3, 1))], unknown=False),
    _arr("concat", lambda a, b: rt.concat([a, b], 1), lambda a, b: np.concatenate([a, b], 1),
         [X, F((2, 2))], [0, 1]),
    _arr("concat0", lambda a, b, c: rt.concat([a, b, c], 0),
         lambda a, b, c: np.concatenate([a, b, c]), [X, F((1, 3)), F((4, 3))], [0, 1, 2]),
    _arr("concat_neg_axis", lambda a, b: rt.concat([a, b], -1),
         lambda a, b: np.concatenate([a, b], -1), [F((2, 2, 2)), F((2, 2, 3))], [0, 1]),
    _arr("stack", lambda a, b: rt.stack([a, b], 1), lambda a, b: np.stack([a, b], 1),
         [X, X], [0, 1]),
    _arr("stack_scalars", lambda a, b: rt.stack([a, b, a]), lambda a, b: np.stack([a, b, a]),
         [X, X], [0, 1], scalar=True),
    _arr("unstack", lambda x: rt.unstack(x, axis=1), lambda x: list(np.moveaxis(x, 1, 0)),
         grad_fn=lambda x: rt.unstack(x, axis=1)[2] * 2.0 + rt.unstack(x, axis=1)[0]),
    _arr("split_num", lambda x: rt.split(x, 3, 1), lambda x: np.split(x, 3, 1),
         [F((2, 6))], grad_fn=lambda x: rt.concat(rt.split(x, 3, 1)[::-1], 1)),
    _arr("split_sizes", lambda x: rt.split(x, [1, -1, 2], 1),
         lambda x: _split_ref(x, [1, 3, 2], 1), [F((2, 6))],
         grad_fn=lambda x: rt.split(x, [1, -1, 2], 1)[1]),
    _arr("split_one", lambda x: rt.split(x, 1, 0), lambda x: [x],
         grad_fn=lambda x: rt.split(x, 1, 0)[0]),
    _arr("slice", lambda x: rt.slice(x, [1, 0, 1], [1, -1, 2]), lambda x: x[1:2, :, 1:3],
         [F((3, 2, 4))], unknown=False),
    _arr("slice_batch", lambda x: rt.slice(x, [0, 1], [-1, 2]), lambda x: x[:, 1:3],
         [F((3, 4))]),
    _arr("getitem_int", lambda x: x[1], lambda x: x[1], [F((3, 4))], unknown=False),
    _arr("getitem_slices", lambda x: x[:, 1:, ::-2], lambda x: x[:, 1:, ::-2], [F((2, 3, 5))]),
    _arr("getitem_neg", lambda x: x[-1, -3:-1], lambda x: x[-1, -3:-1], [F((3, 4))]),
    _arr("getitem_ellipsis", lambda x: x[..., 1], lambda x: x[..., 1], [F((2, 3, 4))]),
    _arr("getitem_newaxis", lambda x: x[:, rt.newaxis, 1:3, None],
         lambda x: x[:, None, 1:3, None], [F((2, 4))]),
    _arr("getitem_step", lambda x: x[1::2, ::3], lambda x: x[1::2, ::3], [F((5, 7))]),
    _arr("getitem_tensor", lambda x, i: x[i, 1:], lambda x, i: x[i, 1:], [F((3, 4)), K(2)],
         unknown=False),
    _arr("getitem_tensor_slice", lambda x, i: x[:, i:i + 2], lambda x, i: x[:, i:i + 2],
         [F((2, 5)), K(np.int64(1))], exact_shape=False),
    _arr("getitem_scalar_shape", lambda x: rt.shape(x)[0] * 2,
         lambda x: np.int32(x.shape[0] * 2), grad=()),
    _arr("strided_slice", lambda x: rt.strided_slice(x, [0, 1, 0], [2, 3, 1], [1, 1, 1],
                                                     shrink_axis_mask=4, begin_mask=1),
         lambda x: x[:2, 1:3, 0], [F((3, 4, 2))], unknown=False),
    _arr("gather", lambda p, i: rt.gather(p, i), lambda p, i: p[i],
         [F((5, 3)), K([4, 0, 4, 2])], unknown=False),
    _arr("gather_axis1", lambda p, i: rt.gather(p, i, axis=1), lambda p, i: np.take(p, i, 1),
         [F((2, 4, 3)), K([[3, 1], [1, 1]])]),
    _arr("gather_nd", rt.gather_nd, lambda p, i: p[tuple(np.moveaxis(i, -1, 0))],
         [F((3, 4, 2)), K([[0, 1], [2, 3], [0, 1]])], unknown=False),
    _arr("gather_nd_batch", rt.gather_nd, lambda p, i: p[tuple(np.moveaxis(i, -1, 0))],
         [F((3, 4)), K([[[1], [0]], [[2], [2]]])]),
    _arr("scatter_nd", lambda i, u: rt.scatter_nd(i, u, [4, 3]),
         lambda i, u: _scatter_nd(i, u, [4, 3]), [K([[0], [2], [0]]), F((3, 3))], [1],
         unknown=False),
    _arr("scatter_nd_elems", lambda i, u: rt.scatter_nd(i, u, [2, 3]),
         lambda i, u: _scatter_nd(i, u, [2, 3]), [K([[0, 1], [1, 2], [0, 1]]), F((3,))], [1],
         unknown=False),
    _arr("unsorted_segment_sum", lambda d, i: rt.unsorted_segment_sum(d, i, 3),
         lambda d, i: _segsum(d, i, 3), [F((5, 2)), K([0, 2, -1, 0, 1])], [0], unknown=False),
    _arr("unsorted_segment_sum_2d", lambda d, i: rt.unsorted_segment_sum(d, i, 4),
         lambda d, i: _segsum(d, i, 4), [F((2, 3, 2)), K([[0, 3, 3], [1, 0, 0]])], [0]),
    _arr("segment_sum", rt.segment_sum, lambda d, i: _segsum(d, i, int(i.max()) + 1),
         [F((4, 2)), K([0, 0, 1, 3])], [0], unknown=False, exact_shape=False),
    _arr("tile", lambda x: rt.tile(x, [2, 1, 3]), lambda x: np.tile(x, (2, 1, 3)),
         [F((2, 1, 2))]),
    _arr("tile_tensor_multiples", lambda x, m: rt.tile(x, m), lambda x, m: np.tile(x, m),
         [F((2, 3)), K(np.array([1, 2], np.int32))], unknown=False, exact_shape=False),
    _arr("pad", lambda x: rt.pad(x, [[1, 0], [2, 1]]), lambda x: np.pad(x, [[1, 0], [2, 1]])),
    _arr("pad_value", lambda x: rt.pad(x, [[0, 1], [1, 1]], constant_values=2.5),
         lambda x: np.pad(x, [[0, 1], [1, 1]], constant_values=2.5)),
    _arr("pad_reflect", lambda x: rt.pad(x, [[1, 2], [2, 1]], "REFLECT"),
         lambda x: np.pad(x, [[1, 2], [2, 1]], "reflect"), [F((4, 3))]),
    _arr("pad_symmetric", lambda x: rt.pad(x, [[2, 1], [0, 3]], mode="symmetric"),
         lambda x: np.pad(x, [[2, 1], [0, 3]], "symmetric"), [F((2, 3))]),
    _arr("one_hot", lambda i: rt.one_hot(i, 4), lambda i: (i[..., None] == np.arange(4)).astype(
        np.float32), [I((2, 3), -1, 5)], grad=()),
    _arr("one_hot_axis0", lambda i: rt.one_hot(i, 3, on_value=5, off_value=-1, axis=0),
         lambda i: np.moveaxis(np.where(np.eye(3, dtype=bool)[i], 5, -1).astype(np.int32), -1,
                               0), [I((4,), 0, 3)], grad=()),
    _arr("range", lambda: rt.range(5), lambda: np.arange(5, dtype=np.int32), [], grad=()),
    _arr("range_float", lambda: rt.range(1, 2.5, 0.5), lambda: np.arange(1, 2.5, 0.5,
                                                                          dtype=np.float32),
         [], grad=()),
    _arr("range_neg", lambda: rt.range(5, 1, -2), lambda: np.arange(5, 1, -2, dtype=np.int32),
         [], grad=()),
    _arr("range_tensor", lambda n: rt.range(n), lambda n: np.arange(n, dtype=np.int32),
         [K(np.int32(4))], grad=(), exact_shape=False),
    _arr("linspace", lambda: rt.linspace(0.0, 1.0, 5), lambda: np.linspace(0, 1, 5,
                                                                           dtype=np.float32),
         [], grad=()),
    _arr("shape", rt.shape, lambda x: np.array(x.shape, np.int32), grad=()),
    _arr("size", rt.size, lambda x: np.int32(x.size), grad=()),
    _arr("rank", rt.rank, lambda x: np.int32(x.ndim), grad=()),
    _arr("fill", lambda x: rt.fill(rt.shape(x), 2.0), lambda x: np.full(x.shape, 2.0,
                                                                          np.float32), grad=()),
    _arr("zeros_ones", lambda: rt.zeros([2, 3]) + rt.ones([3]), lambda: np.ones((2, 3),
                                                                                np.float32),
         [], grad=()),
    _arr("eye", lambda: rt.eye(2, 3), lambda: np.eye(2, 3, dtype=np.float32), [], grad=()),
    _arr("boolean_mask", rt.boolean_mask, lambda x, m: x[m], [F((4, 3)), K([True, False,
                                                                              True, True])],
         exact_shape=False, unknown=False),
    _arr("boolean_mask_2d", rt.boolean_mask, lambda x, m: x[m],
         [F((2, 3, 2)), K([[True, False, True], [False, False, True]])], exact_shape=False),
    _arr("boolean_mask_axis", lambda x, m: rt.boolean_mask(x, m, axis=1),
         lambda x, m: x[:, m], [F((2, 3)), K([False, True, True])], exact_shape=False),
    _arr("reverse", lambda x: rt.reverse(x, [0, -1]), lambda x: np.flip(x, (0, -1)),
         [F((2, 3, 2))]),
    _arr("reverse_sequence", lambda x, n: rt.reverse_sequence(x, n, seq_axis=1, batch_axis=0),
         lambda x, n: _reverse_seq(x, n, 1, 0), [F((3, 4, 2)), K(np.array([2, 4, 0]))],
         unknown=False),
    _arr("reverse_sequence_tb", lambda x, n: rt.reverse_sequence(x, n, 0, 1),
         lambda x, n: _reverse_seq(x, n, 0, 1), [F((4, 2)), K(np.array([3, 1]))]),
    _arr("broadcast_to", lambda x: rt.broadcast_to(x, [2, 4, 3]),
         lambda x: np.broadcast_to(x, (2, 4, 3)), [F((4, 1))], scalar=True, unknown=False),
    _arr("sequence_mask", lambda n: rt.sequence_mask(n, 5), lambda n: np.arange(5) < n[:, None],
         [I((3,), 0, 6)], grad=()),
    _arr("sequence_mask_dyn", lambda n: rt.sequence_mask(n, dtype=rt.float32),
         lambda n: (np.arange(n.max()) < n[:, None]).astype(np.float32),
         [K(np.array([1, 3, 2]))], grad=(), exact_shape=False),
    _arr("unique", rt.unique, _unique, [K(np.array([3, 1, 3, 2, 1, 5]))], grad=(),
         exact_shape=False),
    _arr("meshgrid_xy", lambda a, b: rt.meshgrid(a, b), lambda a, b: np.meshgrid(a, b),
         [F((3,)), F((2,))], [0, 1], grad_fn=lambda a, b: sum(
             t * (i + 1.0) for i, t in enumerate(rt.meshgrid(a, b))), unknown=False),
    _arr("meshgrid_ij", lambda a, b, c: rt.meshgrid(a, b, c, indexing="ij"),
         lambda a, b, c: np.meshgrid(a, b, c, indexing="ij"), [F((2,)), F((3,)), F((2,))],
         [0, 1, 2], grad_fn=lambda a, b, c: sum(rt.meshgrid(a, b, c, indexing="ij")),
         unknown=False),
    _arr("dynamic_partition", lambda d, p: rt.dynamic_partition(d, p, 3),
         lambda d, p: [d[p == i] for i in range(3)], [F((5, 2)), K(np.array([2, 0, 2, 1, 0],
                                                                           np.int32))],
         exact_shape=False, unknown=False,
         grad_fn=lambda d, p: rt.concat(rt.dynamic_partition(d, p, 3)[::-2], 0)),
    _arr("dynamic_stitch", lambda a, b: rt.dynamic_stitch([[0, 2], [1, 3, 2]], [a, b]),
         lambda a, b: _stitch([np.array([0, 2]), np.array([1, 3, 2])], [a, b]),
         [F((2, 2)), F((3, 2))], [0, 1], unknown=False),
]


def covered_cases() -> list[Case]:
    return MATH + ARRAY


# --- runners shared by tests/test_ops_math.py and tests/test_ops_array.py ---------------------
def _compare(case: Case, tensors: list, got: list, want: list, dtype: Any) -> None:
    assert len(got) == len(want), f"{case}: {len(got)} outputs, reference has {len(want)}"
    for k, (t, g, w) in enumerate(zip(tensors, got, want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == t.dtype.np, f"{case} output {k}: kernel dtype {g.dtype} but " \
            f"inferred {t.dtype.name}"
        assert t.shape.is_compatible_with(g.shape), f"{case} output {k}: inferred shape " \
            f"{t.shape} but kernel gave {g.shape}"
        assert g.shape == w.shape, f"{case} output {k}: shape {g.shape} != reference {w.shape}"
        if g.dtype.kind in "fc":
            tol = dict(rtol=case.rtol32, atol=case.atol32) if dtype == np.float32 else \
                dict(rtol=case.rtol, atol=1e-12)
            np.testing.assert_allclose(g, w.astype(g.dtype), equal_nan=True,
                                       err_msg=f"{case} output {k}", **tol)
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"{case} output {k}")


def has_float_input(case: Case) -> bool:
    return any(isinstance(s, F) or (isinstance(s, K) and np.asarray(s.value).dtype.kind == "f")
               for s in case.inputs)


def dtypes_of(case: Case) -> tuple:
    return case.float_dtypes if has_float_input(case) else (np.float64,)


def check_forward(case: Case, dtype: Any, *, scalar: bool = False, unknown: bool = False,
                  contiguous: bool = True) -> None:
    """Runs the case in a fresh graph and compares with the NumPy reference."""
    arrays = make_inputs(case, dtype, scalar)
    want = as_list(case.ref(*[a.copy() for a in arrays]))
    g = rt.Graph()
    with g.as_default():
        phs, out = build(case, arrays, unknown)
        outs = as_list(out)
        if case.exact_shape and not unknown and not scalar:
            for t, w in zip(outs, want):
                assert t.shape.is_fully_defined() and t.shape.as_list() == list(np.shape(w)), \
                    f"{case}: inferred {t.shape}, want {np.shape(w)}"
        feeds = {p: (a if contiguous else noncontiguous(a)) for p, a in zip(phs, arrays)}
        with rt.Session(graph=g) as sess:
            got = sess.run(outs, feeds)
    _compare(case, outs, got, want, dtype)


def check_grad(case: Case, unknown: bool = False) -> None:
    arrays = make_inputs(case, np.float64)
    check_gradients(case.grad_fn or case.fn, arrays, wrt=list(case.grad),
                                 unknown_batch=unknown, atol=case.grad_atol,
                                 rtol=case.grad_rtol)


def check_eager(case: Case, dtype: Any = np.float64) -> None:
    """The case run eagerly on constants: same values as the reference."""
    arrays = make_inputs(case, dtype)
    want = as_list(case.ref(*[a.copy() for a in arrays]))
    with rt.eager_mode():
        outs = as_list(case.fn(*[rt.constant(a) for a in arrays]))
        got = [o.numpy() for o in outs]
    _compare(case, outs, got, want, dtype)


def check_eager_grad(case: Case) -> None:
    """GradientTape gradients in eager mode agree with central differences."""
    arrays = make_inputs(case, np.float64)
    fn = case.grad_fn or case.fn
    numeric = [num for num, _ in numeric_and_symbolic(fn, arrays, list(case.grad))]
    with rt.eager_mode():
        xs = [rt.constant(a) for a in arrays]
        with rt.GradientTape() as tape:
            for i in case.grad:
                tape.watch(xs[i])
            y = fn(*xs)
            proj = rt.constant(_project(np.shape(y.numpy()), 0))
            loss = rt.reduce_sum(rt.cast(y, rt.float64) * proj)
        grads = tape.gradient(loss, [xs[i] for i in case.grad])
        for k, (gr, num) in enumerate(zip(grads, numeric)):
            assert gr is not None, f"{case}: eager gradient {k} is None"
            np.testing.assert_allclose(gr.numpy(), num, atol=case.grad_atol,
                                       rtol=case.grad_rtol, err_msg=f"{case} eager grad {k}")


def op_types_of(case: Case) -> set:
    """Op types a case's graph uses, gradient ops included (built, not run)."""
    arrays = make_inputs(case, np.float64)
    types = set()
    for unknown in (False, True) if case.unknown else (False,):
        g = rt.Graph()
        with g.as_default():
            phs, out = build(case, arrays, unknown)
            if case.grad:
                y = case.grad_fn(*phs) if case.grad_fn else out
                loss = rt.reduce_sum(rt.cast(y, rt.float64))
                rt.gradients(loss, [phs[i] for i in case.grad])
        types |= {op.type for op in g.get_operations()}
    return types


# Random ops have no NumPy reference; tests/test_ops_random.py checks them. These builders
# let tests/test_registry.py see which op types they use.
RANDOM_BUILDERS: list[Callable[[], Any]] = [
    lambda: rt.random_normal([2, 3], seed=1),
    lambda: rt.truncated_normal([2, 3], stddev=0.5),
    lambda: rt.random_uniform([2], 0, 10, dtype=rt.int32),
    lambda: rt.random_uniform([2], -1.0, 1.0),
    lambda: rt.random_shuffle(rt.constant([1, 2, 3])),
    lambda: rt.multinomial(rt.constant([[0.0, 1.0]]), 3),
    lambda: rt.random_crop(rt.zeros([4, 4]), [2, 2]),
]

# Modules whose ops this table covers (tests/test_registry.py imports them all).
MODULES = [array_ops, linalg_ops, math_ops, random_ops, slicing]

"""Math ops (elementwise, matmul/einsum, reductions, scans, top_k, moments): the table in
tests/op_table.py run forward and backward, plus error paths and special values."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from op_table import (
    MATH,
    check_eager,
    check_eager_grad,
    check_forward,
    check_grad,
    dtypes_of,
)

import rillet as rt
from rillet.ops import math_ops
from rillet.test_util import check_gradients

FWD = [(c, dt) for c in MATH for dt in dtypes_of(c)]


@pytest.mark.parametrize("case,dtype", FWD, ids=[f"{c}-{np.dtype(d).name}" for c, d in FWD])
def test_forward(case, dtype):
    check_forward(case, dtype)
    check_forward(case, dtype, contiguous=False)


@pytest.mark.parametrize("case", [c for c in MATH if c.unknown], ids=str)
def test_unknown_batch(case):
    check_forward(case, np.float64, unknown=True)


@pytest.mark.parametrize("case", [c for c in MATH if c.scalar], ids=str)
def test_scalar_shape(case):
    check_forward(case, np.float64, scalar=True)


@pytest.mark.parametrize("case", [c for c in MATH if c.grad], ids=str)
def test_gradient(case):
    check_grad(case)
    if case.unknown:
        check_grad(case, unknown=True)


@pytest.mark.parametrize("case", MATH, ids=str)
def test_eager(case):
    check_eager(case)


@pytest.mark.parametrize("case", [c for c in MATH if c.grad], ids=str)
def test_eager_gradient(case):
    check_eager_grad(case)


# --- special values ------------------------------------------------------------------------
@pytest.fixture
def sess():
    g = rt.Graph()
    with g.as_default(), rt.Session(graph=g) as s:
        yield s


def test_sigmoid_saturates_without_overflow(sess):
    for dt in (np.float32, np.float64):
        x = np.array([-1000.0, -80.0, 0.0, 80.0, 1000.0], dt)
        with np.errstate(all="raise"):
            v = sess.run(rt.sigmoid(rt.constant(x)))
        assert v.dtype == dt
        with np.errstate(over="ignore"):
            ref = 1 / (1 + np.exp(-x.astype(np.float64)))
        np.testing.assert_allclose(v, ref, rtol=1e-6)
        assert v[0] < 1e-30 and v[-1] == 1.0


def test_log_and_division_give_inf_nan_silently(sess):
    x = rt.constant([0.0, -1.0, 1.0])
    a, b, c = sess.run([rt.log(x), 1.0 / x, rt.sqrt(x)])
    assert a[0] == -np.inf and np.isnan(a[1])
    assert b[0] == np.inf and b[1] == -1.0
    assert np.isnan(c[1])


def test_integer_division_by_zero_is_an_error(sess):
    with pytest.raises(rt.errors.InvalidArgumentError, match="Integer division by zero"):
        sess.run(rt.floordiv(rt.constant([1, 2]), rt.constant([1, 0])))


def test_erf_accuracy_and_edges(sess):
    x = np.concatenate([np.linspace(-7, 7, 20001), [0.0, -0.0, 1e-300, 5.9999, 6.0]])
    v = sess.run(rt.erf(rt.constant(x)))
    ref = np.array([math.erf(t) for t in x])
    np.testing.assert_allclose(v, ref, rtol=4e-15, atol=0)
    e = sess.run(rt.erf(rt.constant([np.inf, -np.inf, np.nan])))
    assert e[0] == 1.0 and e[1] == -1.0 and np.isnan(e[2])
    v32 = sess.run(rt.erf(rt.constant(x.astype(np.float32))))
    assert v32.dtype == np.float32
    np.testing.assert_allclose(v32, ref.astype(np.float32), rtol=3e-7, atol=1e-37)
    v16 = sess.run(rt.erf(rt.constant(np.array([0.5, -2.0], np.float16))))
    assert v16.dtype == np.float16


def test_round_is_half_to_even(sess):
    v = sess.run(rt.round(rt.constant([0.5, 1.5, 2.5, -0.5, -2.5, 2.6])))
    np.testing.assert_array_equal(v, [0.0, 2.0, 2.0, -0.0, -2.0, 3.0])


def test_logsumexp_is_stable(sess):
    big = rt.reduce_logsumexp(rt.constant([1000.0, 1000.0]))
    neg = rt.reduce_logsumexp(rt.constant([-np.inf, -np.inf]))
    pos = rt.reduce_logsumexp(rt.constant([[np.inf, 1.0], [2.0, 3.0]]), 1)
    b, n, p = sess.run([big, neg, pos])
    assert b == pytest.approx(1000 + math.log(2))
    assert n == -np.inf
    assert p[0] == np.inf and p[1] == pytest.approx(3 + math.log1p(math.exp(-1)))


def test_where_one_argument_gives_coordinates(sess):
    c = rt.placeholder(rt.bool, [None, 3])
    w = rt.where(c)
    assert w.dtype is rt.int64 and w.shape.as_list() == [None, 2]
    v = sess.run(w, {c: [[True, False, True], [False, True, False]]})
    np.testing.assert_array_equal(v, [[0, 0], [0, 2], [1, 1]])
    with pytest.raises(ValueError, match="both be non-None"):
        rt.where(c, 1.0)


def test_top_k_returns_sorted_values_and_int32_indices(sess):
    v, i = math_ops.top_k(rt.constant([[1.0, 5.0, 3.0]]), k=2)
    vv, ii = sess.run([v, i])
    np.testing.assert_array_equal(vv, [[5.0, 3.0]])
    assert ii.dtype == np.int32 and ii.tolist() == [[1, 2]]


def test_cumsum_cumprod_exclusive_reverse(sess):
    x = rt.constant([1.0, 2.0, 3.0, 4.0])
    out = sess.run([rt.cumsum(x), rt.cumsum(x, exclusive=True), rt.cumsum(x, reverse=True),
                    rt.cumsum(x, exclusive=True, reverse=True), rt.cumprod(x, exclusive=True)])
    assert [o.tolist() for o in out] == [[1, 3, 6, 10], [0, 1, 3, 6], [10, 9, 7, 4],
                                         [9, 7, 4, 0], [1, 1, 2, 6]]


def test_reduction_aliases_and_positional_axis(sess):
    x = rt.constant([[1.0, 2.0], [3.0, 4.0]])
    a, b, c, d = sess.run([rt.reduce_sum(x, 1), rt.reduce_sum(x, reduction_indices=[0]),
                           rt.reduce_mean(x, axis=1, keep_dims=True),
                           rt.reduce_sum(x, 1, keepdims=True)])
    assert a.tolist() == [3, 7] and b.tolist() == [4, 6]
    assert c.tolist() == [[1.5], [3.5]] and d.shape == (2, 1)
    assert rt.reduce_sum(x, rt.constant(1)).shape.as_list() == [2]  # constant axis tensor


def test_tf1_argument_orders():
    x = rt.constant([[1.0, 2.0, 3.0]])
    assert rt.argmax(x, 1).shape.as_list() == [1]
    assert rt.concat([x, x], 0).shape.as_list() == [2, 3]
    assert [t.shape.as_list() for t in rt.split(x, 3, 1)] == [[1, 1]] * 3
    assert rt.unstack(rt.zeros([2, 4]), 4, 1)[0].shape.as_list() == [2]
    assert rt.random_uniform([2], -1.0, 1.0).shape.as_list() == [2]
    assert rt.one_hot([1, 2], 4, 1.0, 0.0).shape.as_list() == [2, 4]
    assert rt.squeeze(rt.zeros([1, 2, 1]), squeeze_dims=[0]).shape.as_list() == [2, 1]
    assert rt.expand_dims(x, 0, name="e").shape.as_list() == [1, 1, 3]
    assert rt.transpose(x).shape.as_list() == [3, 1]


# --- error paths: class and message ----------------------------------------------------------
def _raises(cls, *fragments):
    return pytest.raises(cls, match=".*".join(map(re.escape, fragments)))


def test_matmul_shape_mismatch_names_both_shapes():
    with _raises(ValueError, "Dimensions must be equal, but are 3 and 4",
                 "(op: 'MatMul') with input shapes: [2,3], [4,5]"):
        rt.matmul(rt.zeros([2, 3]), rt.zeros([4, 5]))
    with _raises(ValueError, "must be rank >= 2"):
        rt.matmul(rt.zeros([3]), rt.zeros([3, 2]))


def test_binary_ops_check_broadcast_and_dtype():
    with _raises(ValueError, "Incompatible shapes: [2,3] vs. [4]"):
        rt.zeros([2, 3]) + rt.zeros([4])
    with _raises(TypeError, "int32", "float32"):
        rt.add(rt.zeros([2]), rt.constant([1, 2]))
    with _raises(TypeError, "int32"):
        rt.sqrt(rt.constant([1, 2]))


def test_reduction_errors():
    with _raises(ValueError, "Invalid reduction dimension 2 for input with 2 dimensions"):
        rt.reduce_sum(rt.zeros([2, 3]), 2)
    with _raises(TypeError, "bool"):
        rt.reduce_any(rt.zeros([2]))
    with _raises(ValueError, "input must have at least k columns. Had 3, needed 4"):
        math_ops.top_k(rt.zeros([2, 3]), 4)
    with _raises(ValueError, "at least rank 1"):
        rt.cumsum(rt.constant(1.0))


def test_einsum_and_tensordot_errors():
    with _raises(ValueError, "Expected dimension 3", "but got dimension 4"):
        rt.einsum("ij,jk->ik", rt.zeros([2, 3]), rt.zeros([4, 5]))
    with _raises(ValueError, "number of subscripts"):
        rt.einsum("ijk->i", rt.zeros([2, 3]))
    with _raises(ValueError, "do not appear in the inputs"):
        rt.einsum("ij->k", rt.zeros([2, 3]))
    with _raises(ValueError, "Dimensions must be equal, but are 3 and 2"):
        rt.tensordot(rt.zeros([2, 3]), rt.zeros([2, 3]), 1)


def test_clip_bounds_must_not_grow_the_tensor():
    with _raises(ValueError, "would broadcast"):
        rt.clip_by_value(rt.zeros([3]), rt.zeros([2, 3]), 1.0)


# --- second derivatives ------------------------------------------------------------------
SECOND = {
    "sigmoid": (lambda x: rt.sigmoid(x), (2, 3)),
    "tanh": (lambda x: rt.tanh(x), (2, 3)),
    "erf": (lambda x: rt.erf(x), (2, 3)),
    "prod": (lambda x: rt.reduce_prod(x, 1), (2, 3)),
    "logsumexp": (lambda x: rt.reduce_logsumexp(x, 1), (2, 3)),
    "cumprod": (lambda x: rt.cumprod(x, 1), (2, 3)),
    "matmul": (lambda x: rt.matmul(x, x, transpose_b=True), (2, 3)),
    "einsum": (lambda x: rt.einsum("ij,kj->ik", x, x * x), (2, 3)),
    "top_k": (lambda x: math_ops.top_k(x * x, 2)[0], (2, 3)),
    "clip": (lambda x: rt.clip_by_value(x * x, 0.5, 2.0), (2, 3)),
    "pow": (lambda x: rt.pow(x * x + 1.0, x), (2, 3)),
}


@pytest.mark.parametrize("name", SECOND)
def test_second_derivatives(name):
    f, shape = SECOND[name]
    x = np.random.default_rng(1).uniform(0.3, 1.5, shape)
    proj = np.random.default_rng(2).standard_normal(shape)

    def grad_fn(t):
        y = f(t)
        w = rt.constant(np.resize(proj, np.prod(y.shape.as_list())).reshape(y.shape.as_list()))
        return rt.gradients(rt.reduce_sum(y * w), t)[0]
    check_gradients(grad_fn, [x], atol=1e-5, rtol=1e-4)

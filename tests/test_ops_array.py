"""Array ops (shapes, joining/splitting, slicing, gather/scatter, padding, masks, ...): the
table in tests/op_table.py run forward and backward, plus indexing and error paths."""

from __future__ import annotations

import re

import numpy as np
import pytest
from op_table import (
    ARRAY,
    check_eager,
    check_eager_grad,
    check_forward,
    check_grad,
    dtypes_of,
)

import rillet as rt
from rillet.test_util import check_gradients

FWD = [(c, dt) for c in ARRAY for dt in dtypes_of(c)]


@pytest.mark.parametrize("case,dtype", FWD, ids=[f"{c}-{np.dtype(d).name}" for c, d in FWD])
def test_forward(case, dtype):
    check_forward(case, dtype)
    check_forward(case, dtype, contiguous=False)


@pytest.mark.parametrize("case", [c for c in ARRAY if c.unknown and c.inputs], ids=str)
def test_unknown_batch(case):
    check_forward(case, np.float64, unknown=True)


@pytest.mark.parametrize("case", [c for c in ARRAY if c.scalar], ids=str)
def test_scalar_shape(case):
    check_forward(case, np.float64, scalar=True)


@pytest.mark.parametrize("case", [c for c in ARRAY if c.grad], ids=str)
def test_gradient(case):
    check_grad(case)
    if case.unknown:
        check_grad(case, unknown=True)


@pytest.mark.parametrize("case", ARRAY, ids=str)
def test_eager(case):
    check_eager(case)


@pytest.mark.parametrize("case", [c for c in ARRAY if c.grad], ids=str)
def test_eager_gradient(case):
    check_eager_grad(case)


@pytest.fixture
def sess():
    g = rt.Graph()
    with g.as_default(), rt.Session(graph=g) as s:
        yield s


def _raises(cls, *fragments):
    return pytest.raises(cls, match=".*".join(map(re.escape, fragments)))


# --- indexing -------------------------------------------------------------------------------
def test_getitem_static_shapes_with_unknown_dims():
    x = rt.placeholder(rt.float32, [None, 4, 5])
    assert x[0].shape.as_list() == [4, 5]
    assert x[:, 1:3].shape.as_list() == [None, 2, 5]
    assert x[..., ::2].shape.as_list() == [None, 4, 3]
    assert x[:, rt.newaxis, -1].shape.as_list() == [None, 1, 5]
    assert x[1:].shape.as_list() == [None, 4, 5]
    assert x[rt.constant(0), 0, 0].shape.as_list() == []
    u = rt.placeholder(rt.float32)
    assert u[0].shape.ndims is None


def test_getitem_is_numpy_indexing(sess):
    v = np.arange(60.0).reshape(3, 4, 5)
    x = rt.constant(v)
    i = rt.placeholder(rt.int32, [])
    keys = [(1,), (slice(None), slice(1, None, 2)), (Ellipsis, -1), (-1, None, slice(None, -2)),
            (slice(None, None, -1), 2, slice(4, 0, -2)), (slice(10, 20),), ()]
    for k in keys:
        np.testing.assert_array_equal(sess.run(x[k]), v[k], err_msg=str(k))
    np.testing.assert_array_equal(sess.run(x[i, 1:i + 2], {i: 1}), v[1, 1:3])
    assert sess.run(rt.shape(x)[-1]) == 5


def test_getitem_errors(sess):
    x = rt.zeros([3, 4])
    with _raises(ValueError, "slice index 3 of dimension 0 out of bounds"):
        x[3]
    with _raises(ValueError, "Index out of range using input dim 2"):
        x[0, 0, 0]
    for bad in (1.5, [0, 1], "a", True):
        with _raises(TypeError, "Only integers, slices"):
            x[bad]
    with _raises(ValueError, "Multiple ellipses"):
        x[..., ...]
    p = rt.placeholder(rt.float32, [None])
    with pytest.raises(rt.errors.InvalidArgumentError, match="out of bounds"):
        sess.run(p[5], {p: np.zeros(3)})


def test_slice_and_gather_runtime_errors(sess):
    p = rt.placeholder(rt.float32, [None, 2])
    with _raises(rt.errors.InvalidArgumentError, "Expected size[0] in [0, 1], but got 2"):
        sess.run(rt.slice(p, [1, 0], [2, 2]), {p: np.zeros((2, 2))})
    with _raises(rt.errors.InvalidArgumentError, "indices[1] = 7 is not in [0, 5)"):
        sess.run(rt.gather(rt.zeros([5, 2]), rt.constant([1, 7])))
    with _raises(rt.errors.InvalidArgumentError, "indices[0] = -1 is not in [0, 5)"):
        sess.run(rt.gather(rt.zeros([5]), rt.constant([-1])))
    with _raises(rt.errors.InvalidArgumentError, "does not index into param shape [2, 2]"):
        sess.run(rt.scatter_nd([[2, 0]], [1.0], [2, 2]))


def test_gather_tf1_signature():
    p = rt.zeros([5, 3])
    assert rt.gather(p, [0, 1], None, "g", 1).shape.as_list() == [5, 2]
    assert rt.gather(p, [[0, 1]]).shape.as_list() == [1, 2, 3]


# --- build-time errors: class and message -------------------------------------------------
def test_concat_errors():
    with _raises(ValueError, "Shape must be rank 2 but is rank 3",
                 "(op: 'ConcatV2') with input shapes: [2,3], [2,3,1]"):
        rt.concat([rt.zeros([2, 3]), rt.zeros([2, 3, 1])], 1)
    with _raises(ValueError, "Dimension 0 in both shapes must be equal, but are 2 and 4"):
        rt.concat([rt.zeros([2, 3]), rt.zeros([4, 3])], 1)
    with _raises(ValueError, "Expected concatenating dimensions in the range [-2, 2)"):
        rt.concat([rt.zeros([2, 3]), rt.zeros([2, 3])], 2)
    with _raises(TypeError, "int32"):
        rt.concat([rt.zeros([2]), rt.constant([1, 2])], 0)


def test_reshape_errors():
    with _raises(ValueError, "Cannot reshape a tensor with 6 elements to shape [4, 2]"):
        rt.reshape(rt.zeros([2, 3]), [4, 2])
    with _raises(ValueError, "Cannot reshape a tensor with 6 elements to shape [4, -1]"):
        rt.reshape(rt.zeros([2, 3]), [4, -1])
    with _raises(ValueError, "Only one input size may be -1"):
        rt.reshape(rt.zeros([2, 3]), [-1, -1])


def test_split_errors():
    with _raises(ValueError, "Dimension size must be evenly divisible by 4 but is 6"):
        rt.split(rt.zeros([2, 6]), 4, 1)
    with _raises(ValueError, "Determined shape must either match input shape along split_dim"):
        rt.split(rt.zeros([2, 6]), [2, 2], 1)


def test_shape_op_errors():
    with _raises(ValueError, "Expected begin[0] in [0, 2], but got 3"):
        rt.slice(rt.zeros([2, 2]), [3, 0], [1, 1])
    with _raises(ValueError, "Dimension must be 2 but is 3"):
        rt.transpose(rt.zeros([2, 3]), [0, 1, 2])
    with _raises(ValueError, "Can not squeeze dim[1], expected a dimension of 1, got 3"):
        rt.squeeze(rt.zeros([2, 3]), [1])
    with _raises(ValueError, "Tried to expand dim index 3 for tensor with 1 dimensions"):
        rt.expand_dims(rt.zeros([2]), 3)
    with _raises(ValueError, "paddings must be less than the dimension size"):
        rt.pad(rt.zeros([2, 3]), [[2, 0], [0, 0]], "REFLECT")
    with _raises(ValueError, "Shape must be rank 2 but is rank 3"):
        rt.tile(rt.zeros([2, 3]), [1, 2, 3])
    with _raises(ValueError, "Incompatible shapes: [2,3] vs. [4,3]"):
        rt.broadcast_to(rt.zeros([2, 3]), [4, 3])
    with _raises(TypeError, "indices"):
        rt.one_hot(rt.zeros([2]), 3)
    with _raises(ValueError, "Requires delta != 0"):
        rt.range(0, 5, 0)
    with _raises(ValueError, "Shapes (3,) and (2,) are incompatible"):
        rt.boolean_mask(rt.zeros([3]), [True, False])
    with _raises(TypeError, "int32, int64"):
        rt.gather(rt.zeros([3]), rt.constant([0.0]))
    with _raises(ValueError, "must be known when the graph is built"):
        rt.transpose(rt.zeros([2, 3]), rt.placeholder(rt.int32, [2]))


# --- shape inference ---------------------------------------------------------------------
def test_reshape_keeps_known_dims_with_unknown_batch():
    x = rt.placeholder(rt.float32, [None, 7, 7, 64])
    assert rt.reshape(x, [-1, 7 * 7 * 64]).shape.as_list() == [None, 3136]
    assert rt.reshape(x, [rt.shape(x)[0], -1]).shape.as_list() == [None, 3136]
    assert rt.reshape(x, rt.stack([rt.shape(x)[0], 49, 64])).shape.as_list() == [None, 49, 64]


def test_shape_arithmetic_is_folded():
    x = rt.placeholder(rt.float32, [None, 3])
    y = rt.zeros([rt.shape(x)[1] * 2, 4])
    assert y.shape.as_list() == [6, 4]
    assert rt.concat([x, x], 0).shape.as_list() == [None, 3]
    assert rt.concat([x, x], 1).shape.as_list() == [None, 6]
    assert rt.split(x, [1, 2], 1)[1].shape.as_list() == [None, 2]
    assert rt.tile(x, [2, 2]).shape.as_list() == [None, 6]
    assert rt.pad(x, [[1, 1], [0, 2]]).shape.as_list() == [None, 5]
    assert rt.one_hot(rt.placeholder(rt.int32, [None]), 10).shape.as_list() == [None, 10]
    assert rt.gather(x, [0, 2], axis=1).shape.as_list() == [None, 2]


def test_fetched_views_of_variables_do_not_change(sess):
    v = rt.Variable(np.arange(6.0).reshape(2, 3))
    sess.run(v.initializer)
    row = rt.reshape(v, [-1])[:3]
    before = sess.run(row)
    sess.run(v.assign_add(np.ones((2, 3))))
    np.testing.assert_array_equal(before, [0.0, 1.0, 2.0])


def test_unique_first_occurrence_order(sess):
    y, idx = rt.unique([4, 1, 4, 2, 1])
    vy, vi = sess.run([y, idx])
    assert vy.tolist() == [4, 1, 2] and vi.tolist() == [0, 1, 0, 2, 1]


def test_dynamic_stitch_later_values_win_and_gradient(sess):
    a = rt.constant([[1.0], [2.0]])
    b = rt.constant([[3.0], [4.0]])
    out = rt.dynamic_stitch([[0, 1], [1, 2]], [a, b])
    ga, gb = rt.gradients(rt.reduce_sum(out * [[1.0], [10.0], [100.0]]), [a, b])
    vo, va, vb = sess.run([out, ga, gb])
    assert vo.ravel().tolist() == [1.0, 3.0, 4.0]
    assert va.ravel().tolist() == [1.0, 0.0] and vb.ravel().tolist() == [10.0, 100.0]


SECOND = {
    "gather": lambda x: rt.gather(x * x, [2, 0, 2], axis=1),
    "strided_slice": lambda x: (x * x)[::-1, 1:],
    "pad_reflect": lambda x: rt.pad(x * x, [[1, 1], [2, 1]], "REFLECT"),
    "concat": lambda x: rt.concat([x * x, x], 1),
    "tile": lambda x: rt.tile(x * x, [2, 1]),
    "boolean_mask": lambda x: rt.reshape(rt.boolean_mask(x * x, [True, False]), [3]),
    "gather_nd": lambda x: rt.gather_nd(x * x, [[1, 2], [0, 0]]),
    "segment_sum": lambda x: rt.unsorted_segment_sum(x * x, [1, 1], 3),
    "slice": lambda x: rt.slice(x * x, [0, 1], [2, 2]),
    "transpose": lambda x: rt.transpose(x * x),
}


@pytest.mark.parametrize("name", SECOND)
def test_second_derivatives(name):
    f = SECOND[name]
    x = np.random.default_rng(1).uniform(0.3, 1.5, (2, 3))

    def grad_fn(t):
        y = f(t)
        w = rt.constant(np.random.default_rng(2).standard_normal(y.shape.as_list()))
        return rt.gradients(rt.reduce_sum(y * w), t)[0]
    check_gradients(grad_fn, [x], atol=1e-5, rtol=1e-4)

"""Convolution and pooling: the CONV table of tests/op_table_nn.py (naive-loop references) run
forward and backward, second derivatives, a larger check against an einsum reference, tie
handling in max-pool gradients, and error paths."""

from __future__ import annotations

import numpy as np
import pytest
from op_table import check_forward, check_grad, dtypes_of
from op_table_nn import CONV, conv2d_ref

import rillet as rt
from rillet.test_util import check_gradients, run_graph

FWD = [(c, dt) for c in CONV for dt in dtypes_of(c)]


@pytest.mark.parametrize("case,dtype", FWD, ids=[f"{c}-{np.dtype(d).name}" for c, d in FWD])
def test_forward(case, dtype):
    check_forward(case, dtype)
    check_forward(case, dtype, contiguous=False)


@pytest.mark.parametrize("case", [c for c in CONV if c.unknown], ids=str)
def test_unknown_batch(case):
    check_forward(case, np.float64, unknown=True)


@pytest.mark.parametrize("case", [c for c in CONV if c.grad], ids=str)
def test_gradient(case):
    check_grad(case)
    if case.unknown:
        check_grad(case, unknown=True)


def _second_order(fn):
    """(x, f) -> sum of squares of the first-order gradients: differentiating it exercises the
    gradients of the backprop ops."""
    def h(*args):
        y = fn(*args)
        gs = rt.gradients(rt.reduce_sum(y * y * y), list(args))
        return rt.add_n([rt.reduce_sum(g * g) for g in gs])
    return h


@pytest.mark.parametrize("conv,fshape", [
    (lambda x, f: rt.nn.conv2d(x, f, [1, 2, 1, 1], "SAME", dilations=[1, 1, 2, 1]), (2, 2, 2, 3)),
    (lambda x, f: rt.nn.conv2d(x, f, [1, 1, 1, 1], "VALID"), (2, 2, 2, 3)),
    (lambda x, f: rt.nn.depthwise_conv2d(x, f, [1, 2, 2, 1], "SAME"), (2, 2, 2, 2)),
], ids=["conv2d_same_dilated", "conv2d_valid", "depthwise"])
def test_second_derivative_conv(conv, fshape):
    rng = np.random.default_rng(0)
    check_gradients(_second_order(conv), [rng.standard_normal((1, 4, 3, 2)),
                                          rng.standard_normal(fshape)], atol=1e-4)


def test_second_derivative_conv2d_transpose():
    rng = np.random.default_rng(1)
    fn = _second_order(lambda v, f: rt.nn.conv2d_transpose(v, f, [1, 4, 4, 2], [1, 2, 2, 1],
                                                           "SAME"))
    check_gradients(fn, [rng.standard_normal((1, 2, 2, 3)), rng.standard_normal((2, 2, 2, 3))],
                    atol=1e-4)


@pytest.mark.parametrize("pool", [rt.nn.max_pool, rt.nn.avg_pool], ids=["max", "avg"])
def test_second_derivative_pool(pool):
    x = np.random.default_rng(2).permutation(32).reshape(1, 4, 4, 2) / 5.0
    check_gradients(_second_order(lambda a: pool(a, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")), [x],
                    atol=1e-4)


def test_conv2d_larger_against_einsum():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 28, 28, 3)).astype(np.float32)
    f = rng.standard_normal((5, 5, 3, 8)).astype(np.float32)
    got = run_graph(lambda a, b: rt.nn.conv2d(a, b, [1, 1, 1, 1], "SAME"), x, f)
    xp = np.pad(x.astype(np.float64), ((0, 0), (2, 2), (2, 2), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (5, 5), axis=(1, 2))  # N,H,W,C,kh,kw
    want = np.einsum("nhwcij,ijco->nhwo", win, f.astype(np.float64))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    small = run_graph(lambda a, b: rt.nn.conv2d(a, b, [1, 3, 2, 1], "VALID"), x[:1, :9, :8],
                      f)
    np.testing.assert_allclose(small, conv2d_ref(x[:1, :9, :8], f, (3, 2), "VALID"),
                               rtol=1e-4, atol=1e-4)


def test_max_pool_gradient_ties_go_to_first_max():
    x = np.ones((1, 2, 4, 1))
    g = run_graph(lambda a: rt.gradients(rt.reduce_sum(rt.nn.max_pool(a, [1, 2, 2, 1],
                                                                       [1, 2, 2, 1], "VALID")),
                                         a)[0], x)
    np.testing.assert_array_equal(g[0, :, :, 0], [[1, 0, 1, 0], [0, 0, 0, 0]])


def test_max_pool_same_padding_never_wins():
    x = -np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    got = run_graph(lambda a: rt.nn.max_pool(a, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"), x)
    np.testing.assert_array_equal(got[0, :, :, 0], [[-1, -3], [-7, -9]])


def test_avg_pool_same_counts_only_real_inputs():
    x = np.ones((1, 3, 3, 1))
    got = run_graph(lambda a: rt.nn.avg_pool(a, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"), x)
    np.testing.assert_array_equal(got, np.ones((1, 2, 2, 1)))


def test_static_shapes_with_unknown_dims():
    x = rt.placeholder(rt.float32, [None, 28, None, 3])
    f = rt.zeros([5, 5, 3, 16])
    assert rt.nn.conv2d(x, f, [1, 2, 2, 1], "SAME").shape.as_list() == [None, 14, None, 16]
    assert rt.nn.conv2d(x, f, [1, 1, 1, 1], "VALID").shape.as_list() == [None, 24, None, 16]
    assert rt.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID").shape.as_list() == \
        [None, 14, None, 3]
    y = rt.nn.conv2d(rt.placeholder(rt.float32), f, [1, 1, 1, 1], "SAME")
    assert y.shape.as_list() == [None, None, None, 16]
    nchw = rt.placeholder(rt.float32, [None, 3, 10, 9])
    assert rt.nn.avg_pool(nchw, [1, 1, 3, 3], [1, 1, 3, 3], "VALID",
                          data_format="NCHW").shape.as_list() == [None, 3, 3, 3]
    assert rt.nn.depthwise_conv2d(x, rt.zeros([3, 3, 3, 2]), [1, 1, 1, 1],
                                  "SAME").shape.as_list() == [None, 28, None, 6]


def test_conv_errors():
    x = rt.zeros([1, 5, 5, 3])
    with pytest.raises(ValueError, match=r"Dimensions must be equal, but are 3 and 4.*"
                                         r"for 'Conv2D.*' \(op: 'Conv2D'\) with input shapes: "
                                         r"\[1,5,5,3\], \[3,3,4,8\]"):
        rt.nn.conv2d(x, rt.zeros([3, 3, 4, 8]), [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="Value for attr 'padding' of \"FOO\" is not in the "
                                         "list of allowed values: \"SAME\", \"VALID\""):
        rt.nn.conv2d(x, rt.zeros([3, 3, 3, 8]), [1, 1, 1, 1], "FOO")
    with pytest.raises(ValueError, match="does not yet support strides in the batch and depth"):
        rt.nn.conv2d(x, rt.zeros([3, 3, 3, 8]), [2, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="Shape must be rank 4 but is rank 3"):
        rt.nn.conv2d(rt.zeros([5, 5, 3]), rt.zeros([3, 3, 3, 8]), [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="Computed output size would be negative"):
        rt.nn.conv2d(x, rt.zeros([7, 7, 3, 8]), [1, 1, 1, 1], "VALID")
    with pytest.raises(ValueError, match="input channels does not match filter's input "
                                         "channels, 3 != 4"):
        rt.nn.conv2d_transpose(x, rt.zeros([3, 3, 2, 4]), [1, 10, 10, 2], [1, 2, 2, 1])
    with pytest.raises(ValueError, match="output_shape does not match filter's output "
                                         "channels, 5 != 2"):
        rt.nn.conv2d_transpose(x, rt.zeros([3, 3, 2, 3]), [1, 10, 10, 5], [1, 2, 2, 1])
    with pytest.raises(ValueError, match="data_format must be one of NHWC, NCHW"):
        rt.nn.conv2d(x, rt.zeros([3, 3, 3, 8]), [1, 1, 1, 1], "SAME", data_format="HWCN")
    with pytest.raises(TypeError, match="float16, float32, float64"):
        rt.nn.conv2d(rt.zeros([1, 5, 5, 3], rt.int32), rt.zeros([3, 3, 3, 8], rt.int32),
                     [1, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="'padding' of \"BAD\""):
        rt.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "BAD")
    with pytest.raises(ValueError, match="does not yet support ksize in the batch"):
        rt.nn.max_pool(x, [2, 2, 2, 1], [1, 2, 2, 1], "SAME")


def test_conv_channel_mismatch_at_run_time():
    x = rt.placeholder(rt.float32, [None, 4, 4, None])
    y = rt.nn.conv2d(x, rt.zeros([2, 2, 3, 1]), [1, 1, 1, 1], "SAME")
    with rt.Session() as s, pytest.raises(rt.errors.InvalidArgumentError,
                                         match="input depth 2 does not match"):
        s.run(y, {x: np.zeros((1, 4, 4, 2), np.float32)})

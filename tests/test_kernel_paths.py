"""The performance paths of the kernels give the same results as the simple ones: blocked
im2col convolutions, the blocked (and threaded) Adam update, rillet's intra-op thread pool and
split GEMMs, and results that do not depend on the number of threads."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import rillet as rt
from rillet.ops import _parallel, conv_ops, training_ops

RNG = np.random.default_rng(0)


@pytest.fixture
def threads(monkeypatch):
    """Uses the thread counts the test sets whatever the machine's load (no dynamic
    adjustment); restores rillet's thread count and OpenBLAS management afterwards."""
    monkeypatch.setattr(_parallel, "_DYNAMIC", False)
    yield
    _parallel.set_num_threads(None)
    assert not _parallel.blas_managed()


def _conv_all(x, f, g, **kw):
    sizes_x, sizes_f = np.array(x.shape), np.array(f.shape)
    return [conv_ops._conv2d_kernel(np, x, f, **kw),
            conv_ops._conv2d_backprop_filter_kernel(np, x, sizes_f, g, **kw),
            conv_ops._conv2d_backprop_input_kernel(np, sizes_x, f, g, **kw)]


@pytest.mark.parametrize("c,stride,dilation,padding", [
    (1, 1, 1, "SAME"), (3, 2, 1, "VALID"), (17, 1, 2, "SAME"), (17, 1, 1, ((1, 2), (0, 1))),
    (4, 2, 1, "SAME")])
def test_blocked_conv_matches_one_block(monkeypatch, threads, c, stride, dilation, padding):
    x = RNG.standard_normal((3, 9, 8, c)).astype(np.float32)
    f = RNG.standard_normal((3, 3, c, 5)).astype(np.float32)
    kw = dict(strides=(stride, stride), padding=padding, dilations=(dilation, dilation),
              data_format="NHWC")
    y = conv_ops._conv2d_kernel(np, x, f, **kw)
    g = RNG.standard_normal(y.shape).astype(np.float32)
    want = _conv_all(x.astype(np.float64), f.astype(np.float64), g.astype(np.float64), **kw)
    # 1 byte: one output row per block; 64: a few positions; 4 MB: one block.
    for block_bytes, n_threads in itertools.product((1, 64, 4 << 20), (1, 2)):
        monkeypatch.setattr(conv_ops, "_BLOCK_BYTES", block_bytes)
        _parallel.set_num_threads(n_threads)
        _parallel.blas_enter()
        try:
            got = _conv_all(x, f, g, **kw)
        finally:
            _parallel.blas_exit()
        for a, b in zip(got, want):
            assert a.shape == b.shape and a.dtype == np.float32
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_conv_results_do_not_depend_on_threads(threads):
    x = RNG.standard_normal((16, 14, 14, 8)).astype(np.float32)
    f = RNG.standard_normal((5, 5, 8, 16)).astype(np.float32)
    g = RNG.standard_normal((16, 14, 14, 16)).astype(np.float32)
    kw = dict(strides=(1, 1), padding="SAME", dilations=(1, 1), data_format="NHWC")
    runs = []
    for n in (1, 2, 3):
        _parallel.set_num_threads(n)
        _parallel.blas_enter()
        try:
            runs.append(_conv_all(x, f, g, **kw))
        finally:
            _parallel.blas_exit()
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)


def test_split_matmul_matches_numpy(threads):
    _parallel.set_num_threads(2)
    _parallel.blas_enter()
    try:
        for m, k, n in [(600, 300, 40), (40, 300, 700), (3000, 64, 64), (5, 7, 3)]:
            a = RNG.standard_normal((m, k)).astype(np.float32)
            b = RNG.standard_normal((k, n)).astype(np.float32)
            want = a.astype(np.float64) @ b
            np.testing.assert_allclose(_parallel.matmul(a, b), want, rtol=1e-4, atol=1e-3)
            np.testing.assert_allclose(_parallel.matmul(a.T.copy().T, b), want, rtol=1e-4,
                                       atol=1e-3)
            out = np.empty((m, n), np.float32)
            assert _parallel.matmul(a, b, out) is out
    finally:
        _parallel.blas_exit()


def test_run_blocks_runs_every_block_once_and_raises(threads):
    _parallel.set_num_threads(3)
    seen = []
    _parallel.run_blocks(lambda i, w: seen.append((i, w)), 50)
    assert sorted(i for i, _ in seen) == list(range(50))
    assert {w for _, w in seen} <= {0, 1, 2}
    nested = []
    _parallel.run_blocks(lambda i, w: _parallel.run_blocks(
        lambda j, v: nested.append((i, j)), 3), 4)  # inner loops run inline in helpers
    assert sorted(nested) == [(i, j) for i in range(4) for j in range(3)]

    def boom(i, w):
        if i == 7:
            raise ValueError("block 7")
    with pytest.raises(ValueError, match="block 7"):
        _parallel.run_blocks(boom, 20)
    _parallel.run_blocks(lambda i, w: None, 4)  # the pool still works afterwards


def _adam_run(shape, block, n_threads):
    training_ops._BLOCK = block
    _parallel.set_num_threads(n_threads)
    rng = np.random.default_rng(1)
    init = rng.standard_normal(shape).astype(np.float32)
    g = rt.Graph()
    with g.as_default():
        w = rt.Variable(init)
        x = rt.placeholder(rt.float32, shape)
        train = rt.train.AdamOptimizer(0.01).minimize(rt.reduce_sum(w * x * w))
        with rt.Session() as s:
            s.run(rt.global_variables_initializer())
            for _ in range(3):
                s.run(train, {x: rng.standard_normal(shape).astype(np.float32)})
            return s.run(w)


def test_blocked_threaded_adam_is_bitwise_the_plain_update(threads, monkeypatch):
    monkeypatch.setattr(training_ops, "_BLOCK", training_ops._BLOCK)
    for shape in [(700, 300), (131073,)]:
        plain = _adam_run(shape, 1 << 40, 1)
        for n_threads in (1, 2):
            np.testing.assert_array_equal(_adam_run(shape, 1 << 15, n_threads), plain)


def test_dynamic_threads_back_off_under_load(monkeypatch):
    monkeypatch.setattr(_parallel, "_DYNAMIC", True)
    monkeypatch.setattr(_parallel, "_dyn_state", {"t": None, "cpu": 0.0, "rate": 0.0,
                                                   "threads": 1})
    _parallel.set_num_threads(4)
    try:
        monkeypatch.setattr(_parallel.os, "cpu_count", lambda: 4)
        monkeypatch.setattr(_parallel.os, "getloadavg", lambda: (3.2, 0.0, 0.0))
        assert _parallel.active_threads() == 4  # first call: optimistic
        _parallel._dyn_state["t"] -= 1.0
        assert _parallel.active_threads() == 1  # 4 cores, others' load ~3.2
        monkeypatch.setattr(_parallel.os, "getloadavg", lambda: (0.1, 0.0, 0.0))
        _parallel._dyn_state["t"] -= 1.0
        assert _parallel.active_threads() == 4
    finally:
        _parallel.set_num_threads(None)


def test_session_restores_openblas_threads(threads):
    if _parallel._blas is None:
        pytest.skip("OpenBLAS not reachable")
    before = _parallel._blas[1]()
    _parallel.set_num_threads(2)
    g = rt.Graph()
    with g.as_default():
        a = rt.placeholder(rt.float32, [300, 300])
        y = rt.matmul(a, a)
        with rt.Session() as s:
            v = s.run(y, {a: np.eye(300, dtype=np.float32)})
    np.testing.assert_array_equal(v, np.eye(300, dtype=np.float32))
    assert _parallel._blas[1]() == before

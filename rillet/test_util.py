"""Testing helpers: numerical gradient checks against central differences (float64)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import rillet as rt


def _project(y_shape: tuple, seed: int) -> np.ndarray:
    # A random projection makes every output element matter in the scalar loss.
    return np.random.default_rng(seed).standard_normal(y_shape)


def numeric_and_symbolic(fn: Callable[..., Any], inputs: Sequence[np.ndarray],
                         wrt: Sequence[int] | None = None, unknown_batch: bool = False,
                         eps: float = 1e-6, seed: int = 0) -> list[tuple[np.ndarray, Any]]:
    """For each input index in ``wrt``: (numerical gradient, symbolic gradient or None) of
    ``sum(fn(*xs) * P)`` for a fixed random projection ``P``. Inputs are fed as float64
    placeholders (integer arrays keep their dtype); with ``unknown_batch`` the placeholders'
    first dimension is None so gradients must handle unknown static shapes."""
    inputs = [np.array(x, order="C") for x in inputs]  # contiguous copies (0-d stays 0-d)
    wrt = list(range(len(inputs))) if wrt is None else list(wrt)
    g = rt.Graph()
    with g.as_default():
        phs = []
        for x in inputs:
            dt = rt.float64 if x.dtype.kind == "f" else rt.as_dtype(x.dtype)
            shape = list(x.shape)
            if unknown_batch and shape:
                shape[0] = None
            phs.append(rt.placeholder(dt, shape))
        y = fn(*phs)
        with rt.Session(graph=g) as sess:
            feeds = {p: (x.astype(np.float64) if x.dtype.kind == "f" else x)
                     for p, x in zip(phs, inputs)}
            y_val = np.asarray(sess.run(y, feeds))
            proj_t = rt.placeholder(rt.float64, y_val.shape)
            loss = rt.reduce_sum(rt.cast(y, rt.float64) * proj_t)
            grads = rt.gradients(loss, [phs[i] for i in wrt])
            proj = _project(y_val.shape, seed)
            feeds[proj_t] = proj
            sym = [None if gr is None else np.asarray(sess.run(gr, feeds)) for gr in grads]
            out = []
            for k, i in enumerate(wrt):
                x = feeds[phs[i]]
                num = np.zeros_like(x, dtype=np.float64)
                flat = x.reshape(-1)
                for j in range(flat.size):
                    old = flat[j]
                    flat[j] = old + eps
                    up = sess.run(loss, feeds)
                    flat[j] = old - eps
                    down = sess.run(loss, feeds)
                    flat[j] = old
                    num.reshape(-1)[j] = (up - down) / (2 * eps)
                out.append((num, sym[k]))
    return out


def check_gradients(fn: Callable[..., Any], inputs: Sequence[np.ndarray],
                    wrt: Sequence[int] | None = None, unknown_batch: bool = False,
                    atol: float = 1e-5, rtol: float = 1e-4, eps: float = 1e-6) -> None:
    """Asserts that rillet's gradients of ``fn`` match central differences in float64."""
    for k, (num, sym) in enumerate(numeric_and_symbolic(fn, inputs, wrt, unknown_batch, eps)):
        if sym is None:
            raise AssertionError(f"input {k}: gradient is None (not connected)")
        if sym.shape != num.shape:
            raise AssertionError(f"input {k}: gradient shape {sym.shape} != input shape "
                                 f"{num.shape}")
        np.testing.assert_allclose(sym, num, atol=atol, rtol=rtol,
                                   err_msg=f"gradient of input {k} differs from numerical")


def run_graph(fn: Callable[..., Any], *inputs: Any) -> Any:
    """Builds ``fn`` on constants in a fresh graph and returns its value."""
    g = rt.Graph()
    with g.as_default(), rt.Session(graph=g) as sess:
        return sess.run(fn(*[rt.constant(np.asarray(x)) for x in inputs]))

"""A fused LSTM layer over a whole sequence (``LSTMSequence``), which ``dynamic_rnn`` uses for
``LSTMCell`` / ``BasicLSTMCell`` (and ``MultiRNNCell`` stacks of them) in place of the unrolled
per-step graph. Same variables (names, shapes, scopes), same math; results agree with the
unrolled graph to float rounding (the sums are grouped differently).

Forward, per layer: ONE GEMM projects the inputs of all time steps (``[T*B, D] @ W_x + b``), then
each step does the recurrent GEMM ``h @ W_h`` straight into that step's gate buffer and updates
the gates, cell and output in place (sigmoid as ``1 / (1 + exp(-z))``). The gate activations,
cells and ``tanh(c)`` of every step are kept (time-major) for the backward pass.

Backward (``LSTMSequenceGrad``): one loop back in time computing the gate gradients ``dz`` of
every step (one GEMM per step for ``dh``), then ``dW = [X, H_prev]^T dz`` and the bias gradient
as single GEMMs over all steps. The input gradient ``dz @ W_x^T`` is a separate op
(``LSTMSequenceInputGrad``), so it is pruned when nothing needs it (e.g. the input is fed).

Limits: no ``sequence_length`` (masked sequences use the unrolled graph), no peepholes, clipping
or projections, and no second derivatives through the fused op (an error names the switch:
``rillet.nn.rnn_fused.ENABLED = False`` builds the unrolled graph, which has them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet.ops import _parallel
from rillet.registry import apply_op, register
from rillet.shapes import TensorShape

# Set to False to make dynamic_rnn always unroll LSTM cells into per-step ops.
ENABLED = True


# --- kernels -----------------------------------------------------------------------------------


def _sigmoid_(a: Any) -> None:
    """In place ``a = 1 / (1 + exp(-a))`` (exp overflow gives 0; callers ignore the warning)."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)


def _matmul(xp: Any, a: Any, b: Any, out: Any = None) -> Any:
    """A big GEMM: on NumPy split over rillet's intra-op threads."""
    return _parallel.matmul(a, b, out) if xp is np else xp.matmul(a, b, out=out)


def _time_major(x: Any, time_major: bool) -> Any:
    return x if time_major else x.transpose(1, 0, 2)


def _lstm_seq_kernel(xp: Any, x: Any, w: Any, b: Any, c0: Any, h0: Any, *, forget_bias: float,
                     time_major: bool) -> tuple:
    xt = xp.ascontiguousarray(_time_major(x, time_major))  # [T, B, D]
    steps, batch, depth = xt.shape
    n = h0.shape[1]
    dt = xt.dtype
    if w.shape != (depth + n, 4 * n):
        raise ValueError(f"LSTM kernel has shape {w.shape}, expected {(depth + n, 4 * n)}")
    wx, wh = w[:depth], w[depth:]
    gates = xp.empty((steps, batch, 4 * n), dtype=dt)  # i, tanh(j), f, o after activation
    hs = xp.empty((steps + 1, batch, n), dtype=dt)     # hs[0] = h0, hs[t + 1] = h_t
    cs = xp.empty((steps + 1, batch, n), dtype=dt)     # cs[0] = c0, cs[t + 1] = c_t
    co = xp.empty((steps, batch, n), dtype=dt)         # tanh(c_t)
    hs[0] = h0
    cs[0] = c0
    zx = gates.reshape(steps * batch, 4 * n)
    _matmul(xp, xt.reshape(steps * batch, depth), wx, zx)  # all steps' input projections
    bias = xp.array(b, dtype=dt, copy=True)
    bias[2 * n:3 * n] += dt.type(forget_bias)  # the forget bias, added once with the bias
    zx += bias
    tmp = xp.empty((batch, n), dtype=dt)
    tj = xp.empty((batch, n), dtype=dt)
    # The recurrent product is computed transposed, (W_h^T h^T), then added as a transposed
    # view: OpenBLAS runs this orientation ~1.5x faster for a batch of 32 (1 MB copy of W_h^T
    # per call, ~60 us saved per step).
    wh_t = xp.ascontiguousarray(wh.T)
    zh_t = xp.empty((4 * n, batch), dtype=dt)
    with np.errstate(over="ignore"):
        for t in range(steps):
            z = gates[t]
            xp.matmul(wh_t, hs[t].T, out=zh_t)
            z += zh_t.T
            zi, zj, zf, zo = z[:, :n], z[:, n:2 * n], z[:, 2 * n:3 * n], z[:, 3 * n:]
            xp.tanh(zj, out=tj)
            _sigmoid_(z)  # the whole contiguous row block: faster than three strided slices
            zj[...] = tj                        # keep tanh(j) for the backward pass
            c = cs[t + 1]
            xp.multiply(zf, cs[t], out=c)       # c = sigmoid(f + fb) * c_prev
            xp.multiply(zi, tj, out=tmp)        #     + sigmoid(i) * tanh(j)
            c += tmp
            xp.tanh(c, out=co[t])
            xp.multiply(zo, co[t], out=hs[t + 1])  # h = sigmoid(o) * tanh(c)
    out = hs[1:] if time_major else hs[1:].transpose(1, 0, 2)
    return out, cs[steps], hs[steps], cs, gates, co, hs


def _lstm_seq_grad_kernel(xp: Any, x: Any, w: Any, cs: Any, gates: Any, co: Any, hs: Any,
                          dout: Any, dc_last: Any, dh_last: Any, *, time_major: bool) -> tuple:
    steps, batch, n = co.shape
    depth = w.shape[0] - n
    dt = co.dtype
    wh_t = xp.ascontiguousarray(w[depth:].T)  # 1.6x faster per-step GEMM than the view
    dout = _time_major(dout, time_major)  # [T, B, n] (a view)
    dz = xp.empty((steps, batch, 4 * n), dtype=dt)
    dh = xp.empty((batch, n), dtype=dt)
    dh_next = xp.array(dh_last, dtype=dt, copy=True)
    dc = xp.array(dc_last, dtype=dt, copy=True)
    tmp = xp.empty((batch, n), dtype=dt)
    fac = xp.empty((batch, 4 * n), dtype=dt)
    fj = fac[:, n:2 * n]
    for t in range(steps - 1, -1, -1):
        g = gates[t]
        i, tj, f, o = g[:, :n], g[:, n:2 * n], g[:, 2 * n:3 * n], g[:, 3 * n:]
        d = dz[t]
        di, dj, df, do = d[:, :n], d[:, n:2 * n], d[:, 2 * n:3 * n], d[:, 3 * n:]
        ct = co[t]
        xp.add(dout[t], dh_next, out=dh)
        xp.multiply(dh, ct, out=do)             # d o = dh * tanh(c)
        xp.multiply(ct, ct, out=tmp)            # dc += dh * o * (1 - tanh(c)^2)
        xp.subtract(1, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        dc += tmp
        xp.multiply(dc, tj, out=di)             # d i = dc * tanh(j)
        xp.multiply(dc, i, out=dj)              # d j = dc * i
        xp.multiply(dc, cs[t], out=df)          # d f = dc * c_prev
        xp.subtract(1, g, out=fac)              # the activations' derivatives, on the whole
        fac *= g                                # row block: s (1 - s) for i, f, o ...
        xp.multiply(tj, tj, out=fj)             # ... and 1 - tanh(j)^2 for j
        xp.subtract(1, fj, out=fj)
        d *= fac                                # dz = d gate * activation'
        dc *= f                                 # dc_prev = dc * f
        xp.matmul(d, wh_t, out=dh_next)         # dh_prev = dz @ W_h^T
    dz2 = dz.reshape(steps * batch, 4 * n)
    dw = xp.empty(w.shape, dtype=dt)
    xt = xp.ascontiguousarray(_time_major(x, time_major)).reshape(steps * batch, depth)
    _matmul(xp, xt.T, dz2, dw[:depth])
    _matmul(xp, hs[:steps].reshape(steps * batch, n).T, dz2, dw[depth:])
    db = xp.ones(steps * batch, dtype=dt) @ dz2
    return dz, dw, db, dc, dh_next


def _lstm_seq_input_grad_kernel(xp: Any, dz: Any, w: Any, *, time_major: bool) -> Any:
    steps, batch, n4 = dz.shape
    depth = w.shape[0] - n4 // 4
    dx = _matmul(xp, dz.reshape(steps * batch, n4), w[:depth].T).reshape(steps, batch, depth)
    return dx if time_major else dx.transpose(1, 0, 2)


# --- inference and gradients -----------------------------------------------------------------


def _dims(x: Any, time_major: bool) -> tuple:
    d = x.shape.as_list() if x.shape.ndims is not None else [None] * 3
    if len(d) != 3:
        raise ValueError(f"LSTMSequence: inputs must have rank 3, got shape {x.shape}")
    return (d[0], d[1], d[2]) if time_major else (d[1], d[0], d[2])


def _seq_shape(t: Any, b: Any, k: Any, time_major: bool) -> TensorShape:
    return TensorShape([t, b, k] if time_major else [b, t, k])


def _lstm_seq_infer(op: Any) -> list:
    x, w, b, c0, h0 = op.inputs
    dt = x.dtype
    for t in op.inputs[1:]:
        if t.dtype is not dt:
            raise TypeError(f"LSTMSequence: all inputs must have dtype {dt.name}, got "
                            f"{t.dtype.name}")
    tm = op.attrs["time_major"]
    steps, batch, _ = _dims(x, tm)
    n = h0.shape[1] if h0.shape.ndims == 2 else None
    st = TensorShape([batch, n])
    seq = TensorShape([None if steps is None else steps + 1, batch, n])
    return [(dt, _seq_shape(steps, batch, n, tm)), (dt, st), (dt, st), (dt, seq),
            (dt, TensorShape([steps, batch, None if n is None else 4 * n])),
            (dt, TensorShape([steps, batch, n])), (dt, seq)]


def _no_second_order(op: Any, *grads: Any) -> list:
    raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op.type}): "
                      "rillet's fused LSTM has no second derivatives. Set "
                      "rillet.nn.rnn_fused.ENABLED = False before building the RNN to unroll "
                      "it into differentiable per-step ops.")


def _lstm_seq_grad(op: Any, dout: Any, dc_last: Any, dh_last: Any, *_internal: Any) -> list:
    x, w, _, _, _ = op.inputs
    _, _, _, cs, gates, co, hs = op.outputs
    tm = op.attrs["time_major"]
    dz, dw, db, dc0, dh0 = apply_op("LSTMSequenceGrad",
                                    (x, w, cs, gates, co, hs, dout, dc_last, dh_last),
                                    {"time_major": tm})
    dx = apply_op("LSTMSequenceInputGrad", (dz, w), {"time_major": tm})
    return [dx, dw, db, dc0, dh0]


def _lstm_seq_grad_infer(op: Any) -> list:
    x, w, cs, gates, co, hs = op.inputs[:6]
    dt = x.dtype
    tm = op.attrs["time_major"]
    steps, batch, _ = _dims(x, tm)
    n = co.shape[2] if co.shape.ndims == 3 else None
    st = TensorShape([batch, n])
    return [(dt, gates.shape), (dt, w.shape),
            (dt, TensorShape([None if n is None else 4 * n])), (dt, st), (dt, st)]


def _lstm_seq_input_grad_infer(op: Any) -> tuple:
    dz, w = op.inputs
    d = dz.shape.as_list() if dz.shape.ndims == 3 else [None] * 3
    depth = None if w.shape[0] is None or d[2] is None else w.shape[0] - d[2] // 4
    return dz.dtype, _seq_shape(d[0], d[1], depth, op.attrs["time_major"])


register("LSTMSequence", infer=_lstm_seq_infer, kernel=_lstm_seq_kernel, grad=_lstm_seq_grad)
register("LSTMSequenceGrad", infer=_lstm_seq_grad_infer, kernel=_lstm_seq_grad_kernel,
         grad=_no_second_order)
register("LSTMSequenceInputGrad", infer=_lstm_seq_input_grad_infer,
         kernel=_lstm_seq_input_grad_kernel, grad=_no_second_order)


# --- building ----------------------------------------------------------------------------------


def lstm_sequence(x: Any, kernel: Any, bias: Any, c0: Any, h0: Any, forget_bias: float,
                  time_major: bool) -> tuple:
    """One fused LSTM layer: returns (outputs, c_last, h_last)."""
    out = apply_op("LSTMSequence", (x, kernel, bias, c0, h0),
                   {"forget_bias": float(forget_bias), "time_major": bool(time_major)})
    return out[0], out[1], out[2]


def fusable_layers(cell: Any) -> list | None:
    """The plain LSTM cells making up ``cell`` (one, or a MultiRNNCell stack), else None."""
    from rillet.nn import rnn_cell as rc
    from rillet.ops.math_ops import tanh
    if not ENABLED:
        return None
    if type(cell) is rc.MultiRNNCell:
        if not cell._state_is_tuple:
            return None
        cells = list(cell._cells)
    else:
        cells = [cell]
    for c in cells:
        if type(c) is rc.LSTMCell:
            if c._use_peepholes or c._cell_clip is not None or c._num_proj is not None:
                return None
        elif type(c) is not rc.BasicLSTMCell:
            return None
        if not c._state_is_tuple or c._activation is not tanh:
            return None
    return cells


def supported_dtype(dtype: Any) -> bool:
    return _dt.as_dtype(dtype) in (_dt.float32, _dt.float64)

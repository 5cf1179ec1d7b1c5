"""Table of the nn ops (activations, softmax / cross-entropies, bias_add, embeddings, sampled
losses, normalisation: ``NN``; convolutions and pooling: ``CONV``) in the format of
tests/op_table.py (same ``Case``, input specs and runners). References are independent NumPy
code; convolutions and pooling use naive loops over output positions and kernel offsets.

``tests/test_ops_nn.py`` and ``tests/test_ops_conv.py`` run the cases; ``covered_cases()``,
``MODULES`` and ``RANDOM_BUILDERS`` tell the registry-completeness test which op types are
covered.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from op_table import Case, F, I, K

import rillet as rt
from rillet.nn import rnn_fused
from rillet.ops import conv_ops, loss_ops, nn_ops, norm_ops, pool_ops


@dataclass
class P:
    """Rows of probabilities (a distribution along the last axis) of ``shape``."""
    shape: tuple = (3, 4)

    def make(self, rng: np.random.Generator, dtype: Any) -> np.ndarray:
        x = rng.uniform(0.05, 1.0, self.shape)
        return (x / x.sum(-1, keepdims=True)).astype(dtype)

    def scalar(self) -> P:
        return self


def _nn(name: str, fn: Callable, ref: Callable, inputs: list, grad: Any = (0,),
        **kw: Any) -> Case:
    return Case(name, fn, ref, inputs, list(grad), family="nn", **kw)


def _f64(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _like(out: Any, x: np.ndarray) -> Any:
    return np.asarray(out).astype(x.dtype)


# --- activation references --------------------------------------------------------------------
def _sig(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _elu_ref(x: np.ndarray) -> np.ndarray:
    return _like(np.where(x > 0, x, np.expm1(np.minimum(_f64(x), 0))), x)


_SA, _SS = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _selu_ref(x: np.ndarray) -> np.ndarray:
    return _like(_SS * np.where(x > 0, x, _SA * np.expm1(np.minimum(_f64(x), 0))), x)


def _gelu_ref(x: np.ndarray, approximate: bool) -> np.ndarray:
    y = _f64(x)
    if approximate:
        return _like(0.5 * y * (1 + np.tanh(math.sqrt(2 / math.pi) * (y + 0.044715 * y ** 3))), x)
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return _like(0.5 * y * (1 + erf(y / math.sqrt(2))), x)


def _softmax_ref(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(_f64(x) - _f64(x).max(axis, keepdims=True))
    return _like(e / e.sum(axis, keepdims=True), x)


def _log_softmax_ref(x: np.ndarray, axis: int = -1) -> np.ndarray:
    y = _f64(x)
    m = y.max(axis, keepdims=True)
    return _like(y - m - np.log(np.exp(y - m).sum(axis, keepdims=True)), x)


def _xent_ref(logits: np.ndarray, labels: np.ndarray, axis: int = -1) -> np.ndarray:
    return _like(-(_f64(labels) * _f64(_log_softmax_ref(_f64(logits), axis))).sum(axis),
                 logits)


def _sparse_xent_ref(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    lp = _log_softmax_ref(_f64(logits))
    return _like(-np.take_along_axis(lp, labels[..., None].astype(np.int64), -1)[..., 0],
                 logits)


def _sig_xent_ref(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    p = _sig(_f64(x))
    return _like(-(z * np.log(p) + (1 - z) * np.log(1 - p)), x)


def _weighted_xent_ref(x: np.ndarray, z: np.ndarray, w: float) -> np.ndarray:
    p = _sig(_f64(x))
    return _like(-(w * z * np.log(p) + (1 - z) * np.log(1 - p)), x)


def _in_top_k_ref(p: np.ndarray, t: np.ndarray, k: int) -> np.ndarray:
    out = []
    for row, target in zip(p, t):
        ok = np.isfinite(row).all() and 0 <= target < row.size
        out.append(bool(ok and (row > row[target]).sum() < k))
    return np.array(out)


def _embed_mod_ref(parts: list, ids: np.ndarray) -> np.ndarray:
    n = len(parts)
    rows = [parts[i % n][i // n] for i in ids.reshape(-1)]
    return np.stack(rows).reshape(ids.shape + parts[0].shape[1:])


def _bn_ref(x: np.ndarray, scale: np.ndarray, offset: np.ndarray, mean: Any, var: Any,
            eps: float, nchw: bool) -> tuple:
    y = _f64(x)
    if nchw:
        y = y.transpose(0, 2, 3, 1)
    training = mean is None
    if training:
        mean, var = y.mean((0, 1, 2)), y.var((0, 1, 2))
    out = (y - mean) / np.sqrt(var + eps) * scale + offset
    if nchw:
        out = out.transpose(0, 3, 1, 2)
    n = y.size // y.shape[-1]
    if training:
        var = var * n / (n - 1)
    return _like(out, x), _like(mean, x), _like(var, x)


def _lrn_ref(x: np.ndarray, r: int, bias: float, alpha: float, beta: float) -> np.ndarray:
    y = _f64(x)
    c = y.shape[-1]
    out = np.empty_like(y)
    for d in range(c):
        s = (y[..., max(0, d - r):d + r + 1] ** 2).sum(-1)
        out[..., d] = y[..., d] / (bias + alpha * s) ** beta
    return _like(out, x)


# --- sampled losses with fixed candidates -----------------------------------------------------
_LAB = np.array([[1], [4], [2]], np.int64)
_SAMPLED = np.array([4, 0, 5], np.int64)
_TRUE_EXP = np.array([[0.3], [0.2], [0.25]], np.float32)
_SAMP_EXP = np.array([0.2, 0.5, 0.1], np.float32)
_SV = (_SAMPLED, _TRUE_EXP, _SAMP_EXP)


def _sampled_logits_ref(w: np.ndarray, b: np.ndarray, x: np.ndarray,
                        remove_hits: bool) -> np.ndarray:
    w, b, x = _f64(w), _f64(b), _f64(x)
    true = (x * w[_LAB[:, 0]]).sum(-1, keepdims=True) + b[_LAB] - np.log(_f64(_TRUE_EXP))
    samp = x @ w[_SAMPLED].T + b[_SAMPLED] - np.log(_f64(_SAMP_EXP))
    if remove_hits:
        samp = samp + np.where(_LAB == _SAMPLED[None, :], -np.finfo(np.float32).max, 0)
    return np.concatenate([true, samp], 1)


def _nce_ref(w: np.ndarray, b: np.ndarray, x: np.ndarray, remove_hits: bool = False) -> Any:
    lg = _sampled_logits_ref(w, b, x, remove_hits)
    z = np.zeros_like(lg)
    z[:, 0] = 1
    loss = np.maximum(lg, 0) - lg * z + np.log1p(np.exp(-np.abs(lg)))
    return _like(loss.sum(1), x)


def _ssm_ref(w: np.ndarray, b: np.ndarray, x: np.ndarray, remove_hits: bool = True) -> Any:
    lg = _sampled_logits_ref(w, b, x, remove_hits)
    return _like(-_log_softmax_ref(lg)[:, 0], x)


def _nce(w: Any, b: Any, x: Any, remove_hits: bool = False) -> Any:
    return rt.nn.nce_loss(w, b, _LAB, x, 3, 6, sampled_values=_SV,
                          remove_accidental_hits=remove_hits)


def _ssm(w: Any, b: Any, x: Any, remove_hits: bool = True) -> Any:
    return rt.nn.sampled_softmax_loss(w, b, _LAB, x, 3, 6, sampled_values=_SV,
                                      remove_accidental_hits=remove_hits)


def _fbn(train: bool, df: str) -> Callable:
    def fn(x: Any, s: Any, o: Any, m: Any = None, v: Any = None) -> Any:
        return rt.nn.fused_batch_norm(x, s, o, m, v, epsilon=0.01, data_format=df,
                                      is_training=train)
    return fn


def _fbn_grad(train: bool, df: str) -> Callable:
    def fn(*args: Any) -> Any:
        y, m, v = _fbn(train, df)(*args)
        return y + rt.reduce_sum(m * m) + rt.reduce_sum(v)
    return fn


def _lstm_seq_ref(time_major: bool) -> Callable:
    """NumPy LSTM over a sequence (gates i, j, f, o; forget bias 0.5): (outputs, c, h)."""
    def ref(x: np.ndarray, w: np.ndarray, b: np.ndarray, c: np.ndarray,
            h: np.ndarray) -> tuple:
        xs = _f64(x) if time_major else _f64(x).transpose(1, 0, 2)
        c, h, n, outs = _f64(c), _f64(h), h.shape[1], []
        for xt in xs:
            z = np.concatenate([xt, h], 1) @ _f64(w) + _f64(b)
            i, j, f, o = z[:, :n], z[:, n:2 * n], z[:, 2 * n:3 * n], z[:, 3 * n:]
            c = _sig(f + 0.5) * c + _sig(i) * np.tanh(j)
            h = _sig(o) * np.tanh(c)
            outs.append(h)
        out = np.stack(outs, 0 if time_major else 1)
        return _like(out, x), _like(c, x), _like(h, x)
    return ref


def _lstm_seq(time_major: bool) -> Callable:
    def fn(x: Any, w: Any, b: Any, c: Any, h: Any) -> tuple:
        return rnn_fused.lstm_sequence(x, w, b, c, h, 0.5, time_major)
    return fn


def _lstm_seq_grad(time_major: bool) -> Callable:
    def fn(*args: Any) -> Any:
        out, c, h = _lstm_seq(time_major)(*args)
        return rt.reduce_sum(out * out, 0 if time_major else 1) + rt.sin(c) + 2.0 * h
    return fn


X34 = F((3, 4), -3, 3)
NN: list[Case] = [
    # The fused LSTM layer dynamic_rnn builds for LSTM cells (x [B, T, D] or [T, B, D]).
    _nn("lstm_sequence", _lstm_seq(False), _lstm_seq_ref(False),
        [F((2, 3, 2)), F((5, 12), -1, 1), F((12,)), F((2, 3)), F((2, 3))], (0, 1, 2, 3, 4),
        grad_fn=_lstm_seq_grad(False)),
    _nn("lstm_sequence_time_major", _lstm_seq(True), _lstm_seq_ref(True),
        [F((3, 2, 2)), F((5, 12), -1, 1), F((12,)), F((2, 3)), F((2, 3))], (0, 1, 2, 3, 4),
        grad_fn=_lstm_seq_grad(True), unknown=False),
    _nn("relu", rt.nn.relu, lambda x: np.maximum(x, 0), [F(away=0.0)], scalar=True),
    _nn("relu6", rt.nn.relu6, lambda x: np.clip(x, 0, 6),
        [K(np.array([[-7.0, -1.5, 0.5], [3.0, 5.5, 7.5]]))]),
    _nn("leaky_relu", rt.nn.leaky_relu, lambda x: np.where(x > 0, x, _like(0.2 * x, x)),
        [F(away=0.0)], scalar=True),
    _nn("leaky_relu_alpha", lambda x: rt.nn.leaky_relu(x, alpha=0.05),
        lambda x: np.where(x > 0, x, _like(0.05 * x, x)), [F(away=0.0)]),
    _nn("elu", rt.nn.elu, _elu_ref, [F(away=0.0)], scalar=True),
    _nn("selu", rt.nn.selu, _selu_ref, [F(away=0.0)], scalar=True),
    _nn("softplus", rt.nn.softplus, lambda x: _like(np.log1p(np.exp(_f64(x))), x),
        [F((2, 3), -6, 6)], scalar=True),
    _nn("softsign", rt.nn.softsign, lambda x: x / (1 + np.abs(x)), [F(away=0.0)]),
    _nn("swish", rt.nn.swish, lambda x: _like(x * _sig(_f64(x)), x), [F()]),
    _nn("gelu", rt.nn.gelu, lambda x: _gelu_ref(x, False), [F()]),
    _nn("gelu_approximate", lambda x: rt.nn.gelu(x, approximate=True),
        lambda x: _gelu_ref(x, True), [F()]),
    _nn("softmax", rt.nn.softmax, _softmax_ref, [X34]),
    _nn("softmax_axis0", lambda x: rt.nn.softmax(x, axis=0), lambda x: _softmax_ref(x, 0),
        [X34]),
    _nn("log_softmax", rt.nn.log_softmax, _log_softmax_ref, [F((2, 3, 4), -3, 3)]),
    _nn("softmax_xent_v2",
        lambda x, z: rt.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x),
        _xent_ref, [X34, P((3, 4))], (0, 1)),
    _nn("softmax_xent_v2_axis0",
        lambda x, z: rt.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x, axis=0),
        lambda x, z: _xent_ref(x, z, 0), [F((4, 3), -3, 3), K(np.full((4, 3), 0.25))], (0, 1)),
    _nn("softmax_xent_v1",
        lambda x, z: rt.nn.softmax_cross_entropy_with_logits(labels=z, logits=x),
        _xent_ref, [F((2, 3, 4), -3, 3), P((2, 3, 4))], (0,)),
    _nn("sparse_softmax_xent",
        lambda x, z: rt.nn.sparse_softmax_cross_entropy_with_logits(labels=z, logits=x),
        _sparse_xent_ref, [X34, I((3,), 0, 4)], (0,)),
    _nn("sparse_softmax_xent_int64_rank2",
        lambda x, z: rt.nn.sparse_softmax_cross_entropy_with_logits(labels=z, logits=x),
        _sparse_xent_ref, [F((2, 3, 4), -3, 3), I((2, 3), 0, 4, np.int64)], (0,)),
    _nn("sigmoid_xent",
        lambda x, z: rt.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
        _sig_xent_ref, [F((2, 3), -4, 4), F((2, 3), 0, 1)], (0, 1)),
    _nn("weighted_xent",
        lambda x, z: rt.nn.weighted_cross_entropy_with_logits(z, x, 2.5),
        lambda x, z: _weighted_xent_ref(x, z, 2.5), [F((2, 3), -4, 4), F((2, 3), 0, 1)],
        (0, 1)),
    _nn("bias_add", rt.nn.bias_add, lambda x, b: x + b, [F((2, 3, 4)), F((4,))], (0, 1)),
    _nn("bias_add_nchw", lambda x, b: rt.nn.bias_add(x, b, data_format="NCHW"),
        lambda x, b: x + b[:, None, None], [F((2, 4, 3, 2)), F((4,))], (0, 1)),
    _nn("xw_plus_b", rt.nn.xw_plus_b, lambda x, w, b: x @ w + b,
        [F((2, 3)), F((3, 4)), F((4,))], (0, 1, 2)),
    _nn("l2_loss", rt.nn.l2_loss, lambda x: _like((_f64(x) ** 2).sum() / 2, x), [F((3, 4))]),
    _nn("l2_normalize", lambda x: rt.nn.l2_normalize(x, 1),
        lambda x: _like(x / np.sqrt((_f64(x) ** 2).sum(1, keepdims=True)), x), [X34]),
    _nn("in_top_k", lambda p, t: rt.nn.in_top_k(p, t, 2), lambda p, t: _in_top_k_ref(p, t, 2),
        [K(np.array([[1.0, 2.0, 3.0], [3.0, 3.0, 1.0], [np.nan, 1.0, 2.0], [0.5, 2.0, 2.0]])),
         K(np.array([0, 1, 2, 0], np.int32))], ()),
    _nn("embedding_lookup", rt.nn.embedding_lookup, lambda p, i: p[i],
        [F((5, 3)), K(np.array([[0, 4], [2, 2]], np.int32))], (0,)),
    _nn("embedding_lookup_mod", lambda a, b, c, i: rt.nn.embedding_lookup([a, b, c], i),
        lambda a, b, c, i: _embed_mod_ref([a, b, c], i),
        [F((3, 2)), F((2, 2)), F((2, 2)), K(np.array([0, 4, 5, 6, 1, 4], np.int64))],
        (0, 1, 2), unknown=False),
    _nn("embedding_lookup_div",
        lambda a, b, i: rt.nn.embedding_lookup([a, b], i, partition_strategy="div"),
        lambda a, b, i: np.concatenate([a, b])[i],
        [F((3, 2)), F((2, 2)), K(np.array([4, 0, 3, 3], np.int32))], (0, 1), unknown=False),
    _nn("embedding_lookup_max_norm",
        lambda p, i: rt.nn.embedding_lookup(p, i, max_norm=1.0),
        lambda p, i: p[i] * np.minimum(1, 1 / np.sqrt((p[i] ** 2).sum(-1, keepdims=True))),
        [F((5, 3)), K(np.array([0, 4, 2], np.int32))], (0,)),
    _nn("nce_loss", _nce, _nce_ref, [F((6, 4), -1, 1), F((6,), -1, 1), F((3, 4), -1, 1)],
        (0, 1, 2), unknown=False),
    _nn("nce_loss_remove_hits", lambda w, b, x: _nce(w, b, x, True),
        lambda w, b, x: _nce_ref(w, b, x, True),
        [F((6, 4), -1, 1), F((6,), -1, 1), F((3, 4), -1, 1)], (0, 1, 2), unknown=False),
    _nn("sampled_softmax_loss", _ssm, _ssm_ref,
        [F((6, 4), -1, 1), F((6,), -1, 1), F((3, 4), -1, 1)], (0, 1, 2), unknown=False),
    _nn("sampled_softmax_keep_hits", lambda w, b, x: _ssm(w, b, x, False),
        lambda w, b, x: _ssm_ref(w, b, x, False),
        [F((6, 4), -1, 1), F((6,), -1, 1), F((3, 4), -1, 1)], (0, 1, 2), unknown=False),
    _nn("compute_accidental_hits",
        lambda t, s: rt.nn.compute_accidental_hits(t, s, 2),
        lambda t, s: (np.array([0, 1, 1], np.int32), np.array([2, 0, 2], np.int64),
                      np.full(3, -np.finfo(np.float32).max, np.float32)),
        [K(np.array([[3, 1], [5, 1]], np.int64)), K(np.array([5, 2, 1], np.int64))], (),
        exact_shape=False, unknown=False),
    _nn("batch_normalization",
        lambda x, m, v, o, s: rt.nn.batch_normalization(x, m, v, o, s, 1e-3),
        lambda x, m, v, o, s: _like((x - m) / np.sqrt(_f64(v) + 1e-3) * s + o, x),
        [F((2, 3, 4)), F((4,)), F((4,), 0.5, 2), F((4,)), F((4,))], (0, 1, 2, 3, 4)),
    _nn("fused_batch_norm_train", _fbn(True, "NHWC"),
        lambda x, s, o: _bn_ref(x, s, o, None, None, 0.01, False),
        [F((2, 3, 2, 3)), F((3,)), F((3,))], (0, 1, 2), grad_fn=_fbn_grad(True, "NHWC"),
        grad_atol=1e-4),
    _nn("fused_batch_norm_train_nchw", _fbn(True, "NCHW"),
        lambda x, s, o: _bn_ref(x, s, o, None, None, 0.01, True),
        [F((2, 3, 2, 3)), F((3,)), F((3,))], (0, 1, 2), grad_fn=_fbn_grad(True, "NCHW"),
        grad_atol=1e-4),
    _nn("fused_batch_norm_inference", _fbn(False, "NHWC"),
        lambda x, s, o, m, v: _bn_ref(x, s, o, m, v, 0.01, False),
        [F((2, 2, 2, 3)), F((3,)), F((3,)), F((3,)), F((3,), 0.5, 2)], (0, 1, 2, 3, 4),
        grad_fn=_fbn_grad(False, "NHWC")),
    _nn("fused_batch_norm_inference_nchw", _fbn(False, "NCHW"),
        lambda x, s, o, m, v: _bn_ref(x, s, o, m, v, 0.01, True),
        [F((2, 3, 2, 2)), F((3,)), F((3,)), F((3,)), F((3,), 0.5, 2)], (0, 1, 2, 3, 4),
        grad_fn=_fbn_grad(False, "NCHW")),
    _nn("local_response_normalization",
        lambda x: rt.nn.local_response_normalization(x, 1, 0.5, 0.3, 0.75),
        lambda x: _lrn_ref(x, 1, 0.5, 0.3, 0.75), [F((1, 2, 2, 5))]),
]


# --- convolution and pooling references (naive loops) -----------------------------------------
def _geometry(n: int, k: int, s: int, d: int, padding: Any) -> tuple:
    """(output size, padding before) - TF's rule, written independently of rillet."""
    ek = (k - 1) * d + 1
    if padding == "VALID":
        return (n - ek) // s + 1, 0
    if padding == "SAME":
        o = (n + s - 1) // s
        return o, max((o - 1) * s + ek - n, 0) // 2
    before, after = padding
    return (n + before + after - ek) // s + 1, before


def _hw_pad(padding: Any, axis: int) -> Any:
    return padding if isinstance(padding, str) else padding[axis]


def _positions(x_shape: tuple, k: tuple, s: tuple, d: tuple, padding: Any) -> Any:
    """Yields (i, j, a, b, h, w): output (i, j), kernel offset (a, b), input (h, w) inside."""
    _, hh, ww, _ = x_shape
    oh, pt = _geometry(hh, k[0], s[0], d[0], _hw_pad(padding, 0))
    ow, pl = _geometry(ww, k[1], s[1], d[1], _hw_pad(padding, 1))
    for i in range(oh):
        for j in range(ow):
            for a in range(k[0]):
                for b in range(k[1]):
                    h, w = i * s[0] + a * d[0] - pt, j * s[1] + b * d[1] - pl
                    if 0 <= h < hh and 0 <= w < ww:
                        yield i, j, a, b, h, w


def _out_hw(x_shape: tuple, k: tuple, s: tuple, d: tuple, padding: Any) -> tuple:
    return (_geometry(x_shape[1], k[0], s[0], d[0], _hw_pad(padding, 0))[0],
            _geometry(x_shape[2], k[1], s[1], d[1], _hw_pad(padding, 1))[0])


def _nhwc(x: np.ndarray, nchw: bool) -> np.ndarray:
    return x.transpose(0, 2, 3, 1) if nchw else x


def _back(x: np.ndarray, nchw: bool) -> np.ndarray:
    return x.transpose(0, 3, 1, 2) if nchw else x


def conv2d_ref(x: np.ndarray, f: np.ndarray, s: tuple = (1, 1), padding: Any = "SAME",
               d: tuple = (1, 1), nchw: bool = False) -> np.ndarray:
    xx = _f64(_nhwc(x, nchw))
    out = np.zeros((xx.shape[0], *_out_hw(xx.shape, f.shape[:2], s, d, padding), f.shape[3]))
    for i, j, a, b, h, w in _positions(xx.shape, f.shape[:2], s, d, padding):
        out[:, i, j, :] += xx[:, h, w, :] @ f[a, b]
    return _like(_back(out, nchw), x)


def conv2d_input_grad_ref(shape: tuple, f: np.ndarray, g: np.ndarray, s: tuple = (1, 1),
                          padding: Any = "SAME", d: tuple = (1, 1)) -> np.ndarray:
    dx = np.zeros(shape)
    for i, j, a, b, h, w in _positions(shape, f.shape[:2], s, d, padding):
        dx[:, h, w, :] += _f64(g[:, i, j, :]) @ f[a, b].T
    return _like(dx, g)


def conv2d_filter_grad_ref(x: np.ndarray, fshape: tuple, g: np.ndarray, s: tuple = (1, 1),
                           padding: Any = "SAME", d: tuple = (1, 1)) -> np.ndarray:
    df = np.zeros(fshape)
    for i, j, a, b, h, w in _positions(x.shape, fshape[:2], s, d, padding):
        df[a, b] += _f64(x[:, h, w, :]).T @ g[:, i, j, :]
    return _like(df, x)


def depthwise_ref(x: np.ndarray, f: np.ndarray, s: tuple = (1, 1), padding: Any = "SAME",
                  d: tuple = (1, 1)) -> np.ndarray:
    n, _, _, c = x.shape
    m = f.shape[3]
    out = np.zeros((n, *_out_hw(x.shape, f.shape[:2], s, d, padding), c * m))
    for i, j, a, b, h, w in _positions(x.shape, f.shape[:2], s, d, padding):
        out[:, i, j, :] += (_f64(x[:, h, w, :])[:, :, None] * f[a, b]).reshape(n, c * m)
    return _like(out, x)


def pool_ref(x: np.ndarray, k: tuple, s: tuple, padding: str, kind: str,
             nchw: bool = False) -> np.ndarray:
    xx = _nhwc(x, nchw)
    oh, ow = _out_hw(xx.shape, k, s, (1, 1), padding)
    vals: dict = {}
    for i, j, _, _, h, w in _positions(xx.shape, k, s, (1, 1), padding):
        vals.setdefault((i, j), []).append(xx[:, h, w, :])
    out = np.zeros((xx.shape[0], oh, ow, xx.shape[3]))
    for (i, j), v in vals.items():
        out[:, i, j, :] = np.max(v, 0) if kind == "max" else np.mean(_f64(np.stack(v)), 0)
    return _like(_back(out, nchw), x)


def _conv(name: str, fn: Callable, ref: Callable, inputs: list, grad: Any = (0, 1),
          **kw: Any) -> Case:
    return Case(name, fn, ref, inputs, list(grad), family="conv", **kw)


def _c2d(s: tuple = (1, 1), padding: Any = "SAME", d: tuple = (1, 1), nchw: bool = False):
    df = "NCHW" if nchw else "NHWC"
    st = [1, 1, *s] if nchw else [1, *s, 1]
    dl = [1, 1, *d] if nchw else [1, *d, 1]
    pad = padding if isinstance(padding, str) else (
        [[0, 0], [0, 0], *padding] if nchw else [[0, 0], *padding, [0, 0]])
    return (lambda x, f: rt.nn.conv2d(x, f, st, pad, data_format=df, dilations=dl),
            lambda x, f: conv2d_ref(x, f, s, padding, d, nchw))


def _pool(kind: str, k: tuple, s: tuple, padding: str, nchw: bool = False):
    op = rt.nn.max_pool if kind == "max" else rt.nn.avg_pool
    df = "NCHW" if nchw else "NHWC"
    ks = [1, 1, *k] if nchw else [1, *k, 1]
    st = [1, 1, *s] if nchw else [1, *s, 1]
    return (lambda x: op(x, ks, st, padding, data_format=df),
            lambda x: pool_ref(x, k, s, padding, kind, nchw))


# Distinct values (a permutation) so that max-pool windows have a unique maximum.
def _distinct(shape: tuple, seed: int = 0) -> K:
    v = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape)
    return K(v / 7.0 - 1.0)


X_IMG = F((2, 5, 4, 3))
W_33 = F((3, 3, 3, 2))
CONV: list[Case] = [
    _conv("conv2d_same", *_c2d(), [X_IMG, W_33]),
    _conv("conv2d_valid_stride2", *_c2d((2, 2), "VALID"), [F((2, 6, 5, 3)), W_33]),
    _conv("conv2d_stride_2x1", *_c2d((2, 1), "SAME"), [X_IMG, F((2, 3, 3, 4))]),
    _conv("conv2d_dilated", *_c2d((1, 1), "SAME", (2, 1)), [X_IMG, F((2, 2, 3, 2))]),
    _conv("conv2d_dilated_valid_strided", *_c2d((2, 1), "VALID", (2, 2)),
          [F((1, 7, 6, 2)), F((2, 2, 2, 3))]),
    _conv("conv2d_explicit_padding", *_c2d((1, 2), ((1, 0), (2, 1))), [X_IMG, W_33]),
    _conv("conv2d_nchw", *_c2d((1, 2), "SAME", nchw=True), [F((2, 3, 5, 4)), W_33]),
    _conv("conv2d_1x1", *_c2d((1, 1), "VALID"), [X_IMG, F((1, 1, 3, 4))]),
    _conv("conv2d_backprop_input",
          lambda f, g: rt.nn.conv2d_backprop_input([2, 5, 4, 3], f, g, [1, 2, 2, 1], "SAME"),
          lambda f, g: conv2d_input_grad_ref((2, 5, 4, 3), f, g, (2, 2)),
          [W_33, F((2, 3, 2, 2))], (0, 1), unknown=False),
    _conv("conv2d_backprop_filter",
          lambda x, g: rt.nn.conv2d_backprop_filter(x, [3, 3, 3, 2], g, [1, 1, 1, 1],
                                                    "VALID"),
          lambda x, g: conv2d_filter_grad_ref(x, (3, 3, 3, 2), g, (1, 1), "VALID"),
          [X_IMG, F((2, 3, 2, 2))], (0, 1)),
    _conv("conv2d_transpose",
          lambda v, f: rt.nn.conv2d_transpose(v, f, [2, 6, 5, 2], [1, 2, 2, 1], "SAME"),
          lambda v, f: conv2d_input_grad_ref((2, 6, 5, 2), f, v, (2, 2)),
          [F((2, 3, 3, 4)), F((3, 3, 2, 4))], (0, 1), unknown=False),
    _conv("conv1d", lambda x, f: rt.nn.conv1d(x, f, 2, "SAME"),
          lambda x, f: conv2d_ref(x[:, None], f[None], (1, 2), "SAME")[:, 0],
          [F((2, 7, 3)), F((3, 3, 2))]),
    _conv("conv1d_ncw", lambda x, f: rt.nn.conv1d(x, f, 1, "VALID", data_format="NCW"),
          lambda x, f: conv2d_ref(x.transpose(0, 2, 1)[:, None], f[None], (1, 1),
                                  "VALID")[:, 0].transpose(0, 2, 1),
          [F((2, 3, 6)), F((2, 3, 2))]),
    _conv("depthwise_conv2d",
          lambda x, f: rt.nn.depthwise_conv2d(x, f, [1, 1, 1, 1], "SAME"),
          lambda x, f: depthwise_ref(x, f), [X_IMG, F((2, 3, 3, 2))]),
    _conv("depthwise_conv2d_strided_rate",
          lambda x, f: rt.nn.depthwise_conv2d(x, f, [1, 2, 1, 1], "VALID", rate=[1, 2]),
          lambda x, f: depthwise_ref(x, f, (2, 1), "VALID", (1, 2)),
          [F((1, 5, 6, 2)), F((2, 2, 2, 3))]),
    _conv("separable_conv2d",
          lambda x, dw, pw: rt.nn.separable_conv2d(x, dw, pw, [1, 1, 1, 1], "SAME"),
          lambda x, dw, pw: conv2d_ref(depthwise_ref(x, dw), pw, padding="VALID"),
          [X_IMG, F((2, 2, 3, 2)), F((1, 1, 6, 2))], (0, 1, 2)),
    _conv("max_pool_2x2", *_pool("max", (2, 2), (2, 2), "VALID"), [_distinct((2, 4, 6, 2))],
          (0,)),
    _conv("max_pool_3x3_s2_same", *_pool("max", (3, 3), (2, 2), "SAME"),
          [_distinct((2, 5, 5, 2), 1)], (0,)),
    _conv("max_pool_overlap_valid", *_pool("max", (3, 2), (1, 1), "VALID"),
          [_distinct((1, 4, 5, 3), 2)], (0,)),
    _conv("max_pool_nchw", *_pool("max", (2, 3), (2, 2), "SAME", True),
          [_distinct((2, 3, 5, 4), 3)], (0,)),
    _conv("max_pool_grad",
          lambda x, g: rt.nn.max_pool_grad(x, rt.nn.max_pool(x, [1, 3, 3, 1], [1, 2, 2, 1],
                                                             "SAME"),
                                            g, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
          lambda x, g: _max_pool_grad_ref(x, g, (3, 3), (2, 2), "SAME"),
          [_distinct((1, 5, 4, 2), 4), F((1, 3, 2, 2))], (1,), unknown=False),
    _conv("avg_pool_2x2", *_pool("avg", (2, 2), (2, 2), "VALID"), [F((2, 4, 6, 2))], (0,)),
    _conv("avg_pool_3x3_s2_same", *_pool("avg", (3, 3), (2, 2), "SAME"), [F((2, 5, 5, 2))],
          (0,)),
    _conv("avg_pool_overlap", *_pool("avg", (2, 3), (1, 2), "SAME"), [F((1, 4, 5, 3))], (0,)),
    _conv("avg_pool_nchw", *_pool("avg", (2, 2), (1, 1), "VALID", True), [F((2, 3, 4, 3))],
          (0,)),
]


def _max_pool_grad_ref(x: np.ndarray, g: np.ndarray, k: tuple, s: tuple, padding: str) -> Any:
    dx = np.zeros(x.shape)
    best: dict = {}
    for i, j, _, _, h, w in _positions(x.shape, k, s, (1, 1), padding):
        for n in range(x.shape[0]):
            for c in range(x.shape[3]):
                key = (n, i, j, c)
                if key not in best or x[n, h, w, c] > x[best[key]]:
                    best[key] = (n, h, w, c)
    for (n, i, j, c), pos in best.items():
        dx[pos] += g[n, i, j, c]
    return _like(dx, g)


def covered_cases() -> list[Case]:
    return NN + CONV


# Stateful ops (no NumPy reference): tests/test_ops_nn.py checks them statistically.
RANDOM_BUILDERS: list[Callable[[], Any]] = [
    lambda: rt.nn.dropout(rt.ones([4, 4]), 0.5, seed=1),
    lambda: rt.nn.log_uniform_candidate_sampler(rt.constant([[1]], rt.int64), 1, 3, True, 10),
    lambda: rt.nn.uniform_candidate_sampler(rt.constant([[1]], rt.int64), 1, 3, False, 10),
    lambda: rt.nn.nce_loss(rt.ones([10, 2]), rt.zeros([10]), [[1]], rt.ones([1, 2]), 3, 10),
]

# Modules whose ops this table covers (the registry-completeness test imports them all).
MODULES = [conv_ops, loss_ops, nn_ops, norm_ops, pool_ops]

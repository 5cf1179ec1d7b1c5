"""Neural-network ops (``rt.nn``): activations, softmax and cross-entropies, bias_add, dropout,
l2 losses, in_top_k and embedding lookups (sampled losses: ``loss_ops``; convolutions:
``conv_ops``; pooling: ``pool_ops``; normalisation: ``norm_ops``).

Kernels are numerically stable (no overflow for large logits): softmax and cross-entropies
subtract the max before ``exp``, softplus is ``logaddexp(0, x)``, the sigmoid inside
``SoftplusGrad`` is ``(1 + tanh(x / 2)) / 2``. Gradients are rillet ops, so second derivatives
work (the fused cross-entropy ops also differentiate their ``backprop`` output).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet import errors
from rillet.graph import get_default_graph
from rillet.ops import array_ops, math_ops, random_ops
from rillet.ops._util import constant_value, same_as_input
from rillet.ops.array_ops import shape, stop_gradient
from rillet.ops.math_ops import (
    cast,
    exp,
    reduce_sum,
    sigmoid,
    square,
    tanh,
    where_,
    zeros_like,
)
from rillet.registry import NOT_DIFFERENTIABLE, apply_op, convert_to_tensor, is_tensor, register
from rillet.shapes import TensorShape


def _float_infer(op: Any) -> tuple:
    x = op.inputs[0]
    if not x.dtype.is_floating:
        raise TypeError(f"Value passed to parameter 'features' has DataType {x.dtype.name} not "
                        "in list of allowed values: float16, float32, float64")
    return x.dtype, x.shape


def _same_dtype_infer(op: Any) -> tuple:
    """Elementwise grad ops (g, x): output like ``g``."""
    g, x = op.inputs[:2]
    if g.dtype is not x.dtype:
        raise TypeError(f"{op.type}: gradients and features must have the same dtype, got "
                        f"{g.dtype.name} and {x.dtype.name}")
    return g.dtype, g.shape.merge_with(x.shape) if g.shape.is_compatible_with(x.shape) \
        else g.shape


def _t(x: Any) -> Any:
    return convert_to_tensor(x)


# --- activations ------------------------------------------------------------------------------

register("Relu", infer=same_as_input, kernel=lambda xp, x: xp.maximum(x, 0),
         grad=lambda op, g: [apply_op("ReluGrad", (g, op.outputs[0]))])
# TensorFlow's ReluGrad is ``gradients * (features > 0)``: a multiply by the mask, about 10x
# faster in NumPy than ``where(y > 0, g, 0)`` (whose float32 path is branchy).
register("ReluGrad", infer=_same_dtype_infer, kernel=lambda xp, g, y: xp.multiply(g, y > 0),
         grad=lambda op, gg: [apply_op("ReluGrad", (gg, op.inputs[1])),
                              zeros_like(op.inputs[1])])
register("Relu6", infer=same_as_input, kernel=lambda xp, x: xp.clip(x, 0, 6),
         grad=lambda op, g: [apply_op("Relu6Grad", (g, op.inputs[0]))])
register("Relu6Grad", infer=_same_dtype_infer,
         kernel=lambda xp, g, x: xp.where((x > 0) & (x < 6), g, 0),
         grad=lambda op, gg: [apply_op("Relu6Grad", (gg, op.inputs[1])),
                              zeros_like(op.inputs[1])])
register("LeakyRelu", infer=_float_infer,
         kernel=lambda xp, x, *, alpha: xp.where(x > 0, x, x * x.dtype.type(alpha)),
         grad=lambda op, g: [apply_op("LeakyReluGrad", (g, op.inputs[0]), dict(op.attrs))])
register("LeakyReluGrad", infer=_same_dtype_infer,
         kernel=lambda xp, g, x, *, alpha: xp.where(x > 0, g, g * g.dtype.type(alpha)),
         grad=lambda op, gg: [apply_op("LeakyReluGrad", (gg, op.inputs[1]), dict(op.attrs)),
                              zeros_like(op.inputs[1])])

# ELU / SELU gradients use the output y (as TF does): dy/dx = y + 1 (times scale) where y < 0.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _elu(xp: Any, x: Any) -> Any:
    return xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0)))


register("Elu", infer=_float_infer, kernel=_elu,
         grad=lambda op, g: [apply_op("EluGrad", (g, op.outputs[0]))])
register("EluGrad", infer=_same_dtype_infer,
         kernel=lambda xp, g, y: xp.where(y < 0, g * (y + 1), g),
         grad=lambda op, gg: [apply_op("EluGrad", (gg, op.inputs[1])),
                              where_(op.inputs[1] < 0, gg * op.inputs[0],
                                     zeros_like(gg))])
def _selu(xp: Any, x: Any) -> Any:
    t = x.dtype.type
    return t(_SELU_SCALE) * xp.where(x > 0, x, t(_SELU_ALPHA) * xp.expm1(xp.minimum(x, 0)))


register("Selu", infer=_float_infer, kernel=_selu,
         grad=lambda op, g: [apply_op("SeluGrad", (g, op.outputs[0]))])
register("SeluGrad", infer=_same_dtype_infer,
         kernel=lambda xp, g, y: xp.where(y < 0, g * (y + g.dtype.type(_SELU_SCALE * _SELU_ALPHA)),
                                          g * g.dtype.type(_SELU_SCALE)),
         grad=lambda op, gg: [apply_op("SeluGrad", (gg, op.inputs[1])),
                              where_(op.inputs[1] < 0, gg * op.inputs[0],
                                     zeros_like(gg))])


def _sigmoid_np(xp: Any, x: Any) -> Any:
    """Overflow-free logistic function: 0.5 * (1 + tanh(x / 2))."""
    half = x.dtype.type(0.5)
    return half * (1 + xp.tanh(half * x))


register("Softplus", infer=_float_infer, kernel=lambda xp, x: xp.logaddexp(x.dtype.type(0), x),
         grad=lambda op, g: [apply_op("SoftplusGrad", (g, op.inputs[0]))])
register("SoftplusGrad", infer=_same_dtype_infer,
         kernel=lambda xp, g, x: g * _sigmoid_np(xp, x),
         grad=lambda op, gg: _softplus_grad_grad(op, gg))


def _softplus_grad_grad(op: Any, gg: Any) -> list:
    g, x = op.inputs
    s = sigmoid(x)
    return [apply_op("SoftplusGrad", (gg, x)), gg * g * s * (1 - s)]


def relu(features: Any, name: str | None = None) -> Any:
    """max(features, 0)."""
    return apply_op("Relu", (_t(features),), name=name)


def relu6(features: Any, name: str | None = None) -> Any:
    """min(max(features, 0), 6)."""
    return apply_op("Relu6", (_t(features),), name=name)


def leaky_relu(features: Any, alpha: float = 0.2, name: str | None = None) -> Any:
    """features where positive, else ``alpha * features``."""
    return apply_op("LeakyRelu", (_t(features),), {"alpha": float(alpha)}, name=name)


def elu(features: Any, name: str | None = None) -> Any:
    """features where positive, else exp(features) - 1."""
    return apply_op("Elu", (_t(features),), name=name)


def selu(features: Any, name: str | None = None) -> Any:
    """scale * elu(features) with alpha = 1.6733 inside and scale = 1.0507."""
    return apply_op("Selu", (_t(features),), name=name)


def softplus(features: Any, name: str | None = None) -> Any:
    """log(1 + exp(features)), stable for large |features|."""
    return apply_op("Softplus", (_t(features),), name=name)


def softsign(features: Any, name: str | None = None) -> Any:
    """features / (1 + |features|)."""
    x = _t(features)
    return math_ops.divide(x, 1 + math_ops.abs(x), name=name)


def swish(features: Any, beta: float = 1.0, name: str | None = None) -> Any:
    """features * sigmoid(beta * features) (also ``silu``)."""
    x = _t(features)
    z = x if beta == 1.0 else x * beta
    return math_ops.multiply(x, sigmoid(z), name=name)


silu = swish


def gelu(features: Any, approximate: bool = False, name: str | None = None) -> Any:
    """x * Phi(x) (Phi: the standard normal CDF); ``approximate`` uses the tanh formula."""
    x = _t(features)
    if approximate:
        c = math.sqrt(2.0 / math.pi)
        inner = c * (x + 0.044715 * x * x * x)
        return math_ops.multiply(0.5 * x, 1.0 + tanh(inner), name=name)
    return math_ops.multiply(0.5 * x, 1.0 + math_ops.erf(x * (1 / math.sqrt(2.0))), name=name)


# --- softmax ----------------------------------------------------------------------------------


def _axis_attr(logits: Any, axis: Any, dim: Any = None) -> int:
    axis = dim if axis is None else axis
    axis = -1 if axis is None else int(axis)
    nd = logits.shape.ndims
    if nd is not None:
        if not -nd <= axis < max(nd, 1):
            raise ValueError(f"axis {axis} is out of bounds for a tensor of rank {nd}")
        axis %= max(nd, 1)
    return axis


def _softmax_np(xp: Any, x: Any, axis: int) -> Any:
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _log_softmax_np(xp: Any, x: Any, axis: int) -> Any:
    s = x - x.max(axis=axis, keepdims=True)
    return s - xp.log(xp.exp(s).sum(axis=axis, keepdims=True))


def _softmax_infer(op: Any) -> tuple:
    x = op.inputs[0]
    if not x.dtype.is_floating:
        raise TypeError(f"Value passed to parameter 'logits' has DataType {x.dtype.name} not "
                        "in list of allowed values: float16, float32, float64")
    if x.shape.ndims == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0")
    return x.dtype, x.shape


def _softmax_grad(op: Any, g: Any) -> list:
    y = op.outputs[0]
    axis = op.attrs["axis"]
    return [(g - reduce_sum(g * y, axis, keepdims=True)) * y]


def _log_softmax_grad(op: Any, g: Any) -> list:
    y = op.outputs[0]
    return [g - exp(y) * reduce_sum(g, op.attrs["axis"], keepdims=True)]


register("Softmax", infer=_softmax_infer, grad=_softmax_grad,
         kernel=lambda xp, x, *, axis: _softmax_np(xp, x, axis))
register("LogSoftmax", infer=_softmax_infer, grad=_log_softmax_grad,
         kernel=lambda xp, x, *, axis: _log_softmax_np(xp, x, axis))


def softmax(logits: Any, axis: int | None = None, name: str | None = None,
            dim: int | None = None) -> Any:
    """exp(logits) / sum(exp(logits), axis) (max-subtracted: no overflow)."""
    x = _t(logits)
    return apply_op("Softmax", (x,), {"axis": _axis_attr(x, axis, dim)}, name=name)


def log_softmax(logits: Any, axis: int | None = None, name: str | None = None,
                dim: int | None = None) -> Any:
    """logits - log(sum(exp(logits), axis)), computed stably."""
    x = _t(logits)
    return apply_op("LogSoftmax", (x,), {"axis": _axis_attr(x, axis, dim)}, name=name)


# --- cross-entropies --------------------------------------------------------------------------


def _is_zeros(t: Any) -> bool:
    return t is None or getattr(t, "op", None) is not None and t.op.type == "ZerosLike"


def _expand_at(g: Any, like: Any, axis: int) -> Any:
    """``g`` (``like`` reduced over ``axis``) reshaped to broadcast against ``like``."""
    return apply_op("ExpandReduced", (g, like), {"axis": axis})


def _xent_infer(op: Any) -> list:
    logits, labels = op.inputs
    if labels.dtype is not logits.dtype:
        raise TypeError(f"Input 'labels' of '{op.type}' Op has type {labels.dtype.name} that "
                        f"does not match type {logits.dtype.name} of argument 'features'")
    if not logits.dtype.is_floating:
        raise TypeError(f"Value passed to parameter 'features' has DataType "
                        f"{logits.dtype.name} not in list of allowed values: float16, "
                        "float32, float64")
    if not logits.shape.is_compatible_with(labels.shape):
        raise ValueError(f"logits and labels must be broadcastable: logits_size="
                         f"{logits.shape} labels_size={labels.shape}")
    s = logits.shape.merge_with(labels.shape)
    if s.ndims == 0:
        raise ValueError("logits and labels must have rank >= 1")
    axis = op.attrs["axis"]
    loss = TensorShape(None) if s.ndims is None else \
        TensorShape([d for i, d in enumerate(s.as_list()) if i != axis])
    return [(logits.dtype, loss), (logits.dtype, s)]


def _xent_kernel(xp: Any, logits: Any, labels: Any, *, axis: int) -> tuple:
    shifted = logits - logits.max(axis=axis, keepdims=True)
    e = xp.exp(shifted)
    s = e.sum(axis=axis, keepdims=True)
    logp = shifted - xp.log(s)
    labels = xp.broadcast_to(labels, logits.shape)
    loss = -(xp.where(labels != 0, labels * logp, 0)).sum(axis=axis)
    # d loss / d logits = softmax * sum(labels) - labels (= softmax - labels for distributions)
    return loss, (e / s) * labels.sum(axis=axis, keepdims=True) - labels


def _xent_grad(op: Any, g_loss: Any, g_bp: Any) -> list:
    logits, labels = op.inputs
    axis = op.attrs["axis"]
    ge = _expand_at(g_loss, logits, axis)
    d_logits = ge * op.outputs[1]
    d_labels = ge * -log_softmax(logits, axis)
    if not _is_zeros(g_bp):  # second order: the backprop output depends on both inputs
        sm = softmax(logits, axis)
        total = reduce_sum(labels, axis, keepdims=True)
        gs = reduce_sum(g_bp * sm, axis, keepdims=True)
        d_logits = d_logits + total * (g_bp - gs) * sm
        d_labels = d_labels + gs - g_bp
    return [d_logits, math_ops.unbroadcast(d_labels, labels)]


register("SoftmaxCrossEntropyWithLogits", infer=_xent_infer, kernel=_xent_kernel,
         grad=_xent_grad)


def _sentinel_check(sentinel: Any, fn: str) -> None:
    if sentinel is not None:
        raise ValueError(f"Only call `{fn}` with named arguments (labels=..., logits=..., "
                         "...)")


def softmax_cross_entropy_with_logits_v2(_sentinel: Any = None, labels: Any = None,
                                         logits: Any = None, dim: int = -1,
                                         name: str | None = None,
                                         axis: int | None = None) -> Any:
    """-sum(labels * log_softmax(logits), axis): logits, labels [..., C] -> [...].
    Differentiable w.r.t. both logits and labels."""
    _sentinel_check(_sentinel, "softmax_cross_entropy_with_logits_v2")
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")
    x = _t(logits)
    z = convert_to_tensor(labels, dtype_hint=x.dtype)
    if z.dtype is not x.dtype and z.dtype.is_floating:
        z = cast(z, x.dtype)
    ax = _axis_attr(x, axis, dim if dim != -1 else None)
    return apply_op("SoftmaxCrossEntropyWithLogits", (x, z), {"axis": ax}, name=name)[0]


def softmax_cross_entropy_with_logits(_sentinel: Any = None, labels: Any = None,
                                      logits: Any = None, dim: int = -1,
                                      name: str | None = None,
                                      axis: int | None = None) -> Any:
    """TF 1.x (deprecated) version: like ``_v2`` but no gradient flows into ``labels``."""
    _sentinel_check(_sentinel, "softmax_cross_entropy_with_logits")
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")
    return softmax_cross_entropy_with_logits_v2(labels=stop_gradient(labels), logits=logits,
                                                dim=dim, name=name, axis=axis)


def _sparse_xent_infer(op: Any) -> list:
    logits, labels = op.inputs
    if not logits.dtype.is_floating:
        raise TypeError(f"Value passed to parameter 'features' has DataType "
                        f"{logits.dtype.name} not in list of allowed values: float16, "
                        "float32, float64")
    if labels.dtype not in (_dt.int32, _dt.int64):
        raise TypeError(f"Value passed to parameter 'labels' has DataType {labels.dtype.name} "
                        "not in list of allowed values: int32, int64")
    ls, ll = logits.shape, labels.shape
    if ls.ndims is not None and ll.ndims is not None:
        if ll.ndims != ls.ndims - 1:
            raise ValueError(f"Rank mismatch: Rank of labels (received {ll.ndims}) should equal "
                             f"rank of logits minus 1 (received {ls.ndims}).")
        if not ls[:-1].is_compatible_with(ll):
            raise ValueError(f"Shape mismatch: The shape of labels (received {ll}) should equal "
                             f"the shape of logits except for the last dimension (received "
                             f"{ls}).")
        ll = ll.merge_with(ls[:-1])
        ls = ll.concatenate([ls[-1]])
    return [(logits.dtype, ll), (logits.dtype, ls)]


def _sparse_xent_kernel(xp: Any, logits: Any, labels: Any) -> tuple:
    c = logits.shape[-1]
    bad = (labels < 0) | (labels >= c)
    if bad.any():
        v = labels[bad].reshape(-1)[0]
        vals = " ".join(str(int(a)) for a in labels.reshape(-1)[:10])
        raise errors.InvalidArgumentError(
            None, None, f"Received a label value of {int(v)} which is outside the valid range "
                        f"of [0, {c}).  Label values: {vals}")
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = xp.exp(shifted)
    s = e.sum(axis=-1, keepdims=True)
    idx = labels[..., None].astype(np.int64)
    picked = xp.take_along_axis(shifted, idx, axis=-1)
    loss = (xp.log(s) - picked)[..., 0]
    onehot = (xp.arange(c) == idx).astype(e.dtype)
    return loss, e / s - onehot


def _sparse_xent_grad(op: Any, g_loss: Any, g_bp: Any) -> list:
    logits = op.inputs[0]
    d = _expand_at(g_loss, logits, -1) * op.outputs[1]
    if not _is_zeros(g_bp):
        sm = softmax(logits)
        d = d + (g_bp - reduce_sum(g_bp * sm, -1, keepdims=True)) * sm
    return [d, None]


register("SparseSoftmaxCrossEntropyWithLogits", infer=_sparse_xent_infer,
         kernel=_sparse_xent_kernel, grad=_sparse_xent_grad)


def sparse_softmax_cross_entropy_with_logits(_sentinel: Any = None, labels: Any = None,
                                             logits: Any = None,
                                             name: str | None = None) -> Any:
    """-log_softmax(logits)[labels]: logits [..., C], int labels [...] in [0, C) -> [...]."""
    _sentinel_check(_sentinel, "sparse_softmax_cross_entropy_with_logits")
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")
    x = _t(logits)
    z = convert_to_tensor(labels)
    if not z.dtype.is_integer:
        raise TypeError(f"Value passed to parameter 'labels' has DataType {z.dtype.name} not "
                        "in list of allowed values: int32, int64")
    return apply_op("SparseSoftmaxCrossEntropyWithLogits", (x, z), name=name)[0]


def _labels_like(labels: Any, x: Any) -> Any:
    """Labels as a tensor of the logits' dtype (Python / NumPy values are cast)."""
    if is_tensor(labels):
        return _t(labels)
    return convert_to_tensor(np.asarray(labels, dtype=x.dtype.np), dtype=x.dtype)


def _same_shape(labels: Any, logits: Any) -> None:
    if not logits.shape.is_compatible_with(labels.shape):
        raise ValueError(f"logits and labels must have the same shape ({logits.shape} vs "
                         f"{labels.shape})")


def sigmoid_cross_entropy_with_logits(_sentinel: Any = None, labels: Any = None,
                                      logits: Any = None, name: str | None = None) -> Any:
    """Elementwise logistic loss softplus(x) - x * z (= max(x, 0) - x z + log(1 + e^-|x|))."""
    _sentinel_check(_sentinel, "sigmoid_cross_entropy_with_logits")
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")
    x = _t(logits)
    z = _labels_like(labels, x)
    _same_shape(z, x)
    return math_ops.subtract(softplus(x), x * z, name=name)


def weighted_cross_entropy_with_logits(labels: Any = None, logits: Any = None,
                                       pos_weight: Any = None, name: str | None = None,
                                       targets: Any = None) -> Any:
    """(1 - z) x + (1 + (pos_weight - 1) z) softplus(-x): positives weighted by pos_weight."""
    labels = targets if labels is None else labels
    x = _t(logits)
    z = _labels_like(labels, x)
    _same_shape(z, x)
    log_weight = 1 + (pos_weight - 1) * z
    return math_ops.add((1 - z) * x, log_weight * softplus(-x), name=name)


# --- bias_add, l2 -----------------------------------------------------------------------------


def _bias_axis(ndim: int, data_format: str) -> int:
    return 1 if data_format.startswith("NC") and ndim > 2 else ndim - 1


def _bias_add_infer(op: Any) -> tuple:
    x, b = op.inputs
    if b.dtype is not x.dtype:
        raise TypeError(f"Input 'bias' of 'BiasAdd' Op has type {b.dtype.name} that does not "
                        f"match type {x.dtype.name} of argument 'value'")
    if x.shape.ndims is not None and x.shape.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {x.shape.ndims}")
    if b.shape.ndims is not None and b.shape.ndims != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {b.shape.ndims}")
    if x.shape.ndims is None:
        return x.dtype, x.shape
    dims = x.shape.as_list()
    ax = _bias_axis(len(dims), op.attrs["data_format"])
    c = b.shape[0] if b.shape.ndims else None
    if dims[ax] is not None and c is not None and dims[ax] != c:
        raise ValueError(f"Dimensions must be equal, but are {dims[ax]} and {c}")
    dims[ax] = dims[ax] if dims[ax] is not None else c
    return x.dtype, TensorShape(dims)


def _bias_add_kernel(xp: Any, x: Any, b: Any, *, data_format: str) -> Any:
    ax = _bias_axis(x.ndim, data_format)
    return x + b.reshape((-1,) + (1,) * (x.ndim - 1 - ax))


def _bias_add_grad_kernel(xp: Any, g: Any, *, data_format: str) -> Any:
    ax = _bias_axis(g.ndim, data_format)
    return g.sum(axis=tuple(i for i in range(g.ndim) if i != ax))


def _bias_add_grad_infer(op: Any) -> tuple:
    g = op.inputs[0]
    if g.shape.ndims is None:
        return g.dtype, TensorShape([None])
    return g.dtype, TensorShape([g.shape[_bias_axis(g.shape.ndims, op.attrs["data_format"])]])


register("BiasAdd", infer=_bias_add_infer, kernel=_bias_add_kernel,
         grad=lambda op, g: [g, apply_op("BiasAddGrad", (g,), dict(op.attrs))])
register("BiasAddGrad", infer=_bias_add_grad_infer, kernel=_bias_add_grad_kernel,
         grad=lambda op, gg: [apply_op("BiasAdd", (zeros_like(op.inputs[0]), gg),
                                       dict(op.attrs))])


def bias_add(value: Any, bias: Any, data_format: str | None = None,
             name: str | None = None) -> Any:
    """value [..., C] + bias [C] (NCHW / NC..: bias added along axis 1)."""
    if data_format is not None and data_format not in ("NHWC", "NCHW", "NWC", "NCW",
                                                        "NDHWC", "NCDHW", "N..C", "NC.."):
        raise ValueError(f"data_format must be NHWC or NCHW, got {data_format!r}")
    x = _t(value)
    b = convert_to_tensor(bias, dtype_hint=x.dtype)
    return apply_op("BiasAdd", (x, b), {"data_format": data_format or "NHWC"}, name=name)


register("L2Loss", infer=lambda op: (_float_infer(op)[0], TensorShape([])),
         kernel=lambda xp, x: xp.asarray((x * x).sum() / 2, dtype=x.dtype),
         grad=lambda op, g: [op.inputs[0] * g])


def l2_loss(t: Any, name: str | None = None) -> Any:
    """sum(t ** 2) / 2 (a scalar)."""
    return apply_op("L2Loss", (_t(t),), name=name)


def l2_normalize(x: Any, axis: Any = None, epsilon: float = 1e-12, name: str | None = None,
                 dim: Any = None) -> Any:
    """x / sqrt(max(sum(x ** 2, axis), epsilon))."""
    axis = dim if axis is None else axis
    x = _t(x)
    square_sum = reduce_sum(square(x), axis, keepdims=True)
    inv = math_ops.rsqrt(math_ops.maximum(square_sum, epsilon))
    return math_ops.multiply(x, inv, name=name)


def xw_plus_b(x: Any, weights: Any, biases: Any, name: str | None = None) -> Any:
    """matmul(x, weights) + biases: x [batch, in], weights [in, out], biases [out]."""
    with get_default_graph().name_scope(name or "xw_plus_b"):
        return bias_add(math_ops.matmul(x, weights), biases)


# --- dropout ----------------------------------------------------------------------------------


def dropout(x: Any, keep_prob: Any = None, noise_shape: Any = None, seed: int | None = None,
            name: str | None = None, rate: Any = None) -> Any:
    """Zeroes each element with probability ``rate = 1 - keep_prob`` and scales the kept ones
    by ``1 / keep_prob`` (TF 1.x: the second positional argument is ``keep_prob``)."""
    if keep_prob is not None and rate is not None:
        raise ValueError("Cannot specify both 'keep_prob' and 'rate'")
    if keep_prob is None and rate is None:
        raise ValueError("You must provide a rate to dropout (keep_prob or rate).")
    g = get_default_graph()
    with g.name_scope(name or "dropout"):
        x = _t(x)
        if not x.dtype.is_floating:
            raise ValueError(f"x has to be a floating point tensor since it's going to be "
                             f"scaled. Got a {x.dtype.name} tensor instead.")
        if keep_prob is not None:
            kp = convert_to_tensor(keep_prob, dtype_hint=x.dtype, name="keep_prob")
            v = constant_value(kp)
            if v is not None and (np.ndim(v) or not 0 < float(v) <= 1):
                raise ValueError(f"keep_prob must be a scalar tensor or a float in the range "
                                 f"(0, 1], got {float(v) if not np.ndim(v) else v}")
            if v is not None and float(v) == 1:
                return x
            kp = kp if kp.dtype is x.dtype else cast(kp, x.dtype)
        else:
            r = convert_to_tensor(rate, dtype_hint=x.dtype, name="rate")
            v = constant_value(r)
            if v is not None and (np.ndim(v) or not 0 <= float(v) < 1):
                raise ValueError(f"rate must be a scalar tensor or a float in the range [0, 1), "
                                 f"got {float(v) if not np.ndim(v) else v}")
            if v is not None and float(v) == 0:
                return x
            kp = 1 - (r if r.dtype is x.dtype else cast(r, x.dtype))
        ns = shape(x) if noise_shape is None else noise_shape
        u = random_ops.random_uniform(ns, dtype=x.dtype, seed=seed)
        keep = cast(math_ops.greater_equal(u, 1 - kp), x.dtype)
        out = math_ops.multiply(math_ops.divide(x, kp), keep)
        if x.shape.ndims is not None and out.shape.is_compatible_with(x.shape):
            out.set_shape(x.shape)
        return out


# --- in_top_k, moments ------------------------------------------------------------------------


def _in_top_k_infer(op: Any) -> tuple:
    p, t = op.inputs
    if p.shape.ndims is not None and p.shape.ndims != 2:
        raise ValueError(f"Shape must be rank 2 but is rank {p.shape.ndims}")
    if t.shape.ndims is not None and t.shape.ndims != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {t.shape.ndims}")
    if t.dtype not in (_dt.int32, _dt.int64):
        raise TypeError(f"targets must be int32 or int64, got {t.dtype.name}")
    n = p.shape[0] if p.shape.ndims else None
    n = n if n is not None else (t.shape[0] if t.shape.ndims else None)
    return _dt.bool_, TensorShape([n])


def _in_top_k_kernel(xp: Any, p: Any, t: Any, *, k: int) -> Any:
    n, c = p.shape
    valid = (t >= 0) & (t < c)
    tp = xp.take_along_axis(p, xp.clip(t, 0, max(c - 1, 0)).astype(np.int64)[:, None],
                            axis=1)
    more = (p > tp).sum(axis=1)
    finite = xp.isfinite(p).all(axis=1)
    return valid & finite & (more < k)


register("InTopK", infer=_in_top_k_infer, kernel=_in_top_k_kernel, grad=NOT_DIFFERENTIABLE)


def in_top_k(predictions: Any, targets: Any, k: int, name: str | None = None) -> Any:
    """predictions [batch, classes], targets [batch] -> bool [batch]: is the target among the
    k largest predictions (ties at the boundary count as in)."""
    p = _t(predictions)
    t = convert_to_tensor(targets, dtype_hint=_dt.int32)
    return apply_op("InTopK", (p, t), {"k": int(k)}, name=name)


# --- embeddings -------------------------------------------------------------------------------


def _partition_sizes(params: list) -> list:
    sizes = []
    for p in params:
        d = p.shape[0] if p.shape.ndims else None
        if d is None:
            raise ValueError("embedding_lookup: the first dimension of every partition of "
                             f"params must be known statically, got {p.shape}")
        sizes.append(int(d))
    return sizes


def flat_params(params: Any, ids_list: list, partition_strategy: str = "mod") -> tuple:
    """(one params tensor, indices into it for each ids tensor) for a single params tensor or
    a list of partitions (``'mod'``: id lives in partition id % P at row id // P;
    ``'div'``: partitions hold contiguous id ranges)."""
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy}")
    plist = list(params) if isinstance(params, list | tuple) else [params]
    if not plist:
        raise ValueError("Need at least one param")
    plist = [_t(p) for p in plist]
    if len(plist) == 1:
        return plist[0], ids_list
    n = len(plist)
    flat = array_ops.concat(plist, 0)
    if partition_strategy == "div":
        return flat, ids_list
    sizes = _partition_sizes(plist)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    out = []
    for ids in ids_list:
        off = array_ops.gather(convert_to_tensor(offsets.astype(ids.dtype.np)), ids % n)
        out.append(off + ids // n)
    return flat, out


def embedding_lookup(params: Any, ids: Any, partition_strategy: str = "mod",
                     name: str | None = None, validate_indices: bool = True,
                     max_norm: float | None = None) -> Any:
    """Rows of ``params`` [V, ...] (or of a list of partitions) at int ``ids``:
    shape ids.shape + params.shape[1:]. ``max_norm`` clips each row's l2 norm."""
    with get_default_graph().name_scope(name or "embedding_lookup"):
        ids = convert_to_tensor(ids, dtype_hint=_dt.int32)
        if ids.dtype not in (_dt.int32, _dt.int64):
            raise TypeError(f"ids must be int32 or int64, got {ids.dtype.name}")
        flat, (idx,) = flat_params(params, [ids], partition_strategy)
        out = array_ops.gather(flat, idx)
        if max_norm is not None:
            sq = reduce_sum(square(out), -1, keepdims=True)
            scale = math_ops.minimum(1.0, max_norm * math_ops.rsqrt(
                math_ops.maximum(sq, 1e-30)))
            out = out * scale
        return out

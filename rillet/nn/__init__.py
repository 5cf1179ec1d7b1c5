"""``rt.nn``: TF 1.x ``tf.nn`` (re-exports; the ops live in ``rillet.ops.*_ops``, the recurrent
cells in ``rillet.nn.rnn_cell`` and the RNN drivers in ``rillet.nn.rnn``)."""

from rillet.nn import rnn_cell
from rillet.nn.rnn import (
    bidirectional_dynamic_rnn,
    dynamic_rnn,
    static_bidirectional_rnn,
    static_rnn,
)
from rillet.ops.compat_ops import top_k, zero_fraction
from rillet.ops.conv_ops import (
    conv1d,
    conv2d,
    conv2d_backprop_filter,
    conv2d_backprop_input,
    conv2d_transpose,
    depthwise_conv2d,
    depthwise_conv2d_native,
    separable_conv2d,
)
from rillet.ops.loss_ops import (
    compute_accidental_hits,
    log_uniform_candidate_sampler,
    nce_loss,
    sampled_softmax_loss,
    uniform_candidate_sampler,
)
from rillet.ops.math_ops import moments, sigmoid, tanh
from rillet.ops.nn_ops import (
    bias_add,
    dropout,
    elu,
    embedding_lookup,
    gelu,
    in_top_k,
    l2_loss,
    l2_normalize,
    leaky_relu,
    log_softmax,
    relu,
    relu6,
    selu,
    sigmoid_cross_entropy_with_logits,
    silu,
    softmax,
    softmax_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits_v2,
    softplus,
    softsign,
    sparse_softmax_cross_entropy_with_logits,
    swish,
    weighted_cross_entropy_with_logits,
    xw_plus_b,
)
from rillet.ops.norm_ops import (
    batch_normalization,
    fused_batch_norm,
    local_response_normalization,
    lrn,
)
from rillet.ops.pool_ops import avg_pool, avg_pool2d, max_pool, max_pool2d, max_pool_grad

__all__ = [
    "avg_pool", "avg_pool2d", "batch_normalization", "bias_add", "bidirectional_dynamic_rnn",
    "compute_accidental_hits", "conv1d", "conv2d", "conv2d_backprop_filter",
    "conv2d_backprop_input", "conv2d_transpose", "depthwise_conv2d", "depthwise_conv2d_native",
    "dropout", "dynamic_rnn", "elu", "embedding_lookup", "fused_batch_norm", "gelu", "in_top_k",
    "l2_loss", "l2_normalize", "leaky_relu", "local_response_normalization", "log_softmax",
    "log_uniform_candidate_sampler", "lrn", "max_pool", "max_pool2d", "max_pool_grad",
    "moments", "nce_loss", "relu", "relu6", "rnn_cell", "sampled_softmax_loss", "selu",
    "separable_conv2d", "sigmoid", "sigmoid_cross_entropy_with_logits", "silu", "softmax",
    "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2", "softplus",
    "softsign", "sparse_softmax_cross_entropy_with_logits", "static_bidirectional_rnn",
    "static_rnn", "swish", "tanh", "top_k", "uniform_candidate_sampler",
    "weighted_cross_entropy_with_logits", "xw_plus_b", "zero_fraction",
]

"""``tf.contrib``: the TF 1.x contrib names tutorials use, mapped onto rillet's own modules."""

from __future__ import annotations

import types
from typing import Any

from rillet import init_ops
from rillet.nn import rnn as _rnn
from rillet.nn import rnn_cell as _cells


def _namespace(name: str, doc: str, **members: Any) -> types.SimpleNamespace:
    ns = types.SimpleNamespace(**members)
    ns.__name__ = f"rillet.contrib.{name}"
    ns.__doc__ = doc
    return ns


rnn = _namespace(
    "rnn", "``tf.contrib.rnn``: recurrent cells and drivers (see ``rillet.nn.rnn_cell``).",
    **{k: getattr(_cells, k) for k in dir(_cells) if k[:1].isupper()},
    static_rnn=_rnn.static_rnn, static_bidirectional_rnn=_rnn.static_bidirectional_rnn,
    dynamic_rnn=_rnn.dynamic_rnn,
)


def _flatten(inputs: Any, outputs_collections: Any = None, scope: Any = None) -> Any:
    from rillet.layers import flatten
    return flatten(inputs, name=scope)


def _fully_connected(inputs: Any, num_outputs: int, activation_fn: Any = "relu",
                     weights_initializer: Any = None, biases_initializer: Any = None,
                     scope: Any = None, **kwargs: Any) -> Any:
    from rillet import nn
    from rillet.layers import dense
    act = nn.relu if activation_fn == "relu" else activation_fn
    return dense(inputs, num_outputs, activation=act, kernel_initializer=weights_initializer,
                 name=scope)


layers = _namespace(
    "layers", "``tf.contrib.layers``: flatten, fully_connected and initializers.",
    flatten=_flatten, fully_connected=_fully_connected,
    xavier_initializer=lambda uniform=True, seed=None, dtype=None: (
        init_ops.GlorotUniform(seed) if uniform else init_ops.GlorotNormal(seed)),
    variance_scaling_initializer=init_ops.VarianceScaling,
    l2_regularizer=lambda scale, scope=None: (lambda w: _l2(w, scale)),
)


def _l2(w: Any, scale: float) -> Any:
    from rillet import nn
    return scale * nn.l2_loss(w)


def __getattr__(name: str) -> Any:
    if name == "eager":
        from rillet.eager import contrib as eager_contrib
        return eager_contrib
    raise AttributeError(f"rillet.contrib has no attribute {name!r}")

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


_DEFAULT = object()


def _add_to_collections(collections: Any, name: str, value: Any) -> None:
    """contrib's ``variables_collections`` / ``outputs_collections``: a list, or a dict keyed by
    ``'weights'``, ``'biases'``, ... (TF's ``_add_variable_to_collections``)."""
    from rillet.graph import add_to_collections
    if collections is None:
        return
    if isinstance(collections, dict):
        collections = collections.get(name)
        if collections is None:
            return
    if isinstance(collections, str):
        collections = [collections]
    add_to_collections(list(collections), value)


def _model_variable(name: str, shape: list, dtype: Any, initializer: Any, regularizer: Any,
                    trainable: bool, collections: Any, kind: str) -> Any:
    """``get_variable`` in the current scope, also in ``MODEL_VARIABLES`` (contrib's
    ``model_variable``) and in the caller's ``variables_collections``."""
    from rillet.graph import GraphKeys, get_default_graph
    from rillet.variables import get_variable
    v = get_variable(name, shape, dtype, initializer=initializer, regularizer=regularizer,
                     trainable=trainable)
    g = get_default_graph()
    if v not in g.get_collection(GraphKeys.MODEL_VARIABLES):
        g.add_to_collection(GraphKeys.MODEL_VARIABLES, v)
    _add_to_collections(collections, kind, v)
    return v


def _fully_connected(inputs: Any, num_outputs: int, activation_fn: Any = _DEFAULT,
                     normalizer_fn: Any = None, normalizer_params: Any = None,
                     weights_initializer: Any = None, weights_regularizer: Any = None,
                     biases_initializer: Any = _DEFAULT, biases_regularizer: Any = None,
                     reuse: Any = None, variables_collections: Any = None,
                     outputs_collections: Any = None, trainable: bool = True,
                     scope: Any = None) -> Any:
    """``tf.contrib.layers.fully_connected``: ``activation_fn(normalizer_fn(x @ weights +
    biases))`` with TF's variable names ``<scope>/weights`` and ``<scope>/biases`` (scope
    ``fully_connected``, ``fully_connected_1``, ... by default). ReLU and Xavier (Glorot
    uniform) weights by default; no biases when ``normalizer_fn`` is given or
    ``biases_initializer=None``."""
    from rillet import nn
    from rillet.ops import array_ops, math_ops
    from rillet.registry import convert_to_tensor
    from rillet.variables import variable_scope
    if not isinstance(num_outputs, int):
        raise ValueError(f"num_outputs type should be one of (int, long), got "
                         f"{type(num_outputs)}.")
    act = nn.relu if activation_fn is _DEFAULT else activation_fn
    if biases_initializer is _DEFAULT:
        biases_initializer = init_ops.zeros_initializer()
    with variable_scope(scope, default_name="fully_connected", reuse=reuse):
        x = convert_to_tensor(inputs)
        n_in = x.shape[-1] if x.shape.ndims else None
        if n_in is None:
            raise ValueError("The last dimension of the inputs to `Dense` should be defined. "
                             "Found `None`.")
        w = _model_variable("weights", [int(n_in), num_outputs], x.dtype,
                            weights_initializer or init_ops.GlorotUniform(),
                            weights_regularizer, trainable, variables_collections, "weights")
        if x.shape.ndims > 2:
            out = math_ops.matmul(array_ops.reshape(x, [-1, int(n_in)]), w)
            out = array_ops.reshape(out, array_ops.concat(
                [array_ops.shape(x)[:-1], [num_outputs]], 0))
            out.set_shape(x.shape.as_list()[:-1] + [num_outputs])
        else:
            out = math_ops.matmul(x, w)
        if normalizer_fn is None and biases_initializer is not None:
            b = _model_variable("biases", [num_outputs], x.dtype, biases_initializer,
                                biases_regularizer, trainable, variables_collections, "biases")
            out = nn.bias_add(out, b)
        if normalizer_fn is not None:
            out = normalizer_fn(out, **(normalizer_params or {}))
        if act is not None:
            out = act(out)
        _add_to_collections(outputs_collections, "outputs", out)
        return out


def _batch_norm(inputs: Any, decay: float = 0.999, center: bool = True, scale: bool = False,
                epsilon: float = 0.001, activation_fn: Any = None,
                param_initializers: Any = None, param_regularizers: Any = None,
                updates_collections: Any = _DEFAULT, is_training: Any = True,
                reuse: Any = None, variables_collections: Any = None,
                outputs_collections: Any = None, trainable: bool = True,
                batch_weights: Any = None, fused: Any = None, data_format: str = "NHWC",
                zero_debias_moving_mean: bool = False, scope: Any = None,
                renorm: bool = False, renorm_clipping: Any = None, renorm_decay: float = 0.99,
                adjustment: Any = None) -> Any:
    """``tf.contrib.layers.batch_norm``: ``tf.layers.batch_normalization`` with contrib's
    names and defaults (``decay=0.999``, ``scale=False``, ``epsilon=0.001``,
    ``is_training=True``), variables ``BatchNorm/beta``, ``BatchNorm/gamma`` (with
    ``scale=True``), ``BatchNorm/moving_mean``, ``BatchNorm/moving_variance``. The moving-average
    updates go to ``updates_collections`` (``UPDATE_OPS``); with ``updates_collections=None``
    they run with the output (in place)."""
    from rillet.graph import GraphKeys, get_default_graph
    from rillet.layers import BatchNormalization
    from rillet.ops import array_ops
    from rillet.ops.control_flow_ops import group
    from rillet.registry import convert_to_tensor
    from rillet.variables import VariableScope, variable_scope
    for k, v in (("batch_weights", batch_weights), ("renorm", renorm),
                 ("renorm_clipping", renorm_clipping), ("adjustment", adjustment),
                 ("zero_debias_moving_mean", zero_debias_moving_mean)):
        if v:
            raise NotImplementedError(f"contrib.layers.batch_norm({k}=...) is not supported "
                                      "by rillet")
    if updates_collections is _DEFAULT:
        updates_collections = GraphKeys.UPDATE_OPS
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError("data_format has to be either NCHW or NHWC.")
    x = convert_to_tensor(inputs)
    if x.shape.ndims is None:
        raise ValueError(f"Inputs {x.name} has undefined rank.")
    axis = 1 if data_format == "NCHW" and x.shape.ndims > 2 else -1
    inits = dict(param_initializers or {})
    regs = dict(param_regularizers or {})
    if isinstance(scope, VariableScope):
        raise NotImplementedError("contrib.layers.batch_norm(scope=<VariableScope>): pass the "
                                  "scope's name")
    # The scope name (``BatchNorm``, ``BatchNorm_1``, ...) without opening a name scope; the
    # layer then opens the variable scope (and name scope) of that name itself.
    with variable_scope(scope, default_name="BatchNorm", reuse=reuse,
                        auxiliary_name_scope=False) as sc:
        layer_name = sc.name.rsplit("/", 1)[-1]
    layer = BatchNormalization(
        axis=axis, momentum=decay, epsilon=epsilon, center=center, scale=scale,
        beta_initializer=inits.get("beta"), gamma_initializer=inits.get("gamma"),
        moving_mean_initializer=inits.get("moving_mean"),
        moving_variance_initializer=inits.get("moving_variance"),
        beta_regularizer=regs.get("beta"), gamma_regularizer=regs.get("gamma"),
        trainable=trainable, name=layer_name, _reuse=reuse)
    out = layer.apply(x, training=is_training)
    g = get_default_graph()
    for kind in ("beta", "gamma", "moving_mean", "moving_variance"):
        v = getattr(layer, kind, None)
        if v is not None and not context_eager():
            if v not in g.get_collection(GraphKeys.MODEL_VARIABLES):
                g.add_to_collection(GraphKeys.MODEL_VARIABLES, v)
            _add_to_collections(variables_collections, kind, v)
    updates = list(layer.updates) if not context_eager() else []
    if updates and updates_collections != GraphKeys.UPDATE_OPS:
        ref = g.get_collection_ref(GraphKeys.UPDATE_OPS)
        ids = {id(u) for u in updates}
        ref[:] = [u for u in ref if id(u) not in ids]
        if updates_collections is None:
            with g.control_dependencies([group(*updates)]):
                out = array_ops.identity(out)
        else:
            for u in updates:
                _add_to_collections(updates_collections, "updates", u)
    if activation_fn is not None:
        out = activation_fn(out)
    _add_to_collections(outputs_collections, "outputs", out)
    return out


def context_eager() -> bool:
    from rillet import context
    return context.executing_eagerly()


def _l2_regularizer(scale: float, scope: Any = None) -> Any:
    """``tf.contrib.layers.l2_regularizer(scale)``: ``w -> scale * tf.nn.l2_loss(w)`` (named
    ``l2_regularizer``); ``scale=0`` gives a regularizer returning None."""
    import numbers
    if isinstance(scale, numbers.Integral) and not isinstance(scale, bool):
        raise ValueError(f"scale cannot be an integer: {scale}")
    if isinstance(scale, numbers.Real):
        if scale < 0.0:
            raise ValueError(f"Setting a scale less than 0 on a regularizer: {scale}")
        if scale == 0.0:
            return lambda _: None

    def l2(weights: Any) -> Any:
        from rillet import nn
        from rillet.graph import get_default_graph
        from rillet.ops import math_ops
        from rillet.registry import convert_to_tensor
        with get_default_graph().name_scope(scope or "l2_regularizer"):
            s = convert_to_tensor(scale, dtype=weights.dtype.base_dtype
                                  if hasattr(weights.dtype, "base_dtype") else weights.dtype,
                                  name="scale")
            return math_ops.multiply(s, nn.l2_loss(weights), name="value")
    return l2


def _l1_regularizer(scale: float, scope: Any = None) -> Any:
    """``tf.contrib.layers.l1_regularizer(scale)``: ``w -> scale * sum(|w|)``."""
    import numbers
    if isinstance(scale, numbers.Integral) and not isinstance(scale, bool):
        raise ValueError(f"scale cannot be an integer: {scale}")
    if isinstance(scale, numbers.Real):
        if scale < 0.0:
            raise ValueError(f"Setting a scale less than 0 on a regularizer: {scale}")
        if scale == 0.0:
            return lambda _: None

    def l1(weights: Any) -> Any:
        from rillet.graph import get_default_graph
        from rillet.ops import math_ops
        from rillet.registry import convert_to_tensor
        with get_default_graph().name_scope(scope or "l1_regularizer"):
            s = convert_to_tensor(scale, dtype=weights.dtype, name="scale")
            return math_ops.multiply(s, math_ops.reduce_sum(math_ops.abs(weights)),
                                     name="value")
    return l1


def _apply_regularization(regularizer: Any, weights_list: Any = None) -> Any:
    """The sum of ``regularizer(w)`` over ``weights_list`` (default: the ``WEIGHTS``
    collection), also added to ``REGULARIZATION_LOSSES``."""
    from rillet.graph import GraphKeys, get_collection, get_default_graph
    from rillet.ops import math_ops
    if weights_list is None:
        weights_list = get_collection(GraphKeys.WEIGHTS)
    if not weights_list:
        raise ValueError("No weights to regularize.")
    g = get_default_graph()
    with g.name_scope("get_regularization_penalty"):
        penalties = [p for p in (regularizer(w) for w in weights_list) if p is not None]
        total = math_ops.add_n(penalties) if penalties else 0.0
    g.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, total)
    return total


layers = _namespace(
    "layers", "``tf.contrib.layers``: flatten, fully_connected, batch_norm, regularizers and "
    "initializers.",
    flatten=_flatten, fully_connected=_fully_connected, batch_norm=_batch_norm,
    xavier_initializer=lambda uniform=True, seed=None, dtype=None: (
        init_ops.GlorotUniform(seed) if uniform else init_ops.GlorotNormal(seed)),
    xavier_initializer_conv2d=lambda uniform=True, seed=None, dtype=None: (
        init_ops.GlorotUniform(seed) if uniform else init_ops.GlorotNormal(seed)),
    variance_scaling_initializer=init_ops.VarianceScaling,
    l2_regularizer=_l2_regularizer, l1_regularizer=_l1_regularizer,
    apply_regularization=_apply_regularization,
)


# --- tf.contrib.eager.metrics ---------------------------------------------------------------
class _TfeMetric:
    """Base of ``tfe.metrics``: a running (weighted) mean of per-example values.

    Eagerly, calling the metric accumulates at once and returns its inputs (for chaining);
    ``result()`` is an EagerTensor (float64 by default). In a graph, calling it returns an op
    that adds the batch to two local variables (``<name>/total``, ``<name>/count``);
    ``result()`` is a tensor and ``init_variables()`` the initializer to run first.
    """

    def __init__(self, name: str | None = None, dtype: Any = None):
        from rillet import dtypes
        from rillet.keras.engine.base_layer import snake_case
        self._name = name or snake_case(type(self).__name__)
        self._dtype = dtypes.float64 if dtype is None else dtypes.as_dtype(dtype)
        self._total = 0.0
        self._count = 0.0
        self._vars: tuple | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def variables(self) -> list:
        return list(self._vars or ())

    def _values(self, *args: Any) -> Any:
        raise NotImplementedError

    def _update(self, values: Any, weights: Any) -> Any:
        import numpy as np

        from rillet import context
        from rillet.ops import math_ops
        from rillet.registry import convert_to_tensor
        if context.executing_eagerly():
            v = np.asarray(values, dtype=np.float64)
            w = np.ones_like(v) if weights is None else \
                np.broadcast_to(np.asarray(weights, dtype=np.float64), v.shape)
            self._total += float((v * w).sum())
            self._count += float(w.sum())
            return None
        total, count = self._variables()
        v = math_ops.cast(convert_to_tensor(values), self._dtype)
        w = math_ops.ones_like(v) if weights is None else \
            math_ops.cast(convert_to_tensor(weights), self._dtype) * math_ops.ones_like(v)
        from rillet.ops.control_flow_ops import group
        from rillet.variables import assign_add
        return group(assign_add(total, math_ops.reduce_sum(v * w)),
                     assign_add(count, math_ops.reduce_sum(w)))

    def _variables(self) -> tuple:
        if self._vars is None:
            from rillet.metrics.streaming import metric_variable
            self._vars = (metric_variable([], self._dtype, name=f"{self._name}/total"),
                          metric_variable([], self._dtype, name=f"{self._name}/count"))
        return self._vars

    def result(self, write_summary: bool = True) -> Any:
        """The mean so far (0 before any update)."""
        import numpy as np

        from rillet import context
        from rillet.ops import math_ops
        from rillet.registry import convert_to_tensor
        if context.executing_eagerly():
            r = self._total / self._count if self._count else 0.0
            return convert_to_tensor(np.asarray(r, dtype=self._dtype.np))
        total, count = self._variables()
        return math_ops.div_no_nan(total.read_value(), count.read_value())

    value = result

    def init_variables(self) -> Any:
        """The initializer of the metric's variables (graph mode; None when eager)."""
        from rillet import context
        from rillet.variables import variables_initializer
        if context.executing_eagerly():
            return None
        return variables_initializer(list(self._variables()))

    def reset_states(self) -> Any:
        self._total = self._count = 0.0
        return self.init_variables()


class _TfeMean(_TfeMetric):
    """``tfe.metrics.Mean``: ``m(values, weights=None)`` adds values; ``m.result()``."""

    def __call__(self, values: Any, weights: Any = None) -> Any:
        op = self._update(values, weights)
        return values if op is None else op


class _TfeAccuracy(_TfeMetric):
    """``tfe.metrics.Accuracy``: the fraction of ``labels == predictions``."""

    def _matches(self, labels: Any, predictions: Any) -> Any:
        from rillet.ops import math_ops
        from rillet.registry import convert_to_tensor
        labels = convert_to_tensor(labels)
        predictions = convert_to_tensor(predictions)
        if labels.dtype is not predictions.dtype:
            predictions = math_ops.cast(predictions, labels.dtype)
        return math_ops.equal(labels, predictions)

    def __call__(self, labels: Any, predictions: Any, weights: Any = None) -> Any:
        from rillet.ops import math_ops
        m = math_ops.cast(self._matches(labels, predictions), self._dtype)
        op = self._update(m, weights)
        return (labels, predictions) if op is None else op


class _TfeCategoricalAccuracy(_TfeAccuracy):
    """``tfe.metrics.CategoricalAccuracy``: argmax of one-hot labels vs argmax of scores."""

    def _matches(self, labels: Any, predictions: Any) -> Any:
        from rillet.ops import math_ops
        return math_ops.equal(math_ops.argmax(labels, -1), math_ops.argmax(predictions, -1))


class _TfeSparseAccuracy(_TfeAccuracy):
    """``tfe.metrics.SparseAccuracy``: integer labels vs argmax of scores."""

    def _matches(self, labels: Any, predictions: Any) -> Any:
        from rillet import dtypes
        from rillet.ops import math_ops
        from rillet.registry import convert_to_tensor
        labels = math_ops.cast(convert_to_tensor(labels), dtypes.int64)
        return math_ops.equal(labels, math_ops.argmax(predictions, -1, output_type=dtypes.int64))


class _TfeBinaryAccuracy(_TfeAccuracy):
    """``tfe.metrics.BinaryAccuracy(threshold=0.5)``: 0/1 labels vs ``predictions >
    threshold``."""

    def __init__(self, threshold: float = 0.5, name: str | None = None, dtype: Any = None):
        super().__init__(name, dtype)
        self.threshold = threshold

    def _matches(self, labels: Any, predictions: Any) -> Any:
        from rillet import dtypes
        from rillet.ops import math_ops
        from rillet.registry import convert_to_tensor
        labels = math_ops.cast(convert_to_tensor(labels), dtypes.bool_)
        return math_ops.equal(labels, math_ops.greater(convert_to_tensor(predictions),
                                                       self.threshold))


_eager_metrics = _namespace(
    "eager.metrics", "``tf.contrib.eager.metrics`` (``tfe.metrics``): running metrics.",
    Metric=_TfeMetric, Mean=_TfeMean, Accuracy=_TfeAccuracy,
    CategoricalAccuracy=_TfeCategoricalAccuracy, SparseAccuracy=_TfeSparseAccuracy,
    BinaryAccuracy=_TfeBinaryAccuracy,
)
for _cls, _n in ((_TfeMetric, "Metric"), (_TfeMean, "Mean"), (_TfeAccuracy, "Accuracy"),
                 (_TfeCategoricalAccuracy, "CategoricalAccuracy"),
                 (_TfeSparseAccuracy, "SparseAccuracy"), (_TfeBinaryAccuracy, "BinaryAccuracy")):
    _cls.__name__ = _cls.__qualname__ = _n


def __getattr__(name: str) -> Any:
    if name == "eager":
        from rillet.eager import contrib as eager_contrib
        if not hasattr(eager_contrib, "metrics"):
            eager_contrib.metrics = _eager_metrics
        return eager_contrib
    raise AttributeError(f"rillet.contrib has no attribute {name!r}")

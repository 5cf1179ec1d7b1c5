"""Keras losses: per-sample functions (``y_true, y_pred -> [batch]``) and ``Loss`` objects that
average them over the batch. Built on ``rillet.nn``; cross-entropies on probabilities go through
the logits when ``y_pred`` is a graph ``Softmax``/``Sigmoid`` output (numerically stable)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import rillet as rt
from rillet.graph import Tensor
from rillet.keras import backend


def _float(y_true: Any, y_pred: Any) -> Any:
    y_true = rt.convert_to_tensor(y_true)
    return y_true if y_true.dtype is y_pred.dtype else rt.cast(y_true, y_pred.dtype)


def _logits_of(y_pred: Any, op_type: str) -> Any:
    """The logits behind a graph ``Softmax``/``Sigmoid`` output, else None."""
    if isinstance(y_pred, Tensor) and y_pred.op.type == op_type:
        return y_pred.op.inputs[0]
    return None


def _clip(p: Any) -> Any:
    eps = backend.epsilon()
    return rt.clip_by_value(p, eps, 1.0 - eps)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    axis: int = -1) -> Any:
    """Cross-entropy with integer labels ``y_true`` ([batch] or [batch, 1])."""
    y_pred = rt.convert_to_tensor(y_pred)
    labels = rt.convert_to_tensor(y_true)
    if labels.shape.ndims is not None and labels.shape.ndims == y_pred.shape.ndims:
        labels = rt.reshape(labels, [-1]) if labels.shape.ndims == 2 else labels
    if not labels.dtype.is_integer:
        labels = rt.cast(labels, rt.int64)
    logits = y_pred if from_logits else _logits_of(y_pred, "Softmax")
    if logits is None:
        logits = rt.log(_clip(y_pred))
    return rt.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> Any:
    """Cross-entropy with one-hot (or soft) labels."""
    y_pred = rt.convert_to_tensor(y_pred)
    y_true = _float(y_true, y_pred)
    if label_smoothing:
        n = y_pred.shape.as_list()[-1]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / n
    logits = y_pred if from_logits else _logits_of(y_pred, "Softmax")
    if logits is not None:
        return rt.nn.softmax_cross_entropy_with_logits_v2(labels=y_true, logits=logits)
    p = y_pred / rt.reduce_sum(y_pred, axis=axis, keepdims=True)
    return -rt.reduce_sum(y_true * rt.log(_clip(p)), axis=axis)


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> Any:
    """Mean over the last axis of the sigmoid cross-entropy."""
    y_pred = rt.convert_to_tensor(y_pred)
    y_true = _float(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    logits = y_pred if from_logits else _logits_of(y_pred, "Sigmoid")
    if logits is None:
        p = _clip(y_pred)
        logits = rt.log(p / (1.0 - p))
    ce = rt.nn.sigmoid_cross_entropy_with_logits(labels=y_true, logits=logits)
    return rt.reduce_mean(ce, axis=axis)


def mean_squared_error(y_true: Any, y_pred: Any) -> Any:
    y_pred = rt.convert_to_tensor(y_pred)
    return rt.reduce_mean(rt.squared_difference(y_pred, _float(y_true, y_pred)), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Any:
    y_pred = rt.convert_to_tensor(y_pred)
    return rt.reduce_mean(rt.abs(y_pred - _float(y_true, y_pred)), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Any:
    y_pred = rt.convert_to_tensor(y_pred)
    y_true = _float(y_true, y_pred)
    diff = rt.abs((y_true - y_pred) / rt.maximum(rt.abs(y_true), backend.epsilon()))
    return 100.0 * rt.reduce_mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Any:
    y_pred = rt.convert_to_tensor(y_pred)
    y_true = _float(y_true, y_pred)
    a = rt.log(rt.maximum(y_pred, backend.epsilon()) + 1.0)
    b = rt.log(rt.maximum(y_true, backend.epsilon()) + 1.0)
    return rt.reduce_mean(rt.squared_difference(a, b), axis=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Any:
    y_pred = rt.convert_to_tensor(y_pred)
    err = rt.abs(y_pred - _float(y_true, y_pred))
    quad = rt.minimum(err, delta)
    return rt.reduce_mean(0.5 * rt.square(quad) + delta * (err - quad), axis=-1)


def hinge(y_true: Any, y_pred: Any) -> Any:
    y_pred = rt.convert_to_tensor(y_pred)
    return rt.reduce_mean(rt.maximum(1.0 - _float(y_true, y_pred) * y_pred, 0.0), axis=-1)


def kl_divergence(y_true: Any, y_pred: Any) -> Any:
    y_pred = rt.convert_to_tensor(y_pred)
    y_true = _clip(_float(y_true, y_pred))
    return rt.reduce_sum(y_true * rt.log(y_true / _clip(y_pred)), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> Any:
    y_pred = rt.convert_to_tensor(y_pred)
    y_true = _float(y_true, y_pred)
    return rt.reduce_mean(y_pred - y_true * rt.log(y_pred + backend.epsilon()), axis=-1)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence


class Loss:
    """A loss object: ``loss(y_true, y_pred, sample_weight=None)`` -> mean over the batch."""

    fn: Callable = staticmethod(mean_squared_error)
    default_name = "loss"

    def __init__(self, reduction: str = "auto", name: str | None = None, **kwargs: Any):
        self.reduction = reduction
        self.name = name or self.default_name
        self._fn_kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return type(self).fn(y_true, y_pred, **self._fn_kwargs)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        per_sample = self.call(y_true, y_pred)
        if sample_weight is not None:
            sw = rt.cast(rt.convert_to_tensor(sample_weight), per_sample.dtype)
            extra = [1] * max(0, (per_sample.shape.ndims or 1) - 1)
            per_sample = per_sample * rt.reshape(sw, [-1, *extra])
        if self.reduction == "none":
            return per_sample
        if self.reduction == "sum":
            return rt.reduce_sum(per_sample)
        return rt.reduce_mean(per_sample)

    def get_config(self) -> dict:
        return {"reduction": self.reduction, "name": self.name, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)


def _loss_class(name: str, fn: Callable, default: str, **defaults: Any) -> type[Loss]:
    def __init__(self: Loss, reduction: str = "auto", name: str | None = None,
                 **kwargs: Any) -> None:
        Loss.__init__(self, reduction, name, **{**defaults, **kwargs})

    return type(name, (Loss,), {"fn": staticmethod(fn), "default_name": default,
                                "__init__": __init__, "__doc__": fn.__doc__})


SparseCategoricalCrossentropy = _loss_class(
    "SparseCategoricalCrossentropy", sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy", from_logits=False)
CategoricalCrossentropy = _loss_class("CategoricalCrossentropy", categorical_crossentropy,
                                      "categorical_crossentropy", from_logits=False)
BinaryCrossentropy = _loss_class("BinaryCrossentropy", binary_crossentropy,
                                 "binary_crossentropy", from_logits=False)
MeanSquaredError = _loss_class("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _loss_class("MeanAbsoluteError", mean_absolute_error,
                                "mean_absolute_error")
MeanAbsolutePercentageError = _loss_class(
    "MeanAbsolutePercentageError", mean_absolute_percentage_error,
    "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _loss_class(
    "MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error")
Huber = _loss_class("Huber", huber, "huber_loss", delta=1.0)
Hinge = _loss_class("Hinge", hinge, "hinge")
KLDivergence = _loss_class("KLDivergence", kl_divergence, "kl_divergence")
Poisson = _loss_class("Poisson", poisson, "poisson")

_BY_NAME: dict[str, Callable] = {
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error,
    "mape": mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error,
    "msle": mean_squared_logarithmic_error,
    "huber": huber, "huber_loss": huber, "hinge": hinge, "kl_divergence": kl_divergence,
    "kld": kl_divergence, "kullback_leibler_divergence": kl_divergence, "poisson": poisson,
}
_CLASSES = {c.__name__: c for c in (
    SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, Huber, Hinge, KLDivergence, Poisson)}


def get(identifier: Any) -> Callable:
    """A loss function or object from a name (``"mse"``), a config dict or a callable."""
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier)
        if fn is None:
            raise ValueError(f"Unknown loss function: {identifier}. Please ensure this object "
                             "is passed to the `custom_objects` argument.")
        return fn
    if isinstance(identifier, dict):
        cls = _CLASSES.get(identifier.get("class_name", ""))
        if cls is None:
            raise ValueError(f"Unknown loss function: {identifier.get('class_name')}")
        return cls(**identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss function identifier: {identifier!r}")


def serialize(loss: Any) -> Any:
    if isinstance(loss, Loss):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    return getattr(loss, "__name__", repr(loss))


def name_of(loss: Any) -> str:
    """The canonical name of a loss function or object (used to pick 'accuracy')."""
    if isinstance(loss, Loss):
        return type(loss).default_name
    if isinstance(loss, str):
        loss = get(loss)
    return getattr(loss, "__name__", "loss")

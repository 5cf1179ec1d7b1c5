"""``rt.losses``: TF 1.x ``tf.losses`` loss functions with weights and reductions.

Every loss multiplies the per-element losses by ``weights`` (a scalar or a tensor whose dims are
1 or equal to the losses'), reduces them by ``reduction`` (default
``Reduction.SUM_BY_NONZERO_WEIGHTS``: the weighted sum divided by the number of non-zero
weights) and adds the result to the ``LOSSES`` collection.

Difference from TF 1.x: TF casts losses to float32 before weighting; rillet keeps float64 losses
in float64 (float16 is still computed in float32).
"""

from __future__ import annotations

from typing import Any

from rillet import dtypes as _dt
from rillet.graph import GraphKeys, get_default_graph
from rillet.ops import math_ops, nn_ops
from rillet.ops.array_ops import size, stop_gradient
from rillet.registry import convert_to_tensor

__all__ = [
    "Reduction", "absolute_difference", "add_loss", "compute_weighted_loss", "cosine_distance",
    "get_losses", "get_regularization_loss", "get_regularization_losses", "get_total_loss",
    "hinge_loss", "huber_loss", "log_loss", "mean_squared_error", "sigmoid_cross_entropy",
    "softmax_cross_entropy", "sparse_softmax_cross_entropy",
]


class Reduction:
    """How a weighted loss tensor is reduced to the returned loss."""

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple:
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE,
                cls.SUM_OVER_NONZERO_WEIGHTS, cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key: str) -> None:
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}.")


def _scope(scope: str | None, default: str) -> Any:
    return get_default_graph().name_scope(scope or default)


def _check_weights(weights: Any, losses: Any) -> None:
    ws, ls = weights.shape, losses.shape
    if ws.ndims is None or ls.ndims is None or ws.ndims == 0:
        return
    ok = ws.ndims == ls.ndims and all(
        w is None or l is None or w == 1 or w == l for w, l in zip(ws.as_list(), ls.as_list()))
    if not ok:
        raise ValueError(f"weights can not be broadcast to values. values.rank={ls.ndims}. "
                         f"weights.rank={ws.ndims}. values.shape={ls}. weights.shape={ws}.")


def add_loss(loss: Any, loss_collection: Any = GraphKeys.LOSSES) -> None:
    """Adds ``loss`` to the ``loss_collection`` (nothing when the collection is None)."""
    if loss_collection:
        get_default_graph().add_to_collection(loss_collection, loss)


def compute_weighted_loss(losses: Any, weights: Any = 1.0, scope: str | None = None,
                          loss_collection: Any = GraphKeys.LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Any:
    """losses * weights reduced by ``reduction``; the result is added to ``loss_collection``."""
    Reduction.validate(reduction)
    with _scope(scope, "weighted_loss"):
        losses = convert_to_tensor(losses)
        in_dt = losses.dtype
        dt = _dt.float64 if in_dt is _dt.float64 else _dt.float32
        losses = math_ops.cast(losses, dt)
        scalar_weight = isinstance(weights, int | float)
        w = math_ops.cast(convert_to_tensor(weights, dtype_hint=dt), dt)
        _check_weights(w, losses)
        weighted = math_ops.multiply(losses, w)
        if reduction == Reduction.NONE:
            loss = weighted
        else:
            loss = math_ops.reduce_sum(weighted)
            if reduction == Reduction.MEAN:
                total_weight = math_ops.reduce_sum(math_ops.ones_like(losses) * w)
                loss = math_ops.div_no_nan(loss, total_weight)
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                if scalar_weight and weights != 0:
                    present = math_ops.cast(size(losses), dt)
                else:
                    nz = math_ops.cast(math_ops.not_equal(w, 0), dt)
                    present = math_ops.reduce_sum(math_ops.ones_like(losses) * nz,
                                                  name="num_present")
                loss = math_ops.div_no_nan(loss, present)
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                loss = math_ops.div_no_nan(loss, math_ops.cast(size(losses), dt))
        loss = math_ops.cast(loss, in_dt)
        add_loss(loss, loss_collection)
        return loss


def _pair(labels: Any, predictions: Any, what: str = "predictions") -> tuple:
    p = convert_to_tensor(predictions)
    lab = convert_to_tensor(labels, dtype_hint=p.dtype)
    if lab.dtype is not p.dtype:
        lab = math_ops.cast(lab, p.dtype)
    if not p.shape.is_compatible_with(lab.shape):
        raise ValueError(f"Shapes {p.shape} and {lab.shape} are incompatible ({what} and "
                         "labels)")
    return lab, p


def _required(labels: Any, other: Any, what: str) -> None:
    if labels is None:
        raise ValueError("labels must not be None.")
    if other is None:
        raise ValueError(f"{what} must not be None.")


def absolute_difference(labels: Any, predictions: Any, weights: Any = 1.0,
                        scope: str | None = None, loss_collection: Any = GraphKeys.LOSSES,
                        reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Any:
    """|predictions - labels|, weighted and reduced."""
    _required(labels, predictions, "predictions")
    with _scope(scope, "absolute_difference"):
        lab, p = _pair(labels, predictions)
        return compute_weighted_loss(math_ops.abs(p - lab), weights, None, loss_collection,
                                     reduction)


def mean_squared_error(labels: Any, predictions: Any, weights: Any = 1.0,
                       scope: str | None = None, loss_collection: Any = GraphKeys.LOSSES,
                       reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Any:
    """(predictions - labels) ** 2, weighted and reduced."""
    _required(labels, predictions, "predictions")
    with _scope(scope, "mean_squared_error"):
        lab, p = _pair(labels, predictions)
        return compute_weighted_loss(math_ops.squared_difference(p, lab), weights, None,
                                     loss_collection, reduction)


def huber_loss(labels: Any, predictions: Any, weights: Any = 1.0, delta: float = 1.0,
               scope: str | None = None, loss_collection: Any = GraphKeys.LOSSES,
               reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Any:
    """0.5 e^2 for |e| <= delta, else delta (|e| - 0.5 delta), with e = predictions - labels."""
    _required(labels, predictions, "predictions")
    with _scope(scope, "huber_loss"):
        lab, p = _pair(labels, predictions)
        err = math_ops.abs(p - lab)
        quadratic = math_ops.minimum(err, delta)
        linear = err - quadratic
        losses = 0.5 * quadratic * quadratic + delta * linear
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


def log_loss(labels: Any, predictions: Any, weights: Any = 1.0, epsilon: float = 1e-7,
             scope: str | None = None, loss_collection: Any = GraphKeys.LOSSES,
             reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Any:
    """-labels log(p + eps) - (1 - labels) log(1 - p + eps) for probabilities p."""
    _required(labels, predictions, "predictions")
    with _scope(scope, "log_loss"):
        lab, p = _pair(labels, predictions)
        losses = -lab * math_ops.log(p + epsilon) - (1 - lab) * math_ops.log(1 - p + epsilon)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


def hinge_loss(labels: Any, logits: Any, weights: Any = 1.0, scope: str | None = None,
               loss_collection: Any = GraphKeys.LOSSES,
               reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Any:
    """relu(1 - (2 labels - 1) logits) for labels in {0, 1}."""
    _required(labels, logits, "logits")
    with _scope(scope, "hinge_loss"):
        lab, x = _pair(labels, logits, "logits")
        losses = nn_ops.relu(1 - (2 * lab - 1) * x)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


def cosine_distance(labels: Any, predictions: Any, axis: int | None = None,
                    weights: Any = 1.0, scope: str | None = None,
                    loss_collection: Any = GraphKeys.LOSSES,
                    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS,
                    dim: int | None = None) -> Any:
    """1 - sum(labels * predictions, axis) for unit-normalised inputs."""
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("You must specify 'axis'.")
    _required(labels, predictions, "predictions")
    with _scope(scope, "cosine_distance_loss"):
        lab, p = _pair(labels, predictions)
        losses = 1 - math_ops.reduce_sum(lab * p, axis, keepdims=True)
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


def softmax_cross_entropy(onehot_labels: Any, logits: Any, weights: Any = 1.0,
                          label_smoothing: float = 0, scope: str | None = None,
                          loss_collection: Any = GraphKeys.LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Any:
    """Softmax cross-entropy of logits [batch, C] against one-hot labels; with
    ``label_smoothing`` s the labels become labels (1 - s) + s / C. No gradient flows into the
    labels."""
    _required(onehot_labels, logits, "logits")
    with _scope(scope, "softmax_cross_entropy_loss"):
        lab, x = _pair(onehot_labels, logits, "logits")
        if label_smoothing > 0:
            c = lab.shape[-1] if lab.shape.ndims else None
            n = c if c is not None else math_ops.reduce_sum(math_ops.ones_like(lab), -1,
                                                            keepdims=True)
            lab = lab * (1 - label_smoothing) + label_smoothing / n
        lab = stop_gradient(lab, name="labels_stop_gradient")
        losses = nn_ops.softmax_cross_entropy_with_logits_v2(labels=lab, logits=x,
                                                             name="xentropy")
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


def sparse_softmax_cross_entropy(labels: Any, logits: Any, weights: Any = 1.0,
                                 scope: str | None = None,
                                 loss_collection: Any = GraphKeys.LOSSES,
                                 reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Any:
    """Softmax cross-entropy of logits [..., C] against integer labels [...]."""
    _required(labels, logits, "logits")
    with _scope(scope, "sparse_softmax_cross_entropy_loss"):
        losses = nn_ops.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                                 name="xentropy")
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


def sigmoid_cross_entropy(multi_class_labels: Any, logits: Any, weights: Any = 1.0,
                          label_smoothing: float = 0, scope: str | None = None,
                          loss_collection: Any = GraphKeys.LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Any:
    """Elementwise logistic loss; ``label_smoothing`` s maps labels to labels (1 - s) + s / 2."""
    _required(multi_class_labels, logits, "logits")
    with _scope(scope, "sigmoid_cross_entropy_loss"):
        lab, x = _pair(multi_class_labels, logits, "logits")
        if label_smoothing > 0:
            lab = lab * (1 - label_smoothing) + 0.5 * label_smoothing
        losses = nn_ops.sigmoid_cross_entropy_with_logits(labels=lab, logits=x,
                                                          name="xentropy")
        return compute_weighted_loss(losses, weights, None, loss_collection, reduction)


# --- collections ------------------------------------------------------------------------------


def get_losses(scope: str | None = None, loss_collection: Any = GraphKeys.LOSSES) -> list:
    """The losses in ``loss_collection`` (op names filtered by ``scope``)."""
    return get_default_graph().get_collection(loss_collection, scope)


def get_regularization_losses(scope: str | None = None) -> list:
    return get_default_graph().get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope: str | None = None,
                            name: str = "total_regularization_loss") -> Any:
    """The sum of the regularization losses (a 0.0 constant when there are none)."""
    losses = get_regularization_losses(scope)
    if losses:
        return math_ops.add_n(losses, name=name)
    return convert_to_tensor(0.0, name=name)


def get_total_loss(add_regularization_losses: bool = True, name: str = "total_loss",
                   scope: str | None = None) -> Any:
    """The sum of ``get_losses()`` and (by default) the regularization losses."""
    losses = get_losses(scope)
    if add_regularization_losses:
        losses = losses + get_regularization_losses(scope)
    return math_ops.add_n(losses, name=name)

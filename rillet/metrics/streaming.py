"""TF 1.x streaming metrics: each returns ``(value, update_op)``. The running totals are local
variables (``LOCAL_VARIABLES`` and ``METRIC_VARIABLES``): run ``local_variables_initializer()``
first, ``update_op`` once per batch, then read ``value``."""

from __future__ import annotations

from typing import Any

from rillet import dtypes as _dt
from rillet.graph import GraphKeys, get_default_graph
from rillet.ops import array_ops, math_ops
from rillet.registry import convert_to_tensor
from rillet.variables import Variable, assign_add, variable_scope


def metric_variable(shape: list, dtype: Any = _dt.float32, name: str | None = None) -> Variable:
    """A zero-initialised local variable holding a running total."""
    with get_default_graph().control_dependencies(None):
        return Variable(lambda: array_ops.zeros(shape, dtype), trainable=False,
                        collections=[GraphKeys.LOCAL_VARIABLES, GraphKeys.METRIC_VARIABLES],
                        name=name)


def _safe_div(num: Any, den: Any) -> Any:
    """``num / den``, 0 where ``den`` is 0 (counts are never negative)."""
    return num / math_ops.maximum(den, 1e-30)


def _collect(value: Any, update: Any, metrics_collections: Any,
             updates_collections: Any) -> tuple:
    g = get_default_graph()
    for name in metrics_collections or []:
        g.add_to_collection(name, value)
    for name in updates_collections or []:
        g.add_to_collection(name, update)
    return value, update


def _weighted(values: Any, weights: Any) -> tuple[Any, Any]:
    """(weighted values, number of values) as float32 tensors."""
    values = math_ops.cast(convert_to_tensor(values), _dt.float32)
    if weights is None:
        return values, math_ops.cast(array_ops.size(values), _dt.float32)
    w = math_ops.cast(convert_to_tensor(weights), _dt.float32) + math_ops.zeros_like(values)
    return values * w, math_ops.reduce_sum(w)


def mean(values: Any, weights: Any = None, metrics_collections: Any = None,
         updates_collections: Any = None, name: str | None = None) -> tuple:
    """The running (weighted) mean of ``values``."""
    with variable_scope(name, default_name="mean"):
        values, n = _weighted(values, weights)
        total = metric_variable([], _dt.float32, name="total")
        count = metric_variable([], _dt.float32, name="count")
        update_total = assign_add(total, math_ops.reduce_sum(values))
        update_count = assign_add(count, n)
        value = _safe_div(total.value(), count.value())
        update = _safe_div(update_total, update_count)
    return _collect(value, update, metrics_collections, updates_collections)


def _match(labels: Any, predictions: Any) -> tuple[Any, Any]:
    labels, predictions = convert_to_tensor(labels), convert_to_tensor(predictions)
    if labels.dtype is not predictions.dtype:
        predictions = math_ops.cast(predictions, labels.dtype)
    return labels, predictions


def accuracy(labels: Any, predictions: Any, weights: Any = None,
             metrics_collections: Any = None, updates_collections: Any = None,
             name: str | None = None) -> tuple:
    """The running fraction of ``predictions`` equal to ``labels``."""
    labels, predictions = _match(labels, predictions)
    correct = math_ops.cast(math_ops.equal(predictions, labels), _dt.float32)
    return mean(correct, weights, metrics_collections, updates_collections,
                name or "accuracy")


def mean_squared_error(labels: Any, predictions: Any, weights: Any = None,
                       metrics_collections: Any = None, updates_collections: Any = None,
                       name: str | None = None) -> tuple:
    labels, predictions = _match(labels, predictions)
    return mean(math_ops.squared_difference(predictions, labels), weights, metrics_collections,
                updates_collections, name or "mean_squared_error")


def mean_absolute_error(labels: Any, predictions: Any, weights: Any = None,
                        metrics_collections: Any = None, updates_collections: Any = None,
                        name: str | None = None) -> tuple:
    labels, predictions = _match(labels, predictions)
    return mean(math_ops.abs(predictions - labels), weights, metrics_collections,
                updates_collections, name or "mean_absolute_error")


def _count(cond: Any, weights: Any, name: str) -> tuple[Variable, Any]:
    values, _ = _weighted(math_ops.cast(cond, _dt.float32), weights)
    var = metric_variable([], _dt.float32, name=name)
    return var, assign_add(var, math_ops.reduce_sum(values))


def _bools(labels: Any, predictions: Any) -> tuple[Any, Any]:
    labels = math_ops.cast(convert_to_tensor(labels), _dt.bool_)
    predictions = math_ops.cast(convert_to_tensor(predictions), _dt.bool_)
    return labels, predictions


def precision(labels: Any, predictions: Any, weights: Any = None,
              metrics_collections: Any = None, updates_collections: Any = None,
              name: str | None = None) -> tuple:
    """Running ``tp / (tp + fp)`` of boolean ``predictions``."""
    with variable_scope(name, default_name="precision"):
        labels, predictions = _bools(labels, predictions)
        tp, up_tp = _count(math_ops.logical_and(labels, predictions), weights, "true_positives")
        fp, up_fp = _count(math_ops.logical_and(math_ops.logical_not(labels), predictions),
                           weights, "false_positives")
        value = _safe_div(tp.value(), tp.value() + fp.value())
        update = _safe_div(up_tp, up_tp + up_fp)
    return _collect(value, update, metrics_collections, updates_collections)


def recall(labels: Any, predictions: Any, weights: Any = None,
           metrics_collections: Any = None, updates_collections: Any = None,
           name: str | None = None) -> tuple:
    """Running ``tp / (tp + fn)`` of boolean ``predictions``."""
    with variable_scope(name, default_name="recall"):
        labels, predictions = _bools(labels, predictions)
        tp, up_tp = _count(math_ops.logical_and(labels, predictions), weights, "true_positives")
        fn, up_fn = _count(math_ops.logical_and(labels, math_ops.logical_not(predictions)),
                           weights, "false_negatives")
        value = _safe_div(tp.value(), tp.value() + fn.value())
        update = _safe_div(up_tp, up_tp + up_fn)
    return _collect(value, update, metrics_collections, updates_collections)

"""Metrics: Keras-style stateful objects (NumPy; usable in eager mode and in ``fit``) and
TF 1.x streaming metrics returning ``(value, update_op)`` over local variables."""

from rillet.metrics.keras_metrics import (
    AUC,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    Mean,
    MeanAbsoluteError,
    MeanMetricWrapper,
    MeanSquaredError,
    Metric,
    Precision,
    Recall,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    Sum,
    TopKCategoricalAccuracy,
    get,
)
from rillet.metrics.streaming import (
    accuracy,
    mean,
    mean_absolute_error,
    mean_squared_error,
    metric_variable,
    precision,
    recall,
)

__all__ = [
    "AUC", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "Mean", "MeanAbsoluteError",
    "MeanMetricWrapper", "MeanSquaredError", "Metric", "Precision", "Recall",
    "SparseCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "Sum",
    "TopKCategoricalAccuracy", "accuracy", "get", "mean", "mean_absolute_error",
    "mean_squared_error", "metric_variable", "precision", "recall",
]

"""Keras-style stateful metrics computed with NumPy: ``update_state(y_true, y_pred,
sample_weight=None)``, ``result()``, ``reset_states()``. They accept NumPy arrays, Python values
and eager tensors (anything with ``.numpy()``), so the same object serves ``fit`` in graph and
eager mode and plain NumPy evaluation loops."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    return np.asarray(x)


def _weights(sample_weight: Any, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n, dtype=np.float64)
    w = _np(sample_weight).astype(np.float64).reshape(-1)
    return np.broadcast_to(w, (n,)) if w.size == 1 else w


class Metric:
    """Base class; subclasses implement ``update_state``, ``result`` and ``reset_states``."""

    def __init__(self, name: str | None = None, dtype: Any = None):
        self.name = name or _snake(type(self).__name__)
        self.dtype = dtype or "float32"

    def __call__(self, y_true: Any, y_pred: Any = None, sample_weight: Any = None) -> Any:
        """Updates with one batch and returns the running result."""
        self.update_state(y_true, y_pred, sample_weight=sample_weight)
        return self.result()

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def result(self) -> Any:
        raise NotImplementedError

    def reset_states(self) -> None:
        raise NotImplementedError

    def reset_state(self) -> None:
        self.reset_states()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def _snake(name: str) -> str:
    import re
    s = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", s).lower()


class Mean(Metric):
    """The (weighted) mean of the values given to ``update_state(values, sample_weight)``."""

    def __init__(self, name: str = "mean", dtype: Any = None):
        super().__init__(name, dtype)
        self.reset_states()

    def update_state(self, values: Any, sample_weight: Any = None) -> None:  # type: ignore
        v = _np(values).astype(np.float64).reshape(-1)
        w = _weights(sample_weight, v.size)
        self.total += float(np.dot(v, w))
        self.count += float(w.sum())

    def update_mean(self, mean: float, n: float) -> None:
        """Adds ``n`` samples whose mean is ``mean`` (what ``fit`` uses for batch losses)."""
        self.total += float(mean) * n
        self.count += n

    def __call__(self, values: Any, sample_weight: Any = None) -> Any:  # type: ignore[override]
        self.update_state(values, sample_weight)
        return self.result()

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0

    def reset_states(self) -> None:
        self.total = 0.0
        self.count = 0.0


class Sum(Mean):
    """The (weighted) sum of the values."""

    def __init__(self, name: str = "sum", dtype: Any = None):
        super().__init__(name, dtype)

    def result(self) -> float:
        return self.total


class MeanMetricWrapper(Mean):
    """The mean over samples of ``fn(y_true, y_pred)`` (one value per sample)."""

    def __init__(self, fn: Callable, name: str | None = None, dtype: Any = None,
                 **kwargs: Any):
        super().__init__(name or fn.__name__, dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Any, y_pred: Any = None,  # type: ignore[override]
                     sample_weight: Any = None) -> None:
        values = self._fn(_np(y_true), _np(y_pred), **self._fn_kwargs)
        Mean.update_state(self, values, sample_weight)

    def __call__(self, y_true: Any, y_pred: Any = None,  # type: ignore[override]
                 sample_weight: Any = None) -> Any:
        return Metric.__call__(self, y_true, y_pred, sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}


# --- per-sample metric functions (NumPy) --------------------------------------------------------
def _labels(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """1 where ``y_pred == y_true`` exactly."""
    return (y_true.astype(y_pred.dtype) == y_pred).astype(np.float64).reshape(len(y_pred), -1) \
        .mean(axis=1)


def binary_accuracy(y_true: np.ndarray, y_pred: np.ndarray, threshold: float = 0.5) -> Any:
    hit = (y_pred > threshold) == (y_true > 0.5)
    return hit.astype(np.float64).reshape(len(y_pred), -1).mean(axis=1)


def categorical_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    return (np.argmax(y_true, -1) == np.argmax(y_pred, -1)).astype(np.float64)


def sparse_categorical_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    labels = _labels(y_true, y_pred)
    return (labels.astype(np.int64) == np.argmax(y_pred, -1)).astype(np.float64)


def _in_top_k(scores: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """TF's rule: the target is in the top k unless k scores are strictly greater."""
    target = np.take_along_axis(scores, labels.astype(np.int64)[..., None], -1)
    return ((scores > target).sum(-1) < k).astype(np.float64)


def top_k_categorical_accuracy(y_true: np.ndarray, y_pred: np.ndarray, k: int = 5) -> Any:
    return _in_top_k(y_pred, np.argmax(y_true, -1), k)


def sparse_top_k_categorical_accuracy(y_true: np.ndarray, y_pred: np.ndarray,
                                      k: int = 5) -> Any:
    return _in_top_k(y_pred, _labels(y_true, y_pred), k)


def mean_squared_error(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    d = (y_pred - y_true.astype(y_pred.dtype)).astype(np.float64)
    return np.mean(np.square(d), axis=-1)


def mean_absolute_error(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    d = (y_pred - y_true.astype(y_pred.dtype)).astype(np.float64)
    return np.mean(np.abs(d), axis=-1)


def _wrapper(cls_name: str, fn: Callable, default_name: str, **defaults: Any) -> type:
    def __init__(self: MeanMetricWrapper, name: str = default_name, dtype: Any = None,
                 **kwargs: Any) -> None:
        MeanMetricWrapper.__init__(self, fn, name, dtype, **{**defaults, **kwargs})

    return type(cls_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": fn.__doc__})


Accuracy = _wrapper("Accuracy", accuracy, "accuracy")
BinaryAccuracy = _wrapper("BinaryAccuracy", binary_accuracy, "binary_accuracy", threshold=0.5)
CategoricalAccuracy = _wrapper("CategoricalAccuracy", categorical_accuracy,
                               "categorical_accuracy")
SparseCategoricalAccuracy = _wrapper("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                     "sparse_categorical_accuracy")
TopKCategoricalAccuracy = _wrapper("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                   "top_k_categorical_accuracy", k=5)
SparseTopKCategoricalAccuracy = _wrapper(
    "SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy", k=5)
MeanSquaredError = _wrapper("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _wrapper("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")


# --- confusion-matrix metrics ---------------------------------------------------------------------
class _Confusion(Metric):
    """Accumulates true/false positives/negatives at one or more thresholds."""

    def __init__(self, thresholds: Any = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None, dtype: Any = None):
        super().__init__(name, dtype)
        self.init_thresholds = thresholds
        self.thresholds = np.atleast_1d(np.asarray(0.5 if thresholds is None else thresholds,
                                                   dtype=np.float64))
        self.top_k, self.class_id = top_k, class_id
        self.reset_states()

    def reset_states(self) -> None:
        n = len(self.thresholds)
        self.tp, self.fp, self.tn, self.fn = (np.zeros(n) for _ in range(4))

    def update_state(self, y_true: Any, y_pred: Any = None,  # type: ignore[override]
                     sample_weight: Any = None) -> None:
        t, p = _np(y_true).astype(np.float64), _np(y_pred).astype(np.float64)
        if self.class_id is not None:
            t, p = t[..., self.class_id], p[..., self.class_id]
        elif self.top_k is not None:
            kth = np.sort(p, axis=-1)[..., -self.top_k][..., None]
            p = np.where(p >= kth, p, -np.inf)
        if sample_weight is None:
            sw = np.ones(p.size)
        else:
            w = _np(sample_weight).astype(np.float64)
            if w.size != 1 and p.ndim > 1:
                w = w.reshape(-1, *[1] * (p.ndim - 1))
            sw = np.broadcast_to(w, p.shape).reshape(-1)
        t, p = t.reshape(-1), p.reshape(-1)
        pos = t > 0.5
        above = p[None, :] > self.thresholds[:, None]
        self.tp += (above & pos) @ sw
        self.fp += (above & ~pos) @ sw
        self.fn += (~above & pos) @ sw
        self.tn += (~above & ~pos) @ sw

    def _one(self, values: np.ndarray) -> Any:
        return float(values[0]) if self.init_thresholds is None or \
            np.ndim(self.init_thresholds) == 0 else values

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_Confusion):
    """``tp / (tp + fp)`` of ``y_pred > threshold`` (default 0.5)."""

    def result(self) -> Any:
        den = self.tp + self.fp
        return self._one(np.divide(self.tp, den, out=np.zeros_like(den), where=den > 0))


class Recall(_Confusion):
    """``tp / (tp + fn)`` of ``y_pred > threshold`` (default 0.5)."""

    def result(self) -> Any:
        den = self.tp + self.fn
        return self._one(np.divide(self.tp, den, out=np.zeros_like(den), where=den > 0))


class AUC(_Confusion):
    """Area under the ROC (or PR) curve from ``num_thresholds`` thresholds in [0, 1],
    integrated with the trapezoidal rule."""

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", name: str | None = None,
                 dtype: Any = None, thresholds: Any = None, multi_label: bool = False):
        if num_thresholds <= 1:
            raise ValueError("`num_thresholds` must be > 1.")
        if curve.upper() not in ("ROC", "PR"):
            raise ValueError(f'Invalid curve: "{curve}". Valid options are: "ROC", "PR"')
        self.num_thresholds, self.curve = num_thresholds, curve.upper()
        eps = 1e-7
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        ts = [0.0 - eps, *inner, 1.0 + eps] if thresholds is None else list(thresholds)
        super().__init__(thresholds=ts, name=name or "auc", dtype=dtype)

    def result(self) -> float:
        tp, fp, fn, tn = self.tp, self.fp, self.fn, self.tn
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.curve == "ROC":
                x = np.where(fp + tn > 0, fp / (fp + tn), 0.0)
                y = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
            else:
                x = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
                y = np.where(tp + fp > 0, tp / (tp + fp), 1.0)
        # Thresholds ascend, so x descends: integrate over the reversed arrays.
        return float(np.trapezoid(y[::-1], x[::-1]) if hasattr(np, "trapezoid")
                     else np.trapz(y[::-1], x[::-1]))

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "num_thresholds": self.num_thresholds,
                "curve": self.curve}


_BY_NAME = {
    "accuracy": Accuracy, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "precision": Precision, "recall": Recall, "auc": AUC,
}


def get(identifier: Any, loss_name: str | None = None, output_shape: Any = None) -> Metric:
    """A metric object from a name or object. ``"accuracy"``/``"acc"`` picks the accuracy that
    matches the loss (sparse categorical, categorical or binary), as Keras does."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in ("accuracy", "acc"):
            if loss_name and "sparse_categorical" in loss_name:
                return SparseCategoricalAccuracy(name=identifier)
            if loss_name and "binary" in loss_name:
                return BinaryAccuracy(name=identifier)
            last = None if output_shape is None else output_shape[-1]
            if loss_name and "categorical" in loss_name or (last is not None and last > 1):
                return CategoricalAccuracy(name=identifier)
            return BinaryAccuracy(name=identifier)
        cls = _BY_NAME.get(key)
        if cls is None:
            raise ValueError(f"Unknown metric function: {identifier}")
        return cls(name=identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")

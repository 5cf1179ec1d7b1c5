"""Torchnet-style meters: running statistics for training loops.

Every meter has ``add(...)``, ``value()`` and ``reset()``. Inputs may be NumPy arrays, Python
numbers or lists, or anything with a ``.numpy()`` method or ``__array__`` (eager tensors).

>>> m = AverageValueMeter()
>>> for loss in (1.0, 2.0, 3.0):
...     m.add(loss)
>>> m.value()
(2.0, 1.0)
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "AUCMeter",
    "AverageValueMeter",
    "ClassErrorMeter",
    "ConfusionMeter",
    "Meter",
    "MovingAverageValueMeter",
    "TimeMeter",
]


def _np(x: Any) -> np.ndarray:
    """``x`` as a NumPy array (via ``.numpy()`` when present)."""
    numpy_fn = getattr(x, "numpy", None)
    if callable(numpy_fn) and not isinstance(x, np.ndarray):
        x = numpy_fn()
    return np.asarray(x)


def _scalar_or_array(x: np.ndarray) -> Any:
    return float(x) if x.ndim == 0 else x


class Meter:
    """Base class: ``reset()`` clears, ``add(...)`` accumulates, ``value()`` reports."""

    def reset(self) -> None:
        """Forget everything added so far."""
        raise NotImplementedError

    def add(self, *args: Any, **kwargs: Any) -> None:
        """Accumulate new observations."""
        raise NotImplementedError

    def value(self, *args: Any, **kwargs: Any) -> Any:
        """The current statistic."""
        raise NotImplementedError


class AverageValueMeter(Meter):
    """Mean and sample standard deviation of the values added.

    ``add(value, n=1)`` follows Torchnet: ``value`` is the *sum* of ``n`` observations (for a batch
    mean ``m`` of ``b`` samples call ``add(m * b, b)``). ``value()`` returns ``(mean, std)`` with
    ``mean = sum(values) / sum(n)``; ``std`` is the frequency-weighted sample standard deviation
    (each add counts as ``n`` observations of ``value / n``), so for ``n = 1`` it is
    ``np.std(values, ddof=1)``. With nothing added: ``(nan, nan)``; with one observation the std
    is ``inf``. Array values are averaged elementwise.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget all values."""
        self.n: float = 0
        self.sum: Any = 0.0
        self.val: Any = 0.0
        self._mean: Any = 0.0
        self._m2: Any = 0.0

    def add(self, value: Any, n: float = 1) -> None:
        """Add ``value``, the sum of ``n`` observations."""
        v = _np(value).astype(np.float64)
        if n <= 0:
            raise ValueError(f"AverageValueMeter.add: n must be positive, got {n}")
        self.val = _scalar_or_array(v)
        self.sum = self.sum + v
        x = v / n
        total = self.n + n
        delta = x - self._mean
        self._mean = self._mean + delta * (n / total)
        self._m2 = self._m2 + n * delta * (x - self._mean)
        self.n = total

    def value(self) -> tuple[Any, Any]:
        """``(mean, std)``; floats for scalar values, arrays for array values."""
        if self.n == 0:
            return math.nan, math.nan
        mean = _scalar_or_array(np.asarray(self._mean, dtype=np.float64))
        if self.n <= 1:
            std = np.full(np.shape(self._mean), np.inf)
        else:
            std = np.sqrt(np.maximum(np.asarray(self._m2, dtype=np.float64), 0.0) / (self.n - 1))
        return mean, _scalar_or_array(np.asarray(std))

    @property
    def mean(self) -> Any:
        """The running mean (``value()[0]``)."""
        return self.value()[0]

    @property
    def std(self) -> Any:
        """The running sample standard deviation (``value()[1]``)."""
        return self.value()[1]


class MovingAverageValueMeter(Meter):
    """Mean and sample std of the last ``windowsize`` values added.

    ``value()`` returns ``(mean, std)``; ``(0.0, 0.0)`` when empty and std 0 for a single value.
    """

    def __init__(self, windowsize: int):
        if int(windowsize) < 1:
            raise ValueError(f"windowsize must be positive, got {windowsize}")
        self.windowsize = int(windowsize)
        self.reset()

    def reset(self) -> None:
        """Empty the window."""
        self._window: deque[np.ndarray] = deque(maxlen=self.windowsize)
        self.n = 0

    def add(self, value: Any) -> None:
        """Push ``value`` into the window (the oldest value drops out when full)."""
        self._window.append(_np(value).astype(np.float64))
        self.n += 1

    def value(self) -> tuple[Any, Any]:
        """``(mean, std)`` over the window."""
        if not self._window:
            return 0.0, 0.0
        w = np.stack(list(self._window))
        mean = w.mean(axis=0)
        std = w.std(axis=0, ddof=1) if len(w) > 1 else np.zeros_like(mean)
        return _scalar_or_array(mean), _scalar_or_array(std)


class ClassErrorMeter(Meter):
    """Top-k classification error (or accuracy) in percent.

    ``add(output, target)``: ``output`` are scores of shape ``(N, K)`` (or ``(K,)`` for one
    sample), ``target`` class indices of shape ``(N,)`` (``(N, 1)`` and one-hot ``(N, K)`` are
    accepted too). A sample is correct at ``k`` when its target is among the ``k`` highest scores
    (ties broken towards the lower class index). ``value(k)`` gives the percentage for one ``k``
    of ``topk``; ``value()`` a list for all of them.
    """

    def __init__(self, topk: Iterable[int] = (1,), accuracy: bool = False):
        self.topk = sorted(int(k) for k in topk)
        if not self.topk or self.topk[0] < 1:
            raise ValueError(f"topk must be positive integers, got {list(topk)}")
        self.accuracy = bool(accuracy)
        self.reset()

    def reset(self) -> None:
        """Clear the counts."""
        self.sum = {k: 0 for k in self.topk}
        self.n = 0

    def add(self, output: Any, target: Any) -> None:
        """Count the errors of one batch."""
        scores = _np(output)
        labels = _np(target)
        if scores.ndim == 1:
            scores = scores[np.newaxis]
            labels = labels.reshape(1, *labels.shape[1:]) if labels.ndim else labels.reshape(1)
        if scores.ndim != 2:
            raise ValueError(f"output must have shape (N, K), got {scores.shape}")
        if labels.ndim == 2 and labels.shape == scores.shape and labels.shape[1] > 1:
            labels = labels.argmax(axis=1)
        elif labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if labels.ndim != 1 or labels.shape[0] != scores.shape[0]:
            raise ValueError(
                f"target must have shape ({scores.shape[0]},), got {labels.shape} for output "
                f"{scores.shape}"
            )
        maxk = self.topk[-1]
        if maxk > scores.shape[1]:
            raise ValueError(f"topk {maxk} exceeds the number of classes {scores.shape[1]}")
        order = np.argsort(-scores, axis=1, kind="stable")[:, :maxk]
        correct = order == labels.astype(np.int64)[:, np.newaxis]
        no = scores.shape[0]
        for k in self.topk:
            self.sum[k] += no - int(correct[:, :k].sum())
        self.n += no

    def value(self, k: int = -1) -> Any:
        """Error (or accuracy) percentage at ``k``; all of ``topk`` as a list when ``k=-1``."""
        if k == -1:
            return [self.value(kk) for kk in self.topk]
        if k not in self.sum:
            raise ValueError(f"k={k} is not one of topk={self.topk}")
        if self.n == 0:
            return math.nan
        err = self.sum[k] / self.n * 100.0
        return 100.0 - err if self.accuracy else err


class ConfusionMeter(Meter):
    """A ``k x k`` confusion matrix: rows are targets, columns predictions.

    ``add(predicted, target)``: ``predicted`` are scores ``(N, k)`` (argmax taken) or labels
    ``(N,)``; ``target`` labels ``(N,)`` or one-hot ``(N, k)``. ``normalized=True`` makes
    ``value()`` divide every row by its sum (rows with no samples stay 0).
    """

    def __init__(self, k: int, normalized: bool = False):
        if int(k) < 1:
            raise ValueError(f"k must be positive, got {k}")
        self.k = int(k)
        self.normalized = bool(normalized)
        self.conf = np.zeros((self.k, self.k), dtype=np.int64)

    def reset(self) -> None:
        """Zero the matrix."""
        self.conf.fill(0)

    def _labels(self, x: np.ndarray, what: str) -> np.ndarray:
        if x.ndim == 2:
            if x.shape[1] != self.k:
                raise ValueError(f"{what} has {x.shape[1]} columns but k={self.k}")
            if what == "target" and not np.all((x == 0) | (x == 1)):
                raise ValueError("one-hot target must contain only 0s and 1s")
            return x.argmax(axis=1)
        if x.ndim != 1:
            raise ValueError(f"{what} must have shape (N,) or (N, {self.k}), got {x.shape}")
        if x.size and (x.min() < 0 or x.max() >= self.k):
            raise ValueError(f"{what} labels must be in [0, {self.k}), got range "
                             f"[{x.min()}, {x.max()}]")
        if x.size and not np.all(np.equal(np.mod(x, 1), 0)):
            raise ValueError(f"{what} labels must be integers")
        return x.astype(np.int64)

    def add(self, predicted: Any, target: Any) -> None:
        """Count one batch."""
        pred = self._labels(_np(predicted), "predicted")
        tgt = self._labels(_np(target), "target")
        if pred.shape[0] != tgt.shape[0]:
            raise ValueError(f"predicted has {pred.shape[0]} samples but target {tgt.shape[0]}")
        counts = np.bincount(tgt * self.k + pred, minlength=self.k * self.k)
        self.conf += counts.reshape(self.k, self.k)

    def value(self) -> np.ndarray:
        """The matrix (a copy); row-normalised floats when ``normalized``."""
        if not self.normalized:
            return self.conf.copy()
        conf = self.conf.astype(np.float64)
        rows = conf.sum(axis=1, keepdims=True)
        return np.divide(conf, rows, out=np.zeros_like(conf), where=rows > 0)


class AUCMeter(Meter):
    """Area under the ROC curve for binary targets.

    ``add(output, target)``: scores ``(N,)`` (higher means positive) and targets ``(N,)`` in
    {0, 1}. ``value()`` returns ``(auc, tpr, fpr)`` where ``tpr``/``fpr`` are the ROC points for
    every distinct threshold (starting at ``(0, 0)``); tied scores share one point, so ``auc``
    equals the probability that a random positive outscores a random negative (ties count
    half). Empty: ``(0.5, [0], [0])``; only one class seen: ``auc`` is ``nan``.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget all scores."""
        self.scores = np.zeros(0, dtype=np.float64)
        self.targets = np.zeros(0, dtype=np.int64)

    def add(self, output: Any, target: Any) -> None:
        """Append one batch of scores and binary targets."""
        s = _np(output).astype(np.float64)
        t = _np(target)
        if s.ndim == 2 and s.shape[1] == 1:
            s = s[:, 0]
        if t.ndim == 2 and t.shape[1] == 1:
            t = t[:, 0]
        s, t = s.reshape(-1) if s.ndim == 0 else s, t.reshape(-1) if t.ndim == 0 else t
        if s.ndim != 1 or t.ndim != 1:
            raise ValueError(f"output and target must be 1-D, got {s.shape} and {t.shape}")
        if s.shape != t.shape:
            raise ValueError(f"output {s.shape} and target {t.shape} differ in length")
        if t.size and not np.all((t == 0) | (t == 1)):
            raise ValueError("targets must be binary (0 or 1)")
        self.scores = np.concatenate([self.scores, s])
        self.targets = np.concatenate([self.targets, t.astype(np.int64)])

    def value(self) -> tuple[float, np.ndarray, np.ndarray]:
        """``(auc, tpr, fpr)``."""
        if self.scores.size == 0:
            return 0.5, np.zeros(1), np.zeros(1)
        order = np.argsort(-self.scores, kind="stable")
        scores = self.scores[order]
        targets = self.targets[order]
        tp = np.cumsum(targets)
        fp = np.cumsum(1 - targets)
        # keep the last index of every run of equal scores: one ROC point per threshold
        last = np.r_[np.nonzero(np.diff(scores))[0], scores.size - 1]
        tp = np.r_[0, tp[last]].astype(np.float64)
        fp = np.r_[0, fp[last]].astype(np.float64)
        pos, neg = tp[-1], fp[-1]
        tpr = tp / pos if pos > 0 else np.zeros_like(tp)
        fpr = fp / neg if neg > 0 else np.zeros_like(fp)
        if pos == 0 or neg == 0:
            return math.nan, tpr, fpr
        auc = float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2.0))
        return auc, tpr, fpr


class TimeMeter(Meter):
    """Wall-clock time since construction or ``reset()``.

    ``value()`` is seconds elapsed, or with ``unit=True`` seconds per unit counted by
    ``add(n=1)`` (``nan`` before any unit is added).
    """

    def __init__(self, unit: bool = False):
        self.unit = bool(unit)
        self.reset()

    def reset(self) -> None:
        """Restart the clock and the unit count."""
        self.n = 0
        self.time = time.perf_counter()

    def add(self, n: int = 1) -> None:
        """Count ``n`` more units (e.g. batches)."""
        self.n += n

    def value(self) -> float:
        """Elapsed seconds, or seconds per unit with ``unit=True``."""
        elapsed = time.perf_counter() - self.time
        if self.unit:
            return elapsed / self.n if self.n else math.nan
        return elapsed

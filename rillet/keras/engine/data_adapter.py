"""What ``fit``/``evaluate``/``predict`` receive -- NumPy arrays (alone, in lists or in dicts
keyed by input/output names), ``rillet.data.Dataset``s of ``(x, y[, sample_weight])`` batches, or
Python iterators -- turned into batches ``(xs, ys, sample_weight)`` where ``xs``/``ys`` are
lists aligned with the model's inputs/outputs."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from rillet.data import Dataset


def to_numpy(v: Any) -> np.ndarray:
    if hasattr(v, "numpy") and not isinstance(v, np.ndarray):
        v = v.numpy()
    return np.asarray(v)


def as_list(data: Any, names: list[str] | None = None) -> list | None:
    """Arrays of ``data`` in the model's input (or output) order."""
    if data is None:
        return None
    if isinstance(data, dict):
        keys = names if names and all(n in data for n in names) else sorted(data)
        return [to_numpy(data[k]) for k in keys]
    if isinstance(data, list | tuple):
        return [to_numpy(v) for v in data]
    return [to_numpy(data)]


def _split_element(element: Any) -> tuple[Any, Any, Any]:
    if isinstance(element, tuple) and not hasattr(element, "_fields"):
        if len(element) == 1:
            return element[0], None, None
        if len(element) == 2:
            return element[0], element[1], None
        if len(element) == 3:
            return element
        raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                         f"`(x, y, sample_weight)`, found: {element!r}")
    return element, None, None


def _spec(arrays: list | None) -> list | None:
    if arrays is None:
        return None
    return [((None, *a.shape[1:]), a.dtype) for a in arrays]


def class_weights_to_sample_weights(y: np.ndarray, class_weight: dict) -> np.ndarray:
    labels = np.argmax(y, -1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
    return np.array([class_weight.get(int(c), 1.0) for c in labels], dtype=np.float32)


def train_validation_split(xs: list, ys: list | None, sw: Any,
                           fraction: float) -> tuple[tuple, tuple]:
    """Keras' ``validation_split``: the last ``fraction`` of the samples, before shuffling."""
    n = len(xs[0])
    at = int(math.ceil(n * (1.0 - fraction)))
    if at == 0 or at == n:
        raise ValueError(f"Training data contains {at} samples, which is not sufficient to "
                         f"split it into a validation and training set as specified by "
                         f"`validation_split={fraction}`. Either provide more data, or a "
                         "different value for the `validation_split` argument.")

    def cut(arrs: Any, part: slice) -> Any:
        return None if arrs is None else [a[part] for a in arrs]

    first, last = slice(0, at), slice(at, None)
    sw_first = None if sw is None else sw[first]
    sw_last = None if sw is None else sw[last]
    return (cut(xs, first), cut(ys, first), sw_first), (cut(xs, last), cut(ys, last), sw_last)


class DataHandler:
    """Yields one epoch of batches at a time; knows the number of steps when it can."""

    def __init__(self, x: Any, y: Any = None, sample_weight: Any = None,
                 class_weight: dict | None = None, batch_size: int | None = None,
                 steps_per_epoch: int | None = None, shuffle: bool = False,
                 input_names: list[str] | None = None, output_names: list[str] | None = None,
                 seed: int | None = None):
        self._input_names, self._output_names = input_names, output_names
        self._steps_per_epoch = steps_per_epoch
        self._class_weight = class_weight
        self.ran_out = False
        self._iterator: Iterator | None = None
        self._peeked: list = []
        if isinstance(x, Dataset) or _is_iterator(x):
            if y is not None:
                raise ValueError("`y` argument is not supported when using a dataset or "
                                 "generator as input (it yields the targets).")
            self._source: Any = x
            self.kind = "dataset" if isinstance(x, Dataset) else "iterator"
            self.steps = steps_per_epoch if steps_per_epoch is not None else \
                self._dataset_steps(x)
            self.x_spec, self.y_spec = self._source_spec()
            return
        self.kind = "arrays"
        self._xs = as_list(x, input_names)
        if not self._xs:
            raise ValueError("No input data (`x`) was provided.")
        self._ys = as_list(y, output_names)
        self._sw = None if sample_weight is None else to_numpy(sample_weight)
        self.num_samples = len(self._xs[0])
        self._check_cardinality()
        if class_weight and self._ys is not None:
            cw = class_weights_to_sample_weights(self._ys[0], class_weight)
            self._sw = cw if self._sw is None else self._sw * cw
        self._batch_size = int(batch_size or 32)
        self._shuffle = bool(shuffle)
        self._rng = np.random.default_rng(seed)
        n_steps = max(1, math.ceil(self.num_samples / self._batch_size))
        self.steps = n_steps if steps_per_epoch is None else min(steps_per_epoch, n_steps)
        self.x_spec, self.y_spec = _spec(self._xs), _spec(self._ys)

    def _check_cardinality(self) -> None:
        sizes = {"x": [len(a) for a in self._xs], "y": [len(a) for a in self._ys or []]}
        if self._sw is not None:
            sizes["sample_weight"] = [len(self._sw)]
        if len({n for v in sizes.values() for n in v}) > 1:
            lines = "\n".join(f"  {k} sizes: {', '.join(map(str, v))}" for k, v in sizes.items()
                              if v)
            raise ValueError(f"Data cardinality is ambiguous:\n{lines}\nMake sure all arrays "
                             "contain the same number of samples.")

    @staticmethod
    def _dataset_steps(x: Any) -> int | None:
        if isinstance(x, Dataset):
            n = x.cardinality()
            return int(n) if n >= 0 else None
        return None

    def _source_spec(self) -> tuple[list | None, list | None]:
        if self.kind == "dataset":
            from rillet.keras.engine import nest
            spec_x, spec_y, _ = _split_element(self._source.element_spec)

            def specs(s: Any) -> list | None:
                if s is None:
                    return None
                leaves = nest.flatten(s) if not isinstance(s, dict) else \
                    [s[k] for k in (self._names_for(s))]
                return [((None, *tuple(leaf.shape)[1:]), leaf.dtype) for leaf in leaves]
            return specs(spec_x), specs(spec_y)
        first = next(self._source)
        self._peeked.append(first)
        xs, ys, _ = self._lists(first)
        return _spec(xs), _spec(ys)

    def _names_for(self, d: dict) -> list:
        names = self._input_names
        return names if names and all(n in d for n in names) else sorted(d)

    def _lists(self, element: Any) -> tuple[list, list | None, Any]:
        x, y, sw = _split_element(element)
        xs, ys = as_list(x, self._input_names), as_list(y, self._output_names)
        sw = None if sw is None else to_numpy(sw)
        if self._class_weight and ys is not None:
            cw = class_weights_to_sample_weights(ys[0], self._class_weight)
            sw = cw if sw is None else sw * cw
        return xs, ys, sw

    # --- one epoch ---------------------------------------------------------------------------
    def epoch(self) -> Iterator[tuple[list, list | None, Any]]:
        """The batches of one epoch."""
        if self.kind == "arrays":
            return self._array_epoch()
        return self._stream_epoch()

    def _array_epoch(self) -> Iterator[tuple[list, list | None, Any]]:
        xs, ys, sw, bs = self._xs, self._ys, self._sw, self._batch_size
        perm = self._rng.permutation(self.num_samples) if self._shuffle else None
        for i in range(self.steps):
            if perm is None:
                idx: Any = slice(i * bs, (i + 1) * bs)
            else:
                idx = perm[i * bs:(i + 1) * bs]
            yield ([a[idx] for a in xs], None if ys is None else [a[idx] for a in ys],
                   None if sw is None else sw[idx])

    def _stream_epoch(self) -> Iterator[tuple[list, list | None, Any]]:
        persistent = self._steps_per_epoch is not None or self.kind == "iterator"
        if persistent:
            if self._iterator is None:
                self._iterator = itertools.chain(self._peeked, iter(self._source))
                self._peeked = []
            it = self._iterator
        else:
            it = iter(self._source)
        limit = self._steps_per_epoch
        count = 0
        while limit is None or count < limit:
            try:
                element = next(it)
            except StopIteration:
                if limit is not None:
                    self.ran_out = True
                break
            count += 1
            yield self._lists(element)


def _is_iterator(x: Any) -> bool:
    return hasattr(x, "__next__") and hasattr(x, "__iter__") and not isinstance(x, np.ndarray)

"""``tf.data``-style input pipelines on NumPy.

A :class:`Dataset` is an immutable description of a pipeline. ``iter(dataset)`` runs it: each call
builds a fresh chain of Python iterators (so every pass re-runs the pipeline and a shuffle with
``reshuffle_each_iteration=True`` shuffles anew). Elements are leaves or nests (tuples,
namedtuples, dicts) of NumPy values; see :mod:`rillet.data.structure` for the leaf rules.
"""

from __future__ import annotations

import itertools
import math
import os
import pickle
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from rillet.data import structure as st
from rillet.data._errors import DataInvalidArgumentError, DataTypeError
from rillet.data.iterator import (
    DatasetIterator,
    IteratorContext,
    PrefetchIterator,
    close_iterator,
    parallel_map,
)
from rillet.data.structure import TensorSpec

AUTOTUNE = -1
"""Let the runtime pick a parallelism / buffer size (``os.cpu_count()`` here)."""

INFINITE = -1
"""``cardinality()`` of an infinite dataset."""

UNKNOWN = -2
"""``cardinality()`` when the number of elements is not known without running the pipeline."""


def _autotune_value() -> int:
    return max(1, os.cpu_count() or 1)


_seed_resolver: Callable[[int | None], int | None] = lambda seed: seed  # noqa: E731


def set_seed_resolver(fn: Callable[[int | None], int | None]) -> None:
    """Install how an op-level ``seed`` (possibly ``None``) combines with a global seed.

    The graph layer calls this once so that, as in TF1, ``set_random_seed(s)`` makes unseeded
    shuffles deterministic. ``fn(seed)`` returns the seed to use or ``None`` for a random one.
    """
    global _seed_resolver
    _seed_resolver = fn


def _as_int(value: Any, name: str) -> int:
    """An int from a Python/NumPy integer, a 0-d array or an eager tensor."""
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    arr = np.asarray(value)
    if arr.shape != () or arr.dtype.kind not in "iub":
        raise TypeError(f"{name} must be an integer scalar, got {value!r}")
    return int(arr)


def _call(fn: Callable[..., Any], element: Any) -> Any:
    """Call ``fn`` with a plain-tuple element unpacked (TF's rule; namedtuples are not unpacked)."""
    if type(element) is tuple:
        return fn(*element)
    return fn(element)


def _readonly(x: Any) -> Any:
    """A read-only view of an array (elements of source datasets must not be mutated in place)."""
    if isinstance(x, np.ndarray) and x.flags.writeable:
        v = x.view()
        v.flags.writeable = False
        return v
    return x


def _zeros_like_spec(spec: Any, unknown_dim: int) -> Any:
    """A placeholder element matching ``spec`` (unknown dimensions set to ``unknown_dim``)."""

    def one(s: TensorSpec) -> Any:
        shape = () if s.shape is None else tuple(unknown_dim if d is None else d for d in s.shape)
        if s.dtype == st.OBJECT:
            if shape == ():
                return b""
            out = np.empty(shape, dtype=object)
            out.fill(b"")
            return out
        z = np.zeros(shape, dtype=s.dtype)
        return z[()] if z.ndim == 0 else z

    return st.map_structure(one, spec)


def _dataset_name(ds: Dataset) -> str:
    return type(ds).__name__.lstrip("_")


class Dataset:
    """A potentially large set of elements, described as a pipeline of transformations.

    Build one with a source (:meth:`from_tensor_slices`, :meth:`from_tensors`,
    :meth:`from_generator`, :meth:`range`, :meth:`zip`, ``TextLineDataset``) and chain
    transformations (:meth:`map`, :meth:`batch`, :meth:`shuffle`, ...). Iterate it with ``for``;
    every pass re-runs the pipeline.
    """

    def __init__(self) -> None:
        self._spec_cache: Any = None
        self._probes: dict[int, Any] = {}
        self._iter_probes: list[Any] | None = None
        self._probe_lock = threading.RLock()

    # ------------------------------------------------------------------ subclass hooks

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        """A fresh Python iterator over the elements (one pass)."""
        raise NotImplementedError

    def _inputs(self) -> list[Dataset]:
        """Upstream datasets (for :meth:`_captured_inputs`)."""
        return []

    def _own_captures(self) -> list[Any]:
        """Symbolic leaves this dataset itself holds."""
        return []

    def _static_spec(self) -> Any:
        """The element spec when known without running user functions, else ``None``."""
        return None

    def _cardinality(self) -> int:
        return UNKNOWN

    def _make_probe(self, i: int) -> Any:
        """A representative element (``i`` in {0, 1}; two probes reveal varying dimensions)."""
        return self._probe_by_iteration()[i]

    # ------------------------------------------------------------------ probing / specs

    def _probe(self, i: int) -> Any:
        with self._probe_lock:
            if i not in self._probes:
                self._probes[i] = self._make_probe(i)
            return self._probes[i]

    def _probe_by_iteration(self) -> list[Any]:
        with self._probe_lock:
            if self._iter_probes is not None:
                return self._iter_probes
            items: list[Any] = []
            try:
                it = self._iterator(IteratorContext(probing=True))
                try:
                    items = list(itertools.islice(it, 2))
                finally:
                    close_iterator(it)
            except Exception:
                if self._static_spec() is None:
                    raise
                items = []
            if not items:
                static = self._static_spec()
                if static is None:
                    raise ValueError(
                        f"cannot infer the element structure of {_dataset_name(self)}: it "
                        "produced no elements (give output_types/output_shapes to the source)"
                    )
                items = [_zeros_like_spec(static, 1), _zeros_like_spec(static, 2)]
            if len(items) == 1:
                items.append(items[0])
            self._iter_probes = items
            return items

    @property
    def element_spec(self) -> Any:
        """Structure of :class:`TensorSpec` (shape with ``None`` for unknown dims, NumPy dtype).

        Known statically for sources and shape-preserving transformations; after ``map`` and
        friends it is inferred (best effort) by running the functions on one or two
        representative elements, and dimensions that differ between them become ``None``.
        """
        if self._spec_cache is None:
            spec = self._static_spec()
            if spec is None:
                s0 = st.spec_of(self._probe(0))
                try:
                    spec = st.merge_specs(s0, st.spec_of(self._probe(1)))
                except (TypeError, ValueError):
                    spec = s0
            self._spec_cache = spec
        return self._spec_cache

    @property
    def output_types(self) -> Any:
        """TF1-style structure of NumPy dtypes (strings are ``np.dtype(object)``)."""
        return st.map_structure(lambda s: s.dtype, self.element_spec)

    @property
    def output_shapes(self) -> Any:
        """TF1-style structure of shapes: tuples with ``None`` dims, or ``None`` (unknown rank)."""
        return st.map_structure(lambda s: s.shape, self.element_spec)

    def _captured_inputs(self) -> list[Any]:
        """Symbolic tensors the pipeline's sources capture (need ``feeds`` to iterate)."""
        out: list[Any] = []
        seen: set[int] = set()
        stack: list[Dataset] = [self]
        while stack:
            ds = stack.pop()
            for leaf in ds._own_captures():
                if id(leaf) not in seen:
                    seen.add(id(leaf))
                    out.append(leaf)
            stack.extend(ds._inputs())
        return out

    # ------------------------------------------------------------------ iteration

    def make_python_iterator(self, feeds: Mapping[Any, Any] | None = None) -> DatasetIterator:
        """A fresh iterator over one pass; ``feeds`` gives values of captured symbolic tensors."""
        return DatasetIterator(self, feeds)

    def __iter__(self) -> Any:
        it = DatasetIterator(self)
        from rillet import context
        if context.executing_eagerly():  # as TF: eager iteration yields EagerTensors
            from rillet.eager.contrib import Iterator as EagerIterator
            return EagerIterator(it)
        return it

    def as_numpy_iterator(self) -> DatasetIterator:
        """An iterator of NumPy elements (elements already are NumPy values here)."""
        return DatasetIterator(self)

    def cardinality(self) -> int:
        """Number of elements, :data:`INFINITE` (-1) or :data:`UNKNOWN` (-2)."""
        return self._cardinality()

    def __len__(self) -> int:
        n = self._cardinality()
        if n == INFINITE:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return n

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<{_dataset_name(self)}>"

    def reduce(self, initial_state: Any, reduce_func: Callable[[Any, Any], Any]) -> Any:
        """Fold the elements: ``state = reduce_func(state, element)`` over one pass."""
        state = initial_state
        for element in self:
            state = reduce_func(state, element)
        return state

    # ------------------------------------------------------------------ sources

    @staticmethod
    def from_tensor_slices(tensors: Any) -> Dataset:
        """One element per row: slices every leaf along axis 0.

        Leaves may be NumPy arrays, lists, Python scalars or eager tensors; all must have the same
        size in dimension 0 (``ValueError`` naming the sizes otherwise).
        """
        return _TensorSlicesDataset(tensors)

    @staticmethod
    def from_tensors(tensors: Any) -> Dataset:
        """A dataset with the single element ``tensors``."""
        return _TensorsDataset(tensors)

    @staticmethod
    def from_generator(
        generator: Callable[..., Any],
        output_types: Any = None,
        output_shapes: Any = None,
        args: Sequence[Any] | None = None,
        output_signature: Any = None,
    ) -> Dataset:
        """Elements yielded by ``generator(*args)``, called afresh on every pass.

        ``output_types`` (NumPy dtypes, strings, or anything with ``as_numpy_dtype``) and
        ``output_shapes`` (``None`` dims allowed) are checked: a yielded value that cannot be
        converted losslessly, or whose shape disagrees, raises ``InvalidArgumentError`` (also a
        ``TypeError``/``ValueError``). ``output_signature`` (a structure of :class:`TensorSpec`)
        may replace both. Without types the structure is inferred from the values.
        """
        return _GeneratorDataset(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def range(*args: Any, dtype: Any = np.int64) -> Dataset:
        """``Dataset.range(stop)`` / ``range(start, stop[, step])`` of scalars (int64 default)."""
        return _RangeDataset(*args, dtype=dtype)

    @staticmethod
    def zip(datasets: Any, *more: Dataset) -> Dataset:
        """Zip a (nested) tuple/dict of datasets; stops with the shortest.

        ``Dataset.zip(a, b)`` is the same as ``Dataset.zip((a, b))``.
        """
        if more:
            datasets = (datasets, *more)
        return _ZipDataset(datasets)

    # ------------------------------------------------------------------ transformations

    def concatenate(self, dataset: Dataset) -> Dataset:
        """The elements of this dataset followed by those of ``dataset``."""
        return _ConcatenateDataset(self, dataset)

    def map(
        self,
        map_func: Callable[..., Any],
        num_parallel_calls: int | None = None,
        deterministic: bool | None = None,
    ) -> Dataset:
        """Apply ``map_func`` to every element (a plain-tuple element is unpacked into arguments).

        With ``num_parallel_calls`` > 1 (or :data:`AUTOTUNE`) calls run in a thread pool; the
        output order is always preserved.
        """
        return _MapDataset(self, map_func, num_parallel_calls)

    def filter(self, predicate: Callable[..., Any]) -> Dataset:
        """Keep the elements for which ``predicate`` returns a scalar boolean ``True``."""
        return _FilterDataset(self, predicate)

    def shuffle(
        self, buffer_size: int, seed: int | None = None, reshuffle_each_iteration: bool = True
    ) -> Dataset:
        """Randomly shuffle with TF's buffer algorithm.

        The first ``buffer_size`` elements fill a buffer; each output is a uniformly chosen buffer
        slot, refilled by the next input element. A seed makes the order reproducible across
        fresh datasets; ``reshuffle_each_iteration`` draws a new order on every pass.
        """
        return _ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(
        self,
        batch_size: int,
        drop_remainder: bool = False,
        num_parallel_calls: int | None = None,
        deterministic: bool | None = None,
    ) -> Dataset:
        """Stack consecutive elements leaf-wise (``np.stack``) into batches of ``batch_size``."""
        return _BatchDataset(self, batch_size, drop_remainder)

    def padded_batch(
        self,
        batch_size: int,
        padded_shapes: Any = None,
        padding_values: Any = None,
        drop_remainder: bool = False,
    ) -> Dataset:
        """Batch elements of differing shapes, padding every component to a common shape.

        ``padded_shapes`` (per component; ``None``/-1 dims or ``None`` overall mean "the longest in
        the batch") and ``padding_values`` (per component or one scalar; default 0 / ``b""``).
        """
        return _PaddedBatchDataset(self, batch_size, padded_shapes, padding_values, drop_remainder)

    def unbatch(self) -> Dataset:
        """Split every element along its first dimension into separate elements."""
        return _UnbatchDataset(self)

    def repeat(self, count: int | None = None) -> Dataset:
        """Repeat the dataset ``count`` times (forever when ``None`` or -1)."""
        return _RepeatDataset(self, count)

    def take(self, count: int) -> Dataset:
        """At most the first ``count`` elements (all when -1)."""
        return _TakeDataset(self, count)

    def skip(self, count: int) -> Dataset:
        """All but the first ``count`` elements (none when -1)."""
        return _SkipDataset(self, count)

    def shard(self, num_shards: int, index: int) -> Dataset:
        """Every ``num_shards``-th element starting at ``index``."""
        return _ShardDataset(self, num_shards, index)

    def cache(self, filename: str = "") -> Dataset:
        """Remember the elements of the first complete pass and replay them afterwards.

        In memory by default; with ``filename`` the elements are also pickled to that file and
        read back by later datasets using the same file. A partial pass is not cached.
        """
        return _CacheDataset(self, filename)

    def prefetch(self, buffer_size: int) -> Dataset:
        """Compute up to ``buffer_size`` elements ahead in a background thread.

        Overlaps the producer (everything upstream) with the consumer. Errors reach the consumer
        at their position; abandoning or closing the iterator stops the thread.
        """
        return _PrefetchDataset(self, buffer_size)

    def interleave(
        self,
        map_func: Callable[..., Dataset],
        cycle_length: int | None = None,
        block_length: int | None = None,
        num_parallel_calls: int | None = None,
        deterministic: bool | None = None,
    ) -> Dataset:
        """Map each element to a dataset and interleave their elements (TF's exact order).

        ``cycle_length`` input elements are open at once (default :data:`AUTOTUNE`);
        ``block_length`` consecutive elements (default 1) are taken from each in turn.
        """
        return _InterleaveDataset(self, map_func, cycle_length, block_length)

    def flat_map(self, map_func: Callable[..., Dataset]) -> Dataset:
        """Map each element to a dataset and concatenate them."""
        return _InterleaveDataset(self, map_func, 1, 1, name="FlatMapDataset")

    def enumerate(self, start: int = 0) -> Dataset:
        """Pairs ``(index, element)`` with an int64 index counting from ``start``."""
        return _EnumerateDataset(self, start)

    def apply(self, transformation_func: Callable[[Dataset], Dataset]) -> Dataset:
        """``transformation_func(self)``, for chaining custom transformations."""
        result = transformation_func(self)
        if not isinstance(result, Dataset):
            raise TypeError(
                f"apply: transformation_func must return a Dataset, got {type(result).__name__}"
            )
        return result


# ==============================================================================================
# Sources
# ==============================================================================================


class _TensorSlicesDataset(Dataset):
    def __init__(self, tensors: Any):
        super().__init__()
        if isinstance(tensors, Dataset):
            raise TypeError("from_tensor_slices expects arrays, not a Dataset")
        self._structure = tensors
        leaves = st.flatten(tensors)
        if not leaves:
            raise ValueError("from_tensor_slices needs at least one component")
        self._leaves = [self._convert(x, i) for i, x in enumerate(leaves)]
        self._check_sizes(self._leaves)

    @staticmethod
    def _convert(x: Any, i: int) -> Any:
        if st.is_symbolic(x):
            return x
        v = st.to_leaf(x)
        if isinstance(v, bytes) or np.ndim(v) == 0:
            raise ValueError(
                f"from_tensor_slices: component {i} is a scalar; slicing needs at least rank 1"
            )
        return _readonly(v)

    @staticmethod
    def _check_sizes(leaves: list[Any]) -> int | None:
        sizes = []
        for x in leaves:
            shape = st.leaf_shape(x)
            sizes.append(None if not shape else shape[0])
        known = {s for s in sizes if s is not None}
        if len(known) > 1:
            shown = ", ".join(f"component {i}: {s}" for i, s in enumerate(sizes))
            raise ValueError(
                "from_tensor_slices: all components must have the same size in dimension 0, "
                f"got {sorted(known)} ({shown})"
            )
        return known.pop() if known else None

    def _own_captures(self) -> list[Any]:
        return [x for x in self._leaves if st.is_symbolic(x)]

    def _static_spec(self) -> Any:
        def row(x: Any) -> TensorSpec:
            shape = st.leaf_shape(x)
            return TensorSpec(None if shape is None else shape[1:], st.leaf_dtype(x))

        return st.pack_sequence_as(self._structure, [row(x) for x in self._leaves])

    def _cardinality(self) -> int:
        n = self._check_sizes(self._leaves)
        return UNKNOWN if n is None else n

    def _row(self, leaves: list[Any], i: int) -> Any:
        if not st.is_nested(self._structure):
            return leaves[0][i]
        return st.pack_sequence_as(self._structure, [x[i] for x in leaves])

    def _make_probe(self, i: int) -> Any:
        if any(st.is_symbolic(x) for x in self._leaves) or self._cardinality() == 0:
            return _zeros_like_spec(self._static_spec(), i + 1)
        return self._row(self._leaves, min(i, self._cardinality() - 1))

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        leaves = self._leaves
        if any(st.is_symbolic(x) for x in leaves):
            leaves = [_readonly(ctx.resolve(x)) if st.is_symbolic(x) else x for x in leaves]
            for i, x in enumerate(leaves):
                if isinstance(x, bytes) or np.ndim(x) == 0:
                    raise DataInvalidArgumentError(
                        f"from_tensor_slices: component {i} is a scalar; slicing needs rank >= 1"
                    )
            try:
                self._check_sizes(leaves)
            except ValueError as e:
                raise DataInvalidArgumentError(str(e)) from None
        n = len(leaves[0])
        return (self._row(leaves, i) for i in range(n))


class _TensorsDataset(Dataset):
    def __init__(self, tensors: Any):
        super().__init__()
        if isinstance(tensors, Dataset):
            raise TypeError("from_tensors expects arrays, not a Dataset")
        if isinstance(tensors, list):
            tensors = st.to_leaf(tensors)
        self._structure = tensors
        self._leaves = [
            x if st.is_symbolic(x) else _readonly(st.to_leaf(x)) for x in st.flatten(tensors)
        ]

    def _own_captures(self) -> list[Any]:
        return [x for x in self._leaves if st.is_symbolic(x)]

    def _static_spec(self) -> Any:
        specs = [TensorSpec.from_value(x) for x in self._leaves]
        return st.pack_sequence_as(self._structure, specs)

    def _cardinality(self) -> int:
        return 1

    def _make_probe(self, i: int) -> Any:
        if any(st.is_symbolic(x) for x in self._leaves):
            return _zeros_like_spec(self._static_spec(), i + 1)
        return st.pack_sequence_as(self._structure, self._leaves)

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        leaves = [_readonly(ctx.resolve(x)) for x in self._leaves]
        return iter([st.pack_sequence_as(self._structure, leaves)])


class _RangeDataset(Dataset):
    def __init__(self, *args: Any, dtype: Any = np.int64):
        super().__init__()
        if not 1 <= len(args) <= 3:
            raise TypeError(f"range expects 1 to 3 arguments, got {len(args)}")
        vals = [a.numpy() if hasattr(a, "numpy") else a for a in args]
        vals = [v.item() if isinstance(v, (np.generic, np.ndarray)) else v for v in vals]
        start, step = 0, 1
        if len(vals) == 1:
            (stop,) = vals
        elif len(vals) == 2:
            start, stop = vals
        else:
            start, stop, step = vals
        if step == 0:
            raise ValueError("range: step must not be zero")
        self._dtype = st.as_dtype(dtype)
        self._start, self._step = start, step
        if all(isinstance(v, (int, np.integer)) for v in (start, stop, step)):
            self._n = len(range(start, stop, step))
        else:
            self._n = max(0, math.ceil((stop - start) / step))

    def _static_spec(self) -> Any:
        return TensorSpec((), self._dtype)

    def _cardinality(self) -> int:
        return self._n

    def _value(self, i: int) -> Any:
        return self._dtype.type(self._start + i * self._step)

    def _make_probe(self, i: int) -> Any:
        return self._value(min(i, max(self._n - 1, 0)))

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        return (self._value(i) for i in range(self._n))


def _convert_to_spec(value: Any, spec: TensorSpec) -> Any:
    """Convert one generator output to ``spec`` (lossless) and check its shape."""
    dtype = spec.dtype
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    if dtype == st.OBJECT:
        if isinstance(value, (bytes, str)):
            leaf: Any = st.to_leaf(value)
        else:
            arr = np.asarray(value)
            if arr.dtype.kind not in "SUO" or (
                arr.dtype == st.OBJECT and not st.looks_like_strings(arr)
            ):
                raise DataTypeError(
                    "`generator` yielded an element that could not be converted to the expected "
                    f"type. The expected type was string, but the yielded element was "
                    f"{st.short_repr(value)}."
                )
            leaf = st.to_leaf(arr)
    else:
        bad = isinstance(value, (bytes, str))
        arr = None
        if not bad:
            try:
                arr = np.asarray(value)
            except (TypeError, ValueError):
                bad = True
        if not bad and arr is not None and arr.dtype.kind in "SUOV":
            bad = True
        if not bad and arr is not None:
            with np.errstate(all="ignore"):
                conv = arr.astype(dtype)
            if not np.can_cast(arr.dtype, dtype, "same_kind") and not np.array_equal(conv, arr):
                bad = True
        if bad or arr is None:
            raise DataTypeError(
                "`generator` yielded an element that could not be converted to the expected "
                f"type. The expected type was {dtype.name}, but the yielded element was "
                f"{st.short_repr(value)}."
            )
        leaf = conv[()] if conv.ndim == 0 else conv
    shape = st.leaf_shape(leaf)
    if not spec.is_compatible_with_shape(shape):
        raise DataInvalidArgumentError(
            f"`generator` yielded an element of shape {shape} where an element of shape "
            f"{spec.shape} was expected."
        )
    return leaf


class _GeneratorDataset(Dataset):
    def __init__(
        self,
        generator: Callable[..., Any],
        output_types: Any,
        output_shapes: Any,
        args: Sequence[Any] | None,
        output_signature: Any,
    ):
        super().__init__()
        if not callable(generator):
            raise TypeError("from_generator: `generator` must be callable (e.g. a generator "
                            "function), not an iterator")
        if output_signature is not None:
            if output_types is not None or output_shapes is not None:
                raise TypeError("give either output_signature or output_types/output_shapes")
            self._spec: Any = output_signature
        elif output_types is not None:
            self._spec = st.specs_from(output_types, output_shapes)
        elif output_shapes is not None:
            raise TypeError("from_generator: output_shapes needs output_types")
        else:
            self._spec = None
        self._generator = generator
        self._args = tuple(st.to_leaf(a) for a in args) if args is not None else ()

    def _static_spec(self) -> Any:
        return self._spec

    def _convert(self, value: Any) -> Any:
        if self._spec is None:
            return st.normalize_element(value)
        if not st.is_nested(self._spec):
            return _convert_to_spec(value, self._spec)
        values = st.flatten_up_to(self._spec, value, "`generator` yielded an element that")
        leaves = [_convert_to_spec(v, s) for v, s in zip(values, st.flatten(self._spec))]
        return st.pack_sequence_as(self._spec, leaves)

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        def gen() -> Iterator[Any]:
            source = iter(self._generator(*self._args))
            try:
                for value in source:
                    yield self._convert(value)
            finally:
                close_iterator(source)

        return gen()


# ==============================================================================================
# Combining datasets
# ==============================================================================================


class _ZipDataset(Dataset):
    def __init__(self, datasets: Any):
        super().__init__()
        flat = st.flatten(datasets)
        if not flat or not all(isinstance(d, Dataset) for d in flat):
            raise TypeError("zip expects a (nested) tuple or dict of Datasets")
        self._structure = datasets
        self._datasets: list[Dataset] = flat

    def _inputs(self) -> list[Dataset]:
        return list(self._datasets)

    def _static_spec(self) -> Any:
        return st.pack_sequence_as(self._structure, [d.element_spec for d in self._datasets])

    def _cardinality(self) -> int:
        cards = [d.cardinality() for d in self._datasets]
        finite = [c for c in cards if c >= 0]
        if finite and min(finite) == 0:
            return 0
        if UNKNOWN in cards:
            return UNKNOWN
        return min(finite) if finite else INFINITE

    def _make_probe(self, i: int) -> Any:
        return st.pack_sequence_as(self._structure, [d._probe(i) for d in self._datasets])

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        def gen() -> Iterator[Any]:
            its = [d._iterator(ctx) for d in self._datasets]
            try:
                while True:
                    parts = []
                    for it in its:
                        try:
                            parts.append(next(it))
                        except StopIteration:
                            return
                    yield st.pack_sequence_as(self._structure, parts)
            finally:
                for it in its:
                    close_iterator(it)

        return gen()


class _ConcatenateDataset(Dataset):
    def __init__(self, first: Dataset, second: Dataset):
        super().__init__()
        if not isinstance(second, Dataset):
            raise TypeError("concatenate expects a Dataset")
        self._first, self._second = first, second

    def _inputs(self) -> list[Dataset]:
        return [self._first, self._second]

    def _static_spec(self) -> Any:
        a, b = self._first.element_spec, self._second.element_spec
        try:
            return st.merge_specs(a, b)
        except (TypeError, ValueError) as e:
            raise TypeError(f"concatenate: incompatible element structures/types: {e}") from None

    def _cardinality(self) -> int:
        a, b = self._first.cardinality(), self._second.cardinality()
        if a == INFINITE or b == INFINITE:
            return INFINITE
        if a == UNKNOWN or b == UNKNOWN:
            return UNKNOWN
        return a + b

    def _make_probe(self, i: int) -> Any:
        return (self._first if i == 0 else self._second)._probe(i)

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        def gen() -> Iterator[Any]:
            for ds in (self._first, self._second):
                it = ds._iterator(ctx)
                try:
                    yield from it
                finally:
                    close_iterator(it)

        return gen()


# ==============================================================================================
# Unary transformations
# ==============================================================================================


class _UnaryDataset(Dataset):
    """A transformation of one input; by default it keeps the input's spec, size and probes."""

    def __init__(self, input_dataset: Dataset):
        super().__init__()
        if not isinstance(input_dataset, Dataset):
            raise TypeError(f"expected a Dataset, got {type(input_dataset).__name__}")
        self._input = input_dataset

    def _inputs(self) -> list[Dataset]:
        return [self._input]

    def _static_spec(self) -> Any:
        return self._input.element_spec

    def _cardinality(self) -> int:
        return self._input.cardinality()

    def _make_probe(self, i: int) -> Any:
        return self._input._probe(i)


def _parallelism(num_parallel_calls: int | None) -> int:
    if num_parallel_calls is None:
        return 1
    n = _as_int(num_parallel_calls, "num_parallel_calls")
    if n == AUTOTUNE:
        return _autotune_value()
    if n < 1:
        raise ValueError(f"num_parallel_calls must be positive or AUTOTUNE, got {n}")
    return n


class _MapDataset(_UnaryDataset):
    def __init__(self, input_dataset: Dataset, fn: Callable[..., Any], num_parallel_calls: Any):
        super().__init__(input_dataset)
        if not callable(fn):
            raise TypeError("map: map_func must be callable")
        self._fn = fn
        self._workers = _parallelism(num_parallel_calls)

    def _apply(self, element: Any) -> Any:
        out = _call(self._fn, element)
        if out is None:
            raise DataInvalidArgumentError(
                f"map function {getattr(self._fn, '__name__', self._fn)!s} returned None"
            )
        return st.normalize_element(out)

    def _static_spec(self) -> Any:
        return None

    def _make_probe(self, i: int) -> Any:
        return self._apply(self._input._probe(i))

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        source = self._input._iterator(ctx)
        if self._workers > 1:
            return parallel_map(iter(source), self._apply, self._workers)

        def gen() -> Iterator[Any]:
            try:
                for element in source:
                    yield self._apply(element)
            finally:
                close_iterator(source)

        return gen()


def _as_bool_scalar(value: Any) -> bool:
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    arr = np.asarray(value)
    if arr.shape != () or arr.dtype != np.bool_:
        raise DataTypeError(
            "filter: `predicate` must return a scalar boolean, got "
            f"{st.short_repr(value)} (dtype {arr.dtype}, shape {arr.shape})"
        )
    return bool(arr)


class _FilterDataset(_UnaryDataset):
    def __init__(self, input_dataset: Dataset, predicate: Callable[..., Any]):
        super().__init__(input_dataset)
        if not callable(predicate):
            raise TypeError("filter: predicate must be callable")
        self._predicate = predicate

    def _cardinality(self) -> int:
        return UNKNOWN

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        def gen() -> Iterator[Any]:
            source = self._input._iterator(ctx)
            try:
                for element in source:
                    if _as_bool_scalar(_call(self._predicate, element)):
                        yield element
            finally:
                close_iterator(source)

        return gen()


class _ShuffleDataset(_UnaryDataset):
    def __init__(
        self,
        input_dataset: Dataset,
        buffer_size: int,
        seed: int | None,
        reshuffle_each_iteration: bool,
    ):
        super().__init__(input_dataset)
        self._buffer_size = _as_int(buffer_size, "buffer_size")
        if self._buffer_size < 1:
            raise ValueError(f"shuffle: buffer_size must be positive, got {self._buffer_size}")
        resolved = _seed_resolver(None if seed is None else _as_int(seed, "seed"))
        self._seed = secrets.randbits(63) if resolved is None else int(resolved)
        self._reshuffle = bool(reshuffle_each_iteration)
        self._epochs = itertools.count()
        self._epoch_lock = threading.Lock()

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        if self._reshuffle and not ctx.probing:
            with self._epoch_lock:
                epoch = next(self._epochs)
        else:
            epoch = 0
        rng = np.random.default_rng([self._seed, epoch])
        size = self._buffer_size

        def gen() -> Iterator[Any]:
            source = self._input._iterator(ctx)
            try:
                buffer = list(itertools.islice(source, size))
                randoms = rng.random(1024)
                r = 0
                while buffer:
                    if r == len(randoms):
                        randoms, r = rng.random(1024), 0
                    i = min(int(randoms[r] * len(buffer)), len(buffer) - 1)
                    r += 1
                    out = buffer[i]
                    try:
                        buffer[i] = next(source)
                    except StopIteration:
                        buffer[i] = buffer[-1]
                        buffer.pop()
                    yield out
            finally:
                close_iterator(source)

        return gen()


def _check_batch_size(batch_size: Any) -> int:
    n = _as_int(batch_size, "batch_size")
    if n < 1:
        raise ValueError(f"batch_size must be a positive integer, got {n}")
    return n


def _batched_cardinality(n: int, batch_size: int, drop_remainder: bool) -> int:
    if n < 0:
        return n
    return n // batch_size if drop_remainder else -(-n // batch_size)


def _batches(source: Iterator[Any], batch_size: int, drop_remainder: bool) -> Iterator[list[Any]]:
    while True:
        chunk = list(itertools.islice(source, batch_size))
        if not chunk or (drop_remainder and len(chunk) < batch_size):
            return
        yield chunk


def _is_string_leaf(x: Any) -> bool:
    return isinstance(x, bytes) or (isinstance(x, np.ndarray) and x.dtype == st.OBJECT)


def _stack(leaves: list[Any], component: int) -> Any:
    """``np.stack`` with TF's error message for mismatched shapes; strings -> object arrays."""
    shape0 = np.shape(leaves[0])
    for j, x in enumerate(leaves):
        if np.shape(x) != shape0:
            raise DataInvalidArgumentError(
                f"Cannot batch tensors with different shapes in component {component}. First "
                f"element had shape {list(shape0)} and element {j} had shape {list(np.shape(x))}."
                " (Use padded_batch for elements of varying shape.)"
            )
    if _is_string_leaf(leaves[0]):
        out = np.empty((len(leaves), *shape0), dtype=object)
        for j, x in enumerate(leaves):
            out[j] = x
        return out
    return np.stack(leaves)


def _batch_elements(chunk: list[Any]) -> Any:
    template = chunk[0]
    flats = [st.flatten(e) for e in chunk]
    n = len(flats[0])
    for j, f in enumerate(flats):
        if len(f) != n:
            raise DataInvalidArgumentError(
                f"Cannot batch elements of different structures: element 0 has {n} components, "
                f"element {j} has {len(f)}"
            )
    return st.pack_sequence_as(
        template, [_stack([f[c] for f in flats], c) for c in range(n)]
    )


class _BatchDataset(_UnaryDataset):
    def __init__(self, input_dataset: Dataset, batch_size: int, drop_remainder: bool):
        super().__init__(input_dataset)
        self._batch_size = _check_batch_size(batch_size)
        self._drop = bool(drop_remainder)

    def _static_spec(self) -> Any:
        lead = self._batch_size if self._drop else None
        return st.map_structure(
            lambda s: TensorSpec(None if s.shape is None else (lead, *s.shape), s.dtype),
            self._input.element_spec,
        )

    def _cardinality(self) -> int:
        return _batched_cardinality(self._input.cardinality(), self._batch_size, self._drop)

    def _make_probe(self, i: int) -> Any:
        n = self._batch_size if self._drop else i + 2  # differing sizes expose the None dim
        return _batch_elements([self._input._probe(i)] * n)

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        def gen() -> Iterator[Any]:
            source = self._input._iterator(ctx)
            try:
                for chunk in _batches(source, self._batch_size, self._drop):
                    yield _batch_elements(chunk)
            finally:
                close_iterator(source)

        return gen()


class _PaddedBatchDataset(_UnaryDataset):
    def __init__(
        self,
        input_dataset: Dataset,
        batch_size: int,
        padded_shapes: Any,
        padding_values: Any,
        drop_remainder: bool,
    ):
        super().__init__(input_dataset)
        self._batch_size = _check_batch_size(batch_size)
        self._drop = bool(drop_remainder)
        self._padded_shapes = padded_shapes
        self._padding_values = padding_values

    def _per_component(self, template: Any) -> tuple[list[Any], list[Any]]:
        """Flattened (padded shape, padding value) per component of ``template``'s structure."""
        n = len(st.flatten(template))
        if self._padded_shapes is None:
            shapes: list[Any] = [None] * n
        else:
            raw = st.flatten_up_to(template, self._padded_shapes, "padded_shapes")
            shapes = [st.as_shape(s) for s in raw]
        pv = self._padding_values
        if pv is None:
            values: list[Any] = [None] * n
        elif st.is_nested(template) and st.is_nested(pv):
            values = st.flatten_up_to(template, pv, "padding_values")
        else:
            values = [pv] * n
        return shapes, values

    def _static_spec(self) -> Any:
        spec = self._input.element_spec
        shapes, _ = self._per_component(spec)
        lead = self._batch_size if self._drop else None
        out = []
        for s, p in zip(st.flatten(spec), shapes):
            if p is None:
                dims = s.shape
            elif s.shape is not None and len(s.shape) != len(p):
                raise ValueError(
                    f"padded_batch: padded shape {p} has rank {len(p)} but the component has "
                    f"shape {s.shape}"
                )
            else:
                dims = p
            out.append(TensorSpec(None if dims is None else (lead, *dims), s.dtype))
        return st.pack_sequence_as(spec, out)

    def _cardinality(self) -> int:
        return _batched_cardinality(self._input.cardinality(), self._batch_size, self._drop)

    def _pad(self, chunk: list[Any]) -> Any:
        template = chunk[0]
        flats = [st.flatten(e) for e in chunk]
        shapes, values = self._per_component(template)
        out = []
        for c, (target, pad) in enumerate(zip(shapes, values)):
            leaves = [f[c] for f in flats]
            out.append(_pad_component(leaves, target, pad, c))
        return st.pack_sequence_as(template, out)

    def _make_probe(self, i: int) -> Any:
        n = self._batch_size if self._drop else i + 2
        return self._pad([self._input._probe(i)] * n)

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        def gen() -> Iterator[Any]:
            source = self._input._iterator(ctx)
            try:
                for chunk in _batches(source, self._batch_size, self._drop):
                    yield self._pad(chunk)
            finally:
                close_iterator(source)

        return gen()


def _pad_component(leaves: list[Any], target: Any, pad: Any, component: int) -> np.ndarray:
    shapes = [np.shape(x) for x in leaves]
    rank = len(shapes[0])
    for j, s in enumerate(shapes):
        if len(s) != rank:
            raise DataInvalidArgumentError(
                f"padded_batch: component {component} has rank {rank} in element 0 but rank "
                f"{len(s)} in element {j}"
            )
    if target is not None and len(target) != rank:
        raise DataInvalidArgumentError(
            f"padded_batch: padded shape {target} for component {component} has rank "
            f"{len(target)}, but the element has rank {rank} (shape {shapes[0]})"
        )
    dims = []
    for d in range(rank):
        longest = max(s[d] for s in shapes)
        want = None if target is None else target[d]
        if want is None:
            dims.append(longest)
        elif want < longest:
            raise DataInvalidArgumentError(
                f"padded_batch: attempted to pad component {component} to a smaller size than "
                f"the input element (dimension {d}: padded size {want} < element size {longest})"
            )
        else:
            dims.append(want)
    is_str = _is_string_leaf(leaves[0])
    if is_str:
        out = np.empty((len(leaves), *dims), dtype=object)
        out.fill(b"" if pad is None else st.to_leaf(pad))
    else:
        dtype = np.asarray(leaves[0]).dtype
        fill = 0 if pad is None else pad
        if hasattr(fill, "numpy") and callable(fill.numpy):
            fill = fill.numpy()
        out = np.full((len(leaves), *dims), fill, dtype=dtype)
    for j, x in enumerate(leaves):
        out[(j, *(slice(0, n) for n in np.shape(x)))] = x
    return out


class _UnbatchDataset(_UnaryDataset):
    def _static_spec(self) -> Any:
        def one(s: TensorSpec) -> TensorSpec:
            if s.shape is not None and len(s.shape) == 0:
                raise ValueError("unbatch: every component needs rank >= 1")
            return TensorSpec(None if s.shape is None else s.shape[1:], s.dtype)

        return st.map_structure(one, self._input.element_spec)

    def _cardinality(self) -> int:
        n = self._input.cardinality()
        return INFINITE if n == INFINITE else UNKNOWN

    def _make_probe(self, i: int) -> Any:
        element = self._input._probe(i)
        leaves = st.flatten(element)
        if leaves and all(np.ndim(x) >= 1 and np.shape(x)[0] > 0 for x in leaves):
            return st.pack_sequence_as(element, [x[0] for x in leaves])
        return _zeros_like_spec(self._static_spec(), i + 1)

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        def gen() -> Iterator[Any]:
            source = self._input._iterator(ctx)
            try:
                for element in source:
                    leaves = st.flatten(element)
                    sizes = []
                    for c, x in enumerate(leaves):
                        if isinstance(x, bytes) or np.ndim(x) == 0:
                            raise DataInvalidArgumentError(
                                f"unbatch: component {c} is a scalar; it needs rank >= 1"
                            )
                        sizes.append(np.shape(x)[0])
                    if len(set(sizes)) > 1:
                        raise DataInvalidArgumentError(
                            f"unbatch: components have different sizes in dimension 0: {sizes}"
                        )
                    for i in range(sizes[0]):
                        yield st.pack_sequence_as(element, [x[i] for x in leaves])
            finally:
                close_iterator(source)

        return gen()


def _count(count: Any, name: str) -> int:
    n = -1 if count is None else _as_int(count, name)
    if n < -1:
        raise ValueError(f"{name} must be >= -1, got {n}")
    return n


class _RepeatDataset(_UnaryDataset):
    def __init__(self, input_dataset: Dataset, count: int | None):
        super().__init__(input_dataset)
        self._count = _count(count, "count")

    def _cardinality(self) -> int:
        n = self._input.cardinality()
        if self._count < 0:
            return 0 if n == 0 else INFINITE
        if n < 0:
            return n
        return n * self._count

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        def gen() -> Iterator[Any]:
            done = 0
            while self._count < 0 or done < self._count:
                source = self._input._iterator(ctx)
                produced = False
                try:
                    for element in source:
                        produced = True
                        yield element
                finally:
                    close_iterator(source)
                if not produced:
                    return
                done += 1

        return gen()


class _TakeDataset(_UnaryDataset):
    def __init__(self, input_dataset: Dataset, count: int):
        super().__init__(input_dataset)
        self._count = _count(count, "count")

    def _cardinality(self) -> int:
        n = self._input.cardinality()
        if n == UNKNOWN:
            return UNKNOWN if self._count != 0 else 0
        if n == INFINITE:
            return self._count
        return n if self._count < 0 else min(n, self._count)

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        def gen() -> Iterator[Any]:
            if self._count == 0:
                return
            source = self._input._iterator(ctx)
            try:
                taken = 0
                for element in source:
                    yield element
                    taken += 1
                    if taken == self._count:
                        return
            finally:
                close_iterator(source)

        return gen()


class _SkipDataset(_UnaryDataset):
    def __init__(self, input_dataset: Dataset, count: int):
        super().__init__(input_dataset)
        self._count = _count(count, "count")

    def _cardinality(self) -> int:
        n = self._input.cardinality()
        if n < 0:
            return n
        return 0 if self._count < 0 else max(0, n - self._count)

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        def gen() -> Iterator[Any]:
            source = self._input._iterator(ctx)
            try:
                if self._count < 0:
                    for _ in source:
                        pass
                    return
                for _ in itertools.islice(source, self._count):
                    pass
                yield from source
            finally:
                close_iterator(source)

        return gen()


class _ShardDataset(_UnaryDataset):
    def __init__(self, input_dataset: Dataset, num_shards: int, index: int):
        super().__init__(input_dataset)
        self._n = _as_int(num_shards, "num_shards")
        self._index = _as_int(index, "index")
        if self._n < 1 or not 0 <= self._index < self._n:
            raise ValueError(f"shard: need num_shards >= 1 and 0 <= index < num_shards, got "
                             f"num_shards={self._n}, index={self._index}")

    def _cardinality(self) -> int:
        n = self._input.cardinality()
        if n < 0:
            return n
        return n // self._n + (1 if self._index < n % self._n else 0)

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        def gen() -> Iterator[Any]:
            source = self._input._iterator(ctx)
            try:
                yield from itertools.islice(source, self._index, None, self._n)
            finally:
                close_iterator(source)

        return gen()


class _CacheDataset(_UnaryDataset):
    def __init__(self, input_dataset: Dataset, filename: str):
        super().__init__(input_dataset)
        self._filename = os.fspath(filename) if filename else ""
        self._cache: list[Any] | None = None
        self._lock = threading.Lock()

    def _load(self) -> list[Any] | None:
        with self._lock:
            if self._cache is None and self._filename and os.path.exists(self._filename):
                with open(self._filename, "rb") as f:
                    self._cache = pickle.load(f)
            return self._cache

    def _store(self, elements: list[Any]) -> None:
        with self._lock:
            if self._cache is not None:
                return
            self._cache = elements
            if self._filename:
                tmp = f"{self._filename}.tmp-{os.getpid()}-{threading.get_ident()}"
                with open(tmp, "wb") as f:
                    pickle.dump(elements, f, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self._filename)

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        cached = self._load()
        if cached is not None:
            return iter(cached)

        def gen() -> Iterator[Any]:
            source = self._input._iterator(ctx)
            recorded: list[Any] = []
            try:
                for element in source:
                    element = st.map_structure(_readonly, element)  # replayed: keep immutable
                    recorded.append(element)
                    yield element
            finally:
                close_iterator(source)
            self._store(recorded)

        return gen()


class _PrefetchDataset(_UnaryDataset):
    def __init__(self, input_dataset: Dataset, buffer_size: int):
        super().__init__(input_dataset)
        n = _as_int(buffer_size, "buffer_size")
        if n == AUTOTUNE:
            n = max(2, _autotune_value())
        elif n < 0:
            raise ValueError(f"prefetch: buffer_size must be >= 0 or AUTOTUNE, got {n}")
        self._buffer_size = n

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        source = self._input._iterator(ctx)
        if self._buffer_size == 0:
            return source
        return PrefetchIterator(source, self._buffer_size)


def _as_dataset(value: Any, what: str) -> Dataset:
    if not isinstance(value, Dataset):
        raise DataTypeError(f"{what}: map_func must return a Dataset, got {type(value).__name__}")
    return value


class _InterleaveDataset(_UnaryDataset):
    def __init__(
        self,
        input_dataset: Dataset,
        fn: Callable[..., Dataset],
        cycle_length: int | None,
        block_length: int | None,
        name: str = "InterleaveDataset",
    ):
        super().__init__(input_dataset)
        if not callable(fn):
            raise TypeError(f"{name}: map_func must be callable")
        self._fn = fn
        self._name = name
        c = AUTOTUNE if cycle_length is None else _as_int(cycle_length, "cycle_length")
        self._cycle = _autotune_value() if c == AUTOTUNE else c
        self._block = 1 if block_length is None else _as_int(block_length, "block_length")
        if self._cycle < 1 or self._block < 1:
            raise ValueError("interleave: cycle_length and block_length must be positive")

    def __repr__(self) -> str:
        return f"<{self._name}>"

    def _static_spec(self) -> Any:
        return None

    def _cardinality(self) -> int:
        return UNKNOWN

    def _make_probe(self, i: int) -> Any:
        return _as_dataset(_call(self._fn, self._input._probe(i)), self._name)._probe(i)

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        cycle, block = self._cycle, self._block

        def gen() -> Iterator[Any]:
            source = self._input._iterator(ctx)
            current: list[Iterator[Any] | None] = [None] * cycle
            index = block_index = num_open = 0
            end_of_input = False
            try:
                while not end_of_input or num_open > 0:
                    it = current[index]
                    if it is not None:
                        try:
                            element = next(it)
                        except StopIteration:
                            close_iterator(it)
                            current[index] = None
                            num_open -= 1
                            index, block_index = (index + 1) % cycle, 0
                            continue
                        block_index += 1
                        if block_index == block:
                            index, block_index = (index + 1) % cycle, 0
                        yield element
                    elif not end_of_input:
                        try:
                            element = next(source)
                        except StopIteration:
                            end_of_input = True
                            continue
                        ds = _as_dataset(_call(self._fn, element), self._name)
                        current[index] = ds._iterator(ctx)
                        num_open += 1
                    else:
                        index, block_index = (index + 1) % cycle, 0
            finally:
                for it in current:
                    if it is not None:
                        close_iterator(it)
                close_iterator(source)

        return gen()


class _EnumerateDataset(_UnaryDataset):
    def __init__(self, input_dataset: Dataset, start: int):
        super().__init__(input_dataset)
        self._start = _as_int(start, "start")

    def _static_spec(self) -> Any:
        return (TensorSpec((), np.int64), self._input.element_spec)

    def _make_probe(self, i: int) -> Any:
        return (np.int64(self._start + i), self._input._probe(i))

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        def gen() -> Iterator[Any]:
            source = self._input._iterator(ctx)
            try:
                for i, element in enumerate(source, self._start):
                    yield (np.int64(i), element)
            finally:
                close_iterator(source)

        return gen()

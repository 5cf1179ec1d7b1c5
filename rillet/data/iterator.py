"""Python iterators behind datasets: the public :class:`DatasetIterator`, the iterator context,
and the background-thread machinery used by ``prefetch`` and parallel ``map``.

Every ``Dataset._iterator(ctx)`` returns a plain Python iterator (usually a generator). Iterators
own the iterators of their inputs and close them (``close()``) when they finish, fail or are
closed themselves, so stopping early releases background threads promptly.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from rillet.data import structure
from rillet.data._errors import DataInvalidArgumentError

if TYPE_CHECKING:
    from rillet.data.dataset import Dataset


class IteratorContext:
    """State shared by all iterators of one pipeline pass.

    ``feeds`` maps symbolic source leaves (see :func:`structure.register_symbolic_type`) to their
    concrete values for this pass (what a TF1 initializable iterator's ``feed_dict`` supplies).
    ``probing`` marks the short internal passes used to infer element specs (they must not
    advance per-pass state such as a shuffle's epoch counter).
    """

    def __init__(self, feeds: Mapping[Any, Any] | None = None, probing: bool = False):
        self.probing = probing
        self._feeds: dict[int, Any] = {}
        self._keep: list[Any] = []
        for k, v in (feeds or {}).items():
            self._feeds[id(k)] = v
            self._keep.append(k)

    def resolve(self, leaf: Any) -> Any:
        """The concrete value of ``leaf`` (itself unless it is symbolic)."""
        if not structure.is_symbolic(leaf):
            return leaf
        try:
            value = self._feeds[id(leaf)]
        except KeyError:
            name = getattr(leaf, "name", None) or repr(leaf)
            raise DataInvalidArgumentError(
                f"the dataset captures the symbolic tensor {name}, which needs a value: create the "
                "iterator with feeds={tensor: value} (an initializable iterator's feed_dict)"
            ) from None
        return structure.to_leaf(value)


def close_iterator(it: Any) -> None:
    """Close ``it`` if it supports ``close()`` (generators and rillet iterators do)."""
    close = getattr(it, "close", None)
    if close is not None:
        close()


class DatasetIterator:
    """The iterator returned by ``iter(dataset)``: yields NumPy elements, one pass of the pipeline.

    ``next()`` is thread-safe (calls are serialised). After ``StopIteration`` or an error the
    iterator stays exhausted. ``close()`` (also on ``with`` exit and garbage collection) stops
    background threads of ``prefetch``/parallel ``map`` stages and closes user generators.
    """

    def __init__(self, dataset: Dataset, feeds: Mapping[Any, Any] | None = None):
        self._dataset = dataset
        self._lock = threading.Lock()
        self._done = False
        self._it: Iterator[Any] | None = dataset._iterator(IteratorContext(feeds))

    def __iter__(self) -> DatasetIterator:
        return self

    def __next__(self) -> Any:
        with self._lock:
            if self._done or self._it is None:
                raise StopIteration
            try:
                return next(self._it)
            except BaseException:
                self._finish()
                raise

    def next(self) -> Any:
        """Same as ``next(iterator)`` (TF1 spelling)."""
        return self.__next__()

    def get_next(self) -> Any:
        """Same as ``next(iterator)``; a graph-mode wrapper builds an op around this."""
        return self.__next__()

    def _finish(self) -> None:
        self._done = True
        it, self._it = self._it, None
        if it is not None:
            close_iterator(it)

    def close(self) -> None:
        """Stop the pass early and release its resources (idempotent)."""
        with self._lock:
            self._finish()

    def __enter__(self) -> DatasetIterator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def element_spec(self) -> Any:
        """The dataset's :attr:`Dataset.element_spec`."""
        return self._dataset.element_spec

    @property
    def output_types(self) -> Any:
        """The dataset's ``output_types``."""
        return self._dataset.output_types

    @property
    def output_shapes(self) -> Any:
        """The dataset's ``output_shapes``."""
        return self._dataset.output_shapes


# ----------------------------------------------------------------------------------------------
# prefetch: a daemon producer thread filling a bounded queue
# ----------------------------------------------------------------------------------------------

_ITEM, _END, _ERROR = 0, 1, 2


def _produce(source: Iterator[Any], q: queue.Queue, stop: threading.Event) -> None:
    """Producer loop. Holds no reference to the consumer-side iterator object."""
    try:
        for element in source:
            q.put((_ITEM, element))
            if stop.is_set():
                return
        if not stop.is_set():
            q.put((_END, None))
    except BaseException as e:  # noqa: BLE001 - handed to the consumer
        if not stop.is_set():
            q.put((_ERROR, e))
    finally:
        try:
            close_iterator(source)
        except Exception:  # noqa: BLE001 - nobody left to report to
            pass


def _shutdown(q: queue.Queue, stop: threading.Event) -> None:
    """Ask the producer to stop; draining lets a producer blocked in ``put`` see the flag.

    After the drain the producer can put at most one more item (it checks the flag after every
    put), so it never blocks again and exits as soon as its current element is computed.
    """
    stop.set()
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            break


class PrefetchIterator:
    """Runs ``source`` in a background daemon thread, buffering up to ``buffer_size`` elements.

    Exceptions raised by the source are re-raised in the consumer at the position they occurred.
    Closing (explicitly, at the end, or when this object is garbage collected) stops the thread.
    """

    _count = 0
    _count_lock = threading.Lock()

    def __init__(self, source: Iterator[Any], buffer_size: int):
        self._q: queue.Queue = queue.Queue(maxsize=max(1, buffer_size))
        self._stop = threading.Event()
        self._finished = False
        with PrefetchIterator._count_lock:
            PrefetchIterator._count += 1
            n = PrefetchIterator._count
        self._thread = threading.Thread(
            target=_produce, args=(source, self._q, self._stop),
            name=f"rillet-prefetch-{n}", daemon=True,
        )
        self._finalizer = weakref.finalize(self, _shutdown, self._q, self._stop)
        self._thread.start()

    def __iter__(self) -> PrefetchIterator:
        return self

    def __next__(self) -> Any:
        if self._finished:
            raise StopIteration
        kind, value = self._q.get()
        if kind == _ITEM:
            return value
        self._finished = True
        self._finalizer()
        if kind == _ERROR:
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop the producer thread (it exits once its current element is done)."""
        self._finished = True
        self._finalizer()

    @property
    def thread(self) -> threading.Thread:
        """The producer thread (for tests and diagnostics)."""
        return self._thread


# ----------------------------------------------------------------------------------------------
# parallel map: an order-preserving thread pool
# ----------------------------------------------------------------------------------------------


def parallel_map(source: Iterator[Any], fn: Callable[[Any], Any], workers: int) -> Iterator[Any]:
    """Yield ``fn(e)`` for ``e`` in ``source`` in order, computing up to ``workers`` at once.

    Input elements are pulled in the consumer thread; ``fn`` runs in pool threads (useful when it
    releases the GIL: NumPy kernels, I/O, sleeps). An input error is raised at its position.
    """
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rillet-map")
    pending: deque[Future] = deque()
    exhausted = False

    def refill() -> None:
        nonlocal exhausted
        while not exhausted and len(pending) < workers:
            try:
                element = next(source)
            except StopIteration:
                exhausted = True
                return
            except Exception as e:  # noqa: BLE001 - delivered in order below
                failed: Future = Future()
                failed.set_exception(e)
                pending.append(failed)
                exhausted = True
                return
            pending.append(pool.submit(fn, element))

    try:
        while True:
            refill()
            if not pending:
                return
            future = pending.popleft()
            refill()
            yield future.result()
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        close_iterator(source)

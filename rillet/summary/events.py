"""TensorBoard event files: TFRecord framing, ``EventFileWriter`` and TF 1.x's ``FileWriter``.

An event file is a sequence of TFRecords, each holding one serialized ``event_pb2.Event``::

    uint64  length          (little-endian)
    uint32  masked_crc32c(length bytes)
    bytes   data[length]
    uint32  masked_crc32c(data)

with ``masked_crc32c(x) = ((crc >> 15) | (crc << 17)) + 0xa282ead8  (mod 2**32)`` over the
CRC-32C (Castagnoli) checksum. The first event of a file carries
``file_version = "brain.Event:2"``. Files are named
``events.out.tfevents.<10-digit unix time>.<hostname><suffix>``, exactly like TensorFlow's
``EventsWriter``, so ``tensorboard --logdir`` picks them up.

Only the ``tensorboard`` package's protocol buffers and the ``crc32c`` package are used;
TensorFlow is never imported.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
import weakref
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import crc32c as _crc32c
import numpy as np
from tensorboard.compat.proto import event_pb2, graph_pb2, meta_graph_pb2, summary_pb2

from rillet.errors import DataLossError

__all__ = [
    "EventFileWriter",
    "FileWriter",
    "FileWriterCache",
    "encode_record",
    "masked_crc32c",
    "summary_iterator",
    "tf_record_iterator",
]

FILE_VERSION = "brain.Event:2"
_MASK_DELTA = 0xA282EAD8


# --------------------------------------------------------------------------------------------
# TFRecord framing
# --------------------------------------------------------------------------------------------


def masked_crc32c(data: bytes) -> int:
    """The TFRecord checksum: CRC-32C of ``data``, rotated right by 15 bits plus 0xa282ead8."""
    crc = _crc32c.crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def encode_record(data: bytes) -> bytes:
    """Frame ``data`` as one TFRecord (length, length CRC, data, data CRC)."""
    header = struct.pack("<Q", len(data))
    return b"".join(
        [
            header,
            struct.pack("<I", masked_crc32c(header)),
            data,
            struct.pack("<I", masked_crc32c(data)),
        ]
    )


def tf_record_iterator(
    path: str | os.PathLike[str], ignore_truncated_tail: bool = True
) -> Iterator[bytes]:
    """Yield the payload of each TFRecord in the file at ``path``, checking both CRCs.

    Args:
      path: the record file.
      ignore_truncated_tail: a record cut short by the end of the file (a writer still
        appending, or a crash mid-write) ends the iteration quietly, as TensorBoard does;
        with ``False`` it raises ``DataLossError`` like TF's ``tf_record_iterator``.

    Raises:
      DataLossError: on a CRC mismatch (corruption), or a truncated tail if not ignored.
    """
    with open(path, "rb") as f:
        offset = 0
        while True:
            header = f.read(12)
            if not header:
                return
            truncated = len(header) < 12
            if not truncated:
                (length,) = struct.unpack("<Q", header[:8])
                (length_crc,) = struct.unpack("<I", header[8:])
                if masked_crc32c(header[:8]) != length_crc:
                    raise DataLossError(
                        None, None, f"corrupted record at {offset} in {os.fspath(path)}"
                    )
                data = f.read(length)
                footer = f.read(4)
                truncated = len(data) < length or len(footer) < 4
            if truncated:
                if ignore_truncated_tail:
                    return
                raise DataLossError(
                    None, None, f"truncated record at {offset} in {os.fspath(path)}"
                )
            if masked_crc32c(data) != struct.unpack("<I", footer)[0]:
                raise DataLossError(
                    None, None, f"corrupted record at {offset} in {os.fspath(path)}"
                )
            offset += 16 + length
            yield data


def summary_iterator(path: str | os.PathLike[str]) -> Iterator[event_pb2.Event]:
    """Yield the ``event_pb2.Event`` protos of an event file (TF's ``train.summary_iterator``)."""
    for record in tf_record_iterator(path):
        yield event_pb2.Event.FromString(record)


# --------------------------------------------------------------------------------------------
# EventFileWriter
# --------------------------------------------------------------------------------------------


class _RecordSink:
    """An append-only record file with a pending queue; every method is thread-safe.

    Records are queued whole and written with one ``write`` per flush, so the file only ever
    grows by complete records (short of a crash mid-write, which readers tolerate).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._file = open(path, "xb")  # noqa: SIM115 - closed by close()
        self._lock = threading.RLock()
        self._pending: list[bytes] = []
        self.closed = False

    def append(self, record: bytes) -> int:
        """Queue one framed record; returns the number of queued records (0 if closed)."""
        with self._lock:
            if self.closed:
                return 0
            self._pending.append(record)
            return len(self._pending)

    def flush(self) -> None:
        """Write the queued records and flush the OS-level file buffer."""
        with self._lock:
            if self.closed:
                return
            if self._pending:
                data = b"".join(self._pending)
                self._pending.clear()
                self._file.write(data)
            self._file.flush()

    def close(self) -> None:
        """Flush and close (idempotent)."""
        with self._lock:
            if self.closed:
                return
            try:
                self.flush()
            finally:
                self.closed = True
                self._file.close()


def _flush_loop(sink: _RecordSink, stop: threading.Event, flush_secs: float) -> None:
    while not stop.wait(flush_secs):
        try:
            sink.flush()
        except (OSError, ValueError):  # disk full, file gone: retry next period
            pass
    sink.close()


def _shutdown(sink: _RecordSink, stop: threading.Event, thread: threading.Thread) -> None:
    stop.set()
    if thread is threading.current_thread():
        return  # collected inside the flusher itself: it closes the sink on its way out
    sink.close()


class EventFileWriter:
    """Writes ``event_pb2.Event`` protos to a new event file in ``logdir``.

    Events are queued in memory and written when ``max_queue`` of them are pending, every
    ``flush_secs`` seconds (a daemon thread), on ``flush()`` and on ``close()``. A writer that is
    garbage-collected or still open at interpreter exit is flushed and closed automatically.
    All methods may be called from any thread.

    Args:
      logdir: directory for the event file; created if missing.
      max_queue: number of pending events that triggers a write.
      flush_secs: period of the background flush, in seconds.
      filename_suffix: appended to the file name.
    """

    def __init__(
        self,
        logdir: str | os.PathLike[str],
        max_queue: int = 10,
        flush_secs: float = 120,
        filename_suffix: str = "",
    ) -> None:
        self._logdir = os.fspath(logdir)
        self._max_queue = max(1, int(max_queue))
        self._flush_secs = float(flush_secs)
        self._filename_suffix = filename_suffix or ""
        self._lock = threading.Lock()
        self._closed = True
        self._open()

    def _open(self) -> None:
        os.makedirs(self._logdir, exist_ok=True)
        stem = os.path.join(
            self._logdir, f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}"
        )
        path = stem + self._filename_suffix
        counter = 0
        while True:
            try:
                sink = _RecordSink(path)
                break
            except FileExistsError:
                # Another writer opened a file in this second: never clobber it.
                counter += 1
                path = f"{stem}{self._filename_suffix}.{counter}"
        self._sink = sink
        stop = threading.Event()
        thread = threading.Thread(
            target=_flush_loop,
            args=(sink, stop, self._flush_secs),
            name=f"rillet-event-flusher:{os.path.basename(path)}",
            daemon=True,
        )
        self._finalizer = weakref.finalize(self, _shutdown, sink, stop, thread)
        self._closed = False
        sink.append(
            encode_record(
                event_pb2.Event(
                    wall_time=time.time(), file_version=FILE_VERSION
                ).SerializeToString()
            )
        )
        sink.flush()
        thread.start()

    @property
    def path(self) -> str:
        """Path of the event file currently written."""
        return self._sink.path

    def get_logdir(self) -> str:
        """The directory the event file is written to."""
        return self._logdir

    def add_event(self, event: event_pb2.Event) -> None:
        """Queue one event (silently ignored after ``close()``, as in TF)."""
        if not isinstance(event, event_pb2.Event):
            raise TypeError(f"expected an event_pb2.Event, got {type(event).__name__}")
        self.add_serialized_event(event.SerializeToString())

    def add_serialized_event(self, data: bytes) -> None:
        """Queue one already-serialized ``Event``."""
        with self._lock:
            if self._closed:
                return
            sink = self._sink
        if sink.append(encode_record(bytes(data))) >= self._max_queue:
            sink.flush()

    def flush(self) -> None:
        """Write all pending events to disk."""
        with self._lock:
            if self._closed:
                return
            sink = self._sink
        sink.flush()

    def close(self) -> None:
        """Flush and close the file; further events are ignored until ``reopen()``."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            finalizer = self._finalizer
        finalizer()

    def reopen(self) -> None:
        """After ``close()``, start writing to a new event file in the same directory."""
        with self._lock:
            if self._closed:
                self._open()

    @property
    def closed(self) -> bool:
        """Whether the writer has been closed."""
        return self._closed


# --------------------------------------------------------------------------------------------
# FileWriter (TF 1.x API)
# --------------------------------------------------------------------------------------------


def _as_summary_proto(summary: Any) -> summary_pb2.Summary:
    if isinstance(summary, np.ndarray):
        if summary.size != 1:
            raise TypeError(f"add_summary expects one serialized Summary, got {summary.shape}")
        summary = summary.reshape(()).item()
    if isinstance(summary, summary_pb2.Summary):
        copy = summary_pb2.Summary()
        copy.CopyFrom(summary)
        return copy
    if isinstance(summary, (bytes, bytearray, memoryview)):
        return summary_pb2.Summary.FromString(bytes(summary))
    raise TypeError(
        f"add_summary expects serialized Summary bytes or a Summary proto, "
        f"got {type(summary).__name__}"
    )


def _as_bytes(proto_or_bytes: Any, what: str) -> bytes:
    if isinstance(proto_or_bytes, (bytes, bytearray, memoryview)):
        return bytes(proto_or_bytes)
    if hasattr(proto_or_bytes, "SerializeToString"):
        return proto_or_bytes.SerializeToString()
    raise TypeError(f"{what}: expected a protocol buffer or bytes, got {type(proto_or_bytes)}")


def _graph_def_bytes(graph: Any) -> bytes:
    if isinstance(graph, (graph_pb2.GraphDef, bytes, bytearray, memoryview)):
        return _as_bytes(graph, "add_graph")
    if hasattr(graph, "get_operations"):
        from rillet.summary.graph_def import graph_to_graph_def

        return graph_to_graph_def(graph).SerializeToString()
    if hasattr(graph, "as_graph_def"):
        return graph.as_graph_def().SerializeToString()
    raise TypeError(f"add_graph expects a Graph or a GraphDef, got {type(graph).__name__}")


class FileWriter:
    """Writes summaries, graphs and events to an event file (TF 1.x ``tf.summary.FileWriter``).

    ::

        writer = FileWriter("logs/run1", sess.graph)
        for step in range(n):
            summary_bytes, _ = sess.run([merged, train_op], feed_dict=...)
            writer.add_summary(summary_bytes, step)
        writer.close()

    Args:
      logdir: directory for the event file (created if missing). ``tensorboard --logdir logs``
        shows each sub-directory of ``logs`` as a run.
      graph: optional graph (or ``GraphDef``) written immediately, as by ``add_graph``.
      max_queue: number of pending events that triggers a write to disk.
      flush_secs: how often, in seconds, pending events are written by a background thread.
      graph_def: deprecated TF argument; a ``GraphDef`` to write when ``graph`` is None.
      filename_suffix: appended to the event file name.
      session: TF 2 summary-writer plumbing; not supported (must be None).
    """

    def __init__(
        self,
        logdir: str | os.PathLike[str],
        graph: Any = None,
        max_queue: int = 10,
        flush_secs: float = 120,
        graph_def: Any = None,
        filename_suffix: str | None = None,
        session: Any = None,
    ) -> None:
        if session is not None:
            raise NotImplementedError("FileWriter(session=...) is not supported by rillet")
        self.event_writer = EventFileWriter(logdir, max_queue, flush_secs, filename_suffix or "")
        self._seen_summary_tags: set[str] = set()
        self._seen_run_metadata_tags: set[str] = set()
        self._tags_lock = threading.Lock()
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    # -- events ----------------------------------------------------------------------------

    def add_event(self, event: event_pb2.Event) -> None:
        """Write an ``event_pb2.Event`` as is."""
        self.event_writer.add_event(event)

    def _add_event(self, event: event_pb2.Event, global_step: Any) -> None:
        event.wall_time = time.time()
        if global_step is not None:
            event.step = int(global_step)
        self.event_writer.add_event(event)

    def add_summary(self, summary: Any, global_step: Any = None) -> None:
        """Write a summary: the serialized bytes ``sess.run(summary_op)`` returns, or a proto.

        Like TF, a value's ``metadata`` is written only the first time its tag is seen by this
        writer (TensorBoard keeps the first one), which keeps event files small.

        Args:
          summary: serialized ``Summary`` bytes, a ``summary_pb2.Summary``, or a size-1 NumPy
            object array holding the bytes.
          global_step: the step recorded with the summary (x axis in TensorBoard).
        """
        proto = _as_summary_proto(summary)
        with self._tags_lock:
            for value in proto.value:
                if not value.HasField("metadata"):
                    continue
                if value.tag in self._seen_summary_tags:
                    value.ClearField("metadata")
                else:
                    self._seen_summary_tags.add(value.tag)
        self._add_event(event_pb2.Event(summary=proto), global_step)

    def add_session_log(self, session_log: event_pb2.SessionLog, global_step: Any = None) -> None:
        """Write a ``SessionLog`` (START / STOP / CHECKPOINT) event."""
        self._add_event(event_pb2.Event(session_log=session_log), global_step)

    def add_graph(self, graph: Any, global_step: Any = None, graph_def: Any = None) -> None:
        """Write a graph for TensorBoard's Graphs dashboard.

        Args:
          graph: a rillet ``Graph`` (converted with
            :func:`rillet.summary.graph_def.graph_to_graph_def`, shapes included), a
            ``graph_pb2.GraphDef`` or its serialized bytes.
          global_step: optional step recorded with the event.
          graph_def: deprecated TF argument, used when ``graph`` is None.
        """
        source = graph if graph is not None else graph_def
        if source is None:
            raise ValueError("add_graph needs a graph or a graph_def")
        self._add_event(event_pb2.Event(graph_def=_graph_def_bytes(source)), global_step)

    def add_meta_graph(self, meta_graph_def: Any, global_step: Any = None) -> None:
        """Write a ``MetaGraphDef`` (proto or serialized bytes)."""
        if not isinstance(meta_graph_def, (meta_graph_pb2.MetaGraphDef, bytes, bytearray)):
            raise TypeError(f"expected a MetaGraphDef, got {type(meta_graph_def).__name__}")
        data = _as_bytes(meta_graph_def, "add_meta_graph")
        self._add_event(event_pb2.Event(meta_graph_def=data), global_step)

    def add_run_metadata(self, run_metadata: Any, tag: str, global_step: Any = None) -> None:
        """Write per-step ``RunMetadata`` (TensorBoard's "Session runs" in the graph view).

        rillet sessions do not collect step stats, so this is only useful with a
        ``config_pb2.RunMetadata`` you built yourself (or its bytes); ``None`` is a no-op.

        Raises:
          ValueError: if ``tag`` was already used by this writer (TensorBoard keeps one per tag).
        """
        if run_metadata is None:
            return
        with self._tags_lock:
            if tag in self._seen_run_metadata_tags:
                raise ValueError("The provided tag was already used for this event type")
            self._seen_run_metadata_tags.add(tag)
        tagged = event_pb2.TaggedRunMetadata(
            tag=tag, run_metadata=_as_bytes(run_metadata, "add_run_metadata")
        )
        self._add_event(event_pb2.Event(tagged_run_metadata=tagged), global_step)

    # -- lifecycle -------------------------------------------------------------------------

    def get_logdir(self) -> str:
        """The directory event files are written to."""
        return self.event_writer.get_logdir()

    def flush(self) -> None:
        """Write pending events to disk."""
        self.event_writer.flush()

    def close(self) -> None:
        """Flush and close; events added afterwards are ignored until ``reopen()``."""
        self.event_writer.close()

    def reopen(self) -> None:
        """Start a new event file in the same directory after ``close()``."""
        self.event_writer.reopen()

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class FileWriterCache:
    """One shared ``FileWriter`` per log directory (TF 1.x ``tf.summary.FileWriterCache``)."""

    _cache: dict[str, FileWriter] = {}
    _lock = threading.Lock()

    @classmethod
    def get(cls, logdir: str | os.PathLike[str]) -> FileWriter:
        """The cached ``FileWriter`` for ``logdir``, created on first use."""
        key = os.path.abspath(os.fspath(logdir))
        with cls._lock:
            writer = cls._cache.get(key)
            if writer is None:
                writer = cls._cache[key] = FileWriter(logdir)
            return writer

    @classmethod
    def clear(cls) -> None:
        """Close and forget all cached writers."""
        with cls._lock:
            writers = list(cls._cache.values())
            cls._cache.clear()
        for writer in writers:
            writer.close()

"""TF 1.x summary ops (``tf.summary.scalar`` & co.) and TF 2-style eager summary writers.

In graph mode each function adds one op whose kernel calls the matching builder of
:mod:`rillet.summary.protos` and returns a 0-d object array holding the serialized ``Summary``
bytes (what ``sess.run(summary_op)`` gives, and what ``FileWriter.add_summary`` takes). The tag
is the op's name-scoped name, so ``scalar("loss", x)`` inside ``name_scope("train")`` writes the
tag ``train/loss``; ops are added to ``GraphKeys.SUMMARIES`` (or ``collections``).

When executing eagerly the same functions write at once to the default writer set by
``create_file_writer(logdir).as_default()`` and return whether something was written.

``tensorboard`` is imported only when a kernel runs or a writer is created, never on import.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from rillet import context
from rillet import dtypes as _dt
from rillet.graph import GraphKeys, get_default_graph
from rillet.registry import NOT_DIFFERENTIABLE, apply_op, convert_to_tensor, register
from rillet.shapes import TensorShape

__all__ = [
    "SummaryWriter", "all_v2_summary_ops", "audio", "create_file_writer", "flush",
    "get_step", "histogram", "image", "merge", "merge_all", "scalar", "set_step", "text",
]


# --------------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------------


def _host(x: Any) -> np.ndarray:
    """A NumPy view/copy of a kernel input (CuPy arrays are copied to the host)."""
    if isinstance(x, np.ndarray):
        return x
    get = getattr(x, "get", None)
    if get is not None and hasattr(x, "__cuda_array_interface__"):
        return get()
    return np.asarray(x)


def _out(data: bytes) -> np.ndarray:
    arr = np.empty((), dtype=object)
    arr[()] = data
    return arr


def _protos() -> Any:
    from rillet.summary import protos

    return protos


def _scalar_kernel(xp: Any, x: Any, *, tag: str) -> np.ndarray:
    return _out(_protos().scalar_summary(tag, _host(x)))


def _histogram_kernel(xp: Any, x: Any, *, tag: str) -> np.ndarray:
    return _out(_protos().histogram_summary(tag, _host(x)))


def _image_kernel(xp: Any, x: Any, *, tag: str, max_images: int) -> np.ndarray:
    return _out(_protos().image_summary(tag, _host(x), max_images))


def _audio_kernel(xp: Any, x: Any, rate: Any, *, tag: str, max_outputs: int) -> np.ndarray:
    return _out(_protos().audio_summary(tag, _host(x), float(_host(rate)), max_outputs))


def _text_kernel(xp: Any, x: Any, *, tag: str) -> np.ndarray:
    return _out(_protos().text_summary(tag, _host(x)))


def _merge_kernel(xp: Any, *xs: Any) -> np.ndarray:
    return _out(_protos().merge_summaries([_host(x) for x in xs]))


def _summary_infer(op: Any) -> tuple:
    return _dt.string, TensorShape([])


def _real_scalar_infer(op: Any) -> tuple:
    x = op.inputs[0]
    if not (x.dtype.is_floating or x.dtype.is_integer or x.dtype.is_bool):
        raise TypeError(f"scalar summary expects a real number, got dtype {x.dtype.name}")
    if x.shape.num_elements() not in (None, 1):
        raise ValueError(f"tags and values not the same shape: [] != {x.shape} "
                         f"(tag '{op.attrs['tag']}')")
    return _summary_infer(op)


def _image_infer(op: Any) -> tuple:
    s = op.inputs[0].shape
    if s.ndims is not None and s.ndims != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {s.ndims}")
    if s.ndims == 4 and s[3] is not None and int(s[3]) not in (1, 3, 4):
        raise ValueError(f"Tensor must have 1, 3, or 4 channels, got {int(s[3])}")
    return _summary_infer(op)


def _text_infer(op: Any) -> tuple:
    if op.inputs[0].dtype is not _dt.string:
        raise ValueError(f"Expected tensor {op.inputs[0].name} to have dtype string, got "
                         f"{op.inputs[0].dtype.name}")
    return _summary_infer(op)


def _merge_infer(op: Any) -> tuple:
    for t in op.inputs:
        if t.dtype is not _dt.string:
            raise TypeError(f"MergeSummary inputs must be string tensors, got {t.dtype.name} "
                            f"for {t.name}")
    return _summary_infer(op)


register("ScalarSummary", infer=_real_scalar_infer, kernel=_scalar_kernel,
         grad=NOT_DIFFERENTIABLE)
register("HistogramSummary", infer=_summary_infer, kernel=_histogram_kernel,
         grad=NOT_DIFFERENTIABLE)
register("ImageSummary", infer=_image_infer, kernel=_image_kernel, grad=NOT_DIFFERENTIABLE)
register("AudioSummaryV2", infer=_summary_infer, kernel=_audio_kernel, grad=NOT_DIFFERENTIABLE)
register("TextSummary", infer=_text_infer, kernel=_text_kernel, grad=NOT_DIFFERENTIABLE)
register("MergeSummary", infer=_merge_infer, kernel=_merge_kernel, grad=NOT_DIFFERENTIABLE)


# --------------------------------------------------------------------------------------------
# graph-mode API (TF 1.x)
# --------------------------------------------------------------------------------------------

_INVALID_TAG_CHARS = re.compile(r"[^-/\w\.]")


def _clean_tag(name: str | None) -> str | None:
    """TF's ``clean_tag``: illegal characters become ``_`` and leading slashes are dropped
    (trailing ones too, which would otherwise make an absolute name scope)."""
    if name is None:
        return None
    return _INVALID_TAG_CHARS.sub("_", str(name)).strip("/")


@contextlib.contextmanager
def _summary_scope(name: str, family: str | None) -> Iterator[tuple[str, str]]:
    """Yields ``(tag, scope)`` like TF's ``summary_op_util.summary_scope``."""
    name = _clean_tag(name) or "summary"
    family = _clean_tag(family)
    base = name if family is None else f"{family}/{name}"
    g = get_default_graph()
    with g.name_scope(base) as scope:
        tag = scope.rstrip("/") if family is None else f"{family}/{scope.rstrip('/')}"
        yield tag, scope


def _add(op_out: Any, collections: Sequence[str] | None) -> Any:
    keys = [GraphKeys.SUMMARIES] if collections is None else list(collections)
    if keys:
        get_default_graph().add_to_collections(keys, op_out)
    return op_out


def _graph_summary(op_type: str, name: str, inputs: Sequence[Any], attrs: dict,
                   collections: Sequence[str] | None, family: str | None) -> Any:
    with _summary_scope(name, family) as (tag, scope):
        out = apply_op(op_type, tuple(inputs), {"tag": tag, **attrs}, name=scope)
    return _add(out, collections)


def _is_step(value: Any) -> bool:
    """Whether a 3rd positional argument is a TF 2 ``step`` rather than TF 1 ``collections``."""
    return value is not None and not isinstance(value, list | tuple | set | str)


def scalar(name: str, tensor: Any = None, collections: Any = None, family: str | None = None,
           step: Any = None, description: str | None = None, data: Any = None) -> Any:
    """A scalar summary (TF 1.x ``tf.summary.scalar``; TF 2 ``scalar(name, data, step)``
    when executing eagerly)."""
    tensor = data if tensor is None else tensor
    if context.executing_eagerly():
        if _is_step(collections) and step is None:
            step = collections
        return _eager_write(name, step, lambda p, tag: p.scalar_summary(tag, _np(tensor)))
    x = convert_to_tensor(tensor)
    return _graph_summary("ScalarSummary", name, [x], {}, collections, family)


def histogram(name: str, values: Any = None, collections: Any = None,
              family: str | None = None, step: Any = None, buckets: Any = None,
              description: str | None = None, data: Any = None) -> Any:
    """A histogram of ``values`` (TF's ``HistogramSummary`` with TF's default buckets)."""
    values = data if values is None else values
    if context.executing_eagerly():
        if _is_step(collections) and step is None:
            step = collections
        bins = "default" if buckets is None else int(buckets)
        return _eager_write(name, step,
                            lambda p, tag: p.histogram_summary(tag, _np(values), bins))
    x = convert_to_tensor(values)
    return _graph_summary("HistogramSummary", name, [x], {}, collections, family)


def image(name: str, tensor: Any = None, max_outputs: int = 3, collections: Any = None,
          family: str | None = None, step: Any = None, description: str | None = None,
          data: Any = None) -> Any:
    """Up to ``max_outputs`` PNG images of a ``[batch, h, w, c]`` tensor (c in 1, 3, 4)."""
    tensor = data if tensor is None else tensor
    if context.executing_eagerly():
        return _eager_write(name, step,
                            lambda p, tag: p.image_summary(tag, _np(tensor), max_outputs))
    x = convert_to_tensor(tensor)
    return _graph_summary("ImageSummary", name, [x], {"max_images": int(max_outputs)},
                          collections, family)


def audio(name: str, tensor: Any = None, sample_rate: Any = None, max_outputs: int = 3,
          collections: Any = None, family: str | None = None, step: Any = None,
          encoding: Any = None, description: str | None = None, data: Any = None) -> Any:
    """Up to ``max_outputs`` WAV clips of a ``[batch, frames(, channels)]`` float tensor."""
    tensor = data if tensor is None else tensor
    if sample_rate is None:
        raise TypeError("audio() missing required argument: 'sample_rate'")
    if context.executing_eagerly():
        return _eager_write(name, step, lambda p, tag: p.audio_summary(
            tag, _np(tensor), float(_np(sample_rate)), max_outputs))
    x = convert_to_tensor(tensor)
    rate = convert_to_tensor(sample_rate, dtype=_dt.float32, name="sample_rate") \
        if not hasattr(sample_rate, "dtype") else convert_to_tensor(sample_rate)
    return _graph_summary("AudioSummaryV2", name, [x, rate], {"max_outputs": int(max_outputs)},
                          collections, family)


def text(name: str, tensor: Any = None, collections: Any = None, step: Any = None,
         description: str | None = None, data: Any = None) -> Any:
    """A text-plugin summary of a string tensor (Markdown rendered by TensorBoard)."""
    tensor = data if tensor is None else tensor
    if context.executing_eagerly():
        if _is_step(collections) and step is None:
            step = collections
        return _eager_write(name, step, lambda p, tag: p.text_summary(tag, _np(tensor)))
    x = convert_to_tensor(tensor, dtype=_dt.string) if isinstance(tensor, str | bytes) \
        else convert_to_tensor(tensor)
    return _graph_summary("TextSummary", name, [x], {}, collections, None)


def merge(inputs: Sequence[Any], collections: Sequence[str] | None = None,
          name: str | None = None) -> Any:
    """One op merging the serialized summaries ``inputs`` (TF's ``MergeSummary``)."""
    if context.executing_eagerly():
        return None
    ts = [convert_to_tensor(t) for t in inputs]
    with get_default_graph().name_scope(name or "Merge"):
        out = apply_op("MergeSummary", tuple(ts), {}, name=name or "MergeSummary")
    if collections:
        get_default_graph().add_to_collections(list(collections), out)
    return out


def merge_all(key: str = GraphKeys.SUMMARIES, scope: str | None = None,
              name: str | None = None) -> Any:
    """Merges every summary in collection ``key`` (optionally matching ``scope``); None if
    there are none, as in TF."""
    if context.executing_eagerly():
        raise RuntimeError("Merging tf.summary.* ops is not compatible with eager execution. "
                           "Use tf.contrib.summary instead.")
    items = get_default_graph().get_collection(key, scope)
    if not items:
        return None
    return merge(items, name=name)


# --------------------------------------------------------------------------------------------
# eager writers (TF 2 style)
# --------------------------------------------------------------------------------------------

_local = threading.local()
_global_step: list[Any] = [None]


def _writer_stack() -> list[SummaryWriter]:
    s = getattr(_local, "writers", None)
    if s is None:
        s = _local.writers = []
    return s


def _np(value: Any) -> np.ndarray:
    """Accepts EagerTensors (``.numpy()``), Variables, arrays and Python values."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    return _host(value)


class SummaryWriter:
    """A summary writer for eager code: ``with writer.as_default(): summary.scalar(...)``."""

    def __init__(self, logdir: str, max_queue: int | None = None,
                 flush_millis: int | None = None, filename_suffix: str | None = None):
        from rillet.summary.events import FileWriter

        self._writer = FileWriter(logdir, max_queue=10 if max_queue is None else max_queue,
                                  flush_secs=120 if flush_millis is None else flush_millis / 1000,
                                  filename_suffix=filename_suffix)
        self._step: Any = None

    @property
    def logdir(self) -> str:
        return self._writer.get_logdir()

    @contextlib.contextmanager
    def as_default(self, step: Any = None) -> Iterator[SummaryWriter]:
        """Makes this the writer eager summaries go to (and ``step`` their default step)."""
        stack = _writer_stack()
        stack.append(self)
        old, self._step = self._step, step
        try:
            yield self
        finally:
            self._step = old
            stack.pop()
            self.flush()

    def set_as_default(self, step: Any = None) -> None:
        """Makes this the default writer for the rest of the thread."""
        _writer_stack().append(self)
        self._step = step

    def init(self) -> None:
        """For TF compatibility; the writer is open from construction."""

    def write_summary(self, summary: Any, step: Any) -> None:
        """Writes serialized ``Summary`` bytes (or a proto) at ``step``."""
        self._writer.add_summary(summary, int(_np(step)))

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def create_file_writer(logdir: str, max_queue: int | None = None,
                       flush_millis: int | None = None, filename_suffix: str | None = None,
                       name: str | None = None, experimental_trackable: bool = False
                       ) -> SummaryWriter:
    """A writer for eager summaries to an event file in ``logdir`` (TF 2's
    ``tf.summary.create_file_writer``)."""
    return SummaryWriter(logdir, max_queue, flush_millis, filename_suffix)


create_file_writer_v2 = create_file_writer


def set_step(step: Any) -> None:
    """Default step for eager summaries written without ``step``."""
    _global_step[0] = step


def get_step() -> Any:
    return _global_step[0]


def _eager_write(name: str, step: Any, build: Any) -> bool:
    stack = _writer_stack()
    if not stack:
        return False
    writer = stack[-1]
    if step is None:
        step = writer._step if writer._step is not None else _global_step[0]
    if step is None:
        raise ValueError("No step set. Please specify one either through the `step` argument "
                         "or through tf.summary.experimental.set_step()")
    tag = _clean_tag(name) or "summary"
    writer.write_summary(build(_protos(), tag), step)
    return True


def flush(writer: SummaryWriter | None = None, name: str | None = None) -> None:
    """Flushes ``writer`` (default: the current default writer)."""
    if writer is None:
        stack = _writer_stack()
        if not stack:
            return
        writer = stack[-1]
    writer.flush()


def all_v2_summary_ops() -> list:
    """Eager summaries write immediately, so there are no ops to collect."""
    return []

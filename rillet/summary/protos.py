"""Build TensorBoard ``Summary`` protocol buffers from NumPy values.

These are the pure-NumPy halves of TensorFlow 1.x's summary ops (``ScalarSummary``,
``HistogramSummary``, ``ImageSummary``, ``AudioSummary``, the text plugin's tensor summary and
``MergeSummary``). Summary kernels call them with already-evaluated NumPy inputs; users may call
them directly too.

Every builder returns the **serialized** ``summary_pb2.Summary`` as ``bytes``: that is exactly what
``sess.run(summary_op)`` returns in TF 1.x, and what ``FileWriter.add_summary`` expects (it also
accepts a ``summary_pb2.Summary`` proto). Parse the bytes back with
``summary_pb2.Summary.FromString(data)`` when you need the proto.

Tags are used verbatim; the caller applies TF's name scoping (``"layer1/loss"``).

The protocol buffers are the ``tensorboard`` package's own copies
(``tensorboard.compat.proto``); TensorFlow is never imported.
"""

from __future__ import annotations

import io
import struct
import sys
import wave
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from tensorboard.compat.proto import (
    histogram_pb2,
    summary_pb2,
    tensor_pb2,
    tensor_shape_pb2,
    types_pb2,
)

from rillet.errors import InvalidArgumentError

__all__ = [
    "DTYPE_NAME_TO_ENUM",
    "audio_summary",
    "default_histogram_buckets",
    "dtype_enum",
    "encode_png",
    "encode_wav",
    "histogram_proto",
    "histogram_summary",
    "image_summary",
    "make_tensor_proto",
    "make_tensor_shape_proto",
    "merge_summaries",
    "scalar_summary",
    "text_summary",
]

_DBL_MAX = sys.float_info.max

# --------------------------------------------------------------------------------------------
# dtypes, shapes and tensors
# --------------------------------------------------------------------------------------------

#: rillet / NumPy dtype names -> ``types_pb2.DataType`` enum values.
DTYPE_NAME_TO_ENUM: dict[str, int] = {
    "float16": types_pb2.DT_HALF,
    "half": types_pb2.DT_HALF,
    "bfloat16": types_pb2.DT_BFLOAT16,
    "float32": types_pb2.DT_FLOAT,
    "float": types_pb2.DT_FLOAT,
    "float64": types_pb2.DT_DOUBLE,
    "double": types_pb2.DT_DOUBLE,
    "int8": types_pb2.DT_INT8,
    "int16": types_pb2.DT_INT16,
    "int32": types_pb2.DT_INT32,
    "int64": types_pb2.DT_INT64,
    "uint8": types_pb2.DT_UINT8,
    "uint16": types_pb2.DT_UINT16,
    "uint32": types_pb2.DT_UINT32,
    "uint64": types_pb2.DT_UINT64,
    "bool": types_pb2.DT_BOOL,
    "string": types_pb2.DT_STRING,
    "complex64": types_pb2.DT_COMPLEX64,
    "complex128": types_pb2.DT_COMPLEX128,
    "qint8": types_pb2.DT_QINT8,
    "quint8": types_pb2.DT_QUINT8,
    "qint16": types_pb2.DT_QINT16,
    "quint16": types_pb2.DT_QUINT16,
    "qint32": types_pb2.DT_QINT32,
    "resource": types_pb2.DT_RESOURCE,
    "variant": types_pb2.DT_VARIANT,
}

_REF_OFFSET = 100  # DT_FLOAT_REF == DT_FLOAT + 100, and so on.


def dtype_enum(dtype: Any) -> int:
    """Map a dtype to its ``types_pb2`` enum value (``DT_INVALID`` when unknown).

    Accepts a rillet ``DType`` (anything with a string ``.name`` such as ``"float32"`` or
    ``"float32_ref"``), a dtype name, a ``numpy.dtype`` or a NumPy scalar type.
    """
    if dtype is None:
        return types_pb2.DT_INVALID
    name = dtype if isinstance(dtype, str) else getattr(dtype, "name", None)
    if isinstance(name, str):
        ref = name.endswith("_ref")
        base = name[:-4] if ref else name
        if base in DTYPE_NAME_TO_ENUM:
            return DTYPE_NAME_TO_ENUM[base] + (_REF_OFFSET if ref else 0)
    try:
        np_dtype = np.dtype(dtype)
    except TypeError:
        return types_pb2.DT_INVALID
    if np_dtype.kind in "OSU":
        return types_pb2.DT_STRING
    return DTYPE_NAME_TO_ENUM.get(np_dtype.name, types_pb2.DT_INVALID)


def _dim_value(d: Any) -> int:
    if d is None:
        return -1
    value = getattr(d, "value", d)  # TF-style Dimension objects
    return -1 if value is None else int(value)


def make_tensor_shape_proto(shape: Any) -> tensor_shape_pb2.TensorShapeProto:
    """Build a ``TensorShapeProto``.

    ``shape`` may be ``None`` (unknown rank), an object with ``as_list()`` (which may raise
    ``ValueError`` for unknown rank), or a sequence of ints / ``None`` (``None`` = unknown dim).
    """
    if shape is None:
        return tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
    if hasattr(shape, "as_list"):
        try:
            dims = shape.as_list()
        except ValueError:
            return tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
        if dims is None:
            return tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
    else:
        dims = list(shape)
    return tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=_dim_value(d)) for d in dims]
    )


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return str(value).encode("utf-8")


def make_tensor_proto(value: Any, max_elements: int | None = None) -> tensor_pb2.TensorProto:
    """Convert a NumPy array (or array-like) to a ``TensorProto``.

    Numeric and boolean data go into ``tensor_content`` (little-endian bytes, as TF writes it);
    string / bytes / object arrays into ``string_val`` (UTF-8). When ``max_elements`` is given and
    the array is larger, only dtype and shape are recorded (TensorBoard shows the metadata and
    the file stays small).
    """
    array = np.asarray(value)
    enum = dtype_enum(array.dtype)
    proto = tensor_pb2.TensorProto(dtype=enum, tensor_shape=make_tensor_shape_proto(array.shape))
    if max_elements is not None and array.size > max_elements:
        return proto
    if enum == types_pb2.DT_STRING:
        proto.string_val.extend(_to_bytes(v) for v in array.reshape(-1).tolist())
    elif enum != types_pb2.DT_INVALID:
        little_endian = array.dtype.newbyteorder("<")
        proto.tensor_content = np.ascontiguousarray(array, dtype=little_endian).tobytes()
    return proto


# --------------------------------------------------------------------------------------------
# scalar
# --------------------------------------------------------------------------------------------


def scalar_summary(tag: str, value: Any) -> bytes:
    """A ``Summary`` with one ``simple_value`` (TF's ``ScalarSummary`` / ``tf.summary.scalar``).

    Args:
      tag: the summary tag.
      value: a Python number or a NumPy array with exactly one element.

    Returns:
      The serialized ``summary_pb2.Summary``.
    """
    array = np.asarray(value)
    if array.size != 1:
        raise InvalidArgumentError(
            None, None, f"scalar_summary {tag!r}: expected a scalar, got shape {array.shape}"
        )
    if array.dtype.kind not in "biuf":
        raise InvalidArgumentError(
            None, None, f"scalar_summary {tag!r}: expected a real number, got {array.dtype}"
        )
    summary = summary_pb2.Summary(
        value=[summary_pb2.Summary.Value(tag=tag, simple_value=float(array.reshape(()).item()))]
    )
    return summary.SerializeToString()


# --------------------------------------------------------------------------------------------
# histogram
# --------------------------------------------------------------------------------------------

_DEFAULT_BUCKETS: np.ndarray | None = None


def default_histogram_buckets() -> np.ndarray:
    """TensorFlow's default histogram bucket limits (``tensorflow/core/lib/histogram``).

    Limits grow by 10% from 1e-12 up to 1e20, mirrored for negatives, with 0 in the middle and
    ``-DBL_MAX`` / ``DBL_MAX`` at the ends (1551 limits). Bucket ``i`` counts values in
    ``[limit[i-1], limit[i])``.
    """
    global _DEFAULT_BUCKETS
    if _DEFAULT_BUCKETS is None:
        positive: list[float] = []
        v = 1.0e-12
        while v < 1.0e20:
            positive.append(v)
            v *= 1.1
        positive.append(_DBL_MAX)
        negative = [-x for x in reversed(positive)]
        limits = np.array(negative + [0.0] + positive, dtype=np.float64)
        limits.setflags(write=False)
        _DEFAULT_BUCKETS = limits
    return _DEFAULT_BUCKETS


def histogram_proto(
    values: Any, bins: str | int | Sequence[float] | np.ndarray = "default"
) -> histogram_pb2.HistogramProto:
    """Compute a ``HistogramProto`` (min, max, num, sum, sum_squares, bucket_limit, bucket).

    Args:
      values: array-like of real numbers, any shape (flattened). Must be finite.
      bins: ``"default"`` — TF's exponential bucket limits, with runs of empty buckets collapsed
        exactly like TF's ``HistogramSummary`` (best for TensorBoard's histogram view); an
        ``int`` — that many equal-width buckets over ``[min, max]``; or a 1-D increasing
        sequence of bucket *right* limits as stored in ``bucket_limit`` (values beyond the last
        limit are counted in the last bucket).

    Raises:
      InvalidArgumentError: if a value is NaN or infinite (TF's "Nan in summary histogram").
    """
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise InvalidArgumentError(None, None, f"histogram values must be real, got {array.dtype}")
    data = array.astype(np.float64, copy=False).reshape(-1)
    if data.size and not np.all(np.isfinite(data)):
        raise InvalidArgumentError(None, None, "Nan in summary histogram")
    collapse = False
    if isinstance(bins, str):
        if bins != "default":
            raise ValueError(f"unknown bins {bins!r}; use 'default', an int or bucket limits")
        limits = default_histogram_buckets()
        collapse = True
    elif isinstance(bins, (int, np.integer)):
        if int(bins) < 1:
            raise ValueError("bins must be >= 1")
        lo = float(data.min()) if data.size else 0.0
        hi = float(data.max()) if data.size else 0.0
        if hi <= lo:
            hi = lo + 1.0
        limits = np.linspace(lo, hi, int(bins) + 1)[1:]
    else:
        limits = np.asarray(bins, dtype=np.float64).reshape(-1)
        if limits.size == 0 or np.any(np.diff(limits) <= 0):
            raise ValueError("bucket limits must be a non-empty increasing sequence")

    proto = histogram_pb2.HistogramProto()
    if data.size == 0:
        # What TF writes for an empty histogram.
        proto.min, proto.max, proto.num = _DBL_MAX, -_DBL_MAX, 0.0
        proto.bucket_limit.append(_DBL_MAX)
        proto.bucket.append(0.0)
        return proto
    with np.errstate(over="ignore"):
        proto.min = float(data.min())
        proto.max = float(data.max())
        proto.num = float(data.size)
        proto.sum = float(data.sum())
        proto.sum_squares = float(np.dot(data, data))
    index = np.searchsorted(limits, data, side="right")  # first limit > value
    np.minimum(index, limits.size - 1, out=index)
    counts = np.bincount(index, minlength=limits.size).astype(np.float64)
    if not collapse:
        proto.bucket_limit.extend(limits.tolist())
        proto.bucket.extend(counts.tolist())
        return proto
    # TF's Histogram::EncodeToProto(preserve_zero_buckets=false): each run of empty buckets
    # becomes one empty bucket whose limit is the run's last limit.
    nonzero = counts > 0
    keep = nonzero.copy()
    keep[:-1] |= ~nonzero[:-1] & nonzero[1:]  # last bucket of an empty run before data
    keep[-1] = True  # the trailing run ends at the final limit
    proto.bucket_limit.extend(limits[keep].tolist())
    proto.bucket.extend(counts[keep].tolist())
    return proto


def histogram_summary(
    tag: str, values: Any, bins: str | int | Sequence[float] | np.ndarray = "default"
) -> bytes:
    """A ``Summary`` with one ``histo`` value (TF's ``HistogramSummary``).

    See :func:`histogram_proto` for ``bins``. Returns the serialized ``summary_pb2.Summary``.

    Raises:
      InvalidArgumentError: on NaN / infinite values, like TF.
    """
    try:
        histo = histogram_proto(values, bins)
    except InvalidArgumentError as e:
        if e.message == "Nan in summary histogram":
            raise InvalidArgumentError(None, None, f"Nan in summary histogram for: {tag}") from None
        raise
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, histo=histo)])
    return summary.SerializeToString()


# --------------------------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(image: np.ndarray, compression: int = 6) -> bytes:
    """Encode an ``[height, width, channels]`` uint8 image as PNG (zlib only, no PIL).

    ``channels`` is 1 (grayscale), 2 (grayscale + alpha), 3 (RGB) or 4 (RGBA); 8 bits per sample,
    no interlacing, filter type 0 on every row.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in _PNG_COLOR_TYPE:
        raise ValueError(f"encode_png expects [height, width, 1|2|3|4], got {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"encode_png expects uint8, got {image.dtype}")
    height, width, channels = image.shape
    rows = image.reshape(height, width * channels)
    raw = np.zeros((height, width * channels + 1), dtype=np.uint8)  # leading 0 = filter "None"
    raw[:, 1:] = rows
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPE[channels], 0, 0, 0)
    return b"".join(
        [
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(raw.tobytes(), compression)),
            _png_chunk(b"IEND", b""),
        ]
    )


def _image_to_uint8(images: np.ndarray) -> np.ndarray:
    if images.dtype == np.uint8:
        return images
    if images.dtype.kind in "fb":
        data = np.nan_to_num(images.astype(np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        return np.rint(np.clip(data, 0.0, 1.0) * 255.0).astype(np.uint8)
    if images.dtype.kind in "iu":
        return np.clip(images, 0, 255).astype(np.uint8)
    raise InvalidArgumentError(None, None, f"image_summary: unsupported dtype {images.dtype}")


def _numbered_tags(tag: str, kind: str, count: int, max_outputs: int) -> list[str]:
    # TF: "<tag>/image" when max_outputs == 1, else "<tag>/image/0", "<tag>/image/1", ...
    if max_outputs == 1:
        return [f"{tag}/{kind}"][:count]
    return [f"{tag}/{kind}/{i}" for i in range(count)]


def image_summary(tag: str, images: Any, max_outputs: int = 3) -> bytes:
    """A ``Summary`` with up to ``max_outputs`` PNG images (TF's ``ImageSummary``).

    Args:
      tag: base tag; values are tagged ``"<tag>/image/<i>"`` (``"<tag>/image"`` when
        ``max_outputs == 1``), as in TF 1.x.
      images: ``[batch, height, width, channels]`` with 1, 3 or 4 channels; ``uint8`` is used as
        is, floats are taken to be in ``[0, 1]`` (clipped, scaled by 255, rounded; NaN -> 0).
        Note TF 1.x instead auto-rescales float images by their max; pass uint8 for exact
        control. Other integer types are clipped to ``[0, 255]``.
      max_outputs: maximum number of images (the first ones of the batch) to emit.

    Returns:
      The serialized ``summary_pb2.Summary``.
    """
    array = np.asarray(images)
    if array.ndim != 4 or array.shape[3] not in (1, 3, 4):
        raise InvalidArgumentError(
            None,
            None,
            f"image_summary {tag!r}: images must be 4-D [batch, height, width, channels] with "
            f"channels 1, 3 or 4; got shape {array.shape}",
        )
    if max_outputs < 1:
        raise InvalidArgumentError(None, None, "image_summary: max_outputs must be >= 1")
    batch = array[:max_outputs]
    pixels = _image_to_uint8(batch)
    tags = _numbered_tags(tag, "image", len(batch), max_outputs)
    values = []
    for t, image in zip(tags, pixels):
        height, width, channels = image.shape
        values.append(
            summary_pb2.Summary.Value(
                tag=t,
                image=summary_pb2.Summary.Image(
                    height=height,
                    width=width,
                    colorspace=channels,
                    encoded_image_string=encode_png(image),
                ),
            )
        )
    return summary_pb2.Summary(value=values).SerializeToString()


# --------------------------------------------------------------------------------------------
# audio
# --------------------------------------------------------------------------------------------


def encode_wav(samples: np.ndarray, sample_rate: int) -> bytes:
    """Encode ``[frames, channels]`` float samples in ``[-1, 1]`` as 16-bit PCM WAV.

    Samples are scaled by 32768, rounded and clamped to the int16 range (TF's ``wav_io``).
    """
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim == 1:
        samples = samples[:, None]
    clipped = np.clip(np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)
    pcm = np.clip(np.rint(clipped * 32768.0), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(2)
        w.setframerate(int(round(sample_rate)))
        w.writeframes(pcm.tobytes())
    return buffer.getvalue()


def audio_summary(tag: str, audio: Any, sample_rate: float, max_outputs: int = 3) -> bytes:
    """A ``Summary`` with up to ``max_outputs`` WAV clips (TF's ``AudioSummaryV2``).

    Args:
      tag: base tag; values are tagged ``"<tag>/audio/<i>"`` (``"<tag>/audio"`` when
        ``max_outputs == 1``), as in TF 1.x.
      audio: float ``[batch, frames]`` or ``[batch, frames, channels]`` in ``[-1, 1]``.
      sample_rate: samples per second (positive).
      max_outputs: maximum number of clips to emit.

    Returns:
      The serialized ``summary_pb2.Summary``.
    """
    array = np.asarray(audio)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise InvalidArgumentError(
            None,
            None,
            f"audio_summary {tag!r}: audio must be [batch, frames] or [batch, frames, channels];"
            f" got shape {np.shape(audio)}",
        )
    if array.dtype.kind not in "biuf":
        raise InvalidArgumentError(None, None, f"audio_summary: unsupported dtype {array.dtype}")
    rate = float(np.asarray(sample_rate).reshape(()))
    if not rate > 0:
        raise InvalidArgumentError(None, None, f"audio_summary: sample_rate must be > 0: {rate}")
    if max_outputs < 1:
        raise InvalidArgumentError(None, None, "audio_summary: max_outputs must be >= 1")
    batch = array[:max_outputs]
    tags = _numbered_tags(tag, "audio", len(batch), max_outputs)
    values = []
    for t, clip in zip(tags, batch):
        frames, channels = clip.shape
        values.append(
            summary_pb2.Summary.Value(
                tag=t,
                audio=summary_pb2.Summary.Audio(
                    sample_rate=rate,
                    num_channels=channels,
                    length_frames=frames,
                    encoded_audio_string=encode_wav(clip, int(round(rate))),
                    content_type="audio/wav",
                ),
            )
        )
    return summary_pb2.Summary(value=values).SerializeToString()


# --------------------------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------------------------


def text_summary(tag: str, text: Any) -> bytes:
    """A text-plugin tensor summary (TF's ``tf.summary.text``).

    Args:
      tag: the summary tag.
      text: a ``str`` / ``bytes`` or an array-like of them (any rank; rank-1 and rank-2 arrays
        are shown as tables by TensorBoard). Markdown is rendered.

    Returns:
      The serialized ``summary_pb2.Summary``; the value carries ``metadata.plugin_data``
      ``plugin_name="text"`` and a ``DT_STRING`` tensor.
    """
    if isinstance(text, (str, bytes)):
        array = np.array(text, dtype=object)
    else:
        array = np.asarray(text, dtype=object)
    tensor = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING, tensor_shape=make_tensor_shape_proto(array.shape)
    )
    tensor.string_val.extend(_to_bytes(v) for v in array.reshape(-1).tolist())
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="text", content=b""),
        data_class=summary_pb2.DATA_CLASS_TENSOR,
    )
    summary = summary_pb2.Summary(
        value=[summary_pb2.Summary.Value(tag=tag, metadata=metadata, tensor=tensor)]
    )
    return summary.SerializeToString()


# --------------------------------------------------------------------------------------------
# merge
# --------------------------------------------------------------------------------------------


def _as_summaries(item: Any) -> list[summary_pb2.Summary]:
    if isinstance(item, summary_pb2.Summary):
        return [item]
    if isinstance(item, np.ndarray):
        return [s for element in item.reshape(-1).tolist() for s in _as_summaries(element)]
    if isinstance(item, (bytes, bytearray, memoryview)):
        summary = summary_pb2.Summary()
        try:
            summary.ParseFromString(bytes(item))
        except Exception as e:  # protobuf's DecodeError
            raise InvalidArgumentError(
                None, None, "Could not parse one of the summary inputs"
            ) from e
        return [summary]
    raise InvalidArgumentError(
        None, None, f"merge_summaries: expected serialized Summary bytes, got {type(item).__name__}"
    )


def merge_summaries(summaries: Iterable[Any]) -> bytes:
    """Merge serialized ``Summary`` protos into one (TF's ``MergeSummary``).

    Args:
      summaries: serialized ``Summary`` bytes, ``Summary`` protos, or NumPy object arrays of
        serialized bytes (any shape: every element is merged, like TF's string-tensor inputs);
        empty ``bytes`` count as empty summaries.

    Returns:
      The serialized merged ``summary_pb2.Summary`` (values in input order).

    Raises:
      InvalidArgumentError: on a duplicate tag or unparsable input, like TF.
    """
    if isinstance(summaries, (bytes, bytearray, memoryview, summary_pb2.Summary, np.ndarray)):
        summaries = [summaries]
    merged = summary_pb2.Summary()
    seen: set[str] = set()
    for item in summaries:
        for summary in _as_summaries(item):
            for value in summary.value:
                if value.tag and value.tag in seen:  # TF skips the check for empty tags
                    raise InvalidArgumentError(
                        None, None, f"Duplicate tag {value.tag} found in summary inputs"
                    )
                seen.add(value.tag)
                merged.value.add().CopyFrom(value)
    return merged.SerializeToString()

"""TensorBoard event files, Summary protos and GraphDef conversion, read back with TensorBoard."""

from __future__ import annotations

import glob
import io
import os
import struct
import subprocess
import sys
import threading
import time
import wave
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

pytest.importorskip("tensorboard")
pytest.importorskip("crc32c")

from tensorboard.backend.event_processing import event_accumulator as ea  # noqa: E402
from tensorboard.compat.proto import (  # noqa: E402
    event_pb2,
    graph_pb2,
    summary_pb2,
    tensor_pb2,
    types_pb2,
)

from rillet.errors import DataLossError, InvalidArgumentError  # noqa: E402
from rillet.summary import events, graph_def, protos  # noqa: E402
from rillet.summary.events import EventFileWriter, FileWriter, FileWriterCache  # noqa: E402

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _accumulator(logdir: str) -> ea.EventAccumulator:
    guidance = {
        ea.SCALARS: 0,
        ea.HISTOGRAMS: 0,
        ea.COMPRESSED_HISTOGRAMS: 0,
        ea.IMAGES: 0,
        ea.AUDIO: 0,
        ea.TENSORS: 0,
        ea.GRAPH: 0,
    }
    acc = ea.EventAccumulator(logdir, size_guidance=guidance)
    acc.Reload()
    return acc


def _event_files(logdir: str) -> list[str]:
    return sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*")))


def _decode_png(data: bytes) -> tuple[int, int, int, int, np.ndarray]:
    """Minimal PNG decoder for filter-0, non-interlaced 8-bit images."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos = 8
    chunks: list[tuple[bytes, bytes]] = []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, color, comp, filt, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, comp, filt, interlace) == (8, 0, 0, 0)
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    rows = np.frombuffer(raw, np.uint8).reshape(height, 1 + width * channels)
    assert np.all(rows[:, 0] == 0)
    return width, height, depth, color, rows[:, 1:].reshape(height, width, channels)


@dataclass
class FakeDType:
    name: str


@dataclass
class FakeShape:
    dims: list[int | None] | None

    def as_list(self) -> list[int | None]:
        if self.dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self.dims)


@dataclass
class FakeTensor:
    op: FakeOp
    value_index: int
    dtype: FakeDType
    shape: FakeShape


@dataclass
class FakeOp:
    name: str
    type: str
    inputs: tuple[FakeTensor, ...] = ()
    control_inputs: tuple[FakeOp, ...] = ()
    device: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    outputs: tuple[FakeTensor, ...] = ()


class FakeGraph:
    def __init__(self) -> None:
        self._ops: list[FakeOp] = []

    def op(
        self,
        name: str,
        type: str,
        inputs: tuple[FakeTensor, ...] = (),
        outputs: list[tuple[str, list[int | None] | None]] | None = None,
        **kwargs: Any,
    ) -> FakeOp:
        op = FakeOp(name, type, tuple(inputs), **kwargs)
        op.outputs = tuple(
            FakeTensor(op, i, FakeDType(dt), FakeShape(shape))
            for i, (dt, shape) in enumerate(outputs or [])
        )
        self._ops.append(op)
        return op

    def get_operations(self) -> list[FakeOp]:
        return list(self._ops)


def _fake_graph() -> FakeGraph:
    g = FakeGraph()
    x = g.op(
        "input/x",
        "Placeholder",
        outputs=[("float32", [None, 3])],
        attrs={"dtype": FakeDType("float32"), "shape": FakeShape([None, 3])},
    )
    w = g.op("layer1/W", "VariableV2", outputs=[("float32_ref", [3, 2])], device="/cpu:0")
    c = g.op(
        "layer1/b_init",
        "Const",
        outputs=[("float32", [2])],
        attrs={"value": np.array([0.5, -1.0], np.float32), "dtype": FakeDType("float32")},
    )
    init = g.op("init", "NoOp")
    mm = g.op(
        "layer1/MatMul",
        "MatMul",
        inputs=(x.outputs[0], w.outputs[0]),
        outputs=[("float32", [None, 2])],
        attrs={"transpose_a": False, "transpose_b": False},
        control_inputs=(init,),
    )
    split = g.op(
        "layer1/split",
        "Split",
        inputs=(mm.outputs[0],),
        outputs=[("float32", [None, 1]), ("float32", [None, 1])],
        attrs={"num_split": 2, "axis": 1},
    )
    g.op(
        "layer1/add",
        "Add",
        inputs=(split.outputs[1], c.outputs[0]),
        outputs=[("float32", None)],
        attrs={
            "strides": [1, 2, 2, 1],
            "rate": 0.25,
            "names": ["a", "b"],
            "Tlist": [FakeDType("int32"), np.dtype("float64")],
            "padding": "SAME",
            "paddings": [[0, 0], [1, 1]],
            "big": np.zeros((100, 100), np.float32),
            "maybe_shape": None,
            "unused": None,
        },
    )
    return g


# --------------------------------------------------------------------------------------------
# framing
# --------------------------------------------------------------------------------------------


def test_crc32c_known_vector() -> None:
    import crc32c

    assert crc32c.crc32c(b"123456789") == 0xE3069283
    crc = 0xE3069283
    expected = ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF
    assert events.masked_crc32c(b"123456789") == expected


def test_record_framing_matches_tensorboard_stub() -> None:
    from tensorboard.compat.tensorflow_stub import pywrap_tensorflow

    for data in [b"", b"hello", bytes(range(256)) * 10]:
        record = events.encode_record(data)
        assert len(record) == 16 + len(data)
        assert struct.unpack("<Q", record[:8])[0] == len(data)
        assert struct.unpack("<I", record[8:12])[0] == pywrap_tensorflow.masked_crc32c(record[:8])
        assert record[12 : 12 + len(data)] == data
        assert struct.unpack("<I", record[-4:])[0] == pywrap_tensorflow.masked_crc32c(data)


def test_tensorflow_is_never_imported() -> None:
    code = (
        "import sys\n"
        "import rillet.summary.events, rillet.summary.protos, rillet.summary.graph_def\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
    assert "tensorflow" not in sys.modules


# --------------------------------------------------------------------------------------------
# EventFileWriter
# --------------------------------------------------------------------------------------------


def test_event_file_writer_name_and_version(tmp_path: Any) -> None:
    logdir = str(tmp_path / "new" / "dir")
    writer = EventFileWriter(logdir, filename_suffix=".v2")
    assert writer.get_logdir() == logdir
    name = os.path.basename(writer.path)
    prefix, stamp, rest = name[:20], name[20:30], name[31:]
    assert prefix == "events.out.tfevents."
    assert stamp.isdigit() and abs(int(stamp) - time.time()) < 60
    assert rest.endswith(".v2")
    writer.add_event(event_pb2.Event(step=3, wall_time=1.0))
    writer.close()
    writer.add_event(event_pb2.Event(step=4))  # ignored after close, like TF
    evs = list(events.summary_iterator(writer.path))
    assert evs[0].file_version == "brain.Event:2"
    assert [e.step for e in evs[1:]] == [3]


def test_two_writers_same_second_do_not_clobber(tmp_path: Any) -> None:
    a = EventFileWriter(str(tmp_path))
    b = EventFileWriter(str(tmp_path))
    assert a.path != b.path
    a.add_event(event_pb2.Event(step=1))
    b.add_event(event_pb2.Event(step=2))
    a.close()
    b.close()
    assert [e.step for e in events.summary_iterator(a.path)][1:] == [1]
    assert [e.step for e in events.summary_iterator(b.path)][1:] == [2]


def test_max_queue_and_background_flush(tmp_path: Any) -> None:
    writer = EventFileWriter(str(tmp_path / "q"), max_queue=3, flush_secs=1000)
    for step in range(2):
        writer.add_event(event_pb2.Event(step=step))
    assert len(list(events.summary_iterator(writer.path))) == 1  # only file_version on disk
    writer.add_event(event_pb2.Event(step=2))  # third pending event -> written
    assert len(list(events.summary_iterator(writer.path))) == 4
    writer.close()

    timed = EventFileWriter(str(tmp_path / "t"), max_queue=1000, flush_secs=0.05)
    timed.add_event(event_pb2.Event(step=7))
    deadline = time.time() + 10
    while time.time() < deadline:
        if len(list(events.summary_iterator(timed.path))) == 2:
            break
        time.sleep(0.02)
    assert [e.step for e in events.summary_iterator(timed.path)][1:] == [7]
    timed.close()


def test_concurrent_writers_threads(tmp_path: Any) -> None:
    writer = EventFileWriter(str(tmp_path), max_queue=5, flush_secs=0.01)

    def work(base: int) -> None:
        for i in range(200):
            writer.add_event(event_pb2.Event(step=base + i))

    threads = [threading.Thread(target=work, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    steps = sorted(e.step for e in list(events.summary_iterator(writer.path))[1:])
    assert steps == sorted(k * 1000 + i for k in range(4) for i in range(200))


def test_truncated_tail_and_corruption(tmp_path: Any) -> None:
    with FileWriter(str(tmp_path)) as writer:
        for step in range(5):
            writer.add_summary(protos.scalar_summary("loss", step * 0.5), step)
        path = writer.event_writer.path
    full = events.encode_record(
        event_pb2.Event(step=99, summary=summary_pb2.Summary.FromString(
            protos.scalar_summary("loss", 9.0))).SerializeToString()
    )
    for cut in (5, 12, len(full) - 2):  # inside header, inside data, inside data crc
        with open(path, "rb") as f:
            good = f.read()
        with open(path, "ab") as f:
            f.write(full[:cut])
        acc = _accumulator(str(tmp_path))
        assert [s.step for s in acc.Scalars("loss")] == [0, 1, 2, 3, 4]
        assert [e.step for e in events.summary_iterator(path)][1:] == [0, 1, 2, 3, 4]
        with pytest.raises(DataLossError):
            list(events.tf_record_iterator(path, ignore_truncated_tail=False))
        with open(path, "wb") as f:
            f.write(good)
    # A flipped bit in a payload is detected by our reader.
    data = bytearray(good)
    data[-6] ^= 0xFF
    with open(path, "wb") as f:
        f.write(bytes(data))
    with pytest.raises(DataLossError):
        list(events.tf_record_iterator(path))


# --------------------------------------------------------------------------------------------
# Summary protos, read back with EventAccumulator
# --------------------------------------------------------------------------------------------


def test_scalars_roundtrip(tmp_path: Any) -> None:
    with FileWriter(str(tmp_path)) as writer:
        assert writer.get_logdir() == str(tmp_path)
        for step in range(10):
            writer.add_summary(protos.scalar_summary("train/loss", 1.0 / (step + 1)), step)
        # A Summary proto and a NumPy 0-d object array are accepted too.
        proto = summary_pb2.Summary.FromString(protos.scalar_summary("acc", np.float32(0.75)))
        writer.add_summary(proto, global_step=np.int64(3))
        writer.add_summary(np.array(protos.scalar_summary("acc", 0.5), dtype=object), 4)
    acc = _accumulator(str(tmp_path))
    assert set(acc.Tags()["scalars"]) == {"train/loss", "acc"}
    loss = acc.Scalars("train/loss")
    assert [s.step for s in loss] == list(range(10))
    np.testing.assert_allclose([s.value for s in loss], [1.0 / (i + 1) for i in range(10)], 1e-6)
    assert [(s.step, s.value) for s in acc.Scalars("acc")] == [(3, 0.75), (4, 0.5)]
    with pytest.raises(InvalidArgumentError):
        protos.scalar_summary("bad", [1.0, 2.0])


def test_histogram_default_buckets_match_tf() -> None:
    limits = protos.default_histogram_buckets()
    mid = limits.size // 2
    assert limits.size == 1551 and limits[mid] == 0.0
    assert limits[mid + 1] == 1e-12 and limits[-1] == sys.float_info.max
    assert limits[-2] < 1e20 <= limits[-2] * 1.1
    np.testing.assert_allclose(limits[mid + 2 : -1] / limits[mid + 1 : -2], 1.1)
    np.testing.assert_array_equal(limits[:mid], -limits[mid + 1 :][::-1])


def test_histograms_roundtrip(tmp_path: Any) -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=1000)
    with FileWriter(str(tmp_path)) as writer:
        writer.add_summary(protos.histogram_summary("weights", values), 1)
        writer.add_summary(protos.histogram_summary("weights", values * 2), 2)
        writer.add_summary(protos.histogram_summary("uniform", [0, 1, 2, 3], bins=2), 1)
        writer.add_summary(protos.histogram_summary("empty", np.zeros((0,))), 1)
    acc = _accumulator(str(tmp_path))
    hists = acc.Histograms("weights")
    assert [h.step for h in hists] == [1, 2]
    h = hists[0].histogram_value
    assert h.num == 1000
    assert h.sum == pytest.approx(values.sum())
    assert h.sum_squares == pytest.approx(np.dot(values, values))
    assert h.min == values.min() and h.max == values.max()
    assert sum(h.bucket) == 1000
    assert len(h.bucket) == len(h.bucket_limit)
    # Each count matches the values in [previous limit, limit) of TF's default buckets.
    limits = list(h.bucket_limit)
    lower = [-sys.float_info.max] + limits[:-1]
    for lo, hi, count in zip(lower, limits, h.bucket):
        assert count == np.count_nonzero((values >= lo) & (values < hi))
    # Runs of empty buckets are collapsed: no two consecutive empty buckets.
    assert not any(a == 0 and b == 0 for a, b in zip(h.bucket, h.bucket[1:]))
    u = acc.Histograms("uniform")[0].histogram_value
    assert list(u.bucket_limit) == [1.5, 3.0] and list(u.bucket) == [2, 2]
    e = acc.Histograms("empty")[0].histogram_value
    assert e.num == 0 and list(e.bucket) == [0]
    assert acc.CompressedHistograms("weights")
    with pytest.raises(InvalidArgumentError, match="Nan in summary histogram for: w"):
        protos.histogram_summary("w", [1.0, np.nan])
    huge = summary_pb2.Summary.FromString(protos.histogram_summary("huge", [1e200, -1e300]))
    assert huge.value[0].histo.num == 2 and sum(huge.value[0].histo.bucket) == 2


def test_images_roundtrip(tmp_path: Any) -> None:
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(4, 5, 7, 3), dtype=np.uint8)
    gray = rng.random((1, 6, 3, 1))
    rgba = rng.integers(0, 256, size=(2, 2, 3, 4), dtype=np.uint8)
    with FileWriter(str(tmp_path)) as writer:
        writer.add_summary(protos.image_summary("rgb", rgb), 0)
        writer.add_summary(protos.image_summary("gray", gray, max_outputs=1), 0)
        writer.add_summary(protos.image_summary("rgba", rgba, max_outputs=5), 0)
    acc = _accumulator(str(tmp_path))
    assert set(acc.Tags()["images"]) == {
        "rgb/image/0", "rgb/image/1", "rgb/image/2", "gray/image", "rgba/image/0", "rgba/image/1"
    }
    for i in range(3):
        img = acc.Images(f"rgb/image/{i}")[0]
        assert (img.width, img.height) == (7, 5)
        width, height, depth, color, pixels = _decode_png(img.encoded_image_string)
        assert (width, height, depth, color) == (7, 5, 8, 2)
        np.testing.assert_array_equal(pixels, rgb[i])
    g = acc.Images("gray/image")[0]
    _, _, _, color, pixels = _decode_png(g.encoded_image_string)
    assert color == 0
    np.testing.assert_array_equal(pixels, np.rint(gray[0] * 255).astype(np.uint8))
    _, _, _, color, pixels = _decode_png(acc.Images("rgba/image/1")[0].encoded_image_string)
    assert color == 6
    np.testing.assert_array_equal(pixels, rgba[1])
    with pytest.raises(InvalidArgumentError):
        protos.image_summary("bad", np.zeros((2, 4, 4, 2)))


def test_png_decodes_with_pillow_if_available() -> None:
    image_module = pytest.importorskip("PIL.Image")
    rgb = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    decoded = image_module.open(io.BytesIO(protos.encode_png(rgb)))
    assert decoded.size == (5, 4) and decoded.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(decoded), rgb)


def test_audio_roundtrip(tmp_path: Any) -> None:
    t = np.linspace(0, 1, 800, endpoint=False)
    mono = np.stack([np.sin(2 * np.pi * 5 * t), 0.5 * np.ones_like(t)])  # [2, 800]
    stereo = np.stack([mono.T, -mono.T])  # [2, 800, 2]
    with FileWriter(str(tmp_path)) as writer:
        writer.add_summary(protos.audio_summary("mono", mono, 8000, max_outputs=1), 5)
        writer.add_summary(protos.audio_summary("stereo", stereo * 2, 16000.0), 5)
    acc = _accumulator(str(tmp_path))
    assert set(acc.Tags()["audio"]) == {"mono/audio", "stereo/audio/0", "stereo/audio/1"}
    clip = acc.Audio("mono/audio")[0]
    assert clip.step == 5 and clip.content_type == "audio/wav"
    assert (clip.sample_rate, clip.length_frames) == (8000, 800)
    with wave.open(io.BytesIO(clip.encoded_audio_string)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (
            1, 2, 8000, 800
        )
        pcm = np.frombuffer(w.readframes(800), "<i2")
    np.testing.assert_allclose(pcm / 32768.0, mono[0], atol=1 / 32768)
    s = acc.Audio("stereo/audio/1")[0]
    with wave.open(io.BytesIO(s.encoded_audio_string)) as w:
        assert (w.getnchannels(), w.getframerate()) == (2, 16000)
        pcm = np.frombuffer(w.readframes(800), "<i2").reshape(800, 2)
    assert pcm.min() == -32768 and pcm.max() == 32767  # values beyond [-1, 1] clipped
    odd = summary_pb2.Summary.FromString(
        protos.audio_summary("odd", np.array([[np.inf, -np.inf, np.nan, 1e300]]), 100)
    )
    with wave.open(io.BytesIO(odd.value[0].audio.encoded_audio_string)) as w:
        assert np.frombuffer(w.readframes(4), "<i2").tolist() == [32767, -32768, 0, 32767]


def test_text_roundtrip(tmp_path: Any) -> None:
    with FileWriter(str(tmp_path)) as writer:
        writer.add_summary(protos.text_summary("notes", "hello **world** \u00e9"), 1)
        writer.add_summary(protos.text_summary("notes", "second"), 2)
        writer.add_summary(protos.text_summary("table", [["a", "b"], ["c", "d"]]), 1)
    acc = _accumulator(str(tmp_path))
    assert set(acc.Tags()["tensors"]) == {"notes", "table"}
    assert acc.SummaryMetadata("notes").plugin_data.plugin_name == "text"
    assert set(acc.PluginTagToContent("text")) == {"notes", "table"}
    notes = acc.Tensors("notes")
    assert [n.step for n in notes] == [1, 2]
    assert notes[0].tensor_proto.dtype == types_pb2.DT_STRING
    assert notes[0].tensor_proto.string_val[0].decode() == "hello **world** \u00e9"
    assert notes[1].tensor_proto.string_val == [b"second"]
    table = acc.Tensors("table")[0].tensor_proto
    assert [d.size for d in table.tensor_shape.dim] == [2, 2]
    assert list(table.string_val) == [b"a", b"b", b"c", b"d"]


def test_metadata_written_once_per_tag(tmp_path: Any) -> None:
    with FileWriter(str(tmp_path)) as writer:
        for step in range(3):
            writer.add_summary(protos.text_summary("t", f"s{step}"), step)
        path = writer.event_writer.path
    values = [v for e in events.summary_iterator(path) for v in e.summary.value]
    assert [v.HasField("metadata") for v in values] == [True, False, False]


def test_merge_summaries() -> None:
    a = protos.scalar_summary("a", 1.0)
    b = protos.histogram_summary("b", [1.0, 2.0])
    c = protos.text_summary("c", "x")
    merged = summary_pb2.Summary.FromString(
        protos.merge_summaries([a, np.array([b, c], dtype=object), b""])
    )
    assert [v.tag for v in merged.value] == ["a", "b", "c"]
    assert merged.value[0].simple_value == 1.0
    with pytest.raises(InvalidArgumentError, match="Duplicate tag a"):
        protos.merge_summaries([a, a])
    with pytest.raises(InvalidArgumentError):
        protos.merge_summaries([b"\xff\xff\xff"])


def test_make_tensor_proto() -> None:
    t = protos.make_tensor_proto(np.arange(6, dtype=np.int32).reshape(2, 3))
    assert t.dtype == types_pb2.DT_INT32
    assert [d.size for d in t.tensor_shape.dim] == [2, 3]
    assert np.frombuffer(t.tensor_content, "<i4").tolist() == list(range(6))
    s = protos.make_tensor_proto(np.array(["x", "yz"]))
    assert s.dtype == types_pb2.DT_STRING and list(s.string_val) == [b"x", b"yz"]
    big = protos.make_tensor_proto(np.zeros(10), max_elements=4)
    assert big.dtype == types_pb2.DT_DOUBLE and not big.tensor_content
    assert protos.dtype_enum(FakeDType("float32_ref")) == types_pb2.DT_FLOAT_REF
    assert protos.dtype_enum(np.float16) == types_pb2.DT_HALF
    assert protos.dtype_enum(FakeDType("nonsense")) == types_pb2.DT_INVALID


# --------------------------------------------------------------------------------------------
# graphs
# --------------------------------------------------------------------------------------------


def test_graph_to_graph_def() -> None:
    gd = graph_def.graph_to_graph_def(_fake_graph())
    assert isinstance(gd, graph_pb2.GraphDef)
    nodes = {n.name: n for n in gd.node}
    assert [n.name for n in gd.node] == [
        "input/x", "layer1/W", "layer1/b_init", "init", "layer1/MatMul", "layer1/split",
        "layer1/add",
    ]
    x = nodes["input/x"]
    assert x.op == "Placeholder" and x.attr["dtype"].type == types_pb2.DT_FLOAT
    assert [d.size for d in x.attr["shape"].shape.dim] == [-1, 3]
    w = nodes["layer1/W"]
    assert w.device == "/cpu:0"
    assert w.attr["dtype"].type == types_pb2.DT_FLOAT  # ref stripped for the dtype attr
    assert [d.size for d in w.attr["shape"].shape.dim] == [3, 2]
    const = nodes["layer1/b_init"].attr["value"].tensor
    assert const.dtype == types_pb2.DT_FLOAT
    assert np.frombuffer(const.tensor_content, "<f4").tolist() == [0.5, -1.0]
    mm = nodes["layer1/MatMul"]
    assert list(mm.input) == ["input/x", "layer1/W", "^init"]
    assert mm.attr["transpose_a"].b is False and mm.attr["T"].type == types_pb2.DT_FLOAT
    shapes = mm.attr["_output_shapes"].list.shape
    assert [[d.size for d in s.dim] for s in shapes] == [[-1, 2]]
    split = nodes["layer1/split"]
    assert split.attr["num_split"].i == 2 and len(split.attr["_output_shapes"].list.shape) == 2
    add = nodes["layer1/add"]
    assert list(add.input) == ["layer1/split:1", "layer1/b_init"]
    assert add.attr["_output_shapes"].list.shape[0].unknown_rank
    assert list(add.attr["strides"].list.i) == [1, 2, 2, 1]
    assert add.attr["rate"].f == pytest.approx(0.25)
    assert list(add.attr["names"].list.s) == [b"a", b"b"]
    assert list(add.attr["Tlist"].list.type) == [types_pb2.DT_INT32, types_pb2.DT_DOUBLE]
    assert add.attr["padding"].s == b"SAME"
    pad = add.attr["paddings"].tensor
    assert [d.size for d in pad.tensor_shape.dim] == [2, 2]
    big = add.attr["big"].tensor
    assert [d.size for d in big.tensor_shape.dim] == [100, 100] and not big.tensor_content
    assert add.attr["maybe_shape"].shape.unknown_rank
    assert "unused" not in add.attr
    assert "_output_shapes" not in nodes["init"].attr
    no_shapes = graph_def.graph_to_graph_def(_fake_graph(), add_shapes=False)
    assert all("_output_shapes" not in n.attr for n in no_shapes.node)


def test_graph_roundtrip_and_tensor_proto_type(tmp_path: Any) -> None:
    graph = _fake_graph()
    with FileWriter(str(tmp_path / "a"), graph=graph) as writer:
        writer.add_summary(protos.scalar_summary("x", 1.0), 0)
    acc = _accumulator(str(tmp_path / "a"))
    assert acc.Tags()["graph"] is True
    gd = acc.Graph()
    assert {n.name: list(n.input) for n in gd.node}["layer1/MatMul"] == [
        "input/x", "layer1/W", "^init"
    ]
    assert len(gd.node) == 7
    # add_graph also takes a GraphDef; the TensorBoard graph plugin can prepare it for the UI.
    from tensorboard.plugins.graph import graph_util  # noqa: F401  (import check only)

    with FileWriter(str(tmp_path / "b")) as writer:
        writer.add_graph(graph_def.graph_to_graph_def(graph))
    assert len(_accumulator(str(tmp_path / "b")).Graph().node) == 7
    assert isinstance(protos.make_tensor_proto(1.0), tensor_pb2.TensorProto)


def test_file_writer_misc(tmp_path: Any) -> None:
    from tensorboard.compat.proto import config_pb2

    writer = FileWriter(str(tmp_path), filename_suffix=".x")
    assert _event_files(str(tmp_path))[0].endswith(".x")
    writer.add_session_log(event_pb2.SessionLog(status=event_pb2.SessionLog.START), 0)
    writer.add_run_metadata(config_pb2.RunMetadata(), "step1", 1)
    writer.add_run_metadata(None, "ignored")
    with pytest.raises(ValueError):
        writer.add_run_metadata(config_pb2.RunMetadata(), "step1", 2)
    writer.add_event(event_pb2.Event(step=9, wall_time=2.0))
    writer.flush()
    writer.close()
    writer.close()  # idempotent
    writer.reopen()
    writer.add_summary(protos.scalar_summary("after", 1.0), 10)
    writer.close()
    assert len(_event_files(str(tmp_path))) == 2
    acc = _accumulator(str(tmp_path))
    assert acc.Tags()["run_metadata"] == ["step1"]
    assert [s.step for s in acc.Scalars("after")] == [10]
    with pytest.raises(TypeError):
        with FileWriter(str(tmp_path / "y")) as other:
            other.add_summary("not bytes")


def test_file_writer_cache(tmp_path: Any) -> None:
    a = FileWriterCache.get(str(tmp_path))
    assert FileWriterCache.get(str(tmp_path)) is a
    FileWriterCache.clear()
    assert a.event_writer.closed
    assert FileWriterCache.get(str(tmp_path)) is not a
    FileWriterCache.clear()


def test_unclosed_writer_is_flushed_at_exit(tmp_path: Any) -> None:
    code = (
        "import sys\n"
        "from rillet.summary.events import FileWriter\n"
        "from rillet.summary.protos import scalar_summary\n"
        "w = FileWriter(sys.argv[1])\n"
        "w.add_summary(scalar_summary('s', 2.0), 1)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)
    acc = _accumulator(str(tmp_path))
    assert [(s.step, s.value) for s in acc.Scalars("s")] == [(1, 2.0)]

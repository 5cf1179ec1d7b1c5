"""Summary graph ops (``rt.summary.*``) and eager summary writers, read back with TensorBoard."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

pytest.importorskip("tensorboard")
pytest.importorskip("crc32c")

from tensorboard.backend.event_processing import event_accumulator as ea  # noqa: E402
from tensorboard.compat.proto import summary_pb2  # noqa: E402

import rillet as rt  # noqa: E402
from rillet import context, errors  # noqa: E402


def _acc(logdir: str) -> ea.EventAccumulator:
    guidance = {ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.IMAGES: 0, ea.AUDIO: 0, ea.TENSORS: 0,
                ea.GRAPH: 0}
    acc = ea.EventAccumulator(logdir, size_guidance=guidance)
    acc.Reload()
    return acc


def _parse(value: Any) -> summary_pb2.Summary:
    assert isinstance(value, np.ndarray) and value.shape == () and value.dtype == object
    return summary_pb2.Summary.FromString(value.item())


@pytest.fixture
def graph() -> Any:
    with rt.Graph().as_default() as g:
        yield g


def test_import_rillet_does_not_import_tensorboard() -> None:
    code = "import sys, rillet as rt; rt.summary.scalar; print('tensorboard' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_scalar_tag_follows_name_scope(graph: Any) -> None:
    x = rt.placeholder(rt.float32, [], name="x")
    with rt.name_scope("train"):
        s = rt.summary.scalar("loss", x)
    assert s.op.type == "ScalarSummary"
    assert s.op.name == "train/loss"
    assert s.dtype is rt.string and s.shape.as_list() == []
    assert rt.get_collection(rt.GraphKeys.SUMMARIES) == [s]
    with rt.Session() as sess:
        out = _parse(sess.run(s, {x: 2.5}))
    assert [(v.tag, v.simple_value) for v in out.value] == [("train/loss", 2.5)]


def test_tag_cleaning_uniquifying_and_family(graph: Any) -> None:
    a = rt.summary.scalar("my loss!", 1.0)
    b = rt.summary.scalar("my loss!", 2.0)
    with rt.name_scope("scope"):
        c = rt.summary.scalar("acc", 3.0, family="fam")
    with rt.Session() as sess:
        tags = [_parse(sess.run(t)).value[0].tag for t in (a, b, c)]
    # TF 1.x: illegal characters -> "_", reuse -> "_1", family prefixes the scoped name.
    assert tags == ["my_loss_", "my_loss__1", "fam/scope/fam/acc"]


def test_collections_argument(graph: Any) -> None:
    s = rt.summary.scalar("a", 1.0, collections=["mine"])
    t = rt.summary.scalar("b", 1.0, collections=[])
    assert rt.get_collection("mine") == [s]
    assert rt.get_collection(rt.GraphKeys.SUMMARIES) == []
    assert rt.summary.merge_all() is None
    assert rt.summary.merge_all("mine") is not None
    assert t.op.type == "ScalarSummary"


def test_scalar_shape_checked_at_graph_build(graph: Any) -> None:
    with pytest.raises(ValueError, match="not the same shape"):
        rt.summary.scalar("v", rt.constant([1.0, 2.0]))


def test_all_kinds_and_merge(graph: Any) -> None:
    x = rt.placeholder(rt.float32, [None], name="x")
    img = rt.placeholder(rt.float32, [None, 4, 5, 3], name="img")
    snd = rt.placeholder(rt.float32, [None, 100], name="snd")
    avg = rt.reduce_mean(x)
    with rt.name_scope("m"):
        rt.summary.scalar("mean", avg)
        rt.summary.histogram("values", x)
        rt.summary.image("pics", img, max_outputs=2)
        rt.summary.audio("sound", snd, 8000, max_outputs=1)
        rt.summary.text("note", rt.constant("**hello**"))
    merged = rt.summary.merge_all()
    assert merged.op.type == "MergeSummary" and merged.op.name == "Merge/MergeSummary"
    feed = {x: np.arange(10, dtype=np.float32), img: np.random.rand(3, 4, 5, 3),
            snd: np.sin(np.arange(200) / 3).reshape(2, 100)}
    with rt.Session() as sess:
        out = _parse(sess.run(merged, feed))
    tags = [v.tag for v in out.value]
    assert tags == ["m/mean", "m/values", "m/pics/image/0", "m/pics/image/1",
                    "m/sound/audio", "m/note"]
    assert out.value[0].simple_value == 4.5
    assert out.value[1].histo.num == 10 and out.value[1].histo.max == 9
    assert out.value[2].image.height == 4 and out.value[2].image.width == 5
    assert out.value[4].audio.sample_rate == 8000
    assert out.value[5].tensor.string_val == [b"**hello**"]


def test_merge_explicit_and_duplicate_tag_error(graph: Any) -> None:
    a = rt.summary.scalar("a", 1.0)
    b = rt.summary.scalar("b", 2.0)
    m = rt.summary.merge([a, b], name="both")
    assert m.op.name == "both/both"
    with rt.Session() as sess:
        assert [v.tag for v in _parse(sess.run(m)).value] == ["a", "b"]
        dup = rt.summary.merge([a, a])
        with pytest.raises(errors.InvalidArgumentError, match="Duplicate tag a") as info:
            sess.run(dup)
    assert info.value.op is dup.op  # the failing op is attached to run-time errors


def test_histogram_nan_error_names_op(graph: Any) -> None:
    x = rt.placeholder(rt.float32, [None])
    with rt.name_scope("layer"):
        h = rt.summary.histogram("w", x)
    with rt.Session() as sess, pytest.raises(errors.InvalidArgumentError) as info:
        sess.run(h, {x: np.array([1.0, np.nan], np.float32)})
    assert "Nan in summary histogram for: layer/w" in str(info.value)
    assert info.value.op is h.op
    assert "layer/w" in str(info.value) and "test_summary_ops.py" in str(info.value)


def test_summary_ops_not_differentiable(graph: Any) -> None:
    x = rt.Variable(1.0)
    s = rt.summary.scalar("x", x)
    assert rt.gradients(s, [x]) == [None]


def test_filewriter_with_graph_and_summaries_read_by_tensorboard(graph: Any,
                                                                  tmp_path: Any) -> None:
    x = rt.placeholder(rt.float32, [None, 3], name="x")
    with rt.name_scope("layer1"):
        w = rt.Variable(np.ones((3, 2), np.float32), name="weights")
        y = rt.matmul(x, w, name="out")
    avg = rt.reduce_mean(y)
    with rt.name_scope("stats"):
        rt.summary.scalar("mean", avg)
        rt.summary.histogram("weights", w)
        rt.summary.image("x_img", rt.reshape(x, [-1, 1, 3, 1]), max_outputs=1)
        rt.summary.text("txt", rt.constant(["a", "b"]))
    merged = rt.summary.merge_all()
    logdir = str(tmp_path / "run")
    with rt.Session() as sess, rt.summary.FileWriter(logdir, sess.graph) as writer:
        sess.run(rt.global_variables_initializer())
        for step in range(3):
            s = sess.run(merged, {x: np.full((2, 3), step, np.float32)})
            writer.add_summary(s, step)
    acc = _acc(logdir)
    tags = acc.Tags()
    assert [e.value for e in acc.Scalars("stats/mean")] == [0.0, 3.0, 6.0]
    assert [e.step for e in acc.Scalars("stats/mean")] == [0, 1, 2]
    assert len(acc.Histograms("stats/weights")) == 3
    assert acc.Images("stats/x_img/image")[0].height == 1
    assert "stats/txt" in tags["tensors"]
    nodes = {n.name: n for n in acc.Graph().node}
    assert {"x", "layer1/weights", "layer1/out", "stats/mean", "Merge/MergeSummary"} <= set(nodes)
    assert nodes["layer1/out"].op == "MatMul"
    assert list(nodes["layer1/out"].input) == ["x", "layer1/weights/read"]


def test_filewriter_exported_names() -> None:
    from rillet.summary import events

    assert rt.summary.FileWriter is events.FileWriter
    assert rt.summary.FileWriterCache is events.FileWriterCache
    assert rt.summary.Summary is summary_pb2.Summary
    with pytest.raises(AttributeError):
        _ = rt.summary.no_such_thing


# --- eager writers ------------------------------------------------------------------------------
class _FakeEager:
    """Stands in for an EagerTensor: anything with ``.numpy()`` is accepted."""

    def __init__(self, v: Any):
        self._v = np.asarray(v)

    def numpy(self) -> np.ndarray:
        return self._v


@pytest.fixture
def eager() -> Any:
    old = context.set_mode(True)
    try:
        yield
    finally:
        context.set_mode(old)


def test_eager_writer_writes_immediately(eager: Any, tmp_path: Any) -> None:
    logdir = str(tmp_path / "eager")
    writer = rt.summary.create_file_writer(logdir)
    assert rt.summary.scalar("nowhere", 1.0, step=0) is False  # no default writer
    with writer.as_default():
        for step in range(4):
            assert rt.summary.scalar("loss", _FakeEager(1.0 / (step + 1)), step=step) is True
        rt.summary.histogram("w", np.random.randn(100), step=3)
        rt.summary.image("img", np.random.rand(2, 3, 3, 1), step=3, max_outputs=1)
        rt.summary.text("t", "hello", step=3)
        rt.summary.audio("a", np.zeros((1, 50), np.float32), 8000, step=3)
        rt.summary.flush()
        acc = _acc(logdir)  # readable before the writer is closed
        assert [e.step for e in acc.Scalars("loss")] == [0, 1, 2, 3]
    with writer.as_default(step=7):
        rt.summary.scalar("later", 2.0)  # default step of as_default
    writer.close()
    acc = _acc(logdir)
    assert acc.Scalars("loss")[1].value == pytest.approx(0.5)
    assert acc.Scalars("later")[0].step == 7
    assert len(acc.Histograms("w")) == 1
    assert "img/image" in acc.Tags()["images"]
    assert "t" in acc.Tags()["tensors"]
    assert "a/audio/0" in acc.Tags()["audio"]


def test_eager_missing_step_raises(eager: Any, tmp_path: Any) -> None:
    writer = rt.summary.create_file_writer(str(tmp_path))
    with writer.as_default(), pytest.raises(ValueError, match="No step set"):
        rt.summary.scalar("x", 1.0)
    rt.summary.experimental.set_step(5)
    try:
        with writer.as_default():
            assert rt.summary.scalar("x", 1.0)
    finally:
        rt.summary.experimental.set_step(None)
    writer.close()
    assert glob.glob(os.path.join(str(tmp_path), "events.out.tfevents.*"))


def test_eager_summaries_with_eager_tensors(tmp_path: Any) -> None:
    if not hasattr(rt, "eager_mode"):
        pytest.skip("eager mode not available")
    logdir = str(tmp_path)
    with rt.eager_mode():
        w = rt.Variable(np.ones(4, np.float32))
        writer = rt.summary.create_file_writer(logdir)
        with writer.as_default():
            for step in range(3):
                rt.summary.scalar("sum", rt.reduce_sum(w) * step, step=step)
                rt.summary.histogram("w", w, step=step)
        writer.close()
    acc = _acc(logdir)
    assert [e.value for e in acc.Scalars("sum")] == [0.0, 4.0, 8.0]
    assert len(acc.Histograms("w")) == 3


def test_mnist_tensorboard_example_runs(tmp_path: Any) -> None:
    data = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")
    if not os.path.isdir(data):
        pytest.skip("MNIST files not available")
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
    try:
        import mnist_tensorboard
    finally:
        sys.path.pop(0)
    logdir = str(tmp_path / "run")
    out = mnist_tensorboard.main(["--steps", "120", "--logdir", logdir, "--data-dir", data,
                                  "--quiet"])
    again = mnist_tensorboard.main(["--steps", "150", "--logdir", logdir, "--data-dir", data,
                                    "--quiet"])  # resumes from step 120
    assert out["steps"] == 120 and again["steps"] == 150
    assert rt.train.latest_checkpoint(logdir).endswith("model.ckpt-150")
    assert out["test_accuracy"] > 0.8
    acc = _acc(logdir)
    assert [e.step for e in acc.Scalars("loss")] == [0, 100, 120, 150]
    assert "Model/Layer1/weights_histogram" in acc.Tags()["histograms"]
    assert {"MNIST_Input/x", "Model/Layer1/Wx_plus_b/MatMul"} <= {n.name for n in acc.Graph().node}

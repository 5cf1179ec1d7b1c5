"""Graph export/import: meta graphs, GraphDef, import_graph_def, freezing, write_graph."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rillet as rt
from rillet import errors, registry
from rillet.shapes import TensorShape
from rillet.train import meta_graph as mg

REPO = Path(__file__).resolve().parent.parent


def _mlp(seed: int = 0) -> dict[str, Any]:
    """A two-layer MLP with Adam, name scopes, a summary and a few collections."""
    rng = np.random.default_rng(seed)
    x = rt.placeholder(rt.float32, [None, 6], name="x")
    y = rt.placeholder(rt.int32, [None], name="y")
    with rt.name_scope("hidden"):
        w1 = rt.Variable((rng.standard_normal((6, 10)) * 0.5).astype(np.float32), name="w")
        b1 = rt.Variable(np.zeros(10, np.float32), name="b")
        h = rt.maximum(rt.matmul(x, w1) + b1, 0.0, name="relu")
    with rt.name_scope("out"):
        w2 = rt.Variable((rng.standard_normal((10, 1)) * 0.5).astype(np.float32), name="w")
        logits = rt.matmul(h, w2, name="logits")
    target = rt.cast(rt.reshape(y, [-1, 1]), rt.float32)
    loss = rt.reduce_mean(rt.square(logits - target), name="loss")
    gs = rt.train.get_or_create_global_step()
    train = rt.train.AdamOptimizer(0.05).minimize(loss, global_step=gs)
    rt.summary.scalar("loss_summary", loss)
    rt.add_to_collection("outputs", logits)
    rt.add_to_collection("my_train", train)
    rt.add_to_collection("notes", "hello")
    return {"x": x, "y": y, "logits": logits, "loss": loss, "train": train, "gs": gs}


def _data() -> dict[str, np.ndarray]:
    r = np.random.default_rng(5)
    xs = r.standard_normal((16, 6)).astype(np.float32)
    return {"x:0": xs, "y:0": (xs[:, 0] > 0).astype(np.int32)}


def _trained(tmp_path: Path, steps: int = 3) -> tuple[str, np.ndarray, np.ndarray]:
    """Builds, trains and saves the MLP in its own graph; returns (prefix, logits now,
    logits after 2 more training steps)."""
    d = _data()
    with rt.Graph().as_default():
        m = _mlp()
        saver = rt.train.Saver()
        with rt.Session() as sess:
            sess.run(rt.global_variables_initializer())
            for _ in range(steps):
                sess.run(m["train"], d)
            prefix = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=m["gs"])
            now = sess.run(m["logits"], d)
            for _ in range(2):
                sess.run(m["train"], d)
            later = sess.run(m["logits"], d)
    return prefix, now, later


def test_import_meta_graph_restore_same_outputs_and_training(tmp_path: Path) -> None:
    prefix, now, later = _trained(tmp_path)
    d = _data()
    with rt.Graph().as_default() as g:
        saver = rt.train.import_meta_graph(prefix + ".meta")
        assert isinstance(saver, rt.train.Saver)
        logits = g.get_tensor_by_name("out/logits:0")
        assert logits.shape.as_list() == [None, 1] and logits.dtype is rt.float32
        assert g.get_operation_by_name("hidden/relu").type == "Maximum"
        names = [v.op.name for v in rt.global_variables()]
        assert names[:4] == ["hidden/w", "hidden/b", "out/w", "global_step"]
        assert len(names) == 12  # + Adam slots and beta powers
        assert [v.op.name for v in rt.trainable_variables()] == ["hidden/w", "hidden/b", "out/w"]
        assert rt.get_collection("outputs") == [logits]
        assert rt.get_collection("notes") == ["hello"]
        assert rt.train.get_global_step() is rt.global_variables()[3]
        train = rt.get_collection("my_train")[0]
        with rt.Session() as sess:
            saver.restore(sess, prefix)
            np.testing.assert_array_equal(sess.run(logits, d), now)
            assert sess.run("global_step:0") == 3
            for _ in range(2):
                sess.run(train, d)
            np.testing.assert_array_equal(sess.run(logits, d), later)
            assert sess.run(rt.train.get_global_step()) == 5
            summary = sess.run(rt.summary.merge_all(), d)
            assert summary.dtype == object
        # Variables are usable as such: initializers, assign, Saver over them.
        v = rt.global_variables()[0]
        with rt.Session() as sess:
            sess.run(rt.global_variables_initializer())
            assert sess.run(v).shape == (6, 10)
            sess.run(v.assign(np.ones((6, 10), np.float32)))
            assert sess.run(v.value()).sum() == 60


def test_import_in_a_fresh_process(tmp_path: Path) -> None:
    prefix, now, _ = _trained(tmp_path)
    np.save(tmp_path / "want.npy", now)
    code = f"""
import numpy as np, rillet as tf
saver = tf.train.import_meta_graph({prefix + '.meta'!r})
xs = np.random.default_rng(5).standard_normal((16, 6)).astype(np.float32)
with tf.Session() as sess:
    saver.restore(sess, tf.train.latest_checkpoint({str(tmp_path)!r}))
    out = sess.run("out/logits:0", {{"x:0": xs}})
    s = sess.run("loss_summary:0", {{"x:0": xs, "y:0": (xs[:, 0] > 0).astype(np.int32)}})
np.testing.assert_array_equal(out, np.load({str(tmp_path / 'want.npy')!r}))
assert s.item()
print("ok")
"""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_meta_file_is_versioned_json_without_pickle(tmp_path: Path) -> None:
    prefix, _, _ = _trained(tmp_path)
    raw = open(prefix + ".meta", "rb").read()
    doc = json.loads(raw)
    assert doc["format"] == "rillet-meta-graph" and doc["version"] == 1
    assert doc["saver_def"]["var_map"]["hidden/w"] == "hidden/w"
    assert doc["variables"]["hidden/w"]["snapshot"] == "hidden/w/read:0"
    assert b"pickle" not in raw
    doc["version"] = 99
    with pytest.raises(ValueError, match="version 99"):
        mg.MetaGraphDef.from_json(doc)
    with rt.Graph().as_default(), pytest.raises(ValueError, match="not UTF-8 JSON"):
        rt.train.import_meta_graph(b"\x08\x01\x12\xff\xfe")
    with rt.Graph().as_default(), pytest.raises(OSError, match="does not exist"):
        rt.train.import_meta_graph(str(tmp_path / "missing.meta"))


def test_import_scope_and_clear_devices(tmp_path: Path) -> None:
    with rt.Graph().as_default():
        with rt.device("/cpu:0"):
            v = rt.Variable(2.0, name="v")
        out = rt.multiply(v, 3.0, name="out")
        meta = rt.train.export_meta_graph(str(tmp_path / "g.meta"))
        assert v.op.device == "/device:CPU:0" and out.op.device == ""
        with rt.Session() as sess:
            sess.run(v.initializer)
            p = rt.train.Saver().save(sess, str(tmp_path / "ck"))
    with rt.Graph().as_default() as g:
        rt.constant(0.0, name="v")  # a clash the import must avoid
        saver = rt.train.import_meta_graph(meta, import_scope="net")
        assert g.get_operation_by_name("net/v").device == "/device:CPU:0"
        with rt.Session() as sess:
            saver.restore(sess, p)
            assert sess.run("net/out:0") == 6.0
        saver2 = rt.train.import_meta_graph(meta, import_scope="net", clear_devices=True)
        assert g.get_operation_by_name("net_1/v").device == ""
        with rt.Session() as sess:
            saver2.restore(sess, p)
            assert sess.run("net_1/out:0") == 6.0
            with pytest.raises(errors.FailedPreconditionError):
                sess.run("net/out:0")  # independent variables


def test_export_scope_and_collection_list(tmp_path: Path) -> None:
    with rt.Graph().as_default():
        with rt.name_scope("tower"):
            v = rt.Variable(1.5, name="v")
            out = rt.add(v, 1.0, name="out")
        rt.constant(9.0, name="outside")
        rt.add_to_collection("keep", out)
        rt.add_to_collection("drop", out)
        meta = rt.train.export_meta_graph(export_scope="tower", collection_list=["keep",
                                                                                  "variables"])
    assert {n.name for n in meta.graph_def.node} >= {"v", "out"}
    assert "outside" not in {n.name for n in meta.graph_def.node}
    assert set(meta.collection_def) == {"keep", "variables"}
    with rt.Graph().as_default() as g:
        rt.train.import_meta_graph(meta, import_scope="copy")
        assert rt.get_collection("keep") == [g.get_tensor_by_name("copy/out:0")]
        with rt.Session() as sess:
            sess.run(rt.global_variables_initializer())
            assert sess.run("copy/out:0") == 2.5


def test_control_dependencies_and_forward_control_edges() -> None:
    with rt.Graph().as_default() as g:
        v = rt.Variable(0.0, name="v")
        inc = rt.assign_add(v, 1.0, name="inc")
        with rt.control_dependencies([inc]):
            rt.identity(v.value(), name="out")
        late = rt.no_op(name="late")
        g.get_operation_by_name("inc")._add_control_input(late)  # points forward
        gd = g.as_graph_def()
    node = {n.name: n for n in gd.node}
    assert node["out"].input == ["v/read", "^inc"]
    assert "^late" in node["inc"].input
    with rt.Graph().as_default() as g2:
        rt.import_graph_def(gd, name="")
        assert [o.name for o in g2.get_operation_by_name("out").control_inputs] == ["inc"]
        assert [o.name for o in g2.get_operation_by_name("inc").control_inputs] == ["late"]
        with rt.Session() as sess:
            sess.run("v/Assign")
            assert sess.run("out:0") == 1.0
            assert sess.run("out:0") == 2.0


class _NotSerializable:
    def __repr__(self) -> str:
        return "<thing>"


_SAMPLE_ATTRS: dict[str, Any] = {
    "none": None, "b": True, "i": -7, "f": 2.5, "nan": float("nan"), "s": "text",
    "by": b"\x00\xff", "dt": rt.float64, "shape": TensorShape([None, 3]),
    "unknown": TensorShape(None), "tup": (1, (2, "x")), "lst": [1.5, None],
    "dict": {"k": (1, 2), 3: "v"}, "sl": slice(1, None, 2), "ell": Ellipsis,
    "f32": np.arange(6, dtype=np.float32).reshape(2, 3), "c128": np.array([1 + 2j]),
    "bools": np.array([True, False]), "strs": np.array([b"a", "b\u00e9"], dtype=object),
    "u": np.array(["x", "yz"]), "zeros": np.zeros((40, 50), np.float32),
    "signed_zeros": np.array([0.0] * 20 + [-0.0]), "npint": np.int64(5), "npf": np.float32(0.25),
    "nptype": np.float32, "fset": frozenset({1}), "cplx": 1 - 1j,
}


def test_attr_encoding_round_trip() -> None:
    for k, v in _SAMPLE_ATTRS.items():
        enc = json.loads(json.dumps(mg._enc(v, k)))
        got = mg._dec(enc, k)
        if isinstance(v, np.ndarray):
            assert isinstance(got, np.ndarray) and got.dtype == v.dtype, k
            assert got.shape == v.shape and not got.flags.writeable, k
            assert got.tolist() == v.tolist(), k
            if v.dtype.kind == "f":
                assert got.tobytes() == v.tobytes(), k  # bit-exact (signed zeros)
        elif isinstance(v, float) and np.isnan(v):
            assert np.isnan(got)
        elif isinstance(v, np.generic):
            assert type(got) is type(v) and got == v, k
        else:
            assert type(got) is type(v) and got == v, k
    opaque = mg._dec(json.loads(json.dumps(mg._enc(_NotSerializable(), "fn"))), "fn")
    assert isinstance(opaque, mg.OpaqueAttr) and "<thing>" in repr(opaque)
    with pytest.raises(errors.UnimplementedError, match="not exported"):
        opaque()


def _register_test_op() -> None:
    if "TestPyAttr" in registry.all_ops():
        return
    registry.register("TestPyAttr", infer=lambda op: (op.inputs[0].dtype, op.inputs[0].shape),
                      kernel=lambda xp, x, *, fn: fn(x), grad=registry.NOT_DIFFERENTIABLE)


def test_unserializable_attr_imports_but_fails_at_run_time(caplog: Any) -> None:
    _register_test_op()
    with rt.Graph().as_default():
        x = rt.constant([1.0, 2.0], name="x")
        registry.apply_op("TestPyAttr", (x,), {"fn": lambda a: a * 2}, name="double")
        with rt.Session() as sess:
            np.testing.assert_array_equal(sess.run("double:0"), [2.0, 4.0])
        data = rt.get_default_graph().as_graph_def().SerializeToString()
    with rt.Graph().as_default():
        rt.import_graph_def(rt.GraphDef.FromString(data), name="")
        with rt.Session() as sess:
            np.testing.assert_array_equal(sess.run("x:0"), [1.0, 2.0])  # the rest runs
            with pytest.raises(errors.UnimplementedError, match="'fn'.*not exported") as info:
                sess.run("double:0")
    assert "double" in str(info.value)


def test_unregistered_op_type_is_an_error() -> None:
    gd = rt.GraphDef([rt.NodeDef("n", "NoSuchOpType", [], "", {}, [])])
    with rt.Graph().as_default(), pytest.raises(ValueError, match="not registered 'NoSuchOp"):
        rt.import_graph_def(gd)


def test_import_graph_def_input_map_and_return_elements() -> None:
    with rt.Graph().as_default() as g:
        x = rt.placeholder(rt.float32, [None], name="x")
        rt.multiply(x, 2.0, name="y")
        gd = g.as_graph_def()
    with rt.Graph().as_default() as g2:
        z = rt.constant([1.0, 5.0], name="z")
        y, y_op = rt.import_graph_def(gd, input_map={"x:0": z}, return_elements=["y:0", "y"])
        assert y.name == "import/y:0" and y_op is g2.get_operation_by_name("import/y")
        with rt.Session() as sess:
            np.testing.assert_array_equal(sess.run(y), [2.0, 10.0])
        with pytest.raises(ValueError, match="return_element 'nope'"):
            rt.import_graph_def(gd, return_elements=["nope"])


def test_freeze_graph_convert_variables_to_constants(tmp_path: Path) -> None:
    d = _data()
    with rt.Graph().as_default() as g:
        m = _mlp()
        with rt.Session() as sess:
            sess.run(rt.global_variables_initializer())
            sess.run(m["train"], d)
            want = sess.run(m["logits"], d)
            frozen = rt.graph_util.convert_variables_to_constants(
                sess, g.as_graph_def(), ["out/logits"])
            with pytest.raises(AssertionError, match="nope is not in graph"):
                rt.graph_util.extract_sub_graph(g.as_graph_def(), ["nope"])
    ops = {n.op for n in frozen.node}
    assert "VariableV2" not in ops and "Assign" not in ops and "Adam" not in str(ops)
    assert {n.name for n in frozen.node} >= {"x", "hidden/w", "out/logits"}
    path = tmp_path / "frozen.pb"
    with rt.gfile.GFile(str(path), "wb") as f:
        f.write(frozen.SerializeToString())
    with rt.Graph().as_default() as g2:
        gd = rt.GraphDef()
        with rt.gfile.GFile(str(path), "rb") as f:
            gd.ParseFromString(f.read())
        rt.import_graph_def(gd, name="")
        assert rt.global_variables() == []
        with rt.Session() as sess:
            np.testing.assert_array_equal(sess.run("out/logits:0", {"x:0": d["x:0"]}), want)
        pruned = rt.graph_util.remove_training_nodes(gd)
        assert "Identity" not in {n.op for n in pruned.node}
        with rt.Graph().as_default(), rt.Session() as sess:
            rt.import_graph_def(pruned, name="")
            np.testing.assert_array_equal(sess.run("out/logits:0", {"x:0": d["x:0"]}), want)
        assert g2 is not g


def test_write_graph_text_and_binary(tmp_path: Path) -> None:
    from google.protobuf import text_format
    from tensorboard.compat.proto import graph_pb2

    with rt.Graph().as_default() as g:
        with rt.name_scope("layer"):
            c = rt.constant(np.arange(2000, dtype=np.float32), name="big")
            rt.reduce_sum(c, name="total")
        p = rt.io.write_graph(g, str(tmp_path / "sub"), "graph.pbtxt")
        pb = rt.train.write_graph(g.as_graph_def(), str(tmp_path), "graph.pb", as_text=False)
    assert p == str(tmp_path / "sub" / "graph.pbtxt")
    text_gd = text_format.Parse(open(p).read(), graph_pb2.GraphDef())
    bin_gd = graph_pb2.GraphDef.FromString(open(pb, "rb").read())
    for gd in (text_gd, bin_gd):
        nodes = {n.name: n for n in gd.node}
        assert nodes["layer/total"].op == "Sum"
        assert len(nodes["layer/big"].attr["value"].tensor.tensor_content) == 8000  # full
    # A protobuf GraphDef can be imported (best effort: attrs converted, shapes inferred;
    # attrs that were None are not in the protobuf).
    with rt.Graph().as_default(), pytest.raises(ValueError, match="attr 'axis' is missing"):
        rt.import_graph_def(bin_gd, name="")
    with rt.Graph().as_default() as g:
        rt.multiply(rt.constant(np.arange(3.0)), rt.constant(2.0, rt.float64), name="m")
        proto = g.as_graph_def().to_proto(max_tensor_elements=None)
    with rt.Graph().as_default():
        (m,) = rt.import_graph_def(proto, return_elements=["m:0"])
        assert m.dtype is rt.float64 and m.shape.as_list() == [3]
        with rt.Session() as sess:
            np.testing.assert_array_equal(sess.run(m), [0.0, 2.0, 4.0])


def test_graph_def_goes_to_tensorboard(tmp_path: Path) -> None:
    pytest.importorskip("crc32c")
    from tensorboard.backend.event_processing import event_accumulator as ea

    with rt.Graph().as_default() as g:
        with rt.name_scope("a"):
            rt.add(rt.constant(1.0), 2.0, name="sum")
        gd = g.as_graph_def()
        with rt.Session() as sess:
            assert [n.name for n in sess.graph_def.node] == [n.name for n in gd.node]
    assert isinstance(gd, rt.GraphDef) and len(gd) == len(g.get_operations())
    proto = gd.to_proto()
    assert [n.name for n in proto.node] == [op.name for op in g.get_operations()]
    with rt.summary.FileWriter(str(tmp_path)) as w:
        w.add_graph(gd)
    acc = ea.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert "a/sum" in {n.name for n in acc.Graph().node}


def test_gfile_basics(tmp_path: Path) -> None:
    gf = rt.gfile
    d = str(tmp_path / "a" / "b")
    assert not gf.Exists(d)
    gf.MakeDirs(d)
    gf.MakeDirs(d)  # existing is fine
    assert gf.IsDirectory(d) and rt.io.gfile.isdir(d)
    with gf.GFile(os.path.join(d, "f.txt"), "w") as f:
        f.write("hi")
    with gf.GFile(os.path.join(d, "f.txt")) as f:
        assert f.read() == "hi"
    assert gf.Glob(str(tmp_path / "a" / "*" / "*.txt")) == [os.path.join(d, "f.txt")]
    assert gf.ListDirectory(d) == ["f.txt"]
    gf.Copy(os.path.join(d, "f.txt"), os.path.join(d, "g.txt"))
    with pytest.raises(errors.AlreadyExistsError):
        gf.Copy(os.path.join(d, "f.txt"), os.path.join(d, "g.txt"))
    gf.Rename(os.path.join(d, "g.txt"), os.path.join(d, "h.txt"))
    assert gf.Stat(os.path.join(d, "h.txt")).length == 2
    gf.Remove(os.path.join(d, "h.txt"))
    with pytest.raises(errors.NotFoundError):
        gf.GFile(os.path.join(d, "missing"))
    with pytest.raises(errors.NotFoundError):
        gf.Remove(os.path.join(d, "missing"))
    gf.DeleteRecursively(str(tmp_path / "a"))
    assert not gf.Exists(str(tmp_path / "a"))

"""``train.Saver``: round trips, retention, errors, and SIGKILL during real training.

Run as a script (``python tests/test_saver.py child DIR UNTIL``) this file is the training
child process of the crash test: it resumes from the latest checkpoint, trains a small MLP with
Adam and saves after every step until killed (or until step UNTIL).
"""

from __future__ import annotations

import os
import random
import signal
import struct
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _child_process import LineChild

import rillet as rt
from rillet import errors
from rillet.train import checkpoint_io as cio

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def graph() -> Any:
    with rt.Graph().as_default() as g:
        yield g


def _model() -> tuple[Any, Any, Any, Any, Any]:
    """x, y placeholders, loss, Adam train op (with global step), the weights variable."""
    rng = np.random.default_rng(1)
    x = rt.placeholder(rt.float32, [None, 4], name="x")
    y = rt.placeholder(rt.float32, [None, 1], name="y")
    with rt.name_scope("dense"):
        w = rt.Variable(rng.standard_normal((4, 1)).astype(np.float32), name="kernel")
        b = rt.Variable(np.zeros(1, np.float32), name="bias")
        pred = rt.matmul(x, w) + b
    loss = rt.reduce_mean(rt.square(pred - y), name="loss")
    gs = rt.train.get_or_create_global_step()
    train = rt.train.AdamOptimizer(0.1).minimize(loss, global_step=gs)
    return x, y, loss, train, w


def _feed(x: Any, y: Any) -> dict:
    xs = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
    return {x: xs, y: xs.sum(1, keepdims=True)}


def _values(sess: Any) -> dict[str, np.ndarray]:
    return {k: np.array(v) for k, v in sess._ctx.vars.items()}


# ----------------------------------------------------------------------------------------------
# Round trips


def test_round_trip_includes_optimizer_slots_and_global_step(graph: Any, tmp_path: Path) -> None:
    x, y, _, train, _ = _model()
    saver = rt.train.Saver()
    with rt.Session() as sess:
        sess.run(rt.global_variables_initializer())
        for _ in range(3):
            sess.run(train, _feed(x, y))
        prefix = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=3)
        before = _values(sess)
    assert prefix == str(tmp_path / "model.ckpt-3")
    names = [n for n, _ in rt.train.list_variables(str(tmp_path))]
    assert names == sorted(["dense/kernel", "dense/bias", "global_step", "beta1_power",
                            "beta2_power", "dense/kernel/Adam", "dense/kernel/Adam_1",
                            "dense/bias/Adam", "dense/bias/Adam_1"])
    assert rt.train.latest_checkpoint(str(tmp_path)) == prefix
    assert rt.train.checkpoint_exists(prefix)
    assert os.path.isfile(prefix + ".meta")
    assert cio.read_metadata(prefix) == {"global_step": 3}
    np.testing.assert_array_equal(rt.train.load_variable(str(tmp_path), "dense/kernel:0"),
                                  before["dense/kernel"])
    with rt.Session() as sess:  # a fresh session: nothing initialized
        saver.restore(sess, prefix)
        after = _values(sess)
        assert set(after) == set(before)
        for k in before:
            np.testing.assert_array_equal(after[k], before[k])
            assert after[k].dtype == before[k].dtype
        assert sess.run(rt.train.get_global_step()) == 3
        # restored arrays are copies: training changes them, not the checkpoint
        sess.run(train, _feed(x, y))
    np.testing.assert_array_equal(rt.train.load_variable(prefix, "dense/kernel"),
                                  before["dense/kernel"])


def test_restore_resumes_training_exactly(graph: Any, tmp_path: Path) -> None:
    x, y, loss, train, _ = _model()
    saver = rt.train.Saver()
    with rt.Session() as sess:
        sess.run(rt.global_variables_initializer())
        for _ in range(2):
            sess.run(train, _feed(x, y))
        prefix = saver.save(sess, str(tmp_path / "m"))
        for _ in range(3):
            sess.run(train, _feed(x, y))
        want = _values(sess)
    with rt.Session() as sess:
        saver.restore(sess, prefix)
        for _ in range(3):
            sess.run(train, _feed(x, y))
        got = _values(sess)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)


def test_global_step_tensor_pad_and_relative_paths(graph: Any, tmp_path: Path,
                                                   monkeypatch: Any) -> None:
    _model()
    monkeypatch.chdir(tmp_path)
    os.mkdir("ck")
    saver = rt.train.Saver(pad_step_number=True)
    with rt.Session() as sess:
        sess.run(rt.global_variables_initializer())
        sess.run(rt.train.get_global_step().assign(42))
        p = saver.save(sess, "ck/model", global_step=rt.train.get_global_step())
    assert p == "ck/model-00000042"
    assert os.path.isfile("ck/model-00000042.safetensors")
    text = open("ck/checkpoint").read()
    assert 'model_checkpoint_path: "model-00000042"' in text  # relative to the directory
    assert rt.train.latest_checkpoint("ck") == os.path.abspath("ck/model-00000042")


def test_var_list_dict_with_renamed_keys(graph: Any, tmp_path: Path) -> None:
    a = rt.Variable([1.0, 2.0], name="a")
    b = rt.Variable(3, name="b")
    saver = rt.train.Saver({"renamed/first": a, "second": b})
    with rt.Session() as sess:
        sess.run(rt.global_variables_initializer())
        p = saver.save(sess, str(tmp_path / "d"))
    assert rt.train.list_variables(p) == [("renamed/first", [2]), ("second", [])]
    # Load into differently named variables of another graph through the same keys.
    with rt.Graph().as_default():
        c = rt.Variable([0.0, 0.0], name="c")
        d = rt.Variable(0, name="d")
        with rt.Session() as sess:
            rt.train.Saver({"renamed/first": c, "second": d}).restore(sess, p)
            np.testing.assert_array_equal(sess.run(c), [1.0, 2.0])
            assert sess.run(d) == 3


def test_var_list_list_and_partial_restore(graph: Any, tmp_path: Path) -> None:
    a = rt.Variable(1.0, name="a")
    b = rt.Variable(2.0, name="b")
    with rt.Session() as sess:
        sess.run(rt.global_variables_initializer())
        p = rt.train.Saver([a]).save(sess, str(tmp_path / "only_a"))
    assert [n for n, _ in rt.train.list_variables(p)] == ["a"]
    with rt.Session() as sess:
        rt.train.Saver([a]).restore(sess, p)
        assert sess.run(a) == 1.0
        with pytest.raises(errors.FailedPreconditionError):
            sess.run(b)  # not restored, still uninitialized
        with pytest.raises(errors.NotFoundError, match="Key b not found in checkpoint"):
            rt.train.Saver().restore(sess, p)


def test_saver_construction_errors(graph: Any) -> None:
    with pytest.raises(ValueError, match="No variables to save"):
        rt.train.Saver()
    assert rt.train.Saver(allow_empty=True).save(None, "/nonexistent/x") is None
    a = rt.Variable(1.0, name="a")
    with pytest.raises(ValueError, match="same name: a"):
        rt.train.Saver([a, a])
    with pytest.raises(TypeError, match="not a Variable"):
        rt.train.Saver([rt.constant(1.0)])
    with pytest.raises(ValueError, match="cannot be deferred"):
        rt.train.Saver([a], defer_build=True)


def test_defer_build_sees_later_variables(graph: Any, tmp_path: Path) -> None:
    saver = rt.train.Saver(defer_build=True)
    rt.Variable(5.0, name="late")
    saver.build()
    with rt.Session() as sess:
        sess.run(rt.global_variables_initializer())
        p = saver.save(sess, str(tmp_path / "late"))
    assert rt.train.list_variables(p) == [("late", [])]


# ----------------------------------------------------------------------------------------------
# Retention


def test_max_to_keep_deletes_oldest_after_updating_state(graph: Any, tmp_path: Path) -> None:
    rt.Variable(1.0, name="v")
    saver = rt.train.Saver(max_to_keep=2)
    with rt.Session() as sess:
        sess.run(rt.global_variables_initializer())
        for step in range(1, 5):
            saver.save(sess, str(tmp_path / "m"), global_step=step)
    assert saver.last_checkpoints == [str(tmp_path / "m-3"), str(tmp_path / "m-4")]
    files = sorted(os.listdir(tmp_path))
    assert files == ["checkpoint", "m-3.meta", "m-3.safetensors", "m-4.meta",
                     "m-4.safetensors"]
    state = rt.train.get_checkpoint_state(str(tmp_path))
    assert state.all_model_checkpoint_paths == [str(tmp_path / "m-3"), str(tmp_path / "m-4")]
    assert len(state.all_model_checkpoint_timestamps) == 2


def test_max_to_keep_none_keeps_every_file(graph: Any, tmp_path: Path) -> None:
    rt.Variable(1.0, name="v")
    saver = rt.train.Saver(max_to_keep=None)
    with rt.Session() as sess:
        sess.run(rt.global_variables_initializer())
        for step in range(3):
            saver.save(sess, str(tmp_path / "m"), global_step=step, write_meta_graph=False)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "m-0.safetensors", "m-1.safetensors",
                                            "m-2.safetensors"]
    state = rt.train.get_checkpoint_state(str(tmp_path))
    assert state.all_model_checkpoint_paths == [str(tmp_path / "m-2")]


def test_keep_checkpoint_every_n_hours(graph: Any, tmp_path: Path, monkeypatch: Any) -> None:
    import rillet.train.saver as saver_mod

    clock = [1000.0]
    monkeypatch.setattr(saver_mod.time, "time", lambda: clock[0])
    rt.Variable(1.0, name="v")
    saver = rt.train.Saver(max_to_keep=1, keep_checkpoint_every_n_hours=1.0)
    with rt.Session() as sess:
        sess.run(rt.global_variables_initializer())
        for step in range(6):  # one save every 30 minutes
            clock[0] += 1800
            saver.save(sess, str(tmp_path / "m"), global_step=step, write_meta_graph=False)
    kept = sorted(int(f.split("-")[1].split(".")[0]) for f in os.listdir(tmp_path)
                  if f.endswith(".safetensors"))
    # Saves at t0+0.5h, 1h, ..., 3h. TF's rule: a checkpoint falling off the list is kept if
    # it is newer than the next keep time (t0+1h, then +1h each time one is kept).
    assert kept == [2, 4, 5]
    assert saver.last_checkpoints == [str(tmp_path / "m-5")]


def test_write_state_false_and_latest_filename(graph: Any, tmp_path: Path) -> None:
    rt.Variable(1.0, name="v")
    saver = rt.train.Saver()
    with rt.Session() as sess:
        sess.run(rt.global_variables_initializer())
        saver.save(sess, str(tmp_path / "a"), write_state=False)
        assert rt.train.latest_checkpoint(str(tmp_path)) is None
        saver.save(sess, str(tmp_path / "b"), latest_filename="other")
        assert rt.train.latest_checkpoint(str(tmp_path), "other") == str(tmp_path / "b")
        with pytest.raises(ValueError, match="path components"):
            saver.save(sess, str(tmp_path / "c"), latest_filename="x/y")


def test_recover_last_checkpoints_after_restart(graph: Any, tmp_path: Path) -> None:
    rt.Variable(1.0, name="v")
    with rt.Session() as sess:
        sess.run(rt.global_variables_initializer())
        first = rt.train.Saver(max_to_keep=2)
        for step in range(2):
            first.save(sess, str(tmp_path / "m"), global_step=step, write_meta_graph=False)
        second = rt.train.Saver(max_to_keep=2)  # a new process would start like this
        state = rt.train.get_checkpoint_state(str(tmp_path))
        second.recover_last_checkpoints(state.all_model_checkpoint_paths)
        assert second.last_checkpoints == [str(tmp_path / "m-0"), str(tmp_path / "m-1")]
        second.save(sess, str(tmp_path / "m"), global_step=2, write_meta_graph=False)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "m-1.safetensors", "m-2.safetensors"]


# ----------------------------------------------------------------------------------------------
# Errors


def test_save_errors(graph: Any, tmp_path: Path) -> None:
    rt.Variable(1.0, name="v")
    saver = rt.train.Saver()
    with rt.Session() as sess:
        with pytest.raises(errors.FailedPreconditionError, match="uninitialized value v"):
            saver.save(sess, str(tmp_path / "m"))
        sess.run(rt.global_variables_initializer())
        with pytest.raises(ValueError, match="Parent directory of .* doesn't exist"):
            saver.save(sess, str(tmp_path / "missing" / "m"))
    with pytest.raises(RuntimeError, match="closed Session"):
        saver.save(sess, str(tmp_path / "m"))


def _saved(tmp_path: Path) -> str:
    with rt.Graph().as_default():
        v = rt.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="v")
        w = rt.Variable(np.arange(1000, dtype=np.float64), name="w")
        with rt.Session() as sess:
            sess.run(rt.global_variables_initializer())
            return rt.train.Saver([v, w]).save(sess, str(tmp_path / "m"))


def test_restore_missing_file_and_none(graph: Any, tmp_path: Path) -> None:
    rt.Variable(1.0, name="v")
    saver = rt.train.Saver()
    with rt.Session() as sess:
        with pytest.raises(ValueError, match="not a valid checkpoint"):
            saver.restore(sess, str(tmp_path / "nothing"))
        with pytest.raises(ValueError, match="None"):
            saver.restore(sess, None)


def test_restore_missing_key_names_key_and_file(graph: Any, tmp_path: Path) -> None:
    p = _saved(tmp_path)
    rt.Variable(np.zeros((2, 3), np.float32), name="v")
    rt.Variable(0.0, name="extra")
    with rt.Session() as sess, pytest.raises(errors.NotFoundError) as info:
        rt.train.Saver().restore(sess, p)
    msg = str(info.value)
    assert "Key extra not found in checkpoint" in msg and "m.safetensors" in msg


def test_restore_shape_mismatch(graph: Any, tmp_path: Path) -> None:
    p = _saved(tmp_path)
    v = rt.Variable(np.zeros((3, 2), np.float32), name="v")
    rt.Variable(np.zeros(1000, np.float64), name="w")
    with rt.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError) as info:
            rt.train.Saver().restore(sess, p)
        assert "lhs shape= [3, 2] rhs shape= [2, 3]" in str(info.value)
        assert "v" in str(info.value)
        assert sess._ctx.vars == {}  # nothing half-restored
        rt.train.Saver(reshape=True).restore(sess, p)  # same size: reshape allowed
        np.testing.assert_array_equal(sess.run(v), np.arange(6).reshape(3, 2))


def test_restore_dtype_mismatch(graph: Any, tmp_path: Path) -> None:
    p = _saved(tmp_path)
    rt.Variable(np.zeros((2, 3), np.float64), name="v")
    rt.Variable(np.zeros(1000, np.float64), name="w")
    with rt.Session() as sess, pytest.raises(errors.InvalidArgumentError,
                                             match="expected dtype float64 does not equal "
                                                   "original dtype float32"):
        rt.train.Saver().restore(sess, p)


def _data_offset(path: str) -> int:
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
    return 8 + n


def test_restore_corrupted_file_raises_data_loss(graph: Any, tmp_path: Path) -> None:
    p = _saved(tmp_path)
    rt.Variable(np.zeros((2, 3), np.float32), name="v")
    rt.Variable(np.zeros(1000, np.float64), name="w")
    f = cio.checkpoint_file(p)
    data = bytearray(open(f, "rb").read())
    data[-100] ^= 0x40  # inside w's bytes
    open(f, "wb").write(bytes(data))
    with rt.Session() as sess:
        with pytest.raises(errors.DataLossError, match="Checksum mismatch for tensor w"):
            rt.train.Saver().restore(sess, p)
        assert sess._ctx.vars == {}


def test_restore_truncated_file_raises_data_loss(graph: Any, tmp_path: Path) -> None:
    p = _saved(tmp_path)
    rt.Variable(np.zeros((2, 3), np.float32), name="v")
    rt.Variable(np.zeros(1000, np.float64), name="w")
    f = cio.checkpoint_file(p)
    size = os.path.getsize(f)
    assert size > _data_offset(f) + 100
    with open(f, "r+b") as fh:
        fh.truncate(size - 100)
    with rt.Session() as sess, pytest.raises(errors.DataLossError):
        rt.train.Saver().restore(sess, p)


def test_checkpoint_reader(graph: Any, tmp_path: Path) -> None:
    p = _saved(tmp_path)
    reader = rt.train.NewCheckpointReader(p)
    assert reader.has_tensor("v") and not reader.has_tensor("nope")
    assert reader.get_variable_to_shape_map() == {"v": [2, 3], "w": [1000]}
    assert reader.get_variable_to_dtype_map()["v"] is rt.float32
    np.testing.assert_array_equal(reader.get_tensor("v"), np.arange(6).reshape(2, 3))
    assert rt.train.load_checkpoint(str(tmp_path)).has_tensor("w")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file"):
        rt.train.list_variables(str(tmp_path / "empty"))


def test_eager_save_and_restore(tmp_path: Path) -> None:
    if not hasattr(rt, "eager_mode"):
        pytest.skip("eager mode not available")
    with rt.eager_mode():
        v = rt.Variable(np.arange(3, dtype=np.float32), name="v")
        n = rt.Variable(7, name="n")
        saver = rt.train.Saver([v, n])
        p = saver.save(None, str(tmp_path / "e"), global_step=1)
        assert rt.train.list_variables(p) == [("n", []), ("v", [3])]
        v.assign(np.zeros(3, np.float32))
        saver.restore(None, p)
        np.testing.assert_array_equal(v.numpy(), [0.0, 1.0, 2.0])
        with pytest.raises(RuntimeError, match="var_list"):
            rt.train.Saver()


def test_as_saver_def(graph: Any) -> None:
    rt.Variable(1.0, name="v")
    sd = rt.train.Saver(max_to_keep=3).as_saver_def()
    assert sd.max_to_keep == 3 and sd.version == 2


# ----------------------------------------------------------------------------------------------
# SIGKILL during real training: latest_checkpoint always complete, training resumes exactly


N_IN, N_HID, N_STEPS = 16, 32, 120


def _child_graph() -> tuple[Any, Any, Any, Any]:
    rng = np.random.default_rng(123)
    x = rt.placeholder(rt.float32, [None, N_IN], name="x")
    y = rt.placeholder(rt.int32, [None], name="y")
    with rt.name_scope("hidden"):
        w1 = rt.Variable((rng.standard_normal((N_IN, N_HID)) * 0.3).astype(np.float32),
                         name="weights")
        b1 = rt.Variable(np.zeros(N_HID, np.float32), name="biases")
        h = rt.maximum(rt.matmul(x, w1) + b1, 0.0)
    with rt.name_scope("out"):
        w2 = rt.Variable((rng.standard_normal((N_HID, 1)) * 0.3).astype(np.float32),
                         name="weights")
        pred = rt.matmul(h, w2)
    target = rt.cast(rt.reshape(y, [-1, 1]), rt.float32)
    loss = rt.reduce_mean(rt.square(pred - target), name="loss")
    gs = rt.train.get_or_create_global_step()
    train = rt.train.AdamOptimizer(0.01).minimize(loss, global_step=gs)
    return x, y, train, gs


def _batch(step: int) -> tuple[np.ndarray, np.ndarray]:
    """The batch of a given step (deterministic, so a resumed run sees the same data)."""
    r = np.random.default_rng(1000 + step)
    xs = r.standard_normal((32, N_IN)).astype(np.float32)
    return xs, (xs[:, 0] > 0).astype(np.int32)


def _child_main(directory: str, until: int) -> None:
    x, y, train, gs = _child_graph()
    saver = rt.train.Saver(max_to_keep=3)
    with rt.Session() as sess:
        latest = rt.train.latest_checkpoint(directory)
        if latest is None:
            sess.run(rt.global_variables_initializer())
        else:
            saver.restore(sess, latest)
        step = int(sess.run(gs))
        print(f"ready {step}", flush=True)
        while step < until:
            xs, ys = _batch(step)
            sess.run(train, {x: xs, y: ys})
            step += 1
            saver.save(sess, os.path.join(directory, "model.ckpt"), global_step=step)
            print(f"saved {step}", flush=True)


def _reference(n_steps: int) -> list[dict[str, np.ndarray]]:
    """Variable values after each step of an uninterrupted run (index = global step)."""
    with rt.Graph().as_default():
        x, y, train, _ = _child_graph()
        with rt.Session() as sess:
            sess.run(rt.global_variables_initializer())
            out = [_values(sess)]
            for step in range(n_steps):
                xs, ys = _batch(step)
                sess.run(train, {x: xs, y: ys})
                out.append(_values(sess))
    return out


def _child(directory: Path, until: int) -> LineChild:
    """This file run as the training-and-saving child (see ``__main__`` below)."""
    return LineChild(str(Path(__file__).resolve()), "child", str(directory), str(until))


def _check_latest(directory: Path, durable: int, ref: list, context: str) -> int:
    """The latest checkpoint is complete and equals the uninterrupted run at its step."""
    latest = rt.train.latest_checkpoint(str(directory))
    if latest is None:
        assert durable == 0, f"{context}: no checkpoint after step {durable}"
        return 0
    step = int(latest.rsplit("-", 1)[1])
    assert durable <= step <= durable + 1, f"{context}: latest {latest}, durable {durable}"
    got = cio.read_checkpoint(latest)  # every checksum verified
    assert int(got["global_step"]) == step, context
    want = ref[step]
    assert set(got) == set(want), context
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=f"{context}: {k} @ {step}")
    meta = rt.train.meta_graph.read_meta_graph_file(latest + ".meta")  # written before state
    assert "hidden/weights" in meta.variables, context
    state = rt.train.get_checkpoint_state(str(directory))
    for p in state.all_model_checkpoint_paths:
        assert rt.train.checkpoint_exists(p), f"{context}: state names missing {p}"
    return step


def test_sigkill_during_training_and_saving(tmp_path: Path) -> None:
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs SIGKILL")
    seed = int(os.environ.get("RILLET_SAVER_SEED") or random.SystemRandom().randrange(1 << 30))
    rng = random.Random(seed)
    directory = tmp_path / "ckpts"
    directory.mkdir()
    ref = _reference(N_STEPS)
    step, kills, torn = 0, 6, 0
    for i in range(kills):
        context = f"seed={seed} kill #{i}"
        child = _child(directory, N_STEPS)
        child.wait_for("ready" if i % 2 == 0 else "saved", timeout=60)
        time.sleep(rng.uniform(0.0, 0.1))
        rc, err = child.finish(kill=True, timeout=120)
        assert f"ready {step}" in child.lines, f"{context}: did not resume from {step}:\n{err}"
        if rc != -signal.SIGKILL:  # finished all steps before the kill landed
            assert rc == 0, f"{context}: child failed:\n{err}"
        saved = child.saved_steps()
        assert saved == list(range(step + 1, step + 1 + len(saved))), f"{context}: {saved}"
        step = _check_latest(directory, max([step, *saved]), ref, context)
        torn += any(".tmp-" in p.name for p in directory.iterdir())
        for p in directory.iterdir():  # clear torn temp files so the next kill counts anew
            if ".tmp-" in p.name:
                p.unlink()
    assert step > 0, f"seed={seed}: no save completed"
    child = _child(directory, N_STEPS)  # let the last one run to the end
    rc, err = child.finish(kill=False, timeout=120)
    assert rc == 0, err
    assert _check_latest(directory, N_STEPS, ref, f"seed={seed} final") == N_STEPS
    print(f"seed={seed}: {kills} kills, {torn} during a write, resumed to step {N_STEPS}")


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "child":
    _child_main(sys.argv[2], int(sys.argv[3]))

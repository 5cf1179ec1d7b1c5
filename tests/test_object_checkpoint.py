"""``train.Checkpoint`` / ``train.CheckpointManager``: object-based checkpoints (eager first)."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rillet as rt
from rillet import errors, keras
from rillet.train import checkpoint_io as cio
from rillet.train import tracking

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 4)).astype(np.float32)
Y = RNG.integers(0, 3, 32).astype(np.int64)


@pytest.fixture
def eager() -> Iterator[None]:
    with rt.Graph().as_default(), rt.eager_mode():
        yield
    gc.collect()  # free the eager variables' names (`w`, ...) for other test modules


def _mlp(input_shape: bool = True) -> Any:
    kw = {"input_shape": (4,)} if input_shape else {}
    return keras.Sequential([keras.layers.Dense(8, activation="relu", **kw),
                             keras.layers.Dense(3)])


def _step(model: Any, opt: Any) -> float:
    with rt.GradientTape() as tape:
        logits = model(X)
        loss = rt.reduce_mean(rt.nn.sparse_softmax_cross_entropy_with_logits(labels=Y,
                                                                             logits=logits))
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    return float(loss)


def _values(ckpt: rt.train.Checkpoint) -> dict[str, np.ndarray]:
    return {k: np.array(v.numpy(), copy=True) for k, v in ckpt.tracked_variables().items()}


def _perturb(ckpt: rt.train.Checkpoint) -> None:
    rng = np.random.default_rng(123)
    for v in ckpt.tracked_variables().values():
        shape = v.shape.as_list()
        v.assign(rng.normal(size=shape).astype(v.dtype.np))


# --- round trips ---------------------------------------------------------------------------
def test_keras_model_and_optimizer_round_trip_resumes_training_exactly(
        eager: None, tmp_path: Path) -> None:
    model, opt = _mlp(), keras.optimizers.Adam(0.01)
    step = rt.Variable(0, dtype=rt.int64, name="oc_step")
    for _ in range(3):
        _step(model, opt)
        step.assign_add(1)
    ckpt = rt.train.Checkpoint(model=model, optimizer=opt, step=step)
    path = ckpt.save(str(tmp_path / "ckpt"))
    assert path == str(tmp_path / "ckpt-1")
    assert rt.train.latest_checkpoint(str(tmp_path)) == path
    saved = _values(ckpt)
    assert len(saved) == 15  # 4 weights, 8 Adam slots, 2 beta powers, step
    uninterrupted = [_step(model, opt) for _ in range(4)]

    _perturb(ckpt)
    opt.learning_rate = 0.5
    status = ckpt.restore(path)
    status.assert_consumed().assert_existing_objects_matched().assert_nontrivial_match()
    restored = _values(ckpt)
    assert restored.keys() == saved.keys()
    for k in saved:
        np.testing.assert_array_equal(restored[k], saved[k], err_msg=k)
        assert restored[k].dtype == saved[k].dtype
    assert opt.learning_rate == 0.01
    assert int(step.numpy()) == 3
    assert ckpt.save_counter == 1
    assert [_step(model, opt) for _ in range(4)] == uninterrupted


def test_restore_into_fresh_objects_with_other_layer_names(eager: None, tmp_path: Path) -> None:
    model, opt = _mlp(), keras.optimizers.Adam(0.01)
    for _ in range(2):
        _step(model, opt)
    path = rt.train.Checkpoint(model=model, optimizer=opt).save(str(tmp_path / "ckpt"))
    uninterrupted = [_step(model, opt) for _ in range(3)]

    model2, opt2 = _mlp(), keras.optimizers.Adam(0.01)  # layers named dense_2, dense_3, ...
    assert model2.layers[0].name != model.layers[0].name
    ckpt2 = rt.train.Checkpoint(model=model2, optimizer=opt2)
    status = ckpt2.restore(path)
    # The optimizer's slots were created at restore, with their saved values.
    status.assert_consumed()
    assert ckpt2.save_counter == 1
    assert [_step(model2, opt2) for _ in range(3)] == uninterrupted


def test_deferred_restore_of_unbuilt_model_and_optimizer_slots(
        eager: None, tmp_path: Path) -> None:
    model, opt = _mlp(), keras.optimizers.Adam(0.01)
    for _ in range(2):
        _step(model, opt)
    path = rt.train.Checkpoint(model=model, optimizer=opt).save(str(tmp_path / "ckpt"))
    uninterrupted = [_step(model, opt) for _ in range(3)]

    model2, opt2 = _mlp(input_shape=False), keras.optimizers.Adam(0.01)
    assert not model2.weights
    status = rt.train.Checkpoint(model=model2, optimizer=opt2).restore(path)
    status.assert_existing_objects_matched()  # nothing exists yet but the counter and rate
    with pytest.raises(errors.NotFoundError, match="model/layer-0/kernel") as info:
        status.assert_consumed()
    assert isinstance(info.value, AssertionError)  # TF raises AssertionError
    # The first call builds the layers: weights restored right after `build`, and Adam's
    # slots created with their saved values before the first update.
    assert [_step(model2, opt2) for _ in range(3)] == uninterrupted
    status.assert_consumed()


class _Net(keras.Model):
    """A subclassed model: sub-layers and a variable in attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = keras.layers.Dense(5)
        self.blocks = [keras.layers.Dense(4), keras.layers.BatchNormalization()]
        self.scale = rt.Variable(2.0, name="oc_scale")

    def call(self, x: Any, training: Any = None) -> Any:
        x = self.encoder(x)
        for block in self.blocks:
            x = block(x)
        return x * self.scale


def test_deferred_restore_while_tracing_a_function(eager: None, tmp_path: Path) -> None:
    def make() -> tuple[Any, Any, Any]:
        net, opt = _Net(), rt.train.MomentumOptimizer(0.01, 0.9)

        @rt.function
        def train_step() -> Any:
            with rt.GradientTape() as tape:
                loss = rt.reduce_mean(rt.square(net(X)))
            grads = tape.gradient(loss, net.trainable_variables)
            opt.apply_gradients(zip(grads, net.trainable_variables))
            return loss
        return net, opt, train_step

    net, opt, train_step = make()
    train_step()
    path = rt.train.Checkpoint(net=net, opt=opt).save(str(tmp_path / "ckpt"))
    uninterrupted = [float(train_step()) for _ in range(3)]
    net2, opt2, train_step2 = make()  # not built: layers are built inside the trace
    status = rt.train.Checkpoint(net=net2, opt=opt2).restore(path)
    assert [float(train_step2()) for _ in range(3)] == uninterrupted
    status.assert_consumed()


def test_train_optimizer_with_plain_variables_and_function(eager: None,
                                                            tmp_path: Path) -> None:
    w = rt.Variable(RNG.normal(size=(4, 3)).astype(np.float32), name="oc_w")
    b = rt.Variable(np.zeros(3, np.float32), name="oc_b")
    opt = rt.train.AdamOptimizer(0.05)

    @rt.function
    def train_step() -> Any:
        with rt.GradientTape() as tape:
            logits = rt.matmul(X, w) + b
            loss = rt.reduce_mean(rt.nn.sparse_softmax_cross_entropy_with_logits(
                labels=Y, logits=logits))
        grads = tape.gradient(loss, [w, b])
        opt.apply_gradients(zip(grads, [w, b]))
        return loss

    train_step()
    ckpt = rt.train.Checkpoint(params=[w, b], optimizer=opt)
    assert sorted(ckpt.tracked_variables()) == [
        "optimizer/beta1_power", "optimizer/beta2_power", "optimizer/m/params/0",
        "optimizer/m/params/1", "optimizer/v/params/0", "optimizer/v/params/1",
        "params/0", "params/1"]
    prefix = ckpt.write(str(tmp_path / "sub" / "weights"))  # parent directory created
    assert prefix == str(tmp_path / "sub" / "weights") and ckpt.save_counter == 0
    assert not os.path.exists(tmp_path / "sub" / "checkpoint")  # write() keeps no state
    uninterrupted = [float(train_step()) for _ in range(3)]
    _perturb(ckpt)
    ckpt.restore(prefix).assert_consumed()
    assert [float(train_step()) for _ in range(3)] == uninterrupted


def test_keys_follow_object_structure(eager: None, tmp_path: Path) -> None:
    net = _Net()
    net(X)
    inner = rt.train.Checkpoint(counter=rt.Variable(7, dtype=rt.int64))
    ckpt = rt.train.Checkpoint(net=net, extra={"a": rt.Variable(1.0)}, inner=inner)
    assert sorted(ckpt.tracked_variables()) == [
        "extra/a", "inner/counter",
        "net/blocks/0/bias", "net/blocks/0/kernel",
        "net/blocks/1/beta", "net/blocks/1/gamma", "net/blocks/1/moving_mean",
        "net/blocks/1/moving_variance",
        "net/encoder/bias", "net/encoder/kernel", "net/scale"]
    path = ckpt.save(str(tmp_path / "c"))
    names = [n for n, _ in rt.train.list_variables(path)]
    assert "save_counter" in names and "net/encoder/kernel" in names
    assert ckpt.inner is inner
    ckpt.late = rt.Variable(3.0)  # attributes set later are tracked
    assert "late" in ckpt.tracked_variables()
    # The same object under two names is saved once (first name in sorted order).
    shared = rt.train.Checkpoint(a=net.scale, b=net.scale)
    assert list(shared.tracked_variables()) == ["a"]


def test_construction_errors(eager: None) -> None:
    with pytest.raises(TypeError, match="can only track"):
        rt.train.Checkpoint(model="not trackable")
    with pytest.raises(ValueError, match="reserved"):
        rt.train.Checkpoint(save_counter=rt.Variable(1.0))
    with pytest.raises(AttributeError):
        _ = rt.train.Checkpoint().missing


# --- errors ------------------------------------------------------------------------------------
def test_missing_key_is_reported_with_names(eager: None, tmp_path: Path) -> None:
    a = rt.Variable(np.ones(3, np.float32), name="oc_a")
    path = rt.train.Checkpoint(a=a).save(str(tmp_path / "ckpt"))
    b = rt.Variable(np.zeros(2, np.float32), name="oc_b")
    status = rt.train.Checkpoint(a=a, b=b).restore(path)
    status.assert_nontrivial_match()
    with pytest.raises(errors.NotFoundError, match=r"key b \(variable oc_b(_\d+)?:0\) not found"):
        status.assert_existing_objects_matched()
    with pytest.raises(AssertionError):
        status.assert_consumed()
    # Values the objects do not use: consumed fails, existing objects are all matched.
    status = rt.train.Checkpoint().restore(path).expect_partial()
    status.assert_existing_objects_matched()
    with pytest.raises(errors.NotFoundError, match="Unresolved object in checkpoint .*: a"):
        status.assert_consumed()


def test_shape_and_dtype_mismatch_change_nothing(eager: None, tmp_path: Path) -> None:
    a = rt.Variable(np.ones((3, 2), np.float32), name="oc_a")
    b = rt.Variable(np.ones(4, np.float32), name="oc_b")
    path = rt.train.Checkpoint(a=a, b=b).save(str(tmp_path / "ckpt"))
    a2 = rt.Variable(np.full((2, 3), 5.0, np.float32), name="oc_a2")
    b2 = rt.Variable(np.full(4, 5.0, np.float32), name="oc_b2")
    shapes = r"lhs shape= \[2, 3\] rhs shape= \[3, 2\]"
    with pytest.raises(errors.InvalidArgumentError,
                       match=r"key a \(variable oc_a2(_\d+)?:0\).*" + shapes):
        rt.train.Checkpoint(a=a2, b=b2).restore(path)
    np.testing.assert_array_equal(b2.numpy(), np.full(4, 5.0))  # not half-restored
    a3 = rt.Variable(np.ones((3, 2), np.float64), name="oc_a3")
    with pytest.raises(errors.InvalidArgumentError, match="key a .*float64.*float32"):
        rt.train.Checkpoint(a=a3).restore(path)


def test_corrupted_or_missing_file(eager: None, tmp_path: Path) -> None:
    a = rt.Variable(np.arange(1000, dtype=np.float32), name="oc_a")
    path = rt.train.Checkpoint(a=a).save(str(tmp_path / "ckpt"))
    file = cio.checkpoint_file(path)
    data = bytearray(Path(file).read_bytes())
    data[-10] ^= 0xFF  # flip a byte inside the tensor data
    Path(file).write_bytes(bytes(data))
    a.assign(np.zeros(1000, np.float32))
    with pytest.raises(errors.DataLossError, match="Checksum mismatch for tensor a"):
        rt.train.Checkpoint(a=a).restore(path)
    np.testing.assert_array_equal(a.numpy(), np.zeros(1000))
    Path(file).write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(errors.DataLossError):
        rt.train.Checkpoint(a=a).restore(path)
    with pytest.raises(errors.NotFoundError, match="nothere"):
        rt.train.Checkpoint(a=a).restore(str(tmp_path / "nothere"))
    status = rt.train.Checkpoint(a=a).restore(None)
    with pytest.raises(AssertionError, match="save_path=None"):
        status.assert_consumed()


# --- CheckpointManager ---------------------------------------------------------------------
def _listed(directory: Path) -> list[str]:
    state = rt.train.get_checkpoint_state(str(directory))
    return [] if state is None else [os.path.basename(p)
                                     for p in state.all_model_checkpoint_paths]


def _existing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.safetensors"))


def test_manager_retention_and_restart(eager: None, tmp_path: Path,
                                       monkeypatch: Any) -> None:
    v = rt.Variable(0.0, name="oc_v")
    ckpt = rt.train.Checkpoint(v=v)
    manager = rt.train.CheckpointManager(ckpt, str(tmp_path / "run"), max_to_keep=2)
    assert manager.latest_checkpoint is None and manager.checkpoints == []

    deleted_while_listed: list[str] = []
    real_remove = cio.remove_checkpoint

    def remove(prefix: str) -> None:  # the state file must already have dropped `prefix`
        if os.path.basename(prefix) in _listed(tmp_path / "run"):
            deleted_while_listed.append(prefix)
        real_remove(prefix)

    monkeypatch.setattr(tracking._io, "remove_checkpoint", remove)
    for i in range(5):
        v.assign(float(i))
        path = manager.save()
        assert path == str(tmp_path / "run" / f"ckpt-{i + 1}")
    assert deleted_while_listed == []
    assert _existing(tmp_path / "run") == ["ckpt-4.safetensors", "ckpt-5.safetensors"]
    assert _listed(tmp_path / "run") == ["ckpt-4", "ckpt-5"]
    assert manager.checkpoints == [str(tmp_path / "run" / "ckpt-4"),
                                   str(tmp_path / "run" / "ckpt-5")]
    assert manager.latest_checkpoint == str(tmp_path / "run" / "ckpt-5")
    assert ckpt.save_counter == 5

    # A restarted program: a new Checkpoint and manager adopt the directory.
    v2 = rt.Variable(-1.0, name="oc_v2")
    ckpt2 = rt.train.Checkpoint(v=v2)
    manager2 = rt.train.CheckpointManager(ckpt2, str(tmp_path / "run"), max_to_keep=2)
    assert manager2.latest_checkpoint == str(tmp_path / "run" / "ckpt-5")
    assert manager2.restore_or_initialize() == manager2.latest_checkpoint
    assert float(v2.numpy()) == 4.0 and ckpt2.save_counter == 5
    assert manager2.save() == str(tmp_path / "run" / "ckpt-6")  # numbering continues
    assert _existing(tmp_path / "run") == ["ckpt-5.safetensors", "ckpt-6.safetensors"]
    assert manager2.save(checkpoint_number=100) == str(tmp_path / "run" / "ckpt-100")
    assert _listed(tmp_path / "run") == ["ckpt-6", "ckpt-100"]
    state = rt.train.get_checkpoint_state(str(tmp_path / "run"))
    assert state is not None and len(state.all_model_checkpoint_timestamps) == 2


def test_manager_keep_all_hours_and_interval(eager: None, tmp_path: Path,
                                             monkeypatch: Any) -> None:
    v = rt.Variable(0.0, name="oc_v")
    manager = rt.train.CheckpointManager(rt.train.Checkpoint(v=v), str(tmp_path / "all"),
                                         max_to_keep=None)
    for _ in range(4):
        manager.save()
    assert len(_existing(tmp_path / "all")) == 4 and len(_listed(tmp_path / "all")) == 4
    with pytest.raises(ValueError, match="max_to_keep"):
        rt.train.CheckpointManager(rt.train.Checkpoint(v=v), str(tmp_path), max_to_keep=0)

    now = [1_000_000.0]
    monkeypatch.setattr(tracking.time, "time", lambda: now[0])
    manager = rt.train.CheckpointManager(rt.train.Checkpoint(v=v), str(tmp_path / "hours"),
                                         max_to_keep=1, keep_checkpoint_every_n_hours=1.0)
    for _ in range(6):
        now[0] += 1800.0  # every half hour
        manager.save()
    # Every other checkpoint is an hour newer than the last preserved one and stays on disk.
    assert _existing(tmp_path / "hours") == ["ckpt-2.safetensors", "ckpt-4.safetensors",
                                             "ckpt-6.safetensors"]
    assert _listed(tmp_path / "hours") == ["ckpt-6"]

    step = rt.Variable(0, dtype=rt.int64, name="oc_global_step")
    manager = rt.train.CheckpointManager(rt.train.Checkpoint(v=v), str(tmp_path / "iv"),
                                         max_to_keep=None, step_counter=step,
                                         checkpoint_interval=10)
    saved = []
    for i in range(25):
        step.assign(i)
        saved.append(manager.save())
    assert [i for i, p in enumerate(saved) if p is not None] == [0, 10, 20]


# --- graph mode ----------------------------------------------------------------------------
def test_graph_mode_uses_the_session(tmp_path: Path) -> None:
    with rt.Graph().as_default():
        w = rt.Variable(np.ones((2, 3), np.float32), name="oc_w")
        x = rt.constant(np.ones((4, 2), np.float32))
        loss = rt.reduce_sum(rt.square(rt.matmul(x, w)))
        opt = rt.train.AdamOptimizer(0.1)
        train = opt.minimize(loss)
        ckpt = rt.train.Checkpoint(w=w, optimizer=opt)
        assert sorted(ckpt.tracked_variables()) == [
            "optimizer/beta1_power", "optimizer/beta2_power", "optimizer/m/w",
            "optimizer/v/w", "w"]
        with rt.Session() as sess:
            sess.run(rt.global_variables_initializer())
            sess.run(train)
            path = ckpt.save(str(tmp_path / "g"))  # the default Session
            expected = sess.run([w, *opt.variables()])
            later = [sess.run([train, loss])[1] for _ in range(3)]
        with rt.Session() as sess:  # nothing initialized: restore + initialize
            status = ckpt.restore(path)
            status.initialize_or_restore(sess)
            status.assert_consumed()
            got = sess.run([w, *opt.variables()])
            for e, g in zip(expected, got):
                np.testing.assert_array_equal(e, g)
            assert [sess.run([train, loss])[1] for _ in range(3)] == later
        with pytest.raises(ValueError, match="without a Session.*Saver"):
            ckpt.save(str(tmp_path / "g"))

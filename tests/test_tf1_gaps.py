"""TF 1.x names added to close the gaps found by the tutorial programs (docs/tf1_compat.md):
``tf.train.ExponentialMovingAverage``, ``tf.Summary``, scatter ops and slice assignment on
variables, feedable iterators, eager iteration of datasets, ``tfe.metrics``,
``tf.contrib.layers.fully_connected`` / ``batch_norm`` / regularizers, ``tf.logging``'s
format, ``FLAGS.flag_values_dict()`` and ``tf.VERSION``. (The differentiable ops, norms and
checks are in the op table tests/op_table_compat.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rillet as tf

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def graph():
    g = tf.Graph()
    with g.as_default():
        yield g


def _run_python(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


# --- ExponentialMovingAverage -----------------------------------------------------------------
def test_ema_shadow_variables_names_collections_and_values(graph):
    w = tf.Variable([1.0, 2.0], name="w")
    loss = tf.placeholder(tf.float32, [], name="loss")
    ema = tf.train.ExponentialMovingAverage(0.9)
    op = ema.apply([w, loss])
    sw, sl = ema.average(w), ema.average(loss)
    assert op.name == "ExponentialMovingAverage" and op.type == "NoOp"
    assert sw.op.name == "w/ExponentialMovingAverage" and not sw.trainable
    assert sl.op.name == "loss/ExponentialMovingAverage"
    assert ema.average_name(w) == "w/ExponentialMovingAverage"
    assert sw in tf.global_variables() and sw not in tf.trainable_variables()
    # TF puts the averaged *variables* (not the shadows, nor tensors) in this collection
    assert tf.moving_average_variables() == [w]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(sw), [1.0, 2.0])  # starts at w's initial value
        assert sess.run(sl) == 0.0                           # a tensor's shadow starts at 0
        sess.run(w.assign([3.0, 4.0]))
        sess.run(op, {loss: 5.0})
        np.testing.assert_allclose(sess.run(sw), [1.2, 2.2], rtol=1e-6)
        np.testing.assert_allclose(sess.run(sl), 0.5, rtol=1e-6)
        sess.run(op, {loss: 5.0})
        np.testing.assert_allclose(sess.run(sw), [1.38, 2.38], rtol=1e-6)


def test_ema_num_updates_decay_and_control_dependencies(graph):
    w = tf.Variable(0.0, name="w")
    step = tf.train.get_or_create_global_step()
    train = tf.group(w.assign_add(1.0), tf.assign_add(step, 1))
    ema = tf.train.ExponentialMovingAverage(0.99, num_updates=step)
    with tf.control_dependencies([train]):
        avg_op = ema.apply([w])
    shadow = ema.average(w)
    # the shadow's initializer must not depend on the training op
    init_ops = {op.type for op in _ancestors(shadow.initializer)}
    assert "AssignAdd" not in init_ops
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        want = 0.0
        for n in range(1, 6):
            sess.run(avg_op)  # runs after train: sees w == n and step == n
            decay = min(0.99, (1.0 + n) / (10.0 + n))
            want -= (1 - decay) * (want - n)
            np.testing.assert_allclose(sess.run(shadow), want, rtol=1e-5)


def _ancestors(op):
    seen, stack = set(), [op]
    while stack:
        o = stack.pop()
        if o in seen:
            continue
        seen.add(o)
        stack.extend(t.op for t in o.inputs)
        stack.extend(o.control_inputs)
    return seen


def test_ema_zero_debias_for_tensors(graph):
    x = tf.placeholder(tf.float32, [2])
    ema = tf.train.ExponentialMovingAverage(0.5, zero_debias=True, name="avg")
    op = ema.apply([x])
    names = {v.op.name for v in tf.global_variables()}
    assert {"Placeholder/avg", "Placeholder/avg/biased", "Placeholder/avg/local_step"} <= names
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(op, {x: [2.0, 4.0]})
        np.testing.assert_allclose(sess.run(ema.average(x)), [2.0, 4.0], rtol=1e-6)
        sess.run(op, {x: [4.0, 8.0]})
        # biased: 0.5*(0.5*0 + 0.5*2) + 0.5*4 = 2.5 ; / (1 - 0.25) = 3.333...
        np.testing.assert_allclose(sess.run(ema.average(x)), [10 / 3, 20 / 3], rtol=1e-6)


def test_ema_apply_twice_reuses_shadows_and_rejects_ints(graph):
    w = tf.Variable([1.0], name="w")
    ema = tf.train.ExponentialMovingAverage(0.9)
    ema.apply([w])
    first = ema.average(w)
    ema.apply([w])
    assert ema.average(w) is first
    assert len([v for v in tf.global_variables() if "ExponentialMovingAverage" in v.name]) == 1
    with pytest.raises(TypeError, match="must be half, float, or double"):
        ema.apply([tf.Variable(1, name="i")])


def test_ema_variables_to_restore_with_saver(graph, tmp_path):
    w = tf.Variable([1.0, 2.0], name="w")
    other = tf.Variable(7.0, name="other", trainable=False)
    ema = tf.train.ExponentialMovingAverage(0.5)
    op = ema.apply([w])
    to_restore = ema.variables_to_restore()
    assert to_restore == {"w/ExponentialMovingAverage": w, "other": other}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(w.assign([3.0, 6.0]))
        sess.run(op)  # shadow = [2, 4]
        path = tf.train.Saver().save(sess, str(tmp_path / "model"))
    with tf.Session() as sess:
        tf.train.Saver(to_restore).restore(sess, path)
        np.testing.assert_allclose(sess.run(w), [2.0, 4.0])  # the averages, loaded into w
        assert sess.run(other) == 7.0


def test_ema_eager():
    with tf.eager_mode():
        w = tf.Variable([2.0])
        ema = tf.train.ExponentialMovingAverage(0.5)
        assert ema.apply([w]) is None
        w.assign([4.0])
        ema.apply([w])
        np.testing.assert_allclose(ema.average(w).numpy(), [3.0])


# --- tf.Summary ------------------------------------------------------------------------------
def test_hand_built_summary_reaches_tensorboard(tmp_path, graph):
    summary = tf.Summary(value=[tf.Summary.Value(tag="val_accuracy",
                                                 simple_value=np.float32(0.75))])
    writer = tf.summary.FileWriter(str(tmp_path))
    writer.add_summary(summary, 3)
    writer.add_summary(summary.SerializeToString(), 4)
    writer.close()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    ea = EventAccumulator(str(tmp_path))
    ea.Reload()
    assert [(e.step, e.value) for e in ea.Scalars("val_accuracy")] == [(3, 0.75), (4, 0.75)]


def test_import_rillet_does_not_import_tensorboard(tmp_path):
    r = _run_python("import sys, rillet as tf\n"
                    "assert 'tensorboard' not in sys.modules\n"
                    "S = tf.Summary\n"
                    "assert 'tensorboard' in sys.modules and S is tf.summary.Summary\n"
                    "try:\n    tf.no_such_name\nexcept AttributeError as e:\n"
                    "    assert 'no_such_name' in str(e)\n"
                    "print('ok')", tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


# --- scatter ops and slice assignment ------------------------------------------------------------
def test_scatter_ops_update_variables_in_place(graph):
    v = tf.Variable(np.arange(12, dtype=np.float32).reshape(4, 3))
    i = tf.Variable(np.array([10, 20, 30, 40], np.int32))
    up = tf.scatter_update(v, [0, 2], [[9.0, 9.0, 9.0], [8.0, 8.0, 8.0]])
    add = tf.scatter_add(i, [1, 1, 3], [1, 2, 3])          # duplicates add up
    sub = tf.scatter_sub(i, tf.constant([0], tf.int64), 5)  # scalar updates broadcast
    mul = tf.scatter_mul(v, [3], [[2.0, 2.0, 2.0]])
    div = tf.scatter_div(i, [2], [-7])                      # integer division truncates
    mx = tf.scatter_max(i, [0, 3], [100, 0])
    mn = tf.scatter_min(v, [1], [[0.0, 100.0, 0.0]])
    nd = tf.scatter_nd_update(v, [[0, 0], [3, 2]], [-1.0, -2.0])
    nd_add = tf.scatter_nd_add(v, [[1]], [[10.0, 10.0, 10.0]])
    assert up.shape.as_list() == [4, 3] and up.dtype == tf.float32
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(up)
        np.testing.assert_array_equal(got[[0, 2]], [[9, 9, 9], [8, 8, 8]])
        first = sess.run(add)
        np.testing.assert_array_equal(first, [10, 23, 30, 43])
        np.testing.assert_array_equal(sess.run(sub), [5, 23, 30, 43])
        np.testing.assert_array_equal(first, [10, 23, 30, 43])  # fetched values are copies
        np.testing.assert_array_equal(sess.run(div), [5, 23, -4, 43])
        np.testing.assert_array_equal(sess.run(mx), [100, 23, -4, 43])
        np.testing.assert_array_equal(sess.run(mul)[3], [18, 20, 22])
        np.testing.assert_array_equal(sess.run(mn)[1], [0, 4, 0])
        out = sess.run(nd)
        assert out[0, 0] == -1 and out[3, 2] == -2
        np.testing.assert_array_equal(sess.run(nd_add)[1], [10, 14, 10])
        np.testing.assert_array_equal(sess.run(v)[1], [10, 14, 10])


def test_scatter_errors(graph):
    v = tf.Variable(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match="Shapes must be equal rank, but are 2 and 1"):
        tf.scatter_update(v, [0, 1], [1.0, 2.0])
    with pytest.raises(ValueError, match="Dimension 1 in both shapes must be equal"):
        tf.scatter_add(v, [0], [[1.0, 2.0]])
    with pytest.raises(ValueError, match="requested dtype int32 for Tensor with dtype float32"):
        tf.scatter_update(tf.Variable([1, 2]), [0], tf.constant([1.0]))
    with pytest.raises(TypeError, match="Expected a Variable"):
        tf.scatter_update(tf.constant([1.0]), [0], [2.0])
    bad = tf.scatter_update(v, [5], [[1.0, 1.0, 1.0]])
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = 5 is not in "
                                                                 r"\[0, 4\)"):
            sess.run(bad)


def test_variable_slice_assign(graph):
    v = tf.Variable(np.zeros((3, 4), np.float32), name="v")
    row = v[1]
    assert row.shape.as_list() == [4]
    a1 = row.assign(tf.fill([4], 5.0))
    a2 = v[0, 1:3].assign([1.0, 2.0])
    k = tf.placeholder(tf.int32, [])
    a3 = v[k, -1].assign(9.0)            # a dynamic index
    a4 = v[::2, 0].assign([7.0, 8.0])    # strides
    assert a1.shape.as_list() == [3, 4]
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(a1)
        sess.run(a2)
        sess.run(a3, {k: 2})
        out = sess.run(a4)
        want = np.zeros((3, 4), np.float32)
        want[1] = 5
        want[0, 1:3] = [1, 2]
        want[2, -1] = 9
        want[::2, 0] = [7, 8]
        np.testing.assert_array_equal(out, want)
        np.testing.assert_array_equal(sess.run(v), want)
        np.testing.assert_array_equal(sess.run(row), want[1])  # still an ordinary read
    with pytest.raises(ValueError, match=r"sliced l-value shape \[4\] does not match r-value "
                                         r"shape \[2\]"):
        v[1].assign([1.0, 2.0])
    with pytest.raises(ValueError, match="requested dtype float32 for Tensor with dtype int32"):
        v[1].assign(tf.constant([1, 2, 3, 4]))
    with pytest.raises(AttributeError):
        (v.value()[1]).assign(1.0)  # slices of plain tensors are not assignable
    (g,) = tf.gradients(tf.reduce_sum(v[1] * 3.0), [v])  # a slice is differentiable
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(g), [[0] * 4, [3] * 4, [0] * 4])


def test_variable_slice_and_scatter_eager():
    with tf.eager_mode():
        v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
        assert v[1].assign([5.0, 6.0]) is v
        np.testing.assert_array_equal(v[1].numpy(), [5.0, 6.0])
        v[0, 1].assign(9.0)
        tf.scatter_add(v, [0], [[1.0, 1.0]])
        np.testing.assert_array_equal(v.numpy(), [[2.0, 10.0], [5.0, 6.0]])
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(v[1] * 3.0)
        np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [[0, 0], [3, 3]])
        with pytest.raises(AttributeError):
            tf.constant([1.0])[0].assign(2.0)


# --- feedable iterators ---------------------------------------------------------------------------
def test_feedable_iterator_switches_between_datasets(graph):
    a = tf.data.Dataset.from_tensor_slices(np.arange(6, dtype=np.int64)).batch(2)
    b = tf.data.Dataset.from_tensor_slices(np.arange(100, 103, dtype=np.int64)).batch(3)
    handle = tf.placeholder(tf.string, shape=[])
    it = tf.data.Iterator.from_string_handle(handle, a.output_types, a.output_shapes)
    nxt = it.get_next()
    assert nxt.dtype == tf.int64 and nxt.shape.as_list() == [None]
    ia = a.make_one_shot_iterator()
    ib = b.make_initializable_iterator()
    with tf.Session() as sess:
        ha, hb = sess.run(ia.string_handle()), sess.run(ib.string_handle())
        np.testing.assert_array_equal(sess.run(nxt, {handle: ha}), [0, 1])
        sess.run(ib.initializer)
        np.testing.assert_array_equal(sess.run(nxt, {handle: hb}), [100, 101, 102])
        np.testing.assert_array_equal(sess.run(nxt, {handle: ha}), [2, 3])
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt, {handle: hb})
        sess.run(ib.initializer)  # restarting b does not disturb a
        np.testing.assert_array_equal(sess.run(nxt, {handle: hb}), [100, 101, 102])
        np.testing.assert_array_equal(sess.run(nxt, {handle: ha}), [4, 5])
        with pytest.raises(tf.errors.NotFoundError, match="string_handle"):
            sess.run(nxt, {handle: b"nonsense"})
    with tf.Session() as other:  # handles belong to the Session that made them
        with pytest.raises(tf.errors.NotFoundError):
            other.run(nxt, {handle: ha})


def test_feedable_iterator_structure_errors(graph):
    floats = tf.data.Dataset.from_tensor_slices(np.zeros((2, 3), np.float32))
    pairs = tf.data.Dataset.from_tensor_slices((np.zeros(2, np.int64), np.zeros(2, np.int64)))
    handle = tf.placeholder(tf.string, [])
    it = tf.data.Iterator.from_string_handle(handle, tf.int64, tf.TensorShape([]))
    nxt = it.get_next()
    with pytest.raises(ValueError, match="no initializer"):
        it.make_initializer(floats)
    assert it.string_handle() is handle
    with tf.Session() as sess:
        h = sess.run(floats.make_one_shot_iterator().string_handle())
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="Data type mismatch at component 0: expected int64 but got "
                                 "float32"):
            sess.run(nxt, {handle: h})
        h2 = sess.run(pairs.make_one_shot_iterator().string_handle())
        with pytest.raises(tf.errors.InvalidArgumentError, match="Number of components"):
            sess.run(nxt, {handle: h2})
    with pytest.raises(TypeError, match="tf.string"):
        tf.data.Iterator.from_string_handle(tf.placeholder(tf.int32, []), tf.int64)


def test_eager_dataset_iteration_yields_eager_tensors():
    ds = tf.data.Dataset.from_tensor_slices((np.arange(4, dtype=np.int64),
                                            np.ones((4, 2), np.float32))).batch(2)
    with tf.eager_mode():
        batches = list(ds)
        x, y = batches[0]
        assert hasattr(x, "numpy") and x.dtype == tf.int64 and y.dtype == tf.float32
        np.testing.assert_array_equal(x.numpy(), [0, 1])
        assert tf.reduce_sum(y).numpy() == 4.0
    a, _ = next(iter(ds))  # graph mode: NumPy, as before
    assert isinstance(a, np.ndarray)


# --- tf.contrib.eager.metrics --------------------------------------------------------------------
def test_tfe_metrics_eager():
    tfe = tf.contrib.eager
    with tf.eager_mode():
        mean = tfe.metrics.Mean()
        out = mean(tf.constant([1.0, 2.0]))
        assert out.numpy().tolist() == [1.0, 2.0]  # returns its input, for chaining
        mean(tf.constant(6.0), weights=2.0)
        r = mean.result()
        assert r.dtype == tf.float64 and float(r) == pytest.approx(15.0 / 4.0)
        assert f"{r:.2f}" == "3.75" and mean.name == "mean"
        acc = tfe.metrics.Accuracy()
        acc(tf.constant([1, 2, 3], tf.int64), tf.constant([1, 0, 3], tf.int32))
        assert float(acc.result()) == pytest.approx(2.0 / 3.0)
        sparse = tfe.metrics.SparseAccuracy()
        sparse(tf.constant([1, 0]), tf.constant([[0.1, 0.9], [0.2, 0.8]]))
        assert float(sparse.result()) == 0.5
        cat = tfe.metrics.CategoricalAccuracy()
        cat(tf.constant([[0.0, 1.0]]), tf.constant([[0.3, 0.7]]))
        assert float(cat.result()) == 1.0
        binary = tfe.metrics.BinaryAccuracy(threshold=0.5)
        binary(tf.constant([[1.0], [0.0]]), tf.constant([[0.7], [0.6]]))
        assert float(binary.result()) == 0.5
        assert float(tfe.metrics.Mean().result()) == 0.0


def test_tfe_metrics_graph_mode(graph):
    mean = tf.contrib.eager.metrics.Mean("loss_avg")
    x = tf.placeholder(tf.float32, [None])
    update = mean(x)
    result = mean.result()
    assert {v.op.name for v in mean.variables} == {"loss_avg/total", "loss_avg/count"}
    assert all(v in tf.local_variables() for v in mean.variables)
    with tf.Session() as sess:
        sess.run(mean.init_variables())
        sess.run(update, {x: [1.0, 2.0]})
        sess.run(update, {x: [6.0]})
        assert sess.run(result) == pytest.approx(3.0)


# --- tf.contrib.layers ---------------------------------------------------------------------------
def test_fully_connected_uses_tf_variable_names(graph):
    x = tf.placeholder(tf.float32, [None, 4])
    h = tf.contrib.layers.fully_connected(x, 3)
    h2 = tf.contrib.layers.fully_connected(h, 2, activation_fn=None, scope="fc1",
                                           weights_regularizer=tf.contrib.layers
                                           .l2_regularizer(0.1))
    h3 = tf.contrib.layers.fully_connected(h, 2, scope="fc1", reuse=True)
    h4 = tf.contrib.layers.fully_connected(x, 5, biases_initializer=None,
                                           variables_collections=["mine"])
    names = [v.op.name for v in tf.global_variables()]
    assert names == ["fully_connected/weights", "fully_connected/biases", "fc1/weights",
                     "fc1/biases", "fully_connected_1/weights"]
    assert [v.op.name for v in tf.get_collection("mine")] == ["fully_connected_1/weights"]
    assert tf.get_collection(tf.GraphKeys.MODEL_VARIABLES) == tf.global_variables()
    assert h.op.type == "Relu" and h2.op.type == "BiasAdd" and h3.op.type == "Relu"
    assert h4.shape.as_list() == [None, 5]
    (reg,) = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    w = tf.global_variables()[2]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        xv = np.random.RandomState(0).randn(2, 4).astype(np.float32)
        hv, h2v, h3v, wv = sess.run([h, h2, h3, w], {x: xv})
        assert (hv >= 0).all()
        np.testing.assert_allclose(h3v, np.maximum(h2v, 0), rtol=1e-6)  # shared variables
        np.testing.assert_allclose(sess.run(reg), 0.1 * np.sum(wv ** 2) / 2, rtol=1e-5)


def test_fully_connected_rank3_and_normalizer(graph):
    x = tf.placeholder(tf.float32, [None, 5, 4])
    y = tf.contrib.layers.fully_connected(x, 3, normalizer_fn=tf.contrib.layers.batch_norm,
                                          normalizer_params={"scale": True})
    assert y.shape.as_list() == [None, 5, 3]
    names = {v.op.name for v in tf.global_variables()}
    assert "fully_connected/biases" not in names  # the normalizer replaces the biases
    assert {"fully_connected/BatchNorm/gamma", "fully_connected/BatchNorm/beta"} <= names


def test_batch_norm_contrib_defaults_and_update_collections(graph):
    x = tf.placeholder(tf.float32, [None, 4])
    out = tf.contrib.layers.batch_norm(x)
    names = [v.op.name for v in tf.global_variables()]
    assert names == ["BatchNorm/beta", "BatchNorm/moving_mean", "BatchNorm/moving_variance"]
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2
    inplace = tf.contrib.layers.batch_norm(x, updates_collections=None, scope="bn2")
    custom = tf.contrib.layers.batch_norm(x, updates_collections="my_updates", scale=True)
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2
    assert len(tf.get_collection("my_updates")) == 2
    assert "BatchNorm_1/gamma:0" in [v.name for v in tf.global_variables()]
    frozen = tf.contrib.layers.batch_norm(x, is_training=False, scope="bn2", reuse=True)
    xv = np.random.RandomState(0).randn(8, 4).astype(np.float32)
    by_name = {v.op.name: v for v in tf.global_variables()}
    mm, mv = by_name["bn2/moving_mean"], by_name["bn2/moving_variance"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(out, {x: xv})
        np.testing.assert_allclose(got, (xv - xv.mean(0)) / np.sqrt(xv.var(0) + 0.001),
                                   atol=1e-5)
        sess.run(inplace, {x: xv})  # updates run with the output
        mean, var = sess.run([mm, mv])
        np.testing.assert_allclose(mean, 0.001 * xv.mean(0), rtol=1e-5)
        np.testing.assert_allclose(sess.run(frozen, {x: xv}),
                                   (xv - mean) / np.sqrt(var + 0.001), rtol=1e-5, atol=1e-6)
        sess.run(custom, {x: xv})


def test_regularizers():
    with tf.Graph().as_default():
        w = tf.constant([[1.0, -2.0]])
        with tf.Session() as sess:
            assert sess.run(tf.contrib.layers.l2_regularizer(0.5)(w)) == pytest.approx(1.25)
            assert sess.run(tf.contrib.layers.l1_regularizer(0.5)(w)) == pytest.approx(1.5)
            tf.add_to_collection(tf.GraphKeys.WEIGHTS, w)
            total = tf.contrib.layers.apply_regularization(
                tf.contrib.layers.l2_regularizer(1.0))
            assert sess.run(total) == pytest.approx(2.5)
        assert tf.contrib.layers.l2_regularizer(0.0)(w) is None
        with pytest.raises(ValueError, match="less than 0"):
            tf.contrib.layers.l2_regularizer(-1.0)
        with pytest.raises(ValueError, match="cannot be an integer"):
            tf.contrib.layers.l2_regularizer(1)


# --- logging, flags, version ----------------------------------------------------------------------
def test_logging_prints_like_tf(tmp_path):
    r = _run_python("import rillet as tf\n"
                    "tf.logging.info('hidden')\n"
                    "tf.logging.warning('careful %d', 1)\n"
                    "tf.logging.set_verbosity(tf.logging.INFO)\n"
                    "tf.logging.info('step %d, loss %.2f', 3, 0.5)\n"
                    "for i in range(4):\n"
                    "    tf.logging.log_every_n(tf.logging.INFO, 'every %d', 2, i)\n"
                    "for i in range(3):\n"
                    "    tf.logging.log_first_n(tf.logging.ERROR, 'first %d', 2, i)\n",
                    tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines() == ["WARNING:tensorflow:careful 1",
                                     "INFO:tensorflow:step 3, loss 0.50",
                                     "INFO:tensorflow:every 0", "INFO:tensorflow:every 2",
                                     "ERROR:tensorflow:first 0", "ERROR:tensorflow:first 1"]


def test_logging_keeps_a_user_configured_root_logger(tmp_path):
    r = _run_python("import logging, rillet as tf\n"
                    "logging.basicConfig(format='%(name)s|%(message)s')\n"
                    "tf.logging.warning('hi')\n", tmp_path)
    assert r.returncode == 0 and r.stderr.strip() == "rillet|hi", r.stderr


def test_flag_values_dict():
    from rillet.app import _Flags
    f = _Flags()
    f._define(str, "data_dir", "/tmp/data", "where")
    f._define(int, "steps", 10, None)
    f._define(bool, "fake", False, None)
    f(["prog", "--steps", "5"])
    assert f.flag_values_dict() == {"data_dir": "/tmp/data", "steps": 5, "fake": False}
    assert "steps" in f and "nope" not in f and f.is_parsed()


def test_version_names():
    assert tf.VERSION == tf.__version__ == tf.version.VERSION
    assert isinstance(tf.GIT_VERSION, str) and isinstance(tf.COMPILER_VERSION, str)

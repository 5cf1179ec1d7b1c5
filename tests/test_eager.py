"""Eager execution: modes, EagerTensor, dispatch (inference, errors, caching), eager variables,
random ops, stateful ops, the ``both_modes`` fixture and the ``tf.contrib.eager`` helpers."""

from __future__ import annotations

import gc
import sys
import threading

import numpy as np
import pytest

import rillet as rt
from rillet import context, registry
from rillet.eager import EagerTensor, EagerVariable, eager_mode, graph_mode
from rillet.eager.execute import store


@pytest.fixture
def eager():
    with rt.Graph().as_default(), eager_mode():
        yield


def _last_user_line(tb) -> int:
    """Line of the innermost traceback frame in this test file."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == __file__:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


# --- modes -------------------------------------------------------------------------------
def test_graph_mode_is_the_default():
    assert not rt.executing_eagerly()
    assert isinstance(rt.constant(1.0), rt.Tensor)


def test_mode_context_managers_nest():
    with eager_mode():
        assert rt.executing_eagerly()
        assert isinstance(rt.constant(1.0), EagerTensor)
        with graph_mode():
            assert not rt.executing_eagerly()
            assert isinstance(rt.constant(1.0), rt.Tensor)
        assert rt.executing_eagerly()
    assert not rt.executing_eagerly()


def test_enable_eager_execution_is_global_and_modes_override():
    try:
        rt.enable_eager_execution()
        assert rt.executing_eagerly()
        seen = []
        t = threading.Thread(target=lambda: seen.append(rt.executing_eagerly()))
        t.start()
        t.join()
        assert seen == [True]
        with graph_mode():
            assert not rt.executing_eagerly()
    finally:
        rt.disable_eager_execution()
    assert not rt.executing_eagerly()


def test_eager_mode_is_per_thread():
    seen = []
    with eager_mode():
        t = threading.Thread(target=lambda: seen.append(rt.executing_eagerly()))
        t.start()
        t.join()
    assert seen == [False]


# --- EagerTensor -------------------------------------------------------------------------
def test_repr_str_and_value(eager):
    t = rt.constant([1.0, 2.0])
    assert repr(t) == ("<rillet.Tensor: shape=(2,), dtype=float32, "
                       "numpy=array([1., 2.], dtype=float32)>")
    assert str(t) == "rillet.Tensor([1. 2.], shape=(2,), dtype=float32)"
    assert repr(rt.constant(3)) == "<rillet.Tensor: shape=(), dtype=int32, numpy=3>"
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0])
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert isinstance(rt.constant(2.5).numpy(), np.float32)


def test_static_information(eager):
    t = rt.constant(np.zeros((2, 3), np.float64))
    assert isinstance(t.shape, rt.TensorShape) and t.shape == rt.TensorShape([2, 3])
    assert t.get_shape().as_list() == [2, 3]
    assert t.dtype is rt.float64 and t.ndim == 2
    assert "CPU" in t.device
    t.set_shape([2, None])
    with pytest.raises(ValueError):
        t.set_shape([3, 3])
    for attr in ("op", "name", "graph"):
        with pytest.raises(AttributeError, match="meaningless when eager"):
            getattr(t, attr)
    assert not hasattr(t, "op")


def test_python_protocol(eager):
    assert bool(rt.constant(True)) and not bool(rt.constant(0.0))
    assert float(rt.constant(2.5)) == 2.5 and int(rt.constant(7)) == 7
    assert [10, 20, 30][rt.constant(1)] == 20
    with pytest.raises(TypeError):
        [1, 2][rt.constant(1.0)]
    t = rt.constant([[1, 2], [3, 4]])
    assert len(t) == 2
    rows = list(t)
    assert all(isinstance(r, EagerTensor) for r in rows)
    np.testing.assert_array_equal(rows[1].numpy(), [3, 4])
    with pytest.raises(TypeError):
        len(rt.constant(1.0))
    with pytest.raises(TypeError):
        iter(rt.constant(1.0))
    assert f"{rt.constant(1.23456):.2f}" == "1.23"
    with pytest.raises(ValueError, match="ambiguous"):
        bool(rt.constant([1.0, 2.0]))
    d = {rt.constant(1.0): "a"}
    assert len(d) == 1


def test_operators_and_mixed_inputs(eager):
    a = rt.constant([1.0, 2.0])
    np.testing.assert_allclose((a + 1).numpy(), [2, 3])
    np.testing.assert_allclose((1 - a).numpy(), [0, -1])
    np.testing.assert_allclose((a * a / 2).numpy(), [0.5, 2])
    np.testing.assert_allclose((2 ** a).numpy(), [2, 4])
    np.testing.assert_allclose((-a).numpy(), [-1, -2])
    np.testing.assert_array_equal((a > 1.5).numpy(), [False, True])
    np.testing.assert_allclose((np.array([1.0, 1.0], np.float32) + a).numpy(), [2, 3])
    np.testing.assert_allclose(rt.matmul([[1.0, 2.0]], [[3.0], [4.0]]).numpy(), [[11.0]])
    np.testing.assert_allclose(a[1].numpy(), 2.0)
    assert isinstance(a + 1, EagerTensor)


def test_conversion(eager):
    t = rt.convert_to_tensor(np.arange(3))
    assert isinstance(t, EagerTensor) and t.dtype is rt.int64
    assert rt.convert_to_tensor(1.5).dtype is rt.float32
    assert rt.convert_to_tensor(t) is t
    assert registry.is_tensor(t) and rt.is_tensor(t)
    with pytest.raises(ValueError, match="requested dtype"):
        rt.convert_to_tensor(t, dtype=rt.float32)


def test_eager_tensor_in_graph_becomes_a_constant(eager):
    t = rt.constant([1.0, 2.0])
    g = rt.Graph()
    with graph_mode(), g.as_default():
        y = t * 2
        assert isinstance(y, rt.Tensor)
        with rt.Session(graph=g) as sess:
            np.testing.assert_allclose(sess.run(y), [2, 4])


def test_graph_tensor_in_eager_op_is_an_error():
    g = rt.Graph()
    with g.as_default():
        p = rt.placeholder(rt.float32, [2])
    with eager_mode(), pytest.raises(TypeError, match="graph tensor"):
        rt.add(p, p)


# --- errors at the calling line ------------------------------------------------------------
def test_shape_error_is_raised_at_the_calling_line(eager):
    a, b = rt.constant([[1.0, 2.0]]), rt.constant([[1.0, 2.0]])
    with pytest.raises(ValueError) as info:
        line = sys._getframe().f_lineno + 1
        rt.matmul(a, b)
    assert "Dimensions must be equal" in str(info.value)
    assert "with input shapes: [1,2], [1,2]" in str(info.value)
    assert _last_user_line(info.tb) == line


def test_eager_and_graph_errors_have_the_same_text():
    def build():
        return rt.add(rt.constant(1.0), rt.constant(1))
    with rt.Graph().as_default(), pytest.raises(TypeError) as g_err:
        build()
    with eager_mode(), pytest.raises(TypeError) as e_err:
        build()
    assert str(g_err.value) == str(e_err.value)


def test_kernel_error_is_invalid_argument_at_the_calling_line(eager):
    p = rt.constant([1.0, 2.0, 3.0])
    with pytest.raises(rt.errors.InvalidArgumentError) as info:
        line = sys._getframe().f_lineno + 1
        rt.gather(p, [5])
    assert "[Op:" in str(info.value)
    assert _last_user_line(info.tb) == line


def test_value_dependent_inference_is_not_cached_wrongly(eager):
    x = rt.constant(np.arange(6.0))
    assert rt.reshape(x, [2, 3]).shape.as_list() == [2, 3]
    assert rt.reshape(x, [3, 2]).shape.as_list() == [3, 2]
    assert rt.fill([2], 1.0).shape.as_list() == [2]
    assert rt.fill([4], 1.0).shape.as_list() == [4]


def test_kernel_output_dtype_matches_the_declared_dtype(eager):
    s = rt.reduce_sum(rt.constant([1, 2, 3], dtype=rt.int32))
    assert s.dtype is rt.int32 and s.numpy().dtype == np.int32


# --- variables -----------------------------------------------------------------------------
def test_variable_basics(eager):
    v = rt.Variable([1.0, 2.0], name="w")
    assert isinstance(v, EagerVariable) and isinstance(v, rt.Variable)
    assert v.name == "w:0" and v.dtype is rt.float32 and v.shape == rt.TensorShape([2])
    assert v.trainable
    assert repr(v) == ("<rillet.Variable 'w:0' shape=(2,) dtype=float32, "
                       "numpy=array([1., 2.], dtype=float32)>")
    np.testing.assert_allclose(v.numpy(), [1, 2])
    np.testing.assert_allclose((v * 2).numpy(), [2, 4])
    np.testing.assert_allclose((3 - v).numpy(), [2, 1])
    np.testing.assert_allclose(np.asarray(v), [1, 2])
    assert float(rt.Variable(3.0)) == 3.0
    assert v.initializer is None
    np.testing.assert_allclose(v.initial_value.numpy(), [1, 2])


def test_variable_assignments(eager):
    v = rt.Variable([1.0, 2.0])
    assert v.assign([5.0, 6.0]) is v
    np.testing.assert_allclose(v.numpy(), [5, 6])
    v.assign_add([1.0, 1.0])
    v.assign_sub(np.array([0.5, 0.5], np.float32))
    np.testing.assert_allclose(v.numpy(), [5.5, 6.5])
    assert v.assign_add([1.0, 1.0], read_value=False) is None
    rt.assign(v, [0.0, 0.0])
    rt.assign_add(v, [1.0, 2.0])
    np.testing.assert_allclose(v.numpy(), [1, 2])
    with pytest.raises(ValueError):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        v.assign_add([1.0, 2.0, 3.0])


def test_reads_are_snapshots(eager):
    v = rt.Variable([1.0, 2.0])
    r, val, ident, arr = v.read_value(), v.value(), rt.identity(v), v.numpy()
    view = rt.reshape(v, [2, 1])
    v.assign_add([10.0, 10.0])
    for t in (r, val, ident):
        np.testing.assert_allclose(t.numpy(), [1, 2])
    np.testing.assert_allclose(view.numpy(), [[1], [2]])
    np.testing.assert_allclose(arr, [1, 2])


def test_variable_options(eager):
    v = rt.Variable(lambda: rt.zeros([2, 2]), trainable=False, dtype=rt.float32)
    assert not v.trainable and v.shape.as_list() == [2, 2]
    d = rt.Variable(1, dtype=rt.float64)
    assert d.dtype is rt.float64
    with pytest.raises(ValueError):
        rt.Variable(None)
    with pytest.raises(ValueError):
        rt.Variable([1.0, 2.0], shape=[3])


def test_variable_names_are_unique_while_alive(eager):
    a = rt.Variable(1.0, name="dup")
    b = rt.Variable(2.0, name="dup")
    assert a.name == "dup:0" and b.name == "dup_1:0"
    assert store["dup"] == 1.0 and store["dup_1"] == 2.0
    del a, b
    gc.collect()
    assert "dup" not in store and "dup_1" not in store
    assert rt.Variable(3.0, name="dup").name == "dup:0"
    with rt.name_scope("layer"):
        assert rt.Variable(1.0, name="k").name.startswith("layer")


def test_get_variable_in_eager_mode(eager):
    with rt.variable_scope("scope"):
        w = rt.get_variable("w", [2, 3], initializer=rt.ones_initializer())
    assert isinstance(w, EagerVariable) and w.name == "scope/w:0"
    np.testing.assert_allclose(w.numpy(), np.ones((2, 3)))
    with rt.variable_scope("scope", reuse=True):
        assert rt.get_variable("w") is w


def test_eager_variable_in_a_plain_graph_is_an_error(eager):
    v = rt.Variable(1.0)
    with graph_mode(), rt.Graph().as_default(), pytest.raises(ValueError, match="rt.function"):
        v * 2


# --- random and stateful ops -----------------------------------------------------------------
def test_random_ops_follow_seeds(eager):
    a = rt.random_normal([3], seed=5).numpy()
    b = rt.random_normal([3], seed=5).numpy()
    assert not np.allclose(a, b)  # one stream per (seed, seed2), as TF's kernel cache
    rt.eager.reset_random_state()
    np.testing.assert_array_equal(rt.random_normal([3], seed=5).numpy(), a)
    rt.set_random_seed(7)
    rt.eager.reset_random_state()
    x1, x2 = rt.random_uniform([4]).numpy(), rt.random_uniform([4]).numpy()
    assert not np.allclose(x1, x2)
    rt.eager.reset_random_state()
    np.testing.assert_array_equal(rt.random_uniform([4]).numpy(), x1)
    u = rt.random_uniform([1000], 2.0, 3.0).numpy()
    assert u.dtype == np.float32 and u.min() >= 2.0 and u.max() < 3.0


def test_print_prints_at_once(eager, capsys):
    x = rt.constant([1.0, 2.0])
    y = rt.Print(x, [x], message="x = ")
    assert capsys.readouterr().err.strip() == "x = [1 2]"
    np.testing.assert_allclose(y.numpy(), [1, 2])


def test_no_output_ops_return_none(eager):
    assert rt.no_op() is None


# --- the both_modes fixture ------------------------------------------------------------------
def test_both_modes_fixture(both_modes):
    assert rt.executing_eagerly() == both_modes.eager
    x = rt.constant([1.0, 2.0])
    v = rt.Variable([10.0, 20.0])
    out = both_modes.evaluate({"sum": x + v, "pair": [x * 2, v]})
    np.testing.assert_allclose(out["sum"], [11, 22])
    np.testing.assert_allclose(out["pair"][0], [2, 4])
    np.testing.assert_allclose(out["pair"][1], [10, 20])


def test_both_modes_assign(both_modes):
    v = rt.Variable(1.0)
    both_modes.evaluate(v.assign_add(2.0))
    assert both_modes.evaluate(v) == 3.0


@pytest.mark.both_modes
def test_both_modes_marker():
    y = rt.reduce_sum(rt.constant([1.0, 2.0, 3.0]))
    assert isinstance(y, EagerTensor) == rt.executing_eagerly()


# --- tf.contrib.eager helpers ------------------------------------------------------------------
def test_implicit_gradients(eager):
    w = rt.Variable(2.0)
    b = rt.Variable(1.0)
    frozen = rt.Variable(5.0, trainable=False)

    def loss(x):
        return rt.square(w * x + b + frozen)

    gv = rt.eager.implicit_gradients(loss)(3.0)
    assert [v for _, v in gv] == [w, b]
    np.testing.assert_allclose([g.numpy() for g, _ in gv], [2 * 12 * 3, 2 * 12])
    value, gv2 = rt.eager.implicit_value_and_gradients(loss)(3.0)
    assert value.numpy() == 144.0 and len(gv2) == 2


def test_gradients_function(eager):
    def f(x, y):
        return x * x * y

    gx, gy = rt.eager.gradients_function(f)(3.0, 2.0)
    assert gx.numpy() == 12.0 and gy.numpy() == 9.0
    (gy,) = rt.eager.gradients_function(f, params=[1])(3.0, 2.0)
    assert gy.numpy() == 9.0
    value, _ = rt.eager.value_and_gradients_function(f)(3.0, 2.0)
    assert value.numpy() == 18.0


def test_iterator_over_dataset(eager):
    ds = rt.data.Dataset.from_tensor_slices((np.arange(4.0), np.arange(4))).batch(2)
    it = rt.eager.Iterator(ds)
    x, y = it.next()
    assert isinstance(x, EagerTensor) and x.numpy().tolist() == [0.0, 1.0]
    assert [b[1].numpy().tolist() for b in it] == [[2, 3]]


def test_hooks_are_installed():
    assert context.eager_execute is rt.eager.eager_execute
    assert EagerTensor in registry.tensor_types


def test_optimizers_run_eagerly(eager):
    w = rt.Variable([1.0, -2.0])
    rt.train.GradientDescentOptimizer(0.25).minimize(lambda: rt.reduce_sum(w * w),
                                                     var_list=[w])
    np.testing.assert_allclose(w.numpy(), [0.5, -1.0])
    adam = rt.train.AdamOptimizer(0.1)
    for _ in range(3):
        with rt.GradientTape() as tape:
            loss = rt.reduce_sum(w * w)
        adam.apply_gradients(zip(tape.gradient(loss, [w]), [w]))
    np.testing.assert_allclose(w.numpy(), [0.2, -0.7], atol=0.01)  # ~lr per Adam step
    assert {s.name.split(":")[0] for s in adam.variables()} >= {"beta1_power", "beta2_power"}


def test_tf1_eager_tutorial_linear_regression(eager):
    """TensorFlow-Examples' linear_regression_eager_api.py, with ``import rillet as tf``."""
    tf = rt
    tfe = tf.contrib.eager
    train_x = [3.3, 4.4, 5.5, 6.71, 6.93, 4.168, 9.779, 6.182, 7.59, 2.167, 7.042, 10.791]
    train_y = [1.7, 2.76, 2.09, 3.19, 1.694, 1.573, 3.366, 2.596, 2.53, 1.221, 2.827, 3.465]
    n = len(train_x)
    w = tfe.Variable(0.5)
    b = tfe.Variable(-0.3)

    def linear_regression(inputs):
        return inputs * w + b

    def mean_square_fn(model_fn, inputs, labels):
        return tf.reduce_sum(tf.pow(model_fn(inputs) - labels, 2)) / (2 * n)

    optimizer = tf.train.GradientDescentOptimizer(learning_rate=0.01)
    grad = tfe.implicit_gradients(mean_square_fn)
    cost = mean_square_fn(linear_regression, train_x, train_y)
    first = float("{:.9f}".format(cost))  # noqa: UP032  (the tutorial's formatting)
    for _ in range(200):
        optimizer.apply_gradients(grad(linear_regression, train_x, train_y))
    last = mean_square_fn(linear_regression, train_x, train_y).numpy()
    xs, ys = np.array(train_x), np.array(train_y)
    wv, bv = 0.5, -0.3
    for _ in range(200):  # the same descent in NumPy
        r = xs * wv + bv - ys
        wv, bv = wv - 0.01 * (r * xs).sum() / n, bv - 0.01 * r.sum() / n
    np.testing.assert_allclose([w.numpy(), b.numpy()], [wv, bv], rtol=1e-4)
    assert last < first

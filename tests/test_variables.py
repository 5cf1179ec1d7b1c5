"""Variables, get_variable, variable_scope and initializers."""

import numpy as np
import pytest

import rillet as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def test_variable_ops_and_names():
    v = tf.Variable(tf.zeros([2, 3]), name="weights")
    assert v.name == "weights:0"
    assert v.op.type == "VariableV2" and v.op.name == "weights"
    assert v.initializer.name == "weights/Assign"
    assert v.value().op.name == "weights/read"
    assert v.shape.as_list() == [2, 3] and v.dtype is tf.float32
    assert repr(v) == "<rillet.Variable 'weights:0' shape=(2, 3) dtype=float32>"


def test_variable_methods():
    v = tf.Variable(5, name="count")
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    assert sess.run(v.assign(7)) == 7
    assert sess.run(v.assign_add(3)) == 10
    assert sess.run(v.assign_sub(4)) == 6
    assert sess.run(v.read_value()) == 6
    assert v.eval(session=sess) == 6
    v.load(42, sess)
    assert sess.run(v) == 42
    assert sess.run(v + 1) == 43


def test_initialization_queries():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b")
    sess = tf.Session()
    assert not sess.run(tf.is_variable_initialized(a))
    assert list(sess.run(tf.report_uninitialized_variables())) == [b"a", b"b"]
    sess.run(tf.variables_initializer([a]))
    assert sess.run(tf.is_variable_initialized(a))
    assert list(sess.run(tf.report_uninitialized_variables())) == [b"b"]
    assert tf.trainable_variables() == [a, b]


def test_assign_shape_mismatch_is_build_time_error():
    v = tf.Variable(tf.zeros([2]), name="v")
    with pytest.raises(ValueError):
        tf.assign(v, tf.zeros([3]))


def test_variable_scope_reuse():
    with tf.variable_scope("layer"):
        w = tf.get_variable("w", [2, 2])
    assert w.name == "layer/w:0"
    with tf.variable_scope("layer", reuse=True):
        assert tf.get_variable("w", [2, 2]) is w
        with pytest.raises(ValueError, match="Variable layer/x does not exist"):
            tf.get_variable("x", [1])
    with tf.variable_scope("layer", reuse=tf.AUTO_REUSE):
        assert tf.get_variable("w") is w
        x = tf.get_variable("x", [1])
    assert x.name == "layer/x:0"
    with tf.variable_scope("layer") as scope:
        scope.reuse_variables()
        assert tf.get_variable("w") is w
    with pytest.raises(ValueError, match="already exists"):
        with tf.variable_scope("layer"):
            tf.get_variable("w", [2, 2])


def test_variable_scope_names_ops_too():
    with tf.variable_scope("net"):
        c = tf.constant(1.0)
        v = tf.get_variable("b", [], initializer=tf.zeros_initializer())
    assert c.op.name == "net/Const"
    assert v.op.name == "net/b"


def test_get_variable_needs_a_shape():
    with pytest.raises(ValueError, match="must be fully defined"):
        tf.get_variable("w", [None, 3])


def test_get_variable_with_tensor_initializer():
    v = tf.get_variable("c", initializer=tf.constant([1.0, 2.0]))
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


def _init_value(init, shape, seed_graph=None):
    g = tf.Graph()
    with g.as_default():
        if seed_graph is not None:
            tf.set_random_seed(seed_graph)
        v = tf.get_variable("v", shape, initializer=init)
        with tf.Session(graph=g) as s:
            s.run(tf.global_variables_initializer())
            return s.run(v)


@pytest.mark.parametrize("init,check", [
    (tf.zeros_initializer(), lambda a: np.all(a == 0)),
    (tf.ones_initializer(), lambda a: np.all(a == 1)),
    (tf.constant_initializer(3.0), lambda a: np.all(a == 3)),
    (tf.random_normal_initializer(0.0, 2.0, seed=1), lambda a: abs(a.std() - 2.0) < 0.1),
    (tf.truncated_normal_initializer(0.0, 1.0, seed=1), lambda a: np.abs(a).max() <= 2.0),
    (tf.random_uniform_initializer(-1.0, 1.0, seed=1),
     lambda a: a.min() >= -1.0 and a.max() < 1.0 and abs(a.mean()) < 0.05),
])
def test_initializers(init, check):
    a = _init_value(init, [100, 50])
    assert check(a)


def test_glorot_and_variance_scaling_ranges():
    fan_in, fan_out = 300, 100
    a = _init_value(tf.glorot_uniform_initializer(seed=2), [fan_in, fan_out])
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    assert a.max() <= limit and a.min() >= -limit and a.max() > 0.9 * limit
    he = _init_value(tf.variance_scaling_initializer(2.0, "fan_in", "untruncated_normal",
                                                     seed=3), [fan_in, fan_out])
    assert abs(he.std() - np.sqrt(2.0 / fan_in)) < 0.005
    g = _init_value(tf.glorot_normal_initializer(seed=4), [fan_in, fan_out])
    assert abs(g.std() - np.sqrt(2.0 / (fan_in + fan_out))) < 0.01
    # Conv kernels [h, w, in, out]: fans include the receptive field.
    conv = _init_value(tf.glorot_uniform_initializer(seed=5), [3, 3, 16, 32])
    assert conv.max() <= np.sqrt(6.0 / (9 * 16 + 9 * 32))


def test_seeded_initializers_are_reproducible():
    a = _init_value(tf.random_normal_initializer(seed=7), [4, 4])
    b = _init_value(tf.random_normal_initializer(seed=7), [4, 4])
    np.testing.assert_array_equal(a, b)
    c = _init_value(tf.glorot_uniform_initializer(), [4, 4], seed_graph=11)
    d = _init_value(tf.glorot_uniform_initializer(), [4, 4], seed_graph=11)
    np.testing.assert_array_equal(c, d)
    e = _init_value(tf.glorot_uniform_initializer(), [4, 4])
    f = _init_value(tf.glorot_uniform_initializer(), [4, 4])
    assert not np.array_equal(e, f)


def test_numpy_array_on_the_left_builds_an_op():
    v = tf.Variable([1.0, 2.0], name="v")
    out = np.array([2.0, 3.0], np.float32) * v
    assert isinstance(out, tf.Tensor)
    sess = tf.Session()
    sess.run(v.initializer)
    np.testing.assert_array_equal(sess.run(out), [2.0, 6.0])


def test_reentering_a_named_scope_restarts_default_names():
    x = tf.placeholder(tf.float32, [None, 4])
    with tf.variable_scope("net"):
        with tf.variable_scope(None, default_name="dense"):
            a = tf.get_variable("k", [4, 2])
    with tf.variable_scope("net", reuse=True):
        with tf.variable_scope(None, default_name="dense"):
            b = tf.get_variable("k", [4, 2])
    assert a is b and a.name == "net/dense/k:0"
    del x


def test_variables_created_under_control_dependencies_initialize_without_them():
    p = tf.placeholder(tf.float32)
    dep = tf.identity(p)
    with tf.control_dependencies([dep]):
        w = tf.get_variable("w", [2], initializer=tf.zeros_initializer())
        v = tf.Variable(lambda: tf.ones([2]), name="v")
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())  # needs no feed for p
    np.testing.assert_array_equal(sess.run(w + v), [1.0, 1.0])

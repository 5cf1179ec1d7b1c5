"""Graph construction: naming, scopes, shapes, dtypes, collections, devices."""

import numpy as np
import pytest

import rillet as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def test_default_graph_and_as_default():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(1.0)
        assert tf.get_default_graph() is g
    assert c.graph is g
    assert tf.get_default_graph() is not g


def test_tensor_from_another_graph_is_a_value_error():
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        a = tf.constant(1.0)
    with g2.as_default():
        b = tf.constant(2.0)
    with pytest.raises(ValueError, match="must be from the same graph"):
        tf.add(a, b)


def test_operation_and_tensor_attributes():
    a = tf.constant([[1.0, 2.0]], name="a")
    b = tf.matmul(a, a, transpose_b=True)
    op = b.op
    assert op.type == "MatMul" and op.name == "MatMul"
    assert op.inputs == (a, a)
    assert op.outputs == (b,)
    assert op.get_attr("transpose_b") is True
    assert b.name == "MatMul:0" and b.value_index == 0
    assert b.shape.as_list() == [1, 1] and b.dtype == tf.float32
    assert op.traceback[0] == __file__
    g = tf.get_default_graph()
    assert g.get_operation_by_name("a") is a.op
    assert g.get_tensor_by_name("MatMul:0") is b
    assert g.as_graph_element("MatMul") is op
    assert [o.name for o in g.get_operations()] == ["a", "MatMul"]
    with pytest.raises(KeyError, match="does not exist"):
        g.get_tensor_by_name("nope:0")


def test_name_scopes_nest_and_uniquify():
    with tf.name_scope("a"):
        with tf.name_scope("b"):
            c = tf.constant(1, name="c")
    with tf.name_scope("a"):
        d = tf.constant(2)
    assert c.op.name == "a/b/c"
    assert d.op.name == "a_1/Const"
    with tf.name_scope("a") as scope:
        assert scope == "a_2/"


def test_placeholder_shapes_with_wildcards():
    x = tf.placeholder("float", [None, 784])
    assert x.dtype == tf.float32
    assert x.get_shape().as_list() == [None, 784]
    y = tf.placeholder(tf.int64, [-1])
    assert y.shape.as_list() == [None]
    z = tf.placeholder(tf.float32)
    assert z.shape.ndims is None
    with pytest.raises(ValueError):
        z.shape.as_list()
    z.set_shape([2, 3])
    assert z.shape.as_list() == [2, 3]
    with pytest.raises(ValueError, match="incompatible"):
        x.set_shape([3, 3])


def test_dtypes_from_strings_and_numpy():
    assert tf.as_dtype("float") is tf.float32
    assert tf.as_dtype(np.int64) is tf.int64
    assert tf.as_dtype("int64") is tf.int64
    assert tf.float32 == np.float32
    c = tf.cast(tf.constant([1, 2]), "float")
    assert c.dtype is tf.float32
    with pytest.raises(TypeError):
        tf.as_dtype("nope")


def test_python_values_follow_tensorflow_dtypes():
    assert tf.constant(1.5).dtype is tf.float32
    assert tf.constant(3).dtype is tf.int32
    assert tf.constant([True]).dtype is tf.bool
    assert tf.convert_to_tensor(np.zeros(2)).dtype is tf.float64


def test_mixed_dtypes_are_an_error():
    a = tf.constant(1.0)
    b = tf.constant(1)
    with pytest.raises(TypeError, match="Input 'y' of 'Add' Op has type int32 that does not "
                                        "match type float32"):
        tf.add(a, b)
    with pytest.raises(TypeError, match="Expected int32, got 1.5"):
        tf.constant(1) + 1.5


def test_operators_build_ops():
    a = tf.constant(6.0)
    b = tf.constant(4.0)
    exprs = [a + b, a - b, a * b, a / b, a // b, a % b, a ** b, -a, abs(-a),
             a < b, a <= b, a > b, a >= b, 2.0 * a, 1.0 - a]
    sess = tf.Session()
    got = sess.run(exprs)
    assert got == [10, 2, 24, 1.5, 1, 2, 1296, -6, 6, False, False, True, True, 12, -5]
    m = tf.constant([[1.0, 2.0]])
    assert sess.run(m @ tf.constant([[1.0], [1.0]])).tolist() == [[3.0]]


def test_control_dependencies_order_side_effects():
    v = tf.Variable(0, name="v")
    inc = tf.assign_add(v, 1)
    with tf.control_dependencies([inc]):
        read = tf.identity(v)
    sess = tf.Session()
    sess.run(v.initializer)
    assert sess.run(read) == 1
    assert sess.run(read) == 2
    with tf.control_dependencies([inc]):
        with tf.control_dependencies(None):
            plain = tf.identity(v)
    assert plain.op.control_inputs == []


def test_collections():
    tf.add_to_collection("mine", 1)
    tf.add_to_collections(["mine", "other"], 2)
    assert tf.get_collection("mine") == [1, 2]
    assert tf.get_collection("other") == [2]
    v = tf.Variable(1.0, name="w")
    u = tf.Variable(1.0, name="u", trainable=False)
    assert tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES) == [v]
    assert tf.global_variables() == [v, u]
    assert tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES, scope="u") == [u]


def test_device_is_recorded():
    with tf.device("/cpu:0"):
        a = tf.constant(1.0)
    with tf.device("/gpu:0"):
        b = a + 1
    assert a.op.device == "/device:CPU:0"
    assert b.device == "/device:GPU:0"
    # No GPU here: placement is soft, the op still runs.
    assert tf.Session().run(b) == 2.0


def test_log_device_placement(capfd):
    a = tf.constant(1.0, name="a")
    sess = tf.Session(config=tf.ConfigProto(log_device_placement=True))
    sess.run(a)
    assert "a: (Const): /job:localhost/replica:0/task:0/device:CPU:0" in capfd.readouterr().err


def test_group_and_tuple_and_no_op():
    v = tf.Variable(0, name="v")
    a = tf.assign_add(v, 1)
    b = tf.assign_add(v, 10)
    g = tf.group(a, b)
    assert g.type == "NoOp" and g.outputs == ()
    sess = tf.Session()
    sess.run(v.initializer)
    assert sess.run(g) is None
    assert sess.run(v) == 11
    x, y = tf.tuple([tf.constant(1), tf.constant(2)])
    assert sess.run([x, y]) == [1, 2]
    assert sess.run(tf.no_op()) is None


def test_add_n_zeros_ones_fill():
    sess = tf.Session()
    assert sess.run(tf.add_n([tf.constant(1), tf.constant(2), tf.constant(3)])) == 6
    np.testing.assert_array_equal(sess.run(tf.zeros([2, 3])), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(sess.run(tf.ones([2], tf.int32)), [1, 1])
    x = tf.placeholder(tf.float32, [None])
    f = tf.fill(tf.shape(x), 7.0)
    assert f.shape.as_list() == [None]
    np.testing.assert_array_equal(sess.run(f, {x: [1, 2]}), [7, 7])
    z = tf.zeros(tf.shape(x))
    np.testing.assert_array_equal(sess.run(z, {x: [1, 2, 3]}), [0, 0, 0])


def test_placeholder_with_default():
    x = tf.placeholder_with_default(tf.constant([1.0, 2.0]), shape=[None])
    sess = tf.Session()
    np.testing.assert_array_equal(sess.run(x), [1, 2])
    np.testing.assert_array_equal(sess.run(x, {x: [5.0]}), [5])


def test_big_zeros_are_a_fill_not_a_constant():
    z = tf.zeros([100, 100])
    assert z.op.type == "Fill" and z.shape.as_list() == [100, 100]
    assert tf.zeros([3]).op.type == "Const"
    assert tf.Session().run(tf.reduce_sum(tf.ones([50, 50]))) == 2500


def test_graph_def_of_graph_and_session():
    tf.constant(1.0, name="c")
    gd = tf.get_default_graph().as_graph_def()
    assert [n.name for n in gd.node] == ["c"]
    assert [n.name for n in tf.Session().graph_def.node] == ["c"]


def test_shape_items_have_tf1_dimension_value():
    x = tf.placeholder(tf.float32, [None, 5])
    assert x.get_shape()[1].value == 5 and x.shape[1] == 5 and int(x.shape[1]) == 5
    assert x.shape[0] is None


def test_where_with_shapeless_condition_keeps_value_shape():
    c = tf.placeholder(tf.bool)
    a = tf.placeholder(tf.float32, [None, 6])
    assert tf.where(c, a, a).shape.as_list() == [None, 6]


def test_graph_seed_zero_is_deterministic():
    def draw():
        g = tf.Graph()
        with g.as_default():
            tf.set_random_seed(0)
            r = tf.random_normal([3])
            with tf.Session(graph=g) as s:
                return s.run(r)
    np.testing.assert_array_equal(draw(), draw())

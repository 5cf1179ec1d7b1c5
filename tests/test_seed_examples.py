"""The examples of seeds 000 ("the confusing parts") and 003, with their printed results."""

import numpy as np
import pytest

import rillet as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def test_constant_prints_like_tensorflow():
    two_node = tf.constant(2)
    assert str(two_node) == 'Tensor("Const:0", shape=(), dtype=int32)'
    assert repr(two_node) == "<rillet.Tensor 'Const:0' shape=() dtype=int32>"


def test_every_constant_call_adds_a_node():
    tf.constant(2)
    tf.constant(2)
    tf.constant(2)
    tf.constant(3)
    names = [op.name for op in tf.get_default_graph().get_operations()]
    assert names == ["Const", "Const_1", "Const_2", "Const_3"]


def test_session_run_single_and_list():
    two_node = tf.constant(2)
    three_node = tf.constant(3)
    sum_node = two_node + three_node
    sess = tf.Session()
    assert sess.run(sum_node) == 5
    assert sess.run([two_node, sum_node]) == [2, 5]


def test_unfed_placeholder_error_message():
    input_placeholder = tf.placeholder(tf.int32)
    sess = tf.Session()
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="You must feed a value for placeholder tensor 'Placeholder' "
                             "with dtype int32"):
        sess.run(input_placeholder)
    assert sess.run(input_placeholder, feed_dict={input_placeholder: 2}) == 2


def test_computation_path_skips_unfed_placeholder():
    input_placeholder = tf.placeholder(tf.int32)
    three_node = tf.constant(3)
    sum_node = input_placeholder + three_node
    sess = tf.Session()
    assert sess.run(three_node) == 3
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="placeholder tensor 'Placeholder' with dtype int32"):
        sess.run(sum_node)


def test_uninitialized_variable_error():
    count_variable = tf.get_variable("count", [])
    sess = tf.Session()
    with pytest.raises(tf.errors.FailedPreconditionError,
                       match="Attempting to use uninitialized value count"):
        sess.run(count_variable)


def test_assign_is_identity_with_side_effect():
    count_variable = tf.get_variable("count", [])
    zero_node = tf.constant(0.)
    assign_node = tf.assign(count_variable, zero_node)
    sess = tf.Session()
    assert sess.run(assign_node) == 0
    assert sess.run(count_variable) == 0


def test_initializer_needs_global_variables_initializer():
    const_init_node = tf.constant_initializer(0.)
    count_variable = tf.get_variable("count", [], initializer=const_init_node)
    sess = tf.Session()
    with pytest.raises(tf.errors.FailedPreconditionError,
                       match="Attempting to use uninitialized value count"):
        sess.run([count_variable])
    init = tf.global_variables_initializer()
    sess.run(init)
    assert sess.run(count_variable) == 0


def test_get_variable_twice_is_an_error():
    tf.get_variable("count", [])
    with pytest.raises(ValueError, match="Variable count already exists"):
        tf.get_variable("count", [])


def test_print_prints_only_on_the_path(capfd):
    two_node = tf.constant(2)
    three_node = tf.constant(3)
    sum_node = two_node + three_node
    print_sum_node = tf.Print(sum_node, [two_node, three_node])
    sess = tf.Session()
    assert sess.run(print_sum_node) == 5
    assert capfd.readouterr().err == "[2][3]\n"
    # A Print node that is not on the computation path prints nothing.
    tf.Print(two_node, [two_node, three_node, sum_node])
    assert sess.run(sum_node) == 5
    assert capfd.readouterr().err == ""


def test_values_are_not_cached_between_runs():
    x = tf.random_uniform([3])
    sess = tf.Session()
    assert not np.array_equal(sess.run(x), sess.run(x))


def test_shape_errors_at_graph_building_time():
    a = tf.placeholder(tf.float32, [None, 3])
    b = tf.placeholder(tf.float32, [4, 5])
    with pytest.raises(ValueError, match=r"Dimensions must be equal, but are 3 and 4 for "
                                         r"'MatMul' \(op: 'MatMul'\) with input shapes: "
                                         r"\[\?,3\], \[4,5\]"):
        tf.matmul(a, b)


def test_feed_shape_checked_against_placeholder():
    x = tf.placeholder(tf.float32, shape=[None, 2])
    sess = tf.Session()
    with pytest.raises(ValueError, match=r"Cannot feed value of shape \(3,\) for Tensor "
                                         r"'Placeholder:0', which has shape '\(\?, 2\)'"):
        sess.run(x, {x: [1, 2, 3]})
    np.testing.assert_array_equal(sess.run(x * 2, {x: [[1, 2]]}), [[2, 4]])


def test_interactive_session_eval():
    sess = tf.InteractiveSession()
    try:
        a = tf.constant(5.0)
        b = tf.constant(6.0)
        c = a * b
        assert c.eval() == 30.0
    finally:
        sess.close()

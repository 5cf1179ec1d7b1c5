"""Session.run: fetch structures, feeds, plans, errors, threads."""

import collections
import threading

import numpy as np
import pytest

import rillet as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def test_nested_fetch_structures():
    a = tf.constant(1)
    b = tf.constant(2)
    Pair = collections.namedtuple("Pair", "x y")
    sess = tf.Session()
    out = sess.run({"a": a, "nested": [b, (a, b)], "pair": Pair(a, b), "op": a.op})
    assert out == {"a": 1, "nested": [2, (1, 2)], "pair": Pair(1, 2), "op": None}
    assert sess.run((a, b)) == (1, 2)


def test_fetch_by_name_and_feed_by_name():
    x = tf.placeholder(tf.float32, name="x")
    tf.multiply(x, 2.0, name="y")
    sess = tf.Session()
    assert sess.run("y:0", feed_dict={"x:0": 3.0}) == 6.0
    assert sess.run("y", feed_dict={x: 3.0}) is None  # an operation name fetches the op


def test_any_tensor_can_be_fed():
    a = tf.constant(2.0)
    b = a * 3.0
    c = b + 1.0
    sess = tf.Session()
    assert sess.run(c) == 7.0
    assert sess.run(c, feed_dict={b: 10.0}) == 11.0


def test_feed_converted_to_placeholder_dtype():
    x = tf.placeholder(tf.float32, [2])
    out = tf.Session().run(x, {x: [1, 2]})
    assert out.dtype == np.float32


def test_closed_session_raises():
    a = tf.constant(1)
    sess = tf.Session()
    sess.close()
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(a)


def test_with_session_is_default_and_closes():
    a = tf.constant(4)
    with tf.Session() as sess:
        assert tf.get_default_session() is sess
        assert a.eval() == 4
        a.op.run()
    assert tf.get_default_session() is None
    with pytest.raises(RuntimeError):
        sess.run(a)
    with pytest.raises(ValueError, match="No default session"):
        a.eval()


def test_as_default():
    a = tf.constant(3)
    sess = tf.Session()
    with sess.as_default():
        assert a.eval() == 3
    assert a.eval(session=sess) == 3


def test_variables_live_in_the_session():
    v = tf.Variable(1.0, name="v")
    inc = tf.assign_add(v, 1.0)
    s1, s2 = tf.Session(), tf.Session()
    s1.run(v.initializer)
    s1.run(inc)
    assert s1.run(v) == 2.0
    with pytest.raises(tf.errors.FailedPreconditionError):
        s2.run(v)


def test_fetched_variable_value_does_not_change_later():
    v = tf.Variable([1.0, 2.0], name="v")
    inc = tf.assign_add(v, [1.0, 1.0])
    sess = tf.Session()
    sess.run(v.initializer)
    before = sess.run(v)
    sess.run(inc)
    np.testing.assert_array_equal(before, [1.0, 2.0])
    np.testing.assert_array_equal(sess.run(v), [2.0, 3.0])


def test_plans_are_cached(monkeypatch):
    x = tf.placeholder(tf.float32)
    y = x + 1.0
    sess = tf.Session()
    built = []
    orig = sess._build_plan
    monkeypatch.setattr(sess, "_build_plan", lambda *a: built.append(1) or orig(*a))
    for i in range(5):
        assert sess.run(y, {x: float(i)}) == i + 1
    assert len(built) == 1
    sess.run([y], {x: 1.0})  # same fetch and feeds: same plan
    assert len(built) == 1
    sess.run([y, x], {x: 1.0})
    assert len(built) == 2


def test_make_callable():
    a = tf.placeholder(tf.float32)
    b = tf.placeholder(tf.float32)
    c = a * b
    sess = tf.Session()
    f = sess.make_callable([c, a], feed_list=[a, b])
    assert f(2.0, 3.0) == [6.0, 2.0]
    with pytest.raises(TypeError, match="Expected 2 feed values"):
        f(1.0)


def test_runtime_error_names_op_and_line():
    x = tf.placeholder(tf.float32, [None, 3])
    w = tf.placeholder(tf.float32, [None, 2])
    y = tf.matmul(x, w)  # the line the error must point at
    line = y.op.traceback[1]
    sess = tf.Session()
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        sess.run(y, {x: np.ones((2, 3)), w: np.ones((4, 2))})
    msg = str(info.value)
    assert "MatMul" in msg and f"test_session.py:{line}" in msg
    assert info.value.op is y.op


def test_run_from_several_threads():
    x = tf.placeholder(tf.float32, [None])
    y = tf.reduce_sum(x * 2.0)
    sess = tf.Session()
    errors = []

    def work(k):
        try:
            for i in range(200):
                v = np.full(3, float(k + i), np.float32)
                assert sess.run(y, {x: v}) == 6.0 * (k + i)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []


def test_fetch_from_other_graph_rejected():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(1)
    sess = tf.Session()
    with pytest.raises(ValueError, match="not an element of this graph"):
        sess.run(a)


def test_fetch_none_is_type_error():
    with pytest.raises(TypeError, match="Fetch argument None"):
        tf.Session().run([None])

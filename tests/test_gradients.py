"""Semantics of ``tf.gradients``: summing paths, broadcasting, unconnected inputs, stopping,
identity-like ops, ``grad_ys``, higher derivatives, gradient overrides and ``custom_gradient``."""

from __future__ import annotations

import numpy as np
import pytest

import rillet as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def run(*fetches, feed=None):
    return tf.Session().run(list(fetches), feed)


def test_multiple_paths_are_summed():
    x = tf.constant(3.0)
    y = x * x + 3.0 * x + tf.square(x)
    (g,) = run(tf.gradients(y, x)[0])
    assert g == pytest.approx(2 * 3 + 3 + 2 * 3)


def test_gradient_of_list_of_ys_is_gradient_of_sum():
    x = tf.constant([1.0, 2.0])
    g = tf.gradients([x * x, 3.0 * x], x)[0]
    np.testing.assert_allclose(run(g)[0], [5.0, 7.0])


def test_broadcasting_is_reduced_to_input_shape():
    x = tf.constant([[1.0], [2.0], [3.0]])       # [3, 1]
    y = tf.constant([[10.0, 20.0, 30.0, 40.0]])  # [1, 4]
    s = tf.constant(2.0)                         # scalar
    z = (x + y) * s
    gx, gy, gs = tf.gradients(tf.reduce_sum(z), [x, y, s])
    assert gx.shape.as_list() == [3, 1] and gy.shape.as_list() == [1, 4]
    vx, vy, vs = run(gx, gy, gs)
    np.testing.assert_allclose(vx, [[8.0], [8.0], [8.0]])
    np.testing.assert_allclose(vy, [[6.0, 6.0, 6.0, 6.0]])
    assert vs == pytest.approx(np.sum(np.array([[1.0], [2.0], [3.0]]) + [[10, 20, 30, 40]]))


def test_unconnected_gradients():
    x = tf.constant(1.0)
    z = tf.constant(2.0)
    y = x * 2.0
    assert tf.gradients(y, z) == [None]
    gz = tf.gradients(y, [x, z], unconnected_gradients="zero")
    assert run(*gz) == [2.0, 0.0]
    with pytest.raises(ValueError, match="Unknown value for unconnected_gradients"):
        tf.gradients(y, x, unconnected_gradients="bogus")


def test_stop_gradient_op():
    x = tf.constant(2.0)
    y = x * tf.stop_gradient(x * x)
    (g,) = run(tf.gradients(y, x)[0])
    assert g == pytest.approx(4.0)
    assert tf.gradients(tf.stop_gradient(x), x) == [None]


def test_stop_gradients_argument():
    a = tf.constant(0.0)
    b = 2.0 * a
    g = tf.gradients(a + b, [a, b], stop_gradients=[a, b])
    assert run(*g) == [1.0, 1.0]
    g_full = tf.gradients(a + b, [a, b])
    assert run(*g_full) == [3.0, 1.0]


def test_through_identity_print_cast_and_control_dependencies():
    x = tf.constant([1.0, 2.0])
    dep = tf.no_op()
    with tf.control_dependencies([dep]):
        y = tf.identity(x)
    y = tf.Print(y, [y], message="value: ")
    y64 = tf.cast(y, tf.float64)
    z = tf.reduce_sum(y64 * y64)
    g = tf.gradients(z, x)[0]
    assert g.dtype == tf.float32
    np.testing.assert_allclose(run(g)[0], [2.0, 4.0])


def test_through_variables_and_placeholders():
    w = tf.Variable([1.0, 2.0], name="w")
    p = tf.placeholder(tf.float32, [2])
    loss = tf.reduce_sum(w * p)
    gw, gp = tf.gradients(loss, [w, p])
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    a, b = sess.run([gw, gp], {p: [3.0, 4.0]})
    np.testing.assert_allclose(a, [3.0, 4.0])
    np.testing.assert_allclose(b, [1.0, 2.0])


def test_grad_ys():
    x = tf.constant([1.0, 2.0])
    y = x * x
    g = tf.gradients(y, x, grad_ys=tf.constant([10.0, 100.0]))[0]
    np.testing.assert_allclose(run(g)[0], [20.0, 400.0])
    with pytest.raises(ValueError, match="Passed 2 grad_ys for 1 ys"):
        tf.gradients(y, x, grad_ys=[1.0, 2.0])


def test_second_derivative_of_scalar_function():
    x = tf.placeholder(tf.float64, [])
    y = x * x * x + tf.exp(x)
    dy = tf.gradients(y, x)[0]
    d2y = tf.gradients(dy, x)[0]
    d3y = tf.gradients(d2y, x)[0]
    v = 0.7
    a, b, c = run(dy, d2y, d3y, feed={x: v})
    assert a == pytest.approx(3 * v * v + np.exp(v))
    assert b == pytest.approx(6 * v + np.exp(v))
    assert c == pytest.approx(6 + np.exp(v))


def test_hessians():
    x = tf.constant([1.0, 2.0], tf.float64)
    y = tf.reduce_sum(x * x * x)
    (h,) = run(tf.hessians(y, x)[0])
    np.testing.assert_allclose(h, np.diag([6.0, 12.0]))


def _softplus(x):
    return tf.log(1.0 + tf.exp(x))


def test_hessian_vector_product_of_mlp_matches_numerical():
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(5, 3))
    ys = rng.normal(size=(5, 2))
    w1v = rng.normal(size=(3, 4)) * 0.5
    w2v = rng.normal(size=(4, 2)) * 0.5
    v1 = rng.normal(size=(3, 4))
    v2 = rng.normal(size=(4, 2))

    w1 = tf.placeholder(tf.float64, [3, 4])
    w2 = tf.placeholder(tf.float64, [4, 2])
    h = _softplus(tf.matmul(tf.constant(xs), w1))
    out = tf.matmul(h, w2)
    loss = tf.reduce_mean(tf.square(out - ys))
    g1, g2 = tf.gradients(loss, [w1, w2])
    dot = tf.reduce_sum(g1 * v1) + tf.reduce_sum(g2 * v2)
    hv1, hv2 = tf.gradients(dot, [w1, w2])
    sess = tf.Session()
    got1, got2 = sess.run([hv1, hv2], {w1: w1v, w2: w2v})

    eps = 1e-5

    def grads_at(a, b):
        return sess.run([g1, g2], {w1: a, w2: b})
    gp = grads_at(w1v + eps * v1, w2v + eps * v2)
    gm = grads_at(w1v - eps * v1, w2v - eps * v2)
    np.testing.assert_allclose(got1, (gp[0] - gm[0]) / (2 * eps), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got2, (gp[1] - gm[1]) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_mlp_gradient_matches_numerical():
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(4, 3))
    w1v = rng.normal(size=(3, 5))
    w1 = tf.placeholder(tf.float64, [3, 5])
    loss = tf.reduce_sum(_softplus(tf.matmul(tf.constant(xs), w1)) ** 2)
    g = tf.gradients(loss, w1)[0]
    sess = tf.Session()
    got = sess.run(g, {w1: w1v})
    num = np.zeros_like(w1v)
    eps = 1e-6
    for idx in np.ndindex(*w1v.shape):
        d = np.zeros_like(w1v)
        d[idx] = eps
        num[idx] = (sess.run(loss, {w1: w1v + d}) - sess.run(loss, {w1: w1v - d})) / (2 * eps)
    np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-7)


@tf.RegisterGradient("TestGradientsTimesSeven")
def _times_seven(op, grad):
    return [grad * 7.0]


tf.NoGradient("TestGradientsNothing")


def test_register_gradient_and_override_map():
    x = tf.constant(3.0)
    g = tf.get_default_graph()
    with g.gradient_override_map({"Square": "TestGradientsTimesSeven"}):
        y = tf.square(x)
    y2 = tf.square(x)
    assert run(*tf.gradients(y, x)) == [7.0]
    assert run(*tf.gradients(y2, x)) == [6.0]
    with pytest.raises(KeyError, match="Registering two gradient with name"):
        tf.RegisterGradient("TestGradientsTimesSeven")(_times_seven)


def test_no_gradient_via_override_map():
    x = tf.constant(3.0)
    with tf.get_default_graph().gradient_override_map({"Identity": "TestGradientsNothing"}):
        y = tf.identity(x)
    assert tf.gradients(y * 2.0, x) == [None]


def test_missing_override_name_raises():
    x = tf.constant(3.0)
    with tf.get_default_graph().gradient_override_map({"Square": "TestGradientsUnknown"}):
        y = tf.square(x)
    with pytest.raises(LookupError, match="No gradient defined for operation"):
        tf.gradients(y, x)


# --- custom_gradient ----------------------------------------------------------------------
@tf.custom_gradient
def log1pexp(x):
    e = tf.exp(x)

    def grad(dy):
        return dy * (1 - 1 / (1 + e))
    return tf.log(1 + e), grad


def test_custom_gradient_numerically_stable():
    x = tf.constant(100.0)
    y = log1pexp(x)
    (g,) = tf.gradients(y, x)
    assert run(g) == [pytest.approx(1.0)]  # the plain gradient is nan (inf / inf)
    x64 = tf.constant(10.0, tf.float64)
    y64 = log1pexp(x64)
    yv, gv = run(y64, tf.gradients(y64, x64)[0])
    assert yv == pytest.approx(np.log1p(np.exp(10.0)))
    assert gv == pytest.approx(1 / (1 + np.exp(-10.0)))


def test_custom_gradient_replaces_the_real_gradient():
    @tf.custom_gradient
    def f(x, y):
        def grad(dz):
            return dz * 10.0, dz * 20.0
        return x * y, grad

    a = tf.constant(2.0)
    b = tf.constant(3.0)
    z = f(a, b)
    assert run(z) == [6.0]
    assert run(*tf.gradients(z * 2.0, [a, b])) == [20.0, 40.0]


def test_custom_gradient_multiple_outputs_and_second_order():
    @tf.custom_gradient
    def square_pair(x):
        def grad(d1, d2):
            return d1 * 2.0 * x + d2 * 3.0 * x * x
        return [x * x, x * x * x], grad

    x = tf.constant(2.0, tf.float64)
    y1, y2 = square_pair(x)
    g = tf.gradients(y1 + y2, x)[0]
    assert run(g) == [pytest.approx(4.0 + 12.0)]
    # The gradient function is made of ops, so it can be differentiated again.
    gg = tf.gradients(g, x)[0]
    assert run(gg) == [pytest.approx(2.0 + 12.0)]


def test_custom_gradient_with_variables():
    w = tf.Variable(3.0, name="w")

    @tf.custom_gradient
    def scale(x):
        def grad(dy, variables=None):
            assert variables == [w]
            return dy * 100.0, [dy * 1000.0]
        return x * w, grad

    x = tf.constant(2.0)
    y = scale(x)
    gx, gw = tf.gradients(y, [x, w])
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    assert sess.run([y, gx, gw]) == [6.0, 100.0, 1000.0]
    train_op = tf.train.GradientDescentOptimizer(0.001).minimize(y, var_list=[w])
    sess.run(train_op)
    assert sess.run(w) == pytest.approx(2.0)


def test_custom_gradient_without_variables_argument_raises():
    w = tf.Variable(3.0, name="w")

    @tf.custom_gradient
    def scale(x):
        return x * w, lambda dy: dy

    with pytest.raises(TypeError, match="grad_fn must accept a keyword argument 'variables'"):
        scale(tf.constant(1.0))

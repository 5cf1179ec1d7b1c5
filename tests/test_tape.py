"""GradientTape: semantics (watching, persistence, stop_recording, reset, nesting, jacobians)
and, for every case of the op tables, eager gradients (and second derivatives) equal to graph
mode's ``rt.gradients`` on the same inputs."""

from __future__ import annotations

import numpy as np
import op_table
import op_table_nn
import pytest

import rillet as rt
from rillet.eager import EagerTensor, GradientTape, eager_mode, graph_mode


@pytest.fixture
def eager():
    with rt.Graph().as_default(), eager_mode():
        yield


def _numeric_jacobian(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    y0 = np.asarray(f(x))
    jac = np.zeros(y0.shape + x.shape)
    for idx in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[idx] = eps
        jac[(...,) + idx] = (np.asarray(f(x + d)) - np.asarray(f(x - d))) / (2 * eps)
    return jac


# --- basics --------------------------------------------------------------------------------
def test_gradient_of_watched_tensor(eager):
    x = rt.constant(3.0)
    with GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert tape.gradient(y, x).numpy() == 6.0


def test_unwatched_tensor_has_no_gradient(eager):
    x = rt.constant(3.0)
    with GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x) is None


def test_trainable_variables_are_watched_automatically(eager):
    w = rt.Variable(2.0)
    c = rt.Variable(3.0, trainable=False)
    with GradientTape() as tape:
        y = w * w * c
    gw, gc = tape.gradient(y, [w, c])
    assert gw.numpy() == 12.0 and gc is None
    assert tape.watched_variables() == [w]


def test_watch_accessed_variables_false(eager):
    w, u = rt.Variable(2.0), rt.Variable(5.0)
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(u)
        y = w * u
    gw, gu = tape.gradient(y, [w, u])
    assert gw is None and gu.numpy() == 2.0


def test_variable_read_many_times_sums_contributions(eager):
    w = rt.Variable(3.0)
    with GradientTape() as tape:
        y = w * w + rt.identity(w) * 2.0 + w.read_value()
    assert tape.gradient(y, w).numpy() == 2 * 3.0 + 2.0 + 1.0


def test_non_persistent_tape_used_twice(eager):
    x = rt.constant(1.0)
    with GradientTape() as tape:
        tape.watch(x)
        y = x * 2
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="A non-persistent GradientTape can only be used to "
                                           "compute one set of gradients"):
        tape.gradient(y, x)


def test_persistent_tape(eager):
    x = rt.constant(2.0)
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert tape.gradient(y, x).numpy() == 4.0
    assert tape.gradient(z, x).numpy() == 32.0
    assert tape.gradient(z, y).numpy() == 8.0


def test_stop_recording(eager):
    x = rt.constant(2.0)
    with GradientTape() as tape:
        tape.watch(x)
        with tape.stop_recording():
            y = x * x  # not recorded
        z = y * x
    assert tape.gradient(z, x).numpy() == 4.0
    with pytest.raises(ValueError):
        with tape.stop_recording():
            pass


def test_reset(eager):
    x = rt.constant(2.0)
    with GradientTape() as tape:
        tape.watch(x)
        y = x * x
        tape.reset()
        tape.watch(x)
        z = x * 3.0
    assert tape.gradient(z, x).numpy() == 3.0
    with GradientTape(persistent=True) as t2:
        t2.watch(x)
        y = x * x
    t2.reset()
    assert t2.gradient(y, x) is None


def test_output_gradients_and_nested_structures(eager):
    x = rt.constant([1.0, 2.0])
    w = rt.Variable([[1.0], [1.0]])
    with GradientTape() as tape:
        tape.watch(x)
        y = x * 3.0
        z = rt.matmul(rt.reshape(x, [1, 2]), w)
    g = tape.gradient({"a": y, "b": [z]}, {"x": x, "w": (w,)},
                      output_gradients={"a": rt.constant([1.0, 10.0]), "b": [None]})
    np.testing.assert_allclose(g["x"].numpy(), [3.0 + 1.0, 30.0 + 1.0])
    np.testing.assert_allclose(g["w"][0].numpy(), [[1.0], [2.0]])


def test_unconnected_gradients(eager):
    x, u = rt.constant(1.0), rt.constant([1.0, 2.0])
    with GradientTape(persistent=True) as tape:
        tape.watch([x, u])
        y = x * 2
    assert tape.gradient(y, u) is None
    np.testing.assert_array_equal(tape.gradient(y, u, unconnected_gradients="zero").numpy(),
                                  [0, 0])
    np.testing.assert_array_equal(
        tape.gradient(y, u, unconnected_gradients=rt.eager.UnconnectedGradients.ZERO).numpy(),
        [0, 0])
    with pytest.raises(ValueError):
        tape.gradient(y, u, unconnected_gradients="bad")


def test_integer_and_self_gradients(eager):
    i = rt.constant(3)
    x = rt.constant(2.0)
    with GradientTape(persistent=True) as tape:
        tape.watch([i, x])
        y = rt.cast(i, rt.float32) * x
    assert tape.gradient(y, i) is None
    assert tape.gradient(y, x).numpy() == 3.0
    assert tape.gradient(x, x).numpy() == 1.0


def test_gradient_is_computed_from_pre_update_values(eager):
    w = rt.Variable([1.0, 2.0])
    with GradientTape() as tape:
        loss = rt.reduce_sum(w * w)
    g = tape.gradient(loss, w)
    w.assign_sub(0.1 * g)
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])
    np.testing.assert_allclose(w.numpy(), [0.8, 1.6])


def test_gradient_inside_the_tape_context_is_not_recorded_on_itself(eager):
    x = rt.constant(2.0)
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x * x
        g = tape.gradient(y, x)
        z = g * 1.0
    assert g.numpy() == 12.0
    assert tape.gradient(z, x) is None  # the gradient ops were not recorded on this tape


# --- higher order ----------------------------------------------------------------------------
def test_nested_tapes_second_and_third_derivative(eager):
    x = rt.constant(1.5)
    with GradientTape() as t3:
        t3.watch(x)
        with GradientTape() as t2:
            t2.watch(x)
            with GradientTape() as t1:
                t1.watch(x)
                y = x * x * x
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    np.testing.assert_allclose([d1.numpy(), d2.numpy(), d3.numpy()], [3 * 1.5**2, 9.0, 6.0])


def test_second_derivative_of_variables(eager):
    w = rt.Variable([1.0, 2.0])
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = rt.reduce_sum(rt.exp(w) * w)
        g = inner.gradient(y, w)
        gg = rt.reduce_sum(g)
    h = outer.gradient(gg, w)
    wv = np.array([1.0, 2.0])
    np.testing.assert_allclose(h.numpy(), np.exp(wv) * (wv + 2), rtol=1e-6)


# --- jacobians ---------------------------------------------------------------------------------
def test_jacobian_matches_numeric(eager):
    x0 = np.array([0.5, -1.0, 2.0])
    a = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])

    def f(x):
        return np.tanh(a @ x) * x[:2] if isinstance(x, np.ndarray) else None

    x = rt.constant(x0)
    with GradientTape() as tape:
        tape.watch(x)
        y = rt.tanh(rt.reshape(rt.matmul(rt.constant(a), rt.reshape(x, [3, 1])), [2])) * x[:2]
    jac = tape.jacobian(y, x)
    assert jac.shape.as_list() == [2, 3]
    np.testing.assert_allclose(jac.numpy(), _numeric_jacobian(f, x0), rtol=1e-6, atol=1e-8)


def test_jacobian_of_variables_and_structures(eager):
    w = rt.Variable(np.array([[1.0, 2.0], [3.0, 4.0]]))
    x = rt.constant(np.array([[1.0, -1.0]]))
    with GradientTape() as tape:
        y = rt.matmul(x, w)  # [1, 2]
    jw, jx = tape.jacobian(y, [w, x])
    assert jw.shape.as_list() == [1, 2, 2, 2] and jx is None
    want = np.zeros((1, 2, 2, 2))
    for j in range(2):
        want[0, j, :, j] = [1.0, -1.0]
    np.testing.assert_allclose(jw.numpy(), want)
    with pytest.raises(RuntimeError):
        tape.jacobian(y, w)


def test_batch_jacobian_matches_numeric(eager):
    x0 = np.random.default_rng(0).standard_normal((4, 3))
    m = np.random.default_rng(1).standard_normal((3, 2))
    x = rt.constant(x0)
    with GradientTape() as tape:
        tape.watch(x)
        y = rt.square(rt.matmul(x, rt.constant(m)))  # [4, 2]
    bj = tape.batch_jacobian(y, x)
    assert bj.shape.as_list() == [4, 2, 3]
    for b in range(4):
        want = _numeric_jacobian(lambda v: np.square(v @ m), x0[b])
        np.testing.assert_allclose(bj.numpy()[b], want, rtol=1e-6, atol=1e-8)


def test_jacobian_is_differentiable(eager):
    x = rt.constant([1.0, 2.0])
    with GradientTape() as outer:
        outer.watch(x)
        with GradientTape() as inner:
            inner.watch(x)
            y = x * x * x
        jac = inner.jacobian(y, x)  # diag(3 x^2)
        s = rt.reduce_sum(jac)
    np.testing.assert_allclose(outer.gradient(s, x).numpy(), [6.0, 12.0])


# --- graph mode ----------------------------------------------------------------------------------
def test_tape_in_graph_mode_matches_gradients():
    g = rt.Graph()
    with g.as_default():
        x = rt.placeholder(rt.float32, [3])
        w = rt.Variable([1.0, 2.0, 3.0])
        pre = x * 5.0
        with GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = rt.reduce_sum(w * x * x)
            with tape.stop_recording():
                z = y * 2.0
            u = y + z
        gx, gw = tape.gradient(y, [x, w])
        gu = tape.gradient(u, x)
        gpre = tape.gradient(y, pre)
        ref = rt.gradients(y, [x, w])
        with rt.Session() as sess:
            sess.run(rt.global_variables_initializer())
            feed = {x: [1.0, 2.0, 3.0]}
            got = sess.run([gx, gw, gu], feed)
            want = sess.run(ref, feed)
    np.testing.assert_allclose(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1])
    np.testing.assert_allclose(got[2], want[0])  # z's path was not recorded
    assert gpre is None


def test_nested_tapes_in_graph_mode():
    g = rt.Graph()
    with g.as_default(), graph_mode():
        x = rt.constant(2.0)
        with GradientTape() as outer:
            outer.watch(x)
            with GradientTape() as inner:
                inner.watch(x)
                y = x * x * x
            d1 = inner.gradient(y, x)
        d2 = outer.gradient(d1, x)
        with rt.Session() as sess:
            assert sess.run([d1, d2]) == [12.0, 12.0]


# --- every op of the op tables: eager gradients == graph gradients --------------------------------
CASES = [c for c in op_table.covered_cases() + op_table_nn.covered_cases() if c.grad]


def _loss_fn(case, proj):
    fn = case.grad_fn or case.fn

    def loss(*xs):
        y = fn(*xs)
        return rt.reduce_sum(rt.cast(y, rt.float64) * proj)
    return loss


def _graph_grads(case, arrays, second: bool):
    g = rt.Graph()
    with g.as_default(), rt.Session(graph=g) as sess:
        phs, _ = op_table.build(case, arrays)
        feed = dict(zip(phs, arrays))
        y = (case.grad_fn or case.fn)(*phs)
        proj = op_table._project(np.shape(sess.run(y, feed)), 0)
        loss = rt.reduce_sum(rt.cast(y, rt.float64) * rt.constant(proj))
        xs = [phs[i] for i in case.grad]
        grads = rt.gradients(loss, xs)
        fetch = list(grads)
        if second:
            vs = [np.random.default_rng(7).standard_normal(a.shape) for a in arrays]
            gv = rt.add_n([rt.reduce_sum(gr * rt.constant(vs[i]))
                           for gr, i in zip(grads, case.grad) if gr is not None])
            fetch = rt.gradients(gv, xs)
        return [None if f is None else sess.run(f, feed) for f in fetch], proj


def _eager_grads(case, arrays, proj, second: bool):
    with rt.Graph().as_default(), eager_mode():
        xs = [rt.constant(a) for a in arrays]
        wrt = [xs[i] for i in case.grad]
        with GradientTape() as outer:
            outer.watch(wrt)
            with GradientTape() as tape:
                tape.watch(wrt)
                loss = _loss_fn(case, rt.constant(proj))(*xs)
            grads = tape.gradient(loss, wrt)
            if second:
                vs = [np.random.default_rng(7).standard_normal(a.shape) for a in arrays]
                gv = rt.add_n([rt.reduce_sum(gr * rt.constant(vs[i]))
                               for gr, i in zip(grads, case.grad) if gr is not None])
        if second:
            grads = outer.gradient(gv, wrt)
        for gr in grads:
            assert gr is None or isinstance(gr, EagerTensor)
        return [None if gr is None else gr.numpy() for gr in grads]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_eager_gradient_equals_graph_gradient(case):
    arrays = op_table.make_inputs(case, np.float64)
    want, proj = _graph_grads(case, arrays, second=False)
    got = _eager_grads(case, arrays, proj, second=False)
    for k, (g, w) in enumerate(zip(got, want)):
        assert (g is None) == (w is None), f"{case}: gradient {k} connected differently"
        if g is not None:
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12,
                                       err_msg=f"{case} gradient {k}")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_eager_second_derivative_equals_graph(case):
    arrays = op_table.make_inputs(case, np.float64)
    try:
        want, proj = _graph_grads(case, arrays, second=True)
    except (LookupError, ValueError, TypeError, NotImplementedError) as e:
        with pytest.raises(type(e)):
            _eager_grads(case, arrays, _eager_projection(case, arrays), second=True)
        return
    got = _eager_grads(case, arrays, proj, second=True)
    for k, (g, w) in enumerate(zip(got, want)):
        assert (g is None) == (w is None), f"{case}: second derivative {k} connected " \
                                           "differently"
        if g is not None:
            np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10,
                                       err_msg=f"{case} second derivative {k}")


def _eager_projection(case, arrays):
    with rt.Graph().as_default(), eager_mode():
        y = (case.grad_fn or case.fn)(*[rt.constant(a) for a in arrays])
        return op_table._project(np.shape(y.numpy()), 0)

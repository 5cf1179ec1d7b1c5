"""Control flow: cond, case, while_loop, map_fn, scan, foldl, foldr (graph and eager mode),
their gradients, and their use inside ``rt.function``."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import rillet as rt
from rillet.test_util import check_gradients


# --- cond ------------------------------------------------------------------------------------
def test_cond_values(both_modes):
    x = rt.constant([1.0, 2.0])
    a = rt.cond(rt.constant(True), lambda: x * 2.0, lambda: x * 3.0)
    b = rt.cond(rt.constant(False), lambda: x * 2.0, lambda: x * 3.0)
    c = rt.cond(rt.reduce_sum(x) > 10.0, true_fn=lambda: x, false_fn=lambda: -x)
    np.testing.assert_allclose(both_modes.evaluate([a, b, c]), [[2, 4], [3, 6], [-1, -2]])


def test_cond_fn1_fn2_and_argument_errors():
    with rt.Graph().as_default():
        p = rt.placeholder(rt.bool, [])
        y = rt.cond(p, fn1=lambda: rt.constant(1), fn2=lambda: rt.constant(2))
        with rt.Session() as sess:
            assert sess.run(y, {p: True}) == 1 and sess.run(y, {p: False}) == 2
        with pytest.raises(TypeError, match="Python bool"):
            rt.cond(True, lambda: 1.0, lambda: 2.0)
        with pytest.raises(TypeError, match="callable"):
            rt.cond(p, 1.0, lambda: 2.0)
        with pytest.raises(TypeError, match="simultaneously"):
            rt.cond(p, lambda: 1.0, lambda: 2.0, fn1=lambda: 1.0)
        with pytest.raises(ValueError, match="same type"):
            rt.cond(p, lambda: rt.constant(1.0), lambda: rt.constant(1))
        with pytest.raises(ValueError, match="same nested structure"):
            rt.cond(p, lambda: (rt.constant(1.0), rt.constant(2.0)), lambda: rt.constant(1.0))


def test_cond_untaken_branch_side_effects_do_not_run(both_modes, capfd):
    counter = rt.Variable(0, name="counter")
    both_modes.initialize()
    x = rt.constant(5.0)

    def taken_if(flag):
        def count():
            counter.assign_add(1)
            return rt.Print(x + 1.0, [x], message="branch ran: ")
        return rt.cond(rt.constant(flag), count, lambda: x - 1.0)

    if both_modes.eager:
        assert float(taken_if(False)) == 4.0
        assert int(counter.numpy()) == 0
        assert "branch ran" not in capfd.readouterr().err
        assert float(taken_if(True)) == 6.0
        assert int(counter.numpy()) == 1
        assert "branch ran: [5]" in capfd.readouterr().err
        return
    p = rt.placeholder(rt.bool, [])

    def count():
        with rt.control_dependencies([rt.assign_add(counter, 1)]):
            return rt.Print(x + 1.0, [x], message="branch ran: ")
    y = rt.cond(p, count, lambda: x - 1.0)
    sess = both_modes.session
    for _ in range(3):
        assert sess.run(y, {p: False}) == 4.0
    assert sess.run(counter) == 0
    assert "branch ran" not in capfd.readouterr().err
    assert sess.run(y, {p: True}) == 6.0
    assert sess.run(y, {p: True}) == 6.0
    assert sess.run(counter) == 2
    assert capfd.readouterr().err.count("branch ran: [5]") == 2


def test_cond_unfed_placeholder_in_untaken_branch():
    with rt.Graph().as_default():
        x = rt.placeholder(rt.float32, [None], name="x")
        p = rt.placeholder(rt.bool, [])
        y = rt.cond(p, lambda: rt.reduce_sum(x * 2.0), lambda: rt.constant(-1.0))
        with rt.Session() as sess:
            assert sess.run(y, {p: False}) == -1.0
            assert sess.run(y, {p: True, x: [1.0, 2.0]}) == 6.0
            with pytest.raises(rt.errors.InvalidArgumentError,
                               match="must feed a value for placeholder tensor 'x'"):
                sess.run(y, {p: True})
            # A placeholder needed outside the cond must still be fed.
            z = y + rt.reduce_sum(x)
            with pytest.raises(rt.errors.InvalidArgumentError, match="must feed"):
                sess.run(z, {p: False})


def test_cond_nested_structures_and_static_shapes():
    Pair = collections.namedtuple("Pair", ["a", "b"])
    with rt.Graph().as_default():
        p = rt.placeholder(rt.bool, [])
        u = rt.placeholder(rt.float32, [2, 3])
        v = rt.placeholder(rt.float32, [4, 3])
        out = rt.cond(p, lambda: Pair(u, {"k": [rt.constant(1), u[0]]}),
                      lambda: Pair(v, {"k": [rt.constant(2), v[1]]}))
        assert isinstance(out, Pair)
        assert out.a.shape.as_list() == [None, 3]
        assert out.b["k"][1].shape.as_list() == [3]
        assert out.b["k"][0].dtype == rt.int32
        single = rt.cond(p, lambda: [u], lambda: [u + 1])  # singletons are unpacked
        assert isinstance(single, rt.Tensor)
        strict = rt.cond(p, lambda: [u], lambda: [u + 1], strict=True)
        assert isinstance(strict, list) and len(strict) == 1
        uv = np.ones((2, 3), np.float32)
        vv = np.full((4, 3), 2.0, np.float32)
        with rt.Session() as sess:
            r = sess.run(out, {p: False, u: uv, v: vv})
            assert r.a.shape == (4, 3) and r.b["k"][0] == 2
            np.testing.assert_allclose(r.b["k"][1], [2, 2, 2])
            r = sess.run(out, {p: True, u: uv, v: vv})
            assert r.a.shape == (2, 3) and r.b["k"][0] == 1


def test_cond_returning_an_operation():
    with rt.Graph().as_default():
        v = rt.Variable(0.0)
        p = rt.placeholder(rt.bool, [])
        op = rt.cond(p, lambda: rt.assign_add(v, 1.0).op, lambda: rt.no_op())
        assert isinstance(op, rt.Operation)
        with rt.Session() as sess:
            sess.run(v.initializer)
            sess.run(op, {p: True})
            sess.run(op, {p: False})
            sess.run(op, {p: True})
            assert sess.run(v) == 2.0


def test_cond_reads_variables_when_the_branch_runs():
    with rt.Graph().as_default():
        v = rt.Variable(1.0)
        p = rt.placeholder(rt.bool, [])

        def assign_then_read():
            with rt.control_dependencies([rt.assign(v, 5.0)]):
                return v.read_value() + 0.0, rt.identity(v) + 0.0
        y = rt.cond(p, assign_then_read, lambda: (v + 0.0, v + 0.0))
        same = rt.cond(p, lambda: rt.identity(v), lambda: rt.identity(v))
        with rt.Session() as sess:
            sess.run(v.initializer)
            assert sess.run(y, {p: False}) == (1.0, 1.0)
            assert sess.run(y, {p: True}) == (5.0, 5.0)
            fetched = sess.run(same, {p: True})
            sess.run(rt.assign_add(v, 1.0))
            assert fetched == 5.0  # a fetched value never aliases the variable's storage


def test_nested_cond(both_modes):
    def f(a):
        return rt.cond(a > 0.0,
                       lambda: rt.cond(a > 10.0, lambda: a * 100.0, lambda: a * 10.0),
                       lambda: -a)
    vals = [f(rt.constant(v)) for v in (-2.0, 3.0, 30.0)]
    np.testing.assert_allclose(both_modes.evaluate(vals), [2.0, 30.0, 3000.0])


def test_cond_gradients_match_numerical():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3))
    y = rng.standard_normal((3,))

    def fn(sign):
        def f(x, y):
            pred = rt.reduce_sum(x) * sign > -100.0  # always true / always false
            return rt.cond(pred, lambda: rt.sin(x) * y + x * x,
                           lambda: rt.exp(y) * x - rt.tanh(x))
        return f
    check_gradients(fn(1.0), [x, y])
    check_gradients(fn(-1.0 * 1e6), [x, y])


def test_nested_cond_gradients_match_numerical():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3,))

    def f(x):
        s = rt.reduce_sum(x)
        return rt.cond(s > -50.0,
                       lambda: rt.cond(s < 50.0, lambda: x * rt.sin(x), lambda: x),
                       lambda: rt.square(x))
    check_gradients(f, [x])


def test_cond_gradient_wrt_variables_trains():
    with rt.Graph().as_default():
        w = rt.Variable(3.0)
        b = rt.Variable(1.0)
        p = rt.placeholder(rt.bool, [])
        loss = rt.cond(p, lambda: rt.square(w - 1.0), lambda: rt.square(b + 2.0))
        gw, gb = rt.gradients(loss, [w, b])
        train = rt.train.GradientDescentOptimizer(0.25).minimize(loss)
        with rt.Session() as sess:
            sess.run(rt.global_variables_initializer())
            assert sess.run([gw, gb], {p: True}) == [4.0, 0.0]
            assert sess.run([gw, gb], {p: False}) == [0.0, 6.0]
            for _ in range(30):
                sess.run(train, {p: True})
            sess.run(train, {p: False})
            assert abs(sess.run(w) - 1.0) < 1e-4
            assert sess.run(b) == pytest.approx(1.0 - 0.25 * 6.0)


def test_cond_second_derivative_is_an_error():
    with rt.Graph().as_default():
        x = rt.placeholder(rt.float32, [])
        y = rt.cond(x > 0.0, lambda: x * x * x, lambda: x)
        g = rt.gradients(y, x)[0]
        with pytest.raises(LookupError, match="Second derivatives"):
            rt.gradients(g, x)


def test_cond_eager_tape_gradient():
    with rt.eager_mode():
        x = rt.constant(3.0)
        with rt.GradientTape() as tape:
            tape.watch(x)
            y = rt.cond(x > 0.0, lambda: x * x, lambda: -x)
        assert float(tape.gradient(y, x)) == 6.0


def test_cond_inside_function():
    with rt.eager_mode():
        v = rt.Variable(0.0)

        @rt.function
        def f(x):
            def yes():
                v.assign_add(1.0)
                return x * 2.0
            return rt.cond(x > 0.0, yes, lambda: x - 1.0)
        assert float(f(rt.constant(3.0))) == 6.0
        assert float(f(rt.constant(-3.0))) == -4.0
        assert float(f(rt.constant(1.0))) == 2.0
        assert float(v.numpy()) == 2.0
        assert f.experimental_get_tracing_count() == 1
        x = rt.constant(3.0)
        with rt.GradientTape() as tape:
            tape.watch(x)
            y = f(x)
        assert float(tape.gradient(y, x)) == 2.0

        w = rt.Variable(2.0)

        @rt.function
        def g(x):
            return rt.cond(x > 0.0, lambda: w * w * x, lambda: w)
        with rt.GradientTape() as tape:
            y = g(rt.constant(5.0))
        assert float(tape.gradient(y, w)) == 20.0


# --- case ------------------------------------------------------------------------------------
def test_case(both_modes):
    def f(a):
        a = rt.constant(a)
        return rt.case([(a < 0.0, lambda: -a), (a < 10.0, lambda: a * 10.0)],
                       default=lambda: a * 100.0)
    np.testing.assert_allclose(both_modes.evaluate([f(-3.0), f(3.0), f(30.0)]),
                               [3.0, 30.0, 3000.0])


def test_case_errors_and_gradient():
    with rt.Graph().as_default():
        a = rt.placeholder(rt.float32, [])
        r = rt.case({a < 0.0: lambda: -a, a > 0.0: lambda: a * 10.0}, exclusive=True)
        r2 = rt.case([(a > 0.0, lambda: a), (a > 5.0, lambda: a * 2)], exclusive=True,
                     default=lambda: a * 0.0)
        g = rt.gradients(r, a)[0]
        with rt.Session() as sess:
            assert sess.run([r, g], {a: 2.0}) == [20.0, 10.0]
            assert sess.run([r, g], {a: -2.0}) == [2.0, -1.0]
            with pytest.raises(rt.errors.InvalidArgumentError, match="None of conditions"):
                sess.run(r, {a: 0.0})
            assert sess.run(r2, {a: 1.0}) == 1.0
            with pytest.raises(rt.errors.InvalidArgumentError, match="exclusive"):
                sess.run(r2, {a: 6.0})


# --- while_loop ------------------------------------------------------------------------------
def test_while_loop_sum_power_fibonacci(both_modes):
    i = rt.constant(0)
    total = rt.while_loop(lambda i, s: i < 10, lambda i, s: (i + 1, s + i), [i, rt.constant(0)])
    power = rt.while_loop(lambda k, p: k < 5, lambda k, p: (k + 1, p * 3.0), (0, 1.0))
    fib = rt.while_loop(lambda n, a, b: n < 10, lambda n, a, b: [n + 1, b, a + b],
                        [rt.constant(0), rt.constant(0, rt.int64), rt.constant(1, rt.int64)])
    single = rt.while_loop(lambda x: x < 100, lambda x: x * 2, [rt.constant(1)])
    total_v, power_v, fib_v, single_v = both_modes.evaluate([total, power, fib, single])
    assert list(total_v) == [10, 45]
    assert power_v[1] == 243.0
    assert fib_v[1] == 55 and fib_v[2] == 89
    assert single_v == 128


def test_while_loop_nested_structures_and_maximum_iterations(both_modes):
    State = collections.namedtuple("State", ["step", "acc"])
    out = rt.while_loop(lambda s, d: s.step < 100,
                        lambda s, d: (State(s.step + 1, s.acc + d["x"]), {"x": d["x"] * 2.0}),
                        (State(rt.constant(0), rt.constant(0.0)), {"x": rt.constant(1.0)}),
                        maximum_iterations=4)
    assert isinstance(out[0], State)
    state, d = both_modes.evaluate(out)
    assert state.step == 4 and state.acc == 15.0 and d["x"] == 16.0
    same = rt.while_loop(lambda x: x < 3, lambda x: x + 1, [rt.constant(0)],
                         return_same_structure=True)
    assert isinstance(same, list) and both_modes.evaluate(same[0]) == 3


def test_while_loop_shape_invariants():
    with rt.Graph().as_default():
        x = rt.constant([1.0])
        with pytest.raises(ValueError, match=r"enters the loop with shape \(1,\), but has "
                                             r"shape \(2,\) after one iteration"):
            rt.while_loop(lambda x: rt.size(x) < 8, lambda x: rt.concat([x, x], 0), [x])
        grown = rt.while_loop(lambda x: rt.size(x) < 8, lambda x: rt.concat([x, x], 0), [x],
                              shape_invariants=[rt.TensorShape([None])])
        assert grown.shape.as_list() == [None]
        with pytest.raises(ValueError, match="not compatible with the initial shape"):
            rt.while_loop(lambda x: True, lambda x: x, [x],
                          shape_invariants=[rt.TensorShape([2])])
        with pytest.raises(TypeError, match="dtype"):
            rt.while_loop(lambda x: x < 3, lambda x: rt.cast(x, rt.float32), [rt.constant(0)])
        with pytest.raises(TypeError, match="callable"):
            rt.while_loop(1, lambda x: x, [x])
        with rt.Session() as sess:
            np.testing.assert_allclose(sess.run(grown), np.ones(8))


def test_while_loop_body_side_effects_and_captures():
    with rt.Graph().as_default():
        v = rt.Variable(0)
        n = rt.placeholder(rt.int32, [])
        scale = rt.placeholder(rt.float32, [])

        def body(i, x):
            with rt.control_dependencies([rt.assign_add(v, 1)]):
                return i + 1, x * scale
        out = rt.while_loop(lambda i, x: i < n, body, [0, 1.0])
        with rt.Session() as sess:
            sess.run(v.initializer)
            assert sess.run(out, {n: 3, scale: 2.0}) == [3, 8.0]
            assert sess.run(out, {n: 0, scale: 2.0}) == [0, 1.0]
            assert sess.run(v) == 3


def test_while_loop_gradients_match_numerical():
    def power(x):  # x ** 4, element-wise
        _, y = rt.while_loop(lambda i, y: i < 4, lambda i, y: (i + 1, y * x),
                             [rt.constant(0), rt.ones_like(x)])
        return y
    check_gradients(power, [np.array([0.5, -1.5, 2.0])])

    def mixed(x, w):  # gradients w.r.t. the initial value and a captured tensor
        _, y = rt.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, rt.tanh(y * w) + y),
                             [rt.constant(0), x])
        return y
    rng = np.random.default_rng(3)
    check_gradients(mixed, [rng.standard_normal((2, 2)), rng.standard_normal((2, 2))])

    def with_cond(x):  # a cond inside the body
        _, y = rt.while_loop(
            lambda i, y: i < 5,
            lambda i, y: (i + 1, rt.cond(rt.equal(i % 2, 0), lambda: y * x, lambda: y + x)),
            [rt.constant(0), x])
        return y
    check_gradients(with_cond, [np.array([0.3, 1.2])])


def test_while_loop_gradient_of_variable_and_no_backprop():
    with rt.Graph().as_default():
        w = rt.Variable(2.0)
        _, y = rt.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * w), [0, 1.0])
        gw = rt.gradients(y, w)[0]
        _, z = rt.while_loop(lambda i, z: i < 3, lambda i, z: (i + 1, z * w), [0, 1.0],
                             back_prop=False)
        assert rt.gradients(z, w)[0] is None
        with rt.Session() as sess:
            sess.run(w.initializer)
            assert sess.run([y, gw]) == [8.0, 12.0]
        with pytest.raises(LookupError, match="Second derivatives"):
            rt.gradients(gw, w)


def test_while_loop_eager_gradient_and_function():
    with rt.eager_mode():
        x = rt.constant(1.5)
        with rt.GradientTape() as tape:
            tape.watch(x)
            _, y = rt.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * x), [0, 1.0])
        assert float(tape.gradient(y, x)) == pytest.approx(3 * 1.5 ** 2)

        @rt.function
        def f(x, n):
            return rt.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, y * x), [0, 1.0])[1]
        assert float(f(rt.constant(2.0), rt.constant(10))) == 1024.0
        x = rt.constant(2.0)
        with rt.GradientTape() as tape:
            tape.watch(x)
            y = f(x, rt.constant(3))
        assert float(tape.gradient(y, x)) == 12.0


# --- map_fn / scan / foldl / foldr -----------------------------------------------------------
def test_map_fn_scan_fold_values(both_modes):
    e = np.arange(1, 9, dtype=np.float32).reshape(4, 2)
    t = rt.constant(e)
    out = both_modes.evaluate({
        "map": rt.map_fn(lambda r: r * r + 1.0, t),
        "map_struct": rt.map_fn(lambda p: (p[0] + p[1], rt.reduce_sum(p[0])), (t, t * 2.0)),
        "scan": rt.scan(lambda a, r: a + r, t),
        "scan_init": rt.scan(lambda a, r: a * r, t, initializer=rt.ones([2]), reverse=True),
        "foldl": rt.foldl(lambda a, r: a - r, t),
        "foldr": rt.foldr(lambda a, r: a * 2.0 + r, t, initializer=rt.zeros([2])),
    })
    np.testing.assert_allclose(out["map"], e * e + 1)
    np.testing.assert_allclose(out["map_struct"][0], 3 * e)
    np.testing.assert_allclose(out["map_struct"][1], e.sum(1))
    np.testing.assert_allclose(out["scan"], np.cumsum(e, 0))
    np.testing.assert_allclose(out["scan_init"], np.cumprod(e[::-1], 0)[::-1])
    np.testing.assert_allclose(out["foldl"], e[0] - e[1:].sum(0))
    acc = np.zeros(2)
    for r in e[::-1]:
        acc = acc * 2 + r
    np.testing.assert_allclose(out["foldr"], acc)


def test_map_fn_unknown_batch_and_shapes():
    with rt.Graph().as_default():
        x = rt.placeholder(rt.float32, [None, 3])
        y = rt.map_fn(lambda r: rt.reduce_sum(r * r), x)
        assert y.shape.as_list() == [None]
        with rt.Session() as sess:
            v = np.arange(12, dtype=np.float32).reshape(4, 3)
            np.testing.assert_allclose(sess.run(y, {x: v}), (v * v).sum(1))
            assert sess.run(y, {x: np.zeros((0, 3))}).shape == (0,)


def test_map_fn_and_scan_gradients_match_numerical():
    rng = np.random.default_rng(5)
    e = rng.standard_normal((4, 3))
    w = rng.standard_normal((3,))
    check_gradients(lambda e, w: rt.map_fn(lambda r: rt.sin(r) * w, e), [e, w])
    check_gradients(lambda e, w: rt.scan(lambda a, r: rt.tanh(a * w + r), e), [e, w])
    check_gradients(lambda e: rt.foldr(lambda a, r: a * r, e, initializer=rt.ones([3],
                                                                              rt.float64)), [e])
    check_gradients(lambda e: rt.map_fn(lambda r: r * 2.0, e), [e], unknown_batch=True)


def test_map_fn_inside_function():
    with rt.eager_mode():
        @rt.function
        def f(x):
            return rt.map_fn(lambda r: rt.reduce_max(r), x)
        x = np.array([[1.0, 5.0], [7.0, 2.0]], np.float32)
        np.testing.assert_allclose(f(x).numpy(), [5.0, 7.0])


# --- dynamic_rnn over an unknown number of time steps --------------------------------------
@pytest.mark.parametrize("time_major", [False, True])
def test_dynamic_rnn_unknown_time_matches_unrolled(time_major):
    rng = np.random.default_rng(0)
    xv = rng.standard_normal((3, 5, 2)).astype(np.float32)
    if time_major:
        xv = xv.transpose(1, 0, 2)
    results = []
    for steps in (5, None):
        with rt.Graph().as_default():
            shape = [steps, None, 2] if time_major else [None, steps, 2]
            x = rt.placeholder(rt.float32, shape)
            lengths = rt.placeholder(rt.int32, [None])
            cell = rt.nn.rnn_cell.MultiRNNCell([rt.nn.rnn_cell.GRUCell(4),
                                                rt.nn.rnn_cell.BasicRNNCell(3)])
            out, state = rt.nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=rt.float32,
                                           time_major=time_major)
            assert out.shape.as_list()[2] == 3
            variables = rt.trainable_variables()
            loss = rt.reduce_sum(out) + rt.reduce_sum(state[0] * state[1][:, :1])
            grads = rt.gradients(loss, [x] + variables)
            with rt.Session() as sess:
                sess.run(rt.global_variables_initializer())
                if results:  # the same weights as the unrolled run
                    for v, value in zip(variables, results[0][0]):
                        v.load(value, sess)
                values = sess.run([out, state] + grads, {x: xv, lengths: [5, 2, 0]})
                results.append((sess.run(variables), values))
    for a, b in zip(nest_flatten(results[0][1]), nest_flatten(results[1][1])):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def nest_flatten(x):
    from rillet.eager import nest
    return nest.flatten(x)

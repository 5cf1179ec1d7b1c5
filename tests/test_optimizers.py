"""Optimizers, learning-rate schedules, the global step and clipping (rillet.train).

Each optimizer runs 3 steps in float64 and is compared with a NumPy re-implementation of
TensorFlow's update formulas (``training_ops.cc``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rillet as tf

W0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
C = np.array([[1.0, 2.0, 0.5], [0.3, 1.2, 2.5]])
D = np.array([[0.1, -0.2, 0.3], [0.4, -0.5, 0.6]])
B0 = np.array([0.3, -0.7])
X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.25, -2.0]])
Y = np.array([[1.0, 0.0], [0.5, -1.0], [2.0, 1.0]])


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def _model():
    """Two float64 variables and a loss with state-dependent gradients."""
    w = tf.Variable(W0, name="w")
    b = tf.Variable(B0, name="b")
    xb = tf.matmul(tf.constant(X), tf.reshape(b, [2, 1])) * tf.ones([1, 2], tf.float64)
    loss = tf.reduce_sum(w * w * C + w * D) + 0.5 * tf.reduce_sum(tf.square(xb - Y))
    return w, b, loss


def _np_grads(w, b):
    gw = 2 * C * w + D
    r = (X @ b.reshape(2, 1)) * np.ones((1, 2)) - Y
    gb = (X.T @ r.sum(axis=1, keepdims=True)).reshape(2)
    return gw, gb


# --- NumPy references of TF's update rules -----------------------------------------------
def ref_sgd(lr):
    def step(p, g, s, t):
        return p - lr * g
    return step


def ref_momentum(lr, mu, nesterov=False):
    def step(p, g, s, t):
        a = s.get("a", np.zeros_like(p))
        a = a * mu + g
        s["a"] = a
        return p - (g * lr + a * mu * lr) if nesterov else p - lr * a
    return step


def ref_adagrad(lr, init=0.1):
    def step(p, g, s, t):
        a = s.get("a", np.full_like(p, init)) + g * g
        s["a"] = a
        return p - lr * g / np.sqrt(a)
    return step


def ref_adadelta(lr, rho, eps):
    def step(p, g, s, t):
        a = s.get("a", np.zeros_like(p))
        au = s.get("au", np.zeros_like(p))
        a = a * rho + g * g * (1 - rho)
        upd = np.sqrt(au + eps) / np.sqrt(a + eps) * g
        au = au * rho + upd * upd * (1 - rho)
        s["a"], s["au"] = a, au
        return p - upd * lr
    return step


def ref_rmsprop(lr, rho=0.9, mu=0.0, eps=1e-10, centered=False):
    def step(p, g, s, t):
        ms = s.get("ms", np.ones_like(p))
        mom = s.get("mom", np.zeros_like(p))
        mg = s.get("mg", np.zeros_like(p))
        ms = ms + (g * g - ms) * (1 - rho)
        if centered:
            mg = mg + (g - mg) * (1 - rho)
            denom = ms - mg * mg + eps
        else:
            denom = ms + eps
        mom = mom * mu + lr * g / np.sqrt(denom)
        s.update(ms=ms, mom=mom, mg=mg)
        return p - mom
    return step


def ref_adam(lr=0.001, b1=0.9, b2=0.999, eps=1e-8, wd=0.0):
    def step(p, g, s, t):
        m = s.get("m", np.zeros_like(p))
        v = s.get("v", np.zeros_like(p))
        p = p - wd * p
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        s.update(m=m, v=v)
        return p - m * alpha / (np.sqrt(v) + eps)
    return step


def ref_radam(lr=0.001, b1=0.9, b2=0.999, eps=1e-8, threshold=5.0):
    def step(p, g, s, t):
        m = s.get("m", np.zeros_like(p))
        v = s.get("v", np.zeros_like(p))
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        s.update(m=m, v=v)
        m_hat = m / (1 - b1 ** t)
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        if rho_t >= threshold:
            r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                          / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            return p - lr * r * m_hat / (np.sqrt(v / (1 - b2 ** t)) + eps)
        return p - lr * m_hat
    return step


CASES = {
    "sgd": (lambda: tf.train.GradientDescentOptimizer(0.1), ref_sgd(0.1)),
    "momentum": (lambda: tf.train.MomentumOptimizer(0.1, 0.9), ref_momentum(0.1, 0.9)),
    "nesterov": (lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
                 ref_momentum(0.1, 0.9, nesterov=True)),
    "adagrad": (lambda: tf.train.AdagradOptimizer(0.3), ref_adagrad(0.3)),
    "adagrad_init": (lambda: tf.train.AdagradOptimizer(0.3, initial_accumulator_value=0.5),
                     ref_adagrad(0.3, 0.5)),
    "adadelta": (lambda: tf.train.AdadeltaOptimizer(1.0, rho=0.9, epsilon=1e-6),
                 ref_adadelta(1.0, 0.9, 1e-6)),
    "rmsprop": (lambda: tf.train.RMSPropOptimizer(0.01), ref_rmsprop(0.01)),
    "rmsprop_momentum": (lambda: tf.train.RMSPropOptimizer(0.01, decay=0.8, momentum=0.5,
                                                           epsilon=1e-6),
                         ref_rmsprop(0.01, 0.8, 0.5, 1e-6)),
    "rmsprop_centered": (lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.3, centered=True),
                         ref_rmsprop(0.01, 0.9, 0.3, 1e-10, centered=True)),
    "adam": (lambda: tf.train.AdamOptimizer(0.1), ref_adam(0.1)),
    "adam_defaults": (lambda: tf.train.AdamOptimizer(), ref_adam()),
    "adamw": (lambda: tf.train.AdamWOptimizer(0.01, learning_rate=0.1),
              ref_adam(0.1, wd=0.01)),
    "radam": (lambda: tf.train.RAdamOptimizer(0.1), ref_radam(0.1)),
    "radam_rectified": (lambda: tf.train.RAdamOptimizer(0.1, beta2=0.9, sma_threshold=4.5),
                        ref_radam(0.1, b2=0.9, threshold=4.5)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_three_steps_match_numpy_reference(case):
    _check_steps(case, 3)


@pytest.mark.parametrize("case", ["radam", "radam_rectified", "adam", "rmsprop_centered"])
def test_eight_steps_match_numpy_reference(case):
    _check_steps(case, 8)


def _check_steps(case, n):
    make, ref = CASES[case]
    w, b, loss = _model()
    train_op = make().minimize(loss)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    pw, pb = W0.copy(), B0.copy()
    sw, sb = {}, {}
    for t in range(1, n + 1):
        gw, gb = _np_grads(pw, pb)
        pw, pb = ref(pw, gw, sw, t), ref(pb, gb, sb, t)
        sess.run(train_op)
        got_w, got_b = sess.run([w, b])
        np.testing.assert_allclose(got_w, pw, rtol=1e-12, atol=1e-14, err_msg=f"step {t}")
        np.testing.assert_allclose(got_b, pb, rtol=1e-12, atol=1e-14, err_msg=f"step {t}")


def test_radam_takes_both_branches_in_eight_steps():
    # sma_t (the length of the approximated SMA) grows by about 1 per step: the first steps
    # are plain momentum steps, the later ones rectified Adam steps.
    for b2, threshold in ((0.9, 4.5), (0.999, 5.0)):
        rho_inf = 2 / (1 - b2) - 1
        rhos = [rho_inf - 2 * t * b2 ** t / (1 - b2 ** t) for t in range(1, 9)]
        assert rhos[0] < threshold < rhos[-1]


@pytest.mark.parametrize("case", sorted(CASES))
def test_update_is_in_place(case):
    make, _ = CASES[case]
    w, b, loss = _model()
    opt = make()
    train_op = opt.minimize(loss)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    sess.run(train_op)
    names = ["w", "b"] + [opt.get_slot(v, s).op.name for v in (w, b)
                          for s in opt.get_slot_names()]
    ids = {n: id(sess._ctx.vars[n]) for n in names}
    before = sess.run(w)
    sess.run(train_op)
    assert {n: id(sess._ctx.vars[n]) for n in names} == ids
    assert not np.array_equal(sess.run(w), before)


def test_float32_training_and_fetch_is_a_copy():
    w = tf.Variable(np.ones(3, np.float32), name="w")
    loss = tf.reduce_sum(w * w)
    train_op = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    before = sess.run(w)
    sess.run(train_op)
    np.testing.assert_array_equal(before, np.ones(3, np.float32))
    after = sess.run(w)
    assert after.dtype == np.float32
    np.testing.assert_allclose(after, 0.5)


# --- slots, names, variables ----------------------------------------------------------------
def test_adam_slot_and_non_slot_names():
    w, b, loss = _model()
    opt = tf.train.AdamOptimizer()
    opt.minimize(loss)
    names = [v.op.name for v in tf.global_variables()]
    assert names == ["w", "b", "beta1_power", "beta2_power", "w/Adam", "w/Adam_1", "b/Adam",
                     "b/Adam_1"]
    assert tf.trainable_variables() == [w, b]
    assert opt.get_slot_names() == ["m", "v"]
    assert opt.get_slot(w, "m").op.name == "w/Adam"
    assert opt.get_slot(w, "v").op.name == "w/Adam_1"
    assert opt.get_slot(w, "nope") is None
    assert opt.get_slot(tf.Variable(1.0, name="other"), "m") is None
    assert [v.op.name for v in opt.variables()] == sorted(
        ["beta1_power", "beta2_power", "w/Adam", "w/Adam_1", "b/Adam", "b/Adam_1"])
    assert opt.get_name() == "Adam"
    for v in opt.variables():
        assert not v.trainable
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    assert sess.run(opt.get_slot(w, "m")).shape == (2, 3)
    assert sess.run("beta1_power:0") == pytest.approx(0.9)


@pytest.mark.parametrize("make,slots", [
    (lambda: tf.train.MomentumOptimizer(0.1, 0.9), {"momentum": "w/Momentum"}),
    (lambda: tf.train.AdagradOptimizer(0.1), {"accumulator": "w/Adagrad"}),
    (lambda: tf.train.RMSPropOptimizer(0.1), {"rms": "w/RMSProp", "momentum": "w/RMSProp_1"}),
    (lambda: tf.train.RMSPropOptimizer(0.1, centered=True),
     {"rms": "w/RMSProp", "mg": "w/RMSProp_1", "momentum": "w/RMSProp_2"}),
    (lambda: tf.train.AdamWOptimizer(0.1), {"m": "w/AdamW", "v": "w/AdamW_1"}),
    (lambda: tf.train.RAdamOptimizer(), {"m": "w/RAdam", "v": "w/RAdam_1"}),
    (lambda: tf.train.AdadeltaOptimizer(), {"accum": "w/Adadelta",
                                            "accum_update": "w/Adadelta_1"}),
    (lambda: tf.train.GradientDescentOptimizer(0.1), {}),
])
def test_slot_names_follow_tensorflow(make, slots):
    w, _, loss = _model()
    opt = make()
    opt.minimize(loss)
    assert opt.get_slot_names() == sorted(slots)
    for slot, name in slots.items():
        assert opt.get_slot(w, slot).op.name == name


def test_initial_slot_values():
    w, _, loss = _model()
    rms = tf.train.RMSPropOptimizer(0.1)
    ada = tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.25)
    rms.minimize(loss)
    ada.minimize(loss)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    np.testing.assert_array_equal(sess.run(rms.get_slot(w, "rms")), np.ones((2, 3)))
    np.testing.assert_array_equal(sess.run(rms.get_slot(w, "momentum")), np.zeros((2, 3)))
    np.testing.assert_array_equal(sess.run(ada.get_slot(w, "accumulator")),
                                  np.full((2, 3), 0.25))


def test_second_optimizer_gets_new_slot_names():
    w, _, loss = _model()
    tf.train.AdamOptimizer().minimize(loss)
    opt2 = tf.train.AdamOptimizer()
    opt2.minimize(loss)
    assert opt2.get_slot(w, "m").op.name == "w/Adam_2"
    assert [v.op.name for v in opt2.variables()][:2] == ["b/Adam_2", "b/Adam_3"]
    assert "beta1_power_1" in [v.op.name for v in tf.global_variables()]


def test_slots_created_outside_name_and_control_scopes():
    w, _, loss = _model()
    dep = tf.no_op(name="dep")
    with tf.name_scope("outer"), tf.control_dependencies([dep]):
        opt = tf.train.MomentumOptimizer(0.1, 0.9)
        train_op = opt.minimize(loss)
    slot = opt.get_slot(w, "momentum")
    assert slot.op.name == "w/Momentum"
    assert dep not in slot.initializer.control_inputs
    assert train_op.name == "outer/Momentum"


def test_slots_need_initializer_created_after_minimize():
    w, _, loss = _model()
    init_before = tf.global_variables_initializer()
    train_op = tf.train.AdamOptimizer().minimize(loss)
    sess = tf.Session()
    sess.run(init_before)
    with pytest.raises(tf.errors.FailedPreconditionError,
                       match="Attempting to use uninitialized value"):
        sess.run(train_op)
    sess.run(tf.global_variables_initializer())
    sess.run(train_op)


def test_uninitialized_variable_error():
    w, _, loss = _model()
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with pytest.raises(tf.errors.FailedPreconditionError,
                       match="Attempting to use uninitialized value w"):
        tf.Session().run(train_op)


def test_two_sessions_are_independent():
    w, _, loss = _model()
    train_op = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss)
    s1, s2 = tf.Session(), tf.Session()
    for s in (s1, s2):
        s.run(tf.global_variables_initializer())
    s1.run(train_op)
    s1.run(train_op)
    np.testing.assert_array_equal(s2.run(w), W0)
    assert not np.array_equal(s1.run(w), W0)


# --- minimize / compute_gradients / apply_gradients -----------------------------------------
def test_global_step_increments_after_updates():
    w, _, loss = _model()
    step = tf.train.get_or_create_global_step()
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    assert isinstance(train_op, tf.Operation)
    assert train_op.name == "GradientDescent"
    assert train_op in tf.get_collection(tf.GraphKeys.TRAIN_OP)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    for i in range(1, 4):
        assert sess.run(train_op) is None
        assert sess.run(step) == i
        assert tf.train.global_step(sess, step) == i
    assert sess.run(step).dtype == np.int64


def test_var_list_limits_updates():
    w, b, loss = _model()
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, var_list=[b])
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    sess.run(train_op)
    np.testing.assert_array_equal(sess.run(w), W0)
    _, gb = _np_grads(W0, B0)
    np.testing.assert_allclose(sess.run(b), B0 - 0.1 * gb)


def test_compute_gradients_pairs_and_none():
    w, b, loss = _model()
    z = tf.Variable(1.0, dtype=tf.float64, name="z")
    opt = tf.train.GradientDescentOptimizer(0.1)
    gv = opt.compute_gradients(loss)
    assert [v for _, v in gv] == [w, b, z]
    assert gv[2][0] is None
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    gw, gb = _np_grads(W0, B0)
    np.testing.assert_allclose(sess.run(gv[0][0]), gw)
    np.testing.assert_allclose(sess.run(gv[1][0]), gb)
    # None gradients are skipped by apply_gradients (z keeps its value).
    train_op = opt.apply_gradients(gv)
    sess.run(tf.global_variables_initializer())
    sess.run(train_op)
    assert sess.run(z) == 1.0
    np.testing.assert_allclose(sess.run(w), W0 - 0.1 * gw)


def test_apply_gradients_with_processed_gradients():
    w, b, loss = _model()
    opt = tf.train.GradientDescentOptimizer(1.0)
    gv = opt.compute_gradients(loss)
    clipped = [(tf.clip_by_norm(g, 1.0), v) for g, v in gv]
    train_op = opt.apply_gradients(clipped)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    sess.run(train_op)
    gw, _ = _np_grads(W0, B0)
    np.testing.assert_allclose(sess.run(w), W0 - gw / np.linalg.norm(gw))


def test_grad_loss_and_gate_graph():
    w, _, loss = _model()
    opt = tf.train.GradientDescentOptimizer(0.1)
    train_op = opt.minimize(loss, var_list=[w], grad_loss=tf.constant(2.0, tf.float64),
                            gate_gradients=tf.train.Optimizer.GATE_GRAPH)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    sess.run(train_op)
    gw, _ = _np_grads(W0, B0)
    np.testing.assert_allclose(sess.run(w), W0 - 0.2 * gw)


def test_learning_rate_placeholder():
    w, _, loss = _model()
    lr = tf.placeholder(tf.float64, [])
    train_op = tf.train.GradientDescentOptimizer(lr).minimize(loss, var_list=[w])
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    sess.run(train_op, {lr: 0.0})
    np.testing.assert_array_equal(sess.run(w), W0)
    sess.run(train_op, {lr: 0.5})
    gw, _ = _np_grads(W0, B0)
    np.testing.assert_allclose(sess.run(w), W0 - 0.5 * gw)


def test_learning_rate_float32_tensor_is_cast_to_variable_dtype():
    w, _, loss = _model()
    train_op = tf.train.MomentumOptimizer(tf.constant(0.5), tf.constant(0.0)).minimize(loss)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    sess.run(train_op)
    gw, _ = _np_grads(W0, B0)
    np.testing.assert_allclose(sess.run(w), W0 - 0.5 * gw)


def test_learning_rate_callable():
    w, _, loss = _model()
    train_op = tf.train.GradientDescentOptimizer(lambda: 0.5).minimize(loss, var_list=[w])
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    sess.run(train_op)
    gw, _ = _np_grads(W0, B0)
    np.testing.assert_allclose(sess.run(w), W0 - 0.5 * gw)


def test_learning_rate_schedule_follows_global_step():
    w, _, loss = _model()
    step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(0.1, step, decay_steps=1, decay_rate=0.5)
    train_op = tf.train.GradientDescentOptimizer(lr).minimize(loss, global_step=step,
                                                              var_list=[w])
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    pw = W0.copy()
    for t in range(3):
        assert sess.run(lr) == pytest.approx(0.1 * 0.5 ** t)
        gw, _ = _np_grads(pw, B0)
        pw = pw - np.float32(0.1 * 0.5 ** t).astype(np.float64) * gw
        sess.run(train_op)
        np.testing.assert_allclose(sess.run(w), pw, rtol=1e-12)


def test_adamw_decay_var_list():
    w, b, loss = _model()
    opt = tf.train.AdamWOptimizer(0.1, learning_rate=0.0)
    train_op = opt.minimize(loss, decay_var_list=[w])
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    sess.run(train_op)
    np.testing.assert_allclose(sess.run(w), W0 * 0.9)
    np.testing.assert_allclose(sess.run(b), B0)


# --- errors -------------------------------------------------------------------------------
def test_no_variables_to_optimize():
    x = tf.placeholder(tf.float32)
    with pytest.raises(ValueError, match="No variables to optimize."):
        tf.train.AdamOptimizer().minimize(tf.reduce_sum(x * x))


def test_no_gradients_provided():
    tf.Variable(1.0, name="v")
    loss = tf.constant(3.0) * 2.0
    with pytest.raises(ValueError, match="No gradients provided for any variable, check your "
                                         "graph for ops that do not support gradients"):
        tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    v2 = tf.Variable(2.0, name="v2")
    with pytest.raises(ValueError, match="No gradients provided for any variable: "):
        tf.train.GradientDescentOptimizer(0.1).apply_gradients([(None, v2)])
    with pytest.raises(ValueError, match="No variables provided."):
        tf.train.GradientDescentOptimizer(0.1).apply_gradients([])


def test_invalid_arguments():
    with pytest.raises(ValueError, match="Must specify the optimizer name"):
        tf.train.GradientDescentOptimizer(0.1, name="")
    with pytest.raises(ValueError, match="initial_accumulator_value must be positive"):
        tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)
    w, _, loss = _model()
    with pytest.raises(ValueError, match="gate_gradients must be one of"):
        tf.train.GradientDescentOptimizer(0.1).minimize(loss, gate_gradients=7)
    iv = tf.Variable(3, name="iv")
    with pytest.raises(ValueError, match="Invalid type"):
        tf.train.GradientDescentOptimizer(0.1).minimize(tf.cast(iv, tf.int32) * 2)
    with pytest.raises(TypeError, match="Gradient must be convertible"):
        tf.train.GradientDescentOptimizer(0.1).apply_gradients([(object(), w)])


def test_gradient_shape_mismatch_is_a_build_error():
    w, _, _ = _model()
    with pytest.raises(ValueError, match="ApplyGradientDescent"):
        tf.train.GradientDescentOptimizer(0.1).apply_gradients(
            [(tf.zeros([3, 2], tf.float64), w)])
    with pytest.raises(TypeError, match="does not match type float64"):
        tf.train.GradientDescentOptimizer(0.1).apply_gradients([(tf.zeros([2, 3]), w)])


# --- global step ----------------------------------------------------------------------------
def test_global_step_helpers():
    assert tf.train.get_global_step() is None
    step = tf.train.create_global_step()
    assert step.op.name == "global_step"
    assert step.dtype == tf.int64 and step.shape.as_list() == []
    assert not step.trainable
    assert tf.get_collection(tf.GraphKeys.GLOBAL_STEP) == [step]
    assert step in tf.global_variables()
    assert tf.train.get_global_step() is step
    assert tf.train.get_or_create_global_step() is step
    with pytest.raises(ValueError, match='"global_step" already exists.'):
        tf.train.create_global_step()
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    assert sess.run(step) == 0


def test_global_step_created_inside_scopes_is_at_root():
    with tf.variable_scope("model"), tf.name_scope("inner"):
        step = tf.train.get_or_create_global_step()
    assert step.op.name == "global_step"


def test_global_step_found_by_name_and_type_checked():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(0, name="global_step", dtype=tf.int64)
        assert tf.train.get_global_step() is not None
        assert tf.train.get_global_step(g).op is v.op
    with tf.Graph().as_default():
        tf.Variable(0.0, name="global_step")
        with pytest.raises(TypeError, match="does not have integer type"):
            tf.train.get_global_step()


# --- learning-rate schedules ----------------------------------------------------------------
def _eval_at(make, steps):
    step = tf.placeholder(tf.int64, [])
    lr = make(step)
    sess = tf.Session()
    return [float(sess.run(lr, {step: s})) for s in steps], lr


STEPS = [0, 1, 5, 10, 15, 20, 30, 100]


def test_exponential_decay():
    vals, lr = _eval_at(lambda s: tf.train.exponential_decay(0.1, s, 10, 0.5), STEPS)
    np.testing.assert_allclose(vals, [0.1 * 0.5 ** (s / 10) for s in STEPS], rtol=1e-6)
    assert lr.op.name == "ExponentialDecay"
    assert lr.dtype == tf.float32
    vals, _ = _eval_at(lambda s: tf.train.exponential_decay(0.1, s, 10, 0.5, staircase=True),
                       STEPS)
    np.testing.assert_allclose(vals, [0.1 * 0.5 ** (s // 10) for s in STEPS], rtol=1e-6)
    with pytest.raises(ValueError, match="global_step is required for exponential_decay."):
        tf.train.exponential_decay(0.1, None, 10, 0.5)


def test_inverse_time_and_natural_exp_decay():
    vals, _ = _eval_at(lambda s: tf.train.inverse_time_decay(0.1, s, 10, 0.5), STEPS)
    np.testing.assert_allclose(vals, [0.1 / (1 + 0.5 * s / 10) for s in STEPS], rtol=1e-6)
    vals, _ = _eval_at(lambda s: tf.train.inverse_time_decay(0.1, s, 10, 0.5, True), STEPS)
    np.testing.assert_allclose(vals, [0.1 / (1 + 0.5 * (s // 10)) for s in STEPS], rtol=1e-6)
    vals, _ = _eval_at(lambda s: tf.train.natural_exp_decay(0.1, s, 10, 0.5), STEPS)
    np.testing.assert_allclose(vals, [0.1 * math.exp(-0.5 * s / 10) for s in STEPS],
                               rtol=1e-6)
    vals, _ = _eval_at(lambda s: tf.train.natural_exp_decay(0.1, s, 10, 0.5, True), STEPS)
    np.testing.assert_allclose(vals, [0.1 * math.exp(-0.5 * (s // 10)) for s in STEPS],
                               rtol=1e-6)


def test_polynomial_decay():
    def ref(s, cycle=False, power=1.0, end=0.0001):
        ds = 20
        if cycle:
            ds = ds * (1 if s == 0 else math.ceil(s / ds))
        else:
            s = min(s, ds)
        return (0.1 - end) * (1 - s / ds) ** power + end
    vals, _ = _eval_at(lambda s: tf.train.polynomial_decay(0.1, s, 20), STEPS)
    np.testing.assert_allclose(vals, [ref(s) for s in STEPS], rtol=1e-5)
    vals, _ = _eval_at(lambda s: tf.train.polynomial_decay(0.1, s, 20, 0.01, power=2.0,
                                                           cycle=True), STEPS)
    np.testing.assert_allclose(vals, [ref(s, True, 2.0, 0.01) for s in STEPS], rtol=1e-5)


def test_cosine_decays():
    vals, _ = _eval_at(lambda s: tf.train.cosine_decay(0.1, s, 20, alpha=0.1), STEPS)
    exp = [0.1 * (0.9 * 0.5 * (1 + math.cos(math.pi * min(s, 20) / 20)) + 0.1) for s in STEPS]
    np.testing.assert_allclose(vals, exp, rtol=1e-5, atol=1e-8)

    def sgdr(s, first=10, t_mul=2.0, m_mul=0.5):
        frac = s / first
        i = math.floor(math.log(1 - frac * (1 - t_mul)) / math.log(t_mul))
        sum_r = (1 - t_mul ** i) / (1 - t_mul)
        frac = (frac - sum_r) / t_mul ** i
        return 0.1 * m_mul ** i * 0.5 * (1 + math.cos(math.pi * frac))
    vals, _ = _eval_at(lambda s: tf.train.cosine_decay_restarts(0.1, s, 10, m_mul=0.5), STEPS)
    np.testing.assert_allclose(vals, [sgdr(s) for s in STEPS], rtol=1e-4, atol=1e-7)
    vals, _ = _eval_at(lambda s: tf.train.linear_cosine_decay(0.1, s, 20), STEPS)
    exp = [0.1 * (((20 - min(s, 20)) / 20) * 0.5 * (1 + math.cos(math.pi * min(s, 20) / 20))
                  + 0.001) for s in STEPS]
    np.testing.assert_allclose(vals, exp, rtol=1e-5, atol=1e-8)


def test_piecewise_constant():
    step = tf.placeholder(tf.int32, [])
    lr = tf.train.piecewise_constant(step, [10, 20], [1.0, 0.5, 0.1])
    sess = tf.Session()
    got = [float(sess.run(lr, {step: s})) for s in (0, 10, 11, 20, 21, 100)]
    np.testing.assert_allclose(got, [1.0, 1.0, 0.5, 0.5, 0.1, 0.1])
    with pytest.raises(ValueError, match="The length of boundaries should be 1 less"):
        tf.train.piecewise_constant(step, [10], [1.0])
    gs = tf.train.get_or_create_global_step()
    lr2 = tf.train.piecewise_constant(gs, [2], [0.1, 0.01])
    sess.run(tf.global_variables_initializer())
    assert sess.run(lr2) == pytest.approx(0.1)


# --- clipping -------------------------------------------------------------------------------
def test_clip_by_value_and_its_gradient():
    x = tf.constant([-2.0, 0.5, 3.0])
    y = tf.clip_by_value(x, -1.0, 1.0)
    g = tf.gradients(tf.reduce_sum(y), x)[0]
    sess = tf.Session()
    np.testing.assert_array_equal(sess.run(y), [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(sess.run(g), [0.0, 1.0, 0.0])


def test_clip_by_norm():
    t = tf.constant([[3.0, 4.0], [0.0, 0.0]])
    sess = tf.Session()
    np.testing.assert_allclose(sess.run(tf.clip_by_norm(t, 1.0)), [[0.6, 0.8], [0, 0]])
    np.testing.assert_allclose(sess.run(tf.clip_by_norm(t, 10.0)), [[3, 4], [0, 0]])
    np.testing.assert_allclose(sess.run(tf.clip_by_norm(t, 1.0, axes=[1])),
                               [[0.6, 0.8], [0, 0]])
    z = tf.zeros([3])
    np.testing.assert_array_equal(sess.run(tf.clip_by_norm(z, 1.0)), [0, 0, 0])
    x = tf.constant([3.0, 4.0])
    g = tf.gradients(tf.reduce_sum(tf.clip_by_norm(x, 10.0)), x)[0]
    np.testing.assert_allclose(sess.run(g), [1.0, 1.0])


def test_global_norm_and_clip_by_global_norm():
    a = tf.constant([3.0, 4.0])
    b = tf.constant([[12.0]])
    sess = tf.Session()
    assert sess.run(tf.global_norm([a, None, b])) == pytest.approx(13.0)
    clipped, norm = tf.clip_by_global_norm([a, None, b], 6.5)
    assert clipped[1] is None
    out = sess.run([clipped[0], clipped[2], norm])
    np.testing.assert_allclose(out[0], [1.5, 2.0])
    np.testing.assert_allclose(out[1], [[6.0]])
    assert out[2] == pytest.approx(13.0)
    same, _ = tf.clip_by_global_norm([a, b], 100.0)
    np.testing.assert_allclose(sess.run(same[0]), [3.0, 4.0])
    pre, _ = tf.clip_by_global_norm([a], 1.0, use_norm=tf.constant(10.0))
    np.testing.assert_allclose(sess.run(pre[0]), [0.3, 0.4], rtol=1e-6)
    inf, _ = tf.clip_by_global_norm([tf.constant([np.inf, 1.0])], 1.0)
    assert np.all(np.isnan(sess.run(inf[0])))
    with pytest.raises(TypeError, match="t_list should be a sequence"):
        tf.clip_by_global_norm(a, 1.0)
    with pytest.raises(TypeError, match="t_list should be a sequence"):
        tf.global_norm(a)


def test_clip_by_global_norm_in_training_loop():
    w, b, loss = _model()
    opt = tf.train.GradientDescentOptimizer(1.0)
    grads, variables = zip(*opt.compute_gradients(loss))
    clipped, norm = tf.clip_by_global_norm(list(grads), 0.5)
    train_op = opt.apply_gradients(zip(clipped, variables))
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    gw, gb = _np_grads(W0, B0)
    n = math.sqrt((gw ** 2).sum() + (gb ** 2).sum())
    assert sess.run(norm) == pytest.approx(n)
    sess.run(train_op)
    np.testing.assert_allclose(sess.run(w), W0 - gw * 0.5 / n)
    np.testing.assert_allclose(sess.run(b), B0 - gb * 0.5 / n)


def test_clip_by_average_norm():
    t = tf.constant([3.0, 4.0])
    sess = tf.Session()
    np.testing.assert_allclose(sess.run(tf.clip_by_average_norm(t, 1.0)), [1.2, 1.6],
                               rtol=1e-6)
    np.testing.assert_allclose(sess.run(tf.clip_by_average_norm(t, 5.0)), [3.0, 4.0],
                               rtol=1e-6)


# --- eager mode -------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["sgd", "nesterov", "adagrad", "rmsprop_centered", "adam",
                                  "adamw", "radam", "adadelta"])
def test_eager_apply_gradients_matches_numpy_reference(case):
    make, ref = CASES[case]
    with tf.eager_mode():
        w = tf.Variable(W0, name="w")
        b = tf.Variable(B0, name="b")
        opt = make()
        pw, pb, sw, sb = W0.copy(), B0.copy(), {}, {}
        for t in range(1, 4):
            with tf.GradientTape() as tape:
                xb = tf.matmul(tf.constant(X), tf.reshape(b, [2, 1])) * tf.ones([1, 2],
                                                                                 tf.float64)
                loss = tf.reduce_sum(w * w * C + w * D) + 0.5 * tf.reduce_sum(
                    tf.square(xb - Y))
            grads = tape.gradient(loss, [w, b])
            assert opt.apply_gradients(zip(grads, [w, b])) is None
            gw, gb = _np_grads(pw, pb)
            pw, pb = ref(pw, gw, sw, t), ref(pb, gb, sb, t)
            np.testing.assert_allclose(w.numpy(), pw, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(b.numpy(), pb, rtol=1e-12, atol=1e-14)


def test_eager_minimize_with_callable_loss_and_global_step():
    with tf.eager_mode():
        w = tf.Variable([1.0, -2.0], name="w")
        step = tf.Variable(0, dtype=tf.int64, name="step", trainable=False)
        opt = tf.train.MomentumOptimizer(0.1, 0.5)
        for _ in range(2):
            opt.minimize(lambda: tf.reduce_sum(w * w), global_step=step)
        assert int(step.numpy()) == 2
        # accum: g0 = 2w0; w1 = w0 - 0.1 g0; accum1 = 0.5 g0 + 2 w1
        w0 = np.array([1.0, -2.0])
        w1 = w0 - 0.1 * 2 * w0
        w2 = w1 - 0.1 * (0.5 * 2 * w0 + 2 * w1)
        np.testing.assert_allclose(w.numpy(), w2, rtol=1e-6)
        assert opt.get_slot(w, "momentum") is not None
        with pytest.raises(RuntimeError, match="should be a function when eager execution"):
            opt.compute_gradients(tf.reduce_sum(w * w))


def test_apply_gradients_inside_rt_function():
    with tf.eager_mode():
        w = tf.Variable([1.0, 2.0], name="w")
        opt = tf.train.AdamOptimizer(0.1)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(w * w)
            grads = tape.gradient(loss, [w])
            opt.apply_gradients(zip(grads, [w]))
            return loss

        ref = tf.Variable([1.0, 2.0], name="ref")
        ref_opt = tf.train.AdamOptimizer(0.1)
        for _ in range(3):
            step()
            ref_opt.minimize(lambda: tf.reduce_sum(ref * ref))
        np.testing.assert_allclose(w.numpy(), ref.numpy(), rtol=1e-6)
        # Eager variable names are unique among live eager variables (w/Adam, w/Adam_1, ...).
        assert opt.get_slot(w, "m").op.name.startswith(f"{w.op.name}/Adam")
        assert opt.get_slot(w, "v").op.name.startswith(f"{w.op.name}/Adam_")
        assert len(opt.variables()) == 4


def test_eager_schedule_is_a_function_of_the_step():
    with tf.eager_mode():
        step = tf.Variable(0, dtype=tf.int64, name="gs", trainable=False)
        lr = tf.train.exponential_decay(0.1, step, 1, 0.5)
        assert callable(lr) and float(lr().numpy()) == pytest.approx(0.1)
        w = tf.Variable([1.0], name="w")
        opt = tf.train.GradientDescentOptimizer(lr)
        for _ in range(3):
            opt.minimize(lambda: tf.reduce_sum(w * w), global_step=step)
        np.testing.assert_allclose(w.numpy(), [0.684], rtol=1e-6)
        assert float(lr().numpy()) == pytest.approx(0.0125)
        with pytest.raises(ValueError, match="global_step is required"):
            tf.train.cosine_decay(0.1, None, 10)


def test_gradient_through_clip_by_global_norm():
    x = tf.constant([3.0, 4.0], tf.float64)
    (c,), _ = tf.clip_by_global_norm([x], 1.0)
    g = tf.gradients(tf.reduce_sum(c), x)[0]
    # d/dx sum(x / |x|) = 1 / |x| - sum(x) * x / |x|^3
    np.testing.assert_allclose(tf.Session().run(g), [0.2 - 7 * 3 / 125, 0.2 - 7 * 4 / 125])

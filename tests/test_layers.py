"""TF 1.x functional layers (rt.layers): outputs vs NumPy with the layers' own weights,
variable names, reuse, UPDATE_OPS and error messages."""

import numpy as np
import pytest

import rillet as rt

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _graph():
    with rt.Graph().as_default() as g:
        yield g


def _run(fetches, feeds=None):
    with rt.Session() as sess:
        sess.run(rt.global_variables_initializer())
        return sess.run(fetches, feeds)


def _var(name):
    return next(v for v in rt.global_variables() if v.op.name == name)


def _conv_ref(x, k, stride=1):
    """Valid cross-correlation, NHWC x HWIO."""
    kh, kw = k.shape[:2]
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, k.shape[3]))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i:i + stride * oh:stride, j:j + stride * ow:stride, :]
            out += np.einsum("nhwc,co->nhwo", patch, k[i, j])
    return out


def test_dense_matches_numpy_and_names_variables_like_tf1():
    x = rt.placeholder(rt.float32, [None, 4])
    h = rt.layers.dense(x, 3, activation=rt.nn.relu)
    y = rt.layers.dense(h, 2, use_bias=False)
    names = [v.op.name for v in rt.global_variables()]
    assert names == ["dense/kernel", "dense/bias", "dense_1/kernel"]
    assert h.shape.as_list() == [None, 3] and y.shape.as_list() == [None, 2]
    xv = RNG.normal(size=(5, 4)).astype(np.float32)
    with rt.Session() as sess:
        sess.run(rt.global_variables_initializer())
        out, k0, b0, k1 = sess.run([y, "dense/kernel:0", "dense/bias:0", "dense_1/kernel:0"],
                                   {x: xv})
    np.testing.assert_allclose(out, np.maximum(xv @ k0 + b0, 0) @ k1, rtol=1e-5, atol=1e-6)
    assert np.all(b0 == 0)  # bias initializer: zeros


def test_reuse_by_name_and_by_variable_scope():
    x = rt.placeholder(rt.float32, [None, 4])
    a = rt.layers.dense(x, 3, name="fc")
    b = rt.layers.dense(x, 3, name="fc", reuse=True)
    with rt.variable_scope("tower"):
        c = rt.layers.dense(x, 3, name="fc")
    with rt.variable_scope("tower", reuse=True):
        d = rt.layers.dense(x, 3, name="fc")
    with rt.variable_scope("shared", reuse=rt.AUTO_REUSE):
        rt.layers.dense(x, 3)
    with rt.variable_scope("shared", reuse=rt.AUTO_REUSE):
        rt.layers.dense(x, 3, name="dense")
    names = [v.op.name for v in rt.global_variables()]
    assert names == ["fc/kernel", "fc/bias", "tower/fc/kernel", "tower/fc/bias",
                     "shared/dense/kernel", "shared/dense/bias"]
    xv = RNG.normal(size=(2, 4))
    va, vb, vc, vd = _run([a, b, c, d], {x: xv})
    np.testing.assert_array_equal(va, vb)
    np.testing.assert_array_equal(vc, vd)
    with pytest.raises(ValueError, match="Variable fc2/kernel does not exist"):
        rt.layers.dense(x, 3, name="fc2", reuse=True)
    with pytest.raises(ValueError, match="Variable fc/kernel already exists"):
        rt.layers.dense(x, 3, name="fc")


def test_layer_object_shares_weights_between_calls():
    layer = rt.layers.Dense(2, name="proj")
    x1 = rt.placeholder(rt.float32, [None, 3])
    x2 = rt.placeholder(rt.float32, [None, 3])
    y1, y2 = layer.apply(x1), layer(x2)
    assert len(rt.trainable_variables()) == 2 and layer.name == "proj"
    assert layer.scope_name == "proj"
    v = RNG.normal(size=(4, 3))
    o1, o2 = _run([y1, y2], {x1: v, x2: v})
    np.testing.assert_array_equal(o1, o2)


def test_dense_errors_point_at_the_problem():
    with pytest.raises(ValueError, match="last dimension of the inputs to `Dense` should be "
                                         "defined. Found `None`"):
        rt.layers.dense(rt.placeholder(rt.float32, [None, None]), 3)
    layer = rt.layers.Dense(3)
    layer(rt.placeholder(rt.float32, [None, 4]))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        layer(rt.placeholder(rt.float32, [None, 5]))
    with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=1"):
        rt.layers.dense(rt.placeholder(rt.float32, [4]), 3)


def test_regularizer_goes_to_collection():
    x = rt.placeholder(rt.float32, [None, 3])
    rt.layers.dense(x, 2, kernel_regularizer=lambda w: 0.5 * rt.reduce_sum(rt.square(w)))
    (loss,) = rt.get_collection(rt.GraphKeys.REGULARIZATION_LOSSES)
    value, k = _run([loss, "dense/kernel:0"])
    np.testing.assert_allclose(value, 0.5 * np.sum(k ** 2), rtol=1e-5)


def test_conv2d_and_pooling_match_numpy():
    x = rt.placeholder(rt.float32, [None, 7, 7, 2])
    c = rt.layers.conv2d(x, 3, 3, activation=rt.nn.relu)
    s = rt.layers.conv2d(x, 4, (3, 3), strides=(2, 2), padding="same", name="strided")
    mp = rt.layers.max_pooling2d(c, 2, 2)
    ap = rt.layers.average_pooling2d(c, 2, 2)
    flat = rt.layers.flatten(mp)
    assert [v.op.name for v in rt.global_variables()] == [
        "conv2d/kernel", "conv2d/bias", "strided/kernel", "strided/bias"]
    assert _var("conv2d/kernel").shape.as_list() == [3, 3, 2, 3]
    assert c.shape.as_list() == [None, 5, 5, 3] and s.shape.as_list() == [None, 4, 4, 4]
    assert mp.shape.as_list() == [None, 2, 2, 3] and flat.shape.as_list() == [None, 12]
    xv = RNG.normal(size=(2, 7, 7, 2)).astype(np.float32)
    cv, mv, av, fv, k, b = _run([c, mp, ap, flat, "conv2d/kernel:0", "conv2d/bias:0"], {x: xv})
    ref = np.maximum(_conv_ref(xv, k) + b, 0)
    np.testing.assert_allclose(cv, ref, rtol=1e-4, atol=1e-5)
    windows = ref[:, :4, :4].reshape(2, 2, 2, 2, 2, 3)
    np.testing.assert_allclose(mv, windows.max(axis=(2, 4)), rtol=1e-5)
    np.testing.assert_allclose(av, windows.mean(axis=(2, 4)), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fv, mv.reshape(2, -1))


def test_conv1d_and_conv2d_transpose_shapes():
    seq = rt.placeholder(rt.float32, [None, 10, 3])
    c1 = rt.layers.conv1d(seq, 5, 3, padding="same")
    img = rt.placeholder(rt.float32, [None, 4, 4, 6])
    up = rt.layers.conv2d_transpose(img, 2, 3, strides=2, padding="same")
    assert c1.shape.as_list() == [None, 10, 5]
    assert _var("conv2d_transpose/kernel").shape.as_list() == [3, 3, 2, 6]
    out = _run(up, {img: np.ones((1, 4, 4, 6))})
    assert out.shape == (1, 8, 8, 2) and up.shape.as_list()[1:] == [8, 8, 2]


def test_dropout_training_flag():
    x = rt.placeholder(rt.float32, [None, 1000])
    is_training = rt.placeholder(rt.bool, [])
    off = rt.layers.dropout(x, rate=0.5)
    on = rt.layers.dropout(x, rate=0.5, training=True, seed=1)
    switch = rt.layers.dropout(x, rate=0.25, training=is_training)
    ones = np.ones((2, 1000), np.float32)
    v_off, v_on = _run([off, on], {x: ones})
    np.testing.assert_array_equal(v_off, ones)
    assert set(np.unique(v_on)) <= {0.0, 2.0} and 0.4 < (v_on == 0).mean() < 0.6
    np.testing.assert_array_equal(_run(switch, {x: ones, is_training: False}), ones)
    v = _run(switch, {x: ones, is_training: True})
    assert np.all(np.isclose(v, 0) | np.isclose(v, 1 / 0.75)) and (v == 0).any()


def test_batch_normalization_updates_and_modes():
    x = rt.placeholder(rt.float32, [None, 3])
    y_train = rt.layers.batch_normalization(x, training=True, momentum=0.9)
    y_infer = rt.layers.batch_normalization(x, training=False, name="batch_normalization",
                                            reuse=True)
    names = [v.op.name for v in rt.global_variables()]
    assert names == ["batch_normalization/gamma", "batch_normalization/beta",
                     "batch_normalization/moving_mean", "batch_normalization/moving_variance"]
    assert [v.op.name for v in rt.trainable_variables()] == names[:2]
    updates = rt.get_collection(rt.GraphKeys.UPDATE_OPS)
    assert len(updates) == 2
    xv = RNG.normal(3.0, 2.0, size=(64, 3)).astype(np.float32)
    mean, var = xv.mean(0), xv.var(0)
    with rt.Session() as sess:
        sess.run(rt.global_variables_initializer())
        out, _ = sess.run([y_train, updates], {x: xv})
        mm, mv = sess.run(["batch_normalization/moving_mean:0",
                           "batch_normalization/moving_variance:0"])
        inf = sess.run(y_infer, {x: xv})
    np.testing.assert_allclose(out, (xv - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(mm, 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(mv, 0.9 + 0.1 * var, rtol=1e-5)
    np.testing.assert_allclose(inf, (xv - mm) / np.sqrt(mv + 1e-3), rtol=1e-4, atol=1e-4)


def test_train_op_with_update_ops_dependency():
    """The TF 1.x idiom: run the train op under control_dependencies(UPDATE_OPS)."""
    x = rt.placeholder(rt.float32, [None, 2])
    h = rt.layers.batch_normalization(rt.layers.dense(x, 4), training=True)
    loss = rt.reduce_mean(rt.square(rt.layers.dense(h, 1)))
    with rt.control_dependencies(rt.get_collection(rt.GraphKeys.UPDATE_OPS)):
        train = rt.train.GradientDescentOptimizer(0.1).minimize(loss)
    with rt.Session() as sess:
        sess.run(rt.global_variables_initializer())
        before = sess.run("batch_normalization/moving_mean:0")
        sess.run(train, {x: RNG.normal(size=(8, 2))})
        assert not np.allclose(before, sess.run("batch_normalization/moving_mean:0"))

"""nn ops: the NN table of tests/op_table_nn.py run forward and backward, plus numerical
stability, second derivatives, dropout, candidate samplers and error paths."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from op_table import check_forward, check_grad, dtypes_of
from op_table_nn import NN

import rillet as rt
from rillet.test_util import check_gradients, run_graph

FWD = [(c, dt) for c in NN for dt in dtypes_of(c)]


@pytest.mark.parametrize("case,dtype", FWD, ids=[f"{c}-{np.dtype(d).name}" for c, d in FWD])
def test_forward(case, dtype):
    check_forward(case, dtype)
    check_forward(case, dtype, contiguous=False)


@pytest.mark.parametrize("case", [c for c in NN if c.unknown], ids=str)
def test_unknown_batch(case):
    check_forward(case, np.float64, unknown=True)


@pytest.mark.parametrize("case", [c for c in NN if c.scalar], ids=str)
def test_scalar_shape(case):
    check_forward(case, np.float64, scalar=True)


@pytest.mark.parametrize("case", [c for c in NN if c.grad], ids=str)
def test_gradient(case):
    check_grad(case)
    if case.unknown:
        check_grad(case, unknown=True)


# --- numerical stability ----------------------------------------------------------------------
BIG = np.array([[1000.0, -1000.0, 0.0], [-1e4, 1e4, 3.0]], np.float32)


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return run_graph(fn, *args)


def test_softmax_and_log_softmax_large_logits():
    np.testing.assert_allclose(_quiet(rt.nn.softmax, BIG), [[1, 0, 0], [0, 1, 0]])
    np.testing.assert_allclose(_quiet(rt.nn.log_softmax, BIG),
                               [[0, -2000, -1000], [-20000, 0, -9997]])


def test_cross_entropies_large_logits():
    lab = np.array([[0.2, 0.3, 0.5], [0, 1, 0]], np.float32)
    got = _quiet(lambda x, z: rt.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x),
                 BIG, lab)
    np.testing.assert_allclose(got, [1100.0, 0.0])
    got = _quiet(lambda x, z: rt.nn.sparse_softmax_cross_entropy_with_logits(labels=z,
                                                                             logits=x),
                 BIG, np.array([1, 2]))
    np.testing.assert_allclose(got, [2000.0, 9997.0])
    got = _quiet(lambda x, z: rt.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
                 BIG, lab)
    np.testing.assert_allclose(got, [[800, 300, np.log(2)], [0, 0, 3.0485873]], rtol=1e-6)


def test_activations_large_inputs():
    x = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], np.float32)
    np.testing.assert_allclose(_quiet(rt.nn.softplus, x), [0, 0, np.log(2), 100, 1e4],
                               atol=1e-30)
    np.testing.assert_allclose(_quiet(rt.nn.elu, x), [-1, -1, 0, 100, 1e4])
    np.testing.assert_allclose(_quiet(rt.nn.sigmoid, x), [0, 0, 0.5, 1, 1], atol=1e-30)
    assert np.isfinite(_quiet(rt.nn.selu, x)).all()
    np.testing.assert_allclose(_quiet(rt.nn.swish, x), [0, 0, 0, 100, 1e4], atol=1e-30)


def test_gradients_at_large_logits_are_finite():
    def grads(x):
        loss = rt.reduce_sum(rt.nn.sigmoid_cross_entropy_with_logits(labels=rt.ones_like(x),
                                                                     logits=x))
        loss += rt.reduce_sum(rt.nn.softmax_cross_entropy_with_logits_v2(
            labels=rt.nn.softmax(rt.zeros_like(x)), logits=x))
        return rt.gradients(loss, x)[0]
    g = _quiet(grads, BIG)
    assert np.isfinite(g).all()


# --- second derivatives -----------------------------------------------------------------------
def _hessian_vector(fn):
    """x -> d/dx sum(fn(x)**3): differentiating this checks the second derivative."""
    def h(x, *rest):
        y = fn(x, *rest)
        return rt.gradients(rt.reduce_sum(y * y * y), x)[0]
    return h


@pytest.mark.parametrize("fn", [rt.nn.relu, rt.nn.relu6, rt.nn.elu, rt.nn.selu, rt.nn.softplus,
                                rt.nn.leaky_relu, rt.nn.softsign, rt.nn.gelu, rt.nn.softmax,
                                rt.nn.log_softmax, lambda x: rt.nn.l2_normalize(x, 1),
                                lambda x: rt.nn.bias_add(x, rt.constant([0.5, -1.0, 2.0],
                                                                        rt.float64))],
                         ids=["relu", "relu6", "elu", "selu", "softplus", "leaky_relu",
                              "softsign", "gelu", "softmax", "log_softmax", "l2_normalize",
                              "bias_add"])
def test_second_derivative_activations(fn):
    x = np.array([[-2.1, -0.7, 0.4], [1.3, 2.6, 7.1]])
    check_gradients(_hessian_vector(fn), [x], atol=1e-4)


def test_second_derivative_cross_entropies():
    x = np.random.default_rng(0).standard_normal((3, 4))
    z = np.random.default_rng(1).random((3, 4))
    z /= z.sum(1, keepdims=True)
    check_gradients(_hessian_vector(
        lambda a, b: rt.nn.softmax_cross_entropy_with_logits_v2(labels=b, logits=a)), [x, z],
        wrt=[0, 1], atol=1e-4)
    check_gradients(_hessian_vector(
        lambda a, b: rt.nn.sparse_softmax_cross_entropy_with_logits(labels=b, logits=a)),
        [x, np.array([0, 3, 1])], wrt=[0], atol=1e-4)
    check_gradients(_hessian_vector(
        lambda a, b: rt.nn.sigmoid_cross_entropy_with_logits(labels=b, logits=a)), [x, z],
        wrt=[0, 1], atol=1e-4)


def test_second_derivative_norms():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 2, 3))

    def fbn(a, s, o):
        return rt.nn.fused_batch_norm(a, s, o, epsilon=0.01)[0]
    check_gradients(_hessian_vector(fbn), [x, rng.standard_normal(3), rng.standard_normal(3)],
                    wrt=[0, 1, 2], atol=1e-4)
    check_gradients(_hessian_vector(lambda a: rt.nn.lrn(a, 1, 0.5, 0.3, 0.75)), [x],
                    atol=1e-4)


def test_softmax_xent_labels_not_a_distribution():
    """Gradients are exact even when the labels do not sum to one."""
    rng = np.random.default_rng(3)
    check_gradients(lambda a, b: rt.nn.softmax_cross_entropy_with_logits_v2(labels=b, logits=a),
                    [rng.standard_normal((2, 3)), rng.random((2, 3))], wrt=[0, 1])


def test_v1_cross_entropy_stops_label_gradient():
    x = rt.constant([[1.0, 2.0]])
    z = rt.constant([[0.3, 0.7]])
    loss = rt.nn.softmax_cross_entropy_with_logits(labels=z, logits=x)
    assert rt.gradients(loss, z)[0] is None
    loss2 = rt.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x)
    assert rt.gradients(loss2, z)[0] is not None


# --- dropout ----------------------------------------------------------------------------------
def _run(t, feed=None):
    with rt.Session() as s:
        return s.run(t, feed)


def test_dropout_keep_prob_positional_scales_kept_values():
    rt.reset_default_graph()
    x = rt.ones([200, 100])
    y = rt.nn.dropout(x, 0.25, seed=3)
    v = _run(y)
    assert set(np.unique(v)) <= {0.0, 4.0}
    assert abs((v > 0).mean() - 0.25) < 0.02
    assert y.shape.as_list() == [200, 100]


def test_dropout_rate_and_placeholder_keep_prob():
    rt.reset_default_graph()
    x = rt.placeholder(rt.float32, [None, 50])
    kp = rt.placeholder(rt.float32)
    y = rt.nn.dropout(x, kp)
    y2 = rt.nn.dropout(x, rate=0.75, seed=1)
    data = np.ones((40, 50), np.float32)
    with rt.Session() as s:
        np.testing.assert_array_equal(s.run(y, {x: data, kp: 1.0}), data)
        v = s.run(y, {x: data, kp: 0.5})
        assert set(np.unique(v)) <= {0.0, 2.0}
        v2 = s.run(y2, {x: data})
    assert abs((v2 > 0).mean() - 0.25) < 0.05
    assert y.shape.as_list() == [None, 50]


def test_dropout_keep_prob_one_is_identity_and_noise_shape():
    rt.reset_default_graph()
    x = rt.constant(np.arange(12.0).reshape(3, 4))
    assert rt.nn.dropout(x, 1.0) is x
    v = _run(rt.nn.dropout(x, 0.5, noise_shape=[3, 1], seed=7))
    for row, orig in zip(v, np.arange(12.0).reshape(3, 4)):
        assert np.array_equal(row, 2 * orig) or np.array_equal(row, 0 * orig)


def test_dropout_seeds_are_reproducible():
    def sample():
        g = rt.Graph()
        with g.as_default():
            rt.set_random_seed(5)
            y = rt.nn.dropout(rt.ones([10, 10]), 0.5)
            with rt.Session(graph=g) as s:
                return s.run(y), s.run(y)
    a1, a2 = sample()
    b1, b2 = sample()
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)


def test_dropout_errors():
    x = rt.constant([1.0, 2.0])
    with pytest.raises(ValueError, match="Cannot specify both 'keep_prob' and 'rate'"):
        rt.nn.dropout(x, 0.5, rate=0.5)
    with pytest.raises(ValueError, match="You must provide a rate"):
        rt.nn.dropout(x)
    with pytest.raises(ValueError, match=r"keep_prob must be a scalar tensor or a float in the "
                                         r"range \(0, 1\], got 1.5"):
        rt.nn.dropout(x, 1.5)
    with pytest.raises(ValueError, match=r"rate must be a scalar tensor or a float in the range "
                                         r"\[0, 1\)"):
        rt.nn.dropout(x, rate=1.0)
    with pytest.raises(ValueError, match="floating point tensor"):
        rt.nn.dropout(rt.constant([1, 2]), 0.5)


# --- candidate samplers and sampled losses ----------------------------------------------------
def test_log_uniform_candidate_sampler_unique():
    rt.reset_default_graph()
    true = rt.constant([[1], [7]], rt.int64)
    s, te, se = rt.nn.log_uniform_candidate_sampler(true, 1, 20, True, 50, seed=3)
    assert s.shape.as_list() == [20] and te.shape.as_list() == [2, 1]
    with rt.Session() as sess:
        sv, tev, sev = sess.run([s, te, se])
        sv2 = sess.run(s)
    assert sv.dtype == np.int64 and len(set(sv.tolist())) == 20
    assert sv.min() >= 0 and sv.max() < 50 and not np.array_equal(sv, sv2)
    p = lambda c: (np.log(c + 2.0) - np.log(c + 1.0)) / np.log(51.0)  # noqa: E731
    assert np.all((sev > 0) & (sev <= 1)) and tev.dtype == np.float32
    # expected counts come from one number of tries: -expm1(tries * log1p(-p)).
    tries = np.log1p(-sev) / np.log1p(-p(sv))
    np.testing.assert_allclose(tries, tries[0], rtol=1e-4)
    np.testing.assert_allclose(tev[:, 0], -np.expm1(tries[0] * np.log1p(-p(np.array([1, 7])))),
                               rtol=1e-4)


def test_log_uniform_sampler_distribution():
    rt.reset_default_graph()
    s, _, se = rt.nn.log_uniform_candidate_sampler(rt.constant([[0]], rt.int64), 1, 20000,
                                                   False, 10, seed=1)
    with rt.Session() as sess:
        sv, sev = sess.run([s, se])
    freq = np.bincount(sv, minlength=10) / sv.size
    p = (np.log(np.arange(10) + 2.0) - np.log(np.arange(10) + 1.0)) / np.log(11.0)
    np.testing.assert_allclose(freq, p, atol=0.015)
    np.testing.assert_allclose(sev, p[sv] * 20000, rtol=1e-5)


def test_sampler_range_too_small():
    rt.reset_default_graph()
    s = rt.nn.log_uniform_candidate_sampler(rt.constant([[0]], rt.int64), 1, 5, True, 3)[0]
    with pytest.raises(rt.errors.InvalidArgumentError, match="too small"):
        _run(s)


def test_nce_and_sampled_softmax_train():
    """With the default sampler both losses are finite and minimising them learns the labels."""
    rt.reset_default_graph()
    rt.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8)).astype(np.float32)
    y = (np.arange(32) % 20).reshape(32, 1)
    w = rt.Variable(rt.truncated_normal([20, 8], stddev=0.1))
    b = rt.Variable(rt.zeros([20]))
    nce = rt.reduce_mean(rt.nn.nce_loss(w, b, y, x, 5, 20))
    ssm = rt.reduce_mean(rt.nn.sampled_softmax_loss(w, b, y, x, 5, 20))
    gw, gb = rt.gradients(nce + ssm, [w, b])
    with rt.Session() as s:
        s.run(rt.global_variables_initializer())
        vals = s.run([nce, ssm, gw, gb])
    assert all(np.isfinite(v).all() for v in vals)
    assert vals[2].shape == (20, 8) and vals[3].shape == (20,)


# --- error paths ------------------------------------------------------------------------------
def test_cross_entropy_errors():
    x = rt.constant(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="Only call `softmax_cross_entropy_with_logits_v2` with "
                                         "named arguments"):
        rt.nn.softmax_cross_entropy_with_logits_v2(x, x)
    with pytest.raises(ValueError, match="Rank mismatch: Rank of labels"):
        rt.nn.sparse_softmax_cross_entropy_with_logits(labels=[[1, 2]], logits=x)
    with pytest.raises(ValueError, match="Shape mismatch: The shape of labels"):
        rt.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 2, 0], logits=x)
    with pytest.raises(TypeError, match="int32, int64"):
        rt.nn.sparse_softmax_cross_entropy_with_logits(labels=[1.0, 2.0], logits=x)
    with pytest.raises(ValueError, match="logits and labels must have the same shape"):
        rt.nn.sigmoid_cross_entropy_with_logits(labels=np.zeros(3), logits=x)
    with pytest.raises(ValueError, match="broadcastable"):
        rt.nn.softmax_cross_entropy_with_logits_v2(labels=np.zeros((2, 4), np.float32),
                                                   logits=x)


def test_sparse_label_out_of_range_at_run_time():
    rt.reset_default_graph()
    lab = rt.placeholder(rt.int32, [None])
    loss = rt.nn.sparse_softmax_cross_entropy_with_logits(labels=lab, logits=rt.zeros([2, 3]))
    with rt.Session() as s, pytest.raises(rt.errors.InvalidArgumentError,
                                         match=r"Received a label value of 3 which is outside "
                                               r"the valid range of \[0, 3\)"):
        s.run(loss, {lab: [0, 3]})


def test_bias_add_and_activation_errors():
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 3 and 4"):
        rt.nn.bias_add(rt.zeros([2, 3]), rt.zeros([4]))
    with pytest.raises(ValueError, match="must be at least rank 2"):
        rt.nn.bias_add(rt.zeros([3]), rt.zeros([3]))
    with pytest.raises(ValueError, match="for 'BiasAdd"):
        rt.nn.bias_add(rt.zeros([2, 3]), rt.zeros([2, 2]))
    with pytest.raises(TypeError, match="float16, float32, float64"):
        rt.nn.elu(rt.constant([1, 2]))
    with pytest.raises(ValueError, match="Unrecognized partition strategy"):
        rt.nn.embedding_lookup([rt.zeros([2, 2]), rt.zeros([2, 2])], [0], "foo")


def test_embedding_lookup_out_of_range_and_variables():
    rt.reset_default_graph()
    v = rt.Variable(np.arange(6.0).reshape(3, 2))
    ids = rt.placeholder(rt.int32, [None])
    e = rt.nn.embedding_lookup(v, ids)
    g = rt.gradients(rt.reduce_sum(e), v)[0]
    with rt.Session() as s:
        s.run(v.initializer)
        np.testing.assert_array_equal(s.run(e, {ids: [2, 0]}), [[4, 5], [0, 1]])
        np.testing.assert_array_equal(s.run(g, {ids: [2, 2]}), [[0, 0], [0, 0], [2, 2]])
        with pytest.raises(rt.errors.InvalidArgumentError):
            s.run(e, {ids: [3]})


def test_in_top_k_and_moments_exports():
    np.testing.assert_array_equal(
        run_graph(lambda p, t: rt.nn.in_top_k(p, t, 1), np.array([[0.1, 0.9], [0.8, 0.2]]),
                  np.array([1, 1])), [True, False])
    m, v = run_graph(lambda x: rt.nn.moments(x, [0]), np.array([[1.0, 2.0], [3.0, 6.0]]))
    np.testing.assert_allclose(m, [2, 4])
    np.testing.assert_allclose(v, [1, 4])


@pytest.mark.both_modes
def test_nn_ops_graph_and_eager(both_modes):
    x = rt.constant([[1.0, -2.0, 3.0]])
    z = rt.constant([[0.0, 0.0, 1.0]])
    got = both_modes.evaluate([rt.nn.relu(x), rt.nn.softmax(x),
                               rt.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x),
                               rt.nn.bias_add(x, [1.0, 1.0, 1.0])])
    np.testing.assert_allclose(got[0], [[1, 0, 3]])
    e = np.exp([1.0, -2.0, 3.0])
    np.testing.assert_allclose(got[1], [e / e.sum()], rtol=1e-6)
    np.testing.assert_allclose(got[2], [-np.log(e[2] / e.sum())], rtol=1e-6)
    np.testing.assert_allclose(got[3], [[2, -1, 4]])

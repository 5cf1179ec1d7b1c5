"""``rt.losses``: each loss against a NumPy formula, weights and every Reduction mode, label
smoothing, the LOSSES / regularization collections and error paths."""

from __future__ import annotations

import numpy as np
import pytest

import rillet as rt
from rillet.test_util import check_gradients

R = rt.losses.Reduction
RNG = np.random.default_rng(0)
LAB = RNG.random((4, 3))
PRED = RNG.random((4, 3))
W_ROW = np.array([[1.0], [0.0], [2.0], [0.5]])
W_ELEM = np.where(RNG.random((4, 3)) < 0.3, 0.0, RNG.random((4, 3)))


@pytest.fixture(autouse=True)
def fresh_graph():
    g = rt.Graph()
    with g.as_default():
        yield g


def _run(t):
    with rt.Session() as s:
        return s.run(t)


def _reduce(losses, weights, reduction):
    w = np.broadcast_to(weights, losses.shape)
    weighted = losses * w
    if reduction == R.NONE:
        return weighted
    total = weighted.sum()
    if reduction == R.SUM:
        return total
    den = {R.MEAN: w.sum(), R.SUM_BY_NONZERO_WEIGHTS: (w != 0).sum(),
           R.SUM_OVER_BATCH_SIZE: losses.size}[reduction]
    return total / den if den else 0.0


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def _huber(e, d=1.0):
    a = np.abs(e)
    return np.where(a <= d, 0.5 * e * e, d * (a - 0.5 * d))


ELEMENTWISE = [
    ("mean_squared_error", rt.losses.mean_squared_error, lambda y, p: (p - y) ** 2),
    ("absolute_difference", rt.losses.absolute_difference, lambda y, p: np.abs(p - y)),
    ("huber_loss", lambda y, p, **kw: rt.losses.huber_loss(y, 3 * p, delta=0.8, **kw),
     lambda y, p: _huber(3 * p - y, 0.8)),
    ("log_loss", rt.losses.log_loss,
     lambda y, p: -y * np.log(p + 1e-7) - (1 - y) * np.log(1 - p + 1e-7)),
    ("hinge_loss", lambda y, p, **kw: rt.losses.hinge_loss(rt.round(y), 4 * p - 2, **kw),
     lambda y, p: np.maximum(1 - (2 * np.round(y) - 1) * (4 * p - 2), 0)),
    ("sigmoid_cross_entropy", lambda y, p, **kw: rt.losses.sigmoid_cross_entropy(y, 5 * p - 2,
                                                                                 **kw),
     lambda y, p: -(y * np.log(_sig(5 * p - 2)) + (1 - y) * np.log(1 - _sig(5 * p - 2)))),
]
REDUCTIONS = [R.SUM_BY_NONZERO_WEIGHTS, R.NONE, R.SUM, R.MEAN, R.SUM_OVER_BATCH_SIZE]


@pytest.mark.parametrize("name,fn,ref", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", [1.0, 2.5, W_ROW, W_ELEM], ids=["1", "2.5", "row", "elem"])
def test_elementwise_losses(name, fn, ref, reduction, weights):
    loss = fn(rt.constant(LAB), rt.constant(PRED), weights=weights, reduction=reduction)
    want = _reduce(ref(LAB, PRED), weights, reduction)
    got = _run(loss)
    assert loss.dtype == rt.float64
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert rt.get_collection(rt.GraphKeys.LOSSES) == [loss]


def test_default_reduction_is_sum_by_nonzero_weights_float32():
    y = rt.constant(LAB.astype(np.float32))
    p = rt.constant(PRED.astype(np.float32))
    loss = rt.losses.mean_squared_error(y, p, weights=W_ELEM.astype(np.float32))
    assert loss.dtype == rt.float32 and loss.shape.as_list() == []
    want = ((PRED - LAB) ** 2 * W_ELEM).sum() / (W_ELEM != 0).sum()
    np.testing.assert_allclose(_run(loss), want, rtol=1e-5)
    # mean over all elements with weights 1.0
    np.testing.assert_allclose(_run(rt.losses.mean_squared_error(y, p)),
                               ((PRED - LAB) ** 2).mean(), rtol=1e-5)


def test_all_zero_weights_give_zero():
    loss = rt.losses.absolute_difference(LAB, PRED, weights=np.zeros((4, 1)))
    assert _run(loss) == 0.0
    assert _run(rt.losses.absolute_difference(LAB, PRED, weights=0.0)) == 0.0


def test_softmax_cross_entropy_with_label_smoothing_and_weights():
    logits = RNG.standard_normal((4, 5))
    onehot = np.eye(5)[[0, 3, 1, 4]]
    w = np.array([1.0, 0.0, 2.0, 1.0])
    loss = rt.losses.softmax_cross_entropy(onehot, logits, weights=w, label_smoothing=0.1)
    smooth = onehot * 0.9 + 0.1 / 5
    per = -(smooth * _log_softmax(logits)).sum(-1)
    np.testing.assert_allclose(_run(loss), (per * w).sum() / 3, rtol=1e-10)
    # no gradient flows into the labels
    lab = rt.constant(onehot)
    assert rt.gradients(rt.losses.softmax_cross_entropy(lab, logits), lab)[0] is None


def test_softmax_cross_entropy_label_smoothing_unknown_classes():
    logits = RNG.standard_normal((2, 3))
    lab_ph = rt.placeholder(rt.float64, [None, None])
    loss = rt.losses.softmax_cross_entropy(lab_ph, logits, label_smoothing=0.3,
                                           reduction=R.NONE)
    with rt.Session() as s:
        got = s.run(loss, {lab_ph: np.eye(3)[[2, 0]]})
    smooth = np.eye(3)[[2, 0]] * 0.7 + 0.1
    np.testing.assert_allclose(got, -(smooth * _log_softmax(logits)).sum(-1), rtol=1e-10)


def test_sparse_softmax_and_sigmoid_smoothing():
    logits = RNG.standard_normal((3, 4))
    labels = np.array([2, 0, 3])
    loss = rt.losses.sparse_softmax_cross_entropy(labels, logits, weights=[1.0, 2.0, 0.0])
    per = -_log_softmax(logits)[np.arange(3), labels]
    np.testing.assert_allclose(_run(loss), (per * [1, 2, 0]).sum() / 2, rtol=1e-10)
    z = np.array([[1.0, 0.0], [0.0, 1.0]])
    x = np.array([[2.0, -1.0], [0.5, 3.0]])
    loss = rt.losses.sigmoid_cross_entropy(z, x, label_smoothing=0.2, reduction=R.SUM)
    zs = z * 0.8 + 0.1
    want = -(zs * np.log(_sig(x)) + (1 - zs) * np.log(1 - _sig(x))).sum()
    np.testing.assert_allclose(_run(loss), want, rtol=1e-10)


def test_cosine_distance():
    a = np.array([[1.0, 0.0], [0.6, 0.8]])
    b = np.array([[0.0, 1.0], [0.6, 0.8]])
    loss = rt.losses.cosine_distance(a, b, axis=1, reduction=R.NONE)
    np.testing.assert_allclose(_run(loss), [[1.0], [0.0]], atol=1e-12)


def test_collections_total_and_regularization_loss():
    assert _run(rt.losses.get_regularization_loss()) == 0.0
    rt.get_variable("w", initializer=np.array([1.0, 2.0]),
                    regularizer=lambda v: 0.5 * rt.reduce_sum(v * v))
    l1 = rt.losses.mean_squared_error([1.0], [3.0])
    l2 = rt.losses.absolute_difference([1.0], [4.0], loss_collection=None)
    l3 = rt.losses.absolute_difference([1.0], [2.0])
    assert rt.losses.get_losses() == [l1, l3]
    rt.losses.add_loss(l2)
    total = rt.losses.get_total_loss()
    no_reg = rt.losses.get_total_loss(add_regularization_losses=False)
    with rt.Session() as s:
        s.run(rt.global_variables_initializer())
        assert s.run(rt.losses.get_regularization_loss()) == pytest.approx(2.5)
        assert s.run(total) == pytest.approx(4 + 3 + 1 + 2.5)
        assert s.run(no_reg) == pytest.approx(8)
    assert total.op.name == "total_loss"


def test_compute_weighted_loss_and_gradient():
    losses = rt.constant(np.array([[1.0, 2.0], [3.0, 4.0]]))
    got = _run(rt.losses.compute_weighted_loss(losses, [[0.0], [1.0]], reduction=R.MEAN))
    assert got == pytest.approx(3.5)
    check_gradients(lambda y, p: rt.losses.huber_loss(y, p, weights=W_ROW), [LAB, PRED * 3],
                    wrt=[0, 1])
    check_gradients(lambda y, p: rt.losses.log_loss(y, p, reduction=R.MEAN), [LAB, PRED],
                    wrt=[1])


def test_loss_errors():
    with pytest.raises(ValueError, match="Invalid Reduction Key foo"):
        rt.losses.mean_squared_error(LAB, PRED, reduction="foo")
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        rt.losses.mean_squared_error(LAB, PRED, weights=np.ones(4))
    with pytest.raises(ValueError, match="incompatible"):
        rt.losses.mean_squared_error(LAB, PRED[:, :2])
    with pytest.raises(ValueError, match="labels must not be None"):
        rt.losses.absolute_difference(None, PRED)
    with pytest.raises(ValueError, match="You must specify 'axis'"):
        rt.losses.cosine_distance(LAB, PRED)
    with pytest.raises(ValueError):
        rt.losses.get_total_loss()  # no losses at all
    assert set(R.all()) == {"none", "weighted_sum", "weighted_mean",
                            "weighted_sum_over_batch_size", "weighted_sum_by_nonzero_weights"}

"""Metrics: Keras-style stateful objects vs NumPy, and TF 1.x streaming metrics."""

import numpy as np
import pytest

import rillet as rt
from rillet import metrics

RNG = np.random.default_rng(0)


def test_accuracies_match_numpy_and_accumulate():
    scores = RNG.normal(size=(50, 4))
    labels = RNG.integers(0, 4, 50)
    onehot = np.eye(4)[labels]
    expect = np.mean(scores.argmax(1) == labels)
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(labels[:20], scores[:20])
    m.update_state(labels[20:, None], scores[20:])  # [batch, 1] labels too
    assert m.result() == pytest.approx(expect)
    assert metrics.CategoricalAccuracy()(onehot, scores) == pytest.approx(expect)
    assert metrics.Accuracy()([1, 2, 3, 4], [1, 2, 0, 4]) == pytest.approx(0.75)
    assert metrics.BinaryAccuracy()([1, 0, 1], [0.9, 0.6, 0.2]) == pytest.approx(1 / 3)
    m.reset_states()
    assert m.result() == 0.0 and m.name == "sparse_categorical_accuracy"


def test_top_k_follows_tf_tie_rule():
    scores = np.array([[0.1, 0.5, 0.5, 0.2], [0.4, 0.3, 0.2, 0.1]])
    labels = np.array([2, 3])
    top2 = metrics.TopKCategoricalAccuracy(k=2)(np.eye(4)[labels], scores)
    assert top2 == pytest.approx(0.5)
    ranks = (scores > scores[np.arange(2), labels][:, None]).sum(1)
    assert metrics.SparseTopKCategoricalAccuracy(k=1)(labels, scores) == \
        pytest.approx(np.mean(ranks < 1))


def test_precision_recall_and_weighted_mean():
    y = np.array([1, 0, 1, 1, 0, 0])
    p = np.array([0.9, 0.8, 0.3, 0.6, 0.1, 0.7])
    pred = p > 0.5
    tp = np.sum(pred & (y == 1))
    assert metrics.Precision()(y, p) == pytest.approx(tp / pred.sum())
    assert metrics.Recall()(y, p) == pytest.approx(tp / y.sum())
    multi = metrics.Precision(thresholds=[0.2, 0.5, 0.85])
    multi.update_state(y, p)
    np.testing.assert_allclose(multi.result(), [3 / 5, 2 / 4, 1 / 1])
    mean = metrics.Mean()
    mean.update_state([1.0, 2.0, 3.0], sample_weight=[1.0, 0.0, 1.0])
    mean.update_state(10.0, sample_weight=2.0)
    assert mean.result() == pytest.approx((1 + 3 + 20) / 4)


def test_auc_approaches_the_pairwise_definition():
    y = RNG.integers(0, 2, 2000)
    s = np.clip(RNG.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    pos, neg = s[y == 1], s[y == 0]
    exact = np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :])
    auc = metrics.AUC(num_thresholds=1000)
    auc.update_state(y[:1000], s[:1000])
    auc.update_state(y[1000:], s[1000:])
    assert auc.result() == pytest.approx(exact, abs=5e-3)
    pr = metrics.AUC(curve="PR")(y, s)
    assert 0.5 < pr <= 1.0
    with pytest.raises(ValueError, match="Invalid curve"):
        metrics.AUC(curve="XY")


def test_keras_metrics_accept_eager_tensors():
    with rt.eager_mode():
        m = metrics.SparseCategoricalAccuracy()
        m.update_state(rt.constant([0, 1]), rt.constant([[0.9, 0.1], [0.8, 0.2]]))
    assert m.result() == pytest.approx(0.5)


def test_get_resolves_names():
    assert isinstance(metrics.get("accuracy", "sparse_categorical_crossentropy"),
                      metrics.SparseCategoricalAccuracy)
    assert isinstance(metrics.get("acc", "categorical_crossentropy"),
                      metrics.CategoricalAccuracy)
    assert isinstance(metrics.get("accuracy", "binary_crossentropy"), metrics.BinaryAccuracy)
    assert metrics.get("mae").name == "mae"
    with pytest.raises(ValueError, match="Unknown metric function: f1"):
        metrics.get("f1")


# --- TF 1.x streaming metrics -------------------------------------------------------------------
@pytest.fixture
def graph():
    with rt.Graph().as_default() as g:
        yield g


def test_streaming_accuracy_uses_local_variables(graph):
    labels = rt.placeholder(rt.int64, [None])
    preds = rt.placeholder(rt.int64, [None])
    acc, update = rt.metrics.accuracy(labels, preds)
    assert [v.op.name for v in rt.local_variables()] == ["accuracy/total", "accuracy/count"]
    assert rt.global_variables() == []
    assert len(rt.get_collection(rt.GraphKeys.METRIC_VARIABLES)) == 2
    with rt.Session() as sess:
        sess.run(rt.local_variables_initializer())
        assert sess.run(acc) == 0.0
        assert sess.run(update, {labels: [1, 2, 3], preds: [1, 2, 0]}) == pytest.approx(2 / 3)
        assert sess.run(update, {labels: [1], preds: [0]}) == pytest.approx(0.5)
        assert sess.run(acc) == pytest.approx(0.5)
        sess.run(rt.local_variables_initializer())  # resets the running totals
        assert sess.run(acc) == 0.0


def test_streaming_mean_precision_recall(graph):
    v = rt.placeholder(rt.float32, [None])
    w = rt.placeholder(rt.float32, [None])
    mean, up_mean = rt.metrics.mean(v, weights=w)
    y = rt.placeholder(rt.bool, [None])
    p = rt.placeholder(rt.bool, [None])
    prec, up_prec = rt.metrics.precision(y, p)
    rec, up_rec = rt.metrics.recall(y, p)
    mse, up_mse = rt.metrics.mean_squared_error(v, w)
    with rt.Session() as sess:
        sess.run(rt.local_variables_initializer())
        sess.run([up_mean, up_mse], {v: [1.0, 2.0, 4.0], w: [1.0, 0.0, 3.0]})
        yv, pv = [True, True, False, True], [True, False, True, True]
        sess.run([up_prec, up_rec], {y: yv, p: pv})
        assert sess.run(mean) == pytest.approx((1 + 12) / 4)
        assert sess.run(mse) == pytest.approx((0 + 4 + 1) / 3)
        assert sess.run(prec) == pytest.approx(2 / 3)
        assert sess.run(rec) == pytest.approx(2 / 3)

"""Tests for rillet.meters against NumPy / hand computations."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

from rillet.meters import (
    AUCMeter,
    AverageValueMeter,
    ClassErrorMeter,
    ConfusionMeter,
    MovingAverageValueMeter,
    TimeMeter,
)


class Eager:
    """Something with ``.numpy()`` (like an eager tensor)."""

    def __init__(self, value: np.ndarray):
        self._value = np.asarray(value)

    def numpy(self) -> np.ndarray:
        return self._value


class ArrayLike:
    """Something with ``__array__`` only."""

    def __init__(self, value: np.ndarray):
        self._value = np.asarray(value)

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        return self._value if dtype is None else self._value.astype(dtype)


class TestAverageValueMeter:
    def test_matches_numpy(self) -> None:
        values = np.random.default_rng(0).normal(3.0, 2.0, size=50)
        m = AverageValueMeter()
        for v in values:
            m.add(float(v))
        mean, std = m.value()
        assert mean == pytest.approx(values.mean())
        assert std == pytest.approx(values.std(ddof=1))
        assert m.mean == pytest.approx(values.mean()) and m.n == 50

    def test_empty_and_single(self) -> None:
        m = AverageValueMeter()
        mean, std = m.value()
        assert math.isnan(mean) and math.isnan(std)
        m.add(4.0)
        assert m.value() == (4.0, math.inf)

    def test_n_means_value_is_a_sum(self) -> None:
        m = AverageValueMeter()
        m.add(6.0, n=3)  # three samples summing to 6
        m.add(2.0, n=1)
        assert m.value()[0] == pytest.approx(8.0 / 4)
        # frequency-weighted: equivalent to observations [2, 2, 2, 2]
        assert m.value()[1] == pytest.approx(0.0)
        m2 = AverageValueMeter()
        m2.add(9.0, n=3)
        m2.add(1.0, n=1)
        assert m2.value()[1] == pytest.approx(np.std([3, 3, 3, 1], ddof=1))

    def test_tensor_like_and_arrays(self) -> None:
        m = AverageValueMeter()
        m.add(Eager(np.array(1.0)))
        m.add(ArrayLike(np.array(3.0)))
        assert m.value() == (2.0, pytest.approx(np.std([1, 3], ddof=1)))
        v = AverageValueMeter()
        rows = np.arange(12.0).reshape(4, 3)
        for r in rows:
            v.add(r)
        mean, std = v.value()
        np.testing.assert_allclose(mean, rows.mean(0))
        np.testing.assert_allclose(std, rows.std(0, ddof=1))

    def test_reset(self) -> None:
        m = AverageValueMeter()
        m.add(5.0)
        m.reset()
        assert m.n == 0 and math.isnan(m.value()[0])
        with pytest.raises(ValueError):
            m.add(1.0, n=0)


class TestMovingAverageValueMeter:
    def test_window(self) -> None:
        values = [1.0, 5.0, 2.0, 8.0, 3.0]
        m = MovingAverageValueMeter(3)
        assert m.value() == (0.0, 0.0)
        for i, v in enumerate(values):
            m.add(v)
            window = values[max(0, i - 2): i + 1]
            mean, std = m.value()
            assert mean == pytest.approx(np.mean(window))
            expected_std = np.std(window, ddof=1) if len(window) > 1 else 0.0
            assert std == pytest.approx(expected_std)
        m.reset()
        assert m.value() == (0.0, 0.0)

    def test_bad_window(self) -> None:
        with pytest.raises(ValueError):
            MovingAverageValueMeter(0)


def topk_error_bruteforce(scores: np.ndarray, target: np.ndarray, k: int) -> float:
    wrong = 0
    for s, t in zip(scores, target):
        # rank = number of classes scoring strictly higher, ties broken by lower index first
        better = sum(1 for j in range(len(s)) if s[j] > s[t] or (s[j] == s[t] and j < t))
        wrong += better >= k
    return 100.0 * wrong / len(target)


class TestClassErrorMeter:
    def test_topk_against_bruteforce(self) -> None:
        rng = np.random.default_rng(1)
        m = ClassErrorMeter(topk=[1, 3, 5])
        all_s, all_t = [], []
        for _ in range(4):
            s = rng.normal(size=(25, 10))
            t = rng.integers(0, 10, size=25)
            m.add(s, t)
            all_s.append(s)
            all_t.append(t)
        s, t = np.concatenate(all_s), np.concatenate(all_t)
        for k in (1, 3, 5):
            assert m.value(k) == pytest.approx(topk_error_bruteforce(s, t, k))
        assert m.value() == [m.value(1), m.value(3), m.value(5)]
        top1 = 100.0 * np.mean(s.argmax(1) != t)
        assert m.value(1) == pytest.approx(top1)

    def test_hand_example_and_accuracy(self) -> None:
        scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
        target = np.array([1, 1, 0, 2])
        err = ClassErrorMeter(topk=[1, 2])
        err.add(scores, target)
        assert err.value(1) == pytest.approx(75.0)  # only sample 0 is right at top-1
        assert err.value(2) == pytest.approx(50.0)  # samples 0 and 1 at top-2
        acc = ClassErrorMeter(topk=[1], accuracy=True)
        acc.add(Eager(scores), Eager(target))
        assert acc.value(1) == pytest.approx(25.0)

    def test_target_forms(self) -> None:
        scores = np.eye(3)
        for target in (np.arange(3), np.arange(3)[:, None], np.eye(3)):
            m = ClassErrorMeter()
            m.add(scores, target)
            assert m.value(1) == 0.0
        single = ClassErrorMeter()
        single.add(np.array([0.1, 0.9]), 1)
        assert single.value(1) == 0.0

    def test_errors(self) -> None:
        m = ClassErrorMeter(topk=[1])
        assert math.isnan(m.value(1))
        with pytest.raises(ValueError):
            m.value(2)
        with pytest.raises(ValueError):
            m.add(np.zeros((3, 4)), np.zeros(2))
        with pytest.raises(ValueError):
            ClassErrorMeter(topk=[5]).add(np.zeros((2, 3)), np.zeros(2))


class TestConfusionMeter:
    def test_labels_and_scores(self) -> None:
        pred = np.array([0, 1, 2, 2, 1, 0])
        target = np.array([0, 1, 1, 2, 1, 2])
        expected = np.zeros((3, 3), np.int64)
        for p, t in zip(pred, target):
            expected[t, p] += 1
        m = ConfusionMeter(3)
        m.add(pred, target)
        np.testing.assert_array_equal(m.value(), expected)
        scores = np.eye(3)[pred] * 0.8 + 0.05
        m2 = ConfusionMeter(3)
        m2.add(scores, np.eye(3)[target])  # scores and one-hot targets
        np.testing.assert_array_equal(m2.value(), expected)
        m.add(pred, target)
        np.testing.assert_array_equal(m.value(), 2 * expected)
        m.reset()
        assert m.value().sum() == 0

    def test_normalized(self) -> None:
        m = ConfusionMeter(3, normalized=True)
        m.add(np.array([0, 1, 1, 0]), np.array([0, 0, 1, 1]))
        np.testing.assert_allclose(m.value(), [[0.5, 0.5, 0], [0.5, 0.5, 0], [0, 0, 0]])

    def test_errors(self) -> None:
        m = ConfusionMeter(2)
        with pytest.raises(ValueError):
            m.add(np.array([0, 2]), np.array([0, 1]))
        with pytest.raises(ValueError):
            m.add(np.array([0, 1]), np.array([0]))
        with pytest.raises(ValueError):
            m.add(np.zeros((2, 3)), np.array([0, 1]))


def auc_bruteforce(scores: np.ndarray, targets: np.ndarray) -> float:
    pos = scores[targets == 1]
    neg = scores[targets == 0]
    total = 0.0
    for p, n in itertools.product(pos, neg):
        total += 1.0 if p > n else 0.5 if p == n else 0.0
    return total / (len(pos) * len(neg))


class TestAUCMeter:
    @pytest.mark.parametrize("seed", range(5))
    def test_against_pairwise(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        scores = rng.normal(size=200)
        targets = (rng.random(200) < 0.4).astype(int)
        scores[targets == 1] += 0.7
        m = AUCMeter()
        m.add(scores[:120], targets[:120])
        m.add(Eager(scores[120:]), targets[120:])
        auc, tpr, fpr = m.value()
        assert auc == pytest.approx(auc_bruteforce(scores, targets))
        assert tpr[0] == fpr[0] == 0 and tpr[-1] == fpr[-1] == 1
        assert np.all(np.diff(tpr) >= 0) and np.all(np.diff(fpr) >= 0)

    def test_ties(self) -> None:
        scores = np.round(np.random.default_rng(3).random(300), 1)  # many ties
        targets = (np.random.default_rng(4).random(300) < 0.5).astype(int)
        m = AUCMeter()
        m.add(scores, targets)
        assert m.value()[0] == pytest.approx(auc_bruteforce(scores, targets))

    def test_hand_example(self) -> None:
        m = AUCMeter()
        m.add(np.array([0.9, 0.8, 0.8, 0.1]), np.array([1, 0, 1, 0]))
        auc, tpr, fpr = m.value()
        assert auc == pytest.approx(0.875)
        np.testing.assert_allclose(tpr, [0, 0.5, 1, 1])
        np.testing.assert_allclose(fpr, [0, 0, 0.5, 1])

    def test_perfect_and_degenerate(self) -> None:
        m = AUCMeter()
        assert m.value()[0] == 0.5
        m.add(np.array([0.9, 0.8, 0.2]), np.array([1, 1, 0]))
        assert m.value()[0] == 1.0
        only_pos = AUCMeter()
        only_pos.add(np.array([0.3, 0.4]), np.array([1, 1]))
        assert math.isnan(only_pos.value()[0])
        with pytest.raises(ValueError):
            m.add(np.array([0.5]), np.array([2]))
        with pytest.raises(ValueError):
            m.add(np.array([0.5, 0.1]), np.array([1]))
        m.reset()
        assert m.scores.size == 0


class TestTimeMeter:
    def test_elapsed_and_per_unit(self) -> None:
        t = TimeMeter()
        time.sleep(0.02)
        assert 0.015 <= t.value() < 1.0
        u = TimeMeter(unit=True)
        assert math.isnan(u.value())
        time.sleep(0.02)
        u.add(4)
        per = u.value()
        assert 0.015 / 4 <= per < 1.0 / 4
        u.reset()
        assert u.n == 0 and t.value() > u.time - t.time

"""Random ops: TensorFlow's seed rules, distributions, shapes, and the ``rt.random``
namespace."""

from __future__ import annotations

import numpy as np
import pytest

import rillet as rt


def _run_fresh(build, runs: int = 1, graph_seed: int | None = None) -> list:
    """Builds ``build()`` in a fresh graph and runs it ``runs`` times in one new Session."""
    g = rt.Graph()
    with g.as_default():
        if graph_seed is not None:
            rt.set_random_seed(graph_seed)
        t = build()
        with rt.Session(graph=g) as sess:
            return [sess.run(t) for _ in range(runs)]


PROGRAMS = {
    "normal": lambda seed: rt.random_normal([3, 2], seed=seed),
    "truncated": lambda seed: rt.truncated_normal([4], stddev=2.0, seed=seed),
    "uniform": lambda seed: rt.random_uniform([5], -1.0, 1.0, seed=seed),
    "uniform_int": lambda seed: rt.random_uniform([5], 0, 100, dtype=rt.int64, seed=seed),
    "shuffle": lambda seed: rt.random_shuffle(rt.range(20), seed=seed),
    "multinomial": lambda seed: rt.multinomial(rt.zeros([2, 10]), 6, seed=seed),
    "crop": lambda seed: rt.random_crop(rt.reshape(rt.range(100), [10, 10]), [3, 3],
                                        seed=seed),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_op_seed_gives_same_numbers_in_fresh_graphs(name):
    a = _run_fresh(lambda: PROGRAMS[name](7))[0]
    b = _run_fresh(lambda: PROGRAMS[name](7))[0]
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", PROGRAMS)
def test_graph_seed_alone_makes_program_deterministic(name):
    def program():
        return [PROGRAMS[name](None), PROGRAMS[name](None)]
    a = _run_fresh(program, runs=2, graph_seed=123)
    b = _run_fresh(program, runs=2, graph_seed=123)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x[0], y[0])
        np.testing.assert_array_equal(x[1], y[1])
    assert not np.array_equal(a[0][0], a[0][1]), "two ops of one graph drew the same numbers"


@pytest.mark.parametrize("name", PROGRAMS)
def test_each_run_in_one_session_gives_new_numbers(name):
    first, second = _run_fresh(lambda: PROGRAMS[name](7), runs=2)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("name", ["normal", "uniform", "shuffle"])
def test_no_seed_differs_between_graphs(name):
    a = _run_fresh(lambda: PROGRAMS[name](None))[0]
    b = _run_fresh(lambda: PROGRAMS[name](None))[0]
    assert not np.array_equal(a, b)


def test_two_sessions_on_one_graph_repeat_the_sequence():
    g = rt.Graph()
    with g.as_default():
        t = rt.random_uniform([4], seed=3)
        with rt.Session(graph=g) as s1, rt.Session(graph=g) as s2:
            a = [s1.run(t), s1.run(t)]
            b = [s2.run(t), s2.run(t)]
    np.testing.assert_array_equal(a, b)


def test_different_op_seeds_differ():
    a = _run_fresh(lambda: rt.random_normal([5], seed=1))[0]
    b = _run_fresh(lambda: rt.random_normal([5], seed=2))[0]
    assert not np.array_equal(a, b)


def test_random_namespace():
    assert rt.random.normal is rt.random_normal
    assert rt.random.uniform is rt.random_uniform
    assert rt.random.truncated_normal is rt.truncated_normal
    assert rt.random.shuffle is rt.random_shuffle
    assert rt.random.set_seed is rt.set_random_seed
    out = _run_fresh(lambda: rt.random.categorical(rt.zeros([3, 4]), 5, dtype=rt.int32))[0]
    assert out.shape == (3, 5) and out.dtype == np.int32


# --- distributions and shapes -----------------------------------------------------------------
def test_normal_moments_and_dtype():
    g = rt.Graph()
    with g.as_default():
        t = rt.random_normal([20000], mean=2.0, stddev=3.0, dtype=rt.float64, seed=1)
        assert t.shape.as_list() == [20000] and t.dtype is rt.float64
        v = rt.Session(graph=g).run(t)
    assert v.dtype == np.float64
    assert abs(v.mean() - 2.0) < 0.1 and abs(v.std() - 3.0) < 0.1


def test_truncated_normal_stays_within_two_stddevs():
    v = _run_fresh(lambda: rt.truncated_normal([5000], mean=1.0, stddev=0.5, seed=2))[0]
    assert v.dtype == np.float32
    assert v.min() >= 1.0 - 1.0 - 1e-6 and v.max() <= 1.0 + 1.0 + 1e-6
    assert abs(v.std() - 0.5 * 0.8796) < 0.02  # std of N(0,1) truncated at +-2


def test_uniform_ranges():
    f = _run_fresh(lambda: rt.random_uniform([2, 1000], -3.0, -1.0, seed=4))[0]
    assert f.shape == (2, 1000) and f.min() >= -3.0 and f.max() < -1.0
    i = _run_fresh(lambda: rt.random_uniform([1000], 2, 5, dtype=rt.int32, seed=4))[0]
    assert i.dtype == np.int32 and set(np.unique(i)) == {2, 3, 4}
    with pytest.raises(ValueError, match="maxval"):
        rt.random_uniform([2], dtype=rt.int32)


def test_random_shapes_from_tensors_and_unknown_dims():
    g = rt.Graph()
    with g.as_default():
        x = rt.placeholder(rt.float32, [None, 3])
        t = rt.random_normal(rt.shape(x))
        assert t.shape.as_list() == [None, 3]
        u = rt.random_uniform([rt.shape(x)[0], 2])
        assert u.shape.as_list() == [None, 2]
        with rt.Session(graph=g) as sess:
            a, b = sess.run([t, u], {x: np.zeros((4, 3))})
    assert a.shape == (4, 3) and b.shape == (4, 2)


def test_shuffle_is_a_permutation_of_rows():
    x = np.arange(12).reshape(6, 2)
    v = _run_fresh(lambda: rt.random_shuffle(rt.constant(x), seed=5))[0]
    assert v.shape == (6, 2)
    assert sorted(map(tuple, v.tolist())) == sorted(map(tuple, x.tolist()))
    assert (v[:, 1] - v[:, 0] == 1).all()  # rows move whole


def test_multinomial_frequencies_follow_softmax():
    with np.errstate(divide="ignore"):
        logits = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]]))
    v = _run_fresh(lambda: rt.multinomial(rt.constant(logits), 20000, seed=6))[0]
    assert v.shape == (2, 20000) and v.dtype == np.int64
    freq0 = np.bincount(v[0], minlength=3) / 20000
    np.testing.assert_allclose(freq0, [0.1, 0.2, 0.7], atol=0.02)
    assert set(np.unique(v[1])) <= {0, 1}  # probability 0 (-inf logit) is never drawn


def test_random_crop_is_a_window():
    x = np.arange(60).reshape(6, 10)
    for seed in range(5):
        v = _run_fresh(lambda s=seed: rt.random_crop(rt.constant(x), [3, 4], seed=s))[0]
        assert v.shape == (3, 4)
        r, c = divmod(int(v[0, 0]), 10)
        np.testing.assert_array_equal(v, x[r:r + 3, c:c + 4])
    with pytest.raises(rt.errors.InvalidArgumentError, match="shape >= size"):
        _run_fresh(lambda: rt.random_crop(rt.constant(x), [7, 2]))


def test_random_ops_in_eager_mode():
    with rt.eager_mode():
        a = rt.random_normal([3], seed=1).numpy()
        b = rt.random_normal([3], seed=1).numpy()
        assert a.shape == (3,) and not np.array_equal(a, b)  # eager: a new draw each call
        s = rt.random_shuffle(rt.constant([1, 2, 3, 4])).numpy()
        assert sorted(s.tolist()) == [1, 2, 3, 4]
        m = rt.multinomial(rt.constant([[0.0, 0.0]]), 4).numpy()
        assert m.shape == (1, 4)

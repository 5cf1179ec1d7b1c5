"""Graph-mode iterators over rillet.data datasets (TF 1.x tf.data.Iterator)."""

import numpy as np
import pytest

import rillet as rt
from rillet.data import Dataset, graph_iterator


@pytest.fixture(autouse=True)
def _graph():
    with rt.Graph().as_default() as g:
        yield g


def test_one_shot_iterator_yields_all_then_out_of_range():
    ds = Dataset.from_tensor_slices((np.arange(5.0), np.arange(5) * 10)).batch(2)
    x, y = ds.make_one_shot_iterator().get_next()
    assert (x.dtype, y.dtype) == (rt.float64, rt.int64)
    assert x.shape.as_list() == [None] and y.shape.as_list() == [None]
    got = []
    with rt.Session() as sess:
        for _ in range(3):
            got.append(sess.run([x, y]))
        with pytest.raises(rt.errors.OutOfRangeError, match="End of sequence"):
            sess.run(x)
        with pytest.raises(rt.errors.OutOfRangeError):  # stays exhausted
            sess.run(y)
    np.testing.assert_array_equal(np.concatenate([a for a, _ in got]), np.arange(5.0))
    np.testing.assert_array_equal(got[2][1], [40])


def test_initializable_iterator_reinitialized_with_new_feed():
    p = rt.placeholder(rt.float32, [None])
    it = Dataset.from_tensor_slices(p).map(lambda v: v * 2).make_initializable_iterator()
    nxt = it.get_next()
    with rt.Session() as sess:
        with pytest.raises(rt.errors.FailedPreconditionError, match="not been initialized"):
            sess.run(nxt)
        sess.run(it.initializer, {p: [1.0, 2.0, 3.0]})
        assert [sess.run(nxt) for _ in range(2)] == [2.0, 4.0]
        sess.run(it.initializer, {p: [10.0]})  # restarts with the new data
        assert sess.run(nxt) == 20.0
        with pytest.raises(rt.errors.OutOfRangeError, match="End of sequence"):
            sess.run(nxt)


def test_initializer_needs_its_placeholder_fed():
    p = rt.placeholder(rt.int64, [None])
    it = rt.data.make_initializable_iterator(Dataset.from_tensor_slices(p))
    with rt.Session() as sess, pytest.raises(rt.errors.InvalidArgumentError,
                                              match="must feed a value for placeholder"):
        sess.run(it.initializer)


def test_dict_elements_keep_structure():
    ds = Dataset.from_tensor_slices({"img": np.zeros((4, 2, 2), np.float32),
                                     "label": np.arange(4, dtype=np.int32)}).batch(4)
    el = rt.compat.v1.data.make_one_shot_iterator(ds).get_next()
    assert set(el) == {"img", "label"}
    assert el["img"].shape.as_list() == [None, 2, 2]
    with rt.Session() as sess:
        out = sess.run(el)
    assert out["img"].shape == (4, 2, 2) and out["label"].tolist() == [0, 1, 2, 3]


def test_sessions_iterate_independently():
    nxt = Dataset.range(3).make_one_shot_iterator().get_next()
    with rt.Session() as a, rt.Session() as b:
        assert [a.run(nxt), a.run(nxt), b.run(nxt)] == [0, 1, 0]


def test_reinitializable_iterator_switches_datasets():
    train = Dataset.range(0, 3)
    test = Dataset.range(100, 102)
    it = rt.data.Iterator.from_structure(train.output_types, train.output_shapes)
    nxt = it.get_next()
    init_train, init_test = it.make_initializer(train), it.make_initializer(test)
    with rt.Session() as sess:
        sess.run(init_train)
        assert sess.run(nxt) == 0
        sess.run(init_test)
        assert [sess.run(nxt), sess.run(nxt)] == [100, 101]
    with pytest.raises(TypeError, match="Expected output types"):
        it.make_initializer(Dataset.from_tensor_slices(np.zeros(2, np.float32)))


def test_one_shot_iterator_refuses_captured_placeholder():
    p = rt.placeholder(rt.float32, [None], name="data")
    with pytest.raises(ValueError, match="Cannot capture a placeholder .*data"):
        Dataset.from_tensor_slices(p).make_one_shot_iterator()


def test_graph_seed_makes_unseeded_shuffle_deterministic():
    # Other tests may install their own resolver; rillet installs this one at import.
    rt.data.set_seed_resolver(graph_iterator._resolve_seed)

    def order() -> list:
        with rt.Graph().as_default():
            rt.set_random_seed(7)
            nxt = Dataset.range(20).shuffle(20).make_one_shot_iterator().get_next()
            with rt.Session() as sess:
                return [int(sess.run(nxt)) for _ in range(20)]
    first = order()
    assert first == order() and sorted(first) == list(range(20)) and first != list(range(20))


def test_training_loop_consumes_iterator_until_end():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    ds = Dataset.from_tensor_slices(x).batch(4).repeat(2)
    batch = ds.make_one_shot_iterator().get_next()
    total = rt.reduce_sum(batch)
    seen = 0.0
    with rt.Session() as sess:
        while True:
            try:
                seen += sess.run(total)
            except rt.errors.OutOfRangeError:
                break
    assert seen == 2 * x.sum()

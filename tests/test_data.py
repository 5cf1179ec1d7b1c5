"""Tests for rillet.data: sources, transformations, specs, prefetch threads, errors."""

from __future__ import annotations

import collections
import gc
import gzip
import threading
import time
from typing import Any

import numpy as np
import pytest

from rillet import errors
from rillet.data import (
    AUTOTUNE,
    Dataset,
    TensorSpec,
    TextLineDataset,
    experimental,
    register_symbolic_type,
    set_seed_resolver,
)
from rillet.data import dataset as dataset_module

Point = collections.namedtuple("Point", ["x", "y"])


def as_list(ds: Dataset) -> list[Any]:
    return list(ds)


def ints(ds: Dataset) -> list[int]:
    return [int(x) for x in ds]


def prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("rillet-prefetch")]


def map_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("rillet-map")]


def wait_until(cond: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


# ----------------------------------------------------------------------------------------------
# sources
# ----------------------------------------------------------------------------------------------


class TestFromTensorSlices:
    def test_array(self) -> None:
        x = np.arange(12).reshape(4, 3)
        out = as_list(Dataset.from_tensor_slices(x))
        assert len(out) == 4
        for i, row in enumerate(out):
            np.testing.assert_array_equal(row, x[i])

    def test_1d_gives_numpy_scalars(self) -> None:
        out = as_list(Dataset.from_tensor_slices(np.array([1.5, 2.5])))
        assert all(isinstance(v, np.float64) for v in out)
        assert out == [1.5, 2.5]

    def test_tuple_dict_namedtuple(self) -> None:
        a, b = np.arange(3), np.arange(6).reshape(3, 2)
        tup = as_list(Dataset.from_tensor_slices((a, b)))
        assert isinstance(tup[1], tuple) and int(tup[1][0]) == 1
        np.testing.assert_array_equal(tup[2][1], [4, 5])

        dct = as_list(Dataset.from_tensor_slices({"a": a, "b": b}))
        assert set(dct[0]) == {"a", "b"} and int(dct[2]["a"]) == 2

        nt = as_list(Dataset.from_tensor_slices(Point(a, b)))
        assert isinstance(nt[0], Point) and int(nt[1].x) == 1

    def test_python_lists_and_default_dtypes(self) -> None:
        floats = Dataset.from_tensor_slices([1.0, 2.0])
        assert floats.output_types == np.float32
        assert [type(v) for v in floats] == [np.float32, np.float32]
        assert Dataset.from_tensor_slices([1, 2, 3]).output_types == np.int32
        assert Dataset.from_tensor_slices([2**40, 1]).output_types == np.int64
        assert Dataset.from_tensor_slices([True, False]).output_types == np.bool_
        assert Dataset.from_tensor_slices(np.arange(3.0)).output_types == np.float64

    def test_strings(self) -> None:
        ds = Dataset.from_tensor_slices(["ab", "c"])
        assert as_list(ds) == [b"ab", b"c"]
        assert ds.output_types == np.dtype(object)
        assert ds.output_shapes == ()
        batched = as_list(ds.batch(2))[0]
        assert batched.dtype == object and list(batched) == [b"ab", b"c"]

    def test_objects_with_numpy_method(self) -> None:
        class Eager:
            def __init__(self, v: np.ndarray):
                self._v = v

            def numpy(self) -> np.ndarray:
                return self._v

        out = as_list(Dataset.from_tensor_slices(Eager(np.array([4, 5]))))
        assert ints(Dataset.from_tensor_slices(Eager(np.array([4, 5])))) == [4, 5]
        assert len(out) == 2

    def test_mismatched_first_dims(self) -> None:
        with pytest.raises(ValueError) as info:
            Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
        assert "3" in str(info.value) and "4" in str(info.value)

    def test_scalar_component(self) -> None:
        with pytest.raises(ValueError, match="rank"):
            Dataset.from_tensor_slices((np.zeros(3), 5))

    def test_ragged_list_is_rejected(self) -> None:
        with pytest.raises(ValueError):
            Dataset.from_tensor_slices([[1, 2], [3]])

    def test_elements_are_read_only_views(self) -> None:
        x = np.zeros((2, 3))
        row = next(iter(Dataset.from_tensor_slices(x)))
        with pytest.raises(ValueError):
            row += 1
        x[0, 0] = 7  # the caller's array stays writable
        assert x[0, 0] == 7

    def test_cardinality_and_len(self) -> None:
        ds = Dataset.from_tensor_slices(np.zeros((5, 2)))
        assert ds.cardinality() == 5 and len(ds) == 5
        assert ds.element_spec == TensorSpec((2,), np.float64)


def test_from_tensors() -> None:
    ds = Dataset.from_tensors((np.arange(3), 7))
    out = as_list(ds)
    assert len(out) == 1 and int(out[0][1]) == 7
    np.testing.assert_array_equal(out[0][0], [0, 1, 2])
    assert ds.output_shapes == ((3,), ())
    assert ds.output_types == (np.dtype(np.int64), np.dtype(np.int32))
    assert len(ds) == 1


class TestRange:
    @pytest.mark.parametrize("args", [(5,), (2, 7), (1, 10, 3), (10, 0, -2), (3, 3), (5, 0)])
    def test_like_python(self, args: tuple[int, ...]) -> None:
        ds = Dataset.range(*args)
        assert ints(ds) == list(range(*args))
        assert ds.cardinality() == len(range(*args))

    def test_dtype(self) -> None:
        ds = Dataset.range(3)
        assert all(isinstance(v, np.int64) for v in ds)
        assert ds.element_spec == TensorSpec((), np.int64)
        assert Dataset.range(3, dtype=np.float32).output_types == np.float32

    def test_zero_step(self) -> None:
        with pytest.raises(ValueError):
            Dataset.range(0, 5, 0)


class TestZipConcatenate:
    def test_zip_tuple(self) -> None:
        ds = Dataset.zip((Dataset.range(3), Dataset.range(10, 20)))
        assert [(int(a), int(b)) for a, b in ds] == [(0, 10), (1, 11), (2, 12)]
        assert ds.cardinality() == 3

    def test_zip_varargs_and_dict(self) -> None:
        ds = Dataset.zip(Dataset.range(2), Dataset.range(5))
        assert len(as_list(ds)) == 2
        d = Dataset.zip({"a": Dataset.range(2), "b": Dataset.from_tensor_slices([b"x", b"y"])})
        assert [(int(e["a"]), e["b"]) for e in d] == [(0, b"x"), (1, b"y")]

    def test_zip_infinite(self) -> None:
        ds = Dataset.zip((Dataset.range(3).repeat(), Dataset.range(4)))
        assert ds.cardinality() == 4
        infinite = Dataset.zip((Dataset.range(3).repeat(),))
        assert infinite.cardinality() == experimental.INFINITE_CARDINALITY

    def test_zip_rejects_non_datasets(self) -> None:
        with pytest.raises(TypeError):
            Dataset.zip((Dataset.range(3), [1, 2]))

    def test_concatenate(self) -> None:
        ds = Dataset.range(3).concatenate(Dataset.range(10, 12))
        assert ints(ds) == [0, 1, 2, 10, 11]
        assert ds.cardinality() == 5

    def test_concatenate_merges_shapes(self) -> None:
        a = Dataset.from_tensors(np.zeros(2))
        b = Dataset.from_tensors(np.zeros(3))
        assert a.concatenate(b).output_shapes == (None,)

    def test_concatenate_incompatible(self) -> None:
        a = Dataset.range(3)
        b = Dataset.from_tensor_slices(np.zeros(3, np.float32))
        with pytest.raises(TypeError):
            _ = a.concatenate(b).element_spec


class TestFromGenerator:
    def test_basic_and_rerun(self) -> None:
        calls = []

        def gen() -> Any:
            calls.append(1)
            yield from range(3)

        ds = Dataset.from_generator(gen, output_types=np.int64, output_shapes=())
        assert ints(ds) == [0, 1, 2]
        assert ints(ds) == [0, 1, 2]
        assert len(calls) == 2
        assert ds.cardinality() == experimental.UNKNOWN_CARDINALITY
        with pytest.raises(TypeError, match="unknown"):
            len(ds)

    def test_structures_and_conversion(self) -> None:
        def gen() -> Any:
            for i in range(3):
                yield [i] * (i + 1), float(i)  # lists become arrays, float -> float32

        ds = Dataset.from_generator(
            gen, output_types=("int32", "float32"), output_shapes=([None], [])
        )
        out = as_list(ds)
        assert out[2][0].dtype == np.int32 and list(out[2][0]) == [2, 2, 2]
        assert isinstance(out[1][1], np.float32)
        assert ds.output_shapes == ((None,), ())

    def test_dict_output(self) -> None:
        def gen() -> Any:
            yield {"a": 1, "b": "s"}

        ds = Dataset.from_generator(gen, output_types={"a": np.int64, "b": str})
        (elem,) = as_list(ds)
        assert elem == {"a": 1, "b": b"s"} and isinstance(elem["a"], np.int64)

    def test_duck_typed_dtype(self) -> None:
        class FakeDType:
            as_numpy_dtype = np.float32

        ds = Dataset.from_generator(lambda: iter([1, 2]), output_types=FakeDType())
        assert ds.output_types == np.float32
        assert [type(v) for v in ds] == [np.float32, np.float32]

    def test_output_signature(self) -> None:
        sig = (TensorSpec((2,), np.float32), TensorSpec((), np.int64))
        ds = Dataset.from_generator(lambda: iter([(np.zeros(2), 1)]), output_signature=sig)
        assert ds.element_spec == sig
        assert as_list(ds)[0][0].dtype == np.float32

    def test_args(self) -> None:
        def gen(n: int, word: bytes) -> Any:
            for i in range(int(n)):
                yield word * (i + 1)

        ds = Dataset.from_generator(gen, output_types=object, args=(3, "ab"))
        assert as_list(ds) == [b"ab", b"abab", b"ababab"]

    def test_inferred_without_types(self) -> None:
        ds = Dataset.from_generator(lambda: ((i, np.ones(i)) for i in range(1, 4)))
        spec = ds.element_spec
        assert spec[0] == TensorSpec((), np.int32)
        assert spec[1] == TensorSpec((None,), np.float64)  # two probes differ in length

    def test_wrong_dtype(self) -> None:
        ds = Dataset.from_generator(lambda: iter([1, 2.5]), output_types=np.int64)
        it = iter(ds)
        assert next(it) == 1
        with pytest.raises(TypeError, match="expected type was int64") as info:
            next(it)
        assert isinstance(info.value, errors.InvalidArgumentError)

    def test_lossless_float_to_int_is_fine(self) -> None:
        ds = Dataset.from_generator(lambda: iter([1.0, 2.0]), output_types=np.int64)
        assert ints(ds) == [1, 2]

    def test_string_for_number(self) -> None:
        ds = Dataset.from_generator(lambda: iter(["x"]), output_types=np.float32)
        with pytest.raises(TypeError):
            as_list(ds)

    def test_wrong_shape(self) -> None:
        ds = Dataset.from_generator(
            lambda: iter([np.zeros(2), np.zeros(3)]), output_types=np.float64, output_shapes=[2]
        )
        it = iter(ds)
        next(it)
        with pytest.raises(ValueError, match=r"shape \(3,\) where an element of shape \(2,\)") as e:
            next(it)
        assert isinstance(e.value, errors.InvalidArgumentError)

    def test_wrong_rank(self) -> None:
        ds = Dataset.from_generator(
            lambda: iter([np.zeros((2, 2))]), output_types=np.float64, output_shapes=[None]
        )
        with pytest.raises(ValueError, match="shape"):
            as_list(ds)

    def test_wrong_structure(self) -> None:
        ds = Dataset.from_generator(lambda: iter([(1, 2, 3)]), output_types=(np.int64, np.int64))
        with pytest.raises(ValueError, match="structure"):
            as_list(ds)

    def test_needs_callable(self) -> None:
        with pytest.raises(TypeError, match="callable"):
            Dataset.from_generator(iter([1, 2]), output_types=np.int64)  # type: ignore[arg-type]

    def test_shapes_need_types(self) -> None:
        with pytest.raises(TypeError):
            Dataset.from_generator(lambda: iter([1]), output_shapes=())

    def test_generator_error_propagates(self) -> None:
        def gen() -> Any:
            yield 1
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            as_list(Dataset.from_generator(gen, output_types=np.int64))

    def test_generator_closed_on_early_stop(self) -> None:
        closed = []

        def gen() -> Any:
            try:
                yield from range(100)
            finally:
                closed.append(True)

        it = iter(Dataset.from_generator(gen, output_types=np.int64).map(lambda x: x + 1))
        next(it)
        it.close()
        assert closed == [True]


# ----------------------------------------------------------------------------------------------
# transformations
# ----------------------------------------------------------------------------------------------


class TestMap:
    def test_unpacks_tuples(self) -> None:
        ds = Dataset.from_tensor_slices((np.arange(3), np.arange(3) * 10)).map(lambda a, b: a + b)
        assert ints(ds) == [0, 11, 22]

    def test_dict_and_namedtuple_not_unpacked(self) -> None:
        d = Dataset.from_tensor_slices({"a": np.arange(2)}).map(lambda e: e["a"] * 2)
        assert ints(d) == [0, 2]
        n = Dataset.from_tensor_slices(Point(np.arange(2), np.arange(2))).map(lambda p: p.x + p.y)
        assert ints(n) == [0, 2]

    def test_list_result_is_tuple_and_python_values_normalised(self) -> None:
        out = as_list(Dataset.range(2).map(lambda x: [x, 1.5, "s"]))
        assert out[1] == (1, 1.5, b"s")
        assert isinstance(out[1], tuple) and isinstance(out[1][1], np.float32)

    def test_none_result(self) -> None:
        with pytest.raises(ValueError, match="None"):
            as_list(Dataset.range(2).map(lambda x: None))

    def test_error_propagates(self) -> None:
        def f(x: Any) -> Any:
            if x == 2:
                raise KeyError("bad element")
            return x

        it = iter(Dataset.range(5).map(f))
        assert [int(next(it)), int(next(it))] == [0, 1]
        with pytest.raises(KeyError):
            next(it)
        with pytest.raises(StopIteration):
            next(it)

    @pytest.mark.parametrize("n", [2, 4, AUTOTUNE])
    def test_parallel_preserves_order(self, n: int) -> None:
        rng = np.random.default_rng(0)
        delays = rng.uniform(0, 0.004, size=30)

        def f(x: Any) -> Any:
            time.sleep(delays[int(x)])
            return x * x

        ds = Dataset.range(30).map(f, num_parallel_calls=n)
        assert ints(ds) == [i * i for i in range(30)]

    def test_parallel_runs_concurrently(self) -> None:
        lock = threading.Lock()
        active = [0]
        peak = [0]

        def f(x: Any) -> Any:
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.02)
            with lock:
                active[0] -= 1
            return x

        assert ints(Dataset.range(12).map(f, num_parallel_calls=4)) == list(range(12))
        assert peak[0] >= 2

    def test_parallel_error_in_order(self) -> None:
        def f(x: Any) -> Any:
            if x == 5:
                raise ValueError("five")
            return x

        got = []
        with pytest.raises(ValueError, match="five"):
            for x in Dataset.range(10).map(f, num_parallel_calls=3):
                got.append(int(x))
        assert got == [0, 1, 2, 3, 4]

    def test_parallel_early_stop_releases_threads(self) -> None:
        it = iter(Dataset.range(1000).map(lambda x: x, num_parallel_calls=3))
        next(it)
        it.close()
        assert wait_until(lambda: not map_threads())

    def test_bad_parallelism(self) -> None:
        with pytest.raises(ValueError):
            Dataset.range(3).map(lambda x: x, num_parallel_calls=0)

    def test_spec_inferred(self) -> None:
        ds = Dataset.range(4).map(lambda x: (np.full(3, x, np.float32), {"k": x > 1}))
        assert ds.output_types == (np.dtype(np.float32), {"k": np.dtype(bool)})
        assert ds.output_shapes == ((3,), {"k": ()})
        assert ds.cardinality() == 4

    def test_spec_after_batch_keeps_unknown_batch_dim(self) -> None:
        ds = Dataset.range(10).batch(4).map(lambda x: x * 2.0)
        assert ds.output_shapes == (None,)
        assert Dataset.range(10).batch(4, drop_remainder=True).map(lambda x: x).output_shapes == (
            4,
        )


class TestFilter:
    def test_filter(self) -> None:
        ds = Dataset.range(10).filter(lambda x: x % 3 == 0)
        assert ints(ds) == [0, 3, 6, 9]
        assert ds.cardinality() == experimental.UNKNOWN_CARDINALITY

    def test_tuple_unpacked(self) -> None:
        ds = Dataset.zip((Dataset.range(5), Dataset.range(5))).filter(lambda a, b: a + b > 4)
        assert [int(a) for a, _ in ds] == [3, 4]

    def test_non_boolean_predicate(self) -> None:
        with pytest.raises(TypeError, match="scalar boolean"):
            as_list(Dataset.range(3).filter(lambda x: x))
        with pytest.raises(TypeError, match="scalar boolean"):
            as_list(Dataset.from_tensor_slices(np.zeros((2, 2))).filter(lambda x: x > 0))


class TestShuffle:
    def test_is_permutation(self) -> None:
        out = ints(Dataset.range(100).shuffle(10))
        assert sorted(out) == list(range(100))

    def test_seeded_reproducible_across_fresh_datasets(self) -> None:
        a = ints(Dataset.range(50).shuffle(20, seed=7))
        b = ints(Dataset.range(50).shuffle(20, seed=7))
        assert a == b and a != list(range(50))
        assert ints(Dataset.range(50).shuffle(20, seed=8)) != a

    def test_reshuffle_each_iteration(self) -> None:
        ds = Dataset.range(50).shuffle(50, seed=3)
        first, second = ints(ds), ints(ds)
        assert first != second and sorted(first) == sorted(second)
        fixed = Dataset.range(50).shuffle(50, seed=3, reshuffle_each_iteration=False)
        assert ints(fixed) == ints(fixed) == first
        unseeded = Dataset.range(50).shuffle(50, reshuffle_each_iteration=False)
        assert ints(unseeded) == ints(unseeded)

    def test_repeat_reshuffles_each_epoch(self) -> None:
        out = ints(Dataset.range(20).shuffle(20, seed=1).repeat(2))
        assert sorted(out[:20]) == sorted(out[20:]) == list(range(20))
        assert out[:20] != out[20:]

    def test_buffer_semantics(self) -> None:
        # an element can only come out once it has entered the buffer
        for seed in range(20):
            out = ints(Dataset.range(30).shuffle(4, seed=seed))
            for k, v in enumerate(out):
                assert v <= k + 3
        assert ints(Dataset.range(10).shuffle(1)) == list(range(10))

    def test_bad_buffer(self) -> None:
        with pytest.raises(ValueError):
            Dataset.range(3).shuffle(0)

    def test_seed_resolver_hook(self) -> None:
        try:
            set_seed_resolver(lambda seed: 123 if seed is None else seed)
            a = ints(Dataset.range(30).shuffle(30))
            b = ints(Dataset.range(30).shuffle(30))
            assert a == b
        finally:
            set_seed_resolver(lambda seed: seed)


class TestBatch:
    def test_batch_and_remainder(self) -> None:
        out = as_list(Dataset.range(10).batch(4))
        assert [list(b) for b in out] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
        assert all(b.dtype == np.int64 for b in out)
        dropped = as_list(Dataset.range(10).batch(4, drop_remainder=True))
        assert len(dropped) == 2

    def test_nested(self) -> None:
        ds = Dataset.from_tensor_slices({"x": np.arange(12).reshape(6, 2), "y": np.arange(6)})
        out = as_list(ds.batch(4))
        assert out[0]["x"].shape == (4, 2) and out[1]["x"].shape == (2, 2)
        np.testing.assert_array_equal(out[1]["y"], [4, 5])

    def test_specs_and_cardinality(self) -> None:
        ds = Dataset.from_tensor_slices(np.zeros((10, 3)))
        assert ds.batch(4).output_shapes == (None, 3)
        assert ds.batch(4, drop_remainder=True).output_shapes == (4, 3)
        assert ds.batch(4).cardinality() == 3
        assert ds.batch(4, drop_remainder=True).cardinality() == 2
        assert ds.repeat().batch(4).cardinality() == experimental.INFINITE_CARDINALITY

    @pytest.mark.parametrize("bad", [0, -1])
    def test_bad_batch_size(self, bad: int) -> None:
        with pytest.raises(ValueError, match="batch_size"):
            Dataset.range(3).batch(bad)

    def test_non_integer_batch_size(self) -> None:
        with pytest.raises(TypeError):
            Dataset.range(3).batch(2.5)  # type: ignore[arg-type]

    def test_mismatched_shapes(self) -> None:
        ds = Dataset.range(1, 4).map(lambda x: np.ones(int(x)))
        with pytest.raises(ValueError, match="padded_batch"):
            as_list(ds.batch(3))

    def test_unbatch_roundtrip(self) -> None:
        ds = Dataset.from_tensor_slices((np.arange(7), np.arange(14).reshape(7, 2)))
        back = as_list(ds.batch(3).unbatch())
        orig = as_list(ds)
        assert len(back) == 7
        for (a, b), (c, d) in zip(back, orig):
            assert a == c
            np.testing.assert_array_equal(b, d)
        assert ds.batch(3).unbatch().output_shapes == ((), (2,))

    def test_unbatch_errors(self) -> None:
        with pytest.raises(ValueError):
            as_list(Dataset.range(3).unbatch())


class TestPaddedBatch:
    def test_pad_to_longest(self) -> None:
        ds = Dataset.range(1, 5).map(lambda x: np.arange(int(x)))
        out = as_list(ds.padded_batch(2))
        np.testing.assert_array_equal(out[0], [[0, 0], [0, 1]])
        np.testing.assert_array_equal(out[1], [[0, 1, 2, 0], [0, 1, 2, 3]])
        assert ds.padded_batch(2).output_shapes == (None, None)

    def test_explicit_shapes_and_values(self) -> None:
        ds = Dataset.range(1, 4).map(lambda x: (np.full(int(x), x), x))
        out = as_list(ds.padded_batch(3, padded_shapes=([5], []), padding_values=(-1, 0)))
        (seqs, labels) = out[0]
        np.testing.assert_array_equal(seqs, [[1, -1, -1, -1, -1], [2, 2, -1, -1, -1],
                                             [3, 3, 3, -1, -1]])
        np.testing.assert_array_equal(labels, [1, 2, 3])
        spec = ds.padded_batch(3, padded_shapes=([5], []), drop_remainder=True).output_shapes
        assert spec == ((3, 5), (3,))

    def test_scalar_padding_value_and_2d(self) -> None:
        ds = Dataset.range(1, 3).map(lambda x: np.ones((int(x), 2), np.float32))
        out = as_list(ds.padded_batch(2, padded_shapes=[None, 2], padding_values=9.0))[0]
        assert out.shape == (2, 2, 2) and out.dtype == np.float32
        np.testing.assert_array_equal(out[0, 1], [9, 9])

    def test_strings(self) -> None:
        ds = Dataset.from_tensors(np.array([b"a"])).concatenate(
            Dataset.from_tensors(np.array([b"b", b"c"]))
        )
        out = as_list(ds.padded_batch(2))[0]
        assert out.dtype == object and out.tolist() == [[b"a", b""], [b"b", b"c"]]

    def test_too_small(self) -> None:
        ds = Dataset.range(1, 4).map(lambda x: np.arange(int(x)))
        with pytest.raises(ValueError, match="smaller"):
            as_list(ds.padded_batch(3, padded_shapes=[2]))

    def test_bad_batch_size(self) -> None:
        with pytest.raises(ValueError):
            Dataset.range(3).padded_batch(0)


class TestRepeatTakeSkip:
    def test_repeat(self) -> None:
        assert ints(Dataset.range(3).repeat(2)) == [0, 1, 2, 0, 1, 2]
        assert ints(Dataset.range(3).repeat().take(7)) == [0, 1, 2, 0, 1, 2, 0]
        assert ints(Dataset.range(3).repeat(0)) == []
        assert Dataset.range(3).repeat(2).cardinality() == 6
        assert Dataset.range(3).repeat().cardinality() == experimental.INFINITE_CARDINALITY
        with pytest.raises(TypeError, match="infinite"):
            len(Dataset.range(3).repeat())

    def test_repeat_of_empty_terminates(self) -> None:
        assert ints(Dataset.range(0).repeat()) == []
        assert ints(Dataset.range(5).filter(lambda x: x > 10).repeat()) == []

    def test_take_skip(self) -> None:
        ds = Dataset.range(10)
        assert ints(ds.take(3)) == [0, 1, 2]
        assert ints(ds.take(-1)) == list(range(10))
        assert ints(ds.take(20)) == list(range(10))
        assert ints(ds.skip(7)) == [7, 8, 9]
        assert ints(ds.skip(-1)) == []
        assert ds.take(3).cardinality() == 3 and ds.skip(7).cardinality() == 3
        assert ds.repeat().take(5).cardinality() == 5
        assert ds.skip(20).cardinality() == 0

    def test_take_does_not_overpull(self) -> None:
        pulled = []

        def gen() -> Any:
            for i in range(100):
                pulled.append(i)
                yield i

        ds = Dataset.from_generator(gen, output_types=np.int64)
        assert ints(ds.take(3)) == [0, 1, 2]
        assert pulled == [0, 1, 2]

    def test_shard(self) -> None:
        ds = Dataset.range(10)
        assert ints(ds.shard(3, 1)) == [1, 4, 7]
        assert ds.shard(3, 0).cardinality() == 4 and ds.shard(3, 2).cardinality() == 3
        with pytest.raises(ValueError):
            ds.shard(2, 2)


class TestCache:
    def test_second_pass_replays(self) -> None:
        calls = []

        def f(x: Any) -> Any:
            calls.append(int(x))
            return x * 2

        ds = Dataset.range(5).map(f).cache()
        assert ints(ds) == [0, 2, 4, 6, 8]
        assert ints(ds) == [0, 2, 4, 6, 8]
        assert calls == list(range(5))

    def test_partial_pass_not_cached(self) -> None:
        calls = []
        ds = Dataset.range(5).map(lambda x: calls.append(1) or x).cache()
        it = iter(ds)
        next(it)
        it.close()
        assert ints(ds) == list(range(5))
        assert ints(ds) == list(range(5))
        assert len(calls) == 6

    def test_cache_after_shuffle_fixes_order(self) -> None:
        ds = Dataset.range(30).shuffle(30).cache()
        assert ints(ds) == ints(ds)

    def test_file_cache(self, tmp_path: Any) -> None:
        path = str(tmp_path / "cache")
        calls = []
        ds = Dataset.range(4).map(lambda x: calls.append(1) or (x, np.ones(2) * x))
        first = as_list(ds.cache(path))
        again = as_list(ds.cache(path))  # a new dataset reads the file
        assert len(calls) == 4
        assert [int(a) for a, _ in again] == [int(a) for a, _ in first]


class TestPrefetch:
    def test_same_elements(self) -> None:
        ds = Dataset.range(50).map(lambda x: (x, x * 2))
        assert as_list(ds.prefetch(3)) == as_list(ds)
        assert as_list(ds.prefetch(AUTOTUNE)) == as_list(ds)
        assert as_list(ds.prefetch(0)) == as_list(ds)
        assert ds.prefetch(2).cardinality() == 50

    def test_hides_slow_producer(self) -> None:
        def slow(x: Any) -> Any:
            time.sleep(0.005)
            return x

        ds = Dataset.range(40 * 4).batch(4).map(slow)

        def consume(d: Dataset) -> float:
            start = time.perf_counter()
            n = 0
            for _ in d:
                time.sleep(0.005)
                n += 1
            assert n == 40
            return time.perf_counter() - start

        ratios = []
        for _ in range(3):  # retry guards against a noisy, shared machine
            base = consume(ds)
            fast = consume(ds.prefetch(2))
            ratios.append(fast / base)
            if ratios[-1] < 0.8:
                break
        assert min(ratios) < 0.8, ratios

    def test_error_propagates_in_order(self) -> None:
        def f(x: Any) -> Any:
            if x == 3:
                raise ZeroDivisionError("three")
            return x

        got = []
        with pytest.raises(ZeroDivisionError, match="three"):
            for x in Dataset.range(10).map(f).prefetch(4):
                got.append(int(x))
        assert got == [0, 1, 2]
        assert wait_until(lambda: not prefetch_threads())

    def test_early_stop_does_not_leak_threads(self) -> None:
        assert wait_until(lambda: not prefetch_threads())
        ds = Dataset.range(10**9).prefetch(2)
        for _ in ds:
            break
        it = iter(ds)
        next(it)
        del it
        gc.collect()
        it2 = iter(ds.map(lambda x: x).prefetch(1))
        next(it2)
        it2.close()
        assert wait_until(lambda: not prefetch_threads()), prefetch_threads()

    def test_stop_while_producer_is_busy(self) -> None:
        def slow(x: Any) -> Any:
            time.sleep(0.05)
            return x

        it = iter(Dataset.range(100).map(slow).prefetch(1))
        next(it)
        it.close()
        with pytest.raises(StopIteration):
            next(it)
        assert wait_until(lambda: not prefetch_threads())

    def test_finished_pass_leaves_no_thread(self) -> None:
        assert ints(Dataset.range(5).prefetch(2).prefetch(2)) == list(range(5))
        assert wait_until(lambda: not prefetch_threads())

    def test_with_repeat_and_generator(self) -> None:
        ds = Dataset.from_generator(lambda: iter(range(3)), output_types=np.int64)
        assert ints(ds.prefetch(1).repeat(3)) == [0, 1, 2] * 3
        assert wait_until(lambda: not prefetch_threads())

    def test_bad_buffer(self) -> None:
        with pytest.raises(ValueError):
            Dataset.range(3).prefetch(-5)


class TestInterleave:
    def test_tf_documented_example(self) -> None:
        ds = Dataset.range(1, 6).interleave(
            lambda x: Dataset.from_tensors(x).repeat(6), cycle_length=2, block_length=4
        )
        assert ints(ds) == [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3,
                            4, 4, 5, 5, 5, 5, 5, 5]

    def test_uneven_lengths(self) -> None:
        ds = Dataset.range(1, 4).interleave(lambda x: Dataset.range(int(x)), cycle_length=3)
        assert ints(ds) == [0, 0, 0, 1, 1, 2]

    def test_flat_map(self) -> None:
        ds = Dataset.range(1, 4).flat_map(lambda x: Dataset.range(int(x)))
        assert ints(ds) == [0, 0, 1, 0, 1, 2]
        tup = Dataset.zip((Dataset.range(2), Dataset.range(2))).flat_map(
            lambda a, b: Dataset.from_tensors(a + b)
        )
        assert ints(tup) == [0, 2]

    def test_must_return_dataset(self) -> None:
        with pytest.raises(TypeError, match="Dataset"):
            as_list(Dataset.range(2).flat_map(lambda x: [x]))

    def test_spec(self) -> None:
        ds = Dataset.range(1, 3).flat_map(lambda x: Dataset.from_tensors(np.zeros((2, 3))))
        assert ds.output_shapes == (2, 3)


def test_enumerate_apply_reduce() -> None:
    ds = Dataset.from_tensor_slices([b"a", b"b"]).enumerate(start=5)
    assert [(int(i), s) for i, s in ds] == [(5, b"a"), (6, b"b")]
    assert ds.output_types == (np.dtype(np.int64), np.dtype(object))
    assert ints(Dataset.range(5).apply(lambda d: d.skip(1).take(2))) == [1, 2]
    with pytest.raises(TypeError):
        Dataset.range(2).apply(lambda d: 5)  # type: ignore[arg-type, return-value]
    assert int(Dataset.range(5).reduce(np.int64(0), lambda s, x: s + x)) == 10


# ----------------------------------------------------------------------------------------------
# iteration protocol
# ----------------------------------------------------------------------------------------------


class TestIteration:
    def test_fresh_iterator_each_time(self) -> None:
        ds = Dataset.range(3)
        a, b = iter(ds), iter(ds)
        assert int(next(a)) == 0 and int(next(a)) == 1 and int(next(b)) == 0
        assert ints(ds.as_numpy_iterator()) == [0, 1, 2]

    def test_exhausted_stays_exhausted(self) -> None:
        it = iter(Dataset.range(1))
        next(it)
        for _ in range(2):
            with pytest.raises(StopIteration):
                next(it)
        it.close()
        it.close()

    def test_context_manager_and_specs(self) -> None:
        with Dataset.range(3).batch(2).make_python_iterator() as it:
            assert it.output_shapes == (None,)
            assert list(it.get_next()) == [0, 1]

    def test_thread_safe_next(self) -> None:
        it = iter(Dataset.range(2000).map(lambda x: x))
        seen: list[int] = []
        lock = threading.Lock()

        def worker() -> None:
            for x in it:
                with lock:
                    seen.append(int(x))

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(seen) == list(range(2000))

    def test_bool_and_repr(self) -> None:
        ds = Dataset.range(5).filter(lambda x: x > 1)
        assert bool(ds)
        assert "FilterDataset" in repr(ds)

    def test_cardinality_helpers(self) -> None:
        assert experimental.cardinality(Dataset.range(4)) == 4
        assert dataset_module.UNKNOWN == experimental.UNKNOWN_CARDINALITY == -2
        assert experimental.AUTOTUNE == AUTOTUNE == -1

    def test_empty_generator_without_types(self) -> None:
        ds = Dataset.from_generator(lambda: iter([]))
        assert as_list(ds) == []
        with pytest.raises(ValueError, match="no elements"):
            _ = ds.element_spec


class _Placeholder:
    """A stand-in for a graph tensor (symbolic leaf)."""

    def __init__(self, shape: tuple[int | None, ...], dtype: Any, name: str):
        self.shape, self.dtype, self.name = shape, np.dtype(dtype), name


register_symbolic_type(_Placeholder)


class TestSymbolicFeeds:
    def test_initializable_pattern(self) -> None:
        x = _Placeholder((None, 2), np.float32, "x")
        ds = Dataset.from_tensor_slices(x).map(lambda r: r.sum()).batch(2)
        assert ds._captured_inputs() == [x]
        assert ds.element_spec == TensorSpec((None,), np.float32)
        assert ds.cardinality() == experimental.UNKNOWN_CARDINALITY
        data = np.arange(6, dtype=np.float32).reshape(3, 2)
        out = as_list(ds.make_python_iterator(feeds={x: data}))
        np.testing.assert_array_equal(out[0], [1, 5])
        other = as_list(ds.make_python_iterator(feeds={x: data[:1]}))
        assert len(other) == 1

    def test_missing_feed(self) -> None:
        x = _Placeholder((None,), np.int64, "labels")
        with pytest.raises(errors.InvalidArgumentError, match="labels"):
            as_list(Dataset.from_tensor_slices(x))


# ----------------------------------------------------------------------------------------------
# TextLineDataset
# ----------------------------------------------------------------------------------------------


class TestTextLineDataset:
    def test_lines(self, tmp_path: Any) -> None:
        p = tmp_path / "a.txt"
        p.write_bytes(b"one\ntwo\r\n\nlast")
        ds = TextLineDataset(str(p))
        assert as_list(ds) == [b"one", b"two", b"", b"last"]
        assert ds.element_spec == TensorSpec((), object)

    def test_trailing_newline_and_empty(self, tmp_path: Any) -> None:
        (tmp_path / "a.txt").write_bytes(b"x\ny\n")
        (tmp_path / "e.txt").write_bytes(b"")
        ds = TextLineDataset([tmp_path / "a.txt", str(tmp_path / "e.txt"), tmp_path / "a.txt"])
        assert as_list(ds) == [b"x", b"y", b"x", b"y"]

    def test_gzip_and_zlib(self, tmp_path: Any) -> None:
        import zlib

        with gzip.open(tmp_path / "g.gz", "wb") as f:
            f.write(b"a\nb\n")
        (tmp_path / "z").write_bytes(zlib.compress(b"c\nd"))
        assert as_list(TextLineDataset(str(tmp_path / "g.gz"), "GZIP")) == [b"a", b"b"]
        assert as_list(TextLineDataset(str(tmp_path / "z"), "ZLIB")) == [b"c", b"d"]
        with pytest.raises(ValueError):
            TextLineDataset("x", compression_type="BZ2")

    def test_missing_file(self, tmp_path: Any) -> None:
        ds = TextLineDataset(str(tmp_path / "nope.txt"))
        with pytest.raises(errors.NotFoundError):
            as_list(ds)
        with pytest.raises(FileNotFoundError):
            as_list(ds)

    def test_parallel_reads_interleave(self, tmp_path: Any) -> None:
        (tmp_path / "1").write_bytes(b"a1\na2\na3\n")
        (tmp_path / "2").write_bytes(b"b1\n")
        ds = TextLineDataset([str(tmp_path / "1"), str(tmp_path / "2")], num_parallel_reads=2)
        assert as_list(ds) == [b"a1", b"b1", b"a2", b"a3"]

    def test_filenames_from_dataset_and_map(self, tmp_path: Any) -> None:
        (tmp_path / "n.csv").write_bytes(b"1,2\n3,4\n")
        files = Dataset.from_tensor_slices([str(tmp_path / "n.csv")])
        ds = TextLineDataset(files).map(lambda line: np.array(line.split(b","), dtype=np.int64))
        assert [list(r) for r in ds] == [[1, 2], [3, 4]]
        assert ds.output_shapes == (2,)

    def test_interleave_files(self, tmp_path: Any) -> None:
        for name, body in (("p", b"1\n2\n"), ("q", b"3\n4\n")):
            (tmp_path / name).write_bytes(body)
        files = Dataset.from_tensor_slices([str(tmp_path / "p"), str(tmp_path / "q")])
        ds = files.interleave(TextLineDataset, cycle_length=2)
        assert as_list(ds) == [b"1", b"3", b"2", b"4"]

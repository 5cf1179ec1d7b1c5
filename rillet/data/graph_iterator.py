"""Graph-mode iterators over ``rillet.data`` datasets (TF 1.x ``tf.data.Iterator``).

An iterator is a Session resource: the Python :class:`~rillet.data.DatasetIterator` lives in the
Session's ``ctx.resources`` under the iterator's name, so two Sessions iterate independently.

* ``MakeIterator`` (the ``initializer`` op) starts a new pass; its inputs are the symbolic tensors
  the dataset captures (e.g. placeholders given to ``from_tensor_slices``), so the values in the
  initializer's ``feed_dict`` become that pass's data.
* ``IteratorGetNext`` returns the next element, raising ``OutOfRangeError: End of sequence`` at the
  end. A one-shot iterator starts its pass on the first ``get_next`` run.

Importing this module attaches ``make_one_shot_iterator`` / ``make_initializable_iterator`` to
``Dataset`` and the functions of the same names plus ``Iterator`` to ``rillet.data``.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

import rillet.data as _data_pkg
from rillet import context
from rillet import dtypes as _dt
from rillet.data import structure as st
from rillet.data.dataset import Dataset, set_seed_resolver
from rillet.errors import FailedPreconditionError, OutOfRangeError
from rillet.graph import Tensor
from rillet.ops import random_ops
from rillet.registry import NOT_DIFFERENTIABLE, apply_op, register
from rillet.shapes import TensorShape

_ids = itertools.count()


# --- ops ---------------------------------------------------------------------------------------
class _Captures:
    """The symbolic tensors a dataset captures, in the order of the op's inputs (an opaque
    attr, so graph export shows it as text)."""

    def __init__(self, tensors: list):
        self.tensors = list(tensors)

    def __repr__(self) -> str:
        return f"<captures {[t.name for t in self.tensors]}>"


def _make_iterator_kernel(ctx: Any, *values: Any, dataset: Any, resource: str,
                          captures: _Captures) -> None:
    old = ctx.resources.pop(resource, None)
    if old is not None:
        old.close()
    feeds = dict(zip(captures.tensors, values))
    ctx.resources[resource] = dataset.make_python_iterator(feeds)


def _get_next_kernel(ctx: Any, *, resource: str, one_shot: Any, np_dtypes: tuple) -> Any:
    it = ctx.resources.get(resource)
    if it is None:
        if one_shot is None:
            raise FailedPreconditionError(
                None, None, "GetNext() failed because the iterator has not been initialized. "
                "Ensure that you have run the initializer operation for this iterator before "
                "getting the next element.")
        it = ctx.resources[resource] = one_shot.make_python_iterator()
    try:
        element = next(it)
    except StopIteration:
        raise OutOfRangeError(None, None, "End of sequence") from None
    leaves = [_as_array(x, d) for x, d in zip(st.flatten(element), np_dtypes)]
    return leaves[0] if len(leaves) == 1 else tuple(leaves)


def _as_array(x: Any, dtype: np.dtype) -> np.ndarray:
    if dtype == st.OBJECT:
        return np.asarray(x, dtype=object)
    return np.asarray(x, dtype=dtype)


def _get_next_infer(op: Any) -> list:
    return [(d, TensorShape(s)) for d, s in zip(op.attrs["output_types"],
                                                op.attrs["output_shapes"])]


register("MakeIterator", infer=lambda op: [], kernel=_make_iterator_kernel, stateful=True,
         needs_ctx=True, grad=NOT_DIFFERENTIABLE)
register("IteratorGetNext", infer=_get_next_infer, kernel=_get_next_kernel, stateful=True,
         needs_ctx=True, grad=NOT_DIFFERENTIABLE)


# --- the Iterator object -------------------------------------------------------------------------
def _rt_dtype(d: np.dtype) -> _dt.DType:
    return _dt.string if d == st.OBJECT else _dt.as_dtype(d)


class Iterator:
    """A graph-mode iterator: ``get_next()`` builds the op yielding the next element."""

    def __init__(self, spec: Any, resource: str, initializer: Any = None,
                 one_shot: Dataset | None = None):
        self._spec = spec
        self._resource = resource
        self._initializer = initializer
        self._one_shot = one_shot

    # --- construction ------------------------------------------------------------------------
    @staticmethod
    def from_structure(output_types: Any, output_shapes: Any = None,
                       shared_name: str | None = None, output_classes: Any = None) -> Iterator:
        """A reinitializable iterator: ``make_initializer(ds)`` for each compatible dataset."""
        spec = st.specs_from(st.map_structure(lambda t: st.as_dtype(t), output_types)
                             if output_types is not None else None, output_shapes)
        return Iterator(spec, shared_name or f"Iterator_{next(_ids)}")

    def make_initializer(self, dataset: Dataset, name: str | None = None) -> Any:
        """An op that starts a new pass of ``dataset`` (its structure must match)."""
        try:
            st.assert_same_structure(self._spec, dataset.element_spec)
        except (TypeError, ValueError) as e:
            raise TypeError(f"Expected output structure {self._spec}, got "
                            f"{dataset.element_spec}: {e}") from None
        for mine, theirs in zip(st.flatten(self._spec), st.flatten(dataset.element_spec)):
            if mine.dtype != theirs.dtype:
                raise TypeError(f"Expected output types {self.output_types} but got dataset "
                                f"with output types {dataset.output_types}.")
        captures = dataset._captured_inputs()
        return apply_op("MakeIterator", tuple(captures),
                        {"dataset": dataset, "resource": self._resource,
                         "captures": _Captures(captures)}, name=name or "MakeIterator")

    # --- use ---------------------------------------------------------------------------------
    @property
    def initializer(self) -> Any:
        """The op that (re)starts the pass; feed the captured placeholders when running it."""
        if self._initializer is None:
            raise ValueError("Iterator does not have an initializer.")
        return self._initializer

    def get_next(self, name: str | None = None) -> Any:
        """Tensors (in the dataset's structure) holding the next element when run."""
        leaves = st.flatten(self._spec)
        np_dtypes = tuple(s.dtype for s in leaves)
        outs = apply_op("IteratorGetNext", (), {
            "resource": self._resource, "one_shot": self._one_shot, "np_dtypes": np_dtypes,
            "output_types": [_rt_dtype(d) for d in np_dtypes],
            "output_shapes": [TensorShape(s.shape) for s in leaves]},
            name=name or "IteratorGetNext")
        outs = [outs] if isinstance(outs, Tensor) else list(outs)
        return st.pack_sequence_as(self._spec, outs)

    @property
    def element_spec(self) -> Any:
        return self._spec

    @property
    def output_types(self) -> Any:
        return st.map_structure(lambda s: _rt_dtype(s.dtype), self._spec)

    @property
    def output_shapes(self) -> Any:
        return st.map_structure(lambda s: TensorShape(s.shape), self._spec)

    @property
    def output_classes(self) -> Any:
        return st.map_structure(lambda s: Tensor, self._spec)


def make_one_shot_iterator(dataset: Dataset) -> Any:
    """An iterator that starts its single pass when ``get_next`` first runs (no initializer).

    In eager mode this is a plain Python iterator over NumPy elements."""
    if context.executing_eagerly():
        return dataset.make_python_iterator()
    captures = dataset._captured_inputs()
    if captures:
        t = captures[0]
        raise ValueError(f"Cannot capture a placeholder (name:{t.op.name}, type:{t.op.type}) "
                         "by value; use make_initializable_iterator and feed it there.")
    return Iterator(dataset.element_spec, f"OneShotIterator_{next(_ids)}", one_shot=dataset)


def make_initializable_iterator(dataset: Dataset, shared_name: str | None = None) -> Iterator:
    """An iterator whose ``initializer`` op must run (with feeds for captured placeholders)
    before ``get_next``; running it again restarts the pass."""
    if context.executing_eagerly():
        raise RuntimeError("dataset.make_initializable_iterator is not supported when eager "
                           "execution is enabled. Use `for element in dataset` instead.")
    it = Iterator(dataset.element_spec, shared_name or f"Iterator_{next(_ids)}")
    it._initializer = it.make_initializer(dataset)
    return it


def _resolve_seed(seed: int | None) -> int | None:
    """TF 1.x rule: a graph seed makes unseeded shuffles deterministic."""
    s1, s2 = random_ops.get_seed(seed)
    if s1 == 0 and s2 == 0:
        return None
    return (int(s1) * 1_000_003 + int(s2)) % (2**63)


def _install() -> None:
    from rillet.data.structure import register_symbolic_type
    register_symbolic_type(Tensor)
    set_seed_resolver(_resolve_seed)
    Dataset.make_one_shot_iterator = make_one_shot_iterator  # type: ignore[attr-defined]
    Dataset.make_initializable_iterator = (  # type: ignore[attr-defined]
        make_initializable_iterator)
    _data_pkg.Iterator = Iterator  # type: ignore[attr-defined]
    _data_pkg.make_one_shot_iterator = make_one_shot_iterator  # type: ignore[attr-defined]
    _data_pkg.make_initializable_iterator = (  # type: ignore[attr-defined]
        make_initializable_iterator)
    _data_pkg.get_output_types = lambda ds: ds.output_types  # type: ignore[attr-defined]
    _data_pkg.get_output_shapes = lambda ds: ds.output_shapes  # type: ignore[attr-defined]


_install()

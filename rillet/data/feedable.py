"""Feedable iterators (TF 1.4+): ``Iterator.from_string_handle(handle, output_types,
output_shapes)`` and ``iterator.string_handle()``.

``string_handle()`` builds an ``IteratorToStringHandle`` op. Running it returns a handle (a
string) naming the iterator's Session resource, and records in the Session which iterator that
handle refers to (its resource name, its one-shot dataset if any, its element dtypes). A
feedable iterator's ``get_next()`` is an ``IteratorGetNextFromStringHandle`` op taking the
handle as input: feeding a placeholder with one handle or another switches, per ``run``, which
iterator the element comes from (the training / validation idiom). Handles are only meaningful
in the Session that produced them, as in TF.

Importing this module (``import rillet`` does) adds ``string_handle`` and
``from_string_handle`` to ``rillet.data.graph_iterator.Iterator``.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from rillet import context
from rillet import dtypes as _dt
from rillet.data import graph_iterator as gi
from rillet.data import structure as st
from rillet.errors import InvalidArgumentError, NotFoundError
from rillet.graph import Tensor
from rillet.registry import NOT_DIFFERENTIABLE, apply_op, convert_to_tensor, register
from rillet.shapes import TensorShape

_HANDLES = "__rillet_string_handles__"
_ids = itertools.count()


def _handles(ctx: Any) -> dict:
    table = ctx.resources.get(_HANDLES)
    if table is None:
        table = ctx.resources[_HANDLES] = {}
    return table


# --- ops ---------------------------------------------------------------------------------------
def _to_handle_kernel(ctx: Any, *, resource: str, one_shot: Any, np_dtypes: tuple,
                      shapes: tuple) -> Any:
    handle = f"rillet-iterator:{resource}"
    _handles(ctx)[handle] = (resource, one_shot, np_dtypes, shapes)
    return np.array(handle.encode(), dtype=object)


register("IteratorToStringHandle", infer=lambda op: (_dt.string, TensorShape([])),
         kernel=_to_handle_kernel, stateful=True, needs_ctx=True, grad=NOT_DIFFERENTIABLE)


def _decode(h: Any) -> str:
    h = np.asarray(h, dtype=object)
    if h.ndim != 0:
        raise InvalidArgumentError(None, None, f"string_handle must be a scalar, got shape "
                                   f"{list(h.shape)}")
    v = h[()]
    return v.decode() if isinstance(v, bytes) else str(v)


def _from_handle_kernel(ctx: Any, handle: Any, *, np_dtypes: tuple, output_shapes: list,
                        **_: Any) -> Any:
    key = _decode(handle)
    entry = _handles(ctx).get(key)
    if entry is None:
        raise NotFoundError(None, None, f"Resource {key!r} does not exist: the handle was not "
                            "produced by `iterator.string_handle()` in this Session.")
    resource, one_shot, their_dtypes, their_shapes = entry
    if len(their_dtypes) != len(np_dtypes):
        raise InvalidArgumentError(None, None, "Number of components does not match: expected "
                                   f"{len(np_dtypes)} types but got {len(their_dtypes)}.")
    for i, (a, b) in enumerate(zip(np_dtypes, their_dtypes)):
        if a != b:
            raise InvalidArgumentError(
                None, None, f"Data type mismatch at component {i}: expected "
                f"{gi._rt_dtype(a).name} but got {gi._rt_dtype(b).name}.")
    out = gi._get_next_kernel(ctx, resource=resource, one_shot=one_shot, np_dtypes=np_dtypes)
    leaves = out if isinstance(out, tuple) else (out,)
    for i, (v, want) in enumerate(zip(leaves, output_shapes)):
        if not want.is_compatible_with(TensorShape(np.shape(v))):
            raise InvalidArgumentError(
                None, None, f"Incompatible shapes at component {i}: expected {want} but got "
                f"{TensorShape(np.shape(v))}.")
    return out


register("IteratorGetNextFromStringHandle", infer=gi._get_next_infer, kernel=_from_handle_kernel,
         stateful=True, needs_ctx=True, grad=NOT_DIFFERENTIABLE)


# --- Python API ------------------------------------------------------------------------------
def string_handle(self: gi.Iterator, name: str | None = None) -> Any:
    """A string tensor that, once run, identifies this iterator: feed it to the placeholder of
    an iterator made by :meth:`Iterator.from_string_handle`."""
    leaves = st.flatten(self._spec)
    return apply_op("IteratorToStringHandle", (), {
        "resource": self._resource, "one_shot": self._one_shot,
        "np_dtypes": tuple(s.dtype for s in leaves),
        "shapes": tuple(TensorShape(s.shape) for s in leaves)},
        name=name or "IteratorToStringHandle")


class FeedableIterator(gi.Iterator):
    """An iterator whose elements come from the iterator whose handle is fed at run time."""

    def __init__(self, handle: Any, spec: Any):
        super().__init__(spec, f"FeedableIterator_{next(_ids)}")
        self._handle = handle

    def get_next(self, name: str | None = None) -> Any:
        leaves = st.flatten(self._spec)
        np_dtypes = tuple(s.dtype for s in leaves)
        shapes = [TensorShape(s.shape) for s in leaves]
        outs = apply_op("IteratorGetNextFromStringHandle", (self._handle,), {
            "np_dtypes": np_dtypes, "output_shapes": shapes,
            "output_types": [gi._rt_dtype(d) for d in np_dtypes]},
            name=name or "IteratorGetNext")
        outs = [outs] if isinstance(outs, Tensor) else list(outs)
        return st.pack_sequence_as(self._spec, outs)

    def make_initializer(self, dataset: Any, name: str | None = None) -> Any:
        raise ValueError("An iterator made by from_string_handle has no initializer; run the "
                         "initializer of the iterator whose handle you feed.")

    def string_handle(self, name: str | None = None) -> Any:
        """The handle tensor this iterator was created from."""
        return self._handle


def from_string_handle(string_handle: Any, output_types: Any, output_shapes: Any = None,
                       output_classes: Any = None) -> FeedableIterator:
    """An iterator reading from whichever iterator's ``string_handle()`` value is fed to the
    scalar string tensor ``string_handle``; ``output_types`` / ``output_shapes`` give its
    element structure (e.g. ``dataset.output_types``, ``dataset.output_shapes``)."""
    if context.executing_eagerly():
        raise RuntimeError("Iterator.from_string_handle is not supported when eager execution "
                           "is enabled.")
    h = convert_to_tensor(string_handle)
    if h.dtype is not _dt.string:
        raise TypeError(f"string_handle must be a tf.string tensor, got {h.dtype.name}")
    if h.shape.ndims not in (None, 0):
        raise ValueError(f"string_handle must be a scalar, got shape {h.shape}")
    spec = st.specs_from(st.map_structure(lambda t: st.as_dtype(t), output_types),
                         output_shapes)
    return FeedableIterator(h, spec)


def _install() -> None:
    gi.Iterator.string_handle = string_handle  # type: ignore[attr-defined]
    gi.Iterator.from_string_handle = staticmethod(from_string_handle)  # type: ignore[attr-defined]


_install()

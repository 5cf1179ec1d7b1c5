"""Higher-order functions over the first dimension: ``map_fn``, ``scan``, ``foldl``, ``foldr``.

In a graph each is one ``While`` op (see ``control_flow_ops``) whose body sees row ``i`` of
``elems`` and whose per-iteration outputs are stacked, so ``fn`` is traced once and gradients
flow back through the iterations (to ``elems``, the initializer and captured tensors). In
eager mode they are Python loops over the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rillet import context
from rillet import dtypes as _dt
from rillet.eager import nest
from rillet.graph import get_default_graph
from rillet.ops import array_ops
from rillet.ops.control_flow_ops import _build_loop
from rillet.registry import convert_to_tensor


def _flat_elems(elems: Any) -> tuple[Any, list]:
    flat = [convert_to_tensor(x) for x in nest.flatten(elems)]
    if not flat:
        raise ValueError("elems must contain at least one tensor")
    for t in flat:
        if t.shape.ndims == 0:
            raise ValueError(f"Elements in elems must be at least 1-D, got a scalar: {t!r}")
    return elems, flat


def _n_rows(flat: list) -> int:
    """The number of rows of eager tensors (all must agree)."""
    n = flat[0].shape[0]
    for t in flat[1:]:
        m = t.shape[0]
        if m != n:
            raise ValueError(f"All elements of elems must have the same first dimension, got "
                             f"{n} and {m}")
    return n


def _check_dtypes(out: list, dtype: Any, what: str) -> None:
    if dtype is None:
        return
    want = nest.flatten(dtype) if nest.is_sequence(dtype) else [dtype]
    if len(want) != len(out):
        raise ValueError(f"{what}: fn returned {len(out)} tensors but dtype names "
                         f"{len(want)}")
    for t, d in zip(out, want):
        if t.dtype is not _dt.as_dtype(d):
            raise TypeError(f"{what}: fn returned a {t.dtype.name} tensor where dtype says "
                            f"{_dt.as_dtype(d).name}")


def _reverse(xs: list) -> list:
    return [array_ops.reverse(x, [0]) for x in xs]


def map_fn(fn: Callable, elems: Any, dtype: Any = None, parallel_iterations: int | None = None,
           back_prop: bool = True, swap_memory: bool = False, infer_shape: bool = True,
           name: str | None = None) -> Any:
    """Applies ``fn`` to each row of ``elems`` (a tensor or nested structure of tensors with
    the same first dimension) and stacks the results: ``out[i] = fn(elems[i])``.

    ``fn`` may return a nested structure of tensors; ``dtype`` (its dtypes) is checked when
    given. ``parallel_iterations``, ``swap_memory`` and ``infer_shape`` are ignored.
    """
    if not callable(fn):
        raise TypeError("fn must be callable.")
    elems, flat = _flat_elems(elems)
    if context.executing_eagerly():
        n = _n_rows(flat)
        rows = []
        for i in range(n):
            res = fn(nest.pack_sequence_as(elems, [x[i] for x in flat]))
            rows.append(res)
        if not rows:
            return _empty_like_traced(fn, elems, flat, dtype)
        leaves = [nest.flatten(r) for r in rows]
        _check_dtypes([convert_to_tensor(x) for x in leaves[0]], dtype, "map_fn")
        stacked = [array_ops.stack([convert_to_tensor(r[k]) for r in leaves])
                   for k in range(len(leaves[0]))]
        return nest.pack_sequence_as(rows[0], stacked)
    g = get_default_graph()
    box: list = []
    with g.name_scope(name or "map") as scope:
        def body(vs: list, rows: list) -> tuple:
            res = fn(nest.pack_sequence_as(elems, rows))
            box.append(res)
            out = [convert_to_tensor(x) for x in nest.flatten(res)]
            _check_dtypes(out, dtype, "map_fn")
            return [], out
        _, stacked = _build_loop(None, body, [], [], flat, None, scope, back_prop)
    return nest.pack_sequence_as(box[0], stacked)


def _empty_like_traced(fn: Callable, elems: Any, flat: list, dtype: Any) -> Any:
    """Eager map_fn over zero rows: trace ``fn`` in a scratch graph for dtypes and shapes."""
    from rillet.eager.context import graph_mode
    from rillet.graph import Graph
    with Graph().as_default(), graph_mode():
        phs = [array_ops.placeholder(t.dtype, t.shape[1:]) for t in flat]
        res = fn(nest.pack_sequence_as(elems, phs))
        specs = [(t.dtype, t.shape) for t in map(convert_to_tensor, nest.flatten(res))]
    _check_dtypes([_Spec(dt) for dt, _ in specs], dtype, "map_fn")
    out = [array_ops.zeros([0] + [0 if d is None else d for d in (sh.dims or ())], dt)
           for dt, sh in specs]
    return nest.pack_sequence_as(res, out)


class _Spec:
    def __init__(self, dtype: _dt.DType):
        self.dtype = dtype


def scan(fn: Callable, elems: Any, initializer: Any = None, parallel_iterations: int = 10,
         back_prop: bool = True, swap_memory: bool = False, infer_shape: bool = True,
         reverse: bool = False, name: str | None = None) -> Any:
    """Cumulative application of ``fn(acc, row)`` over the rows of ``elems``; returns every
    intermediate ``acc`` stacked. Without ``initializer`` the first row is the first
    ``acc`` (and the first output). ``reverse`` scans from the last row."""
    return _scan_or_fold(fn, elems, initializer, back_prop, reverse, name or "scan", True)


def foldl(fn: Callable, elems: Any, initializer: Any = None, parallel_iterations: int = 10,
          back_prop: bool = True, swap_memory: bool = False, name: str | None = None) -> Any:
    """``fn(...fn(fn(initializer, elems[0]), elems[1])..., elems[n-1])``; without
    ``initializer`` the first row is the initial accumulator."""
    return _scan_or_fold(fn, elems, initializer, back_prop, False, name or "foldl", False)


def foldr(fn: Callable, elems: Any, initializer: Any = None, parallel_iterations: int = 10,
          back_prop: bool = True, swap_memory: bool = False, name: str | None = None) -> Any:
    """``foldl`` from the last row to the first."""
    return _scan_or_fold(fn, elems, initializer, back_prop, True, name or "foldr", False)


def _scan_or_fold(fn: Callable, elems: Any, initializer: Any, back_prop: bool, reverse: bool,
                  name: str, stack: bool) -> Any:
    if not callable(fn):
        raise TypeError("fn must be callable.")
    elems, flat = _flat_elems(elems)
    eager = context.executing_eagerly()
    g = get_default_graph()
    with g.name_scope(name) as scope:
        if reverse:
            flat = _reverse(flat)
        if initializer is None:
            structure = elems
            init = [x[0] for x in flat]
            rest = [x[1:] for x in flat]
        else:
            structure = initializer
            init = [convert_to_tensor(x) for x in nest.flatten(initializer)]
            rest = flat
        if eager:
            acc = init
            outs: list = [init] if initializer is None and stack else []
            for i in range(_n_rows(rest)):
                res = fn(nest.pack_sequence_as(structure, acc),
                         nest.pack_sequence_as(elems, [x[i] for x in rest]))
                acc = [convert_to_tensor(x) for x in nest.flatten(res)]
                if stack:
                    outs.append(acc)
            if not stack:
                return nest.pack_sequence_as(structure, acc)
            if not outs:
                raise ValueError("scan over zero rows needs a graph (use rt.function) in "
                                 "eager mode")
            result = [array_ops.stack([o[k] for o in outs]) for k in range(len(init))]
        else:
            def body(vs: list, rows: list) -> tuple:
                res = fn(nest.pack_sequence_as(structure, vs),
                         nest.pack_sequence_as(elems, rows))
                new = [convert_to_tensor(x) for x in nest.flatten(res)]
                if len(new) != len(vs):
                    raise ValueError(f"fn must return the structure of the accumulator "
                                     f"({len(vs)} tensors), got {len(new)}")
                return new, (new if stack else [])
            final, stacked = _build_loop(None, body, init, [t.shape for t in init], rest, None,
                                         scope, back_prop)
            if not stack:
                return nest.pack_sequence_as(structure, final)
            result = stacked
            if initializer is None:
                result = [array_ops.concat([array_ops.expand_dims(i0, 0), s], 0)
                          for i0, s in zip(init, result)]
        if reverse:
            result = _reverse(result)
    return nest.pack_sequence_as(structure, result)


__all__ = ["foldl", "foldr", "map_fn", "scan"]

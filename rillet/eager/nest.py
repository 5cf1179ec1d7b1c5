"""Nested structures (lists, tuples, namedtuples, dicts) of leaves: flatten and rebuild."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def is_sequence(x: Any) -> bool:
    return isinstance(x, list | tuple | dict)


def flatten(structure: Any) -> list:
    """The leaves of ``structure`` in order (dicts by sorted key, as TensorFlow)."""
    out: list = []
    stack = [structure]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            stack.extend(x[k] for k in reversed(_sorted_keys(x)))
        elif isinstance(x, list | tuple):
            stack.extend(reversed(x))
        else:
            out.append(x)
    return out


def _sorted_keys(d: dict) -> list:
    try:
        return sorted(d)
    except TypeError:
        return list(d)


def pack_sequence_as(structure: Any, flat: list) -> Any:
    """Rebuilds ``structure`` with the leaves replaced by ``flat`` (in ``flatten`` order)."""
    if not isinstance(structure, list | tuple | dict):
        return flat[0]
    return _build(structure, iter(flat))


def _build(x: Any, it: Iterator) -> Any:
    if isinstance(x, dict):
        vals = {k: _build(x[k], it) for k in _sorted_keys(x)}
        if type(x) is dict:
            return {k: vals[k] for k in x}
        return type(x)((k, vals[k]) for k in x)
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*[_build(v, it) for v in x])
    if isinstance(x, list | tuple):
        return type(x)([_build(v, it) for v in x])
    return next(it)


def map_structure(fn: Callable[[Any], Any], structure: Any) -> Any:
    return pack_sequence_as(structure, [fn(x) for x in flatten(structure)])


def structure_key(structure: Any) -> Any:
    """A hashable description of the nesting (not the leaves) of ``structure``."""
    if isinstance(structure, dict):
        keys = _sorted_keys(structure)
        return (type(structure), tuple(keys), tuple(structure_key(structure[k]) for k in keys))
    if isinstance(structure, list | tuple):
        return (type(structure), tuple(structure_key(v) for v in structure))
    return None

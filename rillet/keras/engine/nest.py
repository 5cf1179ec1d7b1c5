"""Minimal nest utilities for layer inputs/outputs: lists, tuples and dicts are structure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def is_nested(x: Any) -> bool:
    return isinstance(x, list | tuple | dict)


def flatten(x: Any) -> list:
    """Leaves in order (dicts by sorted key, as Keras does)."""
    if isinstance(x, dict):
        return [leaf for k in sorted(x) for leaf in flatten(x[k])]
    if isinstance(x, list | tuple):
        return [leaf for item in x for leaf in flatten(item)]
    return [x]


def pack_as(structure: Any, flat: list) -> Any:
    """Rebuilds ``structure`` with the leaves of ``flat``."""
    it = iter(flat)

    def build(s: Any) -> Any:
        if isinstance(s, dict):
            return {k: build(s[k]) for k in sorted(s)}
        if isinstance(s, list | tuple):
            items = [build(v) for v in s]
            return type(s)(items) if type(s) in (list, tuple) else type(s)(*items)
        return next(it)

    return build(structure)


def map_structure(fn: Callable[[Any], Any], x: Any) -> Any:
    return pack_as(x, [fn(leaf) for leaf in flatten(x)])


def unpack_singleton(x: Any) -> Any:
    """``[a]`` -> ``a``; anything else unchanged."""
    return x[0] if isinstance(x, list | tuple) and len(x) == 1 else x

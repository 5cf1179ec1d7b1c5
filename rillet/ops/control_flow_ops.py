"""Ordering ops: ``no_op``, ``group``, ``tuple``."""

from __future__ import annotations

from typing import Any

from rillet.graph import Operation, get_default_graph
from rillet.registry import NOT_DIFFERENTIABLE, apply_op, convert_to_tensor, register

register("NoOp", infer=lambda op: [], kernel=lambda xp: None, grad=NOT_DIFFERENTIABLE)


def no_op(name: str | None = None) -> Operation:
    """An op that does nothing; useful as a target for control dependencies."""
    return apply_op("NoOp", (), name=name)


def _as_op(x: Any) -> Operation:
    if isinstance(x, Operation):
        return x
    if hasattr(x, "_as_graph_element"):
        x = x._as_graph_element()
    if isinstance(x, Operation):
        return x
    return convert_to_tensor(x).op


def group(*inputs: Any, name: str | None = None) -> Operation:
    """An op that runs all ``inputs`` (tensors or ops) when it runs; it has no output."""
    flat: list = []
    for x in inputs:
        flat.extend(x if isinstance(x, list | tuple) else [x])
    ops = [_as_op(x) for x in flat if x is not None]
    with get_default_graph().control_dependencies(ops):
        return no_op(name=name or "group_deps")


def tuple_(tensors: list, name: str | None = None, control_inputs: list | None = None) -> list:
    """Identities of ``tensors`` that are available only after all of them are computed."""
    from rillet.ops.array_ops import identity
    ts = [None if t is None else convert_to_tensor(t) for t in tensors]
    deps = [t.op for t in ts if t is not None] + [_as_op(c) for c in control_inputs or []]
    g = get_default_graph()
    with g.name_scope(name or "tuple"), g.control_dependencies(deps):
        return [None if t is None else identity(t) for t in ts]

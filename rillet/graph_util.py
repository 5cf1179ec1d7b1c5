"""``graph_util``: freezing a trained graph (``convert_variables_to_constants``) and sub-graph
extraction, on rillet's :class:`~rillet.train.meta_graph.GraphDef`."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet import errors
from rillet.graph import Graph
from rillet.train.meta_graph import (
    GraphDef,
    NodeDef,
    _as_rillet_graph_def,
    _split_input,
    as_graph_def,
)

__all__ = ["convert_variables_to_constants", "extract_sub_graph", "must_run_on_cpu",
           "remove_training_nodes", "tensor_shape_from_node_def_name"]

_log = logging.getLogger(__name__)


def _node_name(name: str) -> str:
    return _split_input(name)[0]


def extract_sub_graph(graph_def: Any, dest_nodes: Sequence[str] | str) -> GraphDef:
    """The nodes ``dest_nodes`` depend on (inputs and control inputs), in the original order."""
    if isinstance(dest_nodes, str):
        raise TypeError("dest_nodes must be a list.")
    gd = _as_graph_def(graph_def)
    by_name = {n.name: n for n in gd.node}
    keep: set[str] = set()
    stack = [_node_name(d) for d in dest_nodes]
    for d in stack:
        if d not in by_name:
            raise AssertionError(f"{d} is not in graph")
    while stack:
        name = stack.pop()
        if name in keep:
            continue
        keep.add(name)
        stack.extend(_node_name(i) for i in by_name[name].input if _node_name(i) in by_name)
    return GraphDef(NodeDef(n.name, n.op, n.input, n.device, n.attr, n.outputs, n.where)
                    for n in gd.node if n.name in keep)


def _as_graph_def(graph_def: Any) -> GraphDef:
    if isinstance(graph_def, Graph):
        return as_graph_def(graph_def)
    return _as_rillet_graph_def(graph_def)


def convert_variables_to_constants(sess: Any, input_graph_def: Any,
                                   output_node_names: Sequence[str],
                                   variable_names_whitelist: Iterable[str] | None = None,
                                   variable_names_blacklist: Iterable[str] | None = None
                                   ) -> GraphDef:
    """Freezes a graph: keeps what ``output_node_names`` need and replaces every variable
    (``VariableV2``) among it by a ``Const`` holding its current value in ``sess``.

    Returns a :class:`GraphDef` for ``import_graph_def`` (or ``SerializeToString()`` to a
    ``.pb`` file). The values are read straight from the Session, like ``Saver``.
    """
    sub = extract_sub_graph(input_graph_def, list(output_node_names))
    white = None if variable_names_whitelist is None else set(variable_names_whitelist)
    black = set(variable_names_blacklist or ())
    out, converted = [], 0
    for n in sub.node:
        if n.op == "VariableV2" and (white is None or n.name in white) and n.name not in black:
            var_name = n.attr.get("shared_name") or n.name
            value = sess._ctx.vars.get(var_name)
            if value is None:
                raise errors.FailedPreconditionError(
                    None, None, f"Attempting to use uninitialized value {var_name} (while "
                    "converting variables to constants)")
            if not isinstance(value, np.ndarray):
                value = value.get() if hasattr(value, "get") else np.asarray(value)
            arr = np.array(value, copy=True)
            arr.flags.writeable = False
            dtype = n.outputs[0][0] if n.outputs else _dt.as_dtype(arr.dtype)
            out.append(NodeDef(n.name, "Const", [i for i in n.input if i.startswith("^")],
                               n.device, {"value": arr, "dtype": dtype},
                               [(dtype, _shape_of(arr))], n.where))
            converted += 1
        else:
            out.append(n)
    _log.info("Converted %d variables to const ops.", converted)
    return GraphDef(out)


def _shape_of(arr: np.ndarray) -> Any:
    from rillet.shapes import TensorShape

    return TensorShape(list(arr.shape))


def remove_training_nodes(input_graph: Any, protected_nodes: Sequence[str] | None = None
                          ) -> GraphDef:
    """Drops ``Identity``/``CheckNumerics`` nodes (rewiring their consumers) except those in
    ``protected_nodes``, as TF does before deployment."""
    gd = _as_graph_def(input_graph)
    protected = set(protected_nodes or ())
    drop = {n.name: n.input[0] for n in gd.node
            if n.op in ("Identity", "CheckNumerics") and n.name not in protected and n.input
            and not n.input[0].startswith("^")
            and not any(i.startswith("^") for i in n.input[1:])}

    def resolve(inp: str) -> str:
        name, idx, ctrl = _split_input(inp)
        seen = 0
        while name in drop and idx == 0 and seen < len(drop) + 1:
            target = drop[name]
            if ctrl:
                return "^" + _node_name(target)
            inp = target
            name, idx, ctrl = _split_input(inp)
            seen += 1
        return inp
    out = [NodeDef(n.name, n.op, [resolve(i) for i in n.input], n.device, n.attr, n.outputs,
                   n.where) for n in gd.node if n.name not in drop]
    return GraphDef(out)


def tensor_shape_from_node_def_name(graph: Graph, input_name: str) -> Any:
    """The static shape of tensor ``input_name`` (``"op"`` means ``"op:0"``)."""
    if ":" not in input_name:
        input_name += ":0"
    return graph.get_tensor_by_name(input_name).shape


def must_run_on_cpu(node: Any, pin_variables_on_cpu: bool = False) -> bool:
    """rillet runs everything it cannot put on the GPU on the CPU; kept for compatibility."""
    return False

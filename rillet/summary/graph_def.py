"""Convert a rillet graph to a TensorBoard ``GraphDef`` (``tensorboard.compat.proto.graph_pb2``).

Only a small duck-typed interface of the graph is used:

* ``graph.get_operations()`` -> operations in creation order;
* ``op.name`` (``"layer1/MatMul"``), ``op.type`` (``"MatMul"``), ``op.device`` (str),
  ``op.inputs`` (tensors with ``.op.name`` and ``.value_index``), ``op.control_inputs``
  (operations), ``op.attrs`` (``dict`` of Python values), ``op.outputs`` (tensors with
  ``.dtype`` — anything with a ``.name`` such as ``"float32"`` — and ``.shape`` — anything with
  ``.as_list()``, which may raise ``ValueError`` when the rank is unknown).

Inputs are written the TF way: ``"name"`` for output 0, ``"name:i"`` for output ``i`` and
``"^name"`` for control inputs (after the data inputs). TensorBoard groups nodes by their
``/``-separated name scopes by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from tensorboard.compat.proto import (
    attr_value_pb2,
    graph_pb2,
    node_def_pb2,
    types_pb2,
    versions_pb2,
)

from rillet.summary.protos import (
    DTYPE_NAME_TO_ENUM,
    dtype_enum,
    make_tensor_proto,
    make_tensor_shape_proto,
)

__all__ = ["attr_value", "graph_to_graph_def", "node_def"]

#: ``GraphDef.versions.producer`` written by rillet.
GRAPH_DEF_VERSION = 27

#: Op types whose output dtype is described by a ``dtype`` attr (others get ``T``).
_DTYPE_ATTR_OPS = frozenset(
    {
        "Placeholder",
        "PlaceholderWithDefault",
        "PlaceholderV2",
        "Const",
        "VariableV2",
        "Variable",
        "VarHandleOp",
        "TemporaryVariable",
    }
)
#: Op types that also get a ``shape`` attr from their output shape.
_SHAPE_ATTR_OPS = frozenset(
    {
        "Placeholder",
        "PlaceholderWithDefault",
        "PlaceholderV2",
        "VariableV2",
        "Variable",
        "VarHandleOp",
    }
)


def _is_dtype(value: Any) -> bool:
    if isinstance(value, np.dtype):
        return True
    if isinstance(value, type):
        if issubclass(value, np.generic):
            return True
        return False
    if isinstance(value, (str, bytes, np.ndarray)):
        return False
    name = getattr(value, "name", None)
    if not isinstance(name, str):
        return False
    base = name[:-4] if name.endswith("_ref") else name
    return base in DTYPE_NAME_TO_ENUM


def _is_shape(value: Any) -> bool:
    return hasattr(value, "as_list") and not isinstance(value, np.ndarray)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_float(value: Any) -> bool:
    return isinstance(value, (float, np.floating))


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _is_text(value: Any) -> bool:
    return isinstance(value, (str, bytes))


def _text(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def _list_attr(
    key: str, items: Sequence[Any], max_tensor_elements: int
) -> attr_value_pb2.AttrValue:
    lv = attr_value_pb2.AttrValue.ListValue()
    if not items:
        return attr_value_pb2.AttrValue(list=lv)
    if all(_is_bool(v) for v in items):
        lv.b.extend(bool(v) for v in items)
    elif all(_is_int(v) for v in items):
        lv.i.extend(int(v) for v in items)
    elif all(_is_int(v) or _is_float(v) for v in items):
        lv.f.extend(float(v) for v in items)
    elif all(_is_text(v) for v in items):
        lv.s.extend(_text(v) for v in items)
    elif all(_is_dtype(v) for v in items):
        lv.type.extend(dtype_enum(_base_dtype(v)) for v in items)
    elif all(_is_shape(v) or v is None for v in items):
        lv.shape.extend(make_tensor_shape_proto(v) for v in items)
    elif all(isinstance(v, np.ndarray) for v in items):
        lv.tensor.extend(make_tensor_proto(v, max_tensor_elements) for v in items)
    elif key.endswith("shapes") and all(isinstance(v, (list, tuple)) for v in items):
        lv.shape.extend(make_tensor_shape_proto(v) for v in items)
    else:
        array = _numeric_array(items)
        if array is None:
            return attr_value_pb2.AttrValue(s=repr(list(items)).encode("utf-8"))
        return attr_value_pb2.AttrValue(tensor=make_tensor_proto(array, max_tensor_elements))
    return attr_value_pb2.AttrValue(list=lv)


def _numeric_array(items: Any) -> np.ndarray | None:
    try:
        array = np.asarray(items)
    except ValueError:  # ragged
        return None
    return array if array.dtype.kind in "biufc" else None


def _base_dtype(dtype: Any) -> Any:
    name = getattr(dtype, "name", None)
    if isinstance(name, str) and name.endswith("_ref"):
        return name[:-4]
    return dtype


def attr_value(
    key: str, value: Any, max_tensor_elements: int = 1024
) -> attr_value_pb2.AttrValue | None:
    """Convert one op attribute to an ``AttrValue`` (``None`` means: leave it out).

    bool -> ``b``, int -> ``i``, float -> ``f``, str/bytes -> ``s``, dtype -> ``type``,
    shape-like (``.as_list()``) -> ``shape``, NumPy array -> ``tensor`` (values only up to
    ``max_tensor_elements``), list/tuple -> ``list`` (or a ``tensor`` for nested numbers).
    ``None`` becomes an unknown-rank shape for keys ending in ``shape`` and is dropped
    otherwise; anything else is written as its ``repr`` in ``s``.
    """
    if value is None:
        if key.endswith("shape"):
            return attr_value_pb2.AttrValue(shape=make_tensor_shape_proto(None))
        return None
    if _is_bool(value):
        return attr_value_pb2.AttrValue(b=bool(value))
    if _is_int(value):
        return attr_value_pb2.AttrValue(i=int(value))
    if _is_float(value):
        return attr_value_pb2.AttrValue(f=float(value))
    if _is_text(value):
        return attr_value_pb2.AttrValue(s=_text(value))
    if _is_dtype(value):
        return attr_value_pb2.AttrValue(type=dtype_enum(_base_dtype(value)))
    if _is_shape(value):
        return attr_value_pb2.AttrValue(shape=make_tensor_shape_proto(value))
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biufcSUO":
            return attr_value_pb2.AttrValue(tensor=make_tensor_proto(value, max_tensor_elements))
        return attr_value_pb2.AttrValue(s=repr(value).encode("utf-8"))
    if isinstance(value, (list, tuple)):
        return _list_attr(key, list(value), max_tensor_elements)
    return attr_value_pb2.AttrValue(s=repr(value).encode("utf-8"))


def _input_name(tensor: Any) -> str:
    index = int(getattr(tensor, "value_index", 0))
    name = tensor.op.name
    return name if index == 0 else f"{name}:{index}"


def _output_shape(tensor: Any) -> Any:
    return getattr(tensor, "shape", None)


def node_def(
    op: Any, add_shapes: bool = True, max_tensor_elements: int = 1024
) -> node_def_pb2.NodeDef:
    """Convert one operation to a ``NodeDef`` (see :func:`graph_to_graph_def`)."""
    node = node_def_pb2.NodeDef(name=str(op.name), op=str(op.type), device=str(op.device or ""))
    inputs = list(getattr(op, "inputs", ()) or ())
    node.input.extend(_input_name(t) for t in inputs)
    node.input.extend(f"^{c.name}" for c in (getattr(op, "control_inputs", ()) or ()))
    attrs = dict(getattr(op, "attrs", None) or {})
    for key in sorted(attrs):
        converted = attr_value(key, attrs[key], max_tensor_elements)
        if converted is not None:
            node.attr[key].CopyFrom(converted)

    outputs = list(getattr(op, "outputs", ()) or ())
    if outputs:
        first = outputs[0]
        first_dtype = getattr(first, "dtype", None)
        if node.op in _DTYPE_ATTR_OPS:
            if "dtype" not in node.attr and first_dtype is not None:
                node.attr["dtype"].type = dtype_enum(_base_dtype(first_dtype))
            if node.op in _SHAPE_ATTR_OPS and "shape" not in node.attr:
                node.attr["shape"].shape.CopyFrom(make_tensor_shape_proto(_output_shape(first)))
    if node.op not in _DTYPE_ATTR_OPS and "T" not in node.attr and inputs:
        input_types = {dtype_enum(_base_dtype(getattr(t, "dtype", None))) for t in inputs}
        if len(input_types) == 1 and types_pb2.DT_INVALID not in input_types:
            node.attr["T"].type = input_types.pop()
    if add_shapes and outputs and "_output_shapes" not in node.attr:
        node.attr["_output_shapes"].list.shape.extend(
            make_tensor_shape_proto(_output_shape(t)) for t in outputs
        )
    return node


def graph_to_graph_def(
    graph: Any, add_shapes: bool = True, max_tensor_elements: int = 1024
) -> graph_pb2.GraphDef:
    """Convert a rillet graph to a ``graph_pb2.GraphDef`` for ``FileWriter.add_graph``.

    Args:
      graph: anything with ``get_operations()`` (see the module docstring for the interface).
      add_shapes: add the ``_output_shapes`` attr (one ``TensorShapeProto`` per output, unknown
        rank when the shape is unknown) so TensorBoard's graph view labels edges with shapes.
      max_tensor_elements: tensor attrs (e.g. ``Const`` values) with more elements keep only
        their dtype and shape.

    Besides the op's own ``attrs``, ops get ``dtype`` (and ``shape`` for placeholders and
    variables) from their first output, and other ops a ``T`` attr when all their inputs share
    one dtype — the attrs TensorBoard shows for TF graphs.
    """
    graph_def = graph_pb2.GraphDef(versions=versions_pb2.VersionDef(producer=GRAPH_DEF_VERSION))
    for op in graph.get_operations():
        graph_def.node.append(node_def(op, add_shapes, max_tensor_elements))
    return graph_def

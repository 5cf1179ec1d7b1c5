"""Graph export and import: ``export_meta_graph`` / ``import_meta_graph``, ``GraphDef``,
``import_graph_def``.

A meta graph file (``model.ckpt-100.meta``) is UTF-8 JSON, versioned, with no pickle::

    {"format": "rillet-meta-graph", "version": 1,
     "meta_info_def": {"rillet_version": "0.1.0", "tags": [], ...},
     "graph_def": {"versions": {"producer": 1}, "node": [NODE, ...]},
     "variables": {"w": {"initializer": "w/Assign", "snapshot": "w/read:0",
                         "initial_value": "w/initial_value:0", "trainable": true}},
     "collection_def": {"variables": [{"variable": "w"}], "train_op": [{"op": "Adam"}], ...},
     "saver_def": {"var_map": {"w": "w"}, "max_to_keep": 5, ...} or null}

    NODE = {"name": "layer1/MatMul", "op": "MatMul", "input": ["x", "layer1/w/read"],
            "device": "", "attr": {...}, "out": [["float32", [null, 500]]],
            "where": ["train.py", 12, "<module>"]}

Inputs follow TensorFlow (``"op"`` is output 0, ``"op:1"``, control inputs ``"^op"``). Attr
values are JSON with tagged objects for what JSON lacks: ``{"__dtype__": "float32"}``,
``{"__shape__": [null, 3]}``, ``{"__nd__": "<f4", "shape": [2], "b64": ...}`` (arrays as
base64 of their little-endian bytes, ``"fill"`` instead of ``"b64"`` when every element is the
same; string arrays as item lists), ``{"__tuple__": [...]}``,
``{"__bytes__": b64}``, ``{"__slice__": [a, b, c]}``, ``{"__tensor__": "op:0"}``,
``{"__op__": "op"}``. A value that cannot be encoded (a Python function, a dataset object) is
written as ``{"__opaque__": repr}``: the graph still imports, but running that op raises
``UnimplementedError``. Name scopes are implicit in the names.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from rillet import context, errors, registry
from rillet import dtypes as _dt
from rillet.graph import Graph, GraphKeys, Operation, Tensor, get_default_graph
from rillet.shapes import TensorShape

__all__ = [
    "FORMAT_NAME", "FORMAT_VERSION", "GraphDef", "MetaGraphDef", "NodeDef", "OpaqueAttr",
    "as_graph_def", "export_meta_graph", "import_graph_def", "import_meta_graph",
    "read_meta_graph_file",
]

_log = logging.getLogger(__name__)

FORMAT_NAME = "rillet-meta-graph"
FORMAT_VERSION = 1
GRAPH_FORMAT_NAME = "rillet-graph-def"


# --------------------------------------------------------------------------------------------
# attr values <-> JSON
# --------------------------------------------------------------------------------------------


class OpaqueAttr:
    """Stands in for an attr value that could not be exported; using it raises."""

    def __init__(self, key: str, description: str):
        self.key = key
        self.description = description

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise errors.UnimplementedError(
            None, None, f"attr {self.key!r} ({self.description}) was not exported with the "
            "graph (it is not serializable), so this op cannot run after import; rebuild it "
            "from Python code")

    __call__ = __iter__ = __len__ = __getitem__ = __array__ = _fail

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._fail()

    def __repr__(self) -> str:
        return f"<OpaqueAttr {self.key}: {self.description}>"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _enc_array(a: np.ndarray, key: str) -> Any:
    kind = a.dtype.kind
    if kind in "biufc":
        le = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        if a.size > 16 and _all_same_bytes(le):  # e.g. zeros: one value, like TF's protos
            return {"__nd__": le.dtype.str, "shape": list(a.shape),
                    "fill": _b64(le.reshape(-1)[:1].tobytes())}
        return {"__nd__": le.dtype.str, "shape": list(a.shape), "b64": _b64(le.tobytes())}
    if kind in "OSU":
        items = [_enc(x, key) for x in a.reshape(-1).tolist()]
        return {"__nd__": "O" if kind == "O" else a.dtype.str, "shape": list(a.shape),
                "items": items}
    return {"__opaque__": f"ndarray of dtype {a.dtype}"}


def _all_same_bytes(a: np.ndarray) -> bool:
    rows = a.reshape(-1).view(np.uint8).reshape(a.size, a.dtype.itemsize)
    return bool((rows == rows[0]).all())


def _enc(v: Any, key: str = "") -> Any:
    """One attr value as JSON (see the module docstring)."""
    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, int) and not isinstance(v, np.integer):
        return v
    if isinstance(v, float) and not isinstance(v, np.floating):
        return v
    if isinstance(v, _dt.DType):
        return {"__dtype__": v.name}
    if isinstance(v, TensorShape):
        return {"__shape__": v.as_list() if v.ndims is not None else None}
    if isinstance(v, np.ndarray):
        return _enc_array(v, key)
    if isinstance(v, np.generic):
        a = np.asarray(v)
        if a.dtype.kind in "biufc":
            return {"__np__": a.dtype.newbyteorder("<").str,
                    "b64": _b64(np.ascontiguousarray(a, a.dtype.newbyteorder("<")).tobytes())}
        return {"__opaque__": repr(v)}
    if isinstance(v, bytes | bytearray):
        return {"__bytes__": _b64(bytes(v))}
    if isinstance(v, complex):
        return {"__complex__": [v.real, v.imag]}
    if isinstance(v, list):
        return [_enc(x, key) for x in v]
    if isinstance(v, tuple):
        return {"__tuple__": [_enc(x, key) for x in v]}
    if isinstance(v, frozenset | set):
        return {"__set__": [_enc(x, key) for x in v], "frozen": isinstance(v, frozenset)}
    if isinstance(v, dict):
        return {"__dict__": [[_enc(k, key), _enc(x, key)] for k, x in v.items()]}
    if isinstance(v, slice):
        return {"__slice__": [_enc(v.start, key), _enc(v.stop, key), _enc(v.step, key)]}
    if v is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(v, Tensor):
        return {"__tensor__": v.name}
    if isinstance(v, Operation):
        return {"__op__": v.name}
    if isinstance(v, type) and issubclass(v, np.generic):
        return {"__nptype__": np.dtype(v).name}
    if isinstance(v, OpaqueAttr):
        return {"__opaque__": v.description}
    return {"__opaque__": f"{type(v).__name__}: {_short_repr(v)}"}


def _short_repr(v: Any) -> str:
    try:
        r = repr(v)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not break export
        r = object.__repr__(v)
    return r if len(r) <= 200 else r[:197] + "..."


def _dec(v: Any, key: str = "") -> Any:
    if not isinstance(v, dict | list):
        return v
    if isinstance(v, list):
        return [_dec(x, key) for x in v]
    if "__dtype__" in v:
        return _dt.as_dtype(v["__dtype__"])
    if "__shape__" in v:
        return TensorShape(v["__shape__"])
    if "__nd__" in v:
        return _dec_array(v, key)
    if "__np__" in v:
        return np.frombuffer(base64.b64decode(v["b64"]), dtype=np.dtype(v["__np__"]))[0]
    if "__bytes__" in v:
        return base64.b64decode(v["__bytes__"])
    if "__complex__" in v:
        return complex(*v["__complex__"])
    if "__tuple__" in v:
        return tuple(_dec(x, key) for x in v["__tuple__"])
    if "__set__" in v:
        items = [_dec(x, key) for x in v["__set__"]]
        return frozenset(items) if v.get("frozen") else set(items)
    if "__dict__" in v:
        return {_dec(k, key): _dec(x, key) for k, x in v["__dict__"]}
    if "__slice__" in v:
        return slice(*[_dec(x, key) for x in v["__slice__"]])
    if "__ellipsis__" in v:
        return Ellipsis
    if "__nptype__" in v:
        return np.dtype(v["__nptype__"]).type
    if "__tensor__" in v or "__op__" in v:
        return _Ref("tensor" if "__tensor__" in v else "op",
                    v.get("__tensor__", v.get("__op__")))
    if "__opaque__" in v:
        return OpaqueAttr(key, str(v["__opaque__"]))
    raise ValueError(f"Unknown tagged value in meta graph attr {key!r}: {sorted(v)}")


def _dec_array(v: dict, key: str) -> np.ndarray:
    shape = tuple(v["shape"])
    if "fill" in v:
        dt = np.dtype(v["__nd__"])
        one = np.frombuffer(base64.b64decode(v["fill"]), dtype=dt)[0]
        a = np.full(shape, one, dtype=dt.newbyteorder("="))
    elif "b64" in v:
        dt = np.dtype(v["__nd__"])
        a = np.frombuffer(base64.b64decode(v["b64"]), dtype=dt).reshape(shape)
        a = a.astype(dt.newbyteorder("="), copy=True)
    else:
        items = [_dec(x, key) for x in v["items"]]
        dt = np.dtype(object) if v["__nd__"] == "O" else np.dtype(v["__nd__"])
        a = np.empty(len(items), dtype=dt)
        a[:] = items if dt.kind != "O" else _object_items(items)
        a = a.reshape(shape)
    a.flags.writeable = False
    return a


def _object_items(items: list) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    for i, x in enumerate(items):
        out[i] = x
    return out


class _Ref:
    __slots__ = ("kind", "name")

    def __init__(self, kind: str, name: str):
        self.kind, self.name = kind, name


def _has_refs(v: Any) -> bool:
    if isinstance(v, _Ref):
        return True
    if isinstance(v, list | tuple | set | frozenset):
        return any(_has_refs(x) for x in v)
    if isinstance(v, dict):
        return any(_has_refs(k) or _has_refs(x) for k, x in v.items())
    if isinstance(v, slice):
        return any(_has_refs(x) for x in (v.start, v.stop, v.step))
    return False


def _resolve_refs(v: Any, lookup: Any) -> Any:
    if isinstance(v, _Ref):
        return lookup(v)
    if isinstance(v, list):
        return [_resolve_refs(x, lookup) for x in v]
    if isinstance(v, tuple):
        return tuple(_resolve_refs(x, lookup) for x in v)
    if isinstance(v, set | frozenset):
        return type(v)(_resolve_refs(x, lookup) for x in v)
    if isinstance(v, dict):
        return {_resolve_refs(k, lookup): _resolve_refs(x, lookup) for k, x in v.items()}
    if isinstance(v, slice):
        return slice(*[_resolve_refs(x, lookup) for x in (v.start, v.stop, v.step)])
    return v


# --------------------------------------------------------------------------------------------
# GraphDef
# --------------------------------------------------------------------------------------------


def _input_name(t: Any) -> str:
    return t.op.name if t.value_index == 0 else f"{t.op.name}:{t.value_index}"


def _split_input(name: str) -> tuple[str, int, bool]:
    """``"^op"`` -> (op, -1, True); ``"op:2"`` -> (op, 2, False); ``"op"`` -> (op, 0, False)."""
    if name.startswith("^"):
        return name[1:], -1, True
    op, sep, idx = name.rpartition(":")
    if sep and idx.isdigit():
        return op, int(idx), False
    return name, 0, False


class NodeDef:
    """One op of a ``GraphDef``: ``name``, ``op`` (type), ``input``, ``device``, ``attr``
    (Python values) and the outputs' dtypes and static shapes."""

    __slots__ = ("name", "op", "input", "device", "attr", "outputs", "where")

    def __init__(self, name: str = "", op: str = "", input: Sequence[str] = (),
                 device: str = "", attr: dict | None = None,
                 outputs: Sequence[tuple[_dt.DType, TensorShape]] = (),
                 where: Sequence[Any] | None = None):
        self.name = name
        self.op = op
        self.input = list(input)
        self.device = device
        self.attr = dict(attr or {})
        self.outputs = list(outputs)
        self.where = tuple(where) if where else None

    @classmethod
    def from_op(cls, op: Operation, clear_devices: bool = False) -> NodeDef:
        return cls(op.name, op.type, [_input_name(t) for t in op.inputs]
                   + ["^" + c.name for c in op.control_inputs],
                   "" if clear_devices else op.device, dict(op.attrs),
                   [(t.dtype, t.shape) for t in op.outputs], op.traceback)

    def to_json(self) -> dict:
        d: dict[str, Any] = {"name": self.name, "op": self.op, "input": list(self.input),
                             "device": self.device,
                             "attr": {k: _enc(v, k) for k, v in self.attr.items()},
                             "out": [[dt.name, sh.as_list() if sh.ndims is not None else None]
                                     for dt, sh in self.outputs]}
        if self.where:
            d["where"] = list(self.where)
        return d

    @classmethod
    def from_json(cls, d: dict) -> NodeDef:
        return cls(d["name"], d["op"], d.get("input", []), d.get("device", ""),
                   {k: _dec(v, k) for k, v in d.get("attr", {}).items()},
                   [(_dt.as_dtype(dt), TensorShape(sh)) for dt, sh in d.get("out", [])],
                   d.get("where"))

    def __repr__(self) -> str:
        return f"<NodeDef {self.name!r} op={self.op}>"


class GraphDef:
    """A serializable graph (TF's ``GraphDef`` role): ``node`` is a list of :class:`NodeDef`.

    ``SerializeToString()`` / ``ParseFromString()`` use rillet's JSON format (exact: constants
    keep every value); ``to_proto()`` gives TensorBoard's ``graph_pb2.GraphDef``.
    ``FileWriter.add_graph(graph_def)`` and ``io.write_graph`` accept it.
    """

    def __init__(self, node: Iterable[NodeDef] = ()):
        self.node: list[NodeDef] = list(node)
        self.versions = {"producer": FORMAT_VERSION}
        self.library = None

    # -- conversion ---------------------------------------------------------------------
    def to_json(self) -> dict:
        return {"versions": dict(self.versions), "node": [n.to_json() for n in self.node]}

    @classmethod
    def from_json(cls, d: dict) -> GraphDef:
        g = cls(NodeDef.from_json(n) for n in d.get("node", []))
        g.versions = dict(d.get("versions", g.versions))
        return g

    def SerializeToString(self) -> bytes:  # noqa: N802 - protobuf's name
        doc = {"format": GRAPH_FORMAT_NAME, "version": FORMAT_VERSION, **self.to_json()}
        return json.dumps(doc, separators=(",", ":")).encode("utf-8")

    def ParseFromString(self, data: bytes) -> None:  # noqa: N802 - protobuf's name
        doc = _load_json(data, "GraphDef")
        if doc.get("format") != GRAPH_FORMAT_NAME:
            raise ValueError("Not a rillet GraphDef (missing format marker)")
        _check_version(doc)
        other = GraphDef.from_json(doc)
        self.node, self.versions = other.node, other.versions

    MergeFromString = ParseFromString

    @classmethod
    def FromString(cls, data: bytes) -> GraphDef:  # noqa: N802 - protobuf's name
        g = cls()
        g.ParseFromString(data)
        return g

    def ByteSize(self) -> int:  # noqa: N802 - protobuf's name
        return len(self.SerializeToString())

    def get_operations(self) -> list:
        """Op-like views of the nodes (what ``summary.graph_def`` converts for TensorBoard)."""
        return _op_views(self.node)

    def to_proto(self, add_shapes: bool = True, max_tensor_elements: int | None = 1024) -> Any:
        """TensorBoard's ``graph_pb2.GraphDef`` for this graph."""
        from rillet.summary.graph_def import graph_to_graph_def

        return graph_to_graph_def(self, add_shapes, max_tensor_elements)

    def __len__(self) -> int:
        return len(self.node)

    def __repr__(self) -> str:
        return f"<rillet.GraphDef with {len(self.node)} nodes>"


class _TensorView:
    __slots__ = ("op", "value_index", "dtype", "shape")

    def __init__(self, op: Any, value_index: int, dtype: Any, shape: Any):
        self.op, self.value_index, self.dtype, self.shape = op, value_index, dtype, shape


class _OpView:
    __slots__ = ("name", "type", "device", "attrs", "inputs", "control_inputs", "outputs")

    def __init__(self, n: NodeDef):
        self.name, self.type, self.device, self.attrs = n.name, n.op, n.device, n.attr
        self.inputs: list = []
        self.control_inputs: list = []
        self.outputs = [_TensorView(self, i, dt, sh) for i, (dt, sh) in enumerate(n.outputs)]


def _op_views(nodes: Sequence[NodeDef]) -> list[_OpView]:
    views = {n.name: _OpView(n) for n in nodes}
    for n in nodes:
        v = views[n.name]
        for inp in n.input:
            name, idx, ctrl = _split_input(inp)
            src = views.get(name)
            if src is None:
                continue
            if ctrl:
                v.control_inputs.append(src)
            elif idx < len(src.outputs):
                v.inputs.append(src.outputs[idx])
            else:
                v.inputs.append(_TensorView(src, idx, None, None))
    return [views[n.name] for n in nodes]


def as_graph_def(graph: Graph | None = None, from_version: int | None = None,
                 add_shapes: bool = False, clear_devices: bool = False) -> GraphDef:
    """The graph as a :class:`GraphDef` (``Graph.as_graph_def()``)."""
    graph = graph if graph is not None else get_default_graph()
    return GraphDef(NodeDef.from_op(op, clear_devices) for op in graph.get_operations())




# --------------------------------------------------------------------------------------------
# importing nodes into a graph
# --------------------------------------------------------------------------------------------


def _ensure_ops_registered() -> None:
    import rillet  # noqa: F401  (registers the op library)
    import rillet.summary.ops  # noqa: F401


def _free_name(g: Graph, name: str, wanted: set[str]) -> str:
    """``name`` unless an op of ``g`` has it; then ``name_1``, ``name_2``, ... (avoiding the
    other names being imported, ``wanted``)."""
    if name not in g._by_name:
        return name
    i = 1
    while (f"{name}_{i}" in g._by_name or f"{name}_{i}".lower() in g._names_in_use
           or f"{name}_{i}" in wanted):
        i += 1
    return f"{name}_{i}"


def _mark_name(g: Graph, name: str) -> None:
    """Reserves ``name`` and its scope prefixes so later ops and scopes do not collide."""
    parts = name.split("/")
    for i in range(1, len(parts) + 1):
        key = "/".join(parts[:i]).lower()
        if key not in g._names_in_use:
            g._names_in_use[key] = 1


def _proto_node_defs(proto: Any) -> list[NodeDef]:
    """Best-effort conversion of a TensorBoard/TF ``graph_pb2.GraphDef`` (outputs unknown)."""
    from tensorboard.util import tensor_util

    type_names = {v: k for k, v in _proto_dtype_enums().items()}

    def shape(s: Any) -> TensorShape:
        return TensorShape(None if s.unknown_rank else [None if d.size < 0 else d.size
                                                        for d in s.dim])

    def attr(a: Any) -> Any:
        which = a.WhichOneof("value")
        if which == "list":
            lv = a.list
            for f in ("s", "i", "f", "b", "type", "shape", "tensor"):
                items = getattr(lv, f)
                if len(items):
                    return [attr_scalar(f, x) for x in items]
            return []
        return attr_scalar(which, getattr(a, which)) if which else None

    def attr_scalar(which: str, x: Any) -> Any:
        if which == "s":
            try:
                return x.decode("utf-8")
            except UnicodeDecodeError:
                return x
        if which == "type":
            return _dt.as_dtype(type_names.get(x, "float32"))
        if which == "shape":
            return shape(x)
        if which == "tensor":
            arr = tensor_util.make_ndarray(x)
            if arr.dtype.kind in "SU":
                arr = arr.astype(object)
            arr.flags.writeable = False
            return arr
        return x

    out = []
    for n in proto.node:
        attrs = {k: attr(v) for k, v in n.attr.items() if not k.startswith("_output_shapes")}
        if n.op not in ("Const",):
            attrs.pop("T", None)
        out.append(NodeDef(n.name, n.op, list(n.input), n.device, attrs, [], None))
    return out


def _rename_vars(v: Any, rename: dict[str, str]) -> Any:
    if isinstance(v, str):
        return rename.get(v, v)
    if isinstance(v, list | tuple) and v and all(isinstance(x, str) for x in v):
        return type(v)(rename.get(x, x) for x in v)
    return v


def _proto_dtype_enums() -> dict[str, int]:
    from rillet.summary.protos import DTYPE_NAME_TO_ENUM

    return {k: v for k, v in DTYPE_NAME_TO_ENUM.items() if k in _dt._BY_NAME}


def _import_nodes(g: Graph, nodes: Sequence[NodeDef], prefix: str = "",
                  input_map: dict | None = None, clear_devices: bool = False
                  ) -> dict[str, Operation]:
    """Creates ``nodes`` in ``g``; returns {name in the GraphDef: new Operation}."""
    _ensure_ops_registered()
    input_map = {(k if ":" in k else f"{k}:0"): v for k, v in (input_map or {}).items()}
    for k, v in input_map.items():
        if not isinstance(v, Tensor):
            raise TypeError(f"input_map values must be Tensors, got {v!r} for {k!r}")
    new_ops: dict[str, Operation] = {}
    saved_stack = g._name_stack
    g._name_stack = ""
    try:
        # Names first (uniquified against the graph), and the renaming of variables, whose
        # names stateful ops (Assign, Apply*, ...) carry in string attrs.
        new_names: dict[str, str] = {}
        var_rename: dict[str, str] = {}
        wanted = {prefix + n.name for n in nodes}
        for n in nodes:
            new_name = _free_name(g, prefix + n.name, wanted)
            wanted.add(new_name)
            new_names[n.name] = new_name
            if n.op == "VariableV2":
                shared = n.attr.get("shared_name") or n.name
                new_shared = new_name if shared == n.name else prefix + shared
                if new_shared != shared:
                    var_rename[shared] = new_shared
        for new_name in new_names.values():
            _mark_name(g, new_name)
        for n in nodes:
            try:
                opdef = registry.get(n.op)
            except KeyError:
                raise ValueError(f"Op type not registered '{n.op}' (node {n.name!r}); import "
                                 "the module that defines it first") from None
            inputs = []
            for inp in n.input:
                name, idx, ctrl = _split_input(inp)
                if ctrl:
                    continue
                mapped = input_map.get(f"{name}:{idx}")
                if mapped is not None:
                    inputs.append(mapped)
                    continue
                src = new_ops.get(name)
                if src is None:
                    raise ValueError(f"Node {n.name!r}: input {inp!r} is not defined before "
                                     "it in the graph")
                if idx >= len(src.outputs):
                    raise ValueError(f"Node {n.name!r}: input {inp!r} refers to output {idx} "
                                     f"but {name!r} has {len(src.outputs)} outputs")
                inputs.append(src.outputs[idx])
            attrs = dict(n.attr)
            new_name = new_names[n.name]
            if var_rename and opdef.needs_ctx:
                attrs = {k: _rename_vars(v, var_rename) for k, v in attrs.items()}
            outs = n.outputs
            if not outs:  # from a protobuf GraphDef: infer
                try:
                    outs = registry.run_inference(opdef, registry.OpSpec(
                        n.op, new_name, tuple(inputs), attrs))
                except KeyError as e:
                    raise ValueError(f"Cannot import node {n.name!r} ({n.op}) from a protobuf "
                                     f"GraphDef: attr {e} is missing (protobuf import is best "
                                     "effort; use rillet's GraphDef or a meta graph)") from None
            op = g._add_op(n.op, tuple(inputs), attrs, new_name)
            op.control_inputs = []
            op.device = "" if clear_devices else (n.device or "")
            if n.where:
                op.traceback = tuple(n.where)
            op.outputs = tuple(Tensor(op, i, dt, TensorShape(sh))
                               for i, (dt, sh) in enumerate(outs))
            new_ops[n.name] = op
        # Control inputs (they may point forward) and tensor/op references in attrs.
        for n in nodes:
            op = new_ops[n.name]
            ctrls = []
            for inp in n.input:
                name, _, ctrl = _split_input(inp)
                if ctrl:
                    c = new_ops.get(name)
                    if c is None:
                        raise ValueError(f"Node {n.name!r}: control input {inp!r} not found")
                    ctrls.append(c)
            op.control_inputs = ctrls
            if any(_has_refs(v) for v in op.attrs.values()):
                def lookup(r: _Ref, node: str = n.name) -> Any:
                    name, idx, _ = _split_input(r.name)
                    target = new_ops.get(name)
                    if target is None:
                        raise ValueError(f"Node {node!r}: attr refers to unknown {r.name!r}")
                    return target.outputs[idx] if r.kind == "tensor" else target
                op.attrs = {k: _resolve_refs(v, lookup) for k, v in op.attrs.items()}
        g._mutations += 1
    finally:
        g._name_stack = saved_stack
    return new_ops


def import_graph_def(graph_def: Any, input_map: dict | None = None,
                     return_elements: Sequence[str] | None = None, name: str | None = None,
                     op_dict: Any = None, producer_op_list: Any = None) -> list | None:
    """Imports a :class:`GraphDef` (or its serialized bytes, or a TensorBoard/TF
    ``graph_pb2.GraphDef``) into the default graph under the name scope ``name`` (default
    ``"import"``; ``""`` for none). ``input_map`` maps tensor names of ``graph_def`` to existing
    tensors; returns the tensors/ops named in ``return_elements``."""
    gd = _as_rillet_graph_def(graph_def)
    g = get_default_graph()
    prefix = g.get_name_scope()
    scope = "import" if name is None else name
    if scope:
        with g.name_scope(scope) as s:
            prefix = s
    elif prefix:
        prefix += "/"
    new_ops = _import_nodes(g, gd.node, prefix, input_map)
    if return_elements is None:
        return None
    out = []
    for el in return_elements:
        nm, idx, _ = _split_input(el)
        op = new_ops.get(nm)
        if op is None:
            raise ValueError(f"Requested return_element {el!r} not found in graph_def.")
        out.append(op.outputs[idx] if ":" in el else op)
    return out


def _as_rillet_graph_def(graph_def: Any) -> GraphDef:
    if isinstance(graph_def, GraphDef):
        return graph_def
    if isinstance(graph_def, Graph):
        return as_graph_def(graph_def)
    if isinstance(graph_def, bytes | bytearray):
        try:
            return GraphDef.FromString(bytes(graph_def))
        except ValueError:
            from tensorboard.compat.proto import graph_pb2

            return GraphDef(_proto_node_defs(graph_pb2.GraphDef.FromString(bytes(graph_def))))
    if hasattr(graph_def, "node") and hasattr(graph_def, "SerializeToString"):
        return GraphDef(_proto_node_defs(graph_def))
    raise TypeError(f"graph_def must be a GraphDef, got {type(graph_def).__name__}")


# --------------------------------------------------------------------------------------------
# MetaGraphDef
# --------------------------------------------------------------------------------------------


def _load_json(data: Any, what: str) -> dict:
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"Not a rillet {what}: the data is not UTF-8 JSON (a TensorFlow "
                             "protobuf file cannot be read)") from None
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise ValueError(f"Not a rillet {what}: {e}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"Not a rillet {what}")
    return doc


def _check_version(doc: dict) -> None:
    v = doc.get("version")
    if not isinstance(v, int) or v > FORMAT_VERSION:
        raise ValueError(f"Unsupported {doc.get('format')} version {v!r} (this rillet reads up "
                         f"to version {FORMAT_VERSION}); upgrade rillet")


class MetaGraphDef:
    """A graph with its collections, variables and Saver settings (TF's ``MetaGraphDef``)."""

    def __init__(self, graph_def: GraphDef | None = None, collection_def: dict | None = None,
                 saver_def: dict | None = None, meta_info_def: dict | None = None,
                 variables: dict | None = None):
        self.graph_def = graph_def if graph_def is not None else GraphDef()
        self.collection_def = dict(collection_def or {})
        self.saver_def = saver_def
        self.meta_info_def = dict(meta_info_def or {})
        self.variables = dict(variables or {})

    def to_json(self) -> dict:
        return {"format": FORMAT_NAME, "version": FORMAT_VERSION,
                "meta_info_def": self.meta_info_def, "graph_def": self.graph_def.to_json(),
                "variables": self.variables, "collection_def": self.collection_def,
                "saver_def": self.saver_def}

    @classmethod
    def from_json(cls, doc: dict) -> MetaGraphDef:
        if doc.get("format") != FORMAT_NAME:
            raise ValueError("Not a rillet meta graph (missing 'rillet-meta-graph' marker)")
        _check_version(doc)
        return cls(GraphDef.from_json(doc.get("graph_def", {})), doc.get("collection_def"),
                   doc.get("saver_def"), doc.get("meta_info_def"), doc.get("variables"))

    def SerializeToString(self) -> bytes:  # noqa: N802 - protobuf's name
        return json.dumps(self.to_json(), separators=(",", ":")).encode("utf-8")

    @classmethod
    def FromString(cls, data: bytes) -> MetaGraphDef:  # noqa: N802 - protobuf's name
        return cls.from_json(_load_json(data, "meta graph"))

    def ParseFromString(self, data: bytes) -> None:  # noqa: N802 - protobuf's name
        other = MetaGraphDef.FromString(data)
        self.__dict__.update(other.__dict__)

    def HasField(self, name: str) -> bool:  # noqa: N802 - protobuf's name
        return getattr(self, name, None) is not None

    def __repr__(self) -> str:
        return (f"<rillet.MetaGraphDef: {len(self.graph_def.node)} nodes, "
                f"{len(self.collection_def)} collections>")


def _variable_info(v: Any) -> dict:
    return {"initializer": v.initializer.name if v.initializer is not None else None,
            "snapshot": v._snapshot.name if getattr(v, "_snapshot", None) is not None else None,
            "initial_value": v._initial_value.name
            if isinstance(getattr(v, "_initial_value", None), Tensor) else None,
            "trainable": bool(v.trainable)}


def _is_graph_variable(v: Any) -> bool:
    from rillet.variables import Variable

    return isinstance(v, Variable) and isinstance(getattr(v, "_variable", None), Tensor)


def _strip(name: str | None, scope: str | None) -> str | None:
    if name is None or not scope:
        return name
    if name.startswith(scope + "/"):
        return name[len(scope) + 1:]
    return None


def export_meta_graph(filename: str | None = None, meta_info_def: dict | None = None,
                      graph_def: Any = None, saver_def: Any = None,
                      collection_list: Sequence[str] | None = None, as_text: bool = False,
                      graph: Graph | None = None, export_scope: str | None = None,
                      clear_devices: bool = False, clear_extraneous_savers: bool = False,
                      strip_default_attrs: bool = False, saver: Any = None,
                      **kwargs: Any) -> MetaGraphDef:
    """Serialises ``graph`` (default: the default graph) with its collections, variables and
    the Saver's settings; writes it to ``filename`` (atomically) when given.

    ``export_scope`` keeps only ops under that name scope (names made relative to it);
    ``collection_list`` restricts the collections; ``clear_devices`` drops device strings.
    Collection items that are not variables, tensors, ops or plain values are skipped (logged).
    """
    from rillet import __version__

    if graph is None and context.executing_eagerly():
        raise RuntimeError("Exporting/importing meta graphs is not supported when eager "
                           "execution is enabled. No graph exists when eager execution is "
                           "enabled.")
    graph = graph if graph is not None else get_default_graph()
    ops = graph.get_operations()
    scope = export_scope.rstrip("/") if export_scope else None
    if scope:
        ops = [op for op in ops if op.name.startswith(scope + "/")]
        kept = set(ops)
        for op in ops:
            for t in op.inputs:
                if t.op not in kept:
                    raise ValueError(f"export_scope {scope!r}: op {op.name!r} has input "
                                     f"{t.name!r} outside the scope")
    nodes = []
    for op in ops:
        nd = NodeDef.from_op(op, clear_devices)
        if scope:
            nd = _rescope(nd, scope, {o.name for o in ops})
        nodes.append(nd)
    gd = graph_def if isinstance(graph_def, GraphDef) else GraphDef(nodes)
    # variables and collections
    variables: dict[str, dict] = {}
    collections: dict[str, list] = {}
    keys = graph.get_all_collection_keys() if collection_list is None else list(collection_list)
    for key in keys:
        items = []
        for item in graph.get_collection(key):
            enc = _encode_collection_item(item, scope, variables)
            if enc is None:
                _log.warning("Issue encountered when serializing %s: %r is not a variable, "
                             "tensor, operation or plain value; skipped.", key, item)
                continue
            if enc is not False:  # False: outside the export scope
                items.append(enc)
        collections[key] = items
    if saver is not None:
        sdef = saver.to_dict(scope)
    elif saver_def is not None:
        sdef = saver_def.to_dict() if hasattr(saver_def, "to_dict") else dict(saver_def)
    else:
        sdef = None
    info = {"rillet_version": __version__, "tags": [], "stripped_default_attrs": False}
    info.update(meta_info_def or {})
    meta = MetaGraphDef(gd, collections, sdef, info, variables)
    if filename:
        from rillet.train.checkpoint_io import atomic_write_bytes

        parent = os.path.dirname(os.path.abspath(os.fspath(filename)))
        os.makedirs(parent, exist_ok=True)
        atomic_write_bytes(filename, meta.SerializeToString())
    return meta


def _rescope(nd: NodeDef, scope: str, names: set[str]) -> NodeDef:
    cut = len(scope) + 1
    inputs = []
    for inp in nd.input:
        name, idx, ctrl = _split_input(inp)
        if name not in names:
            if ctrl:
                continue
            raise ValueError(f"export_scope {scope!r}: {nd.name!r} depends on {inp!r}")
        short = name[cut:]
        inputs.append("^" + short if ctrl else (short if idx == 0 else f"{short}:{idx}"))
    attrs = dict(nd.attr)
    try:
        needs_ctx = registry.get(nd.op).needs_ctx
    except KeyError:
        needs_ctx = False
    if needs_ctx:  # variable names in attrs of stateful ops

        def cut_name(x: Any) -> Any:
            return x[cut:] if isinstance(x, str) and x.startswith(scope + "/") else x
        attrs = {k: (type(v)(cut_name(x) for x in v) if isinstance(v, list | tuple)
                     else cut_name(v)) for k, v in attrs.items()}
    return NodeDef(nd.name[cut:], nd.op, inputs, nd.device, attrs, nd.outputs, nd.where)


def _encode_collection_item(item: Any, scope: str | None, variables: dict) -> Any:
    if _is_graph_variable(item):
        name = _strip(item.op.name, scope)
        if name is None:
            return False
        info = _variable_info(item)
        if scope:
            info = {k: (_strip(v, scope) if isinstance(v, str) else v) for k, v in info.items()}
        variables[name] = info
        return {"variable": name}
    if isinstance(item, Tensor):
        name = _strip(item.name, scope)
        return False if name is None else {"tensor": name}
    if isinstance(item, Operation):
        name = _strip(item.name, scope)
        return False if name is None else {"op": name}
    if item is None or isinstance(item, bool | int | float | str):
        return {"value": item}
    if isinstance(item, bytes):
        return {"bytes": _b64(item)}
    return None


def read_meta_graph_file(filename: str) -> MetaGraphDef:
    """Reads a ``.meta`` file written by ``export_meta_graph`` / ``Saver.save``."""
    filename = os.fspath(filename)
    if not os.path.exists(filename):
        raise OSError(f"File {filename} does not exist.")
    with open(filename, "rb") as f:
        data = f.read()
    try:
        return MetaGraphDef.FromString(data)
    except ValueError as e:
        raise ValueError(f"Cannot read meta graph {filename}: {e}") from None


_VAR_DEFAULTS: dict[str, Any] | None = None


def _variable_defaults() -> dict[str, Any]:
    """Plain attributes a freshly constructed graph Variable has (so that re-created
    Variables stay complete if ``Variable.__init__`` gains fields)."""
    global _VAR_DEFAULTS
    if _VAR_DEFAULTS is None:
        from rillet.variables import Variable

        with Graph().as_default():
            v = Variable(0.0, name="v")
        _VAR_DEFAULTS = {k: val for k, val in vars(v).items()
                         if val is None or isinstance(val, bool | int | float | str)}
    return dict(_VAR_DEFAULTS)


def _make_variable(g: Graph, var_op: Operation, info: dict, tensor: Any, op: Any) -> Any:
    from rillet.variables import Variable

    v = object.__new__(Variable)
    for k, val in _variable_defaults().items():
        setattr(v, k, val)
    v._variable = var_op.outputs[0]
    v._initializer_op = op(info.get("initializer"))
    snapshot = tensor(info.get("snapshot"))
    v._snapshot = snapshot if snapshot is not None else var_op.outputs[0]
    v._initial_value = tensor(info.get("initial_value"))
    v._trainable = bool(info.get("trainable", True))
    v._constraint = None
    v._save_slice_info = None
    g._var_store.setdefault(var_op.name, v)
    return v


def import_meta_graph(meta_graph_or_file: Any, clear_devices: bool = False,
                      import_scope: str | None = None, **kwargs: Any) -> Any:
    """Recreates a graph exported by ``export_meta_graph`` / ``Saver.save`` in the default
    graph, with its collections and ``Variable`` objects, and returns a ``Saver`` for it (None
    when the graph has no variables), so that ``saver.restore(sess, prefix)`` follows."""
    if context.executing_eagerly():
        raise RuntimeError("Exporting/importing meta graphs is not supported when eager "
                           "execution is enabled. No graph exists when eager execution is "
                           "enabled.")
    if isinstance(meta_graph_or_file, MetaGraphDef):
        meta = meta_graph_or_file
    elif isinstance(meta_graph_or_file, bytes | bytearray):
        meta = MetaGraphDef.FromString(bytes(meta_graph_or_file))
    elif isinstance(meta_graph_or_file, dict):
        meta = MetaGraphDef.from_json(meta_graph_or_file)
    else:
        meta = read_meta_graph_file(meta_graph_or_file)
    g = get_default_graph()
    prefix = ""
    if import_scope:
        with g.name_scope(import_scope) as s:
            prefix = s
    new_ops = _import_nodes(g, meta.graph_def.node, prefix, None, clear_devices)

    def op(name: str | None) -> Operation | None:
        return None if name is None else new_ops.get(name)

    def tensor(name: str | None) -> Tensor | None:
        if name is None:
            return None
        nm, idx, _ = _split_input(name)
        o = new_ops.get(nm)
        return None if o is None or idx >= len(o.outputs) else o.outputs[idx]

    made: dict[str, Any] = {}

    def variable(name: str) -> Any:
        if name not in made:
            var_op = new_ops.get(name)
            if var_op is None:
                raise ValueError(f"Meta graph names variable {name!r} but has no such op")
            made[name] = _make_variable(g, var_op, meta.variables.get(name, {}), tensor, op)
        return made[name]

    for key, items in meta.collection_def.items():
        for item in items:
            if "variable" in item:
                g.add_to_collection(key, variable(item["variable"]))
            elif "tensor" in item:
                t = tensor(item["tensor"])
                if t is not None:
                    g.add_to_collection(key, t)
            elif "op" in item:
                o = op(item["op"])
                if o is not None:
                    g.add_to_collection(key, o)
            elif "value" in item:
                g.add_to_collection(key, item["value"])
            elif "bytes" in item:
                g.add_to_collection(key, base64.b64decode(item["bytes"]))
    from rillet.train.saver import Saver

    if meta.saver_def:
        sdef = dict(meta.saver_def)
        sdef["var_map"] = {k: new_ops[v].name if v in new_ops else prefix + v
                           for k, v in sdef.get("var_map", {}).items()}
        return Saver(saver_def=sdef)
    if prefix:  # checkpoint keys are the names the variables had when exported
        global_ids = {id(v) for v in g.get_collection(GraphKeys.GLOBAL_VARIABLES)}
        scoped = {k: v for k, v in made.items() if id(v) in global_ids}
        if scoped:
            return Saver(scoped)
    elif g.get_collection(GraphKeys.GLOBAL_VARIABLES):
        return Saver()
    _log.info("Saver not created because there are no variables in the graph to restore")
    return None

"""The dataflow graph: ``Graph``, ``Operation``, ``Tensor``, scopes and collections."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

from rillet import context
from rillet import dtypes as _dt
from rillet.shapes import TensorShape, as_shape

_PKG_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_frame() -> tuple[str, int, str]:
    """(file, line, function) of the first caller outside rillet: the user's line."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
    if f is None:
        return ("<unknown>", 0, "<unknown>")
    return (f.f_code.co_filename, f.f_lineno, f.f_code.co_name)


class GraphKeys:
    """Standard collection names."""

    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    CONCATENATED_VARIABLES = "concatenated_variables"
    SAVERS = "savers"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    TRAIN_OP = "train_op"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    SUMMARY_OP = "summary_op"
    GLOBAL_STEP = "global_step"
    EVAL_STEP = "eval_step"
    METRIC_VARIABLES = "metric_variables"
    VARIABLES = GLOBAL_VARIABLES


class Tensor:
    """A symbolic handle to one output of an ``Operation``; its value exists only in a Session."""

    __slots__ = ("op", "value_index", "dtype", "_shape", "__weakref__")

    def __init__(self, op: Operation, value_index: int, dtype: _dt.DType, shape: TensorShape):
        self.op = op
        self.value_index = value_index
        self.dtype = dtype
        self._shape = shape

    @property
    def name(self) -> str:
        return f"{self.op.name}:{self.value_index}"

    @property
    def graph(self) -> Graph:
        return self.op.graph

    @property
    def device(self) -> str:
        return self.op.device

    @property
    def shape(self) -> TensorShape:
        return self._shape

    def get_shape(self) -> TensorShape:
        return self._shape

    def set_shape(self, shape: Any) -> None:
        """Refines the static shape; raises ValueError when incompatible."""
        shape = as_shape(shape)
        if not self._shape.is_compatible_with(shape):
            raise ValueError(f"Tensor {self.name!r} has shape {self._shape}, "
                             f"which is incompatible with {shape}")
        self._shape = self._shape.merge_with(shape)

    def consumers(self) -> list[Operation]:
        return [op for op in self.op.graph._ops if any(t is self for t in op.inputs)]

    def eval(self, feed_dict: dict | None = None, session: Any = None) -> Any:
        """Runs this tensor in ``session`` or the default session."""
        from rillet.session import _session_or_default
        return _session_or_default(session, self).run(self, feed_dict)

    def _shape_str(self) -> str:
        return str(self._shape) if self._shape.ndims is not None else "<unknown>"

    def __repr__(self) -> str:
        return f"<rillet.Tensor '{self.name}' shape={self._shape_str()} dtype={self.dtype.name}>"

    def __str__(self) -> str:
        return f'Tensor("{self.name}", shape={self._shape_str()}, dtype={self.dtype.name})'

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        # TF 1.x semantics: identity, so tensors work as dict keys (feed_dict).
        return self is other

    def __bool__(self) -> bool:
        raise TypeError("Using a `rillet.Tensor` as a Python `bool` is not allowed. "
                        "Use `if t is not None:` instead of `if t:`, or run it in a Session.")

    def __len__(self) -> int:
        d = self._shape[0] if self._shape.ndims else None
        if d is None:
            raise TypeError(f"len is not well defined for tensor {self.name!r} "
                            f"of shape {self._shape}")
        return d

    def __iter__(self) -> Iterator:
        n = self._shape[0] if self._shape.ndims else None
        if n is None:
            raise TypeError("Tensor objects are only iterable when the first dimension "
                            "is known statically.")
        return iter(_operators["unstack"](self, n))

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise TypeError(f"Cannot convert a symbolic rillet.Tensor ({self.name}) to a NumPy "
                        "array; run it in a Session first.")

    __array_priority__ = 100


_operators: dict[str, Any] = {}


def _binary(name: str, reverse: bool = False) -> Any:
    def method(self: Any, other: Any) -> Any:
        fn = _operators[name]
        return fn(other, self) if reverse else fn(self, other)
    method.__name__ = f"__{'r' if reverse else ''}{name}__"
    return method


def _unary(name: str) -> Any:
    def method(self: Any) -> Any:
        return _operators[name](self)
    return method


OPERATOR_METHODS = {
    "__add__": _binary("add"), "__radd__": _binary("add", True),
    "__sub__": _binary("sub"), "__rsub__": _binary("sub", True),
    "__mul__": _binary("mul"), "__rmul__": _binary("mul", True),
    "__truediv__": _binary("truediv"), "__rtruediv__": _binary("truediv", True),
    "__floordiv__": _binary("floordiv"), "__rfloordiv__": _binary("floordiv", True),
    "__mod__": _binary("mod"), "__rmod__": _binary("mod", True),
    "__pow__": _binary("pow"), "__rpow__": _binary("pow", True),
    "__matmul__": _binary("matmul"), "__rmatmul__": _binary("matmul", True),
    "__lt__": _binary("lt"), "__le__": _binary("le"),
    "__gt__": _binary("gt"), "__ge__": _binary("ge"),
    "__and__": _binary("and"), "__rand__": _binary("and", True),
    "__or__": _binary("or"), "__ror__": _binary("or", True),
    "__xor__": _binary("xor"), "__rxor__": _binary("xor", True),
    "__neg__": _unary("neg"), "__abs__": _unary("abs"), "__invert__": _unary("invert"),
    "__pos__": lambda self: self,
    "__getitem__": _binary("getitem"),
}


def install_operators(cls: type) -> None:
    """Gives ``cls`` the tensor operators (used by Tensor, Variable and EagerTensor)."""
    for k, v in OPERATOR_METHODS.items():
        setattr(cls, k, v)


install_operators(Tensor)


class Operation:
    """A node of the graph: a registered op type applied to input tensors with attributes."""

    __slots__ = ("graph", "type", "name", "inputs", "control_inputs", "attrs", "device",
                 "outputs", "traceback", "_id", "__weakref__")

    def __init__(self, graph: Graph, type: str, name: str, inputs: tuple, attrs: dict,
                 control_inputs: list, device: str, traceback: tuple):
        self.graph = graph
        self.type = type
        self.name = name
        self.inputs = inputs
        self.attrs = attrs
        self.control_inputs = control_inputs
        self.device = device
        self.traceback = traceback
        self.outputs: tuple = ()
        self._id = 0

    @property
    def node_def(self) -> dict:
        return {"name": self.name, "op": self.type, "attr": dict(self.attrs),
                "input": [t.name for t in self.inputs] + ["^" + o.name
                                                          for o in self.control_inputs]}

    def values(self) -> tuple:
        return self.outputs

    def get_attr(self, name: str) -> Any:
        if name not in self.attrs:
            raise ValueError(f"Operation {self.name!r} has no attr named {name!r}.")
        return self.attrs[name]

    def where(self) -> str:
        """The user's ``file:line`` that created this op."""
        return f"{self.traceback[0]}:{self.traceback[1]}"

    def run(self, feed_dict: dict | None = None, session: Any = None) -> None:
        """Runs this op in ``session`` or the default session."""
        from rillet.session import _session_or_default
        _session_or_default(session, self).run(self, feed_dict)

    def _add_control_input(self, op: Operation) -> None:
        if op not in self.control_inputs:
            self.control_inputs = [*self.control_inputs, op]
            self.graph._mutations += 1

    def __repr__(self) -> str:
        return f"<rillet.Operation '{self.name}' type={self.type}>"

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


class Graph:
    """A dataflow graph. Use ``with g.as_default():`` to build into it."""

    def __init__(self) -> None:
        self._ops: list[Operation] = []
        self._by_name: dict[str, Operation] = {}
        self._names_in_use: dict[str, int] = {}
        self._name_stack = ""
        self._control_stack: list[list[Operation] | None] = []
        self._device_stack: list[str] = []
        self._collections: dict[str, list] = {}
        self._gradient_override: dict[str, str] = {}
        self._lock = threading.RLock()
        self._mutations = 0
        self._finalized = False
        self.seed: int | None = None
        self._var_store: dict[str, Any] = {}
        self._var_scope: Any = None  # set by variables.variable_scope
        self._attr_scope: dict = {}

    # --- building ------------------------------------------------------------------
    @contextlib.contextmanager
    def as_default(self) -> Iterator[Graph]:
        _graph_stack().append(self)
        try:
            yield self
        finally:
            _graph_stack().pop()

    def finalize(self) -> None:
        self._finalized = True

    @property
    def finalized(self) -> bool:
        return self._finalized

    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        if self._name_stack:
            name = self._name_stack + "/" + name
        key = name.lower()
        i = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = i + 1
        if i > 0:
            base = key
            while f"{base}_{i}" in self._names_in_use:
                i += 1
            if mark_as_used:
                self._names_in_use[f"{base}_{i}"] = 1
            name = f"{name}_{i}"
        return name

    def get_name_scope(self) -> str:
        return self._name_stack

    @contextlib.contextmanager
    def name_scope(self, name: str | None) -> Iterator[str]:
        """Nested op-name prefix; reusing a scope name gives ``name_1``. Yields ``"a/b/"``."""
        old = self._name_stack
        if context.executing_eagerly():
            # Eager ops have no graph names: do not grow the name table in long eager loops.
            self._name_stack = (name[:-1] if name and name.endswith("/") else
                                (f"{old}/{name}" if old and name else name or ""))
            try:
                yield self._name_stack + "/" if self._name_stack else ""
            finally:
                self._name_stack = old
            return
        if name is None or name == "":
            new = ""
        elif name.endswith("/"):
            new = name[:-1]
        else:
            new = self.unique_name(name)
        self._name_stack = new
        try:
            yield new + "/" if new else ""
        finally:
            self._name_stack = old

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs: list | None) -> Iterator[None]:
        """Ops created inside run only after ``control_inputs``; ``None`` clears outer ones."""
        if control_inputs is None:
            self._control_stack.append(None)
        else:
            ops = []
            for c in control_inputs:
                c = self.as_graph_element(c)
                ops.append(c.op if isinstance(c, Tensor) else c)
            self._control_stack.append(ops)
        try:
            yield
        finally:
            self._control_stack.pop()

    def _current_control_inputs(self) -> list[Operation]:
        out: list[Operation] = []
        for frame in reversed(self._control_stack):
            if frame is None:
                break
            out.extend(o for o in frame if o not in out)
        return out

    @contextlib.contextmanager
    def device(self, device_name: str | None) -> Iterator[None]:
        self._device_stack.append(_canonical_device(device_name or ""))
        try:
            yield
        finally:
            self._device_stack.pop()

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map: dict[str, str]) -> Iterator[None]:
        """Ops of the given types created inside use the named registered gradients."""
        old = dict(self._gradient_override)
        self._gradient_override.update(op_type_map)
        try:
            yield
        finally:
            self._gradient_override = old

    def _add_op(self, type: str, inputs: tuple, attrs: dict, name: str,
                control_inputs: list | None = None) -> Operation:
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        with self._lock:
            ctrl = self._current_control_inputs()
            if control_inputs:
                ctrl.extend(c for c in control_inputs if c not in ctrl)
            # An op never waits on its own inputs' producers through a control edge.
            if ctrl:
                ctrl = [c for c in ctrl if all(t.op is not c for t in inputs)]
            device = self._device_stack[-1] if self._device_stack else ""
            if type in self._gradient_override:
                attrs = {**attrs, "_gradient_op_type": self._gradient_override[type]}
            op = Operation(self, type, name, inputs, attrs, ctrl, device, user_frame())
            op._id = len(self._ops)
            self._ops.append(op)
            self._by_name[name] = op
            return op

    # --- lookup --------------------------------------------------------------------
    def get_operations(self) -> list[Operation]:
        return list(self._ops)

    def get_operation_by_name(self, name: str) -> Operation:
        if name not in self._by_name:
            raise KeyError(f"The name {name!r} refers to an Operation not in the graph.")
        return self._by_name[name]

    def get_tensor_by_name(self, name: str) -> Tensor:
        el = self.as_graph_element(name, allow_operation=False)
        return el

    def as_graph_element(self, obj: Any, allow_tensor: bool = True,
                         allow_operation: bool = True) -> Any:
        """Resolves a Tensor, Operation, Variable or name (``"op"`` / ``"op:0"``) in this graph."""
        if hasattr(obj, "_as_graph_element") and not isinstance(obj, Tensor | Operation):
            obj = obj._as_graph_element()
        if isinstance(obj, Tensor | Operation):
            if obj.graph is not self:
                raise ValueError(f"{obj!r} is not an element of this graph.")
            if isinstance(obj, Tensor) and not allow_tensor:
                raise ValueError(f"Can not convert a Tensor into an Operation: {obj!r}")
            if isinstance(obj, Operation) and not allow_operation:
                raise ValueError(f"Can not convert an Operation into a Tensor: {obj!r}")
            return obj
        if isinstance(obj, str):
            if ":" in obj:
                op_name, _, idx = obj.rpartition(":")
                if not allow_tensor:
                    raise ValueError(f"Name {obj!r} appears to refer to a Tensor, "
                                     "not an Operation.")
                if op_name not in self._by_name:
                    raise KeyError(f"The name {obj!r} refers to a Tensor which does not "
                                   f"exist. The operation, {op_name!r}, does not exist in "
                                   "the graph.")
                op = self._by_name[op_name]
                i = int(idx)
                if i >= len(op.outputs):
                    raise KeyError(f"The name {obj!r} refers to a Tensor which does not "
                                   f"exist. The operation, {op_name!r}, exists but only has "
                                   f"{len(op.outputs)} outputs.")
                return op.outputs[i]
            if not allow_operation:
                raise ValueError(f"The name {obj!r} looks like an (invalid) Operation name, "
                                 "not a Tensor. Tensor names must be of the form "
                                 "\"<op_name>:<output_index>\".")
            if obj not in self._by_name:
                raise KeyError(f"The name {obj!r} refers to an Operation not in the graph.")
            return self._by_name[obj]
        raise TypeError(f"Can not convert a {type(obj).__name__} into a Tensor or Operation.")

    # --- collections ---------------------------------------------------------------
    def add_to_collection(self, name: str, value: Any) -> None:
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names: Any, value: Any) -> None:
        for n in ([names] if isinstance(names, str) else set(names)):
            self.add_to_collection(n, value)

    def get_collection_ref(self, name: str) -> list:
        return self._collections.setdefault(name, [])

    def get_collection(self, name: str, scope: str | None = None) -> list:
        items = list(self._collections.get(name, []))
        if scope is None:
            return items
        import re
        pat = re.compile(scope)
        return [i for i in items if hasattr(i, "name") and pat.match(i.name)]

    def get_all_collection_keys(self) -> list[str]:
        return list(self._collections)

    def clear_collection(self, name: str) -> None:
        self._collections.pop(name, None)

    def as_graph_def(self, from_version: int | None = None, add_shapes: bool = False) -> Any:
        """A serializable ``GraphDef`` of this graph (see ``rillet.train.meta_graph``)."""
        from rillet.train.meta_graph import as_graph_def
        return as_graph_def(self, from_version, add_shapes)

    @property
    def version(self) -> int:
        return len(self._ops)

    @property
    def seed_value(self) -> int | None:
        return self.seed

    def __repr__(self) -> str:
        return f"<rillet.Graph with {len(self._ops)} ops>"


def _canonical_device(name: str) -> str:
    """'/cpu:0' -> '/device:CPU:0'; job/replica/task prefixes are kept."""
    if not name:
        return ""
    parts = []
    for p in name.strip("/").split("/"):
        low = p.lower()
        if low.startswith(("cpu:", "gpu:")):
            kind, _, idx = p.partition(":")
            parts.append(f"device:{kind.upper()}:{idx}")
        elif low.startswith("device:"):
            _, kind, idx = (p.split(":") + ["0"])[:3]
            parts.append(f"device:{kind.upper()}:{idx}")
        else:
            parts.append(p)
    return "/" + "/".join(parts)


# --- the default graph (per thread, like TF) -----------------------------------------
_global_default = Graph()
_local = threading.local()


def _graph_stack() -> list[Graph]:
    s = getattr(_local, "stack", None)
    if s is None:
        s = _local.stack = []
    return s


def get_default_graph() -> Graph:
    """The graph ops are added to: the innermost ``as_default()`` graph, else the global one."""
    s = _graph_stack()
    return s[-1] if s else _global_default


def reset_default_graph() -> None:
    """Replaces the global default graph with a new, empty one."""
    global _global_default
    if _graph_stack():
        raise AssertionError("Do not use reset_default_graph() inside a "
                             "`with graph.as_default():` block.")
    _global_default = Graph()


def name_scope(name: str | None, default_name: str | None = None, values: Any = None) -> Any:
    """``with name_scope("layer1"):`` prefixes op names with ``layer1/``."""
    return get_default_graph().name_scope(name if name is not None else default_name)


def control_dependencies(control_inputs: list | None) -> Any:
    return get_default_graph().control_dependencies(control_inputs)


def device(device_name: str | None) -> Any:
    """Records a device string (``'/cpu:0'``, ``'/gpu:0'``) on ops created inside."""
    return get_default_graph().device(device_name)


def add_to_collection(name: str, value: Any) -> None:
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names: Any, value: Any) -> None:
    get_default_graph().add_to_collections(names, value)


def get_collection(key: str, scope: str | None = None) -> list:
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key: str) -> list:
    return get_default_graph().get_collection_ref(key)

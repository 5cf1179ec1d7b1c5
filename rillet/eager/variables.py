"""``EagerVariable``: what ``rt.Variable(...)`` returns when executing eagerly.

The value lives in ``execute.store`` under the variable's name (unique among live eager
variables), which is also the ``ctx.vars`` of eager kernels and of ``rt.function`` Sessions:
``Assign*`` ops and fused optimizer kernels therefore update it by name, in place.

Inside a traced ``rt.function`` the variable appears in the graph as a ``VariableV2`` node
reading ``store[name]`` (one per graph) and a fresh ``ReadVariableOp`` identity per use.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from rillet import context as _context
from rillet import dtypes as _dt
from rillet.eager.execute import store, tape_state
from rillet.eager.tensor import CPU_DEVICE, EagerTensor
from rillet.graph import Graph, Tensor, get_default_graph
from rillet.ops.array_ops import identity
from rillet.registry import apply_op, convert_to_tensor
from rillet.shapes import TensorShape, as_shape
from rillet.variables import Variable

trace_graphs: weakref.WeakSet = weakref.WeakSet()
"""Graphs being built by ``rt.function`` traces: eager variables may be captured there."""

class _Creations(threading.local):
    """While ``rt.function`` traces: the list collecting the eager variables created."""

    log: list | None = None


creations = _Creations()

_owners: dict[str, object] = {}
by_key: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
"""Live eager variables by store key."""
_next_suffix: dict[str, int] = {}


def _unique_key(base: str) -> str:
    if base not in store and base not in _owners:
        return base
    i = _next_suffix.get(base, 1)
    while f"{base}_{i}" in store or f"{base}_{i}" in _owners:
        i += 1
    _next_suffix[base] = i + 1
    return f"{base}_{i}"


def _release(key: str, token: object) -> None:
    if _owners.get(key) is token:
        del _owners[key]
        store.pop(key, None)


@contextlib.contextmanager
def init_scope() -> Iterator[None]:
    """Runs the block eagerly (TF's ``init_scope``): initial values of variables created
    while tracing a function are computed once, outside the function's graph."""
    old = _context.set_mode(True)
    try:
        yield
    finally:
        _context.set_mode(old)


def _eval_graph_tensor(t: Tensor) -> np.ndarray:
    from rillet.session import Session
    sess = Session(graph=t.graph)
    sess._ctx.vars = store
    return np.asarray(sess.run(t))


class _VarHandle:
    """Stands in for a graph variable's op (``v.op.name`` is the store key)."""

    __slots__ = ("name",)
    type = "VariableV2"
    graph = None
    inputs: tuple = ()
    control_inputs: tuple = ()

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<rillet eager variable handle '{self.name}'>"


class EagerVariable(Variable):
    """A variable whose value exists now; ``numpy()``, ``assign*``, operators, gradients."""

    def __init__(self, initial_value: Any = None, trainable: bool | None = None,
                 collections: list | None = None, validate_shape: bool = True,
                 caching_device: Any = None, name: str | None = None, variable_def: Any = None,
                 dtype: Any = None, expected_shape: Any = None, import_scope: Any = None,
                 constraint: Any = None, use_resource: Any = None, synchronization: Any = None,
                 aggregation: Any = None, shape: Any = None):
        if "_key" in self.__dict__:  # Variable.__new__ built us; Python calls __init__ again
            return
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        dtype = None if dtype is None else _dt.as_dtype(dtype)
        with init_scope():
            init = initial_value() if callable(initial_value) else initial_value
            if isinstance(init, Tensor):
                init = _eval_graph_tensor(init)
            elif isinstance(init, EagerVariable):
                init = init.read_value()
            init_t = convert_to_tensor(init, dtype=dtype)
        dt = init_t.dtype
        arr = np.array(init_t._value, dtype=dt.np, copy=True)
        vshape = TensorShape(arr.shape)
        if shape is not None:
            if validate_shape and not as_shape(shape).is_compatible_with(vshape):
                raise ValueError(f"Shapes {as_shape(shape)} and {vshape} are incompatible")
            vshape = as_shape(shape) if not validate_shape else vshape
        if name is not None and name.endswith("/"):
            base = name[:-1]
        else:
            base = name or "Variable"
            scope = get_default_graph()._name_stack
            if scope:
                base = f"{scope}/{base}"
        key = _unique_key(base)
        token = object()
        _owners[key] = token
        store[key] = arr
        by_key[key] = self
        weakref.finalize(self, _release, key, token)
        if creations.log is not None:
            creations.log.append(self)  # the function keeps variables made while tracing
        self._key = key
        self._dtype = dt
        self._vshape = vshape
        self._initial_value = init_t
        self._trainable = True if trainable is None else bool(trainable)
        self._constraint = constraint
        self._save_slice_info = None
        self._read: EagerTensor | None = None
        self._handle = _VarHandle(key)
        self._graph_handles: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    # --- static information -------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._key + ":0"

    @property
    def op(self) -> Any:
        return self._handle

    @property
    def dtype(self) -> _dt.DType:
        return self._dtype

    @property
    def shape(self) -> TensorShape:
        return self._vshape

    def get_shape(self) -> TensorShape:
        return self._vshape

    @property
    def graph(self) -> Graph:
        return get_default_graph()

    @property
    def device(self) -> str:
        return CPU_DEVICE

    @property
    def initializer(self) -> None:
        return None

    @property
    def initial_value(self) -> Any:
        return self._initial_value

    # --- reading --------------------------------------------------------------------------
    def _eager_read(self) -> EagerTensor:
        """The current value as an EagerTensor sharing the storage (op inputs only)."""
        arr = store[self._key]
        t = self._read
        if t is None or t._value is not arr:
            t = self._read = EagerTensor(arr, self._dtype)
            t._var = self._key
        tapes = tape_state.tapes
        if tapes:
            for tape in tapes:
                tape._on_read(self, t)
        return t

    def _graph_handle(self, g: Graph) -> Tensor:
        """The ``VariableV2`` node reading this variable in graph ``g`` (one per graph)."""
        h = self._graph_handles.get(g)
        if h is None:
            if g not in trace_graphs:
                raise ValueError(
                    f"Eager variable {self.name!r} cannot be used in graph mode outside a "
                    "function traced by rt.function (its value lives in the eager context).")
            with g.as_default(), g.control_dependencies(None), g.name_scope(None):
                h = apply_op("VariableV2", (), {
                    "dtype": self._dtype, "shape": self._vshape, "shared_name": self._key,
                    "container": "", "_eager_capture": True}, name=self._key)
            self._graph_handles[g] = h
        return h

    def _to_tensor(self) -> Any:
        if _context.executing_eagerly():
            return self._eager_read()
        g = get_default_graph()
        return identity(self._graph_handle(g), name="ReadVariableOp")

    def _as_graph_element(self) -> Any:
        if _context.executing_eagerly():
            return self._eager_read()
        return self._graph_handle(get_default_graph())

    def value(self) -> Any:
        """A snapshot of the current value."""
        return self.read_value()

    def read_value(self) -> Any:
        """A new tensor holding the current value (differentiable)."""
        return identity(self._to_tensor())

    def numpy(self) -> Any:
        v = store[self._key]
        return v.copy() if v.ndim else v[()]

    def eval(self, session: Any = None) -> Any:
        return self.numpy()

    def initialized_value(self) -> Any:
        return self.read_value()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.array(store[self._key], dtype=dtype, copy=True)

    # --- assignment -----------------------------------------------------------------------
    def assign(self, value: Any, use_locking: Any = None, name: str | None = None,
               read_value: bool = True) -> Any:
        """Writes ``value``; eagerly returns the variable (None with ``read_value=False``)."""
        v = convert_to_tensor(value, dtype=self._dtype)
        out = apply_op("Assign", (v,), {"var": self._key, "dtype": self._dtype,
                                        "shape": self._vshape, "validate_shape": True},
                       name=name or "Assign")
        return self._result(out, read_value)

    def assign_add(self, delta: Any, use_locking: Any = None, name: str | None = None,
                   read_value: bool = True) -> Any:
        return self._update("AssignAdd", 1, delta, name, read_value)

    def assign_sub(self, delta: Any, use_locking: Any = None, name: str | None = None,
                   read_value: bool = True) -> Any:
        return self._update("AssignSub", -1, delta, name, read_value)

    def _update(self, kind: str, sign: int, delta: Any, name: str | None,
                read_value: bool) -> Any:
        d = convert_to_tensor(delta, dtype=self._dtype)
        if not self._vshape.is_compatible_with(d.shape) and d.shape.ndims != 0:
            raise ValueError(f"Shapes {self._vshape} and {d.shape} are incompatible for "
                             f"{kind} on {self._key}")
        out = apply_op(kind, (d,), {"var": self._key, "sign": sign}, name=name or kind)
        if not _context.executing_eagerly():
            out.set_shape(self._vshape)
        return self._result(out, read_value)

    def _result(self, out: Any, read_value: bool) -> Any:
        if _context.executing_eagerly():
            return self if read_value else None
        return out if read_value else out.op

    def load(self, value: Any, session: Any = None) -> None:
        self.assign(value)

    # --- Python protocol ------------------------------------------------------------------
    def __bool__(self) -> bool:
        return bool(self._eager_read())

    def __float__(self) -> float:
        return float(self._eager_read())

    def __int__(self) -> int:
        return int(self._eager_read())

    def __index__(self) -> int:
        return self._eager_read().__index__()

    def __format__(self, spec: str) -> str:
        return format(self.numpy(), spec)

    def __len__(self) -> int:
        return len(self._eager_read())

    def __iter__(self) -> Iterator:
        return iter(self._to_tensor())

    def __repr__(self) -> str:
        t = EagerTensor(store[self._key], self._dtype)
        return (f"<rillet.Variable '{self.name}' shape={self._vshape} "
                f"dtype={self._dtype.name}, numpy={t._numpy_repr()}>")

"""``rt.function``: trace a Python function into a graph once per input signature, then run
the graph through a Session execution plan.

A ``Function`` owns one Graph (all its traces) and one private Session whose variable store
is the eager store, so captured eager variables are read and written by name. Tensor
arguments become placeholders (keyed by dtype and shape); Python values are part of the cache
key and are baked into the trace. Stateful ops (assign, Print, ...) run on every call in
program order (automatic control dependencies). From graph mode a Function simply calls the
Python function, which inlines it into the current graph.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from rillet import context as _context
from rillet import dtypes as _dt
from rillet import registry
from rillet.eager import nest
from rillet.eager import variables as _ev
from rillet.eager.context import graph_mode
from rillet.eager.execute import record, store, tape_state
from rillet.eager.tensor import EagerTensor
from rillet.graph import Graph, GraphKeys, Operation, Tensor, get_default_graph
from rillet.ops.array_ops import placeholder
from rillet.session import Session
from rillet.shapes import TensorShape, as_shape
from rillet.variables import Variable

_TENSOR, _VAR, _ID = "tensor", "variable", "id"
_NO_KWARGS = nest.structure_key({})
# Stateful ops that only read state or draw random numbers: not run unless needed.
_PURE = {"VariableV2", "Placeholder", "IsVariableInitialized", "ReportUninitializedVariables"}
_PURE_PREFIXES = ("Random", "TruncatedNormal", "Multinomial", "Stateless")


class TensorSpec:
    """Describes a tensor argument: ``shape`` (``None`` dims allowed) and ``dtype``."""

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape: Any, dtype: Any = _dt.float32, name: str | None = None):
        self._shape = as_shape(shape)
        self._dtype = _dt.as_dtype(dtype)
        self._name = name

    @classmethod
    def from_tensor(cls, tensor: Any, name: str | None = None) -> TensorSpec:
        return cls(tensor.shape, tensor.dtype, name)

    @property
    def shape(self) -> TensorShape:
        return self._shape

    @property
    def dtype(self) -> _dt.DType:
        return self._dtype

    @property
    def name(self) -> str | None:
        return self._name

    def is_compatible_with(self, x: Any) -> bool:
        return x.dtype == self._dtype and self._shape.is_compatible_with(x.shape)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and (self._shape, self._dtype, self._name) == \
            (other._shape, other._dtype, other._name)

    def __hash__(self) -> int:
        return hash((self._shape, self._dtype, self._name))

    def __repr__(self) -> str:
        return f"TensorSpec(shape={self._shape}, dtype={self._dtype!r}, name={self._name!r})"


def _leaf_key(x: Any) -> Any:
    if isinstance(x, EagerTensor):
        v = x._value
        return (_TENSOR, v.dtype, v.shape)
    if isinstance(x, np.ndarray):
        return (_TENSOR, x.dtype, x.shape)
    if isinstance(x, TensorSpec):
        return (_TENSOR, x.dtype.np, x.shape.dims)
    if isinstance(x, Variable):
        return (_VAR, id(x))
    if isinstance(x, Tensor | Operation):
        raise TypeError(f"rt.function called eagerly with a graph tensor {x!r}")
    try:
        hash(x)
        return (type(x), x)
    except TypeError:
        return (_ID, id(x))


def _is_effect(op: Operation) -> bool:
    d = registry._REGISTRY.get(op.type)
    if d is None:
        return False
    if d.mutates:
        return True
    return d.stateful and op.type not in _PURE and not op.type.startswith(_PURE_PREFIXES)


def _is_read(op: Operation) -> bool:
    return op.type == "Identity" and bool(op.inputs) and op.inputs[0].op.type == "VariableV2"


def _auto_control_deps(ops: list) -> None:
    """Side effects run in program order; variable reads see earlier writes (as TF2)."""
    last = None
    for op in ops:
        effect = _is_effect(op)
        if (effect or _is_read(op)) and last is not None and \
                all(t.op is not last for t in op.inputs):
            op._add_control_input(last)
        if effect:
            last = op


class _FunctionSession(Session):
    """A Session whose variable values are the eager store (closing it keeps them)."""

    def __init__(self, graph: Graph):
        super().__init__(graph=graph)
        self._ctx.vars = store

    def close(self) -> None:
        self._closed = True
        self._plans.clear()


def _drop_keys(keys: list) -> None:
    for k in keys:
        store.pop(k, None)


class Function:
    """A Python function compiled to graphs; call it like the function (see ``function``)."""

    def __init__(self, python_function: Callable, input_signature: Any = None,
                 autograph: bool = False, name: str | None = None):
        if not callable(python_function):
            raise TypeError(f"function expects a callable, got {python_function!r}")
        self._fn = python_function
        self._input_signature = None if input_signature is None else list(input_signature)
        self._flat_signature = None if input_signature is None else \
            nest.flatten(list(input_signature))
        for s in self._flat_signature or []:
            if not isinstance(s, TensorSpec):
                raise TypeError(f"input_signature must contain TensorSpec objects, got {s!r}")
        self._name = name or getattr(python_function, "__name__", "function")
        self._cache: dict[Any, ConcreteFunction] = {}
        self._graph: Graph | None = None
        self._session: _FunctionSession | None = None
        self._graph_var_keys: list[str] = []
        self._variables: list = []  # eager variables created while tracing (kept alive)
        self._traces = 0
        self._bound: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        try:
            self._sig: inspect.Signature | None = inspect.signature(python_function)
        except (TypeError, ValueError):
            self._sig = None
        params = [] if self._sig is None else list(self._sig.parameters.values())
        self._n_positional = -1 if any(p.kind is p.VAR_POSITIONAL for p in params) else \
            sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
        functools.update_wrapper(self, python_function)

    @property
    def python_function(self) -> Callable:
        return self._fn

    @property
    def input_signature(self) -> Any:
        return self._input_signature

    def experimental_get_tracing_count(self) -> int:
        """How many times the Python function has been traced."""
        return self._traces

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        try:
            f = self._bound.get(instance)
        except TypeError:
            f = None
        if f is None:
            f = Function(_weak_method(self._fn, instance), self._input_signature,
                         name=self._name)
            try:
                self._bound[instance] = f
            except TypeError:
                pass
        return f

    def __repr__(self) -> str:
        return f"<rillet.function {self._name}>"

    # --- calling --------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not _context.executing_eagerly():
            return self._fn(*args, **kwargs)  # graph mode: inline into the current graph
        cf, leaves = self._lookup(args, kwargs)
        return cf._call_leaves(leaves)

    def get_concrete_function(self, *args: Any, **kwargs: Any) -> ConcreteFunction:
        """The traced graph function for these arguments (TensorSpecs allowed)."""
        if self._flat_signature is not None and not args and not kwargs:
            args = tuple(self._input_signature)
        return self._lookup(args, kwargs)[0]

    def _canonical(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """Arguments bound to the parameters, defaults filled in (one cache key per call
        meaning)."""
        if self._sig is None or (not kwargs and len(args) == self._n_positional):
            return args, kwargs
        b = self._sig.bind(*args, **kwargs)
        b.apply_defaults()
        return b.args, b.kwargs

    def _lookup(self, args: tuple, kwargs: dict) -> tuple[ConcreteFunction, list]:
        args, kwargs = self._canonical(args, kwargs)
        if self._flat_signature is not None:
            if kwargs:
                raise TypeError("A function with an input_signature takes positional "
                                "arguments only")
            leaves = self._check_signature(args)
            key: Any = "signature"
            structure: Any = (tuple(self._input_signature), {})
        elif not kwargs and all(type(a) is EagerTensor for a in args):
            # Fast path (same key as below): a flat tuple of eager tensors.
            structure = (args, kwargs)
            leaves = list(args)
            key = ((tuple, ((tuple, (None,) * len(args)), _NO_KWARGS)),
                   tuple([(_TENSOR, a._value.dtype, a._value.shape) for a in args]))
        else:
            structure = (args, kwargs)
            leaves = nest.flatten(structure)
            key = (nest.structure_key(structure), tuple(_leaf_key(x) for x in leaves))
        cf = self._cache.get(key)
        if cf is None:
            cf = self._trace(structure, leaves if self._flat_signature is None else
                             self._flat_signature)
            self._cache[key] = cf
        return cf, leaves

    def _check_signature(self, args: tuple) -> list:
        leaves = _flatten_up_to(self._input_signature, list(args))
        sig = self._flat_signature
        if len(leaves) != len(sig):
            raise TypeError(f"{self._name}: expected {len(sig)} arguments matching "
                            f"input_signature {self._input_signature}, got {len(leaves)}")
        out = []
        for x, spec in zip(leaves, sig):
            if isinstance(x, TensorSpec):
                out.append(x)
                continue
            t = registry.convert_to_tensor(x, dtype=spec.dtype)
            if not spec.shape.is_compatible_with(t.shape):
                raise ValueError(f"{self._name}: argument of shape {t.shape} is incompatible "
                                 f"with input_signature {spec}")
            out.append(t)
        return out

    # --- tracing --------------------------------------------------------------------------
    def _trace(self, structure: Any, leaves: list) -> ConcreteFunction:
        first = not self._cache  # no successful trace yet
        if self._graph is None:
            self._graph = Graph()
            self._session = _FunctionSession(self._graph)
            _ev.trace_graphs.add(self._graph)
            weakref.finalize(self, _drop_keys, self._graph_var_keys)
        g = self._graph
        n0 = len(g._ops)
        coll = (GraphKeys.GLOBAL_VARIABLES, GraphKeys.LOCAL_VARIABLES)
        gvars0 = {id(v) for c in coll for v in g.get_collection(c)}
        outer_seed = get_default_graph().seed
        placeholders: list = []
        positions: list[int] = []
        new_leaves = []
        made: list = []
        outer_log, _ev.creations.log = _ev.creations.log, made
        try:
            with g.as_default(), graph_mode():
                g.seed = outer_seed
                for k in store:  # graph variables created here must not shadow eager ones
                    g._names_in_use.setdefault(k.lower(), 1)
                for i, x in enumerate(leaves):
                    spec = _tensor_spec(x)
                    if spec is None:
                        new_leaves.append(x)
                        continue
                    ph = placeholder(spec[0], spec[1], name=f"arg{i}")
                    placeholders.append(ph)
                    positions.append(i)
                    new_leaves.append(ph)
                args, kwargs = nest.pack_sequence_as(structure, new_leaves)
                self._traces += 1
                out = self._fn(*args, **kwargs)
        finally:
            _ev.creations.log = outer_log
            if outer_log is not None:
                outer_log.extend(made)
        new_ops = g._ops[n0:]
        new_gvars = [v for c in coll for v in g.get_collection(c) if id(v) not in gvars0]
        if not first and (new_gvars or made):
            raise ValueError(f"rt.function-decorated function {self._name!r} tried to create "
                             "variables on non-first call.")
        self._variables.extend(made)
        if new_gvars:  # graph variables (no eager lifting): initialize once, in the store
            self._session.run([v.initializer for v in new_gvars])
            self._graph_var_keys.extend(v.op.name for v in new_gvars)
            inits = {id(v.initializer) for v in new_gvars}
            new_ops = [op for op in new_ops if id(op) not in inits]
        _auto_control_deps(new_ops)
        return ConcreteFunction(self, g, self._session, structure, leaves, placeholders,
                                positions, out, new_ops)


def _weak_method(fn: Callable, instance: Any) -> Callable:
    """``fn`` bound to ``instance`` without keeping the instance alive."""
    try:
        ref: Callable = weakref.ref(instance)
    except TypeError:
        ref = lambda: instance  # noqa: E731

    def method(*args: Any, **kwargs: Any) -> Any:
        return fn(ref(), *args, **kwargs)
    functools.update_wrapper(method, fn)
    try:
        method.__signature__ = inspect.signature(functools.partial(fn, instance))
    except (TypeError, ValueError):
        pass
    return method


def _flatten_up_to(shallow: Any, value: Any) -> list:
    """The leaves of ``value`` at the positions of ``shallow``'s leaves (TensorSpecs)."""
    if isinstance(shallow, TensorSpec):
        return [value]
    if isinstance(shallow, list | tuple):
        if not isinstance(value, list | tuple) or len(value) != len(shallow):
            raise TypeError(f"Arguments {value!r} do not match input_signature {shallow!r}")
        return [leaf for s, v in zip(shallow, value) for leaf in _flatten_up_to(s, v)]
    if isinstance(shallow, dict):
        if not isinstance(value, dict) or set(value) != set(shallow):
            raise TypeError(f"Arguments {value!r} do not match input_signature {shallow!r}")
        return [leaf for k in sorted(shallow) for leaf in _flatten_up_to(shallow[k], value[k])]
    return [value]


def _tensor_spec(x: Any) -> tuple | None:
    if isinstance(x, EagerTensor):
        return x.dtype, TensorShape(x._value.shape)
    if isinstance(x, np.ndarray):
        return _dt.as_dtype(x.dtype), TensorShape(x.shape)
    if isinstance(x, TensorSpec):
        return x.dtype, x.shape
    return None


class ConcreteFunction:
    """One trace of a ``Function``: a graph with placeholders, outputs and a cached plan."""

    def __init__(self, function: Function, graph: Graph, session: Session, structure: Any,
                 leaves: list, placeholders: list, positions: list, out: Any, ops: list):
        self._function = function
        self.graph = graph
        self._session = session
        self._structure = structure
        self._specs = [_leaf_key(x) if i not in positions else None
                       for i, x in enumerate(leaves)]
        self.inputs = placeholders
        self._positions = positions
        self.structured_outputs = out
        self._out_leaves = nest.flatten(out)
        fetches, kinds = [], []
        for leaf in self._out_leaves:
            if isinstance(leaf, Variable) and not isinstance(leaf, _ev.EagerVariable):
                leaf = leaf.value()
            if isinstance(leaf, Tensor):
                if leaf.graph is not graph:
                    raise ValueError(f"rt.function returned a tensor of another graph: {leaf!r}")
                kinds.append(len(fetches))
                fetches.append(leaf)
            elif isinstance(leaf, Operation):
                kinds.append(None)
            else:
                kinds.append(-1)
        self.outputs = fetches
        self._kinds = kinds
        self._effects = [op for op in ops if _is_effect(op)]
        self._effects += [leaf for leaf in self._out_leaves
                          if isinstance(leaf, Operation) and leaf not in self._effects]
        self._callable = session.make_callable(fetches + self._effects, placeholders)
        # Eager variables read by this trace (for gradients through the call).
        keys = []
        for op in ops:
            for t in op.inputs:
                if t.op.type == "VariableV2" and t.op.attrs.get("_eager_capture"):
                    k = t.op.attrs["shared_name"]
                    if k not in keys:
                        keys.append(k)
        self._captured = [(k, graph_handle_of(graph, k)) for k in keys]
        self._grad: Any = None

    @property
    def variables(self) -> list:
        return [v for k, _ in self._captured if (v := _ev.by_key.get(k)) is not None]

    @property
    def trainable_variables(self) -> list:
        return [v for v in self.variables if v.trainable]

    @property
    def name(self) -> str:
        return self._function._name

    def __repr__(self) -> str:
        return f"<rillet.ConcreteFunction {self.name} inputs={self.inputs}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        structure = (args, kwargs)
        leaves = nest.flatten(structure)
        if nest.structure_key(structure) != nest.structure_key(self._structure) and \
                self._function._flat_signature is None:
            raise TypeError(f"{self.name}: arguments do not match the traced structure")
        if self._function._flat_signature is not None:
            leaves = self._function._check_signature(args)
        if len(leaves) != len(self._specs):
            raise TypeError(f"{self.name}: expected {len(self._specs)} arguments, got "
                            f"{len(leaves)}")
        for i, (x, spec) in enumerate(zip(leaves, self._specs)):
            if spec is None:
                ph = self.inputs[self._positions.index(i)]
                t = registry.convert_to_tensor(x, dtype=ph.dtype)
                if not ph.shape.is_compatible_with(t.shape):
                    raise ValueError(f"{self.name}: argument {i} has shape {t.shape}, "
                                     f"expected {ph.shape}")
            elif _leaf_key(x) != spec:
                raise TypeError(f"{self.name}: argument {i} ({x!r}) differs from the traced "
                                "value")
        return self._call_leaves(leaves)

    # --- running --------------------------------------------------------------------------
    def _call_leaves(self, leaves: list) -> Any:
        arrays = []
        for i in self._positions:
            x = leaves[i]
            arrays.append(x._value if isinstance(x, EagerTensor) else x)
        tapes = tape_state.tapes
        if tapes and self._watched_by(tapes, leaves):
            reads = self._var_reads()
            if all(r is not None for r in reads):
                return self._call_recorded(tapes, leaves, arrays, reads)
        return self._build_outputs(self._callable(*arrays))

    def _build_outputs(self, values: list) -> Any:
        out = []
        for leaf, k in zip(self._out_leaves, self._kinds):
            if k is None:
                out.append(None)
            elif k < 0:
                out.append(leaf)
            else:
                out.append(EagerTensor(values[k], self.outputs[k].dtype))
        return nest.pack_sequence_as(self.structured_outputs, out)

    def _input_tensors(self, leaves: list) -> list:
        ts = []
        for i, ph in zip(self._positions, self.inputs):
            x = leaves[i]
            ts.append(x if isinstance(x, EagerTensor) else
                      EagerTensor(np.asarray(x, dtype=ph.dtype.np), ph.dtype))
        return ts

    def _var_reads(self) -> list:
        reads = []
        for k, _ in self._captured:
            v = _ev.by_key.get(k)
            reads.append(v._eager_read() if v is not None else None)
        return reads

    def _watched_by(self, tapes: list, leaves: list) -> bool:
        ids = {id(leaves[i]) for i in self._positions}
        ids.update(id(r) for r in self._var_reads() if r is not None)
        return any(not ids.isdisjoint(tape._watched) for tape in tapes)

    def _call_recorded(self, tapes: list, leaves: list, arrays: list, reads: list) -> Any:
        fw, bw, n_out, float_outs, grad_map = self._gradient_functions()
        values = fw(*arrays)
        saved = values[n_out + len(self._effects):]
        result = self._build_outputs(values[:n_out])
        flat = nest.flatten(result)
        outs = {id(self.outputs[k]): t for t, k in zip(flat, self._kinds)
                if k is not None and k >= 0}
        out_ts = tuple(outs[id(self.outputs[i])] for i in float_outs)
        ins = self._input_tensors(leaves)
        inputs = tuple(ins + reads)

        def grad(op: Any, *gys: Any) -> list:
            vals = bw(*saved, *[g._value for g in gys])
            res: list = [None] * len(inputs)
            for slot, j in grad_map:
                t = inputs[slot]
                res[slot] = EagerTensor(np.asarray(vals[j], dtype=t.dtype.np), t.dtype)
            return res

        if out_ts:
            record(tapes, "PartitionedCall", self.name, inputs, {}, out_ts, grad=grad)
        return result

    def _gradient_functions(self) -> tuple:
        """(forward keeping what the backward needs, backward, #outputs, float output
        indices, [(input slot, backward result index)]), built once."""
        if self._grad is not None:
            return self._grad
        from rillet.gradients import gradients
        g = self.graph
        float_outs = [i for i, t in enumerate(self.outputs)
                      if t.dtype.is_floating or t.dtype.is_complex]
        xs, slots = [], []
        for j, ph in enumerate(self.inputs):
            if ph.dtype.is_floating or ph.dtype.is_complex:
                xs.append(ph)
                slots.append(j)
        for j, (_, h) in enumerate(self._captured):
            xs.append(h)
            slots.append(len(self.inputs) + j)
        with g.as_default(), graph_mode(), g.control_dependencies(None):
            i0 = len(g._ops)
            gys = [placeholder(self.outputs[i].dtype, self.outputs[i].shape)
                   for i in float_outs]
            grads = gradients([self.outputs[i] for i in float_outs], xs, grad_ys=gys) \
                if float_outs and xs else [None] * len(xs)
            i1 = len(g._ops)
        saved: list = []
        seen: set = set()
        for op in g._ops[i0:i1]:
            for t in op.inputs:
                if t.op._id < i0 and id(t) not in seen:
                    seen.add(id(t))
                    saved.append(t)
        fetch = [gr for gr in grads if gr is not None]
        grad_map = []
        j = 0
        for slot, gr in zip(slots, grads):
            if gr is not None:
                grad_map.append((slot, j))
                j += 1
        sess = self._session
        fw = sess.make_callable(self.outputs + self._effects + saved, self.inputs)
        bw = sess.make_callable(fetch, saved + gys) if fetch else (lambda *a: [])
        self._grad = (fw, bw, len(self.outputs), float_outs, grad_map)
        return self._grad


def graph_handle_of(graph: Graph, key: str) -> Tensor:
    """The capture node of eager variable ``key`` in ``graph``."""
    for op in graph._ops:
        if op.type == "VariableV2" and op.attrs.get("_eager_capture") and \
                op.attrs["shared_name"] == key:
            return op.outputs[0]
    raise KeyError(key)


def function(func: Callable | None = None, input_signature: Any = None,
             autograph: bool = False, experimental_relax_shapes: bool = False,
             name: str | None = None) -> Any:
    """Compiles ``func`` into a graph per input signature (decorator with or without
    arguments). ``autograph`` is accepted and ignored: Python control flow runs at trace
    time."""
    if func is None:
        return lambda f: Function(f, input_signature, autograph, name)
    return Function(func, input_signature, autograph, name)


defun = function

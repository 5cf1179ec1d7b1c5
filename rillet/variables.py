"""``Variable``, ``get_variable``, ``variable_scope`` and the initializer ops.

In graph mode a Variable is three ops: ``VariableV2`` (reads the Session's value),
``<name>/Assign`` (its initializer) and ``<name>/read`` (the snapshot other ops consume).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from rillet import context, init_ops
from rillet import dtypes as _dt
from rillet.graph import GraphKeys, Operation, get_default_graph, install_operators
from rillet.ops import state_ops  # noqa: F401  (registers the variable ops)
from rillet.ops.array_ops import identity
from rillet.ops.control_flow_ops import group, no_op
from rillet.registry import apply_op, convert_to_tensor
from rillet.shapes import TensorShape, as_shape

# Set by rillet.eager: the class used for Variables created while executing eagerly, and a
# predicate telling whether a ``function`` trace is in progress (variables created in its first
# trace are eager variables, as in TF 2).
eager_variable_class: Any = None
trace_graph_hook: Any = None


class Variable:
    """A tensor whose value persists across ``Session.run`` calls and can be assigned."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is Variable and eager_variable_class and (
                context.executing_eagerly() or (trace_graph_hook is not None
                                                and trace_graph_hook())):
            return eager_variable_class(*args, **kwargs)
        return super().__new__(cls)

    def __init__(self, initial_value: Any = None, trainable: bool | None = None,
                 collections: list | None = None, validate_shape: bool = True,
                 caching_device: Any = None, name: str | None = None, variable_def: Any = None,
                 dtype: Any = None, expected_shape: Any = None, import_scope: Any = None,
                 constraint: Any = None, use_resource: Any = None, synchronization: Any = None,
                 aggregation: Any = None, shape: Any = None):
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        trainable = True if trainable is None else bool(trainable)
        g = get_default_graph()
        absolute = name is not None and name.endswith("/")
        with g.control_dependencies(None), \
                g.name_scope(name if absolute else (name or "Variable")) as scope:
            op_name = scope[:-1]
            if absolute:  # get_variable: the exact name is reserved for the variable op
                g._names_in_use[op_name.lower()] = g._names_in_use.get(op_name.lower(), 0) + 1
            with g.name_scope("Initializer"):
                init = initial_value() if callable(initial_value) else initial_value
            init_t = convert_to_tensor(init, dtype=dtype, name="initial_value")
            if dtype is not None and init_t.dtype is not _dt.as_dtype(dtype):
                init_t = convert_to_tensor(init_t, dtype=dtype)
            vshape = init_t.shape if shape is None else as_shape(shape)
            if validate_shape and not vshape.is_fully_defined():
                raise ValueError(f"initial_value must have a shape specified: {init_t!r}")
            self._variable = apply_op("VariableV2", (), {
                "dtype": init_t.dtype, "shape": vshape, "shared_name": op_name,
                "container": ""}, name=op_name + "/")
            self._initial_value = init_t
            self._initializer_op = apply_op("Assign", (init_t,), {
                "var": op_name, "dtype": init_t.dtype, "shape": vshape,
                "validate_shape": bool(validate_shape)}, name="Assign").op
            self._snapshot = identity(self._variable, name="read")
        self._trainable = trainable
        self._constraint = constraint
        self._save_slice_info = None
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections = [*collections, GraphKeys.TRAINABLE_VARIABLES]
        g.add_to_collections(collections, self)

    # --- tensor-like -----------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._variable.name

    @property
    def op(self) -> Operation:
        return self._variable.op

    @property
    def dtype(self) -> _dt.DType:
        return self._variable.dtype

    @property
    def shape(self) -> TensorShape:
        return self._variable.shape

    def get_shape(self) -> TensorShape:
        return self._variable.shape

    @property
    def graph(self) -> Any:
        return self._variable.graph

    @property
    def device(self) -> str:
        return self._variable.op.device

    @property
    def trainable(self) -> bool:
        return self._trainable

    @property
    def constraint(self) -> Any:
        return self._constraint

    @property
    def initializer(self) -> Operation:
        return self._initializer_op

    @property
    def initial_value(self) -> Any:
        return self._initial_value

    def _as_graph_element(self) -> Any:
        return self._variable

    def _to_tensor(self) -> Any:
        return self._snapshot

    def value(self) -> Any:
        """The snapshot tensor ``<name>/read``."""
        return self._snapshot

    def read_value(self) -> Any:
        """A new read of the variable's current value."""
        return identity(self._variable, name="read")

    def eval(self, session: Any = None) -> Any:
        return self._variable.eval(session=session)

    def initialized_value(self) -> Any:
        with get_default_graph().control_dependencies([self._initializer_op]):
            return identity(self._initial_value)

    def load(self, value: Any, session: Any = None) -> None:
        """Writes ``value`` into the variable in ``session`` (or the default one)."""
        from rillet.session import _session_or_default
        sess = _session_or_default(session, self._variable)
        sess.run(self.initializer, {self._initial_value: value})

    # --- assignment ----------------------------------------------------------------------
    def assign(self, value: Any, use_locking: Any = None, name: str | None = None,
               read_value: bool = True) -> Any:
        return assign(self, value, name=name)

    def assign_add(self, delta: Any, use_locking: Any = None, name: str | None = None,
                   read_value: bool = True) -> Any:
        return assign_add(self, delta, name=name)

    def assign_sub(self, delta: Any, use_locking: Any = None, name: str | None = None,
                   read_value: bool = True) -> Any:
        return assign_sub(self, delta, name=name)

    def __repr__(self) -> str:
        return (f"<rillet.Variable '{self.name}' shape={self.shape} "
                f"dtype={self.dtype.name}>")

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __bool__(self) -> bool:
        raise TypeError("Using a `rillet.Variable` as a Python `bool` is not allowed.")


install_operators(Variable)
Variable.__array_priority__ = 100  # so ``ndarray * variable`` builds an op, as for Tensor
Variable.__eq__ = lambda self, other: self is other  # type: ignore[method-assign]
Variable.__hash__ = lambda self: id(self)  # type: ignore[method-assign]


def _var_of(ref: Any) -> tuple[str, _dt.DType, TensorShape]:
    if isinstance(ref, Variable):
        return ref.op.name, ref.dtype, ref.shape
    op = getattr(ref, "op", None)
    if op is not None and op.type == "VariableV2":
        return op.name, ref.dtype, ref.shape
    raise TypeError(f"assign expects a Variable as `ref`, got {ref!r}")


def assign(ref: Any, value: Any, validate_shape: bool | None = None, use_locking: Any = None,
           name: str | None = None) -> Any:
    """Writes ``value`` into variable ``ref`` when run; returns the new value (identity)."""
    if context.executing_eagerly():
        return ref.assign(value)
    var, dt, shape = _var_of(ref)
    v = convert_to_tensor(value, dtype=dt)
    return apply_op("Assign", (v,), {"var": var, "dtype": dt, "shape": shape,
                                     "validate_shape": validate_shape is not False},
                    name=name or "Assign")


def _update(kind: str, sign: int, ref: Any, value: Any, name: str | None) -> Any:
    var, dt, shape = _var_of(ref)
    v = convert_to_tensor(value, dtype=dt)
    if not shape.is_compatible_with(v.shape) and v.shape.ndims != 0:
        raise ValueError(f"Shapes {shape} and {v.shape} are incompatible for {kind} on "
                         f"{var}")
    out = apply_op(kind, (v,), {"var": var, "sign": sign}, name=name or kind)
    out.set_shape(shape)
    return out


def assign_add(ref: Any, value: Any, use_locking: Any = None, name: str | None = None) -> Any:
    """Adds ``value`` to variable ``ref`` in place when run."""
    if context.executing_eagerly():
        return ref.assign_add(value)
    return _update("AssignAdd", 1, ref, value, name)


def assign_sub(ref: Any, value: Any, use_locking: Any = None, name: str | None = None) -> Any:
    if context.executing_eagerly():
        return ref.assign_sub(value)
    return _update("AssignSub", -1, ref, value, name)


# --- collections and initializers ----------------------------------------------------------
def global_variables(scope: str | None = None) -> list:
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


all_variables = global_variables


def local_variables(scope: str | None = None) -> list:
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def trainable_variables(scope: str | None = None) -> list:
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def model_variables(scope: str | None = None) -> list:
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def variables_initializer(var_list: list, name: str = "init") -> Operation:
    """An op that runs the initializers of ``var_list``."""
    if not var_list:
        return no_op(name=name)
    return group(*[v.initializer for v in var_list], name=name)


def global_variables_initializer() -> Operation:
    """An op (named ``init``) that initializes every global variable created so far."""
    return variables_initializer(global_variables(), name="init")


initialize_all_variables = global_variables_initializer


def local_variables_initializer() -> Operation:
    return variables_initializer(local_variables(), name="init_1"
                                 if get_default_graph()._by_name.get("init") else "init")


def is_variable_initialized(variable: Variable) -> Any:
    return apply_op("IsVariableInitialized", (), {"var": variable.op.name})


def report_uninitialized_variables(var_list: list | None = None,
                                   name: str = "report_uninitialized_variables") -> Any:
    """A 1-D string tensor of the names of uninitialized variables."""
    if var_list is None:
        var_list = global_variables() + local_variables()
    return apply_op("ReportUninitializedVariables", (),
                    {"var_names": [v.op.name for v in var_list]}, name=name)


def assert_variables_initialized(var_list: list | None = None) -> Any:
    return report_uninitialized_variables(var_list)


# --- variable scopes and get_variable ------------------------------------------------------
class _AutoReuse:
    def __repr__(self) -> str:
        return "AUTO_REUSE"


AUTO_REUSE = _AutoReuse()


class VariableScope:
    """The state of a ``variable_scope``: name prefix, reuse flag and defaults."""

    def __init__(self, reuse: Any, name: str = "", initializer: Any = None,
                 regularizer: Any = None, dtype: Any = _dt.float32,
                 name_scope: str = "", constraint: Any = None):
        self.reuse = reuse
        self.name = name
        self.initializer = initializer
        self.regularizer = regularizer
        self.dtype = dtype
        self.original_name_scope = name_scope
        self.constraint = constraint

    def reuse_variables(self) -> None:
        self.reuse = True

    def set_initializer(self, initializer: Any) -> None:
        self.initializer = initializer

    def get_variable(self, name: str, *args: Any, **kwargs: Any) -> Variable:
        return get_variable(name, *args, **kwargs)

    def global_variables(self) -> list:
        return global_variables(self.name)

    def trainable_variables(self) -> list:
        return trainable_variables(self.name)


def get_variable_scope() -> VariableScope:
    g = get_default_graph()
    if g._var_scope is None:
        g._var_scope = VariableScope(False)
    return g._var_scope


@contextlib.contextmanager
def variable_scope(name_or_scope: Any, default_name: str | None = None, values: Any = None,
                   initializer: Any = None, regularizer: Any = None, caching_device: Any = None,
                   partitioner: Any = None, custom_getter: Any = None, reuse: Any = None,
                   dtype: Any = None, use_resource: Any = None, constraint: Any = None,
                   auxiliary_name_scope: bool = True) -> Iterator[VariableScope]:
    """Prefixes ``get_variable`` names (and op names); ``reuse=True`` or ``AUTO_REUSE`` lets
    ``get_variable`` return existing variables."""
    g = get_default_graph()
    parent = get_variable_scope()
    counts = g.__dict__.setdefault("_var_scope_counts", {})
    saved_counts = dict(counts) if isinstance(name_or_scope, VariableScope) else None
    if isinstance(name_or_scope, VariableScope):
        full, ns = name_or_scope.name, name_or_scope.original_name_scope
        base = name_or_scope
    else:
        base = parent
        if name_or_scope is None:
            if default_name is None:
                raise TypeError("If default_name is None then name_or_scope is required")
            key = (parent.name + "/" if parent.name else "") + default_name
            n = counts.get(key, 0)
            counts[key] = n + 1
            name_or_scope = default_name if n == 0 else f"{default_name}_{n}"
        full = (parent.name + "/" if parent.name else "") + name_or_scope
        ns = None
    if reuse is False or reuse is None:
        new_reuse = parent.reuse if parent.reuse in (True, AUTO_REUSE) else False
    else:
        new_reuse = reuse
    name_ctx = (g.name_scope(ns) if ns is not None else
                g.name_scope(full.rsplit("/", 1)[-1])) if auxiliary_name_scope else \
        contextlib.nullcontext(g.get_name_scope())
    with name_ctx as ns_now:
        scope = VariableScope(new_reuse, full,
                              initializer if initializer is not None else base.initializer,
                              regularizer if regularizer is not None else base.regularizer,
                              dtype if dtype is not None else base.dtype,
                              ns_now if isinstance(ns_now, str) else "", constraint)
        old = g._var_scope
        g._var_scope = scope
        try:
            yield scope
        finally:
            g._var_scope = old
            # TF: leaving a scope resets the default-name counters of its sub-scopes, so
            # re-entering ``net`` names its first layer ``net/dense`` again (and reuse works).
            if saved_counts is not None:
                counts.clear()
                counts.update(saved_counts)
            else:
                for k in [k for k in counts if k.startswith(full + "/")]:
                    del counts[k]


def get_variable(name: str, shape: Any = None, dtype: Any = None, initializer: Any = None,
                 regularizer: Any = None, trainable: bool | None = None,
                 collections: list | None = None, caching_device: Any = None,
                 partitioner: Any = None, validate_shape: bool = True, use_resource: Any = None,
                 custom_getter: Any = None, constraint: Any = None,
                 synchronization: Any = None, aggregation: Any = None) -> Variable:
    """Creates a variable named ``<scope>/name`` (default initializer: Glorot uniform for
    floats, zeros otherwise). A second call with the same name is a ValueError unless the
    scope reuses variables."""
    scope = get_variable_scope()
    full = f"{scope.name}/{name}" if scope.name else name
    g = get_default_graph()
    store = g._var_store
    if full in store:
        if scope.reuse is False or scope.reuse is None:
            raise ValueError(f"Variable {full} already exists, disallowed. Did you mean to set "
                             "reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
        v = store[full]
        if shape is not None and not as_shape(shape).is_compatible_with(v.shape):
            raise ValueError(f"Trying to share variable {full}, but specified shape "
                             f"{as_shape(shape)} and found shape {v.shape}.")
        if dtype is not None and _dt.as_dtype(dtype) is not v.dtype:
            raise ValueError(f"Trying to share variable {full}, but specified dtype "
                             f"{_dt.as_dtype(dtype).name} and found dtype {v.dtype.name}.")
        return v
    if scope.reuse is True:
        raise ValueError(f"Variable {full} does not exist, or was not created with "
                         "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                         "VarScope?")
    dtype = _dt.as_dtype(dtype if dtype is not None else (scope.dtype or _dt.float32))
    if initializer is None:
        initializer = scope.initializer
    if initializer is None:
        initializer = (init_ops.GlorotUniform() if dtype.is_floating else init_ops.Zeros())
    initializer = init_ops.get(initializer) if isinstance(initializer, str | type) \
        else initializer
    if callable(initializer):
        if shape is None or not as_shape(shape).is_fully_defined():
            raise ValueError(f"Shape of a new variable ({full}) must be fully defined, but "
                             f"instead was {as_shape(shape)}.")
        dims = as_shape(shape).as_list()
        init_value: Any = lambda: initializer(dims, dtype=dtype)  # noqa: E731
    else:
        init_value = initializer
        if shape is not None:
            t = convert_to_tensor(initializer, dtype=dtype)
            if not as_shape(shape).is_compatible_with(t.shape):
                raise ValueError(f"The initializer passed to get_variable({full}) has shape "
                                 f"{t.shape}, but shape {as_shape(shape)} was requested.")
            init_value = t
    g_scope = g._name_stack
    g._name_stack = ""
    try:
        v = Variable(init_value, trainable=trainable, collections=collections,
                     validate_shape=validate_shape, name=full + "/", dtype=dtype,
                     constraint=constraint if constraint is not None else scope.constraint)
    finally:
        g._name_stack = g_scope
    store[full] = v
    reg = regularizer if regularizer is not None else scope.regularizer
    if reg is not None:
        with g.name_scope(full + "/Regularizer/"):
            loss = reg(v)
        if loss is not None:
            g.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return v

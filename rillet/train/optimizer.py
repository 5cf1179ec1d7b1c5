"""The ``Optimizer`` base class (TF 1.x ``tf.train.Optimizer``).

``minimize(loss)`` = ``compute_gradients(loss)`` (symbolic gradients for every trainable
variable) + ``apply_gradients(grads_and_vars)``: one op that groups one fused, in-place update op
per variable (``rillet.ops.training_ops``) and, when a ``global_step`` is given, increments it
after all the updates. Optimizer state (momentum, Adam's ``m``/``v``, ``beta1_power``, ...) lives
in ordinary non-trainable graph Variables named as in TensorFlow (``<var>/Adam``,
``<var>/Adam_1``, ``beta1_power``), so checkpoints save them and
``global_variables_initializer()`` called after ``minimize`` initializes them.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from rillet import context
from rillet import dtypes as _dt
from rillet.gradients import gradients
from rillet.graph import Graph, GraphKeys, get_default_graph
from rillet.ops import array_ops, math_ops
from rillet.ops.control_flow_ops import group, tuple_
from rillet.registry import convert_to_tensor
from rillet.variables import Variable, assign_add, trainable_variables

_VALID_DTYPES = (_dt.float16, _dt.float32, _dt.float64)


def _graph_key(graph: Any) -> int | None:
    """Which graph optimizer state belongs to: None for eager variables (and for functions
    traced by ``rt.function``, whose variables live in the eager context)."""
    if graph is None or context.executing_eagerly() or _is_trace_graph(graph):
        return None
    return id(graph)


def _is_trace_graph(graph: Any) -> bool:
    ev = sys.modules.get("rillet.eager.variables")
    return ev is not None and graph in ev.trace_graphs


def _var_key(var: Any) -> tuple:
    return (id(getattr(var.op, "graph", None)), var.op.name)


def _is_variable(v: Any) -> bool:
    op = getattr(v, "op", None)
    return op is not None and getattr(op, "type", None) == "VariableV2"


@contextlib.contextmanager
def _init_scope(graph: Graph) -> Iterator[None]:
    """Like TF's ``init_scope``: outside any control dependencies, same name scope; eagerly
    when building a function traced by ``rt.function``."""
    if context.executing_eagerly():
        yield
    elif _is_trace_graph(graph):
        from rillet.eager.variables import init_scope
        with init_scope():
            yield
    else:
        with graph.as_default(), graph.control_dependencies(None):
            yield


@contextlib.contextmanager
def _after(ops: list) -> Iterator[None]:
    """Control dependencies on ``ops`` (nothing to wait for in eager mode)."""
    deps = [o for o in ops if o is not None]
    if context.executing_eagerly() or not deps:
        yield
    else:
        with get_default_graph().control_dependencies(deps):
            yield


def _group(ops: list, name: str) -> Any:
    """One op running ``ops`` (graph mode); None in eager mode, where they already ran."""
    if context.executing_eagerly():
        return None
    return group(*[o for o in ops if o is not None], name=name)


@contextlib.contextmanager
def _root_name_scope(graph: Graph) -> Iterator[None]:
    old = graph._name_stack
    graph._name_stack = ""
    try:
        yield
    finally:
        graph._name_stack = old


class Optimizer:
    """Base class for optimizers. Subclasses define ``_create_slots``, ``_prepare``,
    ``_apply_dense`` and optionally ``_finish``."""

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking: bool, name: str):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots: dict[str, dict[tuple, Variable]] = {}
        self._non_slot_dict: dict[tuple, Variable] = {}
        self._hyper_cache: dict[tuple, Any] = {}
        self._hyper_scope = ""

    def get_name(self) -> str:
        return self._name

    # --- the public API ------------------------------------------------------------------
    def minimize(self, loss: Any, global_step: Any = None, var_list: Any = None,
                 gate_gradients: int = GATE_OP, aggregation_method: Any = None,
                 colocate_gradients_with_ops: bool = False, name: str | None = None,
                 grad_loss: Any = None) -> Any:
        """Adds ops that update ``var_list`` (default: all trainable variables) to
        decrease ``loss``; increments ``global_step`` when given. Returns the train op."""
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss)
        vars_with_grad = [v for g, v in grads_and_vars if g is not None]
        if not vars_with_grad:
            raise ValueError(
                "No gradients provided for any variable, check your graph for ops that do "
                f"not support gradients, between variables {[str(v) for _, v in grads_and_vars]}"
                f" and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss: Any, var_list: Any = None,
                          gate_gradients: int = GATE_OP, aggregation_method: Any = None,
                          colocate_gradients_with_ops: bool = False,
                          grad_loss: Any = None) -> list:
        """A list of ``(gradient, variable)`` pairs; the gradient is None where ``loss``
        does not depend on the variable."""
        if context.executing_eagerly():
            return self._eager_gradients(loss, var_list, grad_loss)
        if callable(loss) and not hasattr(loss, "op"):
            loss = loss()
        if gate_gradients not in (Optimizer.GATE_NONE, Optimizer.GATE_OP,
                                  Optimizer.GATE_GRAPH):
            raise ValueError("gate_gradients must be one of: Optimizer.GATE_NONE, "
                             "Optimizer.GATE_OP, Optimizer.GATE_GRAPH.  Not "
                             f"{gate_gradients}")
        loss = convert_to_tensor(loss)
        self._assert_valid_dtypes([loss])
        if grad_loss is not None:
            grad_loss = convert_to_tensor(grad_loss)
            self._assert_valid_dtypes([grad_loss])
        if var_list is None:
            with loss.graph.as_default():
                var_list = trainable_variables()
        else:
            var_list = _flatten(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        for v in var_list:
            if not _is_variable(v):
                raise TypeError(f"Trying to optimize unsupported type {v!r}")
        grads = gradients(loss, var_list, grad_ys=grad_loss,
                          gate_gradients=(gate_gradients == Optimizer.GATE_OP),
                          aggregation_method=aggregation_method,
                          colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gate_gradients == Optimizer.GATE_GRAPH:
            with loss.graph.as_default():
                grads = tuple_(grads)
        grads_and_vars = list(zip(grads, var_list))
        self._assert_valid_dtypes([v for g, v in grads_and_vars if g is not None])
        return grads_and_vars

    def _eager_gradients(self, loss: Any, var_list: Any, grad_loss: Any) -> list:
        """TF's eager path: ``loss`` is a function, differentiated with a GradientTape."""
        if not callable(loss):
            raise RuntimeError("`loss` passed to Optimizer.compute_gradients should be a "
                               "function when eager execution is enabled.")
        from rillet.eager.tape import GradientTape
        with GradientTape() as tape:
            if var_list is not None:
                var_list = _flatten(var_list)
                tape.watch(var_list)
            loss_value = loss()
        if var_list is None:
            var_list = tape.watched_variables()
        if not var_list:
            raise ValueError("No variables to optimize.")
        grads = tape.gradient(loss_value, var_list, grad_loss)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars: Any, global_step: Any = None,
                        name: str | None = None) -> Any:
        """One op applying every non-None gradient with a fused in-place update, then
        incrementing ``global_step`` (if given) after all updates. In eager mode the updates
        happen at once and None is returned."""
        eager = context.executing_eagerly()
        grads_and_vars = tuple(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        converted = []
        for g, v in grads_and_vars:
            if g is not None:
                try:
                    g = convert_to_tensor(g)
                except (TypeError, ValueError):
                    raise TypeError("Gradient must be convertible to a Tensor or "
                                    f"IndexedSlices, or None: {g}") from None
            if not _is_variable(v):
                raise TypeError(f"Trying to update unsupported type {v!r}")
            converted.append((g, v))
        var_list = [v for g, v in converted if g is not None]
        if not var_list:
            raise ValueError("No gradients provided for any variable: "
                             f"{[str(v) for _, v in converted]}.")
        graph = var_list[0].graph
        with _init_scope(graph):
            self._create_slots(var_list)
        update_ops = []
        with graph.as_default(), graph.name_scope(name or self._name) as scope:
            self._hyper_cache = {}
            self._hyper_scope = scope
            self._prepare()
            for grad, var in converted:
                if grad is None:
                    continue
                with graph.name_scope("update_" + var.op.name):
                    update_ops.append(self._apply_dense(grad, var))
            if global_step is None:
                apply_updates = self._finish(update_ops, scope)
            else:
                with _after([self._finish(update_ops, "update")]):
                    apply_updates = assign_add(global_step, 1, name=scope)
                apply_updates = None if eager else apply_updates.op
            if not eager:
                train_ops = graph.get_collection_ref(GraphKeys.TRAIN_OP)
                if apply_updates not in train_ops:
                    train_ops.append(apply_updates)
        return apply_updates

    def get_slot(self, var: Any, name: str) -> Variable | None:
        """The slot variable ``name`` ("m", "momentum", ...) created for ``var``, or None."""
        named = self._slots.get(name)
        if not named:
            return None
        return named.get(_var_key(var))

    def get_slot_names(self) -> list[str]:
        """Sorted names of the slots this optimizer creates (e.g. ``['m', 'v']``)."""
        return sorted(self._slots)

    def variables(self) -> list[Variable]:
        """The optimizer's variables in the default graph (slots and e.g. ``beta1_power``),
        sorted by name."""
        g = get_default_graph()
        out = [v for v in self._non_slot_variables() if v.graph is g]
        for slots in self._slots.values():
            out.extend(v for v in slots.values() if v.graph is g)
        return sorted(out, key=lambda v: v.name)

    # --- hooks for subclasses ------------------------------------------------------------
    def _create_slots(self, var_list: list) -> None:
        pass

    def _prepare(self) -> None:
        pass

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        raise NotImplementedError()

    def _finish(self, update_ops: list, name_scope: str) -> Any:
        return _group(update_ops, name_scope)

    # --- helpers -------------------------------------------------------------------------
    def _assert_valid_dtypes(self, tensors: list) -> None:
        valid = self._valid_dtypes()
        for t in tensors:
            dtype = t.dtype
            if dtype not in valid:
                raise ValueError(f"Invalid type {dtype!r} for {t.name}, expected: "
                                 f"{list(valid)}.")

    def _valid_dtypes(self) -> tuple:
        return _VALID_DTYPES

    @staticmethod
    def _call_if_callable(param: Any) -> Any:
        return param() if callable(param) and not hasattr(param, "op") else param

    def _hyper(self, name: str, value: Any, dtype: _dt.DType) -> Any:
        """Hyper-parameter ``value`` (number, tensor or callable) as a ``dtype`` tensor.
        Python numbers become constants of ``dtype`` directly (no float32 rounding)."""
        key = (name, dtype)
        t = self._hyper_cache.get(key)
        if t is None:
            value = self._call_if_callable(value)
            g = get_default_graph()
            with g.name_scope(self._hyper_scope or None), g.control_dependencies(None):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    t = convert_to_tensor(value, dtype=dtype, name=name)
                else:
                    t = math_ops.cast(convert_to_tensor(value, name=name), dtype)
            self._hyper_cache[key] = t
        return t

    def _slot_dict(self, slot_name: str) -> dict:
        return self._slots.setdefault(slot_name, {})

    def _get_or_make_slot(self, var: Any, val: Any, slot_name: str, op_name: str) -> Variable:
        """The slot ``slot_name`` of ``var``, created with initial value ``val`` (a tensor,
        array or a callable) under the name ``<var>/<op_name>`` when missing."""
        named = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named:
            named[key] = _create_slot_var(var, val, op_name)
        return named[key]

    def _get_or_make_slot_with_initializer(self, var: Any, initializer: Any, shape: Any,
                                           dtype: Any, slot_name: str,
                                           op_name: str) -> Variable:
        dims = list(shape) if not hasattr(shape, "as_list") else shape.as_list()
        dt = _dt.as_dtype(dtype)
        return self._get_or_make_slot(var, lambda: initializer(dims, dtype=dt), slot_name,
                                      op_name)

    def _zeros_slot(self, var: Any, slot_name: str, op_name: str) -> Variable:
        return self._get_or_make_slot(
            var, lambda: array_ops.zeros(var.shape.as_list(), dtype=var.dtype), slot_name,
            op_name)

    def _create_non_slot_variable(self, initial_value: Any, name: str, colocate_with: Any,
                                  dtype: Any = None) -> Variable:
        """A variable named ``name`` (in the current name scope) owned by the optimizer."""
        graph = colocate_with.graph
        key = (name, _graph_key(getattr(colocate_with.op, "graph", None)))
        v = self._non_slot_dict.get(key)
        if v is None:
            with _init_scope(graph):
                v = Variable(initial_value, name=name, trainable=False, dtype=dtype)
            self._non_slot_dict[key] = v
        return v

    def _get_non_slot_variable(self, name: str, graph: Any = None) -> Variable | None:
        g = graph if graph is not None else get_default_graph()
        return self._non_slot_dict.get((name, _graph_key(g)))

    def _non_slot_variables(self) -> list:
        return list(self._non_slot_dict.values())


def _create_slot_var(primary: Any, val: Any, op_name: str) -> Variable:
    """A non-trainable global variable named ``<primary>/<op_name>`` (``_1``, ... when
    taken), created outside control dependencies and name scopes, like TF's slot_creator."""
    g = primary.graph
    with _init_scope(g), _root_name_scope(g):
        return Variable(val, trainable=False, name=f"{primary.op.name}/{op_name}",
                        dtype=primary.dtype)


def _flatten(x: Any) -> list:
    if isinstance(x, list | tuple):
        out: list = []
        for e in x:
            out.extend(_flatten(e))
        return out
    if isinstance(x, dict):
        return _flatten(list(x.values()))
    return [x]

"""The op registry: one ``OpDef`` per op type (shape/dtype inference, kernel, gradient), and
``apply_op``, which adds an op to the graph or, in eager mode, runs it at once.

Kernels are written against an array module ``xp`` (NumPy, or CuPy on GPU):
``kernel(xp, *input_arrays, **attrs)``. Stateful kernels (variables, random, printing) declare
``needs_ctx=True`` and receive the Session's run context instead of ``xp`` (``ctx.xp`` is there).
Gradients are functions ``grad(op, *output_grads) -> list of input grads`` built from rillet ops,
so they serve graph mode and eager mode alike and can themselves be differentiated.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rillet import context
from rillet import dtypes as _dt
from rillet.graph import Graph, Operation, Tensor, get_default_graph
from rillet.shapes import TensorShape, list_str

NOT_DIFFERENTIABLE = "not-differentiable"


class OpDef:
    """Everything rillet knows about one op type."""

    __slots__ = ("type", "infer", "kernel", "grad", "stateful", "needs_ctx", "_kw_names",
                 "mutates")

    def __init__(self, type: str, infer: Callable, kernel: Callable, grad: Any,
                 stateful: bool, needs_ctx: bool, mutates: bool):
        self.type = type
        self.infer = infer
        self.kernel = kernel
        self.grad = grad
        self.stateful = stateful
        self.needs_ctx = needs_ctx
        self.mutates = mutates
        params = inspect.signature(kernel).parameters.values()
        if any(p.kind is p.VAR_KEYWORD for p in params):
            self._kw_names = None
        else:
            self._kw_names = {p.name for p in params if p.kind is p.KEYWORD_ONLY
                              or (p.kind is p.POSITIONAL_OR_KEYWORD and p.default is not p.empty)}

    def kernel_kwargs(self, attrs: dict) -> dict:
        """The attrs the kernel takes (private ``_x`` attrs are never passed)."""
        if self._kw_names is None:
            return {k: v for k, v in attrs.items() if not k.startswith("_")}
        return {k: v for k, v in attrs.items() if k in self._kw_names}

    @property
    def differentiable(self) -> bool:
        return self.grad is not NOT_DIFFERENTIABLE

    def __repr__(self) -> str:
        return f"<OpDef {self.type}>"


_REGISTRY: dict[str, OpDef] = {}
_USER_GRADIENTS: dict[str, Any] = {}


def register(type: str, *, infer: Callable, kernel: Callable, grad: Any = None,
             stateful: bool = False, needs_ctx: bool = False, mutates: bool = False) -> OpDef:
    """Declares an op. ``grad`` is a function or ``NOT_DIFFERENTIABLE``; ``None`` is refused so
    that every op states explicitly whether it has a gradient."""
    if grad is None:
        raise ValueError(f"Op {type!r}: pass a gradient function or NOT_DIFFERENTIABLE")
    if type in _REGISTRY:
        raise KeyError(f"Op type {type!r} is already registered")
    d = OpDef(type, infer, kernel, grad, stateful, needs_ctx, mutates)
    _REGISTRY[type] = d
    return d


def get(type: str) -> OpDef:
    try:
        return _REGISTRY[type]
    except KeyError:
        raise KeyError(f"No op named {type!r} is registered") from None


def all_ops() -> dict[str, OpDef]:
    return dict(_REGISTRY)


class RegisterGradient:
    """Decorator registering a gradient function under a name, for ``gradient_override_map``
    (or, when the name is an op type without a gradient, as that op's gradient)."""

    def __init__(self, op_type: str):
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, f: Callable) -> Callable:
        if self._op_type in _USER_GRADIENTS:
            raise KeyError(f"Registering two gradient with name '{self._op_type}'! "
                           f"(Previous registration was in {_USER_GRADIENTS[self._op_type]})")
        _USER_GRADIENTS[self._op_type] = f
        return f


def NoGradient(op_type: str) -> None:  # noqa: N802 - TF's name
    """Declares that ops of ``op_type`` have no gradient."""
    _USER_GRADIENTS[op_type] = NOT_DIFFERENTIABLE


NotDifferentiable = NoGradient


def gradient_function(op: Any) -> Any:
    """The gradient function for ``op`` honouring ``gradient_override_map``; may be
    NOT_DIFFERENTIABLE."""
    override = op.attrs.get("_gradient_op_type") if op.attrs else None
    if override is not None:
        if override not in _USER_GRADIENTS:
            raise LookupError(f"No gradient defined for operation '{op.name}' "
                              f"(op type: {override})")
        return _USER_GRADIENTS[override]
    if op.type in _USER_GRADIENTS:
        return _USER_GRADIENTS[op.type]
    return _REGISTRY[op.type].grad


class OpSpec:
    """What inference sees: the op's type, name, inputs (with ``dtype``/``shape``) and attrs."""

    __slots__ = ("type", "name", "inputs", "attrs")

    def __init__(self, type: str, name: str, inputs: Sequence, attrs: dict):
        self.type, self.name, self.inputs, self.attrs = type, name, inputs, attrs


def run_inference(opdef: OpDef, spec: OpSpec) -> list[tuple[_dt.DType, TensorShape]]:
    """Calls the op's inference; errors name the op and its input shapes (TF's wording)."""
    try:
        out = opdef.infer(spec)
    except (ValueError, TypeError) as e:
        shapes = ", ".join(list_str(t.shape) for t in spec.inputs)
        msg = f"{e} for '{spec.name}' (op: '{spec.type}')"
        if spec.inputs:
            msg += f" with input shapes: {shapes}."
        raise type(e)(msg) from None
    if isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], _dt.DType):
        return [out]
    return list(out)


def _graph_of(inputs: Sequence) -> Graph:
    g = None
    for t in inputs:
        if isinstance(t, Tensor):
            if g is None:
                g = t.graph
            elif t.graph is not g:
                raise ValueError(f"Tensor {t.name!r} must be from the same graph as "
                                 f"{inputs[0].name!r} (tensors from different graphs "
                                 "cannot be combined).")
    return g if g is not None else get_default_graph()


def apply_op(type: str, inputs: Sequence = (), attrs: dict | None = None,
             name: str | None = None) -> Any:
    """Adds an op (graph mode) or runs it (eager mode). Returns its single output, a tuple of
    outputs, or the Operation when it has none. Inputs must already be tensors."""
    opdef = _REGISTRY[type]
    attrs = attrs or {}
    if context.executing_eagerly():
        return context.eager_execute(opdef, inputs, attrs, name)
    inputs = tuple(inputs)
    g = _graph_of(inputs)
    default = get_default_graph()
    if g is not default and inputs and isinstance(inputs[0], Tensor) and default._ops:
        # TF raises when combining a tensor with ops of another (non-empty) default graph.
        if any(c.graph is not g for c in default._current_control_inputs()):
            raise ValueError("Control dependencies come from a different graph.")
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"Op {type!r}: expected Tensor inputs, got {t!r}")
    if name and name.endswith("/"):  # an absolute name, already reserved by a name scope
        op_name = name[:-1]
    else:
        op_name = g.unique_name(name or type)
    out_specs = run_inference(opdef, OpSpec(type, op_name, inputs, attrs))
    op = g._add_op(type, inputs, attrs, op_name)
    op.outputs = tuple(Tensor(op, i, dt, TensorShape(sh)) for i, (dt, sh) in enumerate(out_specs))
    if not op.outputs:
        return op
    return op.outputs[0] if len(op.outputs) == 1 else op.outputs


# --- constants and conversion ---------------------------------------------------------
def _const_infer(op: OpSpec) -> tuple:
    return op.attrs["dtype"], TensorShape(op.attrs["value"].shape)


def _const_kernel(xp: Any, *, value: np.ndarray) -> Any:
    return value if xp is np else xp.asarray(value)


register("Const", infer=_const_infer, kernel=_const_kernel, grad=NOT_DIFFERENTIABLE)


def _check_convertible(value: Any, arr: np.ndarray, dtype: _dt.DType) -> np.ndarray:
    if dtype is _dt.string:
        return np.asarray(value, dtype=object)
    src = arr.dtype
    if dtype.is_integer and src.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise TypeError(f"Expected {dtype.name}, got {value!r} of type "
                            f"'{type(value).__name__}' instead.")
    if dtype.is_bool and src.kind not in "b":
        raise TypeError(f"Expected bool, got {value!r} of type '{type(value).__name__}' "
                        "instead.")
    if (dtype.is_integer or dtype.is_floating) and src.kind == "c":
        raise TypeError(f"Expected {dtype.name}, got {value!r} of type "
                        f"'{type(value).__name__}' instead.")
    if src.kind in "SUO" and dtype is not _dt.string:
        raise TypeError(f"Expected {dtype.name}, got {value!r} of type "
                        f"'{type(value).__name__}' instead.")
    return arr.astype(dtype.np, copy=False)


def to_numpy(value: Any, dtype: _dt.DType | None = None) -> tuple[np.ndarray, _dt.DType]:
    """A Python/NumPy value as an array of ``dtype`` (default: TF's inference rules)."""
    if dtype is None:
        dtype = _dt.infer_dtype(value)
    if isinstance(value, list | tuple) and any(isinstance(v, str | bytes) for v in value):
        arr = np.asarray(value, dtype=object)
    else:
        arr = np.asarray(value)
    return _check_convertible(value, arr, dtype), dtype


def constant_op(value: Any, dtype: Any = None, name: str | None = None) -> Any:
    arr, dt = to_numpy(value, None if dtype is None else _dt.as_dtype(dtype))
    arr = np.array(arr, copy=True)
    arr.flags.writeable = False
    return apply_op("Const", (), {"value": arr, "dtype": dt}, name or "Const")


# Hooks filled in by the op library (packing lists of tensors) and by eager mode.
_pack_hook: Any = None
tensor_types: tuple = (Tensor,)


def _contains_tensor(value: Any) -> bool:
    if isinstance(value, tensor_types) or hasattr(value, "_as_graph_element"):
        return True
    if isinstance(value, list | tuple):
        return any(_contains_tensor(v) for v in value)
    return False


def convert_to_tensor(value: Any, dtype: Any = None, name: str | None = None,
                      preferred_dtype: Any = None, dtype_hint: Any = None) -> Any:
    """Converts tensors, variables, NumPy arrays, Python numbers and (nested) lists to a
    Tensor. ``dtype`` is required to match; ``preferred_dtype`` is used when possible."""
    dtype = None if dtype is None else _dt.as_dtype(dtype)
    conv = getattr(value, "_to_tensor", None)
    if conv is not None and not isinstance(value, tensor_types):
        value = conv()
    if isinstance(value, tensor_types):
        if dtype is not None and value.dtype is not dtype:
            raise ValueError(f"Tensor conversion requested dtype {dtype.name} for Tensor with "
                             f"dtype {value.dtype.name}: {value!r}")
        if not context.executing_eagerly() and not isinstance(value, Tensor):
            return context.capture_eager(value, name)  # an eager tensor used in a graph
        return value
    if isinstance(value, list | tuple) and value and _contains_tensor(value):
        return _pack_hook(value, dtype, name)
    hint = preferred_dtype if preferred_dtype is not None else dtype_hint
    if dtype is None and hint is not None:
        try:
            to_numpy(value, _dt.as_dtype(hint))
            dtype = _dt.as_dtype(hint)
        except (TypeError, ValueError):
            dtype = None
    return constant_op(value, dtype, name)


def _capture_eager_default(value: Any, name: str | None) -> Any:
    return constant_op(value.numpy(), value.dtype, name)


context.capture_eager = _capture_eager_default


def is_tensor(x: Any) -> bool:
    return isinstance(x, tensor_types) or hasattr(x, "_as_graph_element")


def op_of(t: Any) -> Operation:
    return t.op

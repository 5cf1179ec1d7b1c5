"""Variable ops. A variable's value lives in the Session (``ctx.vars``), keyed by the name of
its ``VariableV2`` op; ``Assign`` ops are identities whose side effect writes that value."""

from __future__ import annotations

from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet.errors import FailedPreconditionError, InvalidArgumentError
from rillet.ops._util import same_as_input
from rillet.registry import NOT_DIFFERENTIABLE, register
from rillet.shapes import TensorShape


def read_var(ctx: Any, name: str) -> Any:
    v = ctx.vars.get(name)
    if v is None:
        raise FailedPreconditionError(None, None, f"Attempting to use uninitialized value {name}")
    return v


def _variable_kernel(ctx: Any, *, shared_name: str, **_: Any) -> Any:
    return read_var(ctx, shared_name)


register("VariableV2", infer=lambda op: (op.attrs["dtype"], op.attrs["shape"]),
         kernel=_variable_kernel, stateful=True, needs_ctx=True, grad=NOT_DIFFERENTIABLE)


def _assign_infer(op: Any) -> tuple:
    value = op.inputs[0]
    if value.dtype is not op.attrs["dtype"]:
        raise TypeError(f"Input 'value' of 'Assign' Op has type {value.dtype.name} that does "
                        f"not match type {op.attrs['dtype'].name} of argument 'ref'")
    shape = op.attrs["shape"]
    if op.attrs.get("validate_shape", True) and not shape.is_compatible_with(value.shape):
        raise ValueError(f"Shapes must be equal rank, but are {shape} and {value.shape}"
                         if shape.ndims != value.shape.ndims else
                         f"Dimension mismatch: variable {shape} vs. value {value.shape}")
    return value.dtype, shape if op.attrs.get("validate_shape", True) else value.shape


def _assign_kernel(ctx: Any, value: Any, *, var: str, shape: TensorShape,
                   validate_shape: bool = True, **_: Any) -> Any:
    value = ctx.xp.array(value, copy=True)
    if validate_shape and not shape.is_compatible_with(TensorShape(value.shape)):
        raise InvalidArgumentError(None, None, "Assign requires shapes of both tensors to "
                                   f"match. lhs shape= {shape.as_list()} rhs shape= "
                                   f"{list(value.shape)}")
    ctx.vars[var] = value
    return value


def _assign_update(ctx: Any, value: Any, *, var: str, sign: int, **_: Any) -> Any:
    v = read_var(ctx, var)
    if sign > 0:
        v += value
    else:
        v -= value
    return v


register("Assign", infer=_assign_infer, kernel=_assign_kernel, stateful=True,
         needs_ctx=True, mutates=True, grad=NOT_DIFFERENTIABLE)
register("AssignAdd", infer=same_as_input, kernel=_assign_update, stateful=True,
         needs_ctx=True, mutates=True, grad=NOT_DIFFERENTIABLE)
register("AssignSub", infer=same_as_input, kernel=_assign_update, stateful=True,
         needs_ctx=True, mutates=True, grad=NOT_DIFFERENTIABLE)

register("IsVariableInitialized", infer=lambda op: (_dt.bool_, TensorShape([])),
         kernel=lambda ctx, *, var: np.bool_(var in ctx.vars), stateful=True, needs_ctx=True,
         grad=NOT_DIFFERENTIABLE)


def _report_kernel(ctx: Any, *, var_names: list) -> Any:
    return np.array([n.encode() for n in var_names if n not in ctx.vars], dtype=object)


register("ReportUninitializedVariables", infer=lambda op: (_dt.string, TensorShape([None])),
         kernel=_report_kernel, stateful=True, needs_ctx=True, grad=NOT_DIFFERENTIABLE)

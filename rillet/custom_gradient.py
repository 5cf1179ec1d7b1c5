"""``custom_gradient``: define a function's gradient yourself (graph mode).

::

    @rt.custom_gradient
    def log1pexp(x):
        e = rt.exp(x)
        def grad(dy):
            return dy * (1 - 1 / (1 + e))
        return rt.log(1 + e), grad

The decorated function's outputs pass through one ``CustomGradient`` op (an identity on the
outputs that also takes the inputs). Its gradient calls ``grad_fn`` and sends the results to
the inputs; nothing flows back through the ops ``f`` built. When ``f`` reads variables that are
not among its inputs, ``grad_fn`` must accept ``variables=`` and return
``(input_grads, variable_grads)``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from rillet.graph import get_default_graph
from rillet.registry import apply_op, convert_to_tensor, register

__all__ = ["custom_gradient"]


def _infer(op: Any) -> list:
    n = op.attrs["num_outputs"]
    return [(t.dtype, t.shape) for t in op.inputs[:n]]


def _kernel(xp: Any, *inputs: Any, num_outputs: int) -> Any:
    return inputs[0] if num_outputs == 1 else tuple(inputs[:num_outputs])


def _as_list(x: Any) -> list:
    return list(x) if isinstance(x, list | tuple) else [x]


def _grad(op: Any, *dys: Any) -> list:
    n = op.attrs["num_outputs"]
    n_args = op.attrs["_num_args"]
    grad_fn = op.attrs["_grad_fn"]
    variables = op.attrs["_variables"]
    if variables:
        res = grad_fn(*dys, variables=variables)
        if not isinstance(res, list | tuple) or len(res) != 2:
            raise TypeError("If using @custom_gradient with a function that uses variables, "
                            "then grad_fn must return a tuple (grad_xs, grad_vars)")
        grad_xs, grad_vars = _as_list(res[0]), _as_list(res[1])
        if len(grad_vars) != len(variables):
            raise ValueError("Must return gradient for each variable from @custom_gradient "
                             "grad_fn.")
    else:
        grad_xs, grad_vars = _as_list(grad_fn(*dys)), []
    if len(grad_xs) != n_args:
        raise ValueError(f"custom_gradient function expected to return {n_args} gradients, "
                         f"but returned {len(grad_xs)} instead.")
    return [None] * n + grad_xs + grad_vars


register("CustomGradient", infer=_infer, kernel=_kernel, grad=_grad)


def _variables_read(new_ops: list, inputs: list) -> list:
    """Variables whose values the new ops consume (directly or through their snapshot)."""
    from rillet.variables import global_variables, local_variables
    g = get_default_graph()
    by_op = {v.op: v for v in global_variables() + local_variables()}
    by_op.update({v.op: v for v in g.get_collection("trainable_variables")})
    input_ops = {getattr(t, "op", None) for t in inputs}
    found: list = []
    for op in new_ops:
        for t in op.inputs:
            src = t.op
            if src.type == "Identity" and src.inputs and src.inputs[0].op.type == "VariableV2":
                src = src.inputs[0].op
            v = by_op.get(src)
            if v is not None and v not in found and src not in input_ops \
                    and v.op not in input_ops:
                found.append(v)
    return found


def custom_gradient(f: Callable) -> Callable:
    """Decorator: ``f(*x)`` returns ``(y, grad_fn)``; the gradient of ``y`` with respect to
    ``x`` becomes ``grad_fn(dy)`` (one gradient per input of ``f``)."""

    @functools.wraps(f)
    def decorated(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise ValueError("The custom_gradient decorator currently supports keywords "
                             "arguments only when eager execution is enabled.")
        g = get_default_graph()
        xs = [convert_to_tensor(a) for a in args]
        n_before = len(g._ops)
        result, grad_fn = f(*xs)
        new_ops = g._ops[n_before:]
        flat = [convert_to_tensor(r) for r in _as_list(result)]
        wants_vars = "variables" in inspect.signature(grad_fn).parameters
        variables = _variables_read(new_ops, xs)
        if variables and not wants_vars:
            raise TypeError("If using @custom_gradient with a function that uses variables, "
                            "then grad_fn must accept a keyword argument 'variables'.")
        var_ts = [v._as_graph_element() for v in variables]
        out = apply_op("CustomGradient", tuple(flat + xs + var_ts),
                       {"num_outputs": len(flat), "_num_args": len(xs), "_grad_fn": grad_fn,
                        "_variables": variables}, name="CustomGradient")
        outs = list(out) if isinstance(out, tuple) else [out]
        if isinstance(result, list | tuple):
            return type(result)(outs) if isinstance(result, list) else tuple(outs)
        return outs[0]

    return decorated

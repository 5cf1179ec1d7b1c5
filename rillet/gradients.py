"""Reverse-mode differentiation: ``gradients(ys, xs)`` adds gradient ops to the graph.

The walker follows TensorFlow's algorithm: restrict to ops between ``xs`` and ``ys``, count
each op's pending consumers, visit an op once all of them have sent their gradients, sum
multiple incoming gradients with ``add_n``, and call the op's registered gradient function.
The same walker serves ``GradientTape`` (rillet.eager) over recorded ops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rillet import registry
from rillet.graph import get_default_graph
from rillet.ops import math_ops
from rillet.registry import NOT_DIFFERENTIABLE, convert_to_tensor


def _is_float(t: Any) -> bool:
    return t.dtype.is_floating or t.dtype.is_complex


def aggregate(gs: list) -> Any:
    gs = [g for g in gs if g is not None]
    if not gs:
        return None
    if len(gs) == 1:
        return gs[0]
    return math_ops.add_n(gs)


def backprop(ys: list, grad_ys: list, between: set, stop_ops: set,
             grad_fn: Callable[[Any], Any] = registry.gradient_function,
             scope: Callable[[Any], Any] | None = None) -> dict[int, list]:
    """Propagates ``grad_ys`` from ``ys`` through the ops in ``between``.

    Returns ``{id(tensor): [gradient contributions]}`` for every tensor reached.
    """
    pending: dict[int, int] = {id(op): 0 for op in between}
    for op in between:
        for t in op.inputs:
            if id(t.op) in pending:
                pending[id(t.op)] += 1
    grads: dict[int, list] = {}
    for y, gy in zip(ys, grad_ys):
        grads.setdefault(id(y), []).append(gy)
    ready = []
    seen_ready = set()
    for y in ys:
        if id(y.op) in pending and pending[id(y.op)] == 0 and id(y.op) not in seen_ready:
            ready.append(y.op)
            seen_ready.add(id(y.op))
    while ready:
        op = ready.pop()
        out_grads = [aggregate(grads.get(id(t), [])) for t in op.outputs]
        fn = None if op in stop_ops else grad_fn(op)
        in_grads: list = [None] * len(op.inputs)
        if fn is not None and fn is not NOT_DIFFERENTIABLE and \
                any(g is not None for g in out_grads):
            out_grads = [g if g is not None else (math_ops.zeros_like(t) if _is_float(t)
                                                  else None)
                         for g, t in zip(out_grads, op.outputs)]
            with (scope(op) if scope is not None else _nullcontext()):
                res = fn(op, *out_grads)
            in_grads = list(res) if isinstance(res, list | tuple) else [res]
            if len(in_grads) != len(op.inputs):
                raise ValueError(f"Num gradients {len(in_grads)} generated for op "
                                 f"{op.name} do not match num inputs {len(op.inputs)}")
        elif fn is None and op not in stop_ops and any(g is not None for g in out_grads) \
                and any(_is_float(t) for t in op.inputs):
            raise LookupError(f"No gradient defined for operation '{op.name}' "
                              f"(op type: {op.type})")
        for t, g in zip(op.inputs, in_grads):
            if g is not None and _is_float(t):
                g = convert_to_tensor(g)
                if not t.shape.is_compatible_with(g.shape):
                    raise ValueError(f"Incompatible shapes between op input and calculated "
                                     f"input gradient. Forward operation: {op.name}. Input "
                                     f"index: {list(op.inputs).index(t)}. Original input "
                                     f"shape: {t.shape}. Calculated input gradient shape: "
                                     f"{g.shape}")
                if g.dtype is not t.dtype and _is_float(g):
                    g = math_ops.cast(g, t.dtype)
                grads.setdefault(id(t), []).append(g)
            if id(t.op) in pending:
                pending[id(t.op)] -= 1
                if pending[id(t.op)] == 0:
                    ready.append(t.op)
    return grads


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *a: Any) -> None:
        return None


def _to_list(x: Any) -> list:
    return list(x) if isinstance(x, list | tuple) else [x]


def _as_x(x: Any) -> Any:
    """Variables differentiate through their VariableV2 output (which ``read`` copies)."""
    if hasattr(x, "_as_graph_element") and not hasattr(x, "consumers"):
        return x._as_graph_element()
    return convert_to_tensor(x)


def between_ops(ops: Iterable, xs: Iterable, ys: Iterable) -> set:
    """The ops of ``ops`` on a path from a tensor of ``xs`` to one of ``ys`` (consumers are
    followed per tensor, so other outputs of an x's producer are not included)."""
    consumers: dict[int, list] = {}
    for op in ops:
        for t in op.inputs:
            consumers.setdefault(id(t), []).append(op)
    fwd: set = set()
    stack = [c for x in xs for c in consumers.get(id(x), [])]
    while stack:
        op = stack.pop()
        if op in fwd:
            continue
        fwd.add(op)
        for t in op.outputs:
            stack.extend(consumers.get(id(t), []))
    between: set = set()
    stack = [y.op for y in ys]
    while stack:
        op = stack.pop()
        if op in between or op not in fwd:
            continue
        between.add(op)
        stack.extend(t.op for t in op.inputs)
    return between


def gradients(ys: Any, xs: Any, grad_ys: Any = None, name: str = "gradients",
              colocate_gradients_with_ops: bool = False, gate_gradients: bool = False,
              aggregation_method: Any = None, stop_gradients: Any = None,
              unconnected_gradients: str = "none") -> list:
    """Symbolic partial derivatives of ``sum(ys)`` with respect to each of ``xs``.

    Returns a list with one tensor per x (same shape as x), or None where x does not affect
    ys (zeros instead with ``unconnected_gradients='zero'``).
    """
    if unconnected_gradients not in ("none", "zero"):
        raise ValueError(f"Unknown value for unconnected_gradients: {unconnected_gradients!r}")
    ys = [convert_to_tensor(y) for y in _to_list(ys)]
    xs_in = _to_list(xs)
    xs = [_as_x(x) for x in xs_in]
    g = ys[0].graph if ys else get_default_graph()
    with g.as_default(), g.name_scope(name):
        if grad_ys is None:
            gys = [None] * len(ys)
        else:
            gys = _to_list(grad_ys)
            if len(gys) != len(ys):
                raise ValueError(f"Passed {len(gys)} grad_ys for {len(ys)} ys")
        gys = [math_ops.ones_like(y) if gy is None else convert_to_tensor(gy, dtype=y.dtype)
               for y, gy in zip(ys, gys)]
        for y, gy in zip(ys, gys):
            if not y.shape.is_compatible_with(gy.shape):
                raise ValueError(f"Incompatible shapes: grad_ys {gy.shape} vs. ys {y.shape}")
        stops = {convert_to_tensor(s).op for s in _to_list(stop_gradients or [])}
        between = between_ops(g._ops, xs, ys)
        grads = backprop(ys, gys, between, stops,
                         scope=lambda op: g.name_scope(op.name.replace("/", "_") + "_grad"))
        out = []
        for x in xs:
            gx = aggregate(grads.get(id(x), []))
            if gx is None and unconnected_gradients == "zero":
                gx = math_ops.zeros_like(x)
            out.append(gx)
    return out


def hessians(ys: Any, xs: Any, name: str = "hessians") -> list:
    """Second derivatives of ``sum(ys)`` for each (flattened) x: ``[n, n]`` per x."""
    from rillet.ops import array_ops
    out = []
    for x in _to_list(xs):
        xt = _as_x(x)
        gx = gradients(ys, x)[0]
        n = xt.shape.num_elements()
        if n is None:
            raise ValueError("hessians needs fully defined shapes")
        flat = array_ops.reshape(gx, [-1])
        rows = [array_ops.reshape(gradients(array_ops.unstack(flat, n)[i], x)[0], [-1])
                for i in range(n)]
        out.append(array_ops.stack(rows))
    return out


def iter_ops(x: Iterable) -> list:
    return list(x)

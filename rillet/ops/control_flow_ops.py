"""Ordering ops (``no_op``, ``group``, ``tuple``) and control flow (``cond``, ``case``,
``while_loop``).

Control flow in a graph: the Python functions of a ``cond`` branch or a loop body are called
once, building ops in the current graph; those ops are then cut out of the graph into a
``SubGraph`` (variable-creation ops stay in the graph). One op (``If`` / ``While``) takes the
outer tensors the sub-graphs read as inputs and, at run time, runs the sub-graphs through small
execution plans of their own, with the Session's run context (variables, random streams).
Only the taken branch runs, so its side effects (``assign``, ``Print``) happen only then.

Gradients: the gradient of a sub-graph is built once (by the ordinary gradient walker) into
another sub-graph. The forward op saves the values that gradient sub-graph needs (per
iteration for loops) in an extra ``handle`` output (a 0-d object array); ``IfGrad`` runs the
gradient of the branch taken, ``WhileGrad`` runs the body's gradient backwards over the saved
iterations. Second derivatives through control flow are not supported (LookupError).

In eager mode ``cond`` calls the branch taken and ``while_loop`` is a Python loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rillet import context, errors
from rillet import dtypes as _dt
from rillet.graph import GraphKeys, Operation, Tensor, get_default_graph
from rillet.registry import NOT_DIFFERENTIABLE, apply_op, convert_to_tensor, register
from rillet.session import annotate_error
from rillet.shapes import TensorShape, as_shape

register("NoOp", infer=lambda op: [], kernel=lambda xp: None, grad=NOT_DIFFERENTIABLE)


def no_op(name: str | None = None) -> Operation:
    """An op that does nothing; useful as a target for control dependencies."""
    return apply_op("NoOp", (), name=name)


def _as_op(x: Any) -> Operation:
    if isinstance(x, Operation):
        return x
    if hasattr(x, "_as_graph_element"):
        x = x._as_graph_element()
    if isinstance(x, Operation):
        return x
    return convert_to_tensor(x).op


def group(*inputs: Any, name: str | None = None) -> Operation:
    """An op that runs all ``inputs`` (tensors or ops) when it runs; it has no output."""
    flat: list = []
    for x in inputs:
        flat.extend(x if isinstance(x, list | tuple) else [x])
    ops = [_as_op(x) for x in flat if x is not None]
    with get_default_graph().control_dependencies(ops):
        return no_op(name=name or "group_deps")


def tuple_(tensors: list, name: str | None = None, control_inputs: list | None = None) -> list:
    """Identities of ``tensors`` that are available only after all of them are computed."""
    from rillet.ops.array_ops import identity
    ts = [None if t is None else convert_to_tensor(t) for t in tensors]
    deps = [t.op for t in ts if t is not None] + [_as_op(c) for c in control_inputs or []]
    g = get_default_graph()
    with g.name_scope(name or "tuple"), g.control_dependencies(deps):
        return [None if t is None else identity(t) for t in ts]


# =============================================================================================
# Sub-graphs
# =============================================================================================
_KERNEL_ERRORS = (ValueError, TypeError, ArithmeticError, IndexError, KeyError, RuntimeError,
                  AttributeError, np.linalg.LinAlgError)
# Ops whose output may be the storage of a variable (copied when it leaves a sub-graph).
_ALIASING = {"VariableV2", "Identity", "Assign", "AssignAdd", "AssignSub", "Print",
             "StopGradient", "PlaceholderWithDefault"}


def _variable_op(t: Tensor) -> Operation | None:
    """The ``VariableV2`` op whose value ``t`` is (the op's output or its ``read`` snapshot),
    else None: such captures are read again inside a sub-graph when it runs."""
    op = t.op
    if op.type == "VariableV2":
        return op
    if op.type == "Identity" and op.inputs[0].op.type == "VariableV2" and \
            not op.control_inputs:
        return op.inputs[0].op
    return None


def _is_float(t: Any) -> bool:
    return t.dtype.is_floating or t.dtype.is_complex


def _nest() -> Any:
    from rillet.eager import nest
    return nest


def _unfed_error(t: Tensor) -> errors.InvalidArgumentError:
    op = t.op
    shape = op.attrs.get("shape")
    extra = "" if shape is None or shape.ndims is None else \
        f" and shape [{','.join('?' if d is None else str(d) for d in shape)}]"
    dt = op.attrs.get("dtype", t.dtype)
    return errors.InvalidArgumentError(
        None, op, f"You must feed a value for placeholder tensor '{op.name}' with dtype "
        f"{dt.name}{extra}\n\t [[node {op.name} (defined at {op.where()}) ]]")


class _Plan:
    __slots__ = ("steps", "template", "nfed", "out_slots", "keep_slots", "required", "xp",
                 "copy_out", "copy_keep")


class SubGraph:
    """Ops cut out of a graph, run by a control-flow kernel through a small plan of its own.

    ``fed`` tensors get their values from the kernel (captured outer tensors, loop-variable
    and gradient placeholders, saved forward values); ``reads`` are captured variable
    values (a ``VariableV2`` output or its ``read`` snapshot), read again right before each op
    that uses them, so a read sees assignments made earlier in the sub-graph; ``outputs`` are
    tensors (their values are returned) or operations (run; value None); ``effects`` are
    stateful ops run even when no output needs them (inside ``rt.function``, as TF2).
    """

    def __init__(self, ops: list, fed: list, outputs: list, reads: Sequence = (),
                 effects: Sequence = ()):
        self.ops = list(ops)
        self.fed = list(fed)
        self.outputs = list(outputs)
        self.reads = list(reads)   # tensors: variable values captured from outside
        self.effects = list(effects)
        self.keep: dict[int, Tensor] = {}  # values saved for a gradient sub-graph
        self._plan: _Plan | None = None
        self.op_set = set(self.ops) | {t.op for t in self.reads}

    def add_keep(self, tensors: Sequence[Tensor]) -> None:
        """Makes ``run(save=True)`` return the values of ``tensors`` too."""
        new = [t for t in tensors if id(t) not in self.keep]
        if new:
            for t in new:
                self.keep[id(t)] = t
            self._plan = None

    def _compile(self, xp: Any) -> _Plan:
        fed_pos = {id(t): i for i, t in enumerate(self.fed)}
        roots = [o.op if isinstance(o, Tensor) else o for o in self.outputs
                 if not (isinstance(o, Tensor) and id(o) in fed_pos)]
        roots += self.effects
        read_var = {id(t): _variable_op(t) for t in self.reads}
        roots += [t.op for t in self.keep.values() if id(t) not in fed_pos
                  and id(t) not in read_var]
        needed: set = set()
        required: set[int] = set()
        stack = list(roots)
        while stack:
            op = stack.pop()
            if op in needed:
                continue
            if op not in self.op_set:
                raise errors.InternalError(None, op, f"control flow: op '{op.name}' is outside "
                                           "the sub-graph that uses it")
            needed.add(op)
            lazy = op.attrs.get("_lazy_inputs") or ()
            for i, t in enumerate(op.inputs):
                p = fed_pos.get(id(t))
                if p is not None:
                    if i not in lazy:
                        required.add(p)
                elif i not in lazy and t.op not in needed and id(t) not in read_var:
                    stack.append(t.op)
            stack.extend(c for c in op.control_inputs if c not in needed)
        # Creation order is topological (inputs and control inputs are created first).
        order = [op for op in self.ops if op in needed]
        for op in order:
            if op.type == "Placeholder":
                raise _unfed_error(op.outputs[0])
        from rillet import registry
        slot_of: dict[int, int] = dict(fed_pos)
        nslots = len(self.fed)
        null = nslots  # a slot that is never written: inputs that were not computed
        nslots += 1
        consts: dict[int, Any] = {}
        read_slots: set[int] = set()
        raw = []
        for op in order:
            d = registry.get(op.type)
            for t in op.inputs:
                var = read_var.get(id(t))
                if var is not None:  # a variable is read right before each op that reads it
                    rd = registry.get(var.type)
                    slot_of[id(t)] = nslots
                    read_slots.add(nslots)
                    raw.append([rd.kernel, rd.needs_ctx, rd.kernel_kwargs(var.attrs), (),
                                (nslots,), var])
                    nslots += 1
            ins = tuple(slot_of.get(id(t), null) for t in op.inputs)
            if op.type == "Identity" and len(ins) == 1:
                slot_of[id(op.outputs[0])] = ins[0]  # an alias, not a step
                continue
            outs = []
            for t in op.outputs:
                slot_of[id(t)] = nslots
                outs.append(nslots)
                nslots += 1
            kw = d.kernel_kwargs(op.attrs)
            if op.type == "Const":  # evaluated once; the value is read-only
                consts[outs[0]] = d.kernel(xp, **kw)
                continue
            raw.append([d.kernel, d.needs_ctx, kw, ins, tuple(outs), op])
        plan = _Plan()
        plan.xp = xp
        plan.out_slots = [slot_of.get(id(o)) if isinstance(o, Tensor) else None
                          for o in self.outputs]
        plan.keep_slots = [(tid, slot_of[tid]) for tid in self.keep]
        # Values that are a variable's storage are copied when they leave the sub-graph.
        plan.copy_out = [sl in read_slots for sl in plan.out_slots]
        plan.copy_keep = [sl in read_slots for _, sl in plan.keep_slots]
        plan.required = sorted(required)
        keep = {s for s in plan.out_slots if s is not None} | {s for _, s in plan.keep_slots}
        keep.update(range(len(self.fed) + 1))
        keep.update(consts)
        last: dict[int, int] = {}
        for i, st in enumerate(raw):
            for s in st[3]:
                last[s] = i
            for s in st[4]:
                last.setdefault(s, i)
        frees: list[list[int]] = [[] for _ in raw]
        for s, i in last.items():
            if s not in keep:
                frees[i].append(s)
        plan.steps = [(k, needs_ctx, kw, ins, outs[0] if len(outs) == 1 else outs, op,
                       tuple(fr), len(ins) if len(ins) < 3 else -1, len(outs))
                      for (k, needs_ctx, kw, ins, outs, op), fr in zip(raw, frees)]
        template: list = [None] * nslots
        for sl, v in consts.items():
            template[sl] = v
        plan.template = template
        plan.nfed = len(self.fed)
        self._plan = plan
        return plan

    def run(self, ctx: Any, feeds: Sequence, save: bool = False) -> tuple[list, dict | None]:
        """Runs the sub-graph: returns (output values, saved values by tensor id or None)."""
        xp = ctx.xp
        plan = self._plan
        if plan is None or plan.xp is not xp:
            plan = self._compile(xp)
        vals = plan.template.copy()
        vals[:plan.nfed] = feeds
        for i in plan.required:
            if vals[i] is None:
                raise _unfed_error(self.fed[i])
        outer_op = ctx.op
        op = None
        try:
            for kernel, needs_ctx, kw, ins, out, op, frees, arity, nout in plan.steps:
                if needs_ctx:
                    ctx.op = op
                    first = ctx
                else:
                    first = xp
                if arity == 1:
                    r = kernel(first, vals[ins[0]], **kw)
                elif arity == 2:
                    r = kernel(first, vals[ins[0]], vals[ins[1]], **kw)
                elif arity == 0:
                    r = kernel(first, **kw)
                else:
                    r = kernel(first, *[vals[i] for i in ins], **kw)
                if nout == 1:
                    vals[out] = r
                elif nout:
                    for sl, v in zip(out, r):
                        vals[sl] = v
                for sl in frees:
                    vals[sl] = None
        except errors.OpError as e:
            raise annotate_error(e, op) from None
        except _KERNEL_ERRORS as e:
            raise errors.InvalidArgumentError(
                None, op, f"{type(e).__name__}: {e}\n\t [[node {op.name} (op: {op.type}) "
                f"defined at {op.where()} ]]") from e
        finally:
            ctx.op = outer_op
        out_vals = [None if sl is None else vals[sl].copy() if cp else vals[sl]
                    for sl, cp in zip(plan.out_slots, plan.copy_out)]
        saved = {tid: vals[sl].copy() if cp else vals[sl]
                 for (tid, sl), cp in zip(plan.keep_slots, plan.copy_keep)} if save else None
        return out_vals, saved


# --- building sub-graphs ----------------------------------------------------------------------
_VAR_COLLECTIONS = (GraphKeys.GLOBAL_VARIABLES, GraphKeys.LOCAL_VARIABLES)


def _in_window(g: Any, build: Callable[[], Any]) -> tuple[Any, list]:
    """Calls ``build()`` (which adds ops to ``g``) and cuts the new ops out of ``g``.

    Variables created inside (their ``VariableV2``, initializer and read ops) stay in the
    graph, as do capture nodes of eager variables. Returns (build's result, the cut ops)."""
    before = {id(v) for c in _VAR_COLLECTIONS for v in g.get_collection(c)}
    n0 = len(g._ops)
    try:
        with g.control_dependencies(None):
            result = build()
    except BaseException:
        _cut(g, n0, before)
        raise
    return result, _cut(g, n0, before)


def _cut(g: Any, n0: int, before: set) -> list:
    new = g._ops[n0:]
    if not new:
        return []
    new_set = set(new)
    stay: set = set()
    stack = [op for op in new if op.type == "VariableV2"]
    for c in _VAR_COLLECTIONS:
        for v in g.get_collection(c):
            if id(v) in before:
                continue
            init = getattr(v, "initializer", None)
            snap = getattr(v, "_snapshot", None)
            if isinstance(init, Operation):
                stack.append(init)
            if isinstance(snap, Tensor):
                stack.append(snap.op)
    while stack:
        op = stack.pop()
        if op in stay or op not in new_set:
            continue
        stay.add(op)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    with g._lock:
        del g._ops[n0:]
        cut = []
        for op in new:
            if op in stay:
                op._id = len(g._ops)
                g._ops.append(op)
            else:
                cut.append(op)
                if g._by_name.get(op.name) is op:
                    del g._by_name[op.name]
    return cut


def _in_function_trace(g: Any) -> bool:
    from rillet.eager.variables import trace_graphs
    return g in trace_graphs


def _is_effect(op: Operation) -> bool:
    from rillet.eager.function import _is_effect as effect
    return effect(op)


class _Captured:
    """A built sub-graph and what it reads from outside."""

    __slots__ = ("sub", "captures", "outer_ctrl", "effectful")

    def __init__(self, sub: SubGraph, captures: list, outer_ctrl: list, effectful: bool):
        self.sub, self.captures, self.outer_ctrl = sub, captures, outer_ctrl
        self.effectful = effectful


def _finish(g: Any, ops: list, outputs: list, local_fed: Sequence = ()) -> _Captured:
    """Classifies what the cut ``ops`` read from outside: captured tensors (fed, or re-read
    for variables) and outer control inputs (returned, for the control-flow op)."""
    op_set = set(ops)
    local = {id(t) for t in local_fed}
    captures: list = []
    seen: set[int] = set()
    outer_ctrl: list = []
    for op in ops:
        for t in op.inputs:
            if t.op not in op_set and id(t) not in seen and id(t) not in local:
                seen.add(id(t))
                captures.append(t)
        if any(c not in op_set for c in op.control_inputs):
            outer_ctrl.extend(c for c in op.control_inputs if c not in op_set)
            op.control_inputs = [c for c in op.control_inputs if c in op_set]
    reads = [t for t in captures if _variable_op(t) is not None]
    fed = list(local_fed) + [t for t in captures if _variable_op(t) is None]
    effectful = any(_is_effect(op) for op in ops)
    effects: list = []
    if effectful and _in_function_trace(g):
        # Inside rt.function (TF2 semantics) stateful ops run in program order even when no
        # output needs them.
        from rillet.eager.function import _auto_control_deps
        _auto_control_deps(ops)
        effects = [op for op in ops if _is_effect(op)]
    sub = SubGraph(ops, fed, outputs, reads, effects)
    return _Captured(sub, captures, outer_ctrl, effectful)


def _between_ops(ops: Sequence, xs: Sequence, ys: Sequence) -> set:
    """The ops of ``ops`` on a path from ``xs`` to ``ys`` (as ``gradients`` restricts)."""
    from rillet.gradients import between_ops
    return between_ops(ops, xs, ys)


class _GradGraph:
    """The gradient of a sub-graph: fed with output gradients, saved forward values and
    outer tensors; outputs the gradients of ``xs`` (``index[i]`` is None for no gradient)."""

    __slots__ = ("sub", "n_dy", "stash", "outer", "index")

    def __init__(self, sub: SubGraph, n_dy: int, stash: list, outer: list, index: list):
        self.sub, self.n_dy, self.stash, self.outer, self.index = sub, n_dy, stash, outer, index


def _grad_subgraph(g: Any, fwd: SubGraph, ys: Sequence[Tensor],
                   xs: Sequence[Tensor]) -> _GradGraph:
    """Builds d(ys)/d(xs) of ``fwd`` as a sub-graph; marks the forward values it reads to
    be saved by the forward run."""
    from rillet.gradients import aggregate, backprop
    from rillet.ops.array_ops import identity, placeholder

    def build() -> tuple:
        with g.name_scope("grad"):
            gys = [placeholder(y.dtype, y.shape, name="dy") for y in ys]
            between = _between_ops(fwd.ops, xs, ys)
            grads = backprop(list(ys), gys, between, set())
            outs = []
            for x in xs:
                gx = aggregate(grads.get(id(x), []))
                outs.append(None if gx is None else identity(convert_to_tensor(gx)))
        return gys, outs

    from rillet.eager.context import graph_mode
    with g.as_default(), graph_mode():
        (gys, outs), ops = _in_window(g, build)
    op_set = set(ops)
    fwd_fed = {id(t) for t in fwd.fed}
    local = {id(t) for t in gys}
    stash: list = []
    outer: list = []
    reads: list = []
    seen: set[int] = set()
    for op in ops:
        for t in op.inputs:
            if t.op in op_set or id(t) in seen or id(t) in local:
                continue
            seen.add(id(t))
            if t.op in fwd.op_set or id(t) in fwd_fed:
                stash.append(t)
            elif _variable_op(t) is not None:
                reads.append(t)
            else:
                outer.append(t)
        op.control_inputs = [c for c in op.control_inputs if c in op_set]
    fwd.add_keep(stash)
    index: list = []
    results: list = []
    for o in outs:
        if o is None:
            index.append(None)
        else:
            index.append(len(results))
            results.append(o)
    sub = SubGraph(ops, [*gys, *stash, *outer], results, reads)
    return _GradGraph(sub, len(gys), stash, outer, index)


def _no_second_order(kind: str) -> Callable:
    def grad(op: Any, *grads: Any) -> list:
        raise LookupError(f"Second derivatives through {kind} are not supported (gradient "
                          f"op '{op.name}' of type {op.type})")
    return grad


def _handle(value: Any) -> np.ndarray:
    h = np.empty((), dtype=object)
    h[()] = value
    return h


def _unwrap(handle: Any) -> Any:
    return handle[()] if isinstance(handle, np.ndarray) else handle


def _outputs(values: list) -> Any:
    return values[0] if len(values) == 1 else tuple(values)


def _copy_if_fed(v: Any, fed: Sequence) -> Any:
    if isinstance(v, np.ndarray) and any(v is f for f in fed):
        return v.copy()
    return v


# =============================================================================================
# cond
# =============================================================================================
class _Stash:
    """What a forward control-flow op saved for its gradient (inside the ``handle``)."""

    __slots__ = ("branch", "saved", "shapes", "history")

    def __init__(self, branch: int, saved: Any, shapes: tuple, history: Any = None):
        self.branch, self.saved, self.shapes, self.history = branch, saved, shapes, history


class _CondInfo:
    """The two branches of an ``If`` op (index 0: false, 1: true)."""

    def __init__(self, branches: list, feed_pos: list, tensor_idx: list, out_specs: list):
        self.branches = branches          # [SubGraph (false), SubGraph (true)]
        self.feed_pos = feed_pos          # per branch: If input index (minus 1) per fed capture
        self.tensor_idx = tensor_idx      # branch output index of each If tensor output
        self.out_specs = out_specs        # [(dtype, shape)] of tensor outputs, then the handle
        self.save = False                 # set once a gradient reads the saved values
        self.grads: dict = {}

    def __repr__(self) -> str:
        return f"<cond branches: {len(self.branches[1].ops)} / {len(self.branches[0].ops)} ops>"


def _if_kernel(ctx: Any, pred: Any, *inputs: Any, cond: _CondInfo) -> Any:
    b = 1 if bool(pred) else 0
    sub = cond.branches[b]
    feeds = [inputs[i] for i in cond.feed_pos[b]]
    outs, saved = sub.run(ctx, feeds, cond.save)
    values = [_copy_if_fed(outs[i], feeds) for i in cond.tensor_idx]
    stash = _Stash(b, saved, tuple(None if v is None else np.shape(v) for v in inputs)) \
        if cond.save else None
    values.append(_handle(stash))
    return _outputs(values)


def _if_infer(op: Any) -> list:
    return op.attrs["cond"].out_specs


def _unpack_singleton(x: Any) -> Any:
    if isinstance(x, list | tuple) and len(x) == 1:
        return x[0]
    return x


def _structure(x: Any) -> Any:
    """The nesting of ``x`` with lists and tuples alike (as TF's check_types=False)."""
    if isinstance(x, dict):
        return ("dict", tuple(sorted(map(str, x))), tuple(_structure(x[k]) for k in
                                                           sorted(x, key=str)))
    if isinstance(x, list | tuple):
        return ("seq", tuple(_structure(v) for v in x))
    return None


def _leaf_tensors(flat: list) -> list:
    """Branch results as sub-graph outputs: tensors (behind a new identity, so each output
    is made inside the sub-graph), operations (behind a no_op) or None."""
    from rillet.ops.array_ops import identity
    out = []
    for x in flat:
        if x is None:
            out.append(None)
        elif isinstance(x, Operation):
            with get_default_graph().control_dependencies([x]):
                out.append(no_op(name="branch_op"))
        else:
            out.append(identity(convert_to_tensor(x)))
    return out


def _merge_shapes(a: TensorShape, b: TensorShape) -> TensorShape:
    """The most specific shape compatible with both."""
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.dims, b.dims)])


def cond(pred: Any, true_fn: Callable | None = None, false_fn: Callable | None = None,
         strict: bool = False, name: str | None = None, fn1: Callable | None = None,
         fn2: Callable | None = None) -> Any:
    """``true_fn()`` if ``pred`` else ``false_fn()``; only the branch taken runs.

    Both functions must return the same nested structure of tensors (same dtypes; static
    shapes are merged), operations or None. Without ``strict`` a one-element list or tuple is
    unpacked. Tensors made outside the branches (their inputs) are computed whichever branch
    is taken. ``fn1``/``fn2`` are TF 1.x's deprecated names of ``true_fn``/``false_fn``.
    """
    if fn1 is not None:
        if true_fn is not None:
            raise TypeError("cond(): true_fn and fn1 may not be set simultaneously.")
        true_fn = fn1
    if fn2 is not None:
        if false_fn is not None:
            raise TypeError("cond(): false_fn and fn2 may not be set simultaneously.")
        false_fn = fn2
    if true_fn is None:
        raise TypeError("true_fn must not be None.")
    if false_fn is None:
        raise TypeError("false_fn must not be None.")
    if not callable(true_fn):
        raise TypeError("true_fn must be callable.")
    if not callable(false_fn):
        raise TypeError("false_fn must be callable.")
    if context.executing_eagerly():
        res = true_fn() if bool(pred) else false_fn()
        return res if strict else _unpack_singleton(res)
    if isinstance(pred, bool | np.bool_):
        raise TypeError("pred must not be a Python bool")
    g = get_default_graph()
    with g.name_scope(name or "cond") as scope:
        pred = convert_to_tensor(pred)
        if pred.dtype is not _dt.bool_:
            raise TypeError(f"pred must be a bool tensor, got dtype {pred.dtype.name}")
        if pred.shape.ndims not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {pred.shape.ndims} for "
                             f"'{scope}pred' (pred of cond): pred must be a scalar")
        built = []
        for fn, bname in ((true_fn, "true"), (false_fn, "false")):  # TF's order
            def build(fn: Callable = fn, bname: str = bname) -> tuple:
                with g.name_scope(bname):
                    res = fn()
                    if not strict:
                        res = _unpack_singleton(res)
                    return res, _leaf_tensors(_nest().flatten(res))
            (res, leaves), ops = _in_window(g, build)
            built.append((res, leaves, ops))
        built.reverse()  # index 0: false, 1: true (the If kernel indexes by the predicate)
        (f_res, f_leaves, f_ops), (t_res, t_leaves, t_ops) = built
        _check_branches(t_res, f_res, t_leaves, f_leaves)
        caps = [_finish(g, ops, [x for x in leaves if x is not None])
                for _, leaves, ops in built]
        captures: list = []
        pos: dict[int, int] = {}
        for c in caps:
            for t in c.captures:
                if id(t) not in pos:
                    pos[id(t)] = len(captures)
                    captures.append(t)
        feed_pos = [[pos[id(t)] for t in c.sub.fed] for c in caps]
        tensor_idx = []
        out_specs = []
        k = 0
        for tl, fl in zip(t_leaves, f_leaves):
            if tl is None:
                continue
            if isinstance(tl, Tensor):
                tensor_idx.append(k)
                out_specs.append((tl.dtype, _merge_shapes(tl.shape, fl.shape)))
            k += 1
        out_specs.append((_dt.string, TensorShape([])))
        info = _CondInfo([c.sub for c in caps], feed_pos, tensor_idx, out_specs)
        lazy = frozenset(i + 1 for i, t in enumerate(captures) if t.op.type == "Placeholder")
        op_type = "If" if any(c.effectful for c in caps) else "StatelessIf"
        out = apply_op(op_type, (pred, *captures), {"cond": info, "_lazy_inputs": lazy},
                       name="If")
        op = out[0].op if isinstance(out, tuple) else out.op
        for c in caps:
            for ctrl in c.outer_ctrl:
                op._add_control_input(ctrl)
    results = []
    j = 0
    for tl in t_leaves:
        if tl is None:
            results.append(None)
        elif isinstance(tl, Tensor):
            results.append(op.outputs[j])
            j += 1
        else:
            results.append(op)
    return _nest().pack_sequence_as(t_res, results)


def _check_branches(t_res: Any, f_res: Any, t_leaves: list, f_leaves: list) -> None:
    if _structure(t_res) != _structure(f_res) or len(t_leaves) != len(f_leaves):
        raise ValueError("true_fn and false_fn must return the same nested structure: "
                         f"{_describe(t_res)} vs. {_describe(f_res)}")
    for i, (a, b) in enumerate(zip(t_leaves, f_leaves)):
        kind_a = "None" if a is None else "Operation" if isinstance(a, Operation) else "Tensor"
        kind_b = "None" if b is None else "Operation" if isinstance(b, Operation) else "Tensor"
        if kind_a != kind_b:
            raise ValueError(f"Output {i} of true_fn is a {kind_a} but output {i} of false_fn "
                             f"is a {kind_b}")
        if kind_a == "Tensor" and a.dtype is not b.dtype:
            raise ValueError("Outputs of true_fn and false_fn must have the same type: "
                             f"{a.dtype.name}, {b.dtype.name}")


def _describe(x: Any) -> str:
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {_describe(v)}" for k, v in x.items()) + "}"
    if isinstance(x, list):
        return "[" + ", ".join(_describe(v) for v in x) + "]"
    if isinstance(x, tuple):
        return "(" + ", ".join(_describe(v) for v in x) + ("," if len(x) == 1 else "") + ")"
    return "None" if x is None else type(x).__name__


# --- cond gradient ----------------------------------------------------------------------------
class _IfGradInfo:
    """Gradient sub-graphs of both branches for one set of differentiated outputs."""

    def __init__(self, graphs: list, positions: list, out_index: list, dtypes: list,
                 n_dy: int, outer: list, outer_pos: list):
        self.graphs = graphs          # per branch: _GradGraph
        self.positions = positions    # If input index (minus 1) of each IfGrad output
        self.out_index = out_index    # per branch: grad-graph output index per position/None
        self.dtypes = dtypes
        self.n_dy = n_dy
        self.outer = outer            # outer tensors the gradient sub-graphs read
        self.outer_pos = outer_pos    # per branch: index into ``outer`` per outer capture

    def __repr__(self) -> str:
        return f"<cond gradient of inputs {self.positions}>"


def _if_grad_info(op: Operation, want: tuple) -> _IfGradInfo:
    info: _CondInfo = op.attrs["cond"]
    if want in info.grads:
        return info.grads[want]
    g = op.graph
    captures = list(op.inputs[1:])
    graphs = []
    xs_pos = []
    for sub in info.branches:
        ys = [sub.outputs[info.tensor_idx[k]] for k in want]
        xs = [t for t in sub.fed if any(t is c for c in captures)] + \
            list(sub.reads)
        xs = [t for t in xs if _is_float(t)]
        graphs.append(_grad_subgraph(g, sub, ys, xs))
        xs_pos.append([next(i for i, c in enumerate(captures) if c is t) for t in xs])
    positions = sorted({p for gg, xp in zip(graphs, xs_pos)
                        for p, j in zip(xp, gg.index) if j is not None})
    out_index = []
    for gg, xp in zip(graphs, xs_pos):
        m = {p: j for p, j in zip(xp, gg.index) if j is not None}
        out_index.append([m.get(p) for p in positions])
    outer: list = []
    outer_pos = []
    for gg in graphs:
        idx = []
        for t in gg.outer:
            for i, o in enumerate(outer):
                if o is t:
                    idx.append(i)
                    break
            else:
                idx.append(len(outer))
                outer.append(t)
        outer_pos.append(idx)
    gi = _IfGradInfo(graphs, positions, out_index, [captures[p].dtype for p in positions],
                     len(want), outer, outer_pos)
    info.grads[want] = gi
    info.save = True
    return gi


def _if_grad(op: Operation, *dys: Any) -> list:
    info: _CondInfo = op.attrs["cond"]
    n = len(info.tensor_idx)
    want = tuple(k for k in range(n) if dys[k] is not None and _is_float(op.outputs[k]))
    res: list = [None] * len(op.inputs)
    if not want:
        return res
    gi = _if_grad_info(op, want)
    if not gi.positions:
        return res
    g = op.graph
    with g.name_scope(op.name.replace("/", "_") + "_grad"):
        out = apply_op("IfGrad", (op.inputs[0], op.outputs[-1], *[dys[k] for k in want],
                                  *gi.outer), {"grad": gi}, name="IfGrad")
    outs = out if isinstance(out, tuple) else (out,)
    for p, t in zip(gi.positions, outs):
        t.set_shape(op.inputs[1 + p].shape)
        res[1 + p] = t
    return res


def _if_grad_infer(op: Any) -> list:
    gi: _IfGradInfo = op.attrs["grad"]
    return [(dt, TensorShape(None)) for dt in gi.dtypes]


def _if_grad_kernel(ctx: Any, pred: Any, handle: Any, *rest: Any, grad: _IfGradInfo) -> Any:
    st = _unwrap(handle)
    if st is None:
        raise errors.InternalError(None, None, "cond gradient: the forward values were not "
                                   "saved")
    b = st.branch
    gg = grad.graphs[b]
    dys = list(rest[:grad.n_dy])
    outer = rest[grad.n_dy:]
    feeds = dys + [st.saved[id(t)] for t in gg.stash] + [outer[i] for i in grad.outer_pos[b]]
    outs, _ = gg.sub.run(ctx, feeds)
    xp = ctx.xp
    res = []
    for p, j, dt in zip(grad.positions, grad.out_index[b], grad.dtypes):
        if j is not None:
            res.append(outs[j])
        else:
            shape = st.shapes[p]
            res.append(None if shape is None else xp.zeros(shape, dtype=dt.np))
    return _outputs(res)


register("If", infer=_if_infer, kernel=_if_kernel, grad=_if_grad, stateful=True,
         needs_ctx=True)
register("StatelessIf", infer=_if_infer, kernel=_if_kernel, grad=_if_grad, needs_ctx=True)
register("IfGrad", infer=_if_grad_infer, kernel=_if_grad_kernel,
         grad=_no_second_order("cond"), needs_ctx=True)


# =============================================================================================
# case
# =============================================================================================
def _case_check_kernel(xp: Any, *preds: Any, mode: str, message: str) -> None:
    n = sum(bool(p) for p in preds)
    if (mode == "exclusive" and n > 1) or (mode == "any" and n == 0):
        raise errors.InvalidArgumentError(None, None, message)


register("CaseCheck", infer=lambda op: [], kernel=_case_check_kernel, stateful=True,
         grad=NOT_DIFFERENTIABLE)


def case(pred_fn_pairs: Any, default: Callable | None = None, exclusive: bool = False,
         strict: bool = False, name: str = "case") -> Any:
    """The result of the first ``fn`` whose ``pred`` is true (``default()`` if none is).

    ``pred_fn_pairs``: a list of ``(pred, fn)`` pairs or a dict. Built from nested ``cond``s,
    so only one function's ops run. With ``exclusive`` it is an error (at run time) for more
    than one predicate to be true. Without ``default`` the last pair's ``fn`` is the default
    and it is an error for no predicate to be true.
    """
    if isinstance(pred_fn_pairs, dict):
        pairs = list(pred_fn_pairs.items())
    elif isinstance(pred_fn_pairs, list | tuple):
        pairs = list(pred_fn_pairs)
    else:
        raise TypeError("fns must be a list, tuple, or dict")
    for p in pairs:
        if not isinstance(p, tuple) or len(p) != 2:
            raise TypeError(f"Each entry in pred_fn_pairs must be a 2-tuple, got {p!r}")
        if not callable(p[1]):
            raise TypeError(f"fn for pred {getattr(p[0], 'name', p[0])} must be callable.")
    if default is not None and not callable(default):
        raise TypeError("default must be callable.")
    if not pairs:
        if default is None:
            raise ValueError("pred_fn_pairs is empty and no default was given")
        return default()
    none_true = ("Input error: None of conditions evaluated as True: "
                 f"{[getattr(p, 'name', p) for p, _ in pairs]}")
    more_true = ("Input error: more than one condition evaluated as True but exclusive=True: "
                 f"{[getattr(p, 'name', p) for p, _ in pairs]}")
    if context.executing_eagerly():
        values = [bool(p) for p, _ in pairs]
        if exclusive and sum(values) > 1:
            raise errors.InvalidArgumentError(None, None, more_true)
        for v, (_, fn) in zip(values, pairs):
            if v:
                res = fn()
                return res if strict else _unpack_singleton(res)
        if default is None:
            raise errors.InvalidArgumentError(None, None, none_true)
        res = default()
        return res if strict else _unpack_singleton(res)
    g = get_default_graph()
    with g.name_scope(name):
        preds = [convert_to_tensor(p) for p, _ in pairs]
        fns = [fn for _, fn in pairs]
        for p in preds:
            if p.dtype is not _dt.bool_:
                raise TypeError(f"pred must be a bool tensor, got {p!r}")
        checks = []
        if exclusive and len(preds) > 1:
            checks.append(apply_op("CaseCheck", preds, {"mode": "exclusive",
                                                        "message": more_true}, name="exclusive"))
        default_fn = default
        if default is None:
            last_pred, last_fn = preds[-1], fns[-1]
            preds, fns = preds[:-1], fns[:-1]

            def default_fn() -> Any:
                check = apply_op("CaseCheck", [last_pred], {"mode": "any",
                                                            "message": none_true},
                                 name="none_true")
                with g.control_dependencies([check]):
                    return _with_deps(last_fn())

        def chain(i: int) -> Any:
            if i == len(preds):
                return default_fn()
            return cond(preds[i], fns[i], lambda: chain(i + 1), strict=strict,
                        name=f"case_{i}")

        with g.control_dependencies(checks):
            res = chain(0) if preds else _with_deps(default_fn())
    return res if strict else _unpack_singleton(res)


def _with_deps(res: Any) -> Any:
    """``res`` with every tensor behind an identity made in the current control context."""
    from rillet.ops.array_ops import identity

    def f(x: Any) -> Any:
        if x is None or isinstance(x, Operation):
            return x
        return identity(convert_to_tensor(x))
    return _nest().map_structure(f, res)


# =============================================================================================
# while_loop
# =============================================================================================
class _LoopInfo:
    """The sub-graphs and layout of a ``While`` op.

    Inputs: ``nv`` loop-variable initial values, ``ns`` sliced tensors (iteration ``i``
    reads row ``i``), the maximum number of iterations (when ``has_max``), then captures.
    Outputs: the ``nv`` final loop variables, ``na`` stacked per-iteration outputs, handle.
    """

    def __init__(self) -> None:
        self.cond: SubGraph | None = None
        self.body: SubGraph | None = None
        self.nv = self.ns = self.na = 0
        self.has_max = False
        self.cond_pos: list = []      # While input index of each cond capture
        self.body_pos: list = []      # While input index of each body capture
        self.invariants: list = []
        self.check_idx: list = []     # loop vars whose shape is checked at run time
        self.acc_specs: list = []
        self.out_specs: list = []
        self.back_prop = True
        self.save = False
        self.grad: Any = None
        self.names: list = []

    def __repr__(self) -> str:
        return f"<while loop: {self.nv} loop variables, body of {len(self.body.ops)} ops>"


def _while_infer(op: Any) -> list:
    return op.attrs["loop"].out_specs


def _shape_ok(shape: tuple, inv: TensorShape) -> bool:
    dims = inv.dims
    if dims is None:
        return True
    return len(dims) == len(shape) and all(d is None or d == s for d, s in zip(dims, shape))


def _while_kernel(ctx: Any, *inputs: Any, loop: _LoopInfo) -> Any:
    L = loop
    nv, ns = L.nv, L.ns
    vars_ = list(inputs[:nv])
    sliced = inputs[nv:nv + ns]
    limit = None
    if L.has_max:
        limit = max(int(inputs[nv + ns]), 0)
    if ns:
        n = len(sliced[0])
        for s in sliced:
            if len(s) != n:
                raise errors.InvalidArgumentError(
                    None, None, "All elements of elems must have the same first dimension: "
                    f"{[len(x) for x in sliced]}")
        limit = n if limit is None else min(limit, n)
    cond_caps = [inputs[i] for i in L.cond_pos]
    body_caps = [inputs[i] for i in L.body_pos]
    save = L.save
    history: list = []
    accs: list[list] = [[] for _ in range(L.na)]
    it = 0
    while limit is None or it < limit:
        if L.cond is not None:
            c = L.cond.run(ctx, vars_ + cond_caps)[0][0]
            if not bool(c):
                break
        outs, saved = L.body.run(ctx, vars_ + [s[it] for s in sliced] + body_caps, save)
        if save:
            history.append((saved, tuple(np.shape(v) for v in vars_)))
        for i in L.check_idx:
            if not _shape_ok(np.shape(outs[i]), L.invariants[i]):
                raise errors.InvalidArgumentError(
                    None, None, f"Loop variable {L.names[i]} has shape "
                    f"{list(np.shape(outs[i]))} after iteration {it}, which is not "
                    f"compatible with its shape invariant {L.invariants[i]}")
        vars_ = outs[:nv]
        for j in range(L.na):
            accs[j].append(outs[nv + j])
        it += 1
    xp = ctx.xp
    fed = list(inputs)
    values = [_copy_if_fed(v, fed) for v in vars_]
    for j, (dt, shape) in enumerate(L.acc_specs):
        if accs[j]:
            values.append(xp.stack(accs[j]))
        else:
            dims = [0] + [0 if d is None else d for d in (shape.dims or ())]
            values.append(xp.zeros(dims, dtype=dt.np))
    stash = None
    if save:
        stash = _Stash(0, None, tuple(np.shape(v) for v in inputs), history)
    values.append(_handle(stash))
    return _outputs(values)


def _build_loop(cond_fn: Callable | None, body_fn: Callable, inits: list,
                invariants: list, sliced: list, max_iter: Any, name: str,
                back_prop: bool = True, names: list | None = None) -> tuple[list, list]:
    """Builds a ``While`` op. ``cond_fn(vars) -> bool tensor`` (or None: run over the
    rows of ``sliced``); ``body_fn(vars, rows) -> (new vars, per-iteration outputs)``.
    Returns (final loop variables, stacked per-iteration outputs)."""
    from rillet.ops.array_ops import identity, placeholder
    g = get_default_graph()
    L = _LoopInfo()
    L.nv, L.ns = len(inits), len(sliced)
    L.invariants = invariants
    L.back_prop = back_prop
    L.names = names or [f"'{t.name}'" for t in inits]
    with g.name_scope(name) as scope:
        caps_list = []
        if cond_fn is not None:
            def build_cond() -> tuple:
                with g.name_scope("cond"):
                    phs = [placeholder(t.dtype, inv, name="loop_var")
                           for t, inv in zip(inits, invariants)]
                    c = convert_to_tensor(cond_fn(phs))
                    if c.dtype is not _dt.bool_:
                        raise TypeError(f"The loop condition must return a bool tensor, got "
                                        f"dtype {c.dtype.name}")
                    if c.shape.ndims not in (None, 0):
                        raise ValueError(f"Shape must be rank 0 but is rank {c.shape.ndims} "
                                         f"for '{scope}LoopCond': the loop condition must be "
                                         "a scalar")
                    return phs, [identity(c)]
            (cphs, couts), cops = _in_window(g, build_cond)
            ccap = _finish(g, cops, couts, cphs)
            L.cond = ccap.sub
            caps_list.append(ccap)

        def build_body() -> tuple:
            with g.name_scope("body"):
                phs = [placeholder(t.dtype, inv, name="loop_var")
                       for t, inv in zip(inits, invariants)]
                rows = [placeholder(s.dtype, s.shape[1:] if s.shape.ndims else None,
                                    name="elem") for s in sliced]
                new, accs = body_fn(phs, rows)
                new = [convert_to_tensor(x) for x in new]
                accs = [convert_to_tensor(x) for x in accs]
                if len(new) != len(inits):
                    raise ValueError(f"The body must return {len(inits)} loop variables, got "
                                     f"{len(new)}")
                for i, (t, x, inv) in enumerate(zip(inits, new, invariants)):
                    if x.dtype is not t.dtype:
                        raise TypeError(f"Loop variable {L.names[i]} enters the loop with "
                                        f"dtype {t.dtype.name}, but has dtype {x.dtype.name} "
                                        "after one iteration")
                    if not inv.is_compatible_with(x.shape):
                        raise ValueError(
                            f"Input tensor {L.names[i]} enters the loop with shape {inv}, but "
                            f"has shape {x.shape} after one iteration. To allow the shape to "
                            "vary across iterations, use the `shape_invariants` argument of "
                            "tf.while_loop to specify a less-specific shape.")
                return phs, rows, [identity(x) for x in new], [identity(x) for x in accs]
        (bphs, brows, bnew, baccs), bops = _in_window(g, build_body)
        bcap = _finish(g, bops, bnew + baccs, bphs + brows)
        L.body = bcap.sub
        caps_list.append(bcap)
        L.na = len(baccs)
        L.check_idx = [i for i, (x, inv) in enumerate(zip(bnew, invariants))
                       if inv.ndims is not None and any(
                           d is not None for d in inv.dims) and not
                       (x.shape.ndims is not None and all(
                           d is None or e is not None for d, e in zip(inv.dims, x.shape.dims)))]
        n_static = None
        if sliced and sliced[0].shape.ndims:
            n_static = sliced[0].shape[0]
        if max_iter is not None:
            n_static = None
        L.acc_specs = [(x.dtype, x.shape) for x in baccs]
        inputs = list(inits) + list(sliced)
        if max_iter is not None:
            m = convert_to_tensor(max_iter, name="maximum_iterations")
            if not m.dtype.is_integer or m.shape.ndims not in (None, 0):
                raise ValueError("maximum_iterations must be a scalar integer, got "
                                 f"{m.dtype.name} of shape {m.shape}")
            inputs.append(m)
            L.has_max = True
        base = len(inputs)
        captures: list = []
        for c in caps_list:
            for t in c.captures:
                if not any(t is x for x in captures):
                    captures.append(t)

        def positions(sub: SubGraph, nlocal: int) -> list:
            return [base + next(i for i, x in enumerate(captures) if x is t)
                    for t in sub.fed[nlocal:]]
        if L.cond is not None:
            L.cond_pos = positions(L.cond, L.nv)
        L.body_pos = positions(L.body, L.nv + L.ns)
        inputs += captures
        L.out_specs = [(t.dtype, inv) for t, inv in zip(inits, invariants)]
        L.out_specs += [(dt, TensorShape([n_static]).concatenate(sh)) for dt, sh in L.acc_specs]
        L.out_specs.append((_dt.string, TensorShape([])))
        op_type = "While" if any(c.effectful for c in caps_list) else "StatelessWhile"
        out = apply_op(op_type, inputs, {"loop": L}, name="While")
        op = out[0].op if isinstance(out, tuple) else out.op
        for c in caps_list:
            for ctrl in c.outer_ctrl:
                op._add_control_input(ctrl)
    outs = op.outputs
    return list(outs[:L.nv]), list(outs[L.nv:L.nv + L.na])


# --- while gradient ---------------------------------------------------------------------------
class _WhileGradInfo:
    def __init__(self) -> None:
        self.gg: _GradGraph | None = None
        self.fv: list = []            # float loop variables
        self.fa: list = []            # float per-iteration outputs
        self.fs: list = []            # float sliced inputs
        self.fc: list = []            # (While input index, grad index) of float captures
        self.positions: list = []     # While input index of each WhileGrad output
        self.dtypes: list = []
        self.var_out: list = []       # grad output index of each float loop variable
        self.slice_out: list = []
        self.cap_out: list = []

    def __repr__(self) -> str:
        return f"<while gradient of inputs {self.positions}>"


def _while_grad_info(op: Operation) -> _WhileGradInfo:
    L: _LoopInfo = op.attrs["loop"]
    if L.grad is not None:
        return L.grad
    body = L.body
    nv, ns = L.nv, L.ns
    W = _WhileGradInfo()
    W.fv = [i for i in range(nv) if _is_float(op.outputs[i])]
    W.fa = [j for j in range(L.na) if _is_float(op.outputs[nv + j])]
    W.fs = [j for j in range(ns) if _is_float(op.inputs[nv + j])]
    ys = [body.outputs[i] for i in W.fv] + [body.outputs[nv + j] for j in W.fa]
    phs = body.fed[:nv]
    rows = body.fed[nv:nv + ns]
    caps = [(pos, t) for pos, t in zip(L.body_pos, body.fed[nv + ns:]) if _is_float(t)]
    caps += [(next(i for i, x in enumerate(op.inputs) if x is r), r)
             for r in body.reads if _is_float(r)]
    xs = [phs[i] for i in W.fv] + [rows[j] for j in W.fs] + [t for _, t in caps]
    gg = _grad_subgraph(op.graph, body, ys, xs)
    W.gg = gg
    nfv, nfs = len(W.fv), len(W.fs)
    W.var_out = gg.index[:nfv]
    W.slice_out = gg.index[nfv:nfv + nfs]
    W.fc = [(pos, j) for (pos, _), j in zip(caps, gg.index[nfv + nfs:]) if j is not None]
    W.positions = [i for i in W.fv] + [nv + j for j in W.fs] + [pos for pos, _ in W.fc]
    W.dtypes = [op.inputs[p].dtype for p in W.positions]
    L.grad = W
    L.save = True
    return W


def _while_grad(op: Operation, *dys: Any) -> list:
    L: _LoopInfo = op.attrs["loop"]
    res: list = [None] * len(op.inputs)
    if not L.back_prop:
        return res
    nv = L.nv
    W = _while_grad_info(op)
    from rillet.ops.math_ops import zeros_like
    idx = W.fv + [nv + j for j in W.fa]
    if all(dys[i] is None for i in idx):
        return res
    dy_ts = [dys[i] if dys[i] is not None else zeros_like(op.outputs[i]) for i in idx]
    g = op.graph
    with g.name_scope(op.name.replace("/", "_") + "_grad"):
        out = apply_op("WhileGrad", (op.outputs[-1], *dy_ts, *W.gg.outer), {"loop": W},
                       name="WhileGrad")
    outs = out if isinstance(out, tuple) else (out,)
    for p, t in zip(W.positions, outs):
        t.set_shape(op.inputs[p].shape)
        res[p] = t
    return res


def _while_grad_infer(op: Any) -> list:
    W: _WhileGradInfo = op.attrs["loop"]
    return [(dt, TensorShape(None)) for dt in W.dtypes]


def _while_grad_kernel(ctx: Any, handle: Any, *rest: Any, loop: _WhileGradInfo) -> Any:
    W = loop
    st = _unwrap(handle)
    if st is None:
        raise errors.InternalError(None, None, "while_loop gradient: the forward values were "
                                   "not saved")
    xp = ctx.xp
    nfv, nfa = len(W.fv), len(W.fa)
    g_v = list(rest[:nfv])
    dy_a = rest[nfv:nfv + nfa]
    outer = list(rest[nfv + nfa:])
    gg = W.gg
    g_s = [xp.zeros(st.shapes[W.positions[nfv + k]], dtype=W.dtypes[nfv + k].np)
           for k in range(len(W.fs))]
    g_c: list = [None] * len(W.fc)
    for it in range(len(st.history) - 1, -1, -1):
        saved, var_shapes = st.history[it]
        feeds = g_v + [a[it] for a in dy_a] + [saved[id(t)] for t in gg.stash] + outer
        outs, _ = gg.sub.run(ctx, feeds)
        new_v = []
        for k, j in enumerate(W.var_out):
            if j is None:
                new_v.append(xp.zeros(var_shapes[W.fv[k]], dtype=W.dtypes[k].np))
            else:
                new_v.append(outs[j])
        g_v = new_v
        for k, j in enumerate(W.slice_out):
            if j is not None:
                g_s[k][it] += outs[j]
        for k, (_, j) in enumerate(W.fc):
            g_c[k] = outs[j] if g_c[k] is None else g_c[k] + outs[j]
    nf = nfv + len(W.fs)
    for k in range(len(W.fc)):
        if g_c[k] is None:
            g_c[k] = xp.zeros(st.shapes[W.positions[nf + k]], dtype=W.dtypes[nf + k].np)
    return _outputs(g_v + g_s + g_c)


register("While", infer=_while_infer, kernel=_while_kernel, grad=_while_grad, stateful=True,
         needs_ctx=True)
register("StatelessWhile", infer=_while_infer, kernel=_while_kernel, grad=_while_grad,
         needs_ctx=True)
register("WhileGrad", infer=_while_grad_infer, kernel=_while_grad_kernel,
         grad=_no_second_order("while_loop"), needs_ctx=True)


def while_loop(cond: Callable, body: Callable, loop_vars: Any, shape_invariants: Any = None,
               parallel_iterations: int = 10, back_prop: bool = True, swap_memory: bool = False,
               name: str | None = None, maximum_iterations: Any = None,
               return_same_structure: bool = False) -> Any:
    """Repeats ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` is true.

    ``loop_vars`` is a list or tuple (any nesting) of tensors; ``body`` returns the same
    structure. A loop variable's static shape may not change unless ``shape_invariants``
    (same structure, ``TensorShape``s with None dims) allows it. ``maximum_iterations``
    bounds the number of iterations. Returns the final loop variables (a single tensor when
    there is one and not ``return_same_structure``). Gradients flow back through the
    iterations (``back_prop=False`` turns them off); ``parallel_iterations`` and
    ``swap_memory`` are accepted and ignored.
    """
    if not callable(cond):
        raise TypeError("cond must be callable.")
    if not callable(body):
        raise TypeError("body must be callable.")
    if parallel_iterations < 1:
        raise TypeError("parallel_iterations must be a positive integer.")
    nest = _nest()
    if not isinstance(loop_vars, list | tuple):
        loop_vars = [loop_vars]
    flat = nest.flatten(loop_vars)
    if not flat:
        raise ValueError("No loop variables provided")

    def repack(res: Any) -> Any:
        if not nest.is_sequence(res):
            res = [res]
        out = nest.flatten(res)
        if len(out) != len(flat):
            raise ValueError("The body must return the same structure as loop_vars: "
                             f"{len(flat)} loop variables, got {len(out)}")
        return out

    def finish(values: list) -> Any:
        if not return_same_structure and len(values) == 1:
            return values[0]
        return nest.pack_sequence_as(loop_vars, values)

    if context.executing_eagerly():
        values = [convert_to_tensor(x) for x in flat]
        limit = None if maximum_iterations is None else int(maximum_iterations)
        it = 0
        while (limit is None or it < limit) and \
                bool(cond(*nest.pack_sequence_as(loop_vars, values))):
            values = [convert_to_tensor(x) for x in
                      repack(body(*nest.pack_sequence_as(loop_vars, values)))]
            it += 1
        return finish(values)
    g = get_default_graph()
    with g.name_scope(name or "while") as scope:
        inits = [convert_to_tensor(x, name="loop_var_init") for x in flat]
        if shape_invariants is None:
            invariants = [t.shape for t in inits]
        else:
            inv_flat = nest.flatten(shape_invariants) if nest.is_sequence(shape_invariants) \
                else [shape_invariants]
            if len(inv_flat) != len(inits):
                raise ValueError(f"shape_invariants has {len(inv_flat)} shapes for "
                                 f"{len(inits)} loop variables")
            invariants = [as_shape(s) for s in inv_flat]
        for t, inv in zip(inits, invariants):
            if not inv.is_compatible_with(t.shape):
                raise ValueError(f"The shape invariant specified for {t.name} is not "
                                 "compatible with the initial shape of the loop variable. It "
                                 f"enters the loop with shape {t.shape}, but the specified "
                                 f"shape invariant is {inv}.")

        def cond_fn(vs: list) -> Any:
            return cond(*nest.pack_sequence_as(loop_vars, vs))

        def body_fn(vs: list, rows: list) -> tuple:
            return repack(body(*nest.pack_sequence_as(loop_vars, vs))), []

        final, _ = _build_loop(cond_fn, body_fn, inits, invariants, [], maximum_iterations,
                               scope, back_prop, [f"'{t.name}'" for t in inits])
    return finish(final)


__all__ = ["SubGraph", "case", "cond", "group", "no_op", "tuple_", "while_loop"]

"""``GradientTape``: records ops run eagerly and differentiates through them.

Eagerly, every op that consumes a watched tensor is recorded (``execute.record``); its outputs
become watched. ``gradient`` runs ``rillet.gradients.backprop`` (the same walker as graph
mode) over the recorded ops between the sources and the targets. Gradient functions are rillet
ops run eagerly, so an outer tape records them: nested tapes give higher derivatives.

In graph mode (e.g. while ``rt.function`` traces) the tape remembers which graph ops were
created while it was recording and delegates to ``rt.gradients``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from rillet import context as _context
from rillet import registry
from rillet.eager import nest
from rillet.eager.execute import TapeOp, tape_state
from rillet.eager.tensor import EagerTensor, walk
from rillet.gradients import aggregate, backprop, gradients
from rillet.graph import Tensor, get_default_graph
from rillet.ops import array_ops, math_ops
from rillet.registry import convert_to_tensor
from rillet.variables import Variable

_ONCE = ("A non-persistent GradientTape can only be used to compute one set of gradients "
         "(or jacobians)")


class UnconnectedGradients:
    """What ``gradient`` returns for sources the target does not depend on."""

    NONE = "none"
    ZERO = "zero"


def _unconnected(u: Any) -> str:
    u = getattr(u, "value", u)
    if u not in ("none", "zero"):
        raise ValueError(f"Unknown value for unconnected_gradients: {u!r}")
    return u


def _grad_fn(op: Any) -> Any:
    return op.grad if getattr(op, "grad", None) is not None else \
        registry.gradient_function(op)


class _GradScope:
    """Around each gradient function: tensors are ``.op``-less again (normal eager)."""

    __slots__ = ("saved",)

    def __init__(self, op: Any):
        self.saved = 0

    def __enter__(self) -> None:
        self.saved = walk.producers
        walk.producers = None

    def __exit__(self, *exc: Any) -> None:
        walk.producers = self.saved


def _is_var_read(op: Any) -> bool:
    return op.type == "Identity" and op.inputs[0].op.type == "VariableV2"


class GradientTape:
    """Records operations for automatic differentiation.

    ``persistent=True`` allows several ``gradient`` calls; ``watch_accessed_variables``
    watches every trainable variable read while recording.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self._persistent = persistent
        self._watch_accessed = watch_accessed_variables
        self._recording = False
        self._used = False
        self._eager: bool | None = None
        self._graph: Any = None
        self._clear()

    def _clear(self) -> None:
        self._producers: dict[int, TapeOp] = {}
        self._watched: set[int] = set()
        self._keep: list = []
        self._var_reads: dict[int, list] = {}
        self._vars: dict[int, Any] = {}
        self._watched_vars: dict[int, Any] = {}
        self._segments: list[tuple[int, int]] = []
        self._open = 0

    # --- recording ------------------------------------------------------------------------
    def __enter__(self) -> GradientTape:
        if self._recording:
            raise ValueError("Tape is already recording.")
        self._eager = _context.executing_eagerly()
        if not self._eager:
            self._graph = get_default_graph()
        self._push()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._recording:
            self._pop()

    def _push(self) -> None:
        self._recording = True
        if self._eager:
            tape_state.tapes.append(self)
        else:
            self._open = len(self._graph._ops)

    def _pop(self) -> None:
        self._recording = False
        if self._eager:
            tapes = tape_state.tapes
            for i in range(len(tapes) - 1, -1, -1):
                if tapes[i] is self:
                    del tapes[i]
                    break
        else:
            self._segments.append((self._open, len(self._graph._ops)))

    @contextlib.contextmanager
    def _paused(self) -> Iterator[None]:
        was = self._recording
        if was:
            self._pop()
        try:
            yield
        finally:
            if was:
                self._push()

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Ops run inside the block are not recorded on this tape."""
        if not self._recording:
            raise ValueError("Tape.stop_recording() called when tape is not recording.")
        with self._paused():
            yield

    def reset(self) -> None:
        """Forgets everything recorded so far (the tape keeps recording if it was)."""
        self._clear()
        self._used = False
        if self._recording and not self._eager:
            self._open = len(self._graph._ops)

    def watch(self, tensor: Any) -> None:
        """Watches tensors or variables (any nesting) so gradients with respect to them can
        be computed."""
        for x in nest.flatten(tensor):
            if isinstance(x, Variable):
                self._watched_vars[id(x)] = x
                self._vars.setdefault(id(x), x)
            elif isinstance(x, EagerTensor | Tensor):
                self._watched.add(id(x))
                self._keep.append(x)
            else:
                raise ValueError(f"Passed in object of type {type(x)}, not a tensor or "
                                 "variable")

    def watched_variables(self) -> list:
        """Variables watched (explicitly, or read while recording), in order of first use."""
        return list(self._vars.values())

    def _add(self, rec: TapeOp) -> None:
        w, prod = self._watched, self._producers
        for o in rec.outputs:
            w.add(id(o))
            prod[id(o)] = rec

    def _on_read(self, var: Any, t: EagerTensor) -> None:
        tid = id(t)
        if tid in self._watched:
            return
        vid = id(var)
        if vid in self._watched_vars or (self._watch_accessed and var.trainable):
            self._vars.setdefault(vid, var)
            self._var_reads.setdefault(vid, []).append(t)
            self._watched.add(tid)

    # --- gradients ------------------------------------------------------------------------
    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: Any = UnconnectedGradients.NONE) -> Any:
        """d(sum of ``target``)/d(each source), with the structure of ``sources``."""
        if self._used:
            raise RuntimeError(_ONCE)
        u = _unconnected(unconnected_gradients)
        flat_sources = nest.flatten(sources)
        flat = self._gradient(nest.flatten(target), flat_sources,
                              None if output_gradients is None else
                              nest.flatten(output_gradients), u)
        self._done()
        return nest.pack_sequence_as(sources, flat)

    def _done(self) -> None:
        if not self._persistent:
            self._used = True
            rec, variables = self._recording, self._vars
            self._clear()
            self._vars = variables
            if rec and not self._eager:
                self._open = len(self._graph._ops)

    def _gradient(self, targets: list, sources: list, output_gradients: list | None,
                  u: str) -> list:
        eager = self._eager if self._eager is not None else _context.executing_eagerly()
        if output_gradients is not None and len(output_gradients) != len(targets):
            raise ValueError(f"Passed {len(output_gradients)} output_gradients for "
                             f"{len(targets)} targets")
        with self._paused():
            if eager:
                return self._eager_gradient(targets, sources, output_gradients, u)
            return self._graph_gradient(targets, sources, output_gradients, u)

    def _eager_gradient(self, targets: list, sources: list, ogs: list | None,
                        u: str) -> list:
        ys = [convert_to_tensor(y) for y in targets]
        for y in ys:
            if not isinstance(y, EagerTensor):
                raise ValueError(f"GradientTape.gradient: target {y!r} is not an eager tensor")
        gys = []
        for i, y in enumerate(ys):
            g = None if ogs is None else ogs[i]
            if g is None:
                g = EagerTensor(np.ones_like(y._value), y.dtype)
            else:
                g = convert_to_tensor(g, dtype=y.dtype)
            gys.append(g)
        src_lists, src_ids = [], set()
        for s in sources:
            if isinstance(s, Variable):
                ts = self._var_reads.get(id(s), [])
            elif isinstance(s, EagerTensor):
                ts = [s] if id(s) in self._watched or any(s is y for y in ys) else []
            else:
                raise ValueError(f"GradientTape.gradient: sources must be tensors or "
                                 f"variables, got {type(s).__name__}")
            src_lists.append(ts)
            src_ids.update(id(t) for t in ts)
        between = self._between(ys, src_ids)
        saved, walk.producers = walk.producers, self._producers
        try:
            grads = backprop(ys, gys, between, set(), grad_fn=_grad_fn, scope=_GradScope)
        finally:
            walk.producers = saved
        out = []
        for s, ts in zip(sources, src_lists):
            g = aggregate([g for t in ts for g in grads.get(id(t), ())])
            if g is None and u == "zero":
                g = math_ops.zeros_like(s)
            out.append(g)
        return out

    def _between(self, ys: list, src_ids: set) -> set:
        """Recorded ops that lie on a path from a source to a target."""
        prod = self._producers
        found: dict[int, TapeOp] = {}
        stack = [prod.get(id(y)) for y in ys]
        while stack:
            op = stack.pop()
            if op is None or id(op) in found:
                continue
            found[id(op)] = op
            stack.extend(prod.get(id(t)) for t in op.inputs)
        useful: set[int] = set()
        for op in sorted(found.values(), key=lambda o: o.seq):
            for t in op.inputs:
                p = prod.get(id(t))
                if id(t) in src_ids or (p is not None and id(p) in useful):
                    useful.add(id(op))
                    break
        return {op for i, op in found.items() if i in useful}

    def _recorded(self, op: Any) -> bool:
        i = op._id
        if self._recording and i >= self._open:
            return True
        return any(a <= i < b for a, b in self._segments)

    def _graph_gradient(self, targets: list, sources: list, ogs: list | None,
                        u: str) -> list:
        g = self._graph if self._graph is not None else get_default_graph()
        ys = [convert_to_tensor(y) for y in targets]
        stops = [op.outputs[0] for op in g._ops
                 if op.inputs and op.outputs and not self._recorded(op) and
                 not _is_var_read(op)]
        xs, wanted = [], []
        for s in sources:
            if isinstance(s, Variable):
                ok = id(s) in self._watched_vars or (self._watch_accessed and s.trainable)
            elif isinstance(s, Tensor):
                ok = id(s) in self._watched or self._recorded(s.op) or any(s is y for y in ys)
            else:
                raise ValueError(f"GradientTape.gradient: sources must be tensors or "
                                 f"variables, got {type(s).__name__}")
            wanted.append(ok)
            if ok:
                xs.append(s)
        grads = iter(gradients(ys, xs, grad_ys=ogs, stop_gradients=stops,
                               unconnected_gradients=u) if xs else [])
        return [next(grads) if ok else (math_ops.zeros_like(s) if u == "zero" else None)
                for s, ok in zip(sources, wanted)]

    # --- jacobians ------------------------------------------------------------------------
    def jacobian(self, target: Any, sources: Any, unconnected_gradients: Any = "none",
                 parallel_iterations: Any = None, experimental_use_pfor: bool = True) -> Any:
        """For each source, the Jacobian of ``target``: shape ``target.shape +
        source.shape``."""
        if self._used:
            raise RuntimeError(_ONCE)
        u = _unconnected(unconnected_gradients)
        y = convert_to_tensor(target)
        shape = y.shape
        n = shape.num_elements()
        if n is None:
            raise ValueError(f"jacobian needs a target of known shape, got {shape}")
        flat_sources = nest.flatten(sources)
        rows = []
        for i in range(n):
            onehot = np.zeros(n, dtype=y.dtype.np)
            onehot[i] = 1
            og = _constant(onehot.reshape(shape.as_list()), y.dtype)
            rows.append(self._gradient([y], flat_sources, [og], u))
        out = []
        for j, s in enumerate(flat_sources):
            col = [r[j] for r in rows]
            if all(c is None for c in col):
                out.append(None)
                continue
            col = [math_ops.zeros_like(s) if c is None else c for c in col]
            jac = array_ops.stack(col)
            out.append(array_ops.reshape(jac, shape.as_list() + _shape_of(s)))
        self._done()
        return nest.pack_sequence_as(sources, out)

    def batch_jacobian(self, target: Any, source: Any, unconnected_gradients: Any = "none",
                       parallel_iterations: Any = None,
                       experimental_use_pfor: bool = True) -> Any:
        """Per-example Jacobians: target ``[b, y...]``, source ``[b, x...]`` give
        ``[b, y..., x...]`` (examples must be independent)."""
        if self._used:
            raise RuntimeError(_ONCE)
        u = _unconnected(unconnected_gradients)
        y = convert_to_tensor(target)
        dims = y.shape.as_list()
        if not dims or any(d is None for d in dims):
            raise ValueError(f"batch_jacobian needs a target of known shape [batch, ...], got "
                             f"{y.shape}")
        b, m = dims[0], int(np.prod(dims[1:], dtype=np.int64))
        cols = []
        for j in range(m):
            onehot = np.zeros((b, m), dtype=y.dtype.np)
            onehot[:, j] = 1
            og = _constant(onehot.reshape(dims), y.dtype)
            cols.append(self._gradient([y], [source], [og], u)[0])
        self._done()
        if all(c is None for c in cols):
            return None
        cols = [math_ops.zeros_like(source) if c is None else c for c in cols]
        jac = array_ops.stack(cols, axis=1)
        return array_ops.reshape(jac, dims + _shape_of(source)[1:])


def _shape_of(s: Any) -> list:
    return convert_to_tensor(s).shape.as_list() if not isinstance(s, Variable) \
        else s.shape.as_list()


def _constant(value: np.ndarray, dtype: Any) -> Any:
    if _context.executing_eagerly():
        return EagerTensor(value, dtype)
    return registry.constant_op(value, dtype)

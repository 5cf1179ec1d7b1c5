"""Eager dispatch: ``eager_execute(opdef, inputs, attrs, name)`` runs one op at once.

It is installed as ``rillet.context.eager_execute``, which ``registry.apply_op`` calls when
executing eagerly. Per call: run the op's shape/dtype inference (the same errors as in graph
mode, raised at the user's line), call the kernel on the inputs' arrays, wrap the results in
``EagerTensor`` and record the op on every active ``GradientTape`` that watches an input.

Inference results are cached per (op, attrs, input dtypes and shapes) when the inference did
not look at input values, so a cache hit costs one dict lookup and the kernel call.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet import errors, registry
from rillet.eager import tensor as _tensor
from rillet.eager.tensor import EagerTensor
from rillet.registry import NOT_DIFFERENTIABLE, OpSpec, run_inference

# --- the eager variable store and run context ----------------------------------------------
store: dict[str, np.ndarray] = {}
"""Values of eager variables by name: the ``ctx.vars`` of eager kernels and of the Sessions
that run ``rt.function`` graphs, so fused optimizer kernels update eager variables in place."""


_rngs: dict[tuple, np.random.Generator] = {}
_counters: dict[str, int] = {}
_resources: dict[Any, Any] = {}


class EagerRunContext(threading.local):
    """What stateful kernels see in eager mode (mirrors ``session.RunContext``). One per
    thread (``op`` is per thread); variables, RNG streams and resources are shared."""

    def __init__(self) -> None:
        self.xp = np
        self.vars = store
        self.rngs = _rngs
        self.counters = _counters
        self.resources = _resources
        self.op: Any = None
        self.session = None

    def rng(self) -> np.random.Generator:
        """One generator per (seed, seed2), as TF's eager kernel cache: repeated calls with
        the same seeds continue one stream; (0, 0) means nondeterministic."""
        a = self.op.attrs
        key = (int(a.get("seed", 0) or 0), int(a.get("seed2", 0) or 0))
        g = self.rngs.get(key)
        if g is None:
            g = self.rngs[key] = np.random.default_rng(None if key == (0, 0) else list(key))
        return g

    def reset_random(self) -> None:
        self.rngs.clear()


ctx = EagerRunContext()


# --- active tapes (per thread) ---------------------------------------------------------------
class _TapeState(threading.local):
    def __init__(self) -> None:
        self.tapes: list = []


tape_state = _TapeState()


class TapeOp:
    """One op recorded on a tape: what ``gradients.backprop`` and gradient functions see."""

    __slots__ = ("type", "name", "inputs", "outputs", "attrs", "seq", "grad", "__weakref__")
    _counter = 0

    def __init__(self, type: str, name: str, inputs: tuple, outputs: tuple, attrs: dict,
                 grad: Any = None):
        self.type = type
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs
        TapeOp._counter += 1
        self.seq = TapeOp._counter
        self.grad = grad

    graph = None
    control_inputs: tuple = ()

    def get_attr(self, name: str) -> Any:
        if name not in self.attrs:
            raise ValueError(f"Operation {self.name!r} has no attr named {name!r}.")
        return self.attrs[name]

    def values(self) -> tuple:
        return self.outputs

    def __repr__(self) -> str:
        return f"<rillet eager op {self.type}>"


def record(tapes: list, op_type: str, name: str, inputs: Any, attrs: dict,
           outputs: tuple, grad: Any = None) -> None:
    """Records an executed op on each tape in ``tapes`` that watches one of its inputs."""
    rec = None
    for tape in tapes:
        w = tape._watched
        for t in inputs:
            if id(t) in w:
                break
        else:
            continue
        if rec is None:
            rec = TapeOp(op_type, name, tuple(inputs), outputs, attrs, grad)
        tape._add(rec)


# --- dispatch --------------------------------------------------------------------------------
_CONST = registry.get("Const")
_cache: dict[tuple, tuple] = {}
_CACHE_LIMIT = 20000
_KERNEL_ERRORS = (ValueError, TypeError, ArithmeticError, IndexError, KeyError, RuntimeError,
                  MemoryError, AttributeError, np.linalg.LinAlgError)


def _differentiable(opdef: registry.OpDef) -> bool:
    return opdef.grad is not NOT_DIFFERENTIABLE or opdef.type in registry._USER_GRADIENTS


def _not_eager(opdef: registry.OpDef, inputs: Any) -> TypeError:
    bad = next(t for t in inputs if not isinstance(t, EagerTensor))
    return TypeError(f"An op outside of a graph ({opdef.type}) was passed a graph tensor "
                     f"{bad!r}; graph tensors cannot be used when executing eagerly.")


def _prepare(opdef: registry.OpDef, inputs: Any, attrs: dict, name: str | None,
             key: Any) -> tuple:
    """Runs inference (raising graph-mode errors) and builds the cache entry for ``key``."""
    reads = _tensor.value_reads[0]
    out_specs = run_inference(opdef, OpSpec(opdef.type, name or opdef.type, inputs, attrs))
    dtypes = tuple(dt for dt, _ in out_specs)
    entry = (opdef.kernel, opdef.needs_ctx, opdef.kernel_kwargs(attrs), dtypes,
             tuple(dt.np for dt in dtypes), _differentiable(opdef))
    if key is not None and _tensor.value_reads[0] == reads:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[key] = entry
    return entry


def _spec_name(opdef: registry.OpDef, name: str | None, attrs: dict) -> str:
    # Per-variable names keep per-op scratch buffers (optimizer kernels) apart.
    base = name or opdef.type
    var = attrs.get("var")
    return f"{base}/{var}" if isinstance(var, str) else base


def _as_output(r: Any, npd: np.dtype) -> Any:
    if type(r) is not np.ndarray:
        if isinstance(r, np.generic) and r.dtype is npd:
            return r
        return np.asarray(r, dtype=npd)
    if r.dtype is not npd:
        return r.astype(npd)
    return r


def eager_execute(opdef: registry.OpDef, inputs: Any, attrs: dict, name: str | None) -> Any:
    """Runs ``opdef`` now on EagerTensor ``inputs``; returns EagerTensor(s) or None."""
    if opdef is _CONST:
        return EagerTensor(attrs["value"], attrs["dtype"])
    try:
        vals = [t._value for t in inputs]
    except AttributeError:
        raise _not_eager(opdef, inputs) from None
    # Cache key: op, attrs and each input's dtype and shape.
    n_in = len(vals)
    if n_in == 2:
        v0, v1 = vals
        key: Any = (opdef, v0.dtype, v0.shape, v1.dtype, v1.shape)
    elif n_in == 1:
        v0 = vals[0]
        key = (opdef, v0.dtype, v0.shape)
    else:
        key = (opdef, *[(v.dtype, v.shape) for v in vals])
    if attrs:
        key = (key, *attrs.items())
    try:
        entry = _cache.get(key)
    except TypeError:  # unhashable attrs
        entry, key = None, None
    if entry is None:
        entry = _prepare(opdef, inputs, attrs, name, key)
    kernel, needs_ctx, kw, dtypes, npdtypes, diff = entry
    try:
        if needs_ctx:
            ctx.op = OpSpec(opdef.type, _spec_name(opdef, name, attrs), inputs, attrs)
            r = kernel(ctx, *vals, **kw)
        elif kw:
            r = kernel(np, *vals, **kw)
        else:
            r = kernel(np, *vals)
    except errors.OpError as e:
        if "[Op:" not in e.message:
            e.message = f"{e.message} [Op:{opdef.type}]"
            e.args = (e.message,)
        raise
    except _KERNEL_ERRORS as e:
        cls = errors.ResourceExhaustedError if isinstance(e, MemoryError) else \
            errors.InvalidArgumentError
        raise cls(None, None, f"{type(e).__name__}: {e} [Op:{opdef.type}]") from e
    n = len(dtypes)
    if n == 1:
        npd = npdtypes[0]
        if type(r) is not np.ndarray or r.dtype is not npd:
            r = _as_output(r, npd)
        outs: tuple = (EagerTensor(r, dtypes[0]),)
    elif n == 0:
        return None
    else:
        outs = tuple(EagerTensor(_as_output(v, npd), dt)
                     for v, npd, dt in zip(r, npdtypes, dtypes))
    for t in inputs:
        if t._var is not None:  # never hand out views of a variable's storage
            _unalias(outs, t._value)
    tapes = tape_state.tapes
    if tapes and diff:
        record(tapes, opdef.type, name or opdef.type, inputs, attrs, outs)
    return outs[0] if n == 1 else outs


def _unalias(outs: tuple, storage: np.ndarray) -> None:
    for o in outs:
        v = o._value
        if isinstance(v, np.ndarray) and np.may_share_memory(v, storage):
            o._value = v.copy()


def constant(value: Any, dtype: _dt.DType | None = None) -> EagerTensor:
    """An EagerTensor from a Python/NumPy value without going through the op machinery."""
    arr, dt = registry.to_numpy(value, dtype)
    return EagerTensor(np.array(arr, copy=True), dt)

"""``Session``: owns variable values and runs execution plans of the graph.

A plan is built once per (fetches, fed tensors): the ops on the computation path of the
fetches (stopping at fed tensors), topologically sorted with side-effecting updates as late as
possible, every input resolved to a slot index, and buffers released after their last use.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet import errors, registry
from rillet.graph import Graph, Operation, Tensor, get_default_graph
from rillet.ops import _parallel
from rillet.shapes import TensorShape

_DEBUG = os.environ.get("RILLET_DEBUG", "") not in ("", "0")

# Ops whose output may be the variable's own storage: fetching them returns a copy, so a
# fetched value never changes under the user when training updates the variable in place.
_ALIASING = {"VariableV2", "Identity", "Assign", "AssignAdd", "AssignSub", "Print",
             "StopGradient", "PlaceholderWithDefault"}


class GPUOptions:
    """Accepted for TF 1.x compatibility (``allow_growth``, ``per_process_gpu_memory_fraction``)."""

    def __init__(self, allow_growth: bool = False, per_process_gpu_memory_fraction: float = 1.0,
                 visible_device_list: str = "", **kwargs: Any):
        self.allow_growth = allow_growth
        self.per_process_gpu_memory_fraction = per_process_gpu_memory_fraction
        self.visible_device_list = visible_device_list
        self.__dict__.update(kwargs)


class ConfigProto:
    """Session configuration (TF 1.x names); ``log_device_placement`` prints each op's device."""

    def __init__(self, log_device_placement: bool = False, allow_soft_placement: bool = True,
                 gpu_options: GPUOptions | None = None, intra_op_parallelism_threads: int = 0,
                 inter_op_parallelism_threads: int = 0, device_count: dict | None = None,
                 **kwargs: Any):
        self.log_device_placement = log_device_placement
        self.allow_soft_placement = allow_soft_placement
        self.gpu_options = gpu_options or GPUOptions()
        self.intra_op_parallelism_threads = intra_op_parallelism_threads
        self.inter_op_parallelism_threads = inter_op_parallelism_threads
        self.device_count = device_count or {}
        self.__dict__.update(kwargs)


class RunOptions:
    FULL_TRACE = 3
    NO_TRACE = 0

    def __init__(self, trace_level: int = 0, **kwargs: Any):
        self.trace_level = trace_level


class RunMetadata:
    def __init__(self) -> None:
        self.step_stats = None


class RunContext:
    """What stateful kernels see: the array module, variable values, RNGs and the current op."""

    __slots__ = ("xp", "vars", "rngs", "counters", "op", "session", "resources")

    def __init__(self, session: Session):
        self.xp = np
        self.vars: dict[str, Any] = {}
        self.rngs: dict[str, np.random.Generator] = {}
        self.counters: dict[str, int] = {}
        self.resources: dict[str, Any] = {}
        self.op: Operation | None = None
        self.session = session

    def fork(self) -> RunContext:
        """A view for one run: shares the Session's state, has its own ``op`` (so threads
        running plans concurrently do not see each other's current op)."""
        rc = RunContext.__new__(RunContext)
        rc.xp, rc.vars, rc.rngs, rc.counters = self.xp, self.vars, self.rngs, self.counters
        rc.resources, rc.session, rc.op = self.resources, self.session, None
        return rc

    def rng(self) -> np.random.Generator:
        """The current op's generator: seeded from (seed, seed2) when set, else random."""
        op = self.op
        g = self.rngs.get(op.name)
        if g is None:
            s1, s2 = op.attrs.get("seed", 0), op.attrs.get("seed2", 0)
            seed = None if (s1 == 0 and s2 == 0) else [int(s1), int(s2)]
            g = self.rngs[op.name] = np.random.default_rng(seed)
        return g


class _Plan:
    __slots__ = ("steps", "nslots", "feed_slots", "feed_info", "fetch_slots", "fetch_copy",
                 "ops", "blas")

    def __init__(self) -> None:
        self.steps: list = []
        self.nslots = 0
        self.feed_slots: dict[int, int] = {}
        self.feed_info: dict[int, Tensor] = {}
        self.fetch_slots: list[int | None] = []
        self.fetch_copy: list[bool] = []
        self.ops: list[Operation] = []
        self.blas = False


# --- fetch structures ---------------------------------------------------------------------
def _flatten(fetches: Any, out: list) -> Callable[[Iterator], Any]:
    """Flattens nested fetches into ``out``; returns a function rebuilding the structure."""
    if isinstance(fetches, dict):
        keys = list(fetches)
        subs = [_flatten(fetches[k], out) for k in keys]
        t = type(fetches)
        return lambda it: t(zip(keys, [s(it) for s in subs])) if t is dict else \
            _rebuild_mapping(t, keys, [s(it) for s in subs])
    if isinstance(fetches, tuple) and hasattr(fetches, "_fields"):
        subs = [_flatten(f, out) for f in fetches]
        t = type(fetches)
        return lambda it: t(*[s(it) for s in subs])
    if isinstance(fetches, list | tuple):
        subs = [_flatten(f, out) for f in fetches]
        t = type(fetches)
        return lambda it: t(s(it) for s in subs)
    if fetches is None:
        raise TypeError("Fetch argument None has invalid type <class 'NoneType'>")
    out.append(fetches)
    return lambda it: next(it)


def _rebuild_mapping(t: type, keys: list, values: list) -> Any:
    try:
        return t(zip(keys, values))
    except TypeError:
        return dict(zip(keys, values))


class Session:
    """Runs graph fragments and owns the values of variables.

    ``run(fetches, feed_dict)`` evaluates only the ancestors of ``fetches``, stopping at fed
    tensors; fetches may be tensors, ops, names or nested lists/tuples/dicts of them.
    """

    def __init__(self, target: str = "", graph: Graph | None = None,
                 config: ConfigProto | None = None):
        self.graph = graph if graph is not None else get_default_graph()
        self._config = config or ConfigProto()
        self._closed = False
        self._ctx = RunContext(self)
        self._plans: dict[Any, _Plan] = {}
        self._lock = threading.Lock()
        self._default_cm: Any = None
        self.sess_str = target

    # --- life cycle ---------------------------------------------------------------------
    def close(self) -> None:
        """Releases the variables' values; later ``run`` calls raise RuntimeError."""
        self._closed = True
        self._ctx.vars.clear()
        self._plans.clear()

    def __enter__(self) -> Session:
        self._default_cm = self.as_default()
        self._default_cm.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        cm, self._default_cm = self._default_cm, None
        if cm is not None:
            cm.__exit__(*exc)
        self.close()

    def __del__(self) -> None:
        pass

    @contextlib.contextmanager
    def as_default(self) -> Iterator[Session]:
        """Makes this the session ``Tensor.eval`` and ``Operation.run`` use."""
        stack = _session_stack()
        stack.append(self)
        try:
            with self.graph.as_default():
                yield self
        finally:
            stack.remove(self)

    @property
    def graph_def(self) -> Any:
        """``sess.graph.as_graph_def()``."""
        return self.graph.as_graph_def()

    def list_devices(self) -> list:
        return [_Device("/job:localhost/replica:0/task:0/device:CPU:0", "CPU")]

    # --- run ----------------------------------------------------------------------------
    def run(self, fetches: Any, feed_dict: dict | None = None, options: Any = None,
            run_metadata: Any = None) -> Any:
        """Computes ``fetches`` (any nesting of tensors/ops/names) given ``feed_dict``."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        # Fast paths for the common shapes of fetches: one element or a flat list.
        if isinstance(fetches, Tensor | Operation):
            flat, rebuild = [fetches], None
        elif type(fetches) is list and all(isinstance(f, Tensor | Operation) for f in fetches):
            flat, rebuild = fetches, list
        else:
            flat = []
            rebuild = _flatten(fetches, flat)
        elems = [self._element(f) for f in flat]
        feeds = self._resolve_feeds(feed_dict) if feed_dict else {}
        key = (tuple(map(id, elems)), frozenset(feeds))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._build_plan(elems, feeds)
        values = self._execute(plan, feeds)
        if rebuild is None:
            return values[0]
        if rebuild is list:
            return values
        return rebuild(iter(values))

    def _element(self, f: Any) -> Any:
        if isinstance(f, Tensor | Operation):
            if f.graph is not self.graph:
                raise ValueError(f"Fetch argument {f!r} cannot be interpreted as a Tensor. "
                                 f"({f!r} is not an element of this graph.)")
            return f
        try:
            return self.graph.as_graph_element(f)
        except (KeyError, ValueError) as e:
            raise type(e)(f"Fetch argument {f!r} cannot be interpreted as a Tensor. ({e})") \
                from None
        except TypeError:
            raise TypeError(f"Fetch argument {f!r} has invalid type {type(f)}, must be a "
                            "string or Tensor. (Can not convert a "
                            f"{type(f).__name__} into a Tensor or Operation.)") from None

    def _resolve_feeds(self, feed_dict: dict) -> dict[int, tuple[Tensor, Any]]:
        feeds: dict[int, tuple[Tensor, Any]] = {}
        for k, v in feed_dict.items():
            if not isinstance(k, Tensor):
                try:
                    k = self.graph.as_graph_element(k, allow_operation=False)
                except (KeyError, ValueError, TypeError) as e:
                    raise TypeError(f"Cannot interpret feed_dict key as Tensor: {e}") from None
            elif k.graph is not self.graph:
                raise ValueError(f"Tensor {k!r} is not an element of this graph.")
            feeds[id(k)] = (k, v)
        return feeds

    # --- plans --------------------------------------------------------------------------
    def _build_plan(self, elems: list, feeds: dict) -> _Plan:
        fed = {tid for tid in feeds}
        needed_ops = self._prune(elems, fed)
        order = _schedule(needed_ops)
        for op in order:
            if op.type == "Placeholder":
                shape = op.attrs["shape"]
                extra = "" if shape.ndims is None else \
                    f" and shape [{','.join('?' if d is None else str(d) for d in shape)}]"
                raise errors.InvalidArgumentError(
                    None, op, "You must feed a value for placeholder tensor "
                    f"'{op.name}' with dtype {op.attrs['dtype'].name}{extra}\n"
                    f"\t [[node {op.name} (defined at {op.where()}) ]]")
        plan = _Plan()
        slot_of: dict[int, int] = {}

        def slot(t: Tensor) -> int:
            s = slot_of.get(id(t))
            if s is None:
                s = slot_of[id(t)] = plan.nslots
                plan.nslots += 1
            return s

        for tid, (t, _) in feeds.items():
            plan.feed_slots[tid] = slot(t)
            plan.feed_info[tid] = t
        ctx = self._ctx
        raw_steps = []  # stateful kernels get the per-run context in place of `first`
        null = plan.nslots  # never written: the value (None) of unneeded lazy inputs
        plan.nslots += 1
        for op in order:
            d = registry.get(op.type)
            ins = [slot(t) if id(t) in fed or t.op in needed_ops else null for t in op.inputs]
            outs = [slot(t) for t in op.outputs]
            first = ctx if d.needs_ctx else ctx.xp
            raw_steps.append([d.kernel, first, d.kernel_kwargs(op.attrs), ins, outs, op,
                              d.needs_ctx])
        fetch_slots = []
        for e in elems:
            if isinstance(e, Tensor):
                fetch_slots.append(slot(e))
                plan.fetch_copy.append(e.op.type in _ALIASING and id(e) not in fed)
            else:
                fetch_slots.append(None)
                plan.fetch_copy.append(False)
        plan.fetch_slots = fetch_slots
        # Free each slot after its last reader, unless it is fetched or fed.
        keep = {s for s in fetch_slots if s is not None}
        last: dict[int, int] = {}
        for i, st in enumerate(raw_steps):
            for s in st[3]:
                if s is not None:
                    last[s] = i
            for s in st[4]:
                last.setdefault(s, i)
        frees: list[list[int]] = [[] for _ in raw_steps]
        for s, i in last.items():
            if s not in keep:
                frees[i].append(s)
        plan.steps = [(k, first, kw, tuple(ins), tuple(outs), op, needs_ctx, tuple(frees[i]))
                      for i, (k, first, kw, ins, outs, op, needs_ctx) in enumerate(raw_steps)]
        plan.ops = order
        plan.blas = any(op.type in _parallel.BLAS_OPS for op in order)
        if self._config.log_device_placement:
            for op in order:
                dev = op.device or "/job:localhost/replica:0/task:0/device:CPU:0"
                print(f"{op.name}: ({op.type}): {dev}", file=sys.stderr)
        if _DEBUG:
            print(f"[rillet] plan built: {len(order)} ops for "
                  f"{[getattr(e, 'name', e) for e in elems]}", file=sys.stderr)
        with self._lock:
            self._plans[(tuple(map(id, elems)), frozenset(feeds))] = plan
        return plan

    def _prune(self, elems: list, fed: set) -> set:
        needed: set = set()
        stack = [e.op if isinstance(e, Tensor) else e for e in elems
                 if not (isinstance(e, Tensor) and id(e) in fed)]
        while stack:
            op = stack.pop()
            if op in needed:
                continue
            needed.add(op)
            # control flow: a cond reads a captured placeholder only in the branch taken, so
            # such inputs ("_lazy_inputs") are not needed unless fed (or needed elsewhere).
            lazy = op.attrs.get("_lazy_inputs") if op.attrs else None
            for i, t in enumerate(op.inputs):
                if id(t) not in fed and t.op not in needed and not (lazy and i in lazy):
                    stack.append(t.op)
            for c in op.control_inputs:
                if c not in needed:
                    stack.append(c)
        return needed

    # --- execution --------------------------------------------------------------------
    def _convert_feed(self, t: Tensor, v: Any) -> Any:
        dt = t.dtype
        if hasattr(v, "numpy") and not isinstance(v, np.ndarray):
            v = v.numpy()
        if dt is _dt.string:
            arr = np.asarray(v, dtype=object)
        else:
            try:
                arr = np.asarray(v, dtype=dt.np)
            except (TypeError, ValueError) as e:
                raise TypeError(f"Cannot feed value {v!r} for Tensor '{t.name}' of dtype "
                                f"{dt.name}: {e}") from None
        shape = t.shape
        if shape._dims is not None:
            ok = len(shape._dims) == arr.ndim and all(
                d is None or d == a for d, a in zip(shape._dims, arr.shape))
            if not ok:
                raise ValueError(f"Cannot feed value of shape {arr.shape} for Tensor "
                                 f"'{t.name}', which has shape '{shape}'")
        return arr

    def _execute(self, plan: _Plan, feeds: dict) -> list:
        vals: list = [None] * plan.nslots
        for tid, (t, v) in feeds.items():
            vals[plan.feed_slots[tid]] = self._convert_feed(t, v)
        ctx = self._ctx.fork()
        step = None
        # Plans with BLAS-heavy kernels run with OpenBLAS on one thread and rillet's own
        # intra-op threads (rillet/ops/_parallel.py: robust on busy machines).
        blas = plan.blas and _parallel.num_threads() > 1
        if blas:
            _parallel.blas_enter()
        try:
            for step in plan.steps:
                kernel, first, kw, ins, outs, op, needs_ctx, frees = step
                if needs_ctx:
                    ctx.op = op
                    first = ctx
                r = kernel(first, *[vals[i] for i in ins], **kw) if kw else \
                    kernel(first, *[vals[i] for i in ins])
                if len(outs) == 1:
                    vals[outs[0]] = r
                elif outs:
                    for s, v in zip(outs, r):
                        vals[s] = v
                for s in frees:
                    vals[s] = None
        except errors.OpError as e:
            raise annotate_error(e, step[5]) from None
        except (ValueError, TypeError, ArithmeticError, IndexError, KeyError,
                RuntimeError, MemoryError, AttributeError, np.linalg.LinAlgError) as e:
            op = step[5]
            cls = errors.ResourceExhaustedError if isinstance(e, MemoryError) else \
                errors.InvalidArgumentError
            raise cls(None, op, f"{type(e).__name__}: {e}\n\t [[node {op.name} (op: "
                      f"{op.type}) defined at {op.where()} ]]") from e
        finally:
            if blas:
                _parallel.blas_exit()
        out = []
        for s, copy in zip(plan.fetch_slots, plan.fetch_copy):
            if s is None:
                out.append(None)
            else:
                v = vals[s]
                # Views (reshape, slices) may alias a variable updated in place later.
                if isinstance(v, np.ndarray) and (copy or v.base is not None):
                    v = v.copy()
                out.append(v)
        return out

    # --- callables ----------------------------------------------------------------------
    def make_callable(self, fetches: Any, feed_list: list | None = None,
                      accept_options: bool = False) -> Callable:
        """A function ``f(*feed_values)`` running ``fetches`` with the plan built once."""
        feed_list = list(feed_list or [])
        feed_ts = [self.graph.as_graph_element(f, allow_operation=False) for f in feed_list]
        flat: list = []
        rebuild = _flatten(fetches, flat)
        elems = [self._element(f) for f in flat]
        dummy = {id(t): (t, None) for t in feed_ts}
        plan = self._build_plan(elems, dummy)

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._closed:
                raise RuntimeError("Attempted to use a closed Session.")
            if len(args) != len(feed_ts):
                raise TypeError(f"Expected {len(feed_ts)} feed values, got {len(args)}")
            feeds = {id(t): (t, v) for t, v in zip(feed_ts, args)}
            return rebuild(iter(self._execute(plan, feeds)))
        return call

    def partial_run_setup(self, *args: Any, **kwargs: Any) -> Any:
        raise errors.UnimplementedError(None, None, "partial_run is not supported by rillet")

    def reset_plans(self) -> None:
        self._plans.clear()


def annotate_error(e: errors.OpError, op: Operation) -> errors.OpError:
    """Attaches ``op`` (name, type, the user's line) to an OpError raised without one."""
    if e.op is None:
        e.op = op
        e.message = (f"{e.message}\n\t [[node {op.name} (op: {op.type}) defined at "
                     f"{op.where()} ]]")
        e.args = (e.message,)
    return e


def _schedule(ops: set) -> list[Operation]:
    """Topological order of ``ops`` (Kahn), creation order among ready ops, and ops that
    mutate variables as late as possible so reads on the same path see the old values."""
    indeg: dict[Operation, int] = {}
    users: dict[Operation, list[Operation]] = {op: [] for op in ops}
    for op in ops:
        deps = {t.op for t in op.inputs if t.op in ops} | {c for c in op.control_inputs
                                                           if c in ops}
        indeg[op] = len(deps)
        for d in deps:
            users[d].append(op)
    heap = [(_prio(op), op._id, op) for op in ops if indeg[op] == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        _, _, op = heapq.heappop(heap)
        order.append(op)
        for u in users[op]:
            indeg[u] -= 1
            if indeg[u] == 0:
                heapq.heappush(heap, (_prio(u), u._id, u))
    if len(order) != len(ops):
        raise errors.InvalidArgumentError(None, None, "Graph contains a cycle")
    return order


def _prio(op: Operation) -> int:
    d = registry._REGISTRY.get(op.type)
    return 1 if d is not None and d.mutates else 0


class _Device:
    def __init__(self, name: str, device_type: str):
        self.name, self.device_type = name, device_type
        self.memory_limit_bytes = 0


class InteractiveSession(Session):
    """A Session that installs itself as the default session when created."""

    def __init__(self, target: str = "", graph: Graph | None = None,
                 config: ConfigProto | None = None):
        super().__init__(target, graph, config)
        self._cm = self.as_default()
        self._cm.__enter__()

    def close(self) -> None:
        super().close()
        cm, self._cm = getattr(self, "_cm", None), None
        if cm is not None:
            with contextlib.suppress(ValueError, RuntimeError):
                cm.__exit__(None, None, None)


_sess_local = threading.local()


def _session_stack() -> list[Session]:
    s = getattr(_sess_local, "stack", None)
    if s is None:
        s = _sess_local.stack = []
    return s


def get_default_session() -> Session | None:
    s = _session_stack()
    return s[-1] if s else None


def _session_or_default(session: Session | None, element: Any) -> Session:
    if session is not None:
        return session
    s = get_default_session()
    if s is None:
        raise ValueError("Cannot evaluate tensor using `eval()`: No default session is "
                         "registered. Use `with sess.as_default()` or pass an explicit "
                         "session to `eval(session=sess)`")
    if s.graph is not element.graph:
        raise ValueError("Cannot use the default session to evaluate tensor: the tensor's "
                         "graph is different from the session's graph. Pass an explicit "
                         "session to `eval(session=sess)`.")
    return s


__all__ = ["Session", "InteractiveSession", "ConfigProto", "GPUOptions", "RunOptions",
           "RunMetadata", "get_default_session", "TensorShape"]

"""Intra-op parallelism for rillet's NumPy kernels.

NumPy's elementwise ufuncs are single-threaded, and OpenBLAS's own threads synchronise by
spinning: on a machine whose cores are busy with other processes, a 2-thread OpenBLAS GEMM
waits for a worker that is not running and can take 20-80x longer than on one thread (measured
on a shared 2-core machine at load 4-5: a 128x784x400 GEMM, 0.8 ms on one thread, took 24-68 ms;
an MLP training step, 3.2 ms on one thread, took 60 ms). rillet therefore runs its big
kernels' parallelism itself, Eigen-style:

- ``run_blocks(fn, n)`` runs ``fn(i, worker)`` for ``i in range(n)`` on the calling thread plus
  up to ``num_threads() - 1`` pool threads, which take blocks from a shared counter. A helper
  that wakes up late finds no blocks left and does nothing; the caller waits only for helpers
  still running a block, and waiting threads sleep instead of spinning. On a busy machine this
  degrades to the one-thread time instead of collapsing.
- While a Session runs a plan with BLAS-heavy kernels (``BLAS_OPS``), ``blas_enter()`` keeps
  OpenBLAS to one thread (``blas_exit()`` restores the user's setting). The kernels split
  their GEMMs into row or column blocks (``matmul``), conv kernels run their im2col blocks on
  the pool, and the fused Adam update runs its element blocks on it.

Results do not depend on the number of threads: the blocks are the same and partial sums are
added in block order.

``num_threads()``: ``RILLET_NUM_THREADS`` if set, else the usable cores (``sched_getaffinity``)
capped by ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` when set;
``set_num_threads(n)`` overrides it. With one thread everything runs inline, as before.
``RILLET_BLAS_CONTROL=0`` leaves OpenBLAS's threads alone (GEMMs are then not split).
"""

from __future__ import annotations

import ctypes
import glob
import math
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

_threads: int | None = None
_local = threading.local()          # .worker is True in pool threads
_pool_lock = threading.Lock()
_workers: list[_Worker] = []


def _default_threads() -> int:
    env = os.environ.get("RILLET_NUM_THREADS", "")
    if env.strip().isdigit() and int(env) > 0:
        return int(env)
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        v = os.environ.get(var, "").strip()
        if v.isdigit() and int(v) > 0:
            n = min(n, int(v))
    return max(1, n)


def num_threads() -> int:
    """Threads rillet's kernels use (including the calling thread)."""
    global _threads
    if _threads is None:
        _threads = _default_threads()
    return _threads


def set_num_threads(n: int | None) -> None:
    """Sets the number of threads rillet's kernels use (None: back to the default)."""
    global _threads
    _threads = None if n is None else max(1, int(n))


# Dynamic adjustment (like OpenMP's OMP_DYNAMIC, which libgomp also bases on the load
# average): on a machine whose cores are already busy with other processes, a helper thread
# that takes a block and is then preempted holds the caller up for a whole scheduler time
# slice, so rillet uses fewer threads there. Others' load = the 1-minute load average minus
# this process's own CPU use (an average over the same minute); the threads used are
# ``min(num_threads(), round(cores - others' load))``, re-evaluated every half second.
# RILLET_DYNAMIC_THREADS=0 turns it off (always ``num_threads()``).
_DYNAMIC = os.environ.get("RILLET_DYNAMIC_THREADS", "1") != "0"
_DYN_PERIOD_S = 0.5
_LOADAVG_TAU_S = 60.0
_dyn_state = {"t": None, "cpu": 0.0, "rate": 0.0, "threads": 1}


def active_threads() -> int:
    """Threads to use now: ``num_threads()``, fewer while other processes load the cores."""
    n = num_threads()
    if n <= 1 or not _DYNAMIC:
        return n
    st = _dyn_state
    now = time.monotonic()
    last = st["t"]
    if last is not None and now - last < _DYN_PERIOD_S:
        return min(n, st["threads"])
    cpu = time.process_time()
    if last is None:
        st["threads"] = n
    else:
        # This process's CPU use, averaged like the kernel's 1-minute load average.
        k = math.exp(-(now - last) / _LOADAVG_TAU_S)
        st["rate"] = st["rate"] * k + (cpu - st["cpu"]) / (now - last) * (1 - k)
        try:
            others = max(0.0, os.getloadavg()[0] - st["rate"])
        except OSError:
            others = 0.0
        st["threads"] = max(1, int((os.cpu_count() or n) - others + 0.5))
    st["t"], st["cpu"] = now, cpu
    return min(n, st["threads"])


# --- OpenBLAS thread control (NumPy's bundled OpenBLAS, through ctypes) -----------------------


def _find_openblas() -> tuple | None:
    here = os.path.dirname(np.__file__)
    pats = ("libscipy_openblas*.so*", "libopenblas*.so*", "libscipy_openblas*.dylib",
            "libopenblas*.dylib")
    libs = [p for d in (os.path.join(here, "..", "numpy.libs"), os.path.join(here, ".dylibs"))
            for pat in pats for p in glob.glob(os.path.join(d, pat))]
    names = (("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
             ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
             ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
             ("openblas_set_num_threads", "openblas_get_num_threads"))
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in names:
            if hasattr(lib, set_name) and hasattr(lib, get_name):
                set_fn, get_fn = getattr(lib, set_name), getattr(lib, get_name)
                set_fn.argtypes, set_fn.restype = [ctypes.c_int], None
                get_fn.argtypes, get_fn.restype = [], ctypes.c_int
                return set_fn, get_fn
    return None


_blas = _find_openblas() if os.environ.get("RILLET_BLAS_CONTROL", "1") != "0" else None
_blas_lock = threading.Lock()
_blas_depth = 0
_blas_saved = 0


def gemm_threads() -> int:
    """Threads rillet splits a GEMM over: ``active_threads()`` when it can keep OpenBLAS
    itself to one thread (else 1: BLAS threads on its own)."""
    return active_threads() if _blas is not None else 1


# Op types whose kernels call BLAS on big operands: plans containing one run under
# ``blas_enter`` / ``blas_exit`` (see Session._execute).
BLAS_OPS = frozenset({
    "MatMul", "BatchMatMul", "BatchMatMulV2", "Conv2D", "Conv2DBackpropInput",
    "Conv2DBackpropFilter", "DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
    "DepthwiseConv2dNativeBackpropFilter", "LSTMSequence", "LSTMSequenceGrad",
    "LSTMSequenceInputGrad"})


def blas_enter() -> None:
    """Keeps OpenBLAS to one thread until the matching ``blas_exit`` (counted: the first
    entry saves the user's setting, the last exit restores it)."""
    global _blas_depth, _blas_saved
    if _blas is None:
        return
    with _blas_lock:
        if _blas_depth == 0:
            _blas_saved = _blas[1]()
            if _blas_saved != 1:
                _blas[0](1)
        _blas_depth += 1


def blas_managed() -> bool:
    """True inside ``blas_enter`` (OpenBLAS is on one thread and rillet splits GEMMs)."""
    return _blas_depth > 0


def blas_exit() -> None:
    global _blas_depth
    if _blas is None:
        return
    with _blas_lock:
        _blas_depth -= 1
        if _blas_depth == 0 and _blas_saved != 1:
            _blas[0](_blas_saved)


# --- the pool ----------------------------------------------------------------------------------


class _Job:
    """Blocks ``0 .. n-1`` of ``fn``, taken one at a time by the caller and any helper that
    joins in time. A helper that wakes up after the blocks are gone does nothing, and the
    caller waits only for helpers still running a block: a helper thread that gets no CPU
    costs nothing (the caller does the work as on one thread), and nobody spins."""

    __slots__ = ("fn", "n", "next", "lock", "error", "active", "idle")

    def __init__(self, fn: Callable[[int, int], Any], n: int):
        self.fn, self.n, self.next = fn, n, 0
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.error: BaseException | None = None
        self.active = 0  # helpers that joined and have not finished

    def work(self, wid: int) -> None:
        fn = self.fn
        while True:
            with self.lock:
                i = self.next
                if i >= self.n:
                    return
                self.next = i + 1
            try:
                fn(i, wid)
            except BaseException as e:  # noqa: BLE001 - re-raised by the caller
                with self.lock:
                    if self.error is None:
                        self.error = e
                    self.next = self.n
                return

    def help(self, wid: int) -> None:
        with self.lock:
            if self.next >= self.n:
                return
            self.active += 1
        try:
            self.work(wid)
        finally:
            with self.lock:
                self.active -= 1
                if self.active == 0:
                    self.idle.notify_all()

    def wait_helpers(self) -> None:
        with self.lock:
            while self.active:
                self.idle.wait()


class _Worker:
    def __init__(self) -> None:
        self.q: queue.SimpleQueue = queue.SimpleQueue()
        t = threading.Thread(target=self._loop, name="rillet-intra-op", daemon=True)
        t.start()

    def _loop(self) -> None:
        _local.worker = True
        while True:
            job, wid = self.q.get()
            job.help(wid)


def _helpers(n: int) -> list[_Worker]:
    with _pool_lock:
        while len(_workers) < n:
            _workers.append(_Worker())
        return _workers[:n]


def run_blocks(fn: Callable[[int, int], Any], n: int, threads: int | None = None) -> None:
    """Runs ``fn(i, worker)`` for every block ``i < n``; ``worker`` (0 = the calling thread)
    indexes per-thread scratch. Exceptions are re-raised in the caller."""
    if getattr(_local, "worker", False):
        p = 1
    else:
        cap = active_threads()
        p = min(cap if threads is None else min(threads, cap), n)
    if p <= 1:
        for i in range(n):
            fn(i, 0)
        return
    job = _Job(fn, n)
    for k, w in enumerate(_helpers(p - 1)):
        w.q.put((job, k + 1))
    job.work(0)
    job.wait_helpers()
    if job.error is not None:
        raise job.error


# --- parallel GEMM -----------------------------------------------------------------------------

# GEMMs smaller than this (multiply-adds, ~80 us of work) run on the calling thread.
_MIN_PARALLEL_MACS = 1 << 22


def matmul(a: Any, b: Any, out: Any = None) -> Any:
    """``a @ b`` for 2-D NumPy arrays (into ``out`` if given). Inside ``blas_enter`` (a
    Session running a plan) and when large enough, split into row (or column) blocks over
    rillet's threads, each a single-threaded BLAS call writing its part of the result;
    elsewhere (eager mode, constant folding) OpenBLAS threads the GEMM itself as usual."""
    p = gemm_threads()
    m, k = a.shape
    n = b.shape[1]
    if p <= 1 or not _blas_depth or m * k * n < _MIN_PARALLEL_MACS \
            or getattr(_local, "worker", False) \
            or a.dtype != b.dtype or a.dtype.kind != "f" or a.dtype.itemsize < 4 \
            or (out is not None and out.dtype != a.dtype):
        return np.matmul(a, b, out=out)
    if out is None:
        out = np.empty((m, n), dtype=a.dtype)
    # One block per thread (a block is almost as efficient as the whole GEMM when the caller
    # ends up doing them all); two per thread for very large products, to even out the load.
    nb = 2 * p if m * k * n >= 64 * _MIN_PARALLEL_MACS else p
    if m >= n:
        edges = [m * i // nb for i in range(nb + 1)]

        def block(i: int, _: int) -> None:
            s, e = edges[i], edges[i + 1]
            np.matmul(a[s:e], b, out=out[s:e])
    else:
        edges = [n * i // nb for i in range(nb + 1)]

        def block(i: int, _: int) -> None:
            s, e = edges[i], edges[i + 1]
            np.matmul(a, b[:, s:e], out=out[:, s:e])
    run_blocks(block, nb, p)
    return out

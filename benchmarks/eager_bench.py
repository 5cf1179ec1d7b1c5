"""Eager execution, GradientTape and `rt.function` against their peers, on the CPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .bench-venv/bin/python benchmarks/eager_bench.py
    ... benchmarks/eager_bench.py --threads 1 --repeats 7 --markdown /tmp/eager.md
    ... benchmarks/eager_bench.py mlp_modes breakdown        # a subset of the groups

Groups (each runs in a fresh worker process; `harness.compare` alternates its contenders
block by block, rillet first):

- `mlp_torch`: the MLP training step (784-400-100-10 ReLU, softmax cross-entropy, Adam 1e-3,
  batch 128, same data and initial weights as the `mlp` workload) run eagerly: rillet with a
  `GradientTape` + `AdamOptimizer.apply_gradients` vs PyTorch eager (`peers_torch.mlp`).
- `mlp_tf2`: the same rillet eager step vs TF2 eager (`tf.GradientTape`,
  `tf.compat.v1.train.AdamOptimizer`, the fused `ResourceApplyAdam` like rillet's), and the
  step compiled: `rt.function` vs `tf.function`.
- `mlp_modes`: rillet only: the step compiled with `rt.function` vs graph mode
  (`Session.run([loss, train_op], feed)` of `peers_tf1.build_mlp`, the `mlp` workload's rillet
  side), with the eager step for scale.
- `ops_torch`, `ops_tf2`, `ops_numpy`: per-op eager dispatch, one call per step: `a + b`
  (10-element float32, the `eager_add` data), `matmul` of two 2x2 float32, and `x + 1.0`
  (10-element float32 plus a Python float).
- `breakdown`: where one rillet eager MLP step spends its time: every kernel timed by a thin
  wrapper (kernels vs the rest), op counts per type, and a cProfile of the step grouped by
  rillet module. Also the kernel time of the `rt.function` and graph steps.

Results go to benchmarks/results/eager-<timestamp>.json; the markdown report is printed.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import harness  # noqa: E402
import run as _run  # noqa: E402  (worker_env, pin_threads, machine_payload, default_python)
from workloads import SEED, eager_add_data, mlp_data  # noqa: E402

BATCH = 128
WORKER_TIMEOUT_S = 1200

GROUPS = {
    "mlp_torch": ("MLP training step, eager: rillet vs PyTorch", "torch"),
    "mlp_tf2": ("MLP training step: rillet vs TF2, eager and compiled", "tf2"),
    "mlp_modes": ("MLP training step in rillet: rt.function vs graph mode (vs eager)", None),
    "ops_torch": ("Per-op eager dispatch: rillet vs PyTorch", "torch"),
    "ops_tf2": ("Per-op eager dispatch: rillet vs TF2 eager", "tf2"),
    "ops_numpy": ("Per-op eager dispatch: rillet vs bare NumPy (the floor)", "numpy"),
    "breakdown": ("Where a rillet eager MLP step spends its time", None),
}
OPS = {
    "add": "a + b, two 10-element float32",
    "matmul": "matmul of two 2x2 float32",
    "add_scalar": "x + 1.0, 10-element float32 and a Python float",
}


def op_data() -> dict:
    """Inputs of the per-op benchmarks (the add inputs are the eager_add workload's)."""
    rng = np.random.default_rng(SEED)
    data = eager_add_data()
    data["m"] = rng.random((2, 2), dtype=np.float32)
    data["n"] = rng.random((2, 2), dtype=np.float32)
    return data


# ------------------------------------------------------------------------------ rillet


def _rt():
    import rillet as rt

    return rt


def rillet_train_fn(rt, data):
    """A Python `step(x, y)`: tape, loss, gradients, Adam. Its own variables and optimizer."""
    params = []
    for w, b in zip(data["weights"], data["biases"]):
        params += [rt.Variable(w), rt.Variable(b)]
    opt = rt.train.AdamOptimizer(data["lr"])
    last = len(params) - 2

    def step(x, y):
        with rt.GradientTape() as tape:
            h = x
            for i in range(0, len(params), 2):
                h = rt.matmul(h, params[i]) + params[i + 1]
                if i < last:
                    h = rt.nn.relu(h)
            loss = rt.reduce_mean(rt.nn.softmax_cross_entropy_with_logits(labels=y, logits=h))
        grads = tape.gradient(loss, params)
        opt.apply_gradients(zip(grads, params))
        return loss

    return step


def rillet_eager_mlp(data):
    rt = _rt()
    rt.enable_eager_execution()
    step, x, y = rillet_train_fn(rt, data), data["x"], data["y"]
    return lambda: float(step(x, y))


def rillet_function_mlp(data):
    rt = _rt()
    rt.enable_eager_execution()
    fn, x, y = rt.function(rillet_train_fn(rt, data)), data["x"], data["y"]

    def step():
        return float(fn(x, y))

    step.traces = fn.experimental_get_tracing_count
    return step


def rillet_graph_mlp(data):
    """The `mlp` workload's rillet side: Session.run([loss, train_op], feed_dict)."""
    import peers_tf1

    rt = _rt()
    with rt.graph_mode():
        return peers_tf1.build_mlp(rt, data)


def rillet_op(name: str, data):
    rt = _rt()
    rt.enable_eager_execution()
    a, b = rt.constant(data["a"]), rt.constant(data["b"])
    m, n = rt.constant(data["m"]), rt.constant(data["n"])
    return {"add": lambda: a + b, "matmul": lambda: rt.matmul(m, n),
            "add_scalar": lambda: a + 1.0}[name]


# ------------------------------------------------------------------------------- peers


def setup_family(family: str):
    import peers_numpy
    import peers_tf2
    import peers_torch

    mod = {"torch": peers_torch, "tf2": peers_tf2, "numpy": peers_numpy}[family]
    fw = mod.setup()
    return fw, mod.info(fw)


def torch_eager_mlp(torch, data):
    import peers_torch

    return peers_torch.mlp(torch, data)


def tf2_train_fn(tf, data):
    params = []
    for w, b in zip(data["weights"], data["biases"]):
        params += [tf.Variable(w), tf.Variable(b)]
    opt = tf.compat.v1.train.AdamOptimizer(data["lr"])
    last = len(params) - 2

    def step(x, y):
        with tf.GradientTape() as tape:
            h = x
            for i in range(0, len(params), 2):
                h = tf.matmul(h, params[i]) + params[i + 1]
                if i < last:
                    h = tf.nn.relu(h)
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=h))
        grads = tape.gradient(loss, params)
        opt.apply_gradients(zip(grads, params))
        return loss

    return step


def tf2_eager_mlp(tf, data):
    step, x, y = tf2_train_fn(tf, data), data["x"], data["y"]
    return lambda: float(step(x, y))


def tf2_function_mlp(tf, data):
    fn, x, y = tf.function(tf2_train_fn(tf, data)), data["x"], data["y"]

    def step():
        return float(fn(x, y))

    step.traces = fn.experimental_get_tracing_count
    return step


def peer_op(family: str, fw, name: str, data):
    if family == "numpy":
        a, b, m, n = data["a"], data["b"], data["m"], data["n"]
        return {"add": lambda: a + b, "matmul": lambda: np.matmul(m, n),
                "add_scalar": lambda: a + 1.0}[name]
    if family == "torch":
        a, b = fw.from_numpy(data["a"]), fw.from_numpy(data["b"])
        m, n = fw.from_numpy(data["m"]), fw.from_numpy(data["n"])
    else:
        a, b = fw.constant(data["a"]), fw.constant(data["b"])
        m, n = fw.constant(data["m"]), fw.constant(data["n"])
    return {"add": lambda: a + b, "matmul": lambda: fw.matmul(m, n),
            "add_scalar": lambda: a + 1.0}[name]


# ------------------------------------------------------------------------------ worker


def _probe(name, build, notes, steps, firsts):
    try:
        step = build()
        firsts[name] = harness._as_float(step())
        steps[name] = step
    except Exception as exc:  # noqa: BLE001 - reported; the others still run
        notes[name] = f"{name} failed: {type(exc).__name__}: {str(exc)[:200]}"


def _compare(label, builders, repeats, target_s, reference) -> dict:
    notes, steps, firsts = {}, {}, {}
    for name, build in builders.items():
        _probe(name, build, notes, steps, firsts)
    out = {"label": label, "notes": notes, "contenders": {}}
    if steps:
        ref = reference if reference in steps else next(iter(steps))
        out.update(harness.compare(steps, repeats=repeats, target_s=target_s, reference=ref))
    for name, stats in out["contenders"].items():
        stats["first_value"] = firsts.get(name)
        traces = getattr(steps[name], "traces", None)
        if traces is not None:
            stats["traces"] = traces()
    return out


def run_group(group: str, repeats: int, target_s: float | None) -> dict:
    family = GROUPS[group][1]
    info = {"threads": harness.bench_threads(), "rillet_file": _rt().__file__}
    comparisons = []
    if group == "breakdown":
        return {"group": group, "info": info, "breakdown": breakdown()}
    fw = None
    if family:
        fw, info[family] = setup_family(family)
    if group.startswith("mlp"):
        target = target_s or 1.0
        if group == "mlp_torch":
            builders = {"rillet_eager": lambda: rillet_eager_mlp(mlp_data()),
                        "torch_eager": lambda: torch_eager_mlp(fw, mlp_data())}
        elif group == "mlp_tf2":
            builders = {"rillet_eager": lambda: rillet_eager_mlp(mlp_data()),
                        "tf2_eager": lambda: tf2_eager_mlp(fw, mlp_data()),
                        "rillet_function": lambda: rillet_function_mlp(mlp_data()),
                        "tf2_function": lambda: tf2_function_mlp(fw, mlp_data())}
        else:
            builders = {"rillet_function": lambda: rillet_function_mlp(mlp_data()),
                        "rillet_graph": lambda: rillet_graph_mlp(mlp_data()),
                        "rillet_eager": lambda: rillet_eager_mlp(mlp_data())}
        ref = "rillet_eager" if group != "mlp_modes" else "rillet_graph"
        comparisons.append(_compare("mlp", builders, repeats, target, ref))
    else:
        target = target_s or 0.5
        for op in OPS:
            builders = {"rillet": lambda op=op: rillet_op(op, op_data()),
                        family: lambda op=op: peer_op(family, fw, op, op_data())}
            comparisons.append(_compare(op, builders, repeats, target, "rillet"))
    return {"group": group, "info": info, "comparisons": comparisons}


# --------------------------------------------------------------------------- breakdown


class KernelTimer:
    """Wraps every registered kernel with a perf_counter pair; totals per op type."""

    def __init__(self):
        from rillet import registry
        from rillet.eager import execute

        self.registry, self.execute = registry, execute
        self.time = defaultdict(float)
        self.calls = defaultdict(int)
        self.saved = {}

    def install(self):
        for opdef in self.registry._REGISTRY.values():
            self.saved[opdef] = opdef.kernel
            opdef.kernel = self._wrap(opdef.type, opdef.kernel)
        self.execute._cache.clear()

    def uninstall(self):
        for opdef, kernel in self.saved.items():
            opdef.kernel = kernel
        self.execute._cache.clear()

    def reset(self):
        self.time.clear()
        self.calls.clear()

    def _wrap(self, op_type, kernel):
        clock, times, calls = time.perf_counter, self.time, self.calls
        if op_type == "MatMul":  # also per operand shapes: which GEMMs a step runs
            def timed(*args, **kw):
                t0 = clock()
                try:
                    return kernel(*args, **kw)
                finally:
                    dt = clock() - t0
                    times[op_type] += dt
                    calls[op_type] += 1
                    key = "MatMul " + " x ".join(
                        "x".join(map(str, getattr(a, "shape", ()))) + ("ᵀ" if kw.get(t) else "")
                        for a, t in zip(args[-2:], ("transpose_a", "transpose_b")))
                    times[key] += dt
                    calls[key] += 1
            return timed

        def timed(*args, **kw):
            t0 = clock()
            try:
                return kernel(*args, **kw)
            finally:
                times[op_type] += clock() - t0
                calls[op_type] += 1

        return timed


def _median_step(step, n: int, rounds: int = 5) -> float:
    samples = []
    for _ in range(rounds):
        samples.append(harness.time_block(step, n)[0])
    return statistics.median(samples)


def _wrapper_cost() -> float:
    """Seconds a KernelTimer wrapper adds to one call (measured on a no-op kernel)."""
    import timeit

    t = KernelTimer.__new__(KernelTimer)
    t.time, t.calls = defaultdict(float), defaultdict(int)
    bare = lambda: None  # noqa: E731
    wrapped = t._wrap("noop", bare)
    n = 200000
    return (min(timeit.repeat(wrapped, number=n, repeat=5))
            - min(timeit.repeat(bare, number=n, repeat=5))) / n


def _module_of(filename: str) -> str:
    norm = filename.replace(os.sep, "/")
    if "/rillet/" in norm:
        return "rillet/" + norm.split("/rillet/", 1)[1]
    if "/numpy/" in norm:
        return "numpy (Python)"
    if filename.startswith("~") or filename == "":
        return "builtins / C (NumPy ufuncs, BLAS, dict, ...)"
    return "other Python"


def _profile(step, n: int) -> dict:
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        step()
    prof.disable()
    st = pstats.Stats(prof)
    total = sum(v[2] for v in st.stats.values())
    by_module = defaultdict(float)
    funcs = []
    for (filename, line, fn), (_cc, nc, tt, ct, _callers) in st.stats.items():
        by_module[_module_of(filename)] += tt
        funcs.append({"func": f"{_module_of(filename)}:{line}({fn})", "calls": nc / n,
                      "tottime_us": tt / n * 1e6, "cumtime_us": ct / n * 1e6})
    funcs.sort(key=lambda f: -f["tottime_us"])
    return {"steps": n, "total_us": total / n * 1e6,
            "by_module_us": {k: v / n * 1e6 for k, v in
                             sorted(by_module.items(), key=lambda kv: -kv[1])},
            "top": funcs[:25]}


def _kernel_split(timer, step, n: int) -> dict:
    timer.reset()
    t_total = _median_step(step, n, rounds=1) * n  # one block, kernels timed inside
    calls = sum(c for op, c in timer.calls.items() if not op.startswith("MatMul "))
    k_time = sum(t for op, t in timer.time.items() if not op.startswith("MatMul "))
    per_op = {op: {"calls": timer.calls[op] / n, "us": timer.time[op] / n * 1e6}
              for op in sorted(timer.time, key=lambda o: -timer.time[o])}
    return {"step_us": t_total / n * 1e6, "kernel_us": k_time / n * 1e6,
            "ops_per_step": calls / n, "per_op": per_op}


def _phased_eager_mlp(rt, data, timer, phases: dict):
    """The eager step of rillet_train_fn with the wall and kernel time of each phase added
    to `phases` (forward under the tape, tape.gradient, apply_gradients)."""
    params = []
    for w, b in zip(data["weights"], data["biases"]):
        params += [rt.Variable(w), rt.Variable(b)]
    opt = rt.train.AdamOptimizer(data["lr"])
    last = len(params) - 2
    x, y = data["x"], data["y"]
    clock = time.perf_counter

    def mark(name, t0, k0, c0):
        t1, k1, c1 = clock(), _kernel_total(timer), _kernel_calls(timer)
        p = phases.setdefault(name, [0.0, 0.0, 0])
        p[0] += t1 - t0
        p[1] += k1 - k0
        p[2] += c1 - c0
        return t1, k1, c1

    def step():
        t, k, c = clock(), _kernel_total(timer), _kernel_calls(timer)
        with rt.GradientTape() as tape:
            h = x
            for i in range(0, len(params), 2):
                h = rt.matmul(h, params[i]) + params[i + 1]
                if i < last:
                    h = rt.nn.relu(h)
            loss = rt.reduce_mean(rt.nn.softmax_cross_entropy_with_logits(labels=y, logits=h))
        t, k, c = mark("forward (recorded on the tape)", t, k, c)
        grads = tape.gradient(loss, params)
        t, k, c = mark("tape.gradient", t, k, c)
        opt.apply_gradients(zip(grads, params))
        t, k, c = mark("apply_gradients (Adam)", t, k, c)
        float(loss)
        mark("float(loss)", t, k, c)

    return step


def _kernel_total(timer) -> float:
    return sum(t for op, t in timer.time.items() if not op.startswith("MatMul "))


def _kernel_calls(timer) -> int:
    return sum(c for op, c in timer.calls.items() if not op.startswith("MatMul "))


def _op_profiles(calls: int = 20000) -> dict:
    """cProfile of each per-op benchmark: own time per call of the top functions."""
    out = {}
    data = op_data()
    for name in OPS:
        step = rillet_op(name, data)
        for _ in range(1000):
            step()
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(calls):
            step()
        prof.disable()
        st = pstats.Stats(prof)
        rows = sorted(((tt / calls * 1e6, nc / calls, f"{_module_of(fn)}:{line}({func})")
                       for (fn, line, func), (_cc, nc, tt, _ct, _c) in st.stats.items()),
                      reverse=True)
        total = sum(r[0] for r in rows)
        out[name] = {"profiled_us": total,
                     "top": [{"func": f, "calls": n, "own_us": us} for us, n, f in rows[:8]]}
    return out


def breakdown() -> dict:
    """Kernel vs the rest for the eager, rt.function and graph MLP steps; cProfile of eager."""
    out: dict = {}
    cost = _wrapper_cost()
    out["wrapper_cost_us"] = cost * 1e6
    eager = rillet_eager_mlp(mlp_data())
    per_call, _ = harness.warm_up(eager)
    n = max(5, round(1.0 / per_call))
    out["eager_unwrapped_us"] = _median_step(eager, n) * 1e6
    timer = KernelTimer()
    timer.install()
    try:
        steps = {"eager": rillet_eager_mlp(mlp_data()),
                 "function": rillet_function_mlp(mlp_data()),
                 "graph": rillet_graph_mlp(mlp_data())}
        for name, step in steps.items():
            harness.warm_up(step)
            splits = [_kernel_split(timer, step, n) for _ in range(5)]
            best = sorted(splits, key=lambda s: s["step_us"])[len(splits) // 2]  # median
            best["wrapper_us"] = best["ops_per_step"] * cost * 1e6
            best["overhead_us"] = best["step_us"] - best["kernel_us"] - best["wrapper_us"]
            out[name] = best
        phases: dict = {}
        phased = _phased_eager_mlp(_rt(), mlp_data(), timer, phases)
        harness.warm_up(phased)
        phases.clear()
        timer.reset()
        for _ in range(5):
            harness.time_block(phased, n)
        steps_run = 5 * n
        out["eager_phases"] = {
            name: {"wall_us": w / steps_run * 1e6, "kernel_us": k / steps_run * 1e6,
                   "kernel_calls": c / steps_run}
            for name, (w, k, c) in phases.items()}
    finally:
        timer.uninstall()
    out["op_profiles"] = _op_profiles()
    eager = rillet_eager_mlp(mlp_data())
    harness.warm_up(eager)
    out["cprofile_eager"] = _profile(eager, max(5, n // 2))
    return out


# ----------------------------------------------------------------------------- parent


def _spawn(python: str, args: list[str], threads: int | None) -> dict:
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [python, os.path.abspath(__file__), "--out", out, *args]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S,
                                  env=_run.worker_env(threads))
        except subprocess.TimeoutExpired:
            return {"error": f"worker timed out after {WORKER_TIMEOUT_S} s"}
        if proc.returncode != 0 or not os.path.exists(out):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            return {"error": f"worker exited {proc.returncode}: " + " | ".join(tail)}
        with open(out) as fh:
            return json.load(fh)


def rillet_source(results: list[dict]) -> str:
    """Which rillet the workers imported: the checkout (HEAD + local changes) or elsewhere."""
    import subprocess

    files = {r.get("info", {}).get("rillet_file") for r in results} - {None}
    root = os.path.dirname(HERE)
    where = ", ".join(sorted(os.path.dirname(os.path.dirname(f)) for f in files)) or "?"
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "rillet"],
                               capture_output=True, text=True).stdout.splitlines()
    except OSError:
        return where
    if where == root:
        return f"{where} (HEAD {head}" + (f", {len(dirty)} changed files in rillet/)"
                                          if dirty else ")")
    return f"{where} (not the checkout; checkout HEAD {head})"


def _us(seconds):
    return "-" if seconds is None else f"{seconds * 1e6:.2f}"


def _load_line(results: list[dict]) -> str:
    loads = [x for r in results for c in r.get("comparisons", [])
             for x in c.get("loadavg_1min", [])]
    return (f"Load average (1 min) during these runs: {min(loads):.2f} - {max(loads):.2f}."
            if loads else "")


def render_mlp(result: dict) -> list[str]:
    lines = [f"### {result['group']}: {GROUPS[result['group']][0]}", ""]
    if result.get("error"):
        return lines + [f"- {result['error']}", ""]
    for comp in result["comparisons"]:
        ref = comp.get("reference")
        lines += ["| contender | median / step | min - max | samples/s | "
                  f"÷ {ref} (time) | CPU/wall | first-step loss |", "|---|---|---|---|---|---|---|"]
        for name, s in comp["contenders"].items():
            traces = f" ({s['traces']} trace{'s' * (s['traces'] != 1)})" if "traces" in s else ""
            lines.append(f"| {name}{traces} | {harness.fmt_time(s['median_s'])} | "
                         f"{harness.fmt_spread(s)} | {harness.fmt_rate(BATCH, s)} | "
                         f"{s['ratio_to_' + ref]:.2f}x | {harness.fmt_cpu(s)} | "
                         f"{harness.fmt_loss(s['first_value'])} |")
        lines += [f"- {note}" for note in comp["notes"].values()]
        lines.append("")
    return lines


def render_ops(results: list[dict]) -> list[str]:
    lines = ["### Per-op eager dispatch (µs per op)", "",
             "| op | peer | peer median | peer min - max | rillet median | rillet min - max | "
             "rillet − peer | rillet ÷ peer |", "|---|---|---|---|---|---|---|---|"]
    notes = []
    for op in OPS:
        for r in results:
            if r.get("error"):
                notes.append(f"{r['group']}: {r['error']}")
                continue
            fam = GROUPS[r["group"]][1]
            comp = next(c for c in r["comparisons"] if c["label"] == op)
            peer, ril = comp["contenders"].get(fam), comp["contenders"].get("rillet")
            notes += comp["notes"].values()
            diff = ratio = "-"
            if peer and ril:
                diff = f"{(ril['median_s'] - peer['median_s']) * 1e6:+.2f}"
                ratio = f"{ril['median_s'] / peer['median_s']:.2f}x"
            lines.append(
                f"| `{OPS[op]}` | {fam} | {_us(peer and peer['median_s'])} | "
                f"{_us(peer and peer['min_s'])} - {_us(peer and peer['max_s'])} | "
                f"{_us(ril and ril['median_s'])} | {_us(ril and ril['min_s'])} - "
                f"{_us(ril and ril['max_s'])} | {diff} | {ratio} |")
    return lines + [""] + [f"- {n}" for n in sorted(set(notes))] + [""]


def render_breakdown(result: dict) -> list[str]:
    lines = [f"### breakdown: {GROUPS['breakdown'][0]}", ""]
    if result.get("error"):
        return lines + [f"- {result['error']}", ""]
    b = result["breakdown"]
    lines += [f"Kernel timer: every registered kernel wrapped (wrapper cost "
              f"{b['wrapper_cost_us']:.2f} µs per call, subtracted). Eager step without "
              f"wrappers: {b['eager_unwrapped_us'] / 1e3:.2f} ms.", "",
              "| mode | step | kernels | wrapper | rest (dispatch, tape, Python) | "
              "kernel calls / step | rest per kernel call |", "|---|---|---|---|---|---|---|"]
    for mode in ("eager", "function", "graph"):
        s = b[mode]
        lines.append(f"| {mode} | {s['step_us'] / 1e3:.2f} ms | {s['kernel_us'] / 1e3:.2f} ms | "
                     f"{s['wrapper_us'] / 1e3:.2f} ms | {s['overhead_us'] / 1e3:.2f} ms | "
                     f"{s['ops_per_step']:.0f} | {s['overhead_us'] / s['ops_per_step']:.1f} µs |")
    lines += ["", "Kernel time per op type (µs per step; calls per step):", "",
              "| op | eager | function | graph |", "|---|---|---|---|"]
    ops = sorted(set().union(*(b[m]["per_op"] for m in ("eager", "function", "graph"))),
                 key=lambda o: -b["eager"]["per_op"].get(o, {"us": 0})["us"])
    for op in ops:
        cells = []
        for m in ("eager", "function", "graph"):
            s = b[m]["per_op"].get(op)
            cells.append("-" if s is None else f"{s['us']:.0f} ({s['calls']:.0f})")
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    if "eager_phases" in b:
        lines += ["", "Eager step by phase (µs per step, kernels wrapped as above):", "",
                  "| phase | wall | kernels | rest | kernel calls |", "|---|---|---|---|---|"]
        for name, ph in b["eager_phases"].items():
            lines.append(f"| {name} | {ph['wall_us']:.0f} | {ph['kernel_us']:.0f} | "
                         f"{ph['wall_us'] - ph['kernel_us']:.0f} | {ph['kernel_calls']:.0f} |")
    p = b["cprofile_eager"]
    lines += ["", f"cProfile of the eager step ({p['steps']} steps; profiled step "
              f"{p['total_us'] / 1e3:.2f} ms, inflated by the profiler), own time by module:", "",
              "| module | µs / step | share |", "|---|---|---|"]
    for mod, us in p["by_module_us"].items():
        if us / p["total_us"] >= 0.005:
            lines.append(f"| {mod} | {us:.0f} | {100 * us / p['total_us']:.1f}% |")
    lines += ["", "Top functions by own time:", "",
              "| function | calls / step | own µs / step | cumulative µs / step |",
              "|---|---|---|---|"]
    for f in p["top"][:15]:
        lines.append(f"| `{f['func']}` | {f['calls']:.0f} | {f['tottime_us']:.0f} | "
                     f"{f['cumtime_us']:.0f} |")
    for name, prof in b.get("op_profiles", {}).items():
        lines += ["", f"cProfile of `{OPS[name]}` (profiled {prof['profiled_us']:.2f} µs per "
                  "call, inflated by the profiler): own µs per call", "",
                  "| function | calls | own µs |", "|---|---|---|"]
        lines += [f"| `{f['func']}` | {f['calls']:.0f} | {f['own_us']:.2f} |"
                  for f in prof["top"]]
    return lines + [""]


def render_report(payload: dict) -> str:
    results = payload["results"]
    threads = payload.get("threads") or "all cores"
    parts = [f"## Eager benchmarks (threads: {threads})", "",
             f"rillet imported from: {payload.get('rillet_source', '?')}", "", "### Machine", "",
             harness.render_machine(payload["machine"]), ""]
    for r in results:
        if r["group"].startswith("mlp"):
            parts += render_mlp(r)
    ops = [r for r in results if r["group"].startswith("ops")]
    if ops:
        parts += render_ops(ops)
    for r in results:
        if r["group"] == "breakdown":
            parts += render_breakdown(r)
    load = _load_line(results)
    return "\n".join(parts + ([load, ""] if load else []))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("groups", nargs="*", help=f"subset of: {', '.join(GROUPS)}")
    p.add_argument("--repeats", type=int, default=7, help="alternation rounds")
    p.add_argument("--target-s", type=float, default=None,
                   help="seconds per contender per round (default 1.0 MLP, 0.5 ops)")
    p.add_argument("--threads", type=int, default=None, help="cap every framework's threads")
    p.add_argument("--python", default=None, help="worker interpreter")
    p.add_argument("--results-dir", default=os.path.join(HERE, "results"))
    p.add_argument("--markdown", default=None, help="also write the report here")
    p.add_argument("--render", metavar="JSON", help="print the report of a results file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--info", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker or args.info:
        _run.pin_threads()
        result = (_run.machine_payload() if args.info
                  else run_group(args.worker, args.repeats, args.target_s))
        with open(args.out, "w") as fh:
            json.dump(result, fh, default=str)
        return 0
    if args.render:
        with open(args.render) as fh:
            print(render_report(json.load(fh)))
        return 0
    warning = harness.openblas_env_warning()
    if warning:
        print(warning, file=sys.stderr)
    unknown = [g for g in args.groups if g not in GROUPS]
    if unknown:
        print(f"unknown group(s): {unknown}; choose from {list(GROUPS)}", file=sys.stderr)
        return 2
    python = args.python or _run.default_python()
    machine = _spawn(python, ["--info"], args.threads)
    results = []
    for group in args.groups or list(GROUPS):
        wargs = ["--worker", group, "--repeats", str(args.repeats)]
        if args.target_s is not None:
            wargs += ["--target-s", str(args.target_s)]
        result = _spawn(python, wargs, args.threads)
        result.setdefault("group", group)
        results.append(result)
        print(f"{group}: {'error: ' + result['error'] if 'error' in result else 'done'}",
              file=sys.stderr, flush=True)
    payload = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "python": python,
               "argv": sys.argv[1:], "threads": args.threads, "machine": machine,
               "rillet_source": rillet_source(results), "results": results}
    os.makedirs(args.results_dir, exist_ok=True)
    path = os.path.join(args.results_dir, "eager-" + time.strftime("%Y%m%d-%H%M%S") + ".json")
    with open(path, "w") as fh:
        json.dump(payload, fh, indent=2, default=str)
        fh.write("\n")
    markdown = render_report(payload)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(markdown + "\n")
    print(markdown)
    print(f"results: {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

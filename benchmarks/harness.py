"""Shared benchmark helpers: machine description, GEMM peak, alternating timer, tables.

Nothing here asserts on timings; it only measures and reports.
"""

from __future__ import annotations

import gc
import importlib.metadata
import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

PACKAGES = ("numpy", "threadpoolctl", "torch", "tensorflow-cpu", "tf-keras", "jax", "jaxlib",
            "optax", "rillet")
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (or platform.processor() as a fallback)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> list[str]:
    """The SIMD-relevant CPU flags (avx*, fma, amx*) from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
                    return sorted(f for f in flags if f.startswith(("avx", "fma", "amx")))
    except OSError:
        pass
    return []


def usable_cores() -> int:
    """Cores this process may run on (affinity-aware)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def bench_threads() -> int:
    """Threads each framework may use: $BENCH_THREADS (run.py --threads) or all cores."""
    return int(os.environ.get("BENCH_THREADS") or usable_cores())


def package_versions() -> dict[str, str | None]:
    """Installed versions of the benchmarked packages (None when missing)."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def blas_info() -> list[dict]:
    """NumPy's BLAS/OpenMP thread pools as threadpoolctl sees them."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl not installed"}]
    keys = ("user_api", "internal_api", "version", "num_threads", "threading_layer",
            "architecture", "filepath")
    return [{k: pool.get(k) for k in keys if k in pool} for pool in threadpool_info()]


def machine_info() -> dict:
    """Everything needed to interpret the numbers: CPU, cores, BLAS, versions, env."""
    return {
        "cpu_model": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cores": usable_cores(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": package_versions(),
        "numpy_blas": blas_info(),
        "openblas_env": {k: os.environ.get(k) for k in OPENBLAS_VARS},
    }


def openblas_env_warning() -> str | None:
    """A warning line when OpenBLAS tuning variables are set (they skew the numbers)."""
    bad = [f"{k}={os.environ[k]}" for k in OPENBLAS_VARS if k in os.environ]
    if not bad:
        return None
    return ("WARNING: " + ", ".join(bad) + " set; run benchmarks as "
            "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ...` for comparable numbers")


def gemm_peak_gflops(sizes=(1024, 2048), repeats: int = 5) -> dict:
    """Measured float32 GEMM rate of numpy (best of `repeats`) for each square size."""
    rng = np.random.default_rng(0)
    per_size = {}
    for n in sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        out = np.empty((n, n), dtype=np.float32)
        np.matmul(a, b, out=out)  # warm up threads and caches
        best = min(_timed(lambda a=a, b=b, out=out: np.matmul(a, b, out=out))
                   for _ in range(repeats))
        per_size[n] = 2.0 * n**3 / best / 1e9
    return {"per_size": per_size, "peak": max(per_size.values())}


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _as_float(value) -> float | None:
    """Best-effort conversion of a step's return value (loss) to a Python float."""
    if value is None:
        return None
    try:
        if isinstance(value, (list, tuple)):
            value = value[0]
        return float(np.asarray(value).reshape(-1)[0])
    except Exception:  # noqa: BLE001 - purely informational
        return None


def warm_up(step: Callable[[], object], min_calls: int = 3, min_s: float = 0.3):
    """Run `step` until it has been called `min_calls` times and `min_s` has elapsed.

    Returns (seconds per call over the calls after the first, first return value).
    """
    first = step()
    calls, start = 0, time.perf_counter()
    while calls < min_calls or time.perf_counter() - start < min_s:
        step()
        calls += 1
    return (time.perf_counter() - start) / calls, first


def time_block(step: Callable[[], object], steps: int) -> tuple[float, float]:
    """(wall, process CPU) seconds per call of `step`, over `steps` back-to-back calls."""
    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    for _ in range(steps):
        step()
    wall = time.perf_counter() - start
    return wall / steps, (time.process_time() - cpu) / steps


def compare(workloads: dict[str, Callable[[], object]], steps: int | None = None,
            repeats: int = 5, target_s: float = 1.0, reference: str | None = None) -> dict:
    """Time contenders alternately in this process: A, B, A, B, ... `repeats` rounds.

    workloads maps a contender name to a zero-arg callable doing one step. Each is warmed
    up first. With steps=None each contender gets its own step count, sized so that one
    block lasts about `target_s`. Returns per-contender seconds/step (median, min, max, all
    samples), the first step's return value (a loss, for sanity checks) and ratios of each
    median to the reference's (default: "rillet" if present, else the first contender).
    """
    names = list(workloads)
    counts, first_values = {}, {}
    for name in names:
        per_call, first = warm_up(workloads[name])
        counts[name] = steps or max(1, round(target_s / max(per_call, 1e-9)))
        first_values[name] = _as_float(first)
    load_before = os.getloadavg()[0]
    walls: dict[str, list[float]] = {name: [] for name in names}
    cpus: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(repeats):
        for name in names:
            wall, cpu = time_block(workloads[name], counts[name])
            walls[name].append(wall)
            cpus[name].append(cpu)
    stats = {name: _summary(walls[name], cpus[name], counts[name], first_values[name])
             for name in names}
    ref = reference or ("rillet" if "rillet" in stats else names[0])
    for name in names:
        stats[name]["ratio_to_" + ref] = stats[name]["median_s"] / stats[ref]["median_s"]
    return {"reference": ref, "repeats": repeats, "contenders": stats,
            "loadavg_1min": [load_before, os.getloadavg()[0]]}


def _summary(walls: list[float], cpus: list[float], steps: int, first_value) -> dict:
    """Median/min/max wall time per step; CPU/wall shows threads used (or CPU stolen)."""
    median = statistics.median(walls)
    return {
        "median_s": median,
        "min_s": min(walls),
        "max_s": max(walls),
        "samples_s": walls,
        "cpu_per_wall": statistics.median(cpus) / median if median > 0 else None,
        "steps_per_repeat": steps,
        "first_value": first_value,
    }


# ---------------------------------------------------------------------------- rendering


def fmt_time(seconds: float | None) -> str:
    """A per-step time in human units ("pending" for None)."""
    if seconds is None:
        return "pending"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.3f} s"


def fmt_spread(stats: dict | None) -> str:
    if stats is None:
        return "pending"
    return f"{fmt_time(stats['min_s'])} - {fmt_time(stats['max_s'])}"


def fmt_rate(batch: int, stats: dict | None) -> str:
    """Samples per second at the median step time."""
    return "pending" if stats is None else f"{batch / stats['median_s']:,.0f}"


def fmt_cpu(stats: dict | None) -> str:
    """Process CPU time over wall time: ~threads busy (lower: CPU lost to others)."""
    return "-" if not stats or stats.get("cpu_per_wall") is None else f"{stats['cpu_per_wall']:.2f}"


def fmt_loss(value: float | None) -> str:
    return "-" if value is None else f"{value:.5g}"


def result_row(result: dict) -> dict:
    """Flatten one worker result (one peer family + rillet, same process) into a row."""
    stats = result.get("contenders", {})
    peer, rillet = stats.get(result["family"]), stats.get("rillet")
    ratio = rillet["median_s"] / peer["median_s"] if peer and rillet else None
    return {"family": result["family"], "peer": peer, "rillet": rillet, "ratio": ratio,
            "note": result.get("error") or result.get("notes", {}).get(result["family"])}


def fmt_peak(gflop: float | None, peak: float | None, stats: dict | None) -> str:
    """GEMM GFLOP/s at the median step time and its fraction of the measured GEMM peak."""
    if not gflop or not peak or not stats:
        return "-"
    rate = gflop / stats["median_s"]
    return f"{rate:.1f} ({100 * rate / peak:.0f}%)"


def render_table(rows: list[dict], batch: int | None, gflop: float | None = None,
                 peak: float | None = None) -> str:
    """Markdown table: one line per peer, with rillet's numbers from the same process.
    With ``gflop`` (GEMM GFLOP per step) and ``peak`` (measured GEMM GFLOP/s), also each
    contender's GEMM rate and its fraction of the peak."""
    head = ["peer", "peer median / step", "peer min - max"]
    head += ["peer samples/s"] if batch else []
    head += ["rillet median / step", "rillet min - max"]
    head += ["rillet samples/s"] if batch else []
    head += ["GFLOP/s (% of GEMM peak) peer / rillet"] if gflop and peak else []
    head += ["rillet ÷ peer (time)", "CPU/wall peer / rillet", "first-step value peer / rillet"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        peer, ril = row["peer"], row["rillet"]
        cells = [row["family"], fmt_time(peer and peer["median_s"]), fmt_spread(peer)]
        cells += [fmt_rate(batch, peer)] if batch else []
        cells += [fmt_time(ril and ril["median_s"]), fmt_spread(ril)]
        cells += [fmt_rate(batch, ril)] if batch else []
        if gflop and peak:
            cells += [f"{fmt_peak(gflop, peak, peer)} / {fmt_peak(gflop, peak, ril)}"]
        ratio = "pending" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        cpu = [fmt_cpu(s) for s in (peer, ril)]
        losses = [fmt_loss(s and s["first_value"]) for s in (peer, ril)]
        cells += [ratio, " / ".join(cpu), " / ".join(losses)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_machine(info: dict) -> str:
    """Markdown bullet list describing the machine, BLAS and package versions."""
    gemm = info.get("gemm", {})
    per_size = ", ".join(f"{n}: {g:.1f}" for n, g in gemm.get("per_size", {}).items())
    blas = "; ".join(
        f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, "
        f"{p.get('num_threads')} threads)" for p in info.get("numpy_blas", []))
    versions = ", ".join(f"{k} {v}" for k, v in info.get("packages", {}).items() if v)
    return "\n".join([
        f"- CPU: {info.get('cpu_model')} ({info.get('cores')} usable cores; "
        f"{' '.join(info.get('cpu_flags', []))})",
        f"- Platform: {info.get('platform')}, Python {info.get('python')}",
        f"- NumPy BLAS: {blas or 'unknown'}",
        f"- NumPy float32 GEMM peak: {gemm.get('peak', 0):.1f} GFLOP/s (n: GFLOP/s — {per_size})",
        f"- Packages: {versions}",
        f"- OpenBLAS env: {info.get('openblas_env')}",
    ])


def render_report(payload: dict, workloads: dict) -> str:
    """Whole markdown report: machine, then one table per workload."""
    parts = ["## Machine", "", render_machine(payload["machine"]), ""]
    by_name: dict[str, list[dict]] = {}
    for result in payload["results"]:
        by_name.setdefault(result["workload"], []).append(result)
    peak = payload["machine"].get("gemm", {}).get("peak")
    for name, results in by_name.items():
        spec = workloads[name]
        gflop = getattr(spec, "gflop", None)
        parts += [f"## {name}: {spec.title}", ""]
        if gflop:
            parts += [f"GEMM work per step: {gflop:.3f} GFLOP (forward + backward).", ""]
        parts += [render_table([result_row(r) for r in results], spec.batch, gflop, peak), ""]
        notes = sorted({n for r in results for n in r.get("notes", {}).values()}
                       | {r["error"] for r in results if r.get("error")})
        parts += [f"- {note}" for note in notes] + ([""] if notes else [])
        loads = [x for r in results for x in r.get("loadavg_1min", [])]
        if loads:
            parts += [f"Load average (1 min) during these runs: {min(loads):.2f} - "
                      f"{max(loads):.2f}.", ""]
    return "\n".join(parts)


def write_results(json_path: str, payload: dict, workloads: dict,
                  md_path: str | None = None) -> str:
    """Write the payload as JSON (and optionally the markdown report); return the markdown."""
    os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
    with open(json_path, "w") as fh:
        json.dump(payload, fh, indent=2, default=str)
        fh.write("\n")
    markdown = render_report(payload, workloads)
    if md_path:
        with open(md_path, "w") as fh:
            fh.write(markdown + "\n")
    return markdown

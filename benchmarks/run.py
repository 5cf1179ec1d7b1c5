"""Run rillet against its peers and report.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .bench-venv/bin/python benchmarks/run.py
    ... benchmarks/run.py mlp lstm --family torch --repeats 7

Each (workload, peer family) pair runs in a fresh worker process that times rillet and
that peer alternately (rillet, peer, rillet, peer, ...). Separate processes keep
process-global state apart (TF1 graph mode vs TF2 eager, thread pools). Results go to
benchmarks/results/<timestamp>.json and a markdown report is printed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import harness  # noqa: E402
from workloads import WORKLOADS, make_data  # noqa: E402

PEER_MODULES = {"tf1": "peers_tf1", "tf2": "peers_tf2", "torch": "peers_torch",
                "jax": "peers_jax", "numpy": "peers_numpy"}
WORKER_TIMEOUT_S = 1200


# ----------------------------------------------------------------------------- worker


def _probe(name: str, build, notes: dict, firsts: dict):
    """Build a contender's step and run it once (its result: the first-step loss).

    On failure record why in `notes` and return None.
    """
    try:
        step = build()
        firsts[name] = harness._as_float(step())
        return step
    except Exception as exc:  # noqa: BLE001 - reported, the other contender still runs
        status = "pending" if name == "rillet" else "failed"
        notes[name] = f"{name} {status}: {type(exc).__name__}: {str(exc)[:200]}"
        return None


def run_worker(workload: str, family: str, repeats: int, target_s: float,
               with_rillet: bool) -> dict:
    """Time rillet and one peer family on `workload` in this process."""
    peers = importlib.import_module(PEER_MODULES[family])
    framework = peers.setup()
    notes: dict[str, str] = {}
    firsts: dict[str, float | None] = {}
    steps = {}
    if with_rillet:
        import rillet_side

        steps["rillet"] = _probe("rillet", lambda: rillet_side.rillet_step(
            workload, make_data(workload)), notes, firsts)
    steps[family] = _probe(family, lambda: peers.make_step(workload, make_data(workload)),
                           notes, firsts)
    steps = {name: step for name, step in steps.items() if step is not None}
    result = {"workload": workload, "family": family, "info": peers.info(framework),
              "threads": harness.bench_threads(), "notes": notes, "contenders": {}}
    if steps:
        result.update(harness.compare(steps, repeats=repeats, target_s=target_s))
    for name, stats in result["contenders"].items():
        stats["first_value"] = firsts.get(name)  # the very first step's loss
    return result


def machine_payload() -> dict:
    """machine_info() plus the measured numpy float32 GEMM rate."""
    info = harness.machine_info()
    info["gemm"] = harness.gemm_peak_gflops()
    return info


# ----------------------------------------------------------------------------- parent


def default_python() -> str:
    """The bench venv's interpreter if it exists (peers live there), else this one."""
    bench = os.path.join(ROOT, ".bench-venv", "bin", "python")
    return bench if os.path.exists(bench) else sys.executable


def worker_env(threads: int | None) -> dict:
    """Environment for workers; --threads caps every framework and BLAS pool."""
    env = dict(os.environ)
    if threads:
        for var in ("BENCH_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS"):
            env[var] = str(threads)
    return env


def _spawn(python: str, args: list[str], threads: int | None = None) -> dict:
    """Run this script as a worker in a fresh process; return its JSON result."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [python, os.path.abspath(__file__), "--out", out, *args]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S,
                                  env=worker_env(threads))
        except subprocess.TimeoutExpired:
            return {"error": f"worker timed out after {WORKER_TIMEOUT_S} s"}
        if proc.returncode != 0 or not os.path.exists(out):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            return {"error": f"worker exited {proc.returncode}: " + " | ".join(tail)}
        with open(out) as fh:
            return json.load(fh)


def run_pair(python: str, workload: str, family: str, args) -> dict:
    spec = WORKLOADS[workload]
    target = args.target_s if args.target_s is not None else spec.target_s
    worker_args = ["--worker", workload, family, "--repeats", str(args.repeats),
                   "--target-s", str(target)] + (["--no-rillet"] if args.no_rillet else [])
    result = _spawn(python, worker_args, args.threads)
    result.setdefault("workload", workload)
    result.setdefault("family", family)
    return result


def _summary_line(result: dict) -> str:
    row = harness.result_row(result)
    peer = harness.fmt_time(row["peer"] and row["peer"]["median_s"])
    ril = harness.fmt_time(row["rillet"] and row["rillet"]["median_s"])
    extra = f"  [{row['note']}]" if row["note"] else ""
    head = f"{result['workload']:12s} {result['family']:6s}"
    return f"{head} peer {peer:>12s}  rillet {ril:>12s}{extra}"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workloads", nargs="*", help=f"subset of: {', '.join(WORKLOADS)}")
    parser.add_argument("--family", action="append", choices=sorted(PEER_MODULES),
                        help="only these peer families (repeatable)")
    parser.add_argument("--repeats", type=int, default=5, help="alternation rounds (>= 5)")
    parser.add_argument("--target-s", type=float, default=None,
                        help="seconds per contender per round (default: per workload)")
    parser.add_argument("--threads", type=int, default=None,
                        help="cap threads of every contender (default: all cores)")
    parser.add_argument("--no-rillet", action="store_true", help="time the peers only")
    parser.add_argument("--python", default=None, help="interpreter for the workers")
    parser.add_argument("--results-dir", default=os.path.join(HERE, "results"))
    parser.add_argument("--markdown", default=None, help="also write the report here")
    parser.add_argument("--list", action="store_true", help="list workloads and exit")
    parser.add_argument("--render", metavar="JSON",
                        help="print (and --markdown: write) the report of a results file")
    parser.add_argument("--worker", nargs=2, metavar=("WORKLOAD", "FAMILY"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--info", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def pin_threads() -> None:
    """With --threads N, pin this worker to N cores: a hard cap whatever pools exist."""
    wanted = int(os.environ.get("BENCH_THREADS") or 0)
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if 0 < wanted < len(cores):
        os.sched_setaffinity(0, cores[:wanted])


def worker_main(args) -> None:
    """Entry of a worker process: one pair, or the machine description."""
    pin_threads()
    if args.info:
        result = machine_payload()
    else:
        result = run_worker(*args.worker, args.repeats, args.target_s, not args.no_rillet)
    with open(args.out, "w") as fh:
        json.dump(result, fh, default=str)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker or args.info:
        worker_main(args)
        return 0
    if args.render:
        with open(args.render) as fh:
            payload = json.load(fh)
        markdown = harness.render_report(payload, WORKLOADS)
        if args.markdown:
            with open(args.markdown, "w") as fh:
                fh.write(markdown + "\n")
        print(markdown)
        return 0
    if args.list:
        for spec in WORKLOADS.values():
            print(f"{spec.name:12s} {', '.join(spec.families):18s} {spec.title}")
        return 0
    warning = harness.openblas_env_warning()
    if warning:
        print(warning, file=sys.stderr)
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        print(f"unknown workload(s): {unknown}; see --list", file=sys.stderr)
        return 2
    python = args.python or default_python()
    machine = _spawn(python, ["--info"], args.threads)
    results = []
    for name in args.workloads or list(WORKLOADS):
        for family in WORKLOADS[name].families:
            if args.family and family not in args.family:
                continue
            results.append(run_pair(python, name, family, args))
            print(_summary_line(results[-1]), flush=True)
    payload = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "python": python,
               "argv": sys.argv[1:], "machine": machine, "results": results}
    path = os.path.join(args.results_dir, time.strftime("%Y%m%d-%H%M%S") + ".json")
    print("\n" + harness.write_results(path, payload, WORKLOADS, args.markdown))
    print(f"results: {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

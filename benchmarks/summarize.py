"""One compact markdown table per results file, for RESULTS.md.

    .venv/bin/python benchmarks/summarize.py benchmarks/results/<stamp>.json [...]

Per (workload, peer): medians with min-max, rillet ÷ peer on wall time, CPU/wall of each, and
the ratio of CPU time per step (median wall x CPU/wall). On a shared machine a contender whose
blocks happened to run while another process took half of its core shows CPU/wall ~0.5; the
CPU-time ratio is then the fairer comparison for single-threaded runs (``--threads 1``), where
CPU time is the work done. For workloads with a GEMM count (workloads.py) it also gives each
contender's GEMM GFLOP/s as a fraction of the GEMM peak measured in the same run (wall time),
and, for single-threaded runs, of CPU time against the single-core peak given with
``--cpu-peak`` (GFLOP/s measured on CPU time, which load does not deflate).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from harness import fmt_time  # noqa: E402
from workloads import WORKLOADS  # noqa: E402


def _cpu(stats: dict) -> float | None:
    c = stats.get("cpu_per_wall")
    return None if c is None else c * stats["median_s"]


def _span(s: dict) -> str:
    return f"{fmt_time(s['median_s'])} ({fmt_time(s['min_s'])} - {fmt_time(s['max_s'])})"


def _pct(gflop: float | None, t: float | None, ref: float | None) -> str:
    if not gflop or not ref or not t:
        return "-"
    return f"{100 * gflop / t / ref:.0f}%"


def table(payload: dict, cpu_peak: float | None) -> str:
    peak = payload["machine"].get("gemm", {}).get("peak")
    single = "--threads" in payload.get("argv", []) and \
        payload["argv"][payload["argv"].index("--threads") + 1] == "1"
    head = ["workload", "peer", "peer median (min - max)", "rillet median (min - max)",
            "rillet ÷ peer (wall)", "CPU/wall peer / rillet", "rillet ÷ peer (CPU time)",
            "GEMM % of peak, wall: peer / rillet"]
    if single and cpu_peak:
        head.append("GEMM % of 1-core peak, CPU time: peer / rillet")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in payload["results"]:
        st = r.get("contenders", {})
        peer, ril = st.get(r["family"]), st.get("rillet")
        if not peer or not ril:
            continue
        spec = WORKLOADS[r["workload"]]
        cp, cr = _cpu(peer), _cpu(ril)

        gf = spec.gflop
        cells = [r["workload"], r["family"], _span(peer), _span(ril),
                 f"{ril['median_s'] / peer['median_s']:.2f}x",
                 f"{peer.get('cpu_per_wall', 0):.2f} / {ril.get('cpu_per_wall', 0):.2f}",
                 f"{cr / cp:.2f}x" if cp and cr else "-",
                 f"{_pct(gf, peer['median_s'], peak)} / {_pct(gf, ril['median_s'], peak)}"]
        if single and cpu_peak:
            cells.append(f"{_pct(gf, cp, cpu_peak)} / {_pct(gf, cr, cpu_peak)}")
        lines.append("| " + " | ".join(cells) + " |")
    loads = [x for r in payload["results"] for x in r.get("loadavg_1min", [])]
    foot = f"\nGEMM peak measured in this run: {peak:.1f} GFLOP/s." if peak else ""
    if loads:
        foot += f" Load average (1 min): {min(loads):.2f} - {max(loads):.2f}."
    return "\n".join(lines) + "\n" + foot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+")
    parser.add_argument("--cpu-peak", type=float, default=None,
                        help="single-core GEMM GFLOP/s measured on CPU time")
    args = parser.parse_args(argv)
    for path in args.results:
        with open(path) as fh:
            payload = json.load(fh)
        print(f"### {os.path.basename(path)} ({' '.join(payload.get('argv', [])) or 'all'})\n")
        print(table(payload, args.cpu_peak))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

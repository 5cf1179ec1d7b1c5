"""Overhead of ``keras.Model.fit`` over the equivalent hand-written ``Session.run`` loop.

Both train the same network (graph mode, Adam, shuffled mini-batches, one fetch of the loss per
step) on the same data; runs alternate (hand, fit, hand, fit, ...) so machine load affects both
alike. Reported: median seconds per epoch with min-max, samples/s, and the overhead
``median(fit) / median(hand) - 1``. A second reference loop uses ``Session.make_callable``.

    python benchmarks/fit_overhead.py                        # MLP 784-500-100-10, batch 100
    python benchmarks/fit_overhead.py --hidden 32 --rounds 7 # tiny model: overhead-dominated
    python benchmarks/fit_overhead.py --threads 0            # BLAS default threads (noisier)
    python benchmarks/fit_overhead.py --json /tmp/fit.json

``--threads N`` (default 1) caps the BLAS thread pools before NumPy loads: on a shared machine
multi-threaded BLAS timings vary by several times between runs and hide a few-percent effect.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable


def _cap_threads(argv: list[str]) -> int:
    """Reads ``--threads`` early: BLAS reads these variables when NumPy is imported."""
    n = 1
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            n = int(argv[i + 1])
        elif a.startswith("--threads="):
            n = int(a.split("=", 1)[1])
    if n > 0:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(n)
    return n


_THREADS = _cap_threads(sys.argv)

import numpy as np  # noqa: E402

import rillet as rt  # noqa: E402
from rillet import keras  # noqa: E402


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n).astype(np.int64)
    return x, y


def _hand_loop(hidden: list[int], x: np.ndarray, y: np.ndarray, batch: int,
               use_callable: bool) -> Callable[[], None]:
    """One epoch of the TF 1.x loop: permutation, slicing, ``sess.run([train_op, loss])``."""
    g = rt.Graph()
    with g.as_default():
        xs = rt.placeholder(rt.float32, [None, 784])
        ys = rt.placeholder(rt.int64, [None])
        h = xs
        for units in hidden:
            h = rt.layers.dense(h, units, activation=rt.nn.relu)
        logits = rt.layers.dense(h, 10)
        loss = rt.reduce_mean(rt.nn.sparse_softmax_cross_entropy_with_logits(labels=ys,
                                                                             logits=logits))
        train_op = rt.train.AdamOptimizer(1e-3).minimize(loss)
        sess = rt.Session()
        sess.run(rt.global_variables_initializer())
    rng = np.random.default_rng(1)
    step = sess.make_callable([train_op, loss], [xs, ys]) if use_callable else None

    def epoch() -> None:
        perm = rng.permutation(len(x))
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            if step is not None:
                step(x[idx], y[idx])
            else:
                sess.run([train_op, loss], {xs: x[idx], ys: y[idx]})
    return epoch


def _fit_loop(hidden: list[int], x: np.ndarray, y: np.ndarray,
              batch: int) -> Callable[[], None]:
    """One epoch of ``model.fit`` on the same network (its own graph and Session)."""
    g = rt.Graph()
    with g.as_default():
        model = keras.Sequential(
            [keras.layers.Dense(u, activation="relu") for u in hidden] + [keras.layers.Dense(10)])
        model.build((None, 784))
        model.compile(keras.optimizers.Adam(1e-3),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def epoch() -> None:
        with g.as_default():
            model.fit(x, y, batch_size=batch, epochs=1, shuffle=True, verbose=0)
    return epoch


def _time(fn: Callable[[], None]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def _stats(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def run(hidden: list[int], samples: int, batch: int, rounds: int) -> dict:
    x, y = _data(samples)
    contenders = {"session_run": _hand_loop(hidden, x, y, batch, False),
                  "make_callable": _hand_loop(hidden, x, y, batch, True),
                  "fit": _fit_loop(hidden, x, y, batch)}
    for fn in contenders.values():  # warm-up: plans, first-call costs
        fn()
    wall: dict[str, list[float]] = {k: [] for k in contenders}
    cpu: dict[str, list[float]] = {k: [] for k in contenders}
    for r in range(rounds):
        order = list(contenders) if r % 2 == 0 else list(contenders)[::-1]
        for name in order:
            w, c = _time(contenders[name])
            wall[name].append(w)
            cpu[name].append(c)
    med = {k: statistics.median(v) for k, v in wall.items()}
    cmed = {k: statistics.median(v) for k, v in cpu.items()}
    return {
        "model": f"MLP 784-{'-'.join(map(str, hidden))}-10", "samples": samples,
        "batch": batch, "rounds": rounds, "steps_per_epoch": -(-samples // batch),
        "wall_seconds_per_epoch": {k: _stats(v) for k, v in wall.items()},
        "cpu_seconds_per_epoch": {k: _stats(v) for k, v in cpu.items()},
        "samples_per_s": {k: samples / med[k] for k in med},
        "fit_overhead_wall": {"vs_session_run": med["fit"] / med["session_run"] - 1,
                              "vs_make_callable": med["fit"] / med["make_callable"] - 1},
        "fit_overhead_cpu": {"vs_session_run": cmed["fit"] / cmed["session_run"] - 1,
                             "vs_make_callable": cmed["fit"] / cmed["make_callable"] - 1},
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, nargs="+", default=[500, 100])
    p.add_argument("--samples", type=int, default=10000)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (0: library default)")
    p.add_argument("--json", default=None, help="also write the result here")
    args = p.parse_args()
    res = run(args.hidden, args.samples, args.batch, args.rounds)
    res["machine"] = {"python": platform.python_version(), "numpy": np.__version__,
                      "processor": platform.processor() or platform.machine(),
                      "cpus": os.cpu_count(), "blas_threads": _THREADS or "default"}
    print(f"{res['model']}, {res['samples']} samples, batch {res['batch']}, "
          f"{res['rounds']} alternating rounds, BLAS threads: {_THREADS or 'default'}")
    for clock in ("wall", "cpu"):
        print(f"  {clock} seconds per epoch: median (min-max)")
        for name, st in res[f"{clock}_seconds_per_epoch"].items():
            extra = f"  {res['samples_per_s'][name]:,.0f} samples/s" if clock == "wall" else ""
            print(f"    {name:14s} {st['median']:.3f} ({st['min']:.3f}-{st['max']:.3f}){extra}")
        o = res[f"fit_overhead_{clock}"]
        print(f"    fit overhead ({clock}): {100 * o['vs_session_run']:+.1f}% vs Session.run, "
              f"{100 * o['vs_make_callable']:+.1f}% vs make_callable")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()

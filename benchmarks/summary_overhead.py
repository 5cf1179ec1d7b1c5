"""What TensorBoard summaries every 100 steps cost in training throughput.

Trains seed 003's MNIST MLP (784-500-100-10 ReLU, softmax cross-entropy, Adam 1e-3, batch 100)
in one process and one Session, alternating runs of ``--steps`` steps in each mode:

* ``none``: ``sess.run(train_step)`` only;
* ``scalars``: every 100th step runs ``[merged loss+accuracy scalars, train_step]`` and
  ``FileWriter.add_summary`` (the seed's setup);
* ``full``: ``scalars`` plus histograms of the three weight matrices and 3 input images
  every 100th step.

Modes are interleaved (rotating order each round) so machine drift hits all of them alike.
Reports steps/s per mode as median [min-max] over rounds and the overhead of each summary
mode relative to ``none`` (from the medians, and the median of per-round ratios).

    .venv/bin/python benchmarks/summary_overhead.py              # 7 rounds x 1000 steps
    .venv/bin/python benchmarks/summary_overhead.py --rounds 3 --steps 500 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time

import numpy as np

import rillet as tf

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SHARED = os.path.normpath(os.path.join(_REPO, "..", "shared", "data", "mnist"))
MODES = ("none", "scalars", "full")


def build() -> dict:
    tf.set_random_seed(0)
    with tf.name_scope("input"):
        x = tf.placeholder(tf.float32, [None, 784], name="x")
        y_ = tf.placeholder(tf.float32, [None, 10], name="y")
    hist = []

    def layer(h: object, n_in: int, n_out: int, relu: bool) -> object:
        w = tf.Variable(tf.truncated_normal([n_in, n_out], stddev=0.1), name="weights")
        b = tf.Variable(tf.constant(0.1, shape=[n_out]), name="biases")
        hist.append(tf.summary.histogram("weights", w, collections=["full"]))
        out = tf.matmul(h, w) + b
        return tf.nn.relu(out) if relu else out

    with tf.name_scope("model"):
        with tf.name_scope("layer1"):
            h1 = layer(x, 784, 500, True)
        with tf.name_scope("layer2"):
            h2 = layer(h1, 500, 100, True)
        with tf.name_scope("output"):
            y = layer(h2, 100, 10, False)
    with tf.name_scope("training"):
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=y))
        train = tf.train.AdamOptimizer(1e-3).minimize(loss)
        acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1)), tf.float32))
    scalars = [tf.summary.scalar("loss", loss), tf.summary.scalar("accuracy", acc)]
    img = tf.summary.image("input", tf.reshape(x, [-1, 28, 28, 1]), 3, collections=["full"])
    return {"x": x, "y": y_, "train": train,
            "scalars": tf.summary.merge(scalars),
            "full": tf.summary.merge(scalars + hist + [img])}


def load_batches(n: int, batch: int, data_dir: str | None) -> list[tuple]:
    """``n`` distinct batches of real MNIST (random if the files are not there)."""
    rng = np.random.default_rng(0)
    try:
        from rillet.datasets import mnist

        (xt, yt), _ = mnist.load_data(data_dir)
        xt = xt.reshape(len(xt), 784).astype(np.float32) / 255
    except Exception as e:  # noqa: BLE001 - fall back to synthetic data
        print(f"[MNIST not available ({e}); using random data]", file=sys.stderr)
        xt = rng.random((6000, 784), dtype=np.float32)
        yt = rng.integers(0, 10, 6000)
    eye = np.eye(10, dtype=np.float32)
    out = []
    for _ in range(n):
        idx = rng.integers(0, len(xt), batch)
        out.append((xt[idx], eye[yt[idx]]))
    return out


def run_mode(sess: tf.Session, m: dict, writer: object, batches: list, mode: str,
             steps: int, every: int, step0: int) -> float:
    """Seconds for ``steps`` training steps in ``mode``."""
    x, y, train = m["x"], m["y"], m["train"]
    summary = None if mode == "none" else m[mode]
    nb = len(batches)
    t = time.perf_counter()
    for i in range(steps):
        xs, ys = batches[(step0 + i) % nb]
        if summary is not None and i % every == 0:
            s, _ = sess.run([summary, train], {x: xs, y: ys})
            writer.add_summary(s, step0 + i)
        else:
            sess.run(train, {x: xs, y: ys})
    if summary is not None:
        writer.flush()  # the disk writes belong to this mode's time
    return time.perf_counter() - t


def marginal_cost(sess: tf.Session, m: dict, writer: object, batches: list, mode: str,
                  pairs: int) -> float:
    """Median extra milliseconds of ``sess.run([summary, train]) + add_summary`` over
    ``sess.run(train)``, alternating the two on the same batches."""
    x, y, train, summary = m["x"], m["y"], m["train"], m[mode]
    diffs = []
    for i in range(pairs):
        xs, ys = batches[i % len(batches)]
        feed = {x: xs, y: ys}
        t0 = time.perf_counter()
        sess.run(train, feed)
        t1 = time.perf_counter()
        s, _ = sess.run([summary, train], feed)
        writer.add_summary(s, i)
        t2 = time.perf_counter()
        diffs.append((t2 - t1) - (t1 - t0))
    writer.flush()
    return 1e3 * statistics.median(diffs)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--steps", type=int, default=1000, help="steps per run (default 1000)")
    p.add_argument("--every", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--data-dir", default=_SHARED if os.path.isdir(_SHARED) else None)
    p.add_argument("--pairs", type=int, default=300,
                   help="paired runs for the marginal cost of one summary step")
    p.add_argument("--json", default=None, help="also write the samples to this file")
    args = p.parse_args(argv)

    batches = load_batches(200, args.batch_size, args.data_dir)
    m = build()
    times: dict[str, list[float]] = {k: [] for k in MODES}
    with tempfile.TemporaryDirectory() as logdir, tf.Session() as sess, \
            tf.summary.FileWriter(logdir, sess.graph) as writer:
        sess.run(tf.global_variables_initializer())
        run_mode(sess, m, writer, batches, "full", 200, args.every, 0)  # warm-up: plans, caches
        step = 200
        for r in range(args.rounds):
            order = MODES[r % 3:] + MODES[:r % 3]
            for mode in order:
                times[mode].append(run_mode(sess, m, writer, batches, mode, args.steps,
                                            args.every, step))
                step += args.steps
            print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                f"{k} {args.steps / times[k][-1]:.0f}/s" for k in MODES), flush=True)
        marginal = {k: marginal_cost(sess, m, writer, batches, k, args.pairs) for k in MODES[1:]}
    rate = {k: [args.steps / t for t in v] for k, v in times.items()}
    med = {k: statistics.median(v) for k, v in rate.items()}
    result = {"machine": platform.platform(), "python": platform.python_version(),
              "cpus": os.cpu_count(), "steps_per_run": args.steps, "every": args.every,
              "rounds": args.rounds, "steps_per_s": rate, "overhead": {}}
    print(f"\nsteps/s, median [min-max] over {args.rounds} rounds of {args.steps} steps "
          f"(summaries every {args.every} steps):")
    for k in MODES:
        print(f"  {k:8s} {med[k]:7.1f}  [{min(rate[k]):.1f}-{max(rate[k]):.1f}]")
    for k in MODES[1:]:
        paired = [t / b - 1 for t, b in zip(times[k], times["none"])]
        over_med = 1 - med[k] / med["none"]
        result["overhead"][k] = {"from_medians": over_med, "paired_median": statistics.median(
            paired), "paired_min": min(paired), "paired_max": max(paired)}
        print(f"  overhead {k:8s}: {100 * over_med:+.2f}% (medians); per-round "
              f"{100 * statistics.median(paired):+.2f}% [{100 * min(paired):+.2f}%.."
              f"{100 * max(paired):+.2f}%]")
    step_ms = 1e3 / med["none"]
    print(f"\nmarginal cost of one summary step (median of {args.pairs} paired "
          "[summary, train] vs train runs on the same batch):")
    for k, ms in marginal.items():
        est = ms / (args.every * step_ms)
        result["overhead"][k]["marginal_ms"] = ms
        result["overhead"][k]["estimated"] = est
        print(f"  {k:8s} {ms:6.3f} ms per summary -> {100 * est:.2f}% of {args.every} steps "
              f"at {step_ms:.2f} ms/step")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == "__main__":
    main()

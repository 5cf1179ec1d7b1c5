"""``model.fit`` throughput: rillet.keras against Keras on TensorFlow, same models, same data.

Frameworks (all in one process, timed alternately):

- ``rillet``: ``rillet.keras`` in graph mode (its default; each model in its own ``Graph``);
- ``keras3``: Keras 3 with the TensorFlow backend (``import keras``; ``fit`` runs a
  ``tf.function`` train step; ``jit_compile="auto"`` means no XLA on a CPU-only machine);
- ``tf_keras``: the legacy Keras 2 of TensorFlow (``import tf_keras``; also a
  ``tf.function`` step).

TF2 eager state is process-global but rillet does not touch TensorFlow, so the three share a
process and alternate: for each round every framework runs one ``fit`` epoch (the order is
reversed on odd rounds), so slow drifts of the shared machine hit them alike.

Models (the same weights are copied into all three before the warm-up epoch):

- ``mlp``: the seed MLP 784-500-100-10 ReLU, logits, sparse softmax cross-entropy
  (``from_logits=True``), Adam 1e-3, batch 100, no metrics;
- ``cnn``: the CNN of ``examples/mnist_cnn_keras.py``: Conv(32, 3)-MaxPool-Conv(64, 3)-MaxPool-
  Flatten-Dense(128)-Dropout(0.5)-Dense(10, softmax), Adam 1e-3,
  ``"sparse_categorical_crossentropy"``, metrics ``["accuracy"]``, batch 64.

Data: the first ``--samples`` (default 10,000) MNIST training images (``rillet.datasets.mnist``,
``/work/shared/data/mnist``; float32 in [0, 1]), int64 labels; every timed run is
``model.fit(x, y, batch_size=B, epochs=1, shuffle=True, verbose=0)``. One untimed warm-up epoch
per framework first (graph building / ``tf.function`` tracing). Reported: samples/s at the
median epoch time with min-max over the rounds, CPU time / wall time (threads busy, or
below 1: CPU lost to other processes), samples per CPU-second of this process (less
sensitive to other processes than wall time; includes spinning threads), the warm-up epoch's loss
(same weights and data: the values should be close; they differ by shuffling and dropout), and
``rillet ÷ peer`` = ratio of median epoch times (>1: rillet is slower).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .bench-venv/bin/python benchmarks/keras_fit.py
    ... keras_fit.py --threads 0 1 --rounds 5 --json /tmp/kf.json --markdown /tmp/kf.md
    ... keras_fit.py --models cnn --frameworks rillet keras3 --threads 1

``--threads``: one or more settings, each run in a fresh worker process (TensorFlow's thread
pools can only be sized before its first use). ``0`` = library defaults (TF intra/inter-op =
cores, OpenBLAS = cores, rillet = cores). ``N > 0``, as ``run.py --threads N``: the worker is
pinned to N cores, ``OPENBLAS/OMP/MKL_NUM_THREADS`` = N before NumPy loads, threadpoolctl limits
NumPy's BLAS to N, and ``tf.config.threading`` intra/inter-op = N (``--no-pin``: all of that
but the pinning). rillet's intra-op pool shrinks to one thread while the 1-minute load average
says other processes use the cores (``rillet/ops/_parallel.py``); ``RILLET_DYNAMIC_THREADS=0``
in the environment turns that off, and the report says which was used.

Pinning a TensorFlow process to one core (as ``run.py --threads 1`` does) makes Keras' ``fit``
epochs bimodal on this machine: some run at full speed, others take exactly twice as long with
the core idle half the time (no other load, no steal; seen with keras 3 and tf_keras, with
TensorFlow's thread pools at 1 or at their defaults; not seen unpinned). Process CPU time is
unaffected, so compare "samples per CPU-s" too, or use ``--no-pin``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED_MNIST = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "mnist"))
FRAMEWORKS = ("rillet", "keras3", "tf_keras")
MODELS = {"mlp": 100, "cnn": 64}  # model -> batch size
TITLES = {"mlp": "MLP 784-500-100-10 ReLU, Adam 1e-3, batch 100",
          "cnn": "CNN Conv32-Pool-Conv64-Pool-Dense128-Dropout-Dense10, Adam 1e-3, batch 64"}


def _worker_threads(argv: list[str]) -> int | None:
    """In a worker (``--worker N``): cap threads before NumPy / TensorFlow load."""
    if "--worker" not in argv:
        return None
    n = int(argv[argv.index("--worker") + 1])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.pop("TF_USE_LEGACY_KERAS", None)
    os.environ["KERAS_FIT_CORES"] = str(len(os.sched_getaffinity(0)))  # before pinning
    if n > 0:
        for var in ("BENCH_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                    "MKL_NUM_THREADS"):
            os.environ[var] = str(n)
        cores = sorted(os.sched_getaffinity(0))
        if n < len(cores) and "--no-pin" not in argv:
            os.sched_setaffinity(0, cores[:n])
    return n


_WORKER_THREADS = _worker_threads(sys.argv)

import numpy as np  # noqa: E402

if HERE not in sys.path:
    sys.path.insert(0, HERE)
import harness  # noqa: E402

# ------------------------------------------------------------------------------ models


def build(K, name: str):
    """The model in Keras namespace ``K`` (rillet.keras, keras or tf_keras), compiled.

    The input shape is given as ``input_shape=`` on the first layer (Keras 3 warns but accepts
    it): rillet's ``Sequential`` does not take a ``keras.Input`` tensor as its first element.
    """
    L = K.layers
    if name == "mlp":
        model = K.Sequential([L.Dense(500, activation="relu", input_shape=(784,)),
                              L.Dense(100, activation="relu"), L.Dense(10)])
        model.compile(K.optimizers.Adam(1e-3),
                      K.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model
    model = K.Sequential([
        L.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
        L.MaxPooling2D(),
        L.Conv2D(64, 3, activation="relu"),
        L.MaxPooling2D(),
        L.Flatten(),
        L.Dense(128, activation="relu"),
        L.Dropout(0.5),
        L.Dense(10, activation="softmax"),
    ])
    model.compile(K.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def contenders(name: str, frameworks: list[str], x, y, batch: int) -> dict:
    """framework -> (one-epoch fit callable, info); all start from the same weights."""
    out, weights = {}, None
    for fw in ("keras3", "tf_keras", "rillet"):  # keras3 first: it makes the weights
        if fw not in frameworks and not (fw == "keras3" and weights is None):
            continue
        if fw == "rillet":
            import rillet as rt
            from rillet import keras as rk

            graph = rt.Graph()
            with graph.as_default():
                model = build(rk, name)
                if weights is not None:
                    model.set_weights(weights)
                    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights))

            def epoch(model=model, graph=graph):
                with graph.as_default():
                    return model.fit(x, y, batch_size=batch, epochs=1, shuffle=True, verbose=0)
            info = {"mode": "graph"}
        else:
            if fw == "keras3":
                import keras as K
            else:
                import tf_keras as K
            model = build(K, name)
            if weights is None:
                weights = model.get_weights()
            else:
                model.set_weights(weights)

            def epoch(model=model):
                return model.fit(x, y, batch_size=batch, epochs=1, shuffle=True, verbose=0)
            info = {"version": K.__version__}
        if fw in frameworks:
            out[fw] = (epoch, info, model)
    return out


# ------------------------------------------------------------------------------ worker


def _timed(fn) -> tuple[float, float, object]:
    gc.collect()
    c, t = time.process_time(), time.perf_counter()
    result = fn()
    return time.perf_counter() - t, time.process_time() - c, result


def run_model(name: str, frameworks: list[str], x, y, rounds: int) -> dict:
    batch = MODELS[name]
    runs = contenders(name, frameworks, x, y, batch)
    names = [fw for fw in frameworks if fw in runs]
    res: dict = {"model": name, "title": TITLES[name], "batch": batch, "samples": len(x),
                 "rounds": rounds, "frameworks": {}}
    for fw in names:  # warm-up epoch: graph plans, tf.function tracing, data adapters
        epoch, info, model = runs[fw]
        wall, _, hist = _timed(epoch)
        info = dict(info, warmup_s=wall, warmup_loss=float(hist.history["loss"][0]))
        if fw == "keras3":
            info["jit_compile"] = bool(getattr(model, "jit_compile", False))
        res["frameworks"][fw] = {"info": info, "wall_s": [], "cpu_s": []}
    loads = [os.getloadavg()[0]]
    for r in range(rounds):
        for fw in (names if r % 2 == 0 else names[::-1]):
            wall, cpu, _ = _timed(runs[fw][0])
            res["frameworks"][fw]["wall_s"].append(wall)
            res["frameworks"][fw]["cpu_s"].append(cpu)
        loads.append(os.getloadavg()[0])
    for st in res["frameworks"].values():
        med = statistics.median(st["wall_s"])
        st.update(median_s=med, min_s=min(st["wall_s"]), max_s=max(st["wall_s"]),
                  samples_per_s=len(x) / med,
                  cpu_per_wall=statistics.median(st["cpu_s"]) / med,
                  samples_per_cpu_s=len(x) / statistics.median(st["cpu_s"]))
    res["loadavg_1min"] = loads
    return res


def load_mnist(data_dir: str | None, samples: int):
    from rillet.datasets import mnist

    (x, y), _ = mnist.load_data(data_dir)
    x = (x[:samples].astype(np.float32) / 255.0)
    return x, y[:samples].astype(np.int64)


def worker(args) -> dict:
    n = _WORKER_THREADS
    limiter = None
    if n:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(n)  # noqa: F841 - held for the process' lifetime
    import tensorflow as tf

    if n:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    assert tf.executing_eagerly()
    warnings.filterwarnings("ignore", message=".*input_shape.*")
    from rillet.ops import _parallel

    x, y = load_mnist(args.data_dir, args.samples)
    results = []
    for name in args.models:
        xin = x.reshape(len(x), 784) if name == "mlp" else x[..., None]
        results.append(run_model(name, args.frameworks, xin, y, args.rounds))
        print(f"  [threads {n or 'default'}] {name} done", file=sys.stderr, flush=True)
    machine = harness.machine_info()
    machine["tf_threads"] = {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                             "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}
    machine["rillet_threads"] = _parallel.num_threads()
    machine["rillet_dynamic_threads"] = os.environ.get("RILLET_DYNAMIC_THREADS", "1") != "0"
    machine["affinity"] = sorted(os.sched_getaffinity(0))
    machine["cores"] = int(os.environ.get("KERAS_FIT_CORES", machine["cores"]))
    machine["packages"]["keras"] = _version("keras")
    return {"threads": n, "machine": machine, "results": results}


def _version(pkg: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return None


# ------------------------------------------------------------------------------ parent


def spawn(threads: int, args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(threads), "--out", out,
               "--samples", str(args.samples), "--rounds", str(args.rounds),
               "--models", *args.models, "--frameworks", *args.frameworks]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        if args.no_pin:
            cmd.append("--no-pin")
        proc = subprocess.run(cmd, text=True, stdout=subprocess.PIPE)
        if proc.returncode != 0 or not os.path.exists(out):
            raise SystemExit(f"worker (threads {threads}) exited {proc.returncode}")
        with open(out) as fh:
            return json.load(fh)


def _label(threads: int) -> str:
    return "default (all cores)" if not threads else f"{threads}"


def render(payloads: list[dict]) -> str:
    head = ["threads", "model", "framework", "samples/s (median)", "samples/s min - max",
            "s / epoch (median)", "rillet ÷ this (time)", "CPU/wall", "samples per CPU-s",
            "warm-up epoch loss"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    loads = []
    for p in payloads:
        for res in p["results"]:
            fws = res["frameworks"]
            ref = fws.get("rillet")
            for fw, st in fws.items():
                ratio = f"{ref['median_s'] / st['median_s']:.2f}x" if ref and fw != "rillet" \
                    else "-"
                lo, hi = res["samples"] / st["max_s"], res["samples"] / st["min_s"]
                lines.append("| " + " | ".join([
                    _label(p["threads"]), res["model"], fw, f"{st['samples_per_s']:,.0f}",
                    f"{lo:,.0f} - {hi:,.0f}", f"{st['median_s']:.2f}", ratio,
                    f"{st['cpu_per_wall']:.2f}", f"{st['samples_per_cpu_s']:,.0f}",
                    f"{st['info']['warmup_loss']:.4f}"]) + " |")
            loads.append((p["threads"], res["model"], min(res["loadavg_1min"]),
                          max(res["loadavg_1min"])))
    lines.append("")
    lines += [f"- Load average (1 min), threads {_label(t)}, {m}: {lo:.2f} - {hi:.2f}"
              for t, m, lo, hi in loads]
    m = payloads[0]["machine"]
    pk = m["packages"]
    lines.append(f"- {m['cpu_model']}, {m['cores']} usable cores; Python {m['python']}; "
                 f"numpy {pk.get('numpy')}, tensorflow-cpu {pk.get('tensorflow-cpu')}, "
                 f"keras {pk.get('keras')}, tf-keras {pk.get('tf-keras')}; "
                 f"OpenBLAS env {m['openblas_env']}")
    for p in payloads:
        mm = p["machine"]
        lines.append(f"- threads {_label(p['threads'])}: TF intra/inter-op "
                     f"{mm['tf_threads']['intra_op']}/{mm['tf_threads']['inter_op']}, rillet "
                     f"{mm['rillet_threads']} (dynamic thread reduction under load: "
                     f"{'on' if mm.get('rillet_dynamic_threads', True) else 'off'}), "
                     f"CPU affinity {mm['affinity']}")
        for res in p["results"]:
            warm = ", ".join(
                f"{fw} {st['info']['warmup_s']:.2f} s"
                + (f" (jit_compile={st['info']['jit_compile']})" if "jit_compile" in st["info"]
                   else "")
                for fw, st in res["frameworks"].items())
            lines.append(f"- threads {_label(p['threads'])}, {res['model']}: warm-up epoch "
                         f"(untimed; includes tracing / graph building): {warm}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    p.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS))
    p.add_argument("--threads", type=int, nargs="+", default=[0, 1],
                   help="thread settings, one worker each (0: library defaults)")
    p.add_argument("--samples", type=int, default=10000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--no-pin", action="store_true",
                   help="with --threads N > 0, do not pin the worker to N cores")
    p.add_argument("--data-dir", default=SHARED_MNIST if os.path.isdir(SHARED_MNIST) else None)
    p.add_argument("--json", default=None)
    p.add_argument("--markdown", default=None)
    p.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker is not None:
        payload = worker(args)
        with open(args.out, "w") as fh:
            json.dump(payload, fh, default=str)
        return 0
    warning = harness.openblas_env_warning()
    if warning:
        print(warning, file=sys.stderr)
    print(f"{platform.node()}: load average {os.getloadavg()}", file=sys.stderr)
    payloads = [spawn(t, args) for t in args.threads]
    markdown = render(payloads)
    print(markdown)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(payloads, fh, indent=2, default=str)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(markdown + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Workload definitions and their pre-generated NumPy data and initial parameters.

Every contender of a workload gets the same data and the same initial weights (all
NumPy, float32, fixed seed), so their first-step losses should agree: a cheap check that
the contenders really compute the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEED = 1234


@dataclass(frozen=True)
class Workload:
    """One benchmark: what it is, how to count it, which peer families run it."""

    name: str
    title: str
    batch: int | None  # samples per step; None for per-call micro benchmarks
    families: tuple[str, ...]  # peer families; each runs in its own process beside rillet
    target_s: float = 1.0  # seconds per contender per repeat
    gflop: float | None = None  # GEMM/conv GFLOP per step (forward + backward), see below


def _mlp_gflop(batch: int = 128, sizes: tuple = (784, 400, 100, 10)) -> float:
    """Forward (x @ W per layer) + backward (dW per layer, dX for all but the first)."""
    macs = [i * o for i, o in zip(sizes[:-1], sizes[1:])]
    return 2 * batch * (2 * sum(macs) + sum(macs[1:])) / 1e9


def _cnn_gflop(batch: int = 64) -> float:
    """conv1 (5x5x1x32 on 28x28: fwd + dW), conv2 (5x5x32x64 on 14x14: fwd, dW, dX),
    fc1 (3136x1024) and fc2 (1024x10): fwd, dW, dX."""
    conv1 = 2 * batch * 28 * 28 * 32 * 25
    conv2 = 2 * batch * 14 * 14 * 64 * 25 * 32
    fc = 2 * batch * (3136 * 1024 + 1024 * 10)
    return (2 * conv1 + 3 * conv2 + 3 * fc) / 1e9


def _lstm_gflop(batch: int = 32, steps: int = 50, inputs: int = 128,
                hidden: int = 256) -> float:
    """Per layer and step, [x, h] @ W (fwd) and dW; backward dh for both layers and dx for
    the second (the first layer's input gradient is not needed)."""
    g = 4 * hidden
    fwd = (inputs + hidden) * g + 2 * hidden * g
    back = fwd + hidden * g + 2 * hidden * g
    return 2 * batch * steps * (fwd + back) / 1e9


WORKLOADS = {
    w.name: w
    for w in [
        Workload("session_add", "sess.run of a two-placeholder a + b graph (scalars)", None,
                 ("tf1",), 0.5),
        Workload("linreg", "scalar linear regression m*x+b, GD(1e-3), sess.run per step",
                 None, ("tf1",), 0.5),
        Workload("mlp", "MLP 784-400-100-10 ReLU, softmax xent, Adam 1e-3, batch 128",
                 128, ("torch", "tf1", "jax"), gflop=_mlp_gflop()),
        Workload("cnn", "LeNet CNN 28x28x1 conv32-pool-conv64-pool-fc1024-fc10, Adam, "
                 "batch 64", 64, ("torch", "tf1", "jax"), gflop=_cnn_gflop()),
        Workload("lstm", "2-layer LSTM h256, T=50, batch 32, input 128, forward+backward",
                 32, ("torch", "tf1", "jax"), gflop=_lstm_gflop()),
        Workload("eager_add", "eager dispatch: a + b of two 10-element float32 arrays", None,
                 ("torch", "tf2", "numpy"), 0.5),
    ]
}


def _rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


def _glorot(rng, fan_in: int, fan_out: int, shape=None) -> np.ndarray:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    shape = shape or (fan_in, fan_out)
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    out = np.zeros((labels.size, classes), dtype=np.float32)
    out[np.arange(labels.size), labels] = 1.0
    return out


def session_add_data() -> dict:
    return {"a": 3.0, "b": 4.5}


def linreg_data() -> dict:
    """One (x, y) pair from the line y = 2x + 1 and the tutorial's initial m, b."""
    return {"x": 2.0, "y": 5.0, "m0": 0.44, "b0": 0.87, "lr": 1e-3}


def mlp_data(batch: int = 128) -> dict:
    """Inputs, one-hot/int labels and initial weights for 784-400-100-10."""
    rng = _rng()
    sizes = [784, 400, 100, 10]
    weights = [_glorot(rng, i, o) for i, o in zip(sizes[:-1], sizes[1:])]
    biases = [np.zeros(o, dtype=np.float32) for o in sizes[1:]]
    labels = rng.integers(0, 10, size=batch)
    return {
        "x": rng.random((batch, 784), dtype=np.float32),
        "labels": labels.astype(np.int64),
        "y": one_hot(labels, 10),
        "weights": weights,
        "biases": biases,
        "lr": 1e-3,
    }


def cnn_data(batch: int = 64) -> dict:
    """NHWC inputs, labels and initial weights (conv kernels HWIO) for the LeNet CNN."""
    rng = _rng()
    labels = rng.integers(0, 10, size=batch)
    return {
        "x": rng.random((batch, 28, 28, 1), dtype=np.float32),
        "labels": labels.astype(np.int64),
        "y": one_hot(labels, 10),
        "conv1": _glorot(rng, 25, 25 * 32, (5, 5, 1, 32)),
        "conv2": _glorot(rng, 25 * 32, 25 * 64, (5, 5, 32, 64)),
        "fc1": _glorot(rng, 7 * 7 * 64, 1024),
        "fc2": _glorot(rng, 1024, 10),
        "b_conv1": np.zeros(32, np.float32),
        "b_conv2": np.zeros(64, np.float32),
        "b_fc1": np.zeros(1024, np.float32),
        "b_fc2": np.zeros(10, np.float32),
        "lr": 1e-3,
    }


def lstm_data(batch: int = 32, steps: int = 50, inputs: int = 128, hidden: int = 256) -> dict:
    """Batch-major inputs/targets and per-layer LSTM kernels.

    Kernels follow tf.compat.v1 LSTMCell: shape (in + hidden, 4 * hidden), gate order
    [i, j (candidate), f, o], zero bias, forget_bias 1.0 added inside the cell.
    """
    rng = _rng()
    kernels = [_glorot(rng, inputs + hidden, 4 * hidden),
               _glorot(rng, hidden + hidden, 4 * hidden)]
    return {
        "x": rng.standard_normal((batch, steps, inputs), dtype=np.float32),
        "target": rng.standard_normal((batch, steps, hidden), dtype=np.float32),
        "kernels": kernels,
        "biases": [np.zeros(4 * hidden, np.float32) for _ in kernels],
        "hidden": hidden,
        "forget_bias": 1.0,
    }


def eager_add_data() -> dict:
    rng = _rng()
    return {"a": rng.random(10, dtype=np.float32), "b": rng.random(10, dtype=np.float32)}


DATA = {
    "session_add": session_add_data,
    "linreg": linreg_data,
    "mlp": mlp_data,
    "cnn": cnn_data,
    "lstm": lstm_data,
    "eager_add": eager_add_data,
}


def make_data(name: str) -> dict:
    """Fresh data for workload `name` (same values on every call)."""
    return DATA[name]()

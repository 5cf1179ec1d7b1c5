"""MNIST trained eagerly: a 784-400-100-10 ReLU MLP, a GradientTape per step and Adam, first
op by op, then with the step compiled by ``rt.function`` (traced once, run as a graph plan).

    python examples/eager_mnist.py                          # 600 steps each way
    python examples/eager_mnist.py --steps 100 --batch-size 128
    python examples/eager_mnist.py --mode function          # only the compiled variant
    python examples/eager_mnist.py --data-dir MNIST_data/   # a directory with the IDX files
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import rillet as rt
from rillet.datasets import mnist

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SHARED = os.path.normpath(os.path.join(_REPO, "..", "shared", "data", "mnist"))


def load(data_dir: str | None) -> tuple:
    """Flattened float32 images in [0, 1] and int64 labels."""
    (x_train, y_train), (x_test, y_test) = mnist.load_data(data_dir)

    def prep(x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), 784).astype(np.float32) / 255.0
    return (prep(x_train), y_train.astype(np.int64)), (prep(x_test), y_test.astype(np.int64))


class MLP:
    """Three dense layers; the variables are created once, eagerly."""

    def __init__(self, sizes: tuple = (784, 400, 100, 10), seed: int = 0):
        rng = np.random.default_rng(seed)
        self.params = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            limit = np.sqrt(6.0 / (n_in + n_out))  # Xavier uniform
            w = rng.uniform(-limit, limit, (n_in, n_out)).astype(np.float32)
            self.params += [rt.Variable(w, name=f"fc{i}/kernel"),
                            rt.Variable(np.zeros(n_out, np.float32), name=f"fc{i}/bias")]

    def __call__(self, x):
        for i in range(0, len(self.params), 2):
            x = rt.matmul(x, self.params[i]) + self.params[i + 1]
            if i + 2 < len(self.params):
                x = rt.nn.relu(x)
        return x


def loss_fn(model: MLP, x, y):
    logits = model(x)
    return rt.reduce_mean(rt.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                         logits=logits))


def accuracy(model: MLP, x: np.ndarray, y: np.ndarray) -> float:
    pred = rt.argmax(model(x), 1).numpy()
    return float(np.mean(pred == y))


def train(mode: str, data: tuple, steps: int, batch_size: int, lr: float) -> None:
    (x_train, y_train), (x_test, y_test) = data
    model = MLP()
    opt = rt.train.AdamOptimizer(lr)

    def step(x, y):
        with rt.GradientTape() as tape:
            loss = loss_fn(model, x, y)
        grads = tape.gradient(loss, model.params)
        opt.apply_gradients(zip(grads, model.params))
        return loss

    if mode == "function":
        step = rt.function(step)
    rng = np.random.default_rng(1)
    order = rng.permutation(len(x_train))
    t0 = time.perf_counter()
    for i in range(steps):
        start = (i * batch_size) % (len(order) - batch_size + 1)
        idx = order[start:start + batch_size]
        loss = step(x_train[idx], y_train[idx])
        if (i + 1) % max(1, steps // 5) == 0 or i + 1 == steps:
            print(f"[{mode:8s}] step {i + 1:5d}  loss {float(loss):.4f}")
    dt = time.perf_counter() - t0
    print(f"[{mode:8s}] {steps} steps in {dt:.1f}s ({1e3 * dt / steps:.1f} ms/step), "
          f"test accuracy {accuracy(model, x_test, y_test):.4f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--mode", choices=["eager", "function", "both"], default="both")
    p.add_argument("--data-dir", default=_SHARED if os.path.isdir(_SHARED) else None,
                   help="directory with the MNIST IDX files (default: ../shared/data/mnist "
                        "when present, else the loader's cache)")
    args = p.parse_args()
    rt.enable_eager_execution()
    data = load(args.data_dir)
    for mode in (["eager", "function"] if args.mode == "both" else [args.mode]):
        train(mode, data, args.steps, args.batch_size, args.lr)


if __name__ == "__main__":
    main()

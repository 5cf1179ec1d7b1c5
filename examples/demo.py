"""`make demo`: train the Keras-style CNN for a bounded time with a progress bar, print the
test accuracy and write TensorBoard logs to logs/demo.

MNIST is used when its files are present (../shared/data/mnist or the rillet cache): one epoch
over the 60,000 training images (stopped early after --max-seconds), tested on the 10,000.
Otherwise scikit-learn's bundled 8x8 digits with a smaller CNN.

    python examples/demo.py
    python examples/demo.py --max-seconds 60 --subset 3000
    tensorboard --logdir logs/demo
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mnist_cnn_keras import TimeLimit, build_model  # noqa: I001 (an example next to this one)

import rillet as rt
from rillet import keras
from rillet.datasets import data_home, digits, mnist

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SHARED = os.path.normpath(os.path.join(_REPO, "..", "shared", "data", "mnist"))
_FILES = ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz")


def mnist_dir() -> str | None:
    """A directory holding the MNIST files, without downloading anything."""
    for d in (_SHARED, os.path.join(str(data_home()), "mnist")):
        if all(os.path.exists(os.path.join(d, f)) for f in _FILES):
            return d
    return None


def load(subset: int, test_size: int) -> tuple[str, tuple, tuple, keras.Model]:
    path = mnist_dir()
    if path is not None:
        (xt, yt), (xs, ys) = mnist.load_data(path)
        model = build_model()
        xt, yt, xs, ys = xt[:subset], yt[:subset], xs[:test_size], ys[:test_size]
        name = f"MNIST ({len(xt)} training images, {len(xs)} test images)"
    else:
        (xt, yt), (xs, ys) = digits.load_data(test_fraction=0.2, seed=0)
        L = keras.layers
        model = keras.Sequential([
            L.Conv2D(16, 3, activation="relu", padding="same", input_shape=(8, 8, 1)),
            L.MaxPooling2D(), L.Conv2D(32, 3, activation="relu", padding="same"),
            L.MaxPooling2D(), L.Flatten(), L.Dense(64, activation="relu"), L.Dropout(0.3),
            L.Dense(10, activation="softmax")])
        model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy",
                      ["accuracy"])
        name = "scikit-learn digits (MNIST files not found)"

    def prep(x: np.ndarray) -> np.ndarray:
        return (x.astype(np.float32) / 255.0)[..., None]
    return name, (prep(xt), yt), (prep(xs), ys), model


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subset", type=int, default=60000)
    p.add_argument("--test-size", type=int, default=10000)
    p.add_argument("--epochs", type=int, default=None, help="default: 1 (MNIST), 15 (digits)")
    p.add_argument("--max-seconds", type=float, default=120.0)
    p.add_argument("--logdir", default=os.path.join(_REPO, "logs", "demo"))
    args = p.parse_args()
    name, (xt, yt), (xs, ys), model = load(args.subset, args.test_size)
    epochs = args.epochs or (1 if mnist_dir() else 15)
    print(f"rillet {rt.__version__} -- Keras-style CNN on {name}")
    model.summary()
    callbacks: list = [TimeLimit(args.max_seconds)]
    try:
        import tensorboard  # noqa: F401
        callbacks.append(keras.callbacks.TensorBoard(args.logdir))
    except ImportError:
        print("(tensorboard is not installed: no TensorBoard logs)")
    t0 = time.perf_counter()
    model.fit(xt, yt, batch_size=64, epochs=epochs, validation_data=(xs, ys),
              callbacks=callbacks, verbose=1)
    loss, acc = model.evaluate(xs, ys, batch_size=500, verbose=0)
    print(f"test accuracy {acc:.4f} (loss {loss:.4f}) after {time.perf_counter() - t0:.0f}s")
    if len(callbacks) > 1:
        print(f"TensorBoard logs: {args.logdir}  (tensorboard --logdir {args.logdir})")


if __name__ == "__main__":
    main()

"""MNIST with a 784-400-100-10 ReLU MLP, the setup of seed 004's table (tinynn vs TensorFlow
1.13): softmax cross-entropy, Adam(1e-3), batch 128, 20 epochs, Xavier-uniform weights, test
accuracy printed after every epoch (TensorFlow 1.13 reached about 98.1%).

    python examples/mnist_mlp.py                          # 20 epochs
    python examples/mnist_mlp.py --epochs 2 --max-seconds 60
    python examples/mnist_mlp.py --data-dir MNIST_data/   # a directory with the 4 IDX .gz files
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import rillet as tf
from rillet.datasets import mnist

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SHARED = os.path.join(_REPO, "..", "shared", "data", "mnist")


def default_data_dir() -> str | None:
    """``../shared/data/mnist`` next to the repository if present, else None (the loader's
    cache, ``$RILLET_DATA/mnist`` or ``~/.rillet/datasets/mnist``)."""
    return os.path.normpath(_SHARED) if os.path.isdir(_SHARED) else None


def load(data_dir: str | None) -> tuple:
    """Flattened float32 images in [0, 1] and int64 labels."""
    (x_train, y_train), (x_test, y_test) = mnist.load_data(data_dir)

    def prep(x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), 784).astype(np.float32) / 255.0
    return (prep(x_train), y_train.astype(np.int64)), (prep(x_test), y_test.astype(np.int64))


def dense(x, n_in: int, n_out: int, name: str, activation=None):
    """``activation(x @ kernel + bias)`` with a Xavier-uniform kernel and a zero bias."""
    with tf.variable_scope(name):
        w = tf.get_variable("kernel", [n_in, n_out],
                            initializer=tf.glorot_uniform_initializer())
        b = tf.get_variable("bias", [n_out], initializer=tf.zeros_initializer())
    y = tf.matmul(x, w) + b
    return activation(y) if activation is not None else y


def build_model(learning_rate: float = 1e-3) -> dict:
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    h1 = dense(x, 784, 400, "fc1", tf.nn.relu)
    h2 = dense(h1, 400, 100, "fc2", tf.nn.relu)
    logits = dense(h2, 100, 10, "logits")
    loss = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train_op = tf.train.AdamOptimizer(learning_rate).minimize(loss)
    correct = tf.equal(tf.argmax(logits, 1), y)
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
    return {"x": x, "y": y, "loss": loss, "train_op": train_op, "accuracy": accuracy}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=default_data_dir(),
                   help="directory with the MNIST IDX files (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--max-seconds", type=float, default=None,
                   help="stop training after this many seconds (then evaluate)")
    p.add_argument("--train-size", type=int, default=None,
                   help="use only the first N training examples")
    p.add_argument("--test-size", type=int, default=None,
                   help="evaluate on the first N test examples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)

    (x_train, y_train), (x_test, y_test) = load(args.data_dir)
    x_train, y_train = x_train[:args.train_size], y_train[:args.train_size]
    x_test, y_test = x_test[:args.test_size], y_test[:args.test_size]

    tf.reset_default_graph()
    tf.set_random_seed(args.seed)
    m = build_model(args.lr)
    rng = np.random.default_rng(args.seed)

    history = []
    start = time.time()
    out_of_time = False
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for epoch in range(args.epochs):
            t0 = time.time()
            order = rng.permutation(len(x_train))
            losses = []
            for i in range(0, len(order), args.batch_size):
                idx = order[i:i + args.batch_size]
                loss, _ = sess.run([m["loss"], m["train_op"]],
                                   {m["x"]: x_train[idx], m["y"]: y_train[idx]})
                losses.append(loss)
                if args.max_seconds is not None and time.time() - start > args.max_seconds:
                    out_of_time = True
                    break
            acc = float(sess.run(m["accuracy"], {m["x"]: x_test, m["y"]: y_test}))
            history.append(acc)
            if not args.quiet:
                print(f"Epoch {epoch} {{'total_num': {len(y_test)}, "
                      f"'hit_num': {round(acc * len(y_test))}, 'accuracy': {acc:.4f}}} "
                      f"loss={np.mean(losses):.4f} ({time.time() - t0:.1f}s)", flush=True)
            if out_of_time:
                if not args.quiet:
                    print(f"stopped after --max-seconds={args.max_seconds}")
                break
    elapsed = time.time() - start
    if not args.quiet:
        print(f"final test accuracy: {history[-1]:.4f} after {len(history)} epochs "
              f"in {elapsed:.1f}s")
    return {"accuracy": history[-1], "history": history, "seconds": elapsed}


if __name__ == "__main__":
    main()

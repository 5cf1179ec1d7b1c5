"""The MNIST network of seed 003 in TF 1.x style: two hidden layers of 500 and 100 units built
with ``rt.layers.dense``, cross-entropy, Adam(1e-3), batches of 100 from a ``rillet.data``
pipeline read through a graph-mode iterator, summaries every 100 steps and a saved model.
The seed reports about 96% test accuracy.

    python examples/mnist_tf1_mlp.py                     # 6000 steps (10 epochs)
    python examples/mnist_tf1_mlp.py --steps 600 --logdir /tmp/mlp
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import rillet as tf
from rillet.data import Dataset
from rillet.datasets import mnist

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SHARED = os.path.normpath(os.path.join(_REPO, "..", "shared", "data", "mnist"))


def load(data_dir: str | None) -> tuple:
    (x_train, y_train), (x_test, y_test) = mnist.load_data(data_dir)

    def prep(x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), 784).astype(np.float32) / 255.0
    return (prep(x_train), y_train.astype(np.int64)), (prep(x_test), y_test.astype(np.int64))


def build(train: tuple, batch_size: int) -> dict:
    """Input pipelines, the model, the loss, the train op and the summaries."""
    with tf.name_scope("input"):
        train_ds = Dataset.from_tensor_slices(train).shuffle(10000, seed=0).repeat() \
            .batch(batch_size).prefetch(2)
        images, labels = train_ds.make_one_shot_iterator().get_next()
        test_x = tf.placeholder(tf.float32, [None, 784], name="test_images")
        test_y = tf.placeholder(tf.int64, [None], name="test_labels")
        test_it = Dataset.from_tensor_slices((test_x, test_y)).batch(1000) \
            .make_initializable_iterator()
        t_images, t_labels = test_it.get_next()

    def model(x: tf.Tensor, reuse: bool) -> tf.Tensor:
        with tf.variable_scope("model", reuse=reuse):
            h = tf.layers.dense(x, 500, activation=tf.nn.relu, name="hidden1")
            h = tf.layers.dense(h, 100, activation=tf.nn.relu, name="hidden2")
            return tf.layers.dense(h, 10, name="logits")

    logits = model(images, reuse=False)
    with tf.name_scope("train"):
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits))
        step = tf.train.get_or_create_global_step()
        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, global_step=step)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))
        tf.summary.scalar("loss", loss)
        tf.summary.scalar("accuracy", accuracy)
    with tf.name_scope("test"):
        test_logits = model(t_images, reuse=True)
        correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(test_logits, 1), t_labels),
                                        tf.float32))
    return {"loss": loss, "train_op": train_op, "step": step, "summary": tf.summary.merge_all(),
            "test_x": test_x, "test_y": test_y, "test_init": test_it.initializer,
            "correct": correct}


def evaluate(sess: tf.Session, g: dict, x: np.ndarray, y: np.ndarray) -> float:
    """Test accuracy, streaming the test set through the initializable iterator."""
    sess.run(g["test_init"], {g["test_x"]: x, g["test_y"]: y})
    hits = 0.0
    while True:
        try:
            hits += sess.run(g["correct"])
        except tf.errors.OutOfRangeError:
            return hits / len(x)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--data-dir", default=_SHARED if os.path.isdir(_SHARED) else None)
    p.add_argument("--logdir", default=None, help="TensorBoard logs and the saved model")
    args = p.parse_args()
    train, (x_test, y_test) = load(args.data_dir)
    tf.set_random_seed(0)
    g = build(train, args.batch_size)
    writer = tf.summary.FileWriter(args.logdir, tf.get_default_graph()) if args.logdir \
        else None
    saver = tf.train.Saver()
    t0 = time.perf_counter()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(1, args.steps + 1):
            if writer is not None and i % 100 == 0:
                _, loss, summary = sess.run([g["train_op"], g["loss"], g["summary"]])
                writer.add_summary(summary, i)
            else:
                _, loss = sess.run([g["train_op"], g["loss"]])
            if i % 1000 == 0 or i == args.steps:
                print(f"step {i}: loss {loss:.4f}, {time.perf_counter() - t0:.1f}s", flush=True)
        acc = evaluate(sess, g, x_test, y_test)
        if args.logdir:
            print("saved", saver.save(sess, os.path.join(args.logdir, "model.ckpt"),
                                      global_step=g["step"]))
    if writer is not None:
        writer.close()
    print(f"test accuracy {acc:.4f} after {args.steps} steps "
          f"({time.perf_counter() - t0:.1f}s)")


if __name__ == "__main__":
    main()

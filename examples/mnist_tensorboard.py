"""Seed 003's MNIST example: a 784-500-100-10 ReLU MLP in name scopes, softmax cross-entropy,
Adam(1e-3), batches of 100, loss and accuracy summaries every 100 steps for TensorBoard, and a
Saver (the seed reports about 96% test accuracy after 20,000 steps).

    python examples/mnist_tensorboard.py                       # 20,000 steps
    python examples/mnist_tensorboard.py --steps 2000 --logdir logs/run2
    tensorboard --logdir logs                                 # then http://localhost:6006

Resumes from the latest checkpoint in ``--logdir`` unless ``--fresh`` is given.
"""

from __future__ import annotations

import argparse
import os
import time

import rillet as tf
from rillet.examples.tutorials.mnist import input_data

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SHARED = os.path.normpath(os.path.join(_REPO, "..", "shared", "data", "mnist"))


def build_model(learning_rate: float = 1e-3, seed: int = 0) -> dict:
    """The seed's graph: input, model (two hidden layers), training with summaries."""
    tf.set_random_seed(seed)
    with tf.name_scope("MNIST_Input"):
        x = tf.placeholder(tf.float32, shape=[None, 784], name="x")
        y_ = tf.placeholder(tf.float32, shape=[None, 10], name="y")
    with tf.name_scope("Input_Reshape"):
        x_image = tf.reshape(x, [-1, 28, 28, 1])
        tf.summary.image("input", x_image, 3, collections=["images"])

    def layer(inputs: object, n_in: int, n_out: int, act: object = None) -> object:
        w = tf.Variable(tf.truncated_normal([n_in, n_out], stddev=0.1), name="weights")
        b = tf.Variable(tf.constant(0.1, shape=[n_out]), name="biases")
        with tf.name_scope("Wx_plus_b"):
            pre = tf.matmul(inputs, w) + b
        tf.summary.histogram("weights_histogram", w, collections=["histograms"])
        return act(pre) if act is not None else pre

    with tf.name_scope("Model"):
        with tf.name_scope("Layer1"):
            h1 = layer(x, 784, 500, tf.nn.relu)
        with tf.name_scope("Layer2"):
            h2 = layer(h1, 500, 100, tf.nn.relu)
        with tf.name_scope("Output"):
            y = layer(h2, 100, 10)
    with tf.name_scope("Training"):
        with tf.name_scope("Loss"):
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=y))
        with tf.name_scope("Optimizer"):
            global_step = tf.train.get_or_create_global_step()
            train_step = tf.train.AdamOptimizer(learning_rate).minimize(
                loss, global_step=global_step)
        with tf.name_scope("Evaluation"):
            correct = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
            accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
    # Outside the scopes: tags "loss" and "accuracy" (inside "Training", "loss" would clash
    # with the "Loss" scope -- names are case-insensitive, as in TF -- and become "loss_1").
    tf.summary.scalar("loss", loss)
    tf.summary.scalar("accuracy", accuracy)
    summary_op = tf.summary.merge_all()  # the two scalars, every 100 steps
    return {"x": x, "y_": y_, "loss": loss, "accuracy": accuracy, "train_step": train_step,
            "summary_op": summary_op, "global_step": global_step,
            "histograms": tf.summary.merge_all("histograms"),
            "images": tf.summary.merge_all("images")}


def train(args: argparse.Namespace, mnist: object) -> dict:
    """Builds the graph (in the default graph), trains, evaluates and saves."""
    m = build_model()
    saver = tf.train.Saver(max_to_keep=3)
    os.makedirs(args.logdir, exist_ok=True)
    ckpt_prefix = os.path.join(args.logdir, "model.ckpt")
    feed_test = {m["x"]: mnist.test.images, m["y_"]: mnist.test.labels}
    with tf.Session() as sess, tf.summary.FileWriter(args.logdir, sess.graph) as writer:
        latest = None if args.fresh else tf.train.latest_checkpoint(args.logdir)
        if latest:
            saver.restore(sess, latest)
            if not args.quiet:
                print(f"restored {latest}")
        else:
            sess.run(tf.global_variables_initializer())
        start = int(sess.run(m["global_step"]))
        t0 = time.perf_counter()
        step = start
        for step in range(start, args.steps):
            xs, ys = mnist.train.next_batch(args.batch_size)
            feed = {m["x"]: xs, m["y_"]: ys}
            if step % args.summary_every == 0:
                summary, _ = sess.run([m["summary_op"], m["train_step"]], feed)
                writer.add_summary(summary, step)
                if step % (10 * args.summary_every) == 0:
                    writer.add_summary(sess.run(m["histograms"]), step)
                    writer.add_summary(sess.run(m["images"], feed), step)
            else:
                sess.run(m["train_step"], feed)
            if args.save_every and (step + 1) % args.save_every == 0:
                saver.save(sess, ckpt_prefix, global_step=step + 1)
            if args.max_seconds is not None and time.perf_counter() - t0 > args.max_seconds:
                step += 1
                break
        else:
            step = max(start, args.steps)
        elapsed = time.perf_counter() - t0
        test_acc = float(sess.run(m["accuracy"], feed_test))
        writer.add_summary(sess.run(m["summary_op"], feed_test), step)
        path = saver.save(sess, ckpt_prefix, global_step=step)
    if not args.quiet:
        n = step - start
        print(f"{n} steps in {elapsed:.1f}s ({n / max(elapsed, 1e-9):.0f} steps/s)")
        print(f"test accuracy {test_acc:.4f}")
        print(f"saved {path}; view with: tensorboard --logdir {args.logdir}")
    return {"test_accuracy": test_acc, "steps": step, "checkpoint": path,
            "logdir": args.logdir, "seconds": elapsed}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--logdir", default="./logs/mnist_tensorboard")
    p.add_argument("--data-dir", default=_SHARED if os.path.isdir(_SHARED) else "MNIST_data/",
                   help="directory with the four MNIST .gz files (default: %(default)s)")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--summary-every", type=int, default=100)
    p.add_argument("--save-every", type=int, default=5000)
    p.add_argument("--max-seconds", type=float, default=None,
                   help="stop training after this many seconds (then evaluate and save)")
    p.add_argument("--fresh", action="store_true", help="ignore existing checkpoints")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)

    mnist = input_data.read_data_sets(args.data_dir, one_hot=True)
    with tf.Graph().as_default():
        result = train(args, mnist)
    return result


if __name__ == "__main__":
    main()

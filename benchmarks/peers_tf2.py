"""TensorFlow 2 eager contenders (never in the same process as the TF1 graph peers)."""

from __future__ import annotations

import os

from harness import bench_threads


def setup():
    """Import TensorFlow in its default eager mode."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    import tensorflow as tf

    threading, n = tf.config.threading, bench_threads()
    if threading.get_intra_op_parallelism_threads() != n:  # only before TF's first use
        threading.set_intra_op_parallelism_threads(n)
        threading.set_inter_op_parallelism_threads(n)
    assert tf.executing_eagerly(), "TF2 peers need eager mode (a TF1 peer ran in this process?)"
    return tf


def info(tf) -> dict:
    return {
        "tensorflow": tf.__version__,
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
    }


def eager_add(tf, data):
    a, b = tf.constant(data["a"]), tf.constant(data["b"])
    return lambda: a + b


BUILDERS = {"eager_add": eager_add}


def make_step(workload: str, data):
    """The TF2 eager step for `workload`."""
    return BUILDERS[workload](setup(), data)

"""rillet's side of every workload: THE PLACE WHERE RILLET IS PLUGGED IN.

`rillet_step(workload, data)` returns a zero-arg callable doing one step of `workload` with
rillet, or raises. The worker in run.py catches any exception, reports rillet as "pending"
with the reason, and still times the peer, so the peers run before rillet's core lands.

The graph workloads reuse the TF1 builders of peers_tf1.py verbatim, handing them `rillet`
instead of `tensorflow.compat.v1` (rillet mirrors the TF 1.x API). If rillet's API differs
somewhere, adapt it here: write a `_build_<workload>` below and list it in RILLET_BUILDERS.
"""

from __future__ import annotations

import peers_tf1


def load_rillet():
    """Import rillet as a TF1-style module (raises while the core is missing)."""
    import rillet as tf

    return tf


def _graph_builder(name: str):
    """rillet step for a graph workload, via the shared TF1-style builder."""

    def build(data):
        return peers_tf1.BUILDERS[name](load_rillet(), data)

    return build


def _build_eager_add(data):
    """Eager `a + b` of two 10-element float32 arrays."""
    tf = load_rillet()
    if hasattr(tf, "enable_eager_execution"):
        tf.enable_eager_execution()
    if not getattr(tf, "executing_eagerly", lambda: False)():
        raise NotImplementedError("rillet has no eager mode to switch on (executing_eagerly)")
    a, b = tf.constant(data["a"]), tf.constant(data["b"])
    return lambda: a + b


RILLET_BUILDERS = {
    "session_add": _graph_builder("session_add"),
    "linreg": _graph_builder("linreg"),
    "mlp": _graph_builder("mlp"),
    "cnn": _graph_builder("cnn"),
    "lstm": _graph_builder("lstm"),  # dynamic_rnn + LSTMCell if rillet has them, else unrolled
    "eager_add": _build_eager_add,
}


def rillet_step(workload: str, data):
    """rillet's one-step callable for `workload` (raises NotImplementedError if none)."""
    if workload not in RILLET_BUILDERS:
        raise NotImplementedError(f"no rillet side for workload {workload!r}")
    return RILLET_BUILDERS[workload](data)


def info() -> dict:
    """rillet's version and the NumPy BLAS it runs on."""
    import numpy

    tf = load_rillet()
    return {"rillet": getattr(tf, "__version__", "unknown"), "numpy": numpy.__version__}

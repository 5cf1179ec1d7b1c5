"""``rillet.io``: ``write_graph`` and ``gfile`` (TF's ``tf.io`` / ``tf.train.write_graph``)."""

from __future__ import annotations

import os
from typing import Any

from rillet import gfile

__all__ = ["gfile", "write_graph"]


def write_graph(graph_or_graph_def: Any, logdir: str, name: str, as_text: bool = True) -> str:
    """Writes a graph as a TensorFlow ``GraphDef`` protocol buffer (text format by default,
    binary with ``as_text=False``) to ``logdir/name``, atomically; returns the path.

    The file is TensorBoard's / TensorFlow's ``GraphDef`` (via ``tensorboard``'s protos), with
    constant values in full; to re-import a graph into rillet, use
    ``graph_def.SerializeToString()`` or ``train.export_meta_graph`` instead.
    """
    from rillet.summary.graph_def import graph_to_graph_def
    from rillet.train.checkpoint_io import atomic_write_bytes

    g = graph_or_graph_def
    if hasattr(g, "get_operations"):  # a Graph, or rillet's GraphDef
        proto = graph_to_graph_def(g, add_shapes=False, max_tensor_elements=None)
    elif hasattr(g, "SerializeToString"):  # already a protobuf GraphDef
        proto = g
    else:
        raise TypeError(f"write_graph expects a Graph or GraphDef, got {type(g).__name__}")
    logdir = os.fspath(logdir)
    if logdir:
        os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, name)
    if as_text:
        from google.protobuf import text_format

        data = text_format.MessageToString(proto).encode("utf-8")
    else:
        data = proto.SerializeToString()
    atomic_write_bytes(path, data)
    return path

"""``rillet.summary``: TF 1.x summary ops and ``FileWriter``, TF 2-style eager writers.

Graph ops (``scalar``, ``histogram``, ``image``, ``audio``, ``text``, ``merge``,
``merge_all``) live in :mod:`rillet.summary.ops`; event files in :mod:`rillet.summary.events`;
``Summary`` protocol buffers in :mod:`rillet.summary.protos`. The ``tensorboard`` package is
imported lazily (on first use of ``FileWriter``, ``Summary`` or a summary kernel), so
``import rillet`` stays fast and works without it.
"""

from __future__ import annotations

import types
from typing import Any

from rillet.summary.ops import (
    SummaryWriter,
    all_v2_summary_ops,
    audio,
    create_file_writer,
    create_file_writer_v2,
    flush,
    get_step,
    histogram,
    image,
    merge,
    merge_all,
    scalar,
    set_step,
    text,
)

experimental = types.SimpleNamespace(set_step=set_step, get_step=get_step)

_LAZY_EVENTS = ("FileWriter", "FileWriterCache", "EventFileWriter", "summary_iterator",
                "tf_record_iterator")
_LAZY_PROTOS = {"Summary": "summary_pb2", "SummaryDescription": "summary_pb2",
                "SummaryMetadata": "summary_pb2", "HistogramProto": "summary_pb2",
                "Event": "event_pb2", "SessionLog": "event_pb2", "TaggedRunMetadata": "event_pb2"}


def __getattr__(name: str) -> Any:
    if name in _LAZY_EVENTS:
        from rillet.summary import events

        return getattr(events, name)
    if name in _LAZY_PROTOS:
        import importlib

        mod = importlib.import_module(f"tensorboard.compat.proto.{_LAZY_PROTOS[name]}")
        return getattr(mod, name)
    if name in ("events", "protos", "graph_def"):
        import importlib

        return importlib.import_module(f"rillet.summary.{name}")
    raise AttributeError(f"module 'rillet.summary' has no attribute {name!r}")


__all__ = [
    "FileWriter", "FileWriterCache", "Summary", "SummaryWriter", "all_v2_summary_ops", "audio",
    "create_file_writer", "create_file_writer_v2", "experimental", "flush", "histogram",
    "image", "merge", "merge_all", "scalar", "summary_iterator", "text",
]

"""Execution mode: graph building (the default, as in TF 1.x) or eager execution."""

from __future__ import annotations

import threading
from typing import Any

_state = threading.local()
_global_eager = False


def executing_eagerly() -> bool:
    """True when ops run immediately instead of adding nodes to a graph."""
    mode = getattr(_state, "mode", None)
    return _global_eager if mode is None else mode


def set_mode(eager: bool | None) -> bool | None:
    """Sets this thread's mode (None follows the global mode); returns the previous one."""
    old = getattr(_state, "mode", None)
    _state.mode = eager
    return old


def set_global_eager(flag: bool) -> None:
    global _global_eager
    _global_eager = flag


# Filled in by rillet.eager: runs one OpDef immediately and records it on active tapes.
eager_execute: Any = None

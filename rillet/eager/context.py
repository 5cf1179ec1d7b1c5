"""Switching between graph building (the default) and eager execution."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from rillet import context as _context
from rillet.eager.execute import ctx


def enable_eager_execution(config: Any = None, device_policy: Any = None,
                           execution_mode: Any = None) -> None:
    """Makes every thread execute ops eagerly (TF 1.x ``tf.enable_eager_execution``).

    Unlike TensorFlow, rillet allows this at any time; ``graph_mode()`` still builds graphs.
    """
    _context.set_global_eager(True)


def disable_eager_execution() -> None:
    """Returns to graph building as the global default."""
    _context.set_global_eager(False)


def executing_eagerly() -> bool:
    """True when ops run immediately (eager mode), False while building a graph."""
    return _context.executing_eagerly()


@contextlib.contextmanager
def eager_mode() -> Iterator[None]:
    """Executes ops eagerly inside the block (this thread only)."""
    old = _context.set_mode(True)
    try:
        yield
    finally:
        _context.set_mode(old)


@contextlib.contextmanager
def graph_mode() -> Iterator[None]:
    """Builds graphs inside the block (this thread only), even when eager is enabled."""
    old = _context.set_mode(False)
    try:
        yield
    finally:
        _context.set_mode(old)


def in_eager_mode() -> bool:
    return _context.executing_eagerly()


def in_graph_mode() -> bool:
    return not _context.executing_eagerly()


def reset_random_state() -> None:
    """Restarts the eager random streams: after ``set_random_seed(s)`` the same random calls
    give the same numbers again."""
    ctx.reset_random()


def num_gpus() -> int:
    """GPUs available to eager execution (rillet runs eager kernels on NumPy)."""
    return 0

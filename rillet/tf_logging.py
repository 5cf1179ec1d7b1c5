"""``tf.logging``: TF 1.x logging on Python's ``logging`` module.

Messages go to the ``rillet`` logger and print as TF 1.x prints them, ``INFO:tensorflow:msg``
(Python's ``BASIC_FORMAT`` with TF's logger name), on stderr. As in TF, the handler is added on
first use only when the root logger has no handlers (a program that configured ``logging``
itself keeps its own format), and the default verbosity is ``WARN``: ``tf.logging.info`` prints
after ``tf.logging.set_verbosity(tf.logging.INFO)``.
"""

from __future__ import annotations

import logging as _logging
import sys
import threading
from typing import Any

DEBUG, INFO, WARN, ERROR, FATAL = (_logging.DEBUG, _logging.INFO, _logging.WARNING,
                                   _logging.ERROR, _logging.CRITICAL)
WARNING = WARN
_logger = _logging.getLogger("rillet")
_lock = threading.Lock()
_configured = False
_FORMAT = "%(levelname)s:tensorflow:%(message)s"


class _StderrHandler(_logging.StreamHandler):
    """Writes to the current ``sys.stderr`` (so redirections and capture see the output)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def get_logger() -> _logging.Logger:
    """The logger ``tf.logging`` writes to (configured on first use)."""
    global _configured
    if not _configured:
        with _lock:
            if not _configured:
                if not _logging.getLogger().handlers and not any(
                        isinstance(h, _StderrHandler) for h in _logger.handlers):
                    handler = _StderrHandler()
                    handler.setFormatter(_logging.Formatter(_FORMAT))
                    _logger.addHandler(handler)
                _configured = True
    return _logger


def set_verbosity(level: int) -> None:
    """Messages below ``level`` (``DEBUG``, ``INFO``, ``WARN``, ``ERROR``, ``FATAL``) are
    dropped."""
    get_logger().setLevel(level)


def get_verbosity() -> int:
    return get_logger().getEffectiveLevel()


def log(level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().log(level, msg, *args, **kwargs)


def debug(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().debug(msg, *args, **kwargs)


def info(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().info(msg, *args, **kwargs)


def warning(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().warning(msg, *args, **kwargs)


warn = warning


def error(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().error(msg, *args, **kwargs)


def fatal(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().critical(msg, *args, **kwargs)


def vlog(level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
    """Verbose log at ``level`` (TF: numeric levels are Python logging levels)."""
    get_logger().log(level, msg, *args, **kwargs)


_counts: dict = {}


def _count(key: Any) -> int:
    with _lock:
        n = _counts.get(key, 0)
        _counts[key] = n + 1
    return n


def _caller_key() -> tuple:
    f = sys._getframe(2)
    return (f.f_code.co_filename, f.f_lineno)


def log_every_n(level: int, msg: Any, n: int, *args: Any) -> None:
    """Logs on the 1st, (n+1)th, (2n+1)th, ... call from the same line."""
    if _count(_caller_key()) % max(int(n), 1) == 0:
        get_logger().log(level, msg, *args)


def log_first_n(level: int, msg: Any, n: int, *args: Any) -> None:
    """Logs only the first ``n`` calls from the same line."""
    if _count(_caller_key()) < n:
        get_logger().log(level, msg, *args)


def log_if(level: int, msg: Any, condition: Any, *args: Any) -> None:
    if condition:
        get_logger().log(level, msg, *args)


def flush() -> None:
    for h in get_logger().handlers:
        h.flush()


def TaskLevelStatusMessage(msg: Any) -> None:  # noqa: N802 - TF's name
    error(msg)

"""``tf.compat``: ``compat.v1`` is rillet itself (rillet's API is TF 1.x's);
``as_bytes``/``as_text`` as in ``tf.compat``."""

from __future__ import annotations

import sys
from typing import Any


def as_bytes(bytes_or_text: Any, encoding: str = "utf-8") -> bytes:
    if isinstance(bytes_or_text, bytes | bytearray):
        return bytes(bytes_or_text)
    if isinstance(bytes_or_text, str):
        return bytes_or_text.encode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


def as_text(bytes_or_text: Any, encoding: str = "utf-8") -> str:
    if isinstance(bytes_or_text, str):
        return bytes_or_text
    if isinstance(bytes_or_text, bytes | bytearray):
        return bytes(bytes_or_text).decode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


as_str = as_text


def __getattr__(name: str) -> Any:
    if name == "v1":
        return sys.modules["rillet"]
    raise AttributeError(f"module 'rillet.compat' has no attribute {name!r}")

"""The ``checkpoint`` state file: which checkpoints exist and which is the latest.

Same text format and API as TensorFlow 1.x (``tf.train.get_checkpoint_state`` and friends)::

    model_checkpoint_path: "model.ckpt-100"
    all_model_checkpoint_paths: "model.ckpt-90"
    all_model_checkpoint_paths: "model.ckpt-100"

Paths inside the directory are written relative to it (so the directory can be moved), others
absolute; readers get absolute paths back. Paths are save *prefixes*; the data lives in
``prefix + ".safetensors"`` (see :mod:`rillet.train.checkpoint_io`). The file is replaced
atomically, so it always names checkpoints that were completely written before it.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rillet.train.checkpoint_io import atomic_write_bytes, checkpoint_exists

__all__ = [
    "CheckpointState",
    "checkpoint_exists",
    "get_checkpoint_state",
    "latest_checkpoint",
    "prune_old",
    "update_checkpoint_state",
]

_log = logging.getLogger(__name__)

STATE_FILENAME = "checkpoint"


@dataclass
class CheckpointState:
    """Contents of a ``checkpoint`` state file (TensorFlow's ``CheckpointState`` proto)."""

    model_checkpoint_path: str = ""
    all_model_checkpoint_paths: list[str] = field(default_factory=list)
    all_model_checkpoint_timestamps: list[float] = field(default_factory=list)
    last_preserved_timestamp: float | None = None


# ----------------------------------------------------------------------------------------------
# Text format (the subset of protobuf text format TensorFlow writes for this message)

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNESCAPES = {
    "n": b"\n",
    "r": b"\r",
    "t": b"\t",
    "a": b"\a",
    "b": b"\b",
    "f": b"\f",
    "v": b"\v",
    "\\": b"\\",
    "'": b"'",
    '"': b'"',
    "?": b"?",
}
_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*?)\s*$")


def _quote(s: str) -> str:
    out = []
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):03o}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _unquote(text: str) -> str:
    """Decode one protobuf-text string literal (C escapes, octal and hex bytes; UTF-8)."""
    if len(text) < 2 or text[0] not in "\"'" or text[-1] != text[0]:
        raise ValueError(f"expected a quoted string, got {text!r}")
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch == text[0]:
            raise ValueError(f"unescaped quote in {text!r}")
        if ch != "\\":
            out += ch.encode("utf-8")
            i += 1
            continue
        if i + 1 >= len(body):
            raise ValueError(f"dangling backslash in {text!r}")
        nxt = body[i + 1]
        if nxt in _UNESCAPES:
            out += _UNESCAPES[nxt]
            i += 2
        elif nxt in "01234567":
            m = re.match(r"[0-7]{1,3}", body[i + 1 :])
            if m is None:  # unreachable: nxt is an octal digit
                raise ValueError(f"bad octal escape in {text!r}")
            out.append(int(m.group(), 8) & 0xFF)
            i += 1 + len(m.group())
        elif nxt in "xX":
            m = re.match(r"[0-9A-Fa-f]{1,2}", body[i + 2 :])
            if m is None:
                raise ValueError(f"bad \\x escape in {text!r}")
            out.append(int(m.group(), 16))
            i += 2 + len(m.group())
        else:
            raise ValueError(f"unknown escape \\{nxt} in {text!r}")
    return out.decode("utf-8")


def _format_float(x: float) -> str:
    return repr(float(x))


def _parse(text: str) -> CheckpointState:
    state = CheckpointState()
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if m is None:
            raise ValueError(f"line {lineno}: cannot parse {raw!r}")
        key, value = m.groups()
        if key == "model_checkpoint_path":
            state.model_checkpoint_path = _unquote(value)
        elif key == "all_model_checkpoint_paths":
            state.all_model_checkpoint_paths.append(_unquote(value))
        elif key == "all_model_checkpoint_timestamps":
            state.all_model_checkpoint_timestamps.append(float(value))
        elif key == "last_preserved_timestamp":
            state.last_preserved_timestamp = float(value)
        # Unknown fields are ignored (forward compatibility).
    return state


def _serialize(state: CheckpointState) -> str:
    lines = [f"model_checkpoint_path: {_quote(state.model_checkpoint_path)}"]
    lines += [f"all_model_checkpoint_paths: {_quote(p)}" for p in state.all_model_checkpoint_paths]
    lines += [
        f"all_model_checkpoint_timestamps: {_format_float(t)}"
        for t in state.all_model_checkpoint_timestamps
    ]
    if state.last_preserved_timestamp is not None:
        lines.append(f"last_preserved_timestamp: {_format_float(state.last_preserved_timestamp)}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# Public API


def _state_path(directory: str, latest_filename: str | None) -> str:
    return os.path.join(directory, latest_filename or STATE_FILENAME)


def _is_inside(path: str, directory: str) -> bool:
    try:
        return os.path.commonpath([path, directory]) == directory
    except ValueError:  # different drives on Windows
        return False


def _stored_path(path: str, save_dir_abs: str) -> str:
    """Relative to the save dir when inside it, else absolute."""
    ap = os.path.abspath(path)
    return os.path.relpath(ap, save_dir_abs) if _is_inside(ap, save_dir_abs) else ap


def update_checkpoint_state(
    save_dir: str | os.PathLike[str],
    model_checkpoint_path: str | os.PathLike[str],
    all_model_checkpoint_paths: Sequence[str | os.PathLike[str]] | None = None,
    latest_filename: str | None = None,
    all_model_checkpoint_timestamps: Sequence[float] | None = None,
    last_preserved_timestamp: float | None = None,
) -> None:
    """Atomically (re)write the state file in ``save_dir``.

    ``model_checkpoint_path`` is the latest save prefix; it is appended to
    ``all_model_checkpoint_paths`` (oldest first) when not already last. Relative paths are
    relative to the current directory, as for any file API; in the file, paths inside
    ``save_dir`` are stored relative to it and others absolute."""
    save_dir = os.fspath(save_dir)
    save_dir_abs = os.path.abspath(save_dir)
    latest = os.fspath(model_checkpoint_path)
    if not latest:
        raise ValueError("model_checkpoint_path must not be empty")
    paths = [os.fspath(p) for p in (all_model_checkpoint_paths or [])]
    if not paths or os.path.abspath(paths[-1]) != os.path.abspath(latest):
        if paths:
            _log.warning("%s is not in all_model_checkpoint_paths. Manually adding it.", latest)
        paths = [p for p in paths if os.path.abspath(p) != os.path.abspath(latest)] + [latest]
    timestamps = [float(t) for t in (all_model_checkpoint_timestamps or [])]
    if timestamps and len(timestamps) != len(paths):
        raise ValueError(
            f"Checkpoint timestamps, if provided, must match the checkpoint paths "
            f"({len(timestamps)} != {len(paths)})"
        )
    if any(not math.isfinite(t) for t in timestamps):
        raise ValueError("Checkpoint timestamps must be finite")
    state = CheckpointState(
        model_checkpoint_path=_stored_path(latest, save_dir_abs),
        all_model_checkpoint_paths=[_stored_path(p, save_dir_abs) for p in paths],
        all_model_checkpoint_timestamps=timestamps,
        last_preserved_timestamp=(
            None if last_preserved_timestamp is None else float(last_preserved_timestamp)
        ),
    )
    atomic_write_bytes(_state_path(save_dir, latest_filename), _serialize(state).encode("utf-8"))


def get_checkpoint_state(
    checkpoint_dir: str | os.PathLike[str], latest_filename: str | None = None
) -> CheckpointState | None:
    """The parsed state file of ``checkpoint_dir`` with absolute paths, or None if there is none.

    Like TensorFlow, an unreadable or unparsable file is logged and treated as absent, and a file
    without a ``model_checkpoint_path`` raises ``ValueError``."""
    checkpoint_dir = os.fspath(checkpoint_dir)
    filename = _state_path(checkpoint_dir, latest_filename)
    try:
        with open(filename, "rb") as f:
            text = f.read().decode("utf-8")
        state = _parse(text)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:  # UnicodeDecodeError is a ValueError
        _log.warning("%s: %s", type(e).__name__, e)
        _log.warning("%s: Checkpoint ignored", filename)
        return None
    if not state.model_checkpoint_path:
        raise ValueError(f"Invalid checkpoint state loaded from {checkpoint_dir}")

    def absolute(p: str) -> str:
        return os.path.abspath(p if os.path.isabs(p) else os.path.join(checkpoint_dir, p))

    state.model_checkpoint_path = absolute(state.model_checkpoint_path)
    state.all_model_checkpoint_paths = [absolute(p) for p in state.all_model_checkpoint_paths]
    return state


def latest_checkpoint(
    checkpoint_dir: str | os.PathLike[str], latest_filename: str | None = None
) -> str | None:
    """Absolute prefix of the latest checkpoint in ``checkpoint_dir``, or None.

    None also when the state file names a checkpoint whose file does not exist."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None or not state.model_checkpoint_path:
        return None
    if checkpoint_exists(state.model_checkpoint_path):
        return state.model_checkpoint_path
    _log.error("Couldn't match files for checkpoint %s", state.model_checkpoint_path)
    return None


def prune_old(
    paths_kept: Sequence[str],
    max_to_keep: int | None,
    preserve: Callable[[str], bool] | None = None,
) -> tuple[list[str], list[str]]:
    """Split checkpoint prefixes (oldest first, newest last) into ``(keep, delete)``.

    Repeated paths count once, at their last position. Keeps the newest ``max_to_keep``; with
    ``max_to_keep`` None or 0 nothing is deleted and only the newest is kept (TensorFlow's rule).
    ``preserve(path)``, asked oldest first about each path that falls off the list, can spare it
    from deletion (e.g. ``keep_checkpoint_every_n_hours``); spared paths are in neither list.

    Call :func:`update_checkpoint_state` with ``keep`` *before* deleting anything in ``delete``
    (:func:`rillet.train.checkpoint_io.remove_checkpoint`), so that a crash never leaves the state
    file naming a deleted checkpoint."""
    if max_to_keep is not None and max_to_keep < 0:
        raise ValueError(f"max_to_keep must be None or >= 0, got {max_to_keep}")
    slots: list[str | None] = []
    seen: dict[str, int] = {}
    for p in paths_kept:
        key = os.path.abspath(os.fspath(p))
        if key in seen:
            slots[seen[key]] = None
        seen[key] = len(slots)
        slots.append(os.fspath(p))
    ordered = [p for p in slots if p is not None]
    if not max_to_keep:
        return ordered[-1:], []
    n_drop = max(0, len(ordered) - max_to_keep)
    dropped, keep = ordered[:n_drop], ordered[n_drop:]
    delete = [p for p in dropped if preserve is None or not preserve(p)]
    return keep, delete

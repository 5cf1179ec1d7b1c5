"""Checkpoint storage: one ``safetensors`` file per checkpoint, checksummed and written atomically.

This is the storage layer under ``train.Saver``; it knows nothing about graphs. A checkpoint is a
flat ``name -> ndarray`` map plus a small JSON-able metadata dict (e.g. ``global_step``).

A save prefix such as ``/ckpts/model.ckpt-100`` (what ``Saver.save`` returns, as in TensorFlow)
is stored as the single file ``/ckpts/model.ckpt-100.safetensors``; see :func:`checkpoint_file`.
The readers accept either the prefix or the file name.

Guarantees (details in ``docs/checkpoints.md``):

* A file is written to a temporary name in the same directory, flushed, fsync'ed, renamed into
  place with ``os.replace`` and the directory is fsync'ed: after a crash the final path holds
  either the complete old file, the complete new file, or nothing.
* Every tensor carries the SHA-256 of its raw little-endian bytes and the rillet part of the header
  carries a SHA-256 of itself; reading never returns silently wrong values: a mismatch, a
  truncated file or a file that is not a rillet checkpoint raises ``DataLossError``.
* No pickle: the file is plain safetensors, readable by any safetensors reader.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from rillet import errors

__all__ = [
    "CHECKPOINT_SUFFIX",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "atomic_write_bytes",
    "checkpoint_exists",
    "checkpoint_file",
    "list_tensors",
    "read_checkpoint",
    "read_metadata",
    "remove_checkpoint",
    "write_checkpoint",
]

FORMAT_NAME = "rillet-checkpoint"
FORMAT_VERSION = 1
CHECKPOINT_SUFFIX = ".safetensors"

# Keys of rillet's entries in the safetensors ``__metadata__`` map (all values are strings).
_K_FORMAT = "rillet.format"
_K_VERSION = "rillet.format_version"
_K_TENSORS = "rillet.tensors"  # JSON: {name: {"dtype": str, "shape": [int], "sha256": hex}}
_K_USER = "rillet.metadata"  # JSON: the caller's metadata
_K_HEADER_SHA = "rillet.header_sha256"  # SHA-256 of the four entries above

# NumPy dtype name -> safetensors dtype code of the stored array. complex128 is not a safetensors
# dtype; it is stored as float64 with a trailing dimension of 2 (real, imag) -- the same bytes.
_ST_CODE = {
    "bool": "BOOL",
    "int8": "I8",
    "int16": "I16",
    "int32": "I32",
    "int64": "I64",
    "uint8": "U8",
    "uint16": "U16",
    "uint32": "U32",
    "uint64": "U64",
    "float16": "F16",
    "float32": "F32",
    "float64": "F64",
    "complex64": "C64",
    "complex128": "F64",
}
SUPPORTED_DTYPES: tuple[str, ...] = tuple(_ST_CODE)


# ----------------------------------------------------------------------------------------------
# File naming


def checkpoint_file(prefix: str | os.PathLike[str]) -> str:
    """The file holding the checkpoint saved under ``prefix``: ``prefix + ".safetensors"``.

    A path that already ends in ``.safetensors`` is returned unchanged."""
    prefix = os.fspath(prefix)
    return prefix if prefix.endswith(CHECKPOINT_SUFFIX) else prefix + CHECKPOINT_SUFFIX


def checkpoint_exists(checkpoint_prefix: str | os.PathLike[str]) -> bool:
    """Whether a checkpoint file exists for ``checkpoint_prefix`` (a prefix or the file itself).

    Like TensorFlow's, this only checks existence; reading verifies the contents."""
    path = os.fspath(checkpoint_prefix)
    return os.path.isfile(checkpoint_file(path)) or (
        path.endswith(CHECKPOINT_SUFFIX) and os.path.isfile(path)
    )


def remove_checkpoint(checkpoint_prefix: str | os.PathLike[str]) -> None:
    """Delete the checkpoint file of ``checkpoint_prefix``; a missing file is not an error."""
    try:
        os.remove(checkpoint_file(checkpoint_prefix))
    except FileNotFoundError:
        pass
    except OSError as e:
        raise _os_error(e, f"deleting checkpoint {os.fspath(checkpoint_prefix)}") from e


def _resolve_existing(path: str | os.PathLike[str]) -> str:
    """The file to read for ``path`` (the file itself, or ``path + .safetensors``)."""
    path = os.fspath(path)
    if os.path.isfile(path):
        return path
    candidate = checkpoint_file(path)
    if candidate != path and os.path.isfile(candidate):
        return candidate
    looked = path if candidate == path else f"{path} or {candidate}"
    raise errors.NotFoundError(
        None, None, f"Failed to find any matching files for checkpoint {path} (looked for {looked})"
    )


# ----------------------------------------------------------------------------------------------
# Atomic writes


def _os_error(err: OSError, what: str) -> errors.OpError:
    cls: type[errors.OpError] = {
        errno.ENOENT: errors.NotFoundError,
        errno.EACCES: errors.PermissionDeniedError,
        errno.EPERM: errors.PermissionDeniedError,
        errno.EEXIST: errors.AlreadyExistsError,
        errno.ENOSPC: errors.ResourceExhaustedError,
        errno.EDQUOT: errors.ResourceExhaustedError,
    }.get(err.errno or 0, errors.UnknownError)
    return cls(None, None, f"Error {what}: {err}")


def _fsync_dir(directory: str) -> None:
    """fsync a directory so a rename in it is durable (best effort where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # e.g. EINVAL on filesystems that do not support fsync on directories
    finally:
        os.close(fd)


def _atomic_write(path: str, write_tmp: Callable[[str], None]) -> None:
    """Call ``write_tmp(tmp)`` for a temp file next to ``path``, fsync it, rename it over ``path``
    and fsync the directory. On any failure the temp file is removed and ``path`` is untouched."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise errors.NotFoundError(
            None, None, f"Parent directory of {path} doesn't exist, can't save."
        )
    tmp = os.path.join(
        directory, f".{os.path.basename(path)}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    )
    try:
        write_tmp(tmp)
        fd = os.open(tmp, os.O_RDWR)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise _os_error(e, f"writing {path}") from e
        raise
    _fsync_dir(directory)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably (temp file, fsync, rename, dir fsync)."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()

    _atomic_write(os.fspath(path), write)


# ----------------------------------------------------------------------------------------------
# Writing


def _safetensors() -> Any:
    """The ``safetensors`` package (an optional dependency: ``pip install rillet[checkpoints]``)."""
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as e:
        raise ImportError(
            "rillet checkpoints need the 'safetensors' package: pip install 'rillet[checkpoints]'"
        ) from e
    return safetensors


def _le_bytes(arr: np.ndarray) -> np.ndarray:
    """A 1-D uint8 view of ``arr``'s little-endian C-contiguous bytes (copies only if needed)."""
    arr = np.asarray(arr, dtype=arr.dtype.newbyteorder("<"), order="C")
    return arr.reshape(-1).view(np.uint8)


def _sha256(arr: np.ndarray) -> str:
    return hashlib.sha256(_le_bytes(arr)).hexdigest()


def _header_sha(entries: Mapping[str, str]) -> str:
    canon = json.dumps(
        {k: entries[k] for k in (_K_FORMAT, _K_VERSION, _K_TENSORS, _K_USER)},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _prepare(name: Any, value: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """(array to hand to safetensors, rillet header entry) for one tensor."""
    if not isinstance(name, str) or not name:
        raise errors.InvalidArgumentError(
            None, None, f"Checkpoint tensor names must be non-empty strings, got {name!r}"
        )
    if name == "__metadata__":
        raise errors.InvalidArgumentError(
            None, None, "'__metadata__' is reserved by safetensors and cannot name a tensor"
        )
    arr = np.asarray(value)
    dt = arr.dtype.name
    if dt not in _ST_CODE or arr.dtype.kind not in "biufc":
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Cannot save tensor {name!r} of dtype {arr.dtype}: checkpoints support "
            f"{', '.join(SUPPORTED_DTYPES)}",
        )
    arr = np.asarray(arr, dtype=arr.dtype.newbyteorder("<"), order="C")
    entry = {"dtype": dt, "shape": [int(d) for d in arr.shape], "sha256": _sha256(arr)}
    stored = arr
    if dt == "complex128":
        stored = arr.reshape(-1).view("<f8").reshape(arr.shape + (2,))
    return stored, entry


def write_checkpoint(
    path: str | os.PathLike[str],
    tensors: Mapping[str, Any],
    metadata: Mapping[str, Any] | None = None,
) -> str:
    """Write ``tensors`` (name -> array) and JSON-able ``metadata`` to the file ``path``.

    The write is atomic and durable (see module docstring); returns ``path``. Raises
    ``InvalidArgumentError`` for unsupported dtypes, bad names or non-JSON metadata and
    ``NotFoundError`` when the parent directory does not exist."""
    save_file = _safetensors().numpy.save_file
    path = os.fspath(path)
    stored: dict[str, np.ndarray] = {}
    entries: dict[str, dict[str, Any]] = {}
    for name, value in tensors.items():
        stored[name], entries[name] = _prepare(name, value)
    try:
        user = json.dumps(dict(metadata or {}), default=_json_default, sort_keys=True)
    except (TypeError, ValueError) as e:
        raise errors.InvalidArgumentError(
            None, None, f"Checkpoint metadata must be JSON-serializable: {e}"
        ) from e
    header = {
        _K_FORMAT: FORMAT_NAME,
        _K_VERSION: str(FORMAT_VERSION),
        _K_TENSORS: json.dumps(entries, sort_keys=True, separators=(",", ":")),
        _K_USER: user,
    }
    header[_K_HEADER_SHA] = _header_sha(header)

    def write(tmp: str) -> None:
        try:
            save_file(stored, tmp, metadata=header)
        except OSError:
            raise
        except Exception as e:  # safetensors.SafetensorError and friends
            raise errors.UnknownError(None, None, f"Failed to write checkpoint {path}: {e}") from e

    _atomic_write(path, write)
    return path


# ----------------------------------------------------------------------------------------------
# Reading


def _not_rillet(path: str, why: str) -> errors.OpError:
    return errors.DataLossError(
        None, None, f"Checkpoint file {path} is truncated or not a rillet checkpoint: {why}"
    )


def _valid_entry(entry: Any) -> bool:
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "sha256"}:
        return False
    shape, digest = entry["shape"], entry["sha256"]
    return (
        entry["dtype"] in _ST_CODE
        and isinstance(shape, list)
        and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        and isinstance(digest, str)
        and len(digest) == 64
        and all(c in "0123456789abcdef" for c in digest)
    )


class _Reader:
    """An open, header-verified checkpoint file."""

    def __init__(self, path: str, handle: Any, entries: dict[str, Any], user: dict[str, Any]):
        self.path = path
        self.handle = handle
        self.entries = entries
        self.user = user

    def read(self, name: str) -> np.ndarray:
        entry = self.entries.get(name)
        if entry is None:
            raise errors.NotFoundError(
                None, None, f"Key {name} not found in checkpoint {self.path}"
            )
        dt, shape = entry["dtype"], tuple(entry["shape"])
        want_shape = list(shape) + ([2] if dt == "complex128" else [])
        try:
            view = self.handle.get_slice(name)
            st_dtype, st_shape = view.get_dtype(), list(view.get_shape())
            if st_dtype != _ST_CODE[dt] or st_shape != want_shape:
                raise _not_rillet(
                    self.path,
                    f"tensor {name!r} is stored as {st_dtype}{st_shape} but its header says "
                    f"{dt}{list(shape)}",
                )
            arr = self.handle.get_tensor(name)
        except errors.OpError:
            raise
        except Exception as e:
            raise _not_rillet(self.path, f"cannot read tensor {name!r}: {e}") from e
        if dt == "complex128":
            arr = np.asarray(arr, order="C").reshape(-1).view(np.complex128).reshape(shape)
        arr = np.asarray(arr, dtype=np.dtype(dt))
        if arr.shape != shape:
            raise _not_rillet(self.path, f"tensor {name!r} has shape {arr.shape}, expected {shape}")
        digest = _sha256(arr)
        if digest != entry["sha256"]:
            raise errors.DataLossError(
                None,
                None,
                f"Checksum mismatch for tensor {name} in checkpoint {self.path}: the data is "
                f"corrupted (SHA-256 {digest}, expected {entry['sha256']})",
            )
        if not arr.flags.writeable:
            arr = arr.copy()
        return arr


@contextmanager
def _open(path: str | os.PathLike[str]) -> Iterator[_Reader]:
    """Open ``path`` (file or prefix) and verify rillet's header; yields a :class:`_Reader`."""
    safe_open = _safetensors().safe_open
    file = _resolve_existing(path)
    try:
        cm = safe_open(file, framework="np")
        handle = cm.__enter__()
    except FileNotFoundError as e:
        raise errors.NotFoundError(
            None, None, f"Failed to find any matching files for checkpoint {file}"
        ) from e
    except IsADirectoryError as e:
        raise errors.NotFoundError(None, None, f"Checkpoint {file} is a directory") from e
    except PermissionError as e:
        raise _os_error(e, f"opening checkpoint {file}") from e
    except Exception as e:  # SafetensorError: bad header length, bad JSON, size mismatch, ...
        raise _not_rillet(file, str(e)) from e
    try:
        yield _Reader(file, handle, *_verify_header(file, handle))
    finally:
        cm.__exit__(None, None, None)


def _verify_header(file: str, handle: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        meta = handle.metadata()
        keys = set(handle.keys())
    except Exception as e:
        raise _not_rillet(file, str(e)) from e
    if not isinstance(meta, dict) or meta.get(_K_FORMAT) != FORMAT_NAME:
        raise _not_rillet(file, f"no {FORMAT_NAME!r} format marker in the header")
    version = meta.get(_K_VERSION)
    if version != str(FORMAT_VERSION):
        if isinstance(version, str) and version.isdigit() and int(version) > FORMAT_VERSION:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Checkpoint {file} has format version {version}, newer than the version this "
                f"rillet reads ({FORMAT_VERSION}); upgrade rillet to read it",
            )
        raise _not_rillet(file, f"unknown format version {version!r}")
    if any(not isinstance(meta.get(k), str) for k in (_K_TENSORS, _K_USER, _K_HEADER_SHA)):
        raise _not_rillet(file, "incomplete rillet header")
    if _header_sha(meta) != meta[_K_HEADER_SHA]:
        raise errors.DataLossError(
            None, None, f"Checksum mismatch for the header of checkpoint {file}: it is corrupted"
        )
    try:
        entries = json.loads(meta[_K_TENSORS])
        user = json.loads(meta[_K_USER])
    except ValueError as e:
        raise _not_rillet(file, f"malformed rillet header: {e}") from e
    if (
        not isinstance(entries, dict)
        or not isinstance(user, dict)
        or not all(_valid_entry(v) for v in entries.values())
    ):
        raise _not_rillet(file, "malformed rillet header")
    if set(entries) != keys:
        raise _not_rillet(
            file, f"tensors {sorted(keys ^ set(entries))} are in only one of the two headers"
        )
    return entries, user


def read_checkpoint(
    path: str | os.PathLike[str], names: Iterable[str] | str | None = None
) -> dict[str, np.ndarray]:
    """Read tensors from the checkpoint at ``path`` (file or save prefix), verifying checksums.

    ``names`` selects tensors (all when None). Raises ``NotFoundError`` for a missing file or
    name and ``DataLossError`` for a corrupted, truncated or foreign file. Only the tensors read
    are checksummed."""
    with _open(path) as reader:
        if names is None:
            wanted = sorted(reader.entries)
        elif isinstance(names, str):
            wanted = [names]
        else:
            wanted = list(names)
        return {name: reader.read(name) for name in wanted}


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The caller metadata stored with the checkpoint at ``path`` (e.g. ``{"global_step": 100}``).

    The header is verified; tensor data is not read."""
    with _open(path) as reader:
        return reader.user


def list_tensors(path: str | os.PathLike[str]) -> list[tuple[str, tuple[int, ...], np.dtype]]:
    """``(name, shape, dtype)`` of every tensor in the checkpoint at ``path``, sorted by name.

    The header is verified; tensor data is not read."""
    with _open(path) as reader:
        return [
            (name, tuple(e["shape"]), np.dtype(e["dtype"]))
            for name, e in sorted(reader.entries.items())
        ]

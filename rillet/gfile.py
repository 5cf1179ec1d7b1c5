"""``gfile``: TensorFlow's file API on the local file system (TF 1.x ``tf.gfile`` names and
TF 2 ``tf.io.gfile`` names). Errors are TensorFlow's (``NotFoundError``, ...)."""

from __future__ import annotations

import errno
import glob as _glob
import os
import shutil
from collections.abc import Iterator
from typing import IO, Any

from rillet import errors

__all__ = [
    "Copy", "DeleteRecursively", "Exists", "FastGFile", "GFile", "Glob", "IsDirectory",
    "ListDirectory", "MakeDirs", "MkDir", "Open", "Remove", "Rename", "Stat", "Walk", "copy",
    "exists", "glob", "isdir", "listdir", "makedirs", "mkdir", "remove", "rename", "rmtree",
    "stat", "walk",
]


def _error(e: OSError, what: str) -> errors.OpError:
    cls = {errno.ENOENT: errors.NotFoundError, errno.EEXIST: errors.AlreadyExistsError,
           errno.EACCES: errors.PermissionDeniedError, errno.EPERM: errors.PermissionDeniedError,
           errno.ENOTEMPTY: errors.FailedPreconditionError,
           errno.ENOTDIR: errors.FailedPreconditionError,
           errno.EISDIR: errors.FailedPreconditionError,
           errno.ENOSPC: errors.ResourceExhaustedError}.get(e.errno or 0, errors.UnknownError)
    return cls(None, None, f"{what}: {e.strerror or e}")


class GFile:
    """A file object like Python's ``open`` (``mode`` "r", "w", "a", with "b" for bytes)."""

    def __init__(self, name: str, mode: str = "r"):
        self.name = os.fspath(name)
        self.mode = mode
        try:
            self._f: IO[Any] = open(self.name, mode)  # noqa: SIM115 - closed by close()
        except OSError as e:
            raise _error(e, self.name) from e

    def read(self, n: int = -1) -> Any:
        return self._f.read(n)

    def readline(self) -> Any:
        return self._f.readline()

    def readlines(self) -> list:
        return self._f.readlines()

    def write(self, data: Any) -> None:
        if "b" not in self.mode and isinstance(data, bytes):
            data = data.decode("utf-8")
        self._f.write(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def size(self) -> int:
        return os.path.getsize(self.name)

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        self._f.close()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._f)

    def __next__(self) -> Any:
        return next(self._f)

    def __enter__(self) -> GFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


Open = FastGFile = GFile


def Exists(filename: str) -> bool:  # noqa: N802 - TF's names
    return os.path.exists(os.fspath(filename))


def IsDirectory(dirname: str) -> bool:  # noqa: N802
    return os.path.isdir(os.fspath(dirname))


def MakeDirs(dirname: str) -> None:  # noqa: N802
    """Creates ``dirname`` and its parents; an existing directory is fine."""
    try:
        os.makedirs(os.fspath(dirname), exist_ok=True)
    except OSError as e:
        raise _error(e, os.fspath(dirname)) from e


def MkDir(dirname: str) -> None:  # noqa: N802
    try:
        os.mkdir(os.fspath(dirname))
    except OSError as e:
        raise _error(e, os.fspath(dirname)) from e


def Glob(filename: str) -> list[str]:  # noqa: N802
    return sorted(_glob.glob(os.fspath(filename)))


def ListDirectory(dirname: str) -> list[str]:  # noqa: N802
    try:
        return sorted(os.listdir(os.fspath(dirname)))
    except OSError as e:
        raise _error(e, os.fspath(dirname)) from e


def DeleteRecursively(dirname: str) -> None:  # noqa: N802
    """Deletes a directory tree (or a single file)."""
    path = os.fspath(dirname)
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    except OSError as e:
        raise _error(e, path) from e


def Remove(filename: str) -> None:  # noqa: N802
    try:
        os.remove(os.fspath(filename))
    except OSError as e:
        raise _error(e, os.fspath(filename)) from e


def Rename(oldname: str, newname: str, overwrite: bool = False) -> None:  # noqa: N802
    old, new = os.fspath(oldname), os.fspath(newname)
    if not overwrite and os.path.exists(new):
        raise errors.AlreadyExistsError(None, None, f"file already exists: {new}")
    try:
        os.replace(old, new)
    except OSError as e:
        raise _error(e, old) from e


def Copy(oldpath: str, newpath: str, overwrite: bool = False) -> None:  # noqa: N802
    old, new = os.fspath(oldpath), os.fspath(newpath)
    if not overwrite and os.path.exists(new):
        raise errors.AlreadyExistsError(None, None, f"file already exists: {new}")
    try:
        shutil.copyfile(old, new)
    except OSError as e:
        raise _error(e, old) from e


def Walk(top: str, in_order: bool = True) -> Iterator[tuple[str, list[str], list[str]]]:  # noqa: N802
    yield from os.walk(os.fspath(top), topdown=in_order)


class _FileStatistics:
    def __init__(self, st: os.stat_result, path: str):
        self.length = st.st_size
        self.mtime_nsec = st.st_mtime_ns
        self.is_directory = os.path.isdir(path)


def Stat(filename: str) -> _FileStatistics:  # noqa: N802
    path = os.fspath(filename)
    try:
        return _FileStatistics(os.stat(path), path)
    except OSError as e:
        raise _error(e, path) from e


# TF 2 (tf.io.gfile) names
exists, isdir, makedirs, mkdir, glob, listdir = Exists, IsDirectory, MakeDirs, MkDir, Glob, \
    ListDirectory
rmtree, remove, rename, copy, walk, stat = DeleteRecursively, Remove, Rename, Copy, Walk, Stat

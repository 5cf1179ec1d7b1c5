"""File-reading datasets."""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from rillet.data import structure as st
from rillet.data._errors import DataInvalidArgumentError, DataNotFoundError
from rillet.data.dataset import UNKNOWN, Dataset
from rillet.data.iterator import IteratorContext, close_iterator
from rillet.data.structure import TensorSpec

_COMPRESSION = {None: "", "": "", "GZIP": "GZIP", "ZLIB": "ZLIB"}


def _filename(x: Any) -> str:
    if isinstance(x, (bytes, np.bytes_)):
        return bytes(x).decode("utf-8")
    if isinstance(x, (str, os.PathLike)):
        return os.fspath(x)
    raise DataInvalidArgumentError(f"TextLineDataset: a filename must be a string, got {x!r}")


def _strip(line: bytes) -> bytes:
    if line.endswith(b"\n"):
        line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
    return line


def _read_lines(path: str, compression: str) -> Iterator[bytes]:
    try:
        if compression == "GZIP":
            f: Any = gzip.open(path, "rb")
        elif compression == "ZLIB":
            with open(path, "rb") as raw:
                data = zlib.decompress(raw.read())
            for line in data.splitlines(keepends=True):
                yield _strip(line)
            return
        else:
            f = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except FileNotFoundError:
        raise DataNotFoundError(f"{path}; No such file or directory") from None
    try:
        for line in f:
            yield _strip(line)
    finally:
        f.close()


class TextLineDataset(Dataset):
    """The lines of one or more text files, as ``bytes`` without the line terminator.

    ``filenames``: a string/path, a list of them, or a dataset of string scalars. Lines end with
    ``\\n`` or ``\\r\\n``; a last line without a terminator is included. ``compression_type``:
    ``None``/``""``, ``"GZIP"`` or ``"ZLIB"``. With ``num_parallel_reads`` > 1 the files' lines
    are interleaved (cycle of that many files, one line each), as in TensorFlow. A missing file
    raises ``NotFoundError`` (also ``FileNotFoundError``) when iterated.
    """

    def __init__(
        self,
        filenames: Any,
        compression_type: str | None = None,
        buffer_size: int | None = None,
        num_parallel_reads: int | None = None,
    ):
        super().__init__()
        if compression_type not in _COMPRESSION:
            raise ValueError(f"TextLineDataset: unsupported compression_type {compression_type!r}")
        self._compression = _COMPRESSION[compression_type]
        if isinstance(filenames, Dataset):
            self._files: Any = filenames
        else:
            if isinstance(filenames, (str, bytes, os.PathLike, np.bytes_, np.str_)):
                filenames = [filenames]
            self._files = [_filename(f) for f in np.asarray(filenames, dtype=object).ravel()]
        self._parallel = 1 if num_parallel_reads is None else int(num_parallel_reads)
        if self._parallel == -1:
            self._parallel = max(1, os.cpu_count() or 1)
        if self._parallel < 1:
            raise ValueError("TextLineDataset: num_parallel_reads must be positive")

    def _inputs(self) -> list[Dataset]:
        return [self._files] if isinstance(self._files, Dataset) else []

    def _static_spec(self) -> Any:
        return TensorSpec((), st.OBJECT)

    def _cardinality(self) -> int:
        return 0 if isinstance(self._files, list) and not self._files else UNKNOWN

    def _file_iter(self, ctx: IteratorContext) -> Iterator[str]:
        if isinstance(self._files, Dataset):
            it = self._files._iterator(ctx)
            try:
                for f in it:
                    yield _filename(f)
            finally:
                close_iterator(it)
        else:
            yield from self._files

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        if self._parallel > 1:
            files = Dataset.from_generator(lambda: self._file_iter(ctx), output_types=object)
            comp = self._compression
            lines = files.interleave(
                lambda f: _LinesDataset(_filename(f), comp), cycle_length=self._parallel
            )
            return lines._iterator(ctx)

        def gen() -> Iterator[bytes]:
            for path in self._file_iter(ctx):
                yield from _read_lines(path, self._compression)

        return gen()


class _LinesDataset(Dataset):
    """The lines of a single file (used by ``num_parallel_reads``)."""

    def __init__(self, path: str, compression: str):
        super().__init__()
        self._path, self._compression = path, compression

    def _static_spec(self) -> Any:
        return TensorSpec((), st.OBJECT)

    def _iterator(self, ctx: IteratorContext) -> Iterator[Any]:
        return _read_lines(self._path, self._compression)

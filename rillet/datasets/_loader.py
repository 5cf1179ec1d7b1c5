"""Shared machinery of the dataset loaders: cache directory, verified downloads, IDX parsing.

Everything here is pure NumPy + the standard library. Downloads go through :func:`_fetch`
(a module-level function so tests can replace it), are checked against a SHA-256 digest when
one is known, and are written atomically (temporary file in the target directory, then
``os.replace``), so an interrupted download never leaves a half-written file under the final
name.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import tempfile
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "ChecksumError",
    "DatasetNotFoundError",
    "DatasetSpec",
    "RemoteFile",
    "data_home",
    "ensure_files",
    "load_idx_dataset",
    "parse_idx",
    "read_idx",
]

#: Environment variable naming the root of the dataset cache (default ``~/.rillet/datasets``).
DATA_ENV_VAR = "RILLET_DATA"

IMAGE_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABEL_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension

# IDX type codes (third byte of the magic number) -> big-endian NumPy dtype.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class DatasetNotFoundError(FileNotFoundError):
    """Dataset files are neither on disk nor downloadable (e.g. offline).

    A :class:`FileNotFoundError` subclass; ``directory`` and ``missing`` name where the loader
    looked and which files it could not find.
    """

    def __init__(self, message: str, directory: str | os.PathLike[str] = "",
                 missing: Sequence[str] = ()):
        super().__init__(message)
        self.directory = str(directory)
        self.missing = tuple(missing)

    def __str__(self) -> str:
        return str(self.args[0])


class ChecksumError(ValueError):
    """A downloaded or cached file does not have the expected SHA-256 digest."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its name and (when known) the SHA-256 of its bytes."""

    name: str
    sha256: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """A downloadable dataset: cache sub-directory, files and base URLs tried in order."""

    name: str
    files: tuple[RemoteFile, ...]
    mirrors: tuple[str, ...]


def data_home() -> Path:
    """Root of the dataset cache: ``$RILLET_DATA`` if set, else ``~/.rillet/datasets``."""
    env = os.environ.get(DATA_ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path("~/.rillet/datasets").expanduser()


def _fetch(url: str, timeout: float = 60.0) -> bytes:
    """Return the body of ``url`` (tests monkeypatch this to run offline)."""
    request = urllib.request.Request(url, headers={"User-Agent": "rillet-datasets/0.1"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _join_url(base: str, name: str) -> str:
    return base if base.endswith(name) else base.rstrip("/") + "/" + name


def _download(file: RemoteFile, directory: Path, mirrors: Sequence[str]) -> list[str]:
    """Download ``file`` into ``directory`` from the first mirror that works.

    Returns an empty list on success, otherwise one message per failed network attempt.
    Raises :class:`ChecksumError` when no mirror worked and at least one returned bad bytes.
    """
    network_errors: list[str] = []
    bad_checksums: list[str] = []
    for base in mirrors:
        url = _join_url(base, file.name)
        try:
            data = _fetch(url)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            network_errors.append(f"{url}: {exc}")
            continue
        if file.sha256 is not None:
            got = hashlib.sha256(data).hexdigest()
            if got != file.sha256:
                bad_checksums.append(f"{url}: sha256 {got} (expected {file.sha256})")
                continue
        _atomic_write(directory / file.name, data)
        return []
    if bad_checksums:
        raise ChecksumError(
            f"downloaded {file.name} does not match its published SHA-256 checksum; "
            "nothing was written to " + str(directory) + ":\n  " + "\n  ".join(bad_checksums)
        )
    return network_errors


def ensure_files(spec: DatasetSpec, directory: str | os.PathLike[str] | None = None, *,
                 download: bool = True, verify: bool = True,
                 extra_mirrors: Sequence[str] = ()) -> dict[str, Path]:
    """Make sure every file of ``spec`` is in ``directory`` and return ``{name: path}``.

    ``directory=None`` means the cache directory ``data_home() / spec.name``. Missing files are
    downloaded when ``download`` is true (trying ``extra_mirrors`` first, then the spec's
    mirrors). With ``verify``, files already present are checked against their known SHA-256.

    Raises :class:`DatasetNotFoundError` naming the directory and the missing files when they
    cannot be obtained, and :class:`ChecksumError` on a digest mismatch.
    """
    root = Path(directory).expanduser() if directory is not None else data_home() / spec.name
    paths = {f.name: root / f.name for f in spec.files}
    missing = [f for f in spec.files if not paths[f.name].is_file()]

    if verify:
        for f in spec.files:
            if f.sha256 is not None and f not in missing:
                got = sha256_of(paths[f.name])
                if got != f.sha256:
                    raise ChecksumError(
                        f"{paths[f.name]} has SHA-256 {got}, expected {f.sha256}; the file is "
                        "corrupt or not the original. Delete it so it is downloaded again."
                    )

    if missing and download:
        mirrors = tuple(extra_mirrors) + tuple(m for m in spec.mirrors if m not in extra_mirrors)
        still_missing: list[RemoteFile] = []
        errors: list[str] = []
        for f in missing:
            if errors:  # the network already failed for an earlier file: don't retry
                still_missing.append(f)
                continue
            failures = _download(f, root, mirrors)
            if failures:
                still_missing.append(f)
                errors.extend(failures)
        if still_missing:
            names = [f.name for f in still_missing]
            raise DatasetNotFoundError(
                f"{spec.name}: could not find {', '.join(names)} in {root} and could not "
                "download them (offline?). Copy the files into that directory, or set "
                f"${DATA_ENV_VAR} to a directory containing '{spec.name}/<files>'.\n"
                "Download attempts:\n  " + "\n  ".join(errors),
                directory=root, missing=names,
            )
    elif missing:
        names = [f.name for f in missing]
        raise DatasetNotFoundError(
            f"{spec.name}: {root} is missing {', '.join(names)}", directory=root, missing=names
        )
    return paths


def gunzip_if_needed(raw: bytes, source: object) -> bytes:
    """Decompress ``raw`` when it is gzip data; a corrupt stream is a ``ValueError``."""
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ValueError(
            f"{source}: corrupt or truncated gzip file ({exc}). Delete it and fetch it again."
        ) from exc


def parse_idx(raw: bytes, source: object = "<bytes>",
              expected_magic: int | None = None) -> np.ndarray:
    """Parse uncompressed IDX bytes into a writable native-order array.

    Validates the magic number (``expected_magic``, e.g. 2051 for images, 2049 for labels) and
    that the payload size matches the header exactly; raises ``ValueError`` naming ``source``
    otherwise.
    """
    if len(raw) < 4:
        raise ValueError(f"{source}: not an IDX file (only {len(raw)} bytes)")
    magic = int(np.frombuffer(raw, dtype=">u4", count=1)[0])
    zero, type_code, ndim = magic >> 16, (magic >> 8) & 0xFF, magic & 0xFF
    if zero != 0 or type_code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(f"{source}: bad IDX magic number {magic} (0x{magic:08x})")
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(f"{source}: IDX magic number is {magic}, expected {expected_magic}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{source}: truncated IDX header ({len(raw)} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[type_code]
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "has trailing bytes"
        raise ValueError(
            f"{source}: IDX data {what}: header says shape {dims} ({expected} bytes in all) "
            f"but the file holds {len(raw)} bytes"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike[str], expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a writable native-order array.

    See :func:`parse_idx`; errors are ``ValueError`` naming the file.
    """
    path = Path(path)
    return parse_idx(gunzip_if_needed(path.read_bytes(), path), path, expected_magic)


def load_idx_pair(images_path: Path, labels_path: Path,
                  num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Read one ``(images, labels)`` split of an MNIST-style dataset and cross-check them."""
    images = read_idx(images_path, IMAGE_MAGIC)
    labels = read_idx(labels_path, LABEL_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{images_path} holds {images.shape[0]} images but {labels_path} "
            f"holds {labels.shape[0]} labels"
        )
    if labels.size and int(labels.max()) >= num_classes:
        raise ValueError(f"{labels_path}: label {int(labels.max())} outside 0..{num_classes - 1}")
    return images, labels


_SPLIT_FILES = (
    ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
)

Split = tuple[np.ndarray, np.ndarray]


def _local_file(directory: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (directory / name).is_file():
            return directory / name
    return None


def load_idx_dataset(spec: DatasetSpec,
                     path: str | os.PathLike[str] | None = None) -> tuple[Split, Split]:
    """Keras-style ``((x_train, y_train), (x_test, y_test))`` for an MNIST-layout dataset.

    ``path`` is a directory holding the four IDX files (``.gz`` or uncompressed; no download,
    no checksum test: structure is still validated) or a Keras-style ``.npz`` file with
    ``x_train``, ``y_train``, ``x_test`` and ``y_test``. ``None`` uses the cache directory
    ``data_home()/spec.name``, downloading (with SHA-256 checks) what is missing.
    """
    if path is not None and Path(path).expanduser().is_file():
        return _load_npz(Path(path).expanduser())
    if path is None:
        files = ensure_files(spec)
        found = {stem: files[stem + ".gz"] for pair in _SPLIT_FILES for stem in pair}
    else:
        root = Path(path).expanduser()
        found_or_none = {stem: _local_file(root, stem) for pair in _SPLIT_FILES for stem in pair}
        missing = [stem + ".gz" for stem, p in found_or_none.items() if p is None]
        if missing:
            raise DatasetNotFoundError(
                f"{spec.name}: directory {root} is missing {', '.join(missing)} "
                "(pass path=None to use the download cache)",
                directory=root, missing=missing,
            )
        found = {stem: p for stem, p in found_or_none.items() if p is not None}
    (tr_x, tr_y), (te_x, te_y) = ((found[i], found[lab]) for i, lab in _SPLIT_FILES)
    return load_idx_pair(tr_x, tr_y), load_idx_pair(te_x, te_y)


def _load_npz(path: Path) -> tuple[Split, Split]:
    with np.load(path, allow_pickle=False) as f:
        try:
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
        except KeyError as exc:
            raise ValueError(
                f"{path}: expected arrays x_train, y_train, x_test, y_test; found {f.files}"
            ) from exc

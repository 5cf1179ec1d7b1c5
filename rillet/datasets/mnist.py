"""MNIST handwritten digits (LeCun, Cortes, Burges): 60,000 train and 10,000 test 28x28 images.

``load_data()`` mirrors ``tf.keras.datasets.mnist.load_data`` but reads the four original IDX
``.gz`` files, so the same directory also serves
:func:`rillet.examples.tutorials.mnist.input_data.read_data_sets`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rillet.datasets._loader import DatasetSpec, RemoteFile, ensure_files, load_idx_dataset

__all__ = ["FILES", "MIRRORS", "SPEC", "download", "load_data"]

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"

#: The four original files with the SHA-256 of their (gzip-compressed) bytes.
FILES = (
    RemoteFile(TRAIN_IMAGES, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    RemoteFile(TRAIN_LABELS, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    RemoteFile(TEST_IMAGES, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    RemoteFile(TEST_LABELS, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
)

#: Base URLs tried in order.
MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)

SPEC = DatasetSpec(name="mnist", files=FILES, mirrors=MIRRORS)

Split = tuple[np.ndarray, np.ndarray]


def load_data(path: str | os.PathLike[str] | None = None) -> tuple[Split, Split]:
    """Return ``(x_train, y_train), (x_test, y_test)``: uint8 ``(N, 28, 28)`` images, uint8 labels.

    ``path``: a directory holding the four IDX files (read as they are, no download), or a
    Keras ``mnist.npz``. ``None``: the cache ``$RILLET_DATA/mnist`` (default
    ``~/.rillet/datasets/mnist``), downloading missing files with SHA-256 verification.
    Raises :class:`rillet.datasets.DatasetNotFoundError` (a ``FileNotFoundError``) when files
    are missing and cannot be downloaded, ``ValueError`` for a corrupt file.
    """
    return load_idx_dataset(SPEC, path)


def download(directory: str | os.PathLike[str] | None = None) -> Path:
    """Download (if needed) and verify the MNIST files into ``directory``; return it.

    ``None`` means the cache directory.
    """
    paths = ensure_files(SPEC, directory)
    return next(iter(paths.values())).parent

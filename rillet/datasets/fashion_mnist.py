"""Fashion-MNIST (Zalando Research): 70,000 28x28 grayscale images of clothing in 10 classes.

Same file names and IDX layout as MNIST. The SHA-256 digests below are the published ones
(as listed by tensorflow-datasets); they could not be checked against local copies when this
module was written, so a mismatch raises :class:`rillet.datasets.ChecksumError` rather than
being silently accepted.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rillet.datasets._loader import DatasetSpec, RemoteFile, ensure_files, load_idx_dataset

__all__ = ["CLASS_NAMES", "FILES", "MIRRORS", "SPEC", "download", "load_data"]

#: Label ``i`` is ``CLASS_NAMES[i]``.
CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

FILES = (
    RemoteFile("train-images-idx3-ubyte.gz",
               "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc"),
    RemoteFile("train-labels-idx1-ubyte.gz",
               "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc"),
    RemoteFile("t10k-images-idx3-ubyte.gz",
               "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229"),
    RemoteFile("t10k-labels-idx1-ubyte.gz",
               "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf"),
)

MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
)

SPEC = DatasetSpec(name="fashion_mnist", files=FILES, mirrors=MIRRORS)

Split = tuple[np.ndarray, np.ndarray]


def load_data(path: str | os.PathLike[str] | None = None) -> tuple[Split, Split]:
    """Return ``(x_train, y_train), (x_test, y_test)``: uint8 ``(N, 28, 28)`` images, uint8 labels.

    Same conventions as :func:`rillet.datasets.mnist.load_data`; the cache directory is
    ``$RILLET_DATA/fashion_mnist`` (default ``~/.rillet/datasets/fashion_mnist``).
    """
    return load_idx_dataset(SPEC, path)


def download(directory: str | os.PathLike[str] | None = None) -> Path:
    """Download (if needed) and verify the Fashion-MNIST files into ``directory``; return it."""
    paths = ensure_files(SPEC, directory)
    return next(iter(paths.values())).parent

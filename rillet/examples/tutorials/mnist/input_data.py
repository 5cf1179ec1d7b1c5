"""TF 1.x's ``tensorflow.examples.tutorials.mnist.input_data``, on NumPy.

``read_data_sets("MNIST_data/", one_hot=True)`` returns ``Datasets(train, validation, test)``
whose ``DataSet.next_batch`` has TF's exact epoch semantics: the first epoch is shuffled on the
first call, and a batch that crosses an epoch boundary is the rest of the old epoch followed by
the start of a freshly shuffled new one.

Differences from TF (all harmless for tutorial code):

* Files missing from ``train_dir`` are taken from rillet's download cache
  (``$RILLET_DATA/mnist``, default ``~/.rillet/datasets/mnist``; downloaded and SHA-256-checked
  when needed) instead of being downloaded into ``train_dir``. Only an unknown ``source_url``
  is downloaded into ``train_dir`` (unchecked), as TF did.
* Shuffling uses a per-``DataSet`` ``numpy.random.RandomState(seed)`` rather than reseeding the
  global NumPy generator.
* One-hot labels are float32 (TF: float64); dense labels stay uint8 as in TF.
* Fake batches are NumPy arrays instead of Python lists.
"""

from __future__ import annotations

import collections
import os
import warnings
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from rillet.datasets import fashion_mnist, mnist
from rillet.datasets._loader import (
    IMAGE_MAGIC,
    LABEL_MAGIC,
    DatasetSpec,
    RemoteFile,
    ensure_files,
    gunzip_if_needed,
    parse_idx,
)

__all__ = [
    "DEFAULT_SOURCE_URL",
    "DataSet",
    "Datasets",
    "dense_to_one_hot",
    "extract_images",
    "extract_labels",
    "read_data_sets",
]

DEFAULT_SOURCE_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

# URLs whose files are known (so they can be cached and checksum-verified).
_MNIST_URLS = frozenset((DEFAULT_SOURCE_URL, "http://yann.lecun.com/exdb/mnist/") + mnist.MIRRORS)

Datasets = collections.namedtuple("Datasets", ["train", "validation", "test"])


def _file_name(f: Any) -> str:
    return str(getattr(f, "name", "<stream>"))


def extract_images(f: BinaryIO) -> np.ndarray:
    """Read an IDX image file object (gzip or plain) into a uint8 ``[N, rows, cols, 1]`` array.

    Raises ``ValueError`` (naming the file) on a bad magic number or a truncated file.
    """
    name = _file_name(f)
    print("Extracting", name)
    raw = gunzip_if_needed(f.read(), name)
    images = parse_idx(raw, name, IMAGE_MAGIC)
    return images[..., np.newaxis]


def dense_to_one_hot(labels_dense: np.ndarray, num_classes: int) -> np.ndarray:
    """Convert class labels from scalars to float32 one-hot vectors."""
    labels_dense = np.asarray(labels_dense).reshape(-1)
    labels_one_hot = np.zeros((labels_dense.shape[0], num_classes), dtype=np.float32)
    labels_one_hot[np.arange(labels_dense.shape[0]), labels_dense.astype(np.intp)] = 1.0
    return labels_one_hot


def extract_labels(f: BinaryIO, one_hot: bool = False, num_classes: int = 10) -> np.ndarray:
    """Read an IDX label file object into uint8 ``[N]`` labels (or float32 ``[N, num_classes]``)."""
    name = _file_name(f)
    print("Extracting", name)
    labels = parse_idx(gunzip_if_needed(f.read(), name), name, LABEL_MAGIC)
    if labels.size and int(labels.max()) >= num_classes:
        raise ValueError(f"{name}: label {int(labels.max())} outside 0..{num_classes - 1}")
    if one_hot:
        return dense_to_one_hot(labels, num_classes)
    return labels


def _as_image_dtype(dtype: Any) -> np.dtype:
    """Accept 'float32'/'uint8', NumPy dtypes, or framework dtypes with ``as_numpy_dtype``."""
    candidate = getattr(dtype, "as_numpy_dtype", dtype)
    try:
        np_dtype = np.dtype(candidate)
    except TypeError:
        try:
            np_dtype = np.dtype(getattr(dtype, "name", str(dtype)))
        except TypeError:
            np_dtype = None
    if np_dtype not in (np.dtype(np.uint8), np.dtype(np.float32)):
        raise TypeError(f"Invalid image dtype {dtype!r}, expected uint8 or float32")
    return np_dtype


class DataSet:
    """Images and labels with TF 1.x's ``next_batch`` (see the module docstring)."""

    def __init__(self, images: Any, labels: Any, fake_data: bool = False,
                 one_hot: bool = False, dtype: Any = "float32", reshape: bool = True,
                 seed: int | None = None):
        """Wrap ``images`` ``[N, rows, cols(, 1)]`` and ``labels`` ``[N(, classes)]``.

        With ``reshape`` images become ``[N, rows * cols]``; with float32 ``dtype`` they are
        scaled from [0, 255] to [0.0, 1.0].
        """
        np_dtype = _as_image_dtype(dtype)
        self._rng = np.random.RandomState(seed)
        self._fake_data = fake_data
        self.one_hot = one_hot
        if fake_data:
            self._num_examples = 10000
            images = np.asarray(images, dtype=np_dtype)
            labels = np.asarray(labels)
        else:
            images = np.asarray(images)
            labels = np.asarray(labels)
            if images.shape[0] != labels.shape[0]:
                raise ValueError(
                    f"images.shape: {images.shape} labels.shape: {labels.shape} "
                    "(different numbers of examples)"
                )
            self._num_examples = int(images.shape[0])
            if reshape and images.ndim > 2:
                if images.ndim == 4 and images.shape[3] != 1:
                    raise ValueError(f"reshape needs single-channel images, got {images.shape}")
                images = images.reshape(images.shape[0], images.shape[1] * images.shape[2])
            if np_dtype == np.float32:
                # Convert from [0, 255] -> [0.0, 1.0] exactly as TF did (float32 arithmetic).
                images = images.astype(np.float32)
                np.multiply(images, np.float32(1.0 / 255.0), out=images)
        self._images = images
        self._labels = labels
        self._epochs_completed = 0
        self._index_in_epoch = 0

    @property
    def images(self) -> np.ndarray:
        """All images, in the current (shuffled) order."""
        return self._images

    @property
    def labels(self) -> np.ndarray:
        """All labels, aligned with :attr:`images`."""
        return self._labels

    @property
    def num_examples(self) -> int:
        """Number of examples (10000 for fake data)."""
        return self._num_examples

    @property
    def epochs_completed(self) -> int:
        """How many times ``next_batch`` has gone past the end of the data."""
        return self._epochs_completed

    def _fake_batch(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        images = np.ones((batch_size, 784), dtype=np.float32)
        if self.one_hot:
            labels = np.zeros((batch_size, 10), dtype=np.float32)
            labels[:, 0] = 1.0
        else:
            labels = np.zeros((batch_size,), dtype=np.uint8)
        return images, labels

    def next_batch(self, batch_size: int, fake_data: bool = False,
                   shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Return the next ``batch_size`` examples as ``(images, labels)``.

        The data is shuffled before the first batch (if ``shuffle``). A batch crossing the end
        of the data is the rest of this epoch followed by the start of the next (reshuffled)
        one, and ``epochs_completed`` goes up by one.
        """
        if fake_data or self._fake_data:
            return self._fake_batch(batch_size)
        batch_size = int(batch_size)
        if not 1 <= batch_size <= self._num_examples:
            raise ValueError(
                f"batch_size must be between 1 and num_examples ({self._num_examples}), "
                f"got {batch_size}"
            )
        start = self._index_in_epoch
        # Shuffle for the first epoch.
        if self._epochs_completed == 0 and start == 0 and shuffle:
            perm0 = np.arange(self._num_examples)
            self._rng.shuffle(perm0)
            self._images = self._images[perm0]
            self._labels = self._labels[perm0]
        if start + batch_size > self._num_examples:
            # Finished an epoch: take what is left of it ...
            self._epochs_completed += 1
            rest_num_examples = self._num_examples - start
            images_rest_part = self._images[start:self._num_examples]
            labels_rest_part = self._labels[start:self._num_examples]
            if shuffle:
                perm = np.arange(self._num_examples)
                self._rng.shuffle(perm)
                self._images = self._images[perm]
                self._labels = self._labels[perm]
            # ... and the start of the next one.
            self._index_in_epoch = batch_size - rest_num_examples
            end = self._index_in_epoch
            images_new_part = self._images[0:end]
            labels_new_part = self._labels[0:end]
            return (np.concatenate((images_rest_part, images_new_part), axis=0),
                    np.concatenate((labels_rest_part, labels_new_part), axis=0))
        self._index_in_epoch += batch_size
        end = self._index_in_epoch
        return self._images[start:end], self._labels[start:end]

    def __repr__(self) -> str:
        return (f"DataSet(num_examples={self._num_examples}, images={self._images.shape}, "
                f"labels={self._labels.shape})")


def _normalise_url(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _locate_files(train_dir: str | os.PathLike[str], source_url: str) -> dict[str, Path]:
    """Paths of the four files: ``train_dir`` if it has all of them, else the download cache."""
    root = Path(train_dir).expanduser()
    present = [name for name in _FILES if (root / name).is_file()]
    if len(present) == len(_FILES):
        return {name: root / name for name in _FILES}
    url = _normalise_url(source_url)
    spec: DatasetSpec | None
    if url in _MNIST_URLS:
        spec = mnist.SPEC
    elif url in {_normalise_url(m) for m in fashion_mnist.MIRRORS}:
        spec = fashion_mnist.SPEC
    else:
        spec = None
    if spec is None:
        # Unknown source: TF's behaviour, download what is missing into train_dir (no checksum).
        custom = DatasetSpec(name="custom", files=tuple(RemoteFile(n) for n in _FILES),
                             mirrors=(url,))
        return ensure_files(custom, root, verify=False)
    if present:
        warnings.warn(
            f"{root} holds only {', '.join(present)}; reading all four {spec.name} files from the "
            "download cache instead",
            stacklevel=3,
        )
    return ensure_files(spec, None, extra_mirrors=(url,))


def read_data_sets(train_dir: str | os.PathLike[str], fake_data: bool = False,
                   one_hot: bool = False, dtype: Any = "float32", reshape: bool = True,
                   validation_size: int = 5000, seed: int | None = None,
                   source_url: str = DEFAULT_SOURCE_URL) -> Datasets:
    """Load MNIST as TF 1.x did: ``Datasets(train, validation, test)`` of :class:`DataSet`.

    The first ``validation_size`` training examples form ``validation`` (55,000 / 5,000 /
    10,000 by default). Files are read from ``train_dir`` when all four are there, otherwise
    from the download cache (see the module docstring).
    """
    if fake_data:
        def fake() -> DataSet:
            return DataSet([], [], fake_data=True, one_hot=one_hot, dtype=dtype, seed=seed)

        return Datasets(train=fake(), validation=fake(), test=fake())

    if not source_url:
        source_url = DEFAULT_SOURCE_URL
    paths = _locate_files(train_dir, source_url)

    with open(paths[TRAIN_IMAGES], "rb") as f:
        train_images = extract_images(f)
    with open(paths[TRAIN_LABELS], "rb") as f:
        train_labels = extract_labels(f, one_hot=one_hot)
    with open(paths[TEST_IMAGES], "rb") as f:
        test_images = extract_images(f)
    with open(paths[TEST_LABELS], "rb") as f:
        test_labels = extract_labels(f, one_hot=one_hot)

    if not 0 <= validation_size <= len(train_images):
        raise ValueError(
            f"Validation size should be between 0 and {len(train_images)}. "
            f"Received: {validation_size}."
        )

    validation_images = train_images[:validation_size]
    validation_labels = train_labels[:validation_size]
    train_images = train_images[validation_size:]
    train_labels = train_labels[validation_size:]

    options: dict[str, Any] = {"dtype": dtype, "reshape": reshape, "seed": seed}
    train = DataSet(train_images, train_labels, **options)
    validation = DataSet(validation_images, validation_labels, **options)
    test = DataSet(test_images, test_labels, **options)
    return Datasets(train=train, validation=validation, test=test)


def load_mnist(train_dir: str | os.PathLike[str] = "MNIST-data") -> Datasets:
    """TF's shorthand: ``read_data_sets(train_dir)``."""
    return read_data_sets(train_dir)

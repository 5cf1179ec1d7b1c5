"""Small datasets as NumPy arrays, Keras style: ``(x_train, y_train), (x_test, y_test)``.

``mnist`` and ``fashion_mnist`` read the original IDX files from a directory or a cache
(``$RILLET_DATA``, default ``~/.rillet/datasets``), downloading and SHA-256-checking them when
needed; ``digits`` wraps scikit-learn's bundled 8x8 digits. See docs/datasets.md.
"""

from rillet.datasets import digits, fashion_mnist, mnist
from rillet.datasets._loader import (
    ChecksumError,
    DatasetNotFoundError,
    data_home,
    read_idx,
)

__all__ = [
    "ChecksumError",
    "DatasetNotFoundError",
    "data_home",
    "digits",
    "fashion_mnist",
    "mnist",
    "read_idx",
]

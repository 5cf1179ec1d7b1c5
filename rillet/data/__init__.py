"""``tf.data``-style input pipelines: :class:`Dataset`, :class:`TextLineDataset`, ``AUTOTUNE``.

Datasets run as plain Python iterators over NumPy elements; graph-mode iterators and eager
``for`` loops wrap :meth:`Dataset.make_python_iterator`.
"""

from rillet.data import experimental
from rillet.data._errors import DataInvalidArgumentError, DataNotFoundError, DataTypeError
from rillet.data.dataset import AUTOTUNE, INFINITE, UNKNOWN, Dataset, set_seed_resolver
from rillet.data.iterator import DatasetIterator, IteratorContext
from rillet.data.readers import TextLineDataset
from rillet.data.structure import TensorSpec, register_symbolic_type

__all__ = [
    "AUTOTUNE",
    "INFINITE",
    "UNKNOWN",
    "DataInvalidArgumentError",
    "DataNotFoundError",
    "DataTypeError",
    "Dataset",
    "DatasetIterator",
    "IteratorContext",
    "TensorSpec",
    "TextLineDataset",
    "experimental",
    "register_symbolic_type",
    "set_seed_resolver",
]

"""``EagerTensor``: a NumPy value with the Tensor interface, produced by ops run eagerly.

An EagerTensor is immutable and ``.op``-less (as in TensorFlow, ``op``, ``name`` and ``graph``
are meaningless when executing eagerly). Tapes map tensors to the records that produced them;
while a tape runs the gradient walker, ``t.op`` answers from that map.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet.graph import _operators, install_operators
from rillet.shapes import TensorShape, as_shape

CPU_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"
_new_shape = object.__new__


class _Walk(threading.local):
    """``producers``: the walking tape's ``{id(tensor): record}`` while the gradient walker
    (``gradients.backprop``) inspects ``t.op``; None otherwise."""

    producers: dict | None = None


walk = _Walk()

# Incremented whenever a tensor's *value* is read. Eager dispatch compares it around shape
# inference: inference that never looked at values can be cached by input shapes and dtypes.
value_reads = [0]


def _count() -> None:
    value_reads[0] += 1


class EagerTensor:
    """A concrete tensor: ``.numpy()`` gives its value; works wherever a Tensor is accepted."""

    __slots__ = ("_value", "dtype", "_shape", "_var", "__weakref__")
    __array_priority__ = 100

    def __init__(self, value: Any, dtype: _dt.DType):
        self._value = value
        self.dtype = dtype
        self._shape = None
        self._var = None

    # --- value --------------------------------------------------------------------------
    def numpy(self) -> Any:
        """The value as a NumPy array (a NumPy scalar for 0-d tensors); shares memory."""
        value_reads[0] += 1
        v = self._value
        return v[()] if v.ndim == 0 else v

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        value_reads[0] += 1
        if copy:
            return np.array(self._value, dtype=dtype, copy=True)
        return np.asarray(self._value, dtype=dtype)

    def __bool__(self) -> bool:
        _count()
        return bool(self._value)

    def __float__(self) -> float:
        _count()
        return float(self._value)

    def __int__(self) -> int:
        _count()
        return int(self._value)

    def __index__(self) -> int:
        _count()
        if not self.dtype.is_integer:
            raise TypeError(f"Only integer tensors can be used as an index, got "
                            f"{self.dtype.name}")
        return int(self._value)

    def __complex__(self) -> complex:
        _count()
        return complex(self._value)

    def __format__(self, spec: str) -> str:
        return format(self.numpy(), spec)

    def __len__(self) -> int:
        if self._value.ndim == 0:
            raise TypeError("Scalar tensor has no `len()`")
        return self._value.shape[0]

    def __iter__(self) -> Iterator:
        v = self._value
        if v.ndim == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        return iter(_operators["unstack"](self, v.shape[0]))

    def __reduce__(self) -> tuple:
        return _rebuild, (np.asarray(self._value), self.dtype.name)

    def __copy__(self) -> EagerTensor:
        return self

    def __deepcopy__(self, memo: dict) -> EagerTensor:
        return self

    # --- static information -------------------------------------------------------------
    @property
    def shape(self) -> TensorShape:
        s = self._shape
        if s is None:
            s = self._shape = _new_shape(TensorShape)
            s._dims = self._value.shape  # a tuple of ints: no per-dimension conversion
        return s

    def get_shape(self) -> TensorShape:
        return self.shape

    def set_shape(self, shape: Any) -> None:
        """Checks that ``shape`` is compatible with the (known) shape; raises ValueError if
        not."""
        if not self.shape.is_compatible_with(as_shape(shape)):
            raise ValueError(f"Tensor's shape {self.shape} is not compatible with supplied "
                             f"shape {as_shape(shape)}")

    @property
    def ndim(self) -> int:
        return self._value.ndim

    @property
    def device(self) -> str:
        return CPU_DEVICE

    @property
    def op(self) -> Any:
        p = walk.producers
        if p is not None:
            return p.get(id(self))
        raise AttributeError("Tensor.op is meaningless when eager execution is enabled.")

    @property
    def name(self) -> str:
        raise AttributeError("Tensor.name is meaningless when eager execution is enabled.")

    @property
    def graph(self) -> Any:
        raise AttributeError("Tensor.graph is meaningless when eager execution is enabled.")

    def eval(self, feed_dict: Any = None, session: Any = None) -> Any:
        return self.numpy()

    def cpu(self) -> EagerTensor:
        return self

    def _shape_tuple(self) -> tuple:
        return self._value.shape

    # --- printing -----------------------------------------------------------------------
    def _numpy_repr(self) -> str:
        v = self._value
        if v.ndim == 0:
            return repr(v[()].item()) if self.dtype is not _dt.string else repr(v[()])
        return np.array_repr(np.asarray(v))

    def __repr__(self) -> str:
        return (f"<rillet.Tensor: shape={self.shape}, dtype={self.dtype.name}, "
                f"numpy={self._numpy_repr()}>")

    def __str__(self) -> str:
        v = np.asarray(self._value)
        return f"rillet.Tensor({np.array2string(v)}, shape={self.shape}, " \
               f"dtype={self.dtype.name})"

    # --- identity semantics (TF 1.x): tensors are dict keys ------------------------------
    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


install_operators(EagerTensor)


def _rebuild(value: np.ndarray, dtype_name: str) -> EagerTensor:
    return EagerTensor(value, _dt.as_dtype(dtype_name))


def scalar_like(value: Any, dtype: _dt.DType) -> EagerTensor:
    """An EagerTensor holding ``value`` converted to ``dtype`` (no op is run)."""
    return EagerTensor(np.asarray(value, dtype=dtype.np), dtype)

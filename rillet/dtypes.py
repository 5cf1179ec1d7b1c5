"""Data types: ``DType`` objects with TensorFlow names, from NumPy dtypes and strings."""

from __future__ import annotations

from typing import Any

import numpy as np


class DType:
    """A tensor element type, e.g. ``float32``. Compare with ``==`` against DTypes, NumPy dtypes
    or names."""

    __slots__ = ("name", "_np", "_enum")

    def __init__(self, name: str, np_dtype: Any, enum: int):
        self.name = name
        self._np = np.dtype(np_dtype) if np_dtype is not None else None
        self._enum = enum

    @property
    def as_numpy_dtype(self) -> type:
        return self._np.type

    @property
    def np(self) -> np.dtype:
        return self._np

    @property
    def base_dtype(self) -> DType:
        return self

    @property
    def as_datatype_enum(self) -> int:
        return self._enum

    @property
    def is_floating(self) -> bool:
        return self._np is not None and self._np.kind == "f"

    @property
    def is_integer(self) -> bool:
        return self._np is not None and self._np.kind in "iu"

    @property
    def is_unsigned(self) -> bool:
        return self._np is not None and self._np.kind == "u"

    @property
    def is_bool(self) -> bool:
        return self is bool_

    @property
    def is_complex(self) -> bool:
        return self._np is not None and self._np.kind == "c"

    @property
    def is_numeric(self) -> bool:
        return self.is_floating or self.is_integer or self.is_complex

    @property
    def size(self) -> int:
        return self._np.itemsize

    @property
    def min(self) -> Any:
        return np.finfo(self._np).min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self) -> Any:
        return np.finfo(self._np).max if self.is_floating else np.iinfo(self._np).max

    def is_compatible_with(self, other: Any) -> bool:
        return self == as_dtype(other)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return self is other
        try:
            return self is as_dtype(other)
        except TypeError:
            return False

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"rillet.{self.name}"

    def __reduce__(self) -> tuple:
        return as_dtype, (self.name,)


# Enum values follow TensorFlow's DataType proto so GraphDefs read naturally in TensorBoard.
float16 = DType("float16", np.float16, 19)
float32 = DType("float32", np.float32, 1)
float64 = DType("float64", np.float64, 2)
int8 = DType("int8", np.int8, 6)
int16 = DType("int16", np.int16, 5)
int32 = DType("int32", np.int32, 3)
int64 = DType("int64", np.int64, 9)
uint8 = DType("uint8", np.uint8, 4)
uint16 = DType("uint16", np.uint16, 17)
uint32 = DType("uint32", np.uint32, 22)
uint64 = DType("uint64", np.uint64, 23)
bool_ = DType("bool", np.bool_, 10)
complex64 = DType("complex64", np.complex64, 8)
complex128 = DType("complex128", np.complex128, 18)
string = DType("string", np.object_, 7)
half = float16
double = float64

_ALL = [float16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
        bool_, complex64, complex128, string]
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update({"float": float32, "double": float64, "half": float16, "int": int32,
                 "long": int64, "bool_": bool_, "str": string, "object": string})
_BY_NP = {d.np: d for d in _ALL if d is not string}
_BY_NP[np.dtype(np.object_)] = string


def as_dtype(value: Any) -> DType:
    """Converts a DType, NumPy dtype/type, or a name such as ``"float"`` or ``"int64"``."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        if value in _BY_NAME:
            return _BY_NAME[value]
        raise TypeError(f"Cannot convert value {value!r} to a rillet DType.")
    if value is bool:
        return bool_
    if value is float:
        return float32
    if value is int:
        return int32
    if value is str or value is bytes:
        return string
    try:
        npd = np.dtype(value)
    except TypeError:
        npd = None
    if npd is not None and npd in _BY_NP:
        return _BY_NP[npd]
    if npd is not None and npd.kind in "SU":
        return string
    raise TypeError(f"Cannot convert value {value!r} to a rillet DType.")


def infer_dtype(value: Any) -> DType:
    """The dtype TensorFlow gives a Python or NumPy value: floats -> float32, ints -> int32."""
    if isinstance(value, np.ndarray | np.generic):
        if value.dtype.kind in "SUO":
            return string
        return as_dtype(value.dtype)
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int32 if -(2**31) <= value < 2**31 else int64
    if isinstance(value, float):
        return float32
    if isinstance(value, complex):
        return complex64
    if isinstance(value, str | bytes):
        return string
    if isinstance(value, list | tuple):
        if len(value) == 0:
            return float32
        kinds = [infer_dtype(v) for v in value]
        for d in (string, complex64, float32, int64, int32, bool_):
            if d in kinds:
                return d
        return kinds[0]
    raise TypeError(f"Cannot infer a dtype for {type(value).__name__} value {value!r}")

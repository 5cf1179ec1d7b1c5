"""Nested element structures, leaf conversion and element specs for :mod:`rillet.data`.

An *element* is a leaf or a nest of tuples (namedtuples included) and dicts whose leaves are
NumPy values. Lists are *not* structure: like ``tf.data`` they are converted to arrays. Leaves are
normalised so that

* numbers are NumPy scalars (``np.int64(3)``) when 0-d and ``np.ndarray`` otherwise;
* strings are ``bytes`` when 0-d and object arrays of ``bytes`` otherwise (TensorFlow's
  ``tf.string`` as NumPy sees it); their spec dtype is ``np.dtype(object)``;
* Python scalars and lists of them get TensorFlow's default dtypes (``float32``; ``int32`` when
  every value fits, else ``int64``; ``bool``); NumPy inputs keep their dtype;
* anything with a ``.numpy()`` method (eager tensors) or ``__array__`` is converted.

Types registered with :func:`register_symbolic_type` (graph tensors) are left as they are in
source datasets and resolved from an iterator's ``feeds`` when an iterator is created.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rillet.data._errors import DataInvalidArgumentError

OBJECT = np.dtype(object)

_SYMBOLIC_TYPES: list[type] = []


def register_symbolic_type(cls: type) -> None:
    """Treat instances of ``cls`` (e.g. graph tensors, placeholders) as symbolic leaves.

    Source datasets keep symbolic leaves unconverted; their static ``dtype``/``shape`` attributes
    (duck-typed) give the element spec, and the concrete value is looked up in the ``feeds`` given
    to :meth:`Dataset.make_python_iterator` when an iterator is created.
    """
    if cls not in _SYMBOLIC_TYPES:
        _SYMBOLIC_TYPES.append(cls)


def is_symbolic(x: Any) -> bool:
    """Whether ``x`` is an instance of a type registered with :func:`register_symbolic_type`."""
    return bool(_SYMBOLIC_TYPES) and isinstance(x, tuple(_SYMBOLIC_TYPES))


# ----------------------------------------------------------------------------------------------
# Nest utilities
# ----------------------------------------------------------------------------------------------


def is_nested(x: Any) -> bool:
    """True for tuples (namedtuples included) and mappings; everything else is a leaf."""
    return isinstance(x, (tuple, Mapping))


def _sorted_keys(d: Mapping) -> list:
    try:
        return sorted(d)
    except TypeError:
        return list(d)


def flatten(x: Any) -> list:
    """Leaves of ``x`` in canonical order (tuples in order, mappings by sorted key)."""
    out: list = []
    _flatten_into(x, out)
    return out


def _flatten_into(x: Any, out: list) -> None:
    if isinstance(x, tuple):
        for v in x:
            _flatten_into(v, out)
    elif isinstance(x, Mapping):
        for k in _sorted_keys(x):
            _flatten_into(x[k], out)
    else:
        out.append(x)


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _rebuild(template: Any, children: list) -> Any:
    """A container of ``template``'s type holding ``children`` (in canonical order)."""
    if isinstance(template, tuple):
        if _is_namedtuple(template):
            return type(template)(*children)
        return tuple(children)
    keys = _sorted_keys(template)
    by_key = dict(zip(keys, children))
    items = [(k, by_key[k]) for k in template]
    try:
        return type(template)(items)
    except TypeError:
        return dict(items)


def pack_sequence_as(structure: Any, flat: Sequence) -> Any:
    """Inverse of :func:`flatten`: put ``flat`` leaves into the shape of ``structure``."""
    flat = list(flat)
    result, used = _pack(structure, flat, 0)
    if used != len(flat):
        raise ValueError(
            f"structure has {used} leaves but {len(flat)} values were given to pack_sequence_as"
        )
    return result


def _pack(structure: Any, flat: list, i: int) -> tuple[Any, int]:
    if isinstance(structure, tuple):
        children = []
        for v in structure:
            c, i = _pack(v, flat, i)
            children.append(c)
        return _rebuild(structure, children), i
    if isinstance(structure, Mapping):
        children = []
        for k in _sorted_keys(structure):
            c, i = _pack(structure[k], flat, i)
            children.append(c)
        return _rebuild(structure, children), i
    if i >= len(flat):
        raise ValueError("not enough values for the structure in pack_sequence_as")
    return flat[i], i + 1


def assert_same_structure(a: Any, b: Any) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same nesting (leaf values ignored)."""
    if isinstance(a, tuple) != isinstance(b, tuple) or isinstance(a, Mapping) != isinstance(
        b, Mapping
    ):
        raise ValueError(f"structures differ: {_describe(a)} vs {_describe(b)}")
    if isinstance(a, tuple):
        if len(a) != len(b):
            raise ValueError(f"structures differ: {_describe(a)} vs {_describe(b)}")
        for x, y in zip(a, b):
            assert_same_structure(x, y)
    elif isinstance(a, Mapping):
        if set(a) != set(b):
            raise ValueError(f"structures differ: dict keys {sorted(map(str, a))} vs "
                             f"{sorted(map(str, b))}")
        for k in a:
            assert_same_structure(a[k], b[k])


def _describe(x: Any) -> str:
    if isinstance(x, tuple):
        return "(" + ", ".join(_describe(v) for v in x) + ("," if len(x) == 1 else "") + ")"
    if isinstance(x, Mapping):
        return "{" + ", ".join(f"{k!r}: {_describe(x[k])}" for k in _sorted_keys(x)) + "}"
    return "."


def map_structure(fn: Callable[..., Any], *structures: Any) -> Any:
    """Apply ``fn`` leaf-wise to one or more structures of the same nesting."""
    first = structures[0]
    for s in structures[1:]:
        assert_same_structure(first, s)
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(first, [fn(*leaves) for leaves in zip(*flats)])


def flatten_up_to(shallow: Any, value: Any, what: str = "value") -> list:
    """Flatten ``value`` only as deep as ``shallow``; lists are accepted where tuples are.

    Used for per-component arguments (``padded_shapes``, generator outputs against
    ``output_types``) whose own leaves may be sequences.
    """
    if isinstance(shallow, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(shallow):
            raise DataInvalidArgumentError(
                f"{what} {short_repr(value)} does not match the expected structure "
                f"{_describe(shallow)}"
            )
        out: list = []
        for s, v in zip(shallow, value):
            out.extend(flatten_up_to(s, v, what))
        return out
    if isinstance(shallow, Mapping):
        if not isinstance(value, Mapping) or set(value) != set(shallow):
            raise DataInvalidArgumentError(
                f"{what} {short_repr(value)} does not match the expected structure "
                f"{_describe(shallow)}"
            )
        out = []
        for k in _sorted_keys(shallow):
            out.extend(flatten_up_to(shallow[k], value[k], what))
        return out
    return [value]


def short_repr(x: Any) -> str:
    r = repr(x)
    return r if len(r) <= 80 else r[:77] + "..."


# ----------------------------------------------------------------------------------------------
# Leaves
# ----------------------------------------------------------------------------------------------

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def _all_python_scalars(x: Any) -> bool:
    if isinstance(x, (list, tuple)):
        return all(_all_python_scalars(v) for v in x)
    return isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic)


def as_dtype(dtype: Any) -> np.dtype:
    """A NumPy dtype from a NumPy dtype, a string, a Python type or a rillet/TF ``DType``.

    Anything with an ``as_numpy_dtype`` attribute is accepted (duck typing). String types
    (``str``, ``bytes``, ``'S'``, ``'U'``, ``object``) map to ``np.dtype(object)``.
    """
    if hasattr(dtype, "as_numpy_dtype"):
        dtype = dtype.as_numpy_dtype
    if dtype in (str, bytes):
        return OBJECT
    d = np.dtype(dtype)
    if d.kind in "SUO":
        return OBJECT
    return d


def _encode(s: Any) -> bytes:
    if isinstance(s, bytes):
        return bytes(s)
    if isinstance(s, str):
        return s.encode("utf-8")
    raise TypeError(f"expected a string, got {type(s).__name__}")


def _string_array(arr: np.ndarray) -> Any:
    """Object array of ``bytes`` (``bytes`` when 0-d) from an array of kind S/U/O."""
    if arr.ndim == 0:
        return _encode(arr[()])
    out = np.empty(arr.shape, dtype=object)
    flat_in = arr.reshape(-1)
    flat_out = out.reshape(-1)
    for i, v in enumerate(flat_in):
        flat_out[i] = _encode(v)
    return out


def _python_default(arr: np.ndarray) -> np.ndarray:
    """TensorFlow's default dtypes for values that came from Python scalars/lists."""
    if arr.dtype == np.float64:
        return arr.astype(np.float32)
    if arr.dtype == np.complex128:
        return arr.astype(np.complex64)
    if arr.dtype.kind == "i" and (
        arr.size == 0 or (arr.min() >= _INT32_MIN and arr.max() <= _INT32_MAX)
    ):
        return arr.astype(np.int32)
    return arr


def to_leaf(x: Any) -> Any:
    """Normalise one leaf value (see the module docstring for the rules)."""
    if isinstance(x, np.generic):
        if isinstance(x, (np.bytes_, np.str_)):
            return _encode(x.item() if isinstance(x, np.str_) else bytes(x))
        return x
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "SU" or (x.dtype == OBJECT and looks_like_strings(x)):
            return _string_array(x)
        return x[()] if x.ndim == 0 else x
    if isinstance(x, (bytes, str)):
        return _encode(x)
    if isinstance(x, (bool, int, float, complex)):
        return _python_default(np.asarray(x))[()]
    numpy_fn = getattr(x, "numpy", None)
    if callable(numpy_fn) and not isinstance(x, type):
        return to_leaf(numpy_fn())
    if isinstance(x, list) and _all_python_scalars(x):
        try:
            arr = np.asarray(x)
        except ValueError as e:
            raise DataInvalidArgumentError(f"cannot convert list to an array: {e}") from None
        return _python_default(arr)
    try:
        arr = np.asarray(x)
    except ValueError as e:
        raise DataInvalidArgumentError(f"cannot convert {short_repr(x)} to an array: {e}") from None
    if arr.dtype == OBJECT and not looks_like_strings(arr):
        raise DataInvalidArgumentError(
            f"cannot convert {short_repr(x)} (type {type(x).__name__}) to a numeric or string array"
        )
    return to_leaf(arr)


def looks_like_strings(arr: np.ndarray) -> bool:
    if arr.size == 0:
        return arr.dtype.kind in "SU"
    return all(isinstance(v, (bytes, str)) for v in arr.reshape(-1)[: min(arr.size, 64)])


def normalize_element(element: Any) -> Any:
    """Normalise every leaf of an element; a top-level list returned by a function is a tuple."""
    if isinstance(element, list):
        element = tuple(element)
    if element is None:
        raise DataInvalidArgumentError("a dataset element cannot be None")
    return map_structure(to_leaf, element) if is_nested(element) else to_leaf(element)


def leaf_dtype(x: Any) -> np.dtype:
    """Spec dtype of a normalised leaf (strings -> ``object``)."""
    if isinstance(x, bytes):
        return OBJECT
    d = np.asarray(x).dtype if not hasattr(x, "dtype") else x.dtype
    if is_symbolic(x):
        return as_dtype(d)
    d = np.dtype(d)
    return OBJECT if d.kind in "SUO" else d


def leaf_shape(x: Any) -> tuple[int | None, ...] | None:
    """Static shape of a normalised (or symbolic) leaf; ``None`` when the rank is unknown."""
    if isinstance(x, bytes):
        return ()
    if is_symbolic(x):
        return as_shape(getattr(x, "shape", None))
    return tuple(np.shape(x))


def as_shape(shape: Any) -> tuple[int | None, ...] | None:
    """Normalise a shape: ``None`` (unknown rank), a sequence of ints/None/-1, or TensorShape-like.

    Objects with ``as_list()`` are accepted; an ``as_list`` raising ``ValueError`` (unknown rank)
    gives ``None``. ``-1`` dimensions mean unknown and become ``None``.
    """
    if shape is None:
        return None
    if hasattr(shape, "as_list") and not isinstance(shape, (list, tuple)):
        try:
            shape = shape.as_list()
        except ValueError:
            return None
        if shape is None:
            return None
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    dims: list[int | None] = []
    for d in shape:
        if d is not None and hasattr(d, "value") and not isinstance(d, (int, np.integer)):
            d = d.value
        if d is None or int(d) < 0:
            dims.append(None)
        else:
            dims.append(int(d))
    return tuple(dims)


# ----------------------------------------------------------------------------------------------
# Specs
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorSpec:
    """Static description of one component of a dataset element.

    ``shape`` is a tuple whose entries are ints or ``None`` (unknown dimension), or ``None`` when
    even the rank is unknown. ``dtype`` is a NumPy dtype; strings are ``np.dtype(object)``.
    """

    shape: tuple[int | None, ...] | None
    dtype: np.dtype
    name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", as_shape(self.shape))
        object.__setattr__(self, "dtype", as_dtype(self.dtype))

    @classmethod
    def from_value(cls, value: Any) -> TensorSpec:
        """Spec of a normalised (or symbolic) leaf."""
        return cls(leaf_shape(value), leaf_dtype(value))

    def is_compatible_with_shape(self, shape: Sequence[int]) -> bool:
        """Whether a concrete ``shape`` agrees with this spec's (partially known) shape."""
        if self.shape is None:
            return True
        if len(shape) != len(self.shape):
            return False
        return all(d is None or d == s for d, s in zip(self.shape, shape))

    def most_specific_compatible(self, other: TensorSpec) -> TensorSpec:
        """The spec covering both (differing dimensions become ``None``)."""
        if self.dtype != other.dtype:
            raise TypeError(f"incompatible dtypes {self.dtype} and {other.dtype}")
        return TensorSpec(merge_shapes(self.shape, other.shape), self.dtype)

    def __repr__(self) -> str:
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype.name})"


def merge_shapes(
    a: tuple[int | None, ...] | None, b: tuple[int | None, ...] | None
) -> tuple[int | None, ...] | None:
    """Most specific shape compatible with both ``a`` and ``b``."""
    if a is None or b is None or len(a) != len(b):
        return None
    return tuple(x if x == y else None for x, y in zip(a, b))


def spec_of(element: Any) -> Any:
    """Structure of :class:`TensorSpec` describing a (normalised) element."""
    return map_structure(TensorSpec.from_value, element) if is_nested(element) else (
        TensorSpec.from_value(element)
    )


def merge_specs(a: Any, b: Any) -> Any:
    """Leaf-wise :meth:`TensorSpec.most_specific_compatible` of two spec structures."""
    assert_same_structure(a, b)
    return map_structure(lambda x, y: x.most_specific_compatible(y), a, b)


def specs_from(types: Any, shapes: Any = None) -> Any:
    """Spec structure from TF1-style ``output_types`` and optional ``output_shapes``."""
    if is_nested(types):
        flat_types = flatten(types)
        if shapes is None:
            flat_shapes: list = [None] * len(flat_types)
        else:
            flat_shapes = flatten_up_to(types, shapes, "output_shapes")
        return pack_sequence_as(
            types, [TensorSpec(as_shape(s), as_dtype(t)) for t, s in zip(flat_types, flat_shapes)]
        )
    return TensorSpec(as_shape(shapes), as_dtype(types))


def iter_leaves(element: Any) -> Iterable:
    """Leaves of an element (a single leaf is yielded as is)."""
    return flatten(element) if is_nested(element) else [element]

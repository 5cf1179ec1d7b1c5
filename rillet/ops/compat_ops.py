"""TF 1.x names that were missing from the op library: ``tf.nn.zero_fraction``, ``tf.nn.top_k``
returning the ``TopKV2(values, indices)`` namedtuple, ``tf.norm``, the variable scatter ops
(``tf.scatter_update`` / ``scatter_add`` / ... and ``scatter_nd_update`` / ``scatter_nd_add``)
and assignment to a slice of a variable (``v[1].assign(5.)``, ``StridedSliceAssign``).

The scatter and slice-assign ops write ``ctx.vars`` in place, like ``Assign``
(``mutates=True``), and return the variable's new value. ``Variable.__getitem__`` is replaced
here (after ``install_operators``) so that ``v[key]`` is an ordinary ``StridedSlice`` tensor that
also remembers its variable: its ``assign(value)`` builds a ``StridedSliceAssign`` op from the
same begin/end/strides and masks.
"""

from __future__ import annotations

import collections
import numbers
import weakref
from typing import Any

import numpy as np

from rillet import context
from rillet import dtypes as _dt
from rillet.errors import InvalidArgumentError
from rillet.graph import Tensor, get_default_graph
from rillet.ops import array_ops, math_ops, slicing
from rillet.ops._util import constant_value
from rillet.ops.state_ops import read_var
from rillet.registry import NOT_DIFFERENTIABLE, OpSpec, apply_op, convert_to_tensor, register
from rillet.shapes import TensorShape
from rillet.variables import Variable

# --- top_k / zero_fraction ---------------------------------------------------------------------
TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


def top_k(input: Any, k: Any = 1, sorted: bool = True, name: str | None = None) -> TopKV2:
    """The ``k`` largest entries along the last axis and their indices, as TF's namedtuple
    ``TopKV2(values, indices)`` (it still unpacks as ``values, indices = top_k(x, k)``)."""
    values, indices = math_ops.top_k(input, k, sorted=sorted, name=name)
    return TopKV2(values, indices)


def zero_fraction(value: Any, name: str | None = None) -> Any:
    """The fraction of entries of ``value`` that are zero, a float32 scalar (TF's
    ``tf.nn.zero_fraction``, used for sparsity summaries of ReLU activations)."""
    g = get_default_graph()
    with g.name_scope(name or "zero_fraction"):
        value = convert_to_tensor(value, name="value")
        size = array_ops.size(value, out_type=_dt.int64)
        num_nonzero = math_ops.count_nonzero(value, dtype=_dt.int64)
        with g.name_scope("counts_to_fraction"):
            num_zero = math_ops.subtract(size, num_nonzero)
            fraction = math_ops.divide(math_ops.cast(num_zero, _dt.float32),
                                       math_ops.cast(size, _dt.float32))
        return array_ops.identity(fraction, name="fraction")


# --- norm ------------------------------------------------------------------------------------
def _is_int_axis(a: Any) -> bool:
    return isinstance(a, numbers.Integral) and not isinstance(a, bool)


def norm(tensor: Any, ord: Any = "euclidean", axis: Any = None, keepdims: Any = None,
         name: str | None = None, keep_dims: Any = None) -> Any:
    """Vector and matrix norms (TF's ``tf.norm``): ``ord`` 'euclidean' / 'fro' / 1 / 2 / inf /
    any p > 0 for vectors; 'euclidean' / 'fro' / 1 / inf for matrices (``axis`` a pair).
    ``axis=None`` treats the whole tensor as one vector. The matrix 2-norm (largest singular
    value) is not supported."""
    if keep_dims is not None:
        if keepdims is not None:
            raise ValueError("Cannot specify both 'keep_dims' and 'keepdims'")
        keepdims = keep_dims
    keepdims = bool(keepdims)
    is_matrix = isinstance(axis, tuple | list) and len(axis) == 2
    if is_matrix:
        axis = tuple(axis)
        if not (_is_int_axis(axis[0]) and _is_int_axis(axis[1])) or axis[0] == axis[1]:
            raise ValueError("'axis' must be None, an integer, or a tuple of 2 unique integers")
        supported = ["euclidean", "fro", 1, 2, np.inf]
        ok = ord in ("euclidean", "fro") if isinstance(ord, str) else \
            isinstance(ord, numbers.Real) and ord in (1, 2, np.inf)
        if not ok:
            raise ValueError(f"'ord' must be a supported matrix norm in {supported}, got {ord}")
        if not isinstance(ord, str) and ord == 2:
            raise NotImplementedError("tf.norm: the matrix 2-norm (spectral norm) is not "
                                      "supported by rillet")
    else:
        if not (axis is None or _is_int_axis(axis)):
            raise ValueError("'axis' must be None, an integer, or a tuple of 2 unique integers")
        if isinstance(ord, str):
            if ord != "euclidean":
                raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
        elif not isinstance(ord, numbers.Real) or isinstance(ord, bool) or ord <= 0:
            raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
        if axis is not None:
            axis = (axis,)
    g = get_default_graph()
    with g.name_scope(name or "norm"):
        x = convert_to_tensor(tensor)
        red = None if axis is None else list(axis)
        if isinstance(ord, str) or ord == 2:
            result = math_ops.sqrt(math_ops.reduce_sum(x * x, red, keepdims=True))
        else:
            result = math_ops.abs(x)
            if ord == 1:
                result = math_ops.reduce_sum(result, None if axis is None else axis[0],
                                             keepdims=True)
                if is_matrix:
                    result = math_ops.reduce_max(result, axis[-1], keepdims=True)
            elif ord == np.inf:
                if is_matrix:
                    result = math_ops.reduce_sum(result, axis[1], keepdims=True)
                result = math_ops.reduce_max(result, None if axis is None else axis[0],
                                             keepdims=True)
            else:
                p = convert_to_tensor(np.asarray(ord, dtype=x.dtype.np))
                result = math_ops.pow(
                    math_ops.reduce_sum(math_ops.pow(result, p), red, keepdims=True),
                    convert_to_tensor(np.asarray(1.0 / ord, dtype=x.dtype.np)))
        if not keepdims:
            result = array_ops.squeeze(result, red)
        return result


# --- scatter ops on variables ------------------------------------------------------------------
def _ref_name(ref: Any) -> str:
    """The ``ctx.vars`` key of a variable (graph or eager) or of a ``VariableV2`` tensor."""
    if isinstance(ref, Variable):
        return ref.op.name
    op = getattr(ref, "op", None)
    if op is not None and getattr(op, "type", None) == "VariableV2":
        return op.attrs["shared_name"]
    raise TypeError(f"Expected a Variable as `ref`, got {ref!r}")


def _shape_merge_error(a: TensorShape, b: TensorShape) -> str:
    if a.ndims != b.ndims:
        return f"Shapes must be equal rank, but are {a.ndims} and {b.ndims}"
    for i, (x, y) in enumerate(zip(a.as_list(), b.as_list())):
        if x is not None and y is not None and x != y:
            return (f"Dimension {i} in both shapes must be equal, but are {y} and {x}. Shapes "
                    f"are {b} and {a}.")
    return f"Shapes {a} and {b} are incompatible"


def _require_int(t: Any, what: str) -> None:
    if t.dtype not in (_dt.int32, _dt.int64):
        raise TypeError(f"Value passed to parameter '{what}' has DataType {t.dtype.name} not in "
                        "list of allowed values: int32, int64")


def _check_value_dtype(op: Any, value: Any) -> None:
    if value.dtype is not op.attrs["dtype"]:
        raise TypeError(f"Input 'updates' of '{op.type}' Op has type {value.dtype.name} that "
                        f"does not match type {op.attrs['dtype'].name} of argument 'ref'.")


def _scatter_infer(op: Any) -> tuple:
    indices, updates = op.inputs
    shape = op.attrs["shape"]
    _require_int(indices, "indices")
    _check_value_dtype(op, updates)
    if shape.ndims == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0")
    if updates.shape.ndims != 0 and indices.shape.ndims is not None and \
            shape.ndims is not None:
        want = TensorShape(indices.shape.as_list() + shape.as_list()[1:])
        if not want.is_compatible_with(updates.shape):
            raise ValueError(_shape_merge_error(want, updates.shape))
    return op.attrs["dtype"], shape


def _bad_index(idx: np.ndarray, limit: int) -> str:
    bad = np.argwhere((idx < 0) | (idx >= limit))[0] if idx.ndim else ()
    at = ",".join(str(int(p)) for p in bad)
    return f"indices[{at}] = {int(idx[tuple(bad)])} is not in [0, {limit})"


def _trunc_div(a: Any, b: Any) -> Any:
    """TF's integer division (truncates toward zero)."""
    if np.any(np.asarray(b) == 0):
        raise InvalidArgumentError(None, None, "Integer division by zero")
    q = np.abs(a) // np.abs(b)
    return np.where((np.sign(a) * np.sign(b)) < 0, -q, q)


_UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "max": np.maximum,
           "min": np.minimum, "div": np.divide}


def _apply_updates(ref: np.ndarray, key: tuple, upd: np.ndarray, mode: str) -> None:
    """``ref[key] (op)= upd`` where ``key`` is a tuple of index arrays of one shape; repeated
    indices accumulate (``ufunc.at``), except for ``update`` (the last one wins)."""
    if mode == "update":
        ref[key] = upd
    elif mode == "div" and ref.dtype.kind in "iu":
        kshape = np.shape(key[0])
        n = int(np.prod(kshape))
        parts = [np.asarray(p).reshape(-1) for p in key]
        flat = upd.reshape((n,) + upd.shape[len(kshape):])
        for i in range(n):
            k = tuple(int(p[i]) for p in parts)
            ref[k] = _trunc_div(ref[k], flat[i])
    else:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            _UFUNCS[mode].at(ref, key, upd)


def _scatter_kernel(ctx: Any, indices: Any, updates: Any, *, var: str, mode: str,
                    **_: Any) -> Any:
    ref = read_var(ctx, var)
    idx = np.asarray(indices)
    limit = ref.shape[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= limit):
        raise InvalidArgumentError(None, None, _bad_index(idx, limit))
    upd = np.broadcast_to(np.asarray(updates, dtype=ref.dtype), idx.shape + ref.shape[1:])
    _apply_updates(ref, (idx,), upd, mode)
    return ref


def _scatter_nd_infer(op: Any) -> tuple:
    indices, updates = op.inputs
    shape = op.attrs["shape"]
    _require_int(indices, "indices")
    _check_value_dtype(op, updates)
    ish = indices.shape
    if ish.ndims is not None and ish.ndims >= 1 and ish[-1] is not None and \
            shape.ndims is not None:
        depth = ish[-1]
        if depth > shape.ndims:
            raise ValueError(f"Dimension {depth} of indices is larger than the rank of ref "
                             f"({shape.ndims})")
        want = TensorShape(ish.as_list()[:-1] + shape.as_list()[depth:])
        if updates.shape.ndims != 0 and not want.is_compatible_with(updates.shape):
            raise ValueError(_shape_merge_error(want, updates.shape))
    return op.attrs["dtype"], shape


def _scatter_nd_kernel(ctx: Any, indices: Any, updates: Any, *, var: str, mode: str,
                       **_: Any) -> Any:
    ref = read_var(ctx, var)
    idx = np.asarray(indices)
    depth = idx.shape[-1]
    rows = idx.reshape(-1, depth)
    for j in range(depth):
        col = rows[:, j]
        if col.size and (int(col.min()) < 0 or int(col.max()) >= ref.shape[j]):
            i = int(np.argwhere((col < 0) | (col >= ref.shape[j]))[0, 0])
            raise InvalidArgumentError(
                None, None, f"indices[{i}] = [{', '.join(str(int(v)) for v in rows[i])}] does "
                f"not index into shape [{','.join(str(d) for d in ref.shape)}]")
    upd = np.broadcast_to(np.asarray(updates, dtype=ref.dtype),
                          idx.shape[:-1] + ref.shape[depth:])
    key = tuple(idx[..., j] for j in range(depth))
    _apply_updates(ref, key, upd, mode)
    return ref


_SCATTER = {"ScatterUpdate": "update", "ScatterAdd": "add", "ScatterSub": "sub",
            "ScatterMul": "mul", "ScatterDiv": "div", "ScatterMax": "max", "ScatterMin": "min"}
_SCATTER_ND = {"ScatterNdUpdate": "update", "ScatterNdAdd": "add", "ScatterNdSub": "sub"}
for _t in _SCATTER:
    register(_t, infer=_scatter_infer, kernel=_scatter_kernel, stateful=True, needs_ctx=True,
             mutates=True, grad=NOT_DIFFERENTIABLE)
for _t in _SCATTER_ND:
    register(_t, infer=_scatter_nd_infer, kernel=_scatter_nd_kernel, stateful=True,
             needs_ctx=True, mutates=True, grad=NOT_DIFFERENTIABLE)


def _scatter(op_type: str, mode: str, ref: Any, indices: Any, updates: Any,
             name: str | None) -> Any:
    var = _ref_name(ref)
    dt = ref.dtype
    idx = convert_to_tensor(indices)
    if idx.dtype not in (_dt.int32, _dt.int64):
        idx = convert_to_tensor(indices, dtype=_dt.int32)
    upd = convert_to_tensor(updates, dtype=dt)
    out = apply_op(op_type, (idx, upd), {"var": var, "mode": mode, "dtype": dt,
                                        "shape": TensorShape(ref.shape)},
                   name=name or op_type)
    if context.executing_eagerly() and isinstance(ref, Variable):
        return ref
    return out


def _make_scatter(op_type: str, mode: str, doc: str) -> Any:
    def fn(ref: Any, indices: Any, updates: Any, use_locking: Any = None,
           name: str | None = None) -> Any:
        return _scatter(op_type, mode, ref, indices, updates, name)
    fn.__name__ = fn.__qualname__ = "scatter_" + ("nd_" if "Nd" in op_type else "") + mode
    fn.__doc__ = doc
    return fn


scatter_update = _make_scatter(
    "ScatterUpdate", "update",
    "``ref[indices[i], ...] = updates[i, ...]`` in place when run; returns the new value of "
    "``ref``. ``updates`` has shape ``indices.shape + ref.shape[1:]`` (or is a scalar).")
scatter_add = _make_scatter("ScatterAdd", "add",
                            "``ref[indices[i], ...] += updates[i, ...]`` (duplicates add up).")
scatter_sub = _make_scatter("ScatterSub", "sub",
                            "``ref[indices[i], ...] -= updates[i, ...]`` (duplicates add up).")
scatter_mul = _make_scatter("ScatterMul", "mul", "``ref[indices[i], ...] *= updates[i, ...]``.")
scatter_div = _make_scatter("ScatterDiv", "div", "``ref[indices[i], ...] /= updates[i, ...]``.")
scatter_max = _make_scatter("ScatterMax", "max",
                            "``ref[indices[i], ...] = max(ref[...], updates[i, ...])``.")
scatter_min = _make_scatter("ScatterMin", "min",
                            "``ref[indices[i], ...] = min(ref[...], updates[i, ...])``.")
scatter_nd_update = _make_scatter(
    "ScatterNdUpdate", "update",
    "``ref[indices[i]] = updates[i]`` where each row of ``indices`` (last axis) is a "
    "multi-index into ``ref``.")
scatter_nd_add = _make_scatter("ScatterNdAdd", "add",
                               "``ref[indices[i]] += updates[i]`` (multi-index rows).")
scatter_nd_sub = _make_scatter("ScatterNdSub", "sub",
                               "``ref[indices[i]] -= updates[i]`` (multi-index rows).")


# --- assignment to a slice of a variable -------------------------------------------------------
class _ShapeOnly:
    """What ``StridedSlice`` inference needs of the sliced input: dtype and shape."""

    def __init__(self, dtype: _dt.DType, shape: TensorShape):
        self.dtype, self.shape = dtype, shape


def _masks(attrs: dict) -> dict:
    return {k: attrs[k] for k in slicing._MASKS}


def _slice_assign_infer(op: Any) -> tuple:
    b, e, s, value = op.inputs
    dt, shape = op.attrs["dtype"], op.attrs["shape"]
    if value.dtype is not dt:
        raise TypeError(f"Input 'value' of 'StridedSliceAssign' Op has type {value.dtype.name} "
                        f"that does not match type {dt.name} of argument 'ref'.")
    spec = OpSpec("StridedSlice", op.name, (_ShapeOnly(dt, shape), b, e, s), _masks(op.attrs))
    _, lhs = slicing._strided_slice_infer(spec)
    if lhs.is_fully_defined() and value.shape.is_fully_defined() and \
            lhs.as_list() != value.shape.as_list():
        raise ValueError(f"sliced l-value shape {lhs.as_list()} does not match r-value shape "
                         f"{value.shape.as_list()}. Automatic broadcasting not yet implemented.")
    return dt, shape


def _slice_assign_kernel(ctx: Any, begin: Any, end: Any, strides: Any, value: Any, *,
                         var: str, **masks: Any) -> Any:
    ref = read_var(ctx, var)
    key = slicing.slice_key(begin, end, strides, **{k: masks[k] for k in slicing._MASKS})
    try:
        lhs = np.shape(ref[key])
    except IndexError as err:
        raise InvalidArgumentError(None, None, f"slice index out of bounds: {err}") from None
    value = np.asarray(value)
    if lhs != value.shape:
        raise InvalidArgumentError(
            None, None, f"sliced l-value shape {list(lhs)} does not match r-value shape "
            f"{list(value.shape)}. Automatic broadcasting not yet implemented.")
    ref[key] = value
    return ref


register("StridedSliceAssign", infer=_slice_assign_infer, kernel=_slice_assign_kernel,
         stateful=True, needs_ctx=True, mutates=True, grad=NOT_DIFFERENTIABLE)


def _slice_assign(variable: Any, spec: tuple, value: Any, name: str | None) -> Any:
    b, e, s, masks = spec
    v = convert_to_tensor(value, dtype=variable.dtype)
    attrs = {"var": _ref_name(variable), "dtype": variable.dtype,
             "shape": TensorShape(variable.shape), **masks}
    out = apply_op("StridedSliceAssign", (b, e, s, v), attrs, name=name or "strided_slice")
    if context.executing_eagerly():
        return variable
    return out


class _VariableSlice(Tensor):
    """``variable[key]`` in a graph: a ``StridedSlice`` of the variable's value that can also
    be assigned (``v[1].assign(5.)``, TF's ``_SliceHelperVar``)."""

    __slots__ = ("_sliced_variable",)

    def assign(self, value: Any, name: str | None = None) -> Any:
        """An op writing ``value`` into this slice of the variable; returns its new value."""
        op = self.op
        return _slice_assign(self._sliced_variable, (*op.inputs[1:4], _masks(op.attrs)), value,
                             name)


def _eager_slice_class() -> type:
    from rillet.eager.tensor import EagerTensor

    class _EagerVariableSlice(EagerTensor):
        """``variable[key]`` in eager mode: the sliced value, assignable like in a graph. The
        op's own output gets this class (no new slots), so gradient tapes still know it."""

        __slots__ = ()

        def assign(self, value: Any, name: str | None = None) -> Any:
            entry = _EAGER_SLICE_INFO.get(id(self))
            if entry is None or entry[0]() is not self:
                raise AttributeError("this tensor is not a slice of a variable")
            variable, key = entry[1], entry[2]
            return _slice_assign(variable, _static_slice_spec(variable, key), value, name)

    return _EagerVariableSlice


_EAGER_SLICE_INFO: dict = {}


def _forget_slice(tid: int) -> None:
    _EAGER_SLICE_INFO.pop(tid, None)


_EAGER_SLICE: list = []


def _concrete_key(key: Any) -> Any:
    """Eager tensors in an index key replaced by Python ints."""
    def one(k: Any) -> Any:
        if isinstance(k, slice):
            return slice(one(k.start), one(k.stop), one(k.step))
        if hasattr(k, "numpy") and not isinstance(k, np.ndarray):
            return int(k.numpy())
        return k
    return tuple(one(k) for k in key) if isinstance(key, tuple) else one(key)


def _static_slice_spec(variable: Any, key: Any) -> tuple:
    """begin / end / strides constants and masks of ``variable[key]`` (built in a scratch
    graph, so the indexing rules are those of ``Tensor.__getitem__``)."""
    from rillet.graph import Graph
    from rillet.ops.array_ops import placeholder
    old = context.set_mode(False)
    try:
        with Graph().as_default():
            t = slicing.strided_slice_getitem(placeholder(variable.dtype, variable.shape),
                                              _concrete_key(key))
            parts = [constant_value(x) for x in t.op.inputs[1:4]]
            masks = _masks(t.op.attrs)
    finally:
        context.set_mode(old)
    return (*[convert_to_tensor(np.asarray(p)) for p in parts], masks)


def _variable_getitem(self: Any, key: Any) -> Any:
    out = slicing.strided_slice_getitem(self, key)
    if isinstance(out, Tensor):
        op = out.op
        t = _VariableSlice(op, out.value_index, out.dtype, out.shape)
        t._sliced_variable = self
        op.outputs = (t,)
        return t
    if not _EAGER_SLICE:
        _EAGER_SLICE.append(_eager_slice_class())
    out.__class__ = _EAGER_SLICE[0]
    _EAGER_SLICE_INFO[id(out)] = (weakref.ref(out), self, key)
    weakref.finalize(out, _forget_slice, id(out))
    return out


Variable.__getitem__ = _variable_getitem  # type: ignore[method-assign]


def _register_aliasing() -> None:
    """The scatter and slice-assign kernels return the variable's own storage: fetching them
    must copy (as for ``Assign``), so a fetched value never changes under the user."""
    from rillet import session
    session._ALIASING.update(_SCATTER, _SCATTER_ND, ["StridedSliceAssign"])


_register_aliasing()

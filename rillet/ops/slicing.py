"""Indexing ops: ``tensor[...]`` (StridedSlice), slice, gather/gather_nd, scatter_nd,
unsorted_segment_sum, boolean_mask, dynamic_partition/dynamic_stitch.

Each gathering op has a scattering adjoint (and vice versa), so gradients are linear ops whose
own gradients are the forward op again: second derivatives work. Scatter-adds use
``np.add.at``, which sums duplicate indices as TensorFlow does.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet import registry
from rillet.ops import array_ops, math_ops
from rillet.ops._util import constant_value, partial_value, shape_from_tensor
from rillet.ops.array_ops import _one_or_tuple
from rillet.registry import apply_op, convert_to_tensor, register
from rillet.shapes import TensorShape

_pyslice = builtins.slice
_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


def _check_indices(idx: Any, limit: int, what: str = "indices") -> None:
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= limit):
        pos = np.argwhere((np.asarray(idx) < 0) | (np.asarray(idx) >= limit))[0]
        at = ",".join(str(int(p)) for p in pos)
        raise ValueError(f"{what}[{at}] = {int(idx[tuple(pos)])} is not in [0, {limit})")


# --- strided slice ------------------------------------------------------------------------
def slice_key(begin: Any, end: Any, strides: Any, begin_mask: int = 0, end_mask: int = 0,
              ellipsis_mask: int = 0, new_axis_mask: int = 0, shrink_axis_mask: int = 0,
              **_: Any) -> tuple:
    """The Python/NumPy index tuple of a TF strided-slice spec (begin/end/strides + masks)."""
    key = []
    for i, (b, e, s) in enumerate(zip(np.reshape(begin, [-1]).tolist(),
                                      np.reshape(end, [-1]).tolist(),
                                      np.reshape(strides, [-1]).tolist())):
        bit = 1 << i
        if ellipsis_mask & bit:
            key.append(Ellipsis)
        elif new_axis_mask & bit:
            key.append(None)
        elif shrink_axis_mask & bit:
            key.append(int(b))
        else:
            if s == 0:
                raise ValueError(f"strides[{i}] must be non-zero")
            key.append(_pyslice(None if begin_mask & bit else int(b),
                                None if end_mask & bit else int(e), int(s)))
    return tuple(key)


def _spec_list(t: Any) -> list | None:
    v = partial_value(t)
    if isinstance(v, int):
        return [v]
    return v if isinstance(v, list) else None


def _strided_slice_infer(op: Any) -> tuple:
    x = op.inputs[0]
    a = op.attrs
    for t in op.inputs[1:]:
        if t.shape.ndims not in (None, 1):
            raise ValueError(f"Shape must be rank 1 but is rank {t.shape.ndims}")
    b, e, s = (_spec_list(t) for t in op.inputs[1:])
    n = next((len(v) for v in (b, e, s) if v is not None), None)
    if n is None:
        n = next((t.shape[0] for t in op.inputs[1:] if t.shape.ndims == 1
                  and t.shape[0] is not None), None)
    if bin(a["ellipsis_mask"]).count("1") > 1:
        raise ValueError("Multiple ellipses in slice spec not allowed")
    if n is None:
        return x.dtype, TensorShape(None)
    b, e, s = ([None] * n if v is None else v for v in (b, e, s))
    kinds = []
    for i in builtins.range(n):
        bit = 1 << i
        kinds.append("ell" if a["ellipsis_mask"] & bit else "new" if a["new_axis_mask"] & bit
                     else "shrink" if a["shrink_axis_mask"] & bit else "slice")
    consumed = sum(1 for k in kinds if k in ("shrink", "slice"))
    nd = x.shape.ndims
    if nd is None:
        return x.dtype, TensorShape(None)
    if consumed > nd:
        raise ValueError(f"Index out of range using input dim {nd}; input has only {nd} dims")
    if "ell" not in kinds:
        kinds.append("ell")
        b, e, s = b + [0], e + [0], s + [1]
    dims = x.shape.as_list()
    out: list = []
    d_i = 0
    for i, k in enumerate(kinds):
        if k == "ell":
            m = nd - consumed
            out.extend(dims[d_i:d_i + m])
            d_i += m
        elif k == "new":
            out.append(1)
        elif k == "shrink":
            d, bi = dims[d_i], b[i]
            if d is not None and bi is not None and not -d <= bi < d:
                raise ValueError(f"slice index {bi} of dimension {d_i} out of bounds.")
            d_i += 1
        else:
            d, st = dims[d_i], s[i]
            if st == 0:
                raise ValueError(f"strides[{i}] must be non-zero")
            bit = 1 << i
            bi = None if a["begin_mask"] & bit else b[i]
            ei = None if a["end_mask"] & bit else e[i]
            known = d is not None and st is not None and \
                (bi is not None or a["begin_mask"] & bit) and \
                (ei is not None or a["end_mask"] & bit)
            out.append(len(builtins.range(*_pyslice(bi, ei, st).indices(d))) if known else None)
            d_i += 1
    return x.dtype, TensorShape(out)


def _strided_slice_kernel(xp: Any, x: Any, begin: Any, end: Any, strides: Any,
                          **masks: Any) -> Any:
    key = slice_key(begin, end, strides, **masks)
    try:
        r = x[key]
    except IndexError as err:
        raise ValueError(f"slice index out of bounds: {err}") from None
    return r if isinstance(r, xp.ndarray) else xp.asarray(r)


def _strided_slice_grad_kernel(xp: Any, shape: Any, begin: Any, end: Any, strides: Any, g: Any,
                               **masks: Any) -> Any:
    out = xp.zeros(tuple(int(d) for d in shape), dtype=g.dtype)
    out[slice_key(begin, end, strides, **masks)] = g
    return out


def _masks(op: Any) -> dict:
    return {k: op.attrs[k] for k in _MASKS}


def _strided_slice_grad(op: Any, g: Any) -> list:
    x, b, e, s = op.inputs
    dx = apply_op("StridedSliceGrad", (array_ops.shape(x, out_type=b.dtype), b, e, s, g),
                  _masks(op))
    return [dx, None, None, None]


def _strided_slice_grad_infer(op: Any) -> tuple:
    return op.inputs[4].dtype, shape_from_tensor(op.inputs[0])


register("StridedSlice", infer=_strided_slice_infer, kernel=_strided_slice_kernel,
         grad=_strided_slice_grad)
register("StridedSliceGrad", infer=_strided_slice_grad_infer, kernel=_strided_slice_grad_kernel,
         grad=lambda op, gg: [None] * 4 + [apply_op("StridedSlice", (gg, *op.inputs[1:4]),
                                                    _masks(op))])


def strided_slice(input_: Any, begin: Any, end: Any, strides: Any = None, begin_mask: int = 0,
                  end_mask: int = 0, ellipsis_mask: int = 0, new_axis_mask: int = 0,
                  shrink_axis_mask: int = 0, var: Any = None, name: str | None = None) -> Any:
    """TF's strided slice: ``input_[begin:end:strides]`` per dimension, with bit masks that
    ignore begin/end, insert an ellipsis or a new axis, or drop a dimension (shrink)."""
    x = convert_to_tensor(input_)
    b = array_ops._int_tensor(begin)
    e = array_ops._int_tensor(end)
    s = array_ops._int_tensor(np.ones(len(np.reshape(begin, [-1])), np.int32)
                              if strides is None and not registry.is_tensor(begin)
                              else strides)
    if not (b.dtype is e.dtype is s.dtype):
        raise TypeError(f"begin, end and strides must have one dtype, got {b.dtype.name}, "
                        f"{e.dtype.name}, {s.dtype.name}")
    attrs = {"begin_mask": int(begin_mask), "end_mask": int(end_mask),
             "ellipsis_mask": int(ellipsis_mask), "new_axis_mask": int(new_axis_mask),
             "shrink_axis_mask": int(shrink_axis_mask)}
    return apply_op("StridedSlice", (x, b, e, s), attrs, name=name or "strided_slice")


def _index_ok(v: Any) -> bool:
    if isinstance(v, bool | np.bool_):
        return False
    if isinstance(v, int | np.integer):
        return True
    return registry.is_tensor(v) and v.dtype in (_dt.int32, _dt.int64) and \
        v.shape.ndims in (None, 0)


def _bad_index(v: Any) -> TypeError:
    return TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and "
                     f"scalar tf.int32/tf.int64 tensors are valid indices, got {v!r}")


def strided_slice_getitem(x: Any, key: Any) -> Any:
    """``x[key]`` for a tensor: ints, slices with steps, negative indices, ``...``,
    ``rt.newaxis`` (None) and scalar int tensors, with NumPy's meaning (a view, no copy)."""
    if not isinstance(key, tuple):
        key = (key,)
    begin: list = []
    end: list = []
    strides: list = []
    m = dict.fromkeys(_MASKS, 0)
    for i, k in enumerate(key):
        bit = 1 << i
        if isinstance(k, _pyslice):
            for part in (k.start, k.stop, k.step):
                if part is not None and not _index_ok(part):
                    raise _bad_index(k)
            if k.step is not None and not registry.is_tensor(k.step) and k.step == 0:
                raise ValueError("slice step cannot be zero")
            begin.append(0 if k.start is None else k.start)
            end.append(0 if k.stop is None else k.stop)
            strides.append(1 if k.step is None else k.step)
            m["begin_mask"] |= bit if k.start is None else 0
            m["end_mask"] |= bit if k.stop is None else 0
        elif k is Ellipsis:
            if m["ellipsis_mask"]:
                raise ValueError("Multiple ellipses in slice spec not allowed")
            begin.append(0)
            end.append(0)
            strides.append(1)
            m["ellipsis_mask"] |= bit
        elif k is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            m["new_axis_mask"] |= bit
        elif _index_ok(k):
            begin.append(k)
            end.append(math_ops.add(k, 1) if registry.is_tensor(k) else int(k) + 1)
            strides.append(1)
            m["shrink_axis_mask"] |= bit
        else:
            raise _bad_index(k)
    parts = begin + end + strides
    if any(registry.is_tensor(p) for p in parts):
        dt = next(p.dtype for p in parts if registry.is_tensor(p))

        def pack(vals: list) -> Any:
            ts = [math_ops.cast(v, dt) if registry.is_tensor(v) else
                  convert_to_tensor(int(v), dtype=dt) for v in vals]
            return array_ops.stack(ts)
        b, e, s = pack(begin), pack(end), pack(strides)
    else:
        b, e, s = (convert_to_tensor(np.asarray(v, dtype=np.int32).reshape(-1))
                   for v in (begin, end, strides))
    return apply_op("StridedSlice", (convert_to_tensor(x), b, e, s), m, name="strided_slice")


# --- slice ------------------------------------------------------------------------------------
def _slice_infer(op: Any) -> tuple:
    x, b_t, s_t = op.inputs
    b, sz = _spec_list(b_t), _spec_list(s_t)
    n = next((len(v) for v in (b, sz) if v is not None), None)
    if n is None:
        n = next((t.shape[0] for t in (b_t, s_t) if t.shape.ndims == 1), None)
    nd = x.shape.ndims
    if n is not None and nd is not None and n != nd:
        raise ValueError(f"Expected begin and size arguments to be 1-D tensors of size {nd}, "
                         f"but got shapes [{n}] and [{n}] instead.")
    if nd is None:
        nd = n
    if nd is None:
        return x.dtype, TensorShape(None)
    b = b or [None] * nd
    sz = sz or [None] * nd
    dims = x.shape.as_list() if x.shape.ndims is not None else [None] * nd
    out = []
    for i, (d, bi, si) in enumerate(zip(dims, b, sz)):
        if bi is not None and d is not None and not 0 <= bi <= d:
            raise ValueError(f"Expected begin[{i}] in [0, {d}], but got {bi}")
        if si is not None and si != -1:
            if si < -1 or (d is not None and bi is not None and bi + si > d):
                lim = "?" if bi is None or d is None else d - bi
                raise ValueError(f"Expected size[{i}] in [0, {lim}], but got {si}")
            out.append(si)
        else:
            out.append(None if si is None or d is None or bi is None else d - bi)
    return x.dtype, TensorShape(out)


def _slice_kernel(xp: Any, x: Any, begin: Any, size: Any) -> Any:
    key = []
    for i, (d, b, s) in enumerate(zip(x.shape, begin.tolist(), size.tolist())):
        if not 0 <= b <= d:
            raise ValueError(f"Expected begin[{i}] in [0, {d}], but got {b}")
        if s == -1:
            s = d - b
        if not 0 <= s <= d - b:
            raise ValueError(f"Expected size[{i}] in [0, {d - b}], but got {s}")
        key.append(_pyslice(b, b + s))
    if len(key) != x.ndim:
        raise ValueError(f"Expected begin and size arguments to be 1-D tensors of size "
                         f"{x.ndim}, but got shapes [{len(key)}] and [{len(key)}] instead.")
    return x[tuple(key)]


def _slice_grad(op: Any, g: Any) -> list:
    x, b, _ = op.inputs
    after = array_ops.shape(x, out_type=b.dtype) - b - array_ops.shape(op.outputs[0],
                                                                       out_type=b.dtype)
    return [array_ops.pad(g, array_ops.stack([b, after], axis=1)), None, None]


register("Slice", infer=_slice_infer, kernel=_slice_kernel, grad=_slice_grad)


def slice(input_: Any, begin: Any, size: Any, name: str | None = None) -> Any:  # noqa: A001
    """``input_[begin[i] : begin[i] + size[i]]`` in every dimension (size -1: to the end)."""
    return apply_op("Slice", (convert_to_tensor(input_), array_ops._int_tensor(begin),
                              array_ops._int_tensor(size)), name=name)


# --- gather -------------------------------------------------------------------------------
def _require_index(t: Any, what: str = "indices") -> None:
    if t.dtype not in (_dt.int32, _dt.int64):
        raise TypeError(f"Value passed to parameter '{what}' has DataType {t.dtype.name} not "
                        "in list of allowed values: int32, int64")


def _gather_infer(op: Any) -> tuple:
    p, idx = op.inputs
    _require_index(idx)
    axis = op.attrs["axis"]
    nd = p.shape.ndims
    if nd is None or idx.shape.ndims is None:
        return p.dtype, TensorShape(None)
    if not -nd <= axis < nd:
        raise ValueError(f"Shape must be at least rank {axis + 1 if axis >= 0 else -axis} but "
                         f"is rank {nd}")
    a = axis % nd
    dims = p.shape.as_list()
    return p.dtype, TensorShape(dims[:a] + idx.shape.as_list() + dims[a + 1:])


def _gather_kernel(xp: Any, p: Any, idx: Any, *, axis: int) -> Any:
    _check_indices(idx, p.shape[axis])
    return xp.take(p, idx, axis=axis)


def _scatter_add_axis(xp: Any, g: Any, idx: Any, shape: Any, axis: int) -> Any:
    out = xp.zeros(tuple(int(d) for d in shape), dtype=g.dtype)
    np.add.at(out, (_pyslice(None),) * (axis % out.ndim) + (idx,), g)
    return out


def _gather_grad(op: Any, g: Any) -> list:
    p, idx = op.inputs
    dp = apply_op("GatherGrad", (g, idx, array_ops.shape(p, out_type=idx.dtype)),
                  {"axis": op.attrs["axis"]})
    return [dp, None]


register("GatherV2", infer=_gather_infer, kernel=_gather_kernel, grad=_gather_grad)
register("GatherGrad", infer=lambda op: (op.inputs[0].dtype, shape_from_tensor(op.inputs[2])),
         kernel=lambda xp, g, idx, shape, *, axis: _scatter_add_axis(xp, g, idx, shape, axis),
         grad=lambda op, gg: [gather(gg, op.inputs[1], axis=op.attrs["axis"]), None, None])


def gather(params: Any, indices: Any, validate_indices: Any = None, name: str | None = None,
           axis: Any = None, batch_dims: int = 0) -> Any:
    """Slices of ``params`` at ``indices`` along ``axis`` (default 0): shape
    ``params.shape[:axis] + indices.shape + params.shape[axis+1:]``. TF 1.x argument order
    (the third positional argument is ``validate_indices``, ignored: indices are always
    checked). Out-of-range indices raise InvalidArgumentError."""
    if batch_dims:
        raise NotImplementedError("gather: batch_dims != 0 is not supported")
    p = convert_to_tensor(params)
    idx = convert_to_tensor(indices)
    axis = 0 if axis is None else int(array_ops.static_ints(axis, "axis"))
    return apply_op("GatherV2", (p, idx), {"axis": axis}, name=name)


# --- gather_nd / scatter_nd --------------------------------------------------------------
def _nd_check(idx: Any, shape: tuple) -> None:
    k = idx.shape[-1]
    lim = np.asarray(shape[:k])
    bad = (idx < 0) | (idx >= lim)
    if bad.any():
        pos = tuple(int(v) for v in np.argwhere(bad.any(axis=-1))[0])
        raise ValueError(f"indices{list(pos)} = {idx[pos].tolist()} does not index into param "
                         f"shape {list(shape)}")


def _gather_nd_infer(op: Any) -> tuple:
    p, idx = op.inputs
    _require_index(idx)
    if idx.shape.ndims is None or p.shape.ndims is None:
        return p.dtype, TensorShape(None)
    if idx.shape.ndims < 1:
        raise ValueError("Shape must be at least rank 1 but is rank 0")
    k = idx.shape[-1]
    if k is None:
        return p.dtype, TensorShape(None)
    if k > p.shape.ndims:
        raise ValueError(f"indices.shape[-1] must be <= params.rank, but saw indices shape: "
                         f"{idx.shape.as_list()} and params shape: {p.shape.as_list()}")
    return p.dtype, TensorShape(idx.shape.as_list()[:-1] + p.shape.as_list()[k:])


def _gather_nd_kernel(xp: Any, p: Any, idx: Any) -> Any:
    _nd_check(idx, p.shape)
    return p[tuple(xp.moveaxis(idx, -1, 0))]


def _scatter_nd_infer(op: Any) -> tuple:
    idx, upd, s = op.inputs
    _require_index(idx)
    out = shape_from_tensor(s)
    if idx.shape.ndims is not None and upd.shape.ndims is not None and out.ndims is not None \
            and idx.shape[-1] is not None:
        k = idx.shape[-1]
        want = TensorShape(idx.shape.as_list()[:-1] + out.as_list()[k:])
        if not want.is_compatible_with(upd.shape):
            raise ValueError(f"The outer {idx.shape.ndims - 1} dimensions of indices.shape="
                             f"{idx.shape.as_list()} must match the outer "
                             f"{idx.shape.ndims - 1} dimensions of updates.shape="
                             f"{upd.shape.as_list()} (expected updates shape {want})")
    return upd.dtype, out


def _scatter_nd_kernel(xp: Any, idx: Any, upd: Any, shape: Any) -> Any:
    shape = tuple(int(d) for d in shape)
    _nd_check(idx, shape)
    out = xp.zeros(shape, dtype=upd.dtype)
    np.add.at(out, tuple(xp.moveaxis(idx, -1, 0)), upd)
    return out


register("GatherNd", infer=_gather_nd_infer, kernel=_gather_nd_kernel,
         grad=lambda op, g: [scatter_nd(op.inputs[1], g, array_ops.shape(
             op.inputs[0], out_type=op.inputs[1].dtype)), None])
register("ScatterNd", infer=_scatter_nd_infer, kernel=_scatter_nd_kernel,
         grad=lambda op, g: [None, gather_nd(g, op.inputs[0]), None])


def gather_nd(params: Any, indices: Any, name: str | None = None, batch_dims: int = 0) -> Any:
    """Gathers slices ``params[indices[..., :]]``: the last dimension of ``indices`` (k)
    indexes the first k dims of ``params``; shape ``indices.shape[:-1] + params.shape[k:]``."""
    if batch_dims:
        raise NotImplementedError("gather_nd: batch_dims != 0 is not supported")
    return apply_op("GatherNd", (convert_to_tensor(params), convert_to_tensor(indices)),
                    name=name)


def scatter_nd(indices: Any, updates: Any, shape: Any, name: str | None = None) -> Any:
    """Zeros of ``shape`` with ``updates`` added at ``indices`` (duplicates are summed)."""
    idx = convert_to_tensor(indices)
    s = convert_to_tensor(shape, dtype=idx.dtype) if not registry.is_tensor(shape) else \
        convert_to_tensor(shape)
    return apply_op("ScatterNd", (idx, convert_to_tensor(updates), s), name=name)


# --- segment sums ----------------------------------------------------------------------
def _segment_infer(op: Any) -> tuple:
    data, ids, num = op.inputs
    _require_index(ids, "segment_ids")
    n = partial_value(num)
    n = n if isinstance(n, int) else None
    if data.shape.ndims is None or ids.shape.ndims is None:
        return data.dtype, TensorShape(None)
    k = ids.shape.ndims
    if not TensorShape(data.shape.as_list()[:k]).is_compatible_with(ids.shape) or \
            data.shape.ndims < k:
        raise ValueError(f"segment_ids.shape = {ids.shape.as_list()} does not match a prefix "
                         f"of data.shape = {data.shape.as_list()}")
    return data.dtype, TensorShape([n] + data.shape.as_list()[k:])


def _segment_kernel(xp: Any, data: Any, ids: Any, num: Any) -> Any:
    n = int(num)
    if ids.size and int(ids.max()) >= n:
        pos = np.argwhere(ids >= n)[0]
        raise ValueError(f"segment_ids[{','.join(str(int(p)) for p in pos)}] = "
                         f"{int(ids[tuple(pos)])} is out of range [0, {n})")
    out = xp.zeros((n,) + data.shape[ids.ndim:], dtype=data.dtype)
    if ids.size and int(ids.min()) < 0:  # negative ids are dropped, as in TF
        keep = ids >= 0
        np.add.at(out, ids[keep], data[keep])
    else:
        np.add.at(out, ids, data)
    return out


def _segment_grad(op: Any, g: Any) -> list:
    data, ids, _ = op.inputs
    safe = math_ops.maximum(ids, math_ops.zeros_like(ids))
    gathered = gather(g, safe)
    extra = None if data.shape.ndims is None or ids.shape.ndims is None else \
        data.shape.ndims - ids.shape.ndims
    if extra is not None:  # zero the rows of dropped (negative) ids
        keep = math_ops.cast(math_ops.greater_equal(ids, 0), g.dtype)
        for _ in builtins.range(extra):
            keep = array_ops.expand_dims(keep, -1)
        gathered = gathered * keep
    return [gathered, None, None]


register("UnsortedSegmentSum", infer=_segment_infer, kernel=_segment_kernel, grad=_segment_grad)


def unsorted_segment_sum(data: Any, segment_ids: Any, num_segments: Any,
                         name: str | None = None) -> Any:
    """``out[i] = sum of data[j...] where segment_ids[j...] == i``: shape
    ``[num_segments] + data.shape[rank(segment_ids):]``; negative ids are dropped."""
    ids = convert_to_tensor(segment_ids)
    n = convert_to_tensor(num_segments, dtype=ids.dtype) if not registry.is_tensor(
        num_segments) else convert_to_tensor(num_segments)
    return apply_op("UnsortedSegmentSum", (convert_to_tensor(data), ids, n), name=name)


def segment_sum(data: Any, segment_ids: Any, name: str | None = None) -> Any:
    """Sums of rows of ``data`` per (sorted) segment id: ``[max(id) + 1, ...]``."""
    ids = convert_to_tensor(segment_ids)
    n = math_ops.reduce_max(ids) + 1
    return unsorted_segment_sum(data, ids, n, name=name)


# --- boolean_mask -----------------------------------------------------------------------
def _mask_key(axis: int, mask: Any) -> tuple:
    return (_pyslice(None),) * axis + (mask,)


def _boolean_mask_infer(op: Any) -> tuple:
    x, mask = op.inputs
    axis = op.attrs["axis"]
    if mask.dtype is not _dt.bool_:
        raise TypeError(f"mask must be bool, got {mask.dtype.name}")
    m = mask.shape.ndims
    if m is None:
        raise ValueError("Number of mask dimensions must be specified, even if some "
                         "dimensions are None.  E.g. shape=[None] is ok, but shape=None is not.")
    if m == 0:
        raise ValueError("mask cannot be scalar.")
    if x.shape.ndims is None:
        return x.dtype, TensorShape(None)
    dims = x.shape.as_list()
    if axis + m > len(dims):
        raise ValueError(f"mask of rank {m} at axis {axis} does not fit tensor of rank "
                         f"{len(dims)}")
    part = TensorShape(dims[axis:axis + m])
    if not part.is_compatible_with(mask.shape):
        raise ValueError(f"Shapes {part} and {mask.shape} are incompatible")
    return x.dtype, TensorShape(dims[:axis] + [None] + dims[axis + m:])


def _boolean_mask_kernel(xp: Any, x: Any, mask: Any, *, axis: int) -> Any:
    if x.shape[axis:axis + mask.ndim] != mask.shape:
        raise ValueError(f"mask shape {list(mask.shape)} does not match tensor dims "
                         f"{list(x.shape[axis:axis + mask.ndim])}")
    return x[_mask_key(axis, mask)]


def _boolean_mask_grad_kernel(xp: Any, g: Any, mask: Any, shape: Any, *, axis: int) -> Any:
    out = xp.zeros(tuple(int(d) for d in shape), dtype=g.dtype)
    out[_mask_key(axis, mask)] = g
    return out


register("BooleanMask", infer=_boolean_mask_infer, kernel=_boolean_mask_kernel,
         grad=lambda op, g: [apply_op("BooleanMaskGrad", (g, op.inputs[1], array_ops.shape(
             op.inputs[0])), op.attrs), None])
register("BooleanMaskGrad", infer=lambda op: (op.inputs[0].dtype, shape_from_tensor(
    op.inputs[2])), kernel=_boolean_mask_grad_kernel,
    grad=lambda op, gg: [apply_op("BooleanMask", (gg, op.inputs[1]), op.attrs), None, None])


def boolean_mask(tensor: Any, mask: Any, name: str = "boolean_mask", axis: Any = None) -> Any:
    """The entries of ``tensor`` where the k-D bool ``mask`` is true (mask covers dims
    ``axis .. axis+k-1``, merged into one dimension of unknown size)."""
    x = convert_to_tensor(tensor)
    axis = 0 if axis is None else int(array_ops.static_ints(axis, "axis"))
    if axis < 0 and x.shape.ndims is not None:
        axis %= x.shape.ndims
    return apply_op("BooleanMask", (x, convert_to_tensor(mask)), {"axis": axis}, name=name)


# --- dynamic_partition / dynamic_stitch ------------------------------------------------
def _partition_infer(op: Any) -> list:
    data, parts = op.inputs
    n = op.attrs["num_partitions"]
    if parts.dtype is not _dt.int32:
        raise TypeError(f"partitions must be int32, got {parts.dtype.name}")
    if data.shape.ndims is None or parts.shape.ndims is None:
        return [(data.dtype, TensorShape(None))] * n
    k = parts.shape.ndims
    if not TensorShape(data.shape.as_list()[:k]).is_compatible_with(parts.shape):
        raise ValueError(f"data.shape = {data.shape.as_list()} does not start with "
                         f"partitions.shape = {parts.shape.as_list()}")
    return [(data.dtype, TensorShape([None] + data.shape.as_list()[k:]))] * n


def _partition_kernel(xp: Any, data: Any, parts: Any, *, num_partitions: int) -> Any:
    _check_indices(parts, num_partitions, "partitions")
    return _one_or_tuple([data[parts == i] for i in builtins.range(num_partitions)])


def _partition_grad(op: Any, *gs: Any) -> list:
    data, parts = op.inputs
    n = op.attrs["num_partitions"]
    idx = array_ops.reshape(array_ops.range_(array_ops.size(parts)), array_ops.shape(parts))
    pieces = dynamic_partition(idx, parts, n)
    gs = [g if g is not None else math_ops.zeros_like(o) for g, o in zip(gs, op.outputs)]
    stitched = dynamic_stitch(pieces, gs)
    return [array_ops.reshape(stitched, array_ops.shape(data)), None]


register("DynamicPartition", infer=_partition_infer, kernel=_partition_kernel,
         grad=_partition_grad)


def dynamic_partition(data: Any, partitions: Any, num_partitions: int,
                      name: str | None = None) -> list:
    """Splits ``data`` into ``num_partitions`` tensors: output i holds the slices of ``data``
    whose (int32) ``partitions`` entry is i, in order."""
    out = apply_op("DynamicPartition", (convert_to_tensor(data), convert_to_tensor(partitions)),
                   {"num_partitions": int(num_partitions)}, name=name)
    return list(out) if isinstance(out, tuple) else [out]


def _stitch_infer(op: Any) -> tuple:
    n = op.attrs["N"]
    idxs, datas = op.inputs[:n], op.inputs[n:]
    dt = datas[0].dtype
    rest = None
    for i, d in zip(idxs, datas):
        if d.dtype is not dt:
            raise TypeError(f"All data must have dtype {dt.name}, got {d.dtype.name}")
        if i.shape.ndims is not None and d.shape.ndims is not None:
            k = i.shape.ndims
            if not TensorShape(d.shape.as_list()[:k]).is_compatible_with(i.shape):
                raise ValueError(f"data.shape = {d.shape.as_list()} does not start with "
                                 f"indices.shape = {i.shape.as_list()}")
            r = TensorShape(d.shape.as_list()[k:])
            rest = r if rest is None else rest.merge_with(r)
    vals = [constant_value(i) for i in idxs]
    size = None
    if all(v is not None for v in vals):
        size = max((int(v.max()) + 1 for v in vals if v.size), default=0)
    if rest is None:
        return dt, TensorShape(None)
    return dt, TensorShape([size] + rest.as_list())


def _stitch_kernel(xp: Any, *args: Any, N: int) -> Any:  # noqa: N803 - TF's attr name
    idxs, datas = args[:N], args[N:]
    size = max((int(i.max()) + 1 for i in idxs if i.size), default=0)
    rest = datas[0].shape[idxs[0].ndim:]
    out = xp.zeros((size,) + rest, dtype=datas[0].dtype)
    for i, d in zip(idxs, datas):  # one assignment per input; later inputs win
        if i.size and int(i.min()) < 0:
            raise ValueError(f"indices contain a negative value: {int(i.min())}")
        out[i.reshape(-1)] = d.reshape((-1,) + rest)
    return out


def _stitch_grad(op: Any, g: Any) -> list:
    """Each data row gets the gradient of the output row it landed in, unless a later row
    overwrote it: the winners are found by stitching the rows' global positions."""
    n = op.attrs["N"]
    idxs, datas = op.inputs[:n], op.inputs[n:]
    ids, start = [], None
    for i in idxs:
        count = array_ops.size(i)
        lo = convert_to_tensor(0) if start is None else start
        ids.append(array_ops.reshape(array_ops.range_(lo, lo + count), array_ops.shape(i)))
        start = lo + count
    winner = dynamic_stitch(list(idxs), ids)
    grads = []
    for i, pos, d in zip(idxs, ids, datas):
        gi = gather(g, i)
        if not (d.dtype.is_floating or d.dtype.is_complex):
            grads.append(None)
            continue
        keep = math_ops.cast(math_ops.equal(gather(winner, i), pos), g.dtype)
        extra = None if d.shape.ndims is None or i.shape.ndims is None else \
            d.shape.ndims - i.shape.ndims
        if extra is None:
            raise ValueError("The gradient of dynamic_stitch needs inputs of known rank")
        for _ in builtins.range(extra):
            keep = array_ops.expand_dims(keep, -1)
        grads.append(gi * keep)
    return [None] * n + grads


register("DynamicStitch", infer=_stitch_infer, kernel=_stitch_kernel, grad=_stitch_grad)


def dynamic_stitch(indices: list, data: list, name: str | None = None) -> Any:
    """Interleaves ``data`` tensors: ``out[indices[m][i, ...]] = data[m][i, ...]``, shape
    ``[max(indices) + 1] + data[0].shape[rank(indices[0]):]`` (later values win)."""
    if len(indices) != len(data):
        raise ValueError("indices and data must have the same length")
    idx = [convert_to_tensor(i) for i in indices]
    ds = [convert_to_tensor(d) for d in data]
    return apply_op("DynamicStitch", tuple(idx + ds), {"N": len(idx)}, name=name)

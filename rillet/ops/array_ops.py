"""Core array ops: constants, placeholders, identity/Print, fill, reshape, shape, stack."""

from __future__ import annotations

import builtins
import sys
from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet import registry
from rillet.graph import get_default_graph
from rillet.ops._util import (
    constant_value,
    partial_value,
    same_as_input,
    scalar_or_none,
    shape_from_tensor,
    static_ints,
)
from rillet.registry import NOT_DIFFERENTIABLE, apply_op, convert_to_tensor, register
from rillet.shapes import TensorShape, as_shape, broadcast_shapes, list_str


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str = "Const",
             verify_shape: bool = False) -> Any:
    """A constant tensor. With ``shape``, a scalar is filled and a same-size value reshaped."""
    arr, dt = registry.to_numpy(value, None if dtype is None else _dt.as_dtype(dtype))
    if shape is not None:
        shape = [int(d) for d in shape]
        if verify_shape and list(arr.shape) != shape:
            raise TypeError(f"Expected Tensor's shape: {tuple(shape)}, got {arr.shape}.")
        if arr.size == 1:
            arr = np.full(shape, arr.reshape(()), dtype=arr.dtype)
        elif arr.size == int(np.prod(shape)):
            arr = arr.reshape(shape)
        else:
            raise TypeError(f"Eager/graph constant: expected {int(np.prod(shape))} values "
                            f"for shape {tuple(shape)}, got {arr.size}")
    return registry.constant_op(arr, dt, name)


# --- placeholders ------------------------------------------------------------------------
def _placeholder_kernel(xp: Any, **_: Any) -> Any:
    raise RuntimeError("placeholder was not fed")  # the Session reports unfed placeholders


register("Placeholder", infer=lambda op: (op.attrs["dtype"], op.attrs["shape"]),
         kernel=_placeholder_kernel, grad=NOT_DIFFERENTIABLE)


def placeholder(dtype: Any, shape: Any = None, name: str | None = None) -> Any:
    """A tensor that must be fed. ``shape`` may hold None (or -1) for unknown dimensions;
    no shape means unknown rank."""
    return apply_op("Placeholder", (), {"dtype": _dt.as_dtype(dtype),
                                        "shape": as_shape(shape)}, name=name or "Placeholder")


def _pwd_infer(op: Any) -> tuple:
    x = op.inputs[0]
    shape = op.attrs["shape"]
    if not shape.is_compatible_with(x.shape):
        raise ValueError(f"Shapes {shape} and {x.shape} are incompatible")
    return x.dtype, shape


register("PlaceholderWithDefault", infer=_pwd_infer, kernel=lambda xp, x: x,
         grad=lambda op, g: [g])


def placeholder_with_default(input: Any, shape: Any, name: str | None = None) -> Any:
    """A placeholder that yields ``input`` when not fed."""
    x = convert_to_tensor(input)
    return apply_op("PlaceholderWithDefault", (x,), {"shape": as_shape(shape)},
                    name=name or "PlaceholderWithDefault")


# --- identity, stop_gradient, Print ----------------------------------------------------
register("Identity", infer=same_as_input, kernel=lambda xp, x: x, grad=lambda op, g: [g])
register("StopGradient", infer=same_as_input, kernel=lambda xp, x: x,
         grad=lambda op, g: [None])


def identity(input: Any, name: str | None = None) -> Any:
    """``input`` unchanged (a new op; fetching it returns a copy)."""
    return apply_op("Identity", (convert_to_tensor(input),), name=name)


def stop_gradient(input: Any, name: str | None = None) -> Any:
    """Identity whose gradient is zero (gradients stop here)."""
    return apply_op("StopGradient", (convert_to_tensor(input),), name=name)


def summarize_value(a: Any, summarize: int) -> str:
    """TensorFlow's Print formatting: ``[1 2 3...]``; a scalar prints as its value."""
    a = np.asarray(a)
    flat = a.reshape(-1)
    n = flat.size if summarize is None or summarize < 0 else min(flat.size, summarize)

    def fmt(v: Any) -> str:
        if isinstance(v, bytes):
            return v.decode("utf-8", "replace")
        if isinstance(v, np.floating | float):
            return f"{float(v):g}"
        return str(v.item() if hasattr(v, "item") else v)
    if a.ndim == 0:
        return fmt(flat[0])
    items = [fmt(v) for v in flat[:n]]
    if a.ndim == 1:
        return "[" + " ".join(items) + ("..." if n < flat.size else "") + "]"
    # Nest by the trailing dimensions, TF style: [[1 2][3 4]].
    def nest(start: int, dim: int) -> tuple[str, int]:
        if dim == a.ndim - 1:
            take = items[start:start + a.shape[dim]]
            return "[" + " ".join(take) + "]", start + a.shape[dim]
        parts, pos = [], start
        for _ in range(a.shape[dim]):
            if pos >= n:
                parts.append("...")
                break
            s, pos = nest(pos, dim + 1)
            parts.append(s)
        return "[" + "".join(parts) + "]", pos
    return nest(0, 0)[0]


def _print_kernel(ctx: Any, x: Any, *data: Any, message: str, first_n: int,
                  summarize: int) -> Any:
    count = ctx.counters.get(ctx.op.name, 0)
    if first_n < 0 or count < first_n:
        ctx.counters[ctx.op.name] = count + 1
        text = message + "".join(_bracket(d, summarize) for d in data)
        print(text, file=sys.stderr, flush=True)
    return x


def _bracket(d: Any, summarize: int) -> str:
    s = summarize_value(d, summarize)
    return s if np.ndim(d) > 0 else f"[{s}]"


register("Print", infer=same_as_input, kernel=_print_kernel, stateful=True, needs_ctx=True,
         grad=lambda op, g: [g] + [None] * (len(op.inputs) - 1))


def Print(input_: Any, data: list, message: str | None = None, first_n: int | None = None,
          summarize: int | None = None, name: str | None = None) -> Any:  # noqa: N802
    """Identity on ``input_`` that prints ``data`` (to stderr) each time it runs.

    The printing is a side effect: it happens only when this op is on the path of a fetch.
    """
    x = convert_to_tensor(input_)
    ts = [convert_to_tensor(d) for d in data]
    return apply_op("Print", (x, *ts), {"message": message or "",
                                        "first_n": -1 if first_n is None else int(first_n),
                                        "summarize": 3 if summarize is None else int(summarize)},
                    name=name)


# --- fill / zeros / ones ---------------------------------------------------------------
def _fill_infer(op: Any) -> tuple:
    dims, value = op.inputs
    if value.shape.ndims not in (None, 0):
        raise ValueError(f"value must be a scalar, got shape {value.shape}")
    return value.dtype, shape_from_tensor(dims)


register("Fill", infer=_fill_infer,
         kernel=lambda xp, dims, value: xp.full(tuple(int(d) for d in dims), value,
                                                dtype=np.asarray(value).dtype),
         grad=lambda op, g: [None, reduce_sum_all(g)])


def reduce_sum_all(g: Any) -> Any:
    """Sum of all entries (a scalar)."""
    from rillet.ops.math_ops import reduce_sum
    return reduce_sum(g)


def _shape_tensor(shape: Any) -> Any:
    if registry.is_tensor(shape):
        return convert_to_tensor(shape)
    if isinstance(shape, TensorShape):
        shape = shape.as_list()
    if isinstance(shape, list | tuple) and any(registry.is_tensor(s) for s in shape):
        return _int_tensor(shape)  # e.g. [tf.shape(x)[0], -1]
    arr = np.asarray(shape, dtype=np.int64).reshape(-1) if np.ndim(shape) else \
        np.asarray([shape], dtype=np.int64)
    return convert_to_tensor(arr.astype(np.int32))


def fill(dims: Any, value: Any, name: str | None = None) -> Any:
    """A tensor of shape ``dims`` filled with the scalar ``value``."""
    return apply_op("Fill", (_shape_tensor(dims), convert_to_tensor(value)), name=name)


def _filled(shape: Any, dtype: Any, v: int, name: str | None) -> Any:
    dtype = _dt.as_dtype(dtype)
    if not registry.is_tensor(shape) and not (
            isinstance(shape, list | tuple) and any(registry.is_tensor(s) for s in shape)):
        dims = [] if shape is None else shape
        dims = dims.as_list() if isinstance(dims, TensorShape) else dims
        dims = [int(d) for d in np.reshape(np.asarray(dims, dtype=np.int64), [-1])] \
            if np.ndim(dims) else [int(dims)]
        if int(np.prod(dims)) <= 1000:
            return constant(np.full(dims, v, dtype=dtype.np), dtype, name=name or
                            ("zeros" if v == 0 else "ones"))
        # Like TF: big constant fills are a Fill op, so graphs (and .meta files) stay small.
        shape = np.asarray(dims, dtype=np.int32)
    return fill(shape, np.array(v, dtype=dtype.np), name=name or
                ("zeros" if v == 0 else "ones"))


def zeros(shape: Any, dtype: Any = _dt.float32, name: str | None = None) -> Any:
    """A tensor of zeros; ``shape`` is a list, TensorShape or 1-D int tensor."""
    return _filled(shape, dtype, 0, name)


def ones(shape: Any, dtype: Any = _dt.float32, name: str | None = None) -> Any:
    """A tensor of ones; ``shape`` is a list, TensorShape or 1-D int tensor."""
    return _filled(shape, dtype, 1, name)


# --- shape / size / rank --------------------------------------------------------------
def _shape_infer(op: Any) -> tuple:
    nd = op.inputs[0].shape.ndims
    return op.attrs["out_type"], TensorShape([nd])


register("Shape", infer=_shape_infer, grad=NOT_DIFFERENTIABLE,
         kernel=lambda xp, x, *, out_type: np.asarray(np.shape(x), dtype=out_type.np))
register("Size", infer=lambda op: (op.attrs["out_type"], TensorShape([])),
         grad=NOT_DIFFERENTIABLE,
         kernel=lambda xp, x, *, out_type: np.asarray(np.size(x), dtype=out_type.np))
register("Rank", infer=lambda op: (_dt.int32, TensorShape([])), grad=NOT_DIFFERENTIABLE,
         kernel=lambda xp, x: np.asarray(np.ndim(x), dtype=np.int32))


def shape(input: Any, name: str | None = None, out_type: Any = _dt.int32) -> Any:
    """The run-time shape of ``input`` as a 1-D int tensor."""
    return apply_op("Shape", (convert_to_tensor(input),), {"out_type": _dt.as_dtype(out_type)},
                    name=name)


def size(input: Any, name: str | None = None, out_type: Any = _dt.int32) -> Any:
    """Number of elements of ``input`` (a scalar of ``out_type``)."""
    return apply_op("Size", (convert_to_tensor(input),), {"out_type": _dt.as_dtype(out_type)},
                    name=name)


def rank(input: Any, name: str | None = None) -> Any:
    """Number of dimensions of ``input`` (an int32 scalar)."""
    return apply_op("Rank", (convert_to_tensor(input),), name=name)


# --- reshape ---------------------------------------------------------------------------
def _dim_sources(s: Any, x: Any) -> list | None:
    """For a packed shape ``[tf.shape(x)[i], ...]``: which entries copy a dimension of ``x``
    itself (index i, else None), so that ``reshape(x, [tf.shape(x)[0], -1])`` keeps a known
    second dimension even when the batch dimension is unknown."""
    op = s.op
    if op.type != "Pack" or op.attrs.get("axis", 0) != 0:
        return None
    out = []
    for e in op.inputs:
        src = None
        eo = e.op
        if eo.type == "StridedSlice" and eo.inputs[0].op.type == "Shape" and \
                eo.inputs[0].op.inputs[0] is x and eo.attrs.get("shrink_axis_mask") == 1:
            b = constant_value(eo.inputs[1])
            if b is not None and b.size == 1:
                src = int(b.reshape(-1)[0]) % max(x.shape.ndims or 1, 1)
        out.append(src)
    return out


def _reshape_infer(op: Any) -> tuple:
    x, s = op.inputs
    target = shape_from_tensor(s)
    v = partial_value(s)
    if not isinstance(v, list):
        return x.dtype, target
    if sum(1 for d in v if d == -1) > 1:
        raise ValueError("Only one input size may be -1, not both")
    if any(d is not None and d < -1 for d in v):
        raise ValueError(f"Size {min(d for d in v if d is not None)} must be non-negative, "
                         "not negative")
    n = x.shape.num_elements()
    if None not in v:
        known = int(np.prod([d for d in v if d != -1])) if v else 1
        if n is not None:
            if -1 in v:
                if known == 0 or n % known:
                    raise ValueError(f"Cannot reshape a tensor with {n} elements to shape "
                                     f"{v}")
                return x.dtype, TensorShape([n // known if d == -1 else d for d in v])
            if known != n:
                raise ValueError(f"Cannot reshape a tensor with {n} elements to shape {v} "
                                 f"({known} elements)")
        return x.dtype, target
    if -1 in v and x.shape.ndims is not None:
        # Unknown target entries that copy unknown dimensions of x cancel out.
        src = _dim_sources(s, x) or [None] * len(v)
        xd = x.shape.as_list()
        used = {i for d, i in zip(v, src) if d is None and i is not None and xd[i] is None}
        open_out = [j for j, d in enumerate(v) if d is None and
                    (src[j] is None or src[j] not in used)]
        open_in = [i for i, d in enumerate(xd) if d is None and i not in used]
        if not open_out and not open_in:
            n_in = int(np.prod([d for i, d in enumerate(xd) if i not in used]))
            n_out = int(np.prod([d for d in v if d is not None and d != -1]))
            if n_out and n_in % n_out == 0:
                return x.dtype, TensorShape([n_in // n_out if d == -1 else d for d in v])
    return x.dtype, target


register("Reshape", infer=_reshape_infer,
         kernel=lambda xp, x, s: xp.reshape(x, tuple(int(d) for d in s)),
         grad=lambda op, g: [reshape(g, shape(op.inputs[0])), None])


def reshape(tensor: Any, shape: Any, name: str | None = None) -> Any:
    """Reshapes ``tensor``; one entry of ``shape`` may be -1."""
    return apply_op("Reshape", (convert_to_tensor(tensor), _shape_tensor(shape)), name=name)


# --- stack (packing lists that contain tensors) ---------------------------------------
def _pack_infer(op: Any) -> tuple:
    dt = op.inputs[0].dtype
    shape = op.inputs[0].shape
    for t in op.inputs[1:]:
        if t.dtype is not dt:
            raise TypeError(f"Pack: all values must have dtype {dt.name}, got {t.dtype.name}")
        if not shape.is_compatible_with(t.shape):
            raise ValueError(f"Shapes must be equal rank, but are {shape} and {t.shape}")
        shape = shape.merge_with(t.shape)
    if shape.ndims is None:
        return dt, TensorShape(None)
    dims = shape.as_list()
    axis = op.attrs["axis"] % (len(dims) + 1)
    dims.insert(axis, len(op.inputs))
    return dt, TensorShape(dims)


def _unpack_grad_list(op: Any, g: Any) -> list:
    from rillet.ops import math_ops
    n = len(op.inputs)
    axis = op.attrs["axis"]
    return [apply_op("GatherAxis", (g,), {"index": i, "axis": axis}) for i in range(n)] \
        if n else [math_ops.zeros_like(g)]


register("Pack", infer=_pack_infer, grad=_unpack_grad_list,
         kernel=lambda xp, *xs, axis: xp.stack(xs, axis=axis))


def _gather_axis_infer(op: Any) -> tuple:
    x = op.inputs[0]
    if x.shape.ndims is None:
        return x.dtype, TensorShape(None)
    dims = x.shape.as_list()
    del dims[op.attrs["axis"] % len(dims)]
    return x.dtype, TensorShape(dims)


register("GatherAxis", infer=_gather_axis_infer,
         kernel=lambda xp, x, *, index, axis: xp.take(x, index, axis=axis),
         grad=lambda op, g: [apply_op("ScatterAxis", (g, op.inputs[0]), op.attrs)])
register("ScatterAxis", infer=lambda op: (op.inputs[0].dtype, op.inputs[1].shape),
         kernel=lambda xp, g, like, *, index, axis: _scatter_axis(xp, g, like, index, axis),
         grad=lambda op, gg: [apply_op("GatherAxis", (gg,), op.attrs), None])


def _scatter_axis(xp: Any, g: Any, like: Any, index: int, axis: int) -> Any:
    out = xp.zeros(np.shape(like), dtype=g.dtype)
    idx = [slice(None)] * out.ndim
    idx[axis] = index
    out[tuple(idx)] = g
    return out


def stack(values: list, axis: int = 0, name: str = "stack") -> Any:
    """Stacks same-shape tensors along a new ``axis``."""
    ts = [convert_to_tensor(v) for v in values]
    if not ts:
        raise ValueError("stack needs at least one value")
    dt = next((t.dtype for t in ts if registry.is_tensor(t)), None)
    ts = [convert_to_tensor(v, dtype=dt) if not registry.is_tensor(v) else t
          for v, t in zip(values, ts)]
    return apply_op("Pack", tuple(ts), {"axis": int(axis)}, name=name)


def _pack_list(value: list, dtype: Any, name: str | None) -> Any:
    items = [_pack_list(v, dtype, None) if isinstance(v, list | tuple) else v for v in value]
    dt = dtype
    if dt is None:
        dt = next((t.dtype for t in items if registry.is_tensor(t)), None)
    ts = [convert_to_tensor(v, dtype=dt) for v in items]
    return apply_op("Pack", tuple(ts), {"axis": 0}, name=name or "packed")


registry._pack_hook = _pack_list


def unstack(value: Any, num: int | None = None, axis: int = 0, name: str = "unstack") -> list:
    """Splits ``value`` along ``axis`` into a list of tensors (``num`` must be known)."""
    x = convert_to_tensor(value)
    if num is None:
        if x.shape.ndims is None or x.shape[axis] is None:
            raise ValueError(f"Cannot infer num from shape {x.shape}")
        num = x.shape[axis]
    with get_default_graph().name_scope(name):
        return [apply_op("GatherAxis", (x,), {"index": i, "axis": int(axis)})
                for i in range(num)]


# --- helpers ----------------------------------------------------------------------------
def _one_or_tuple(outs: list) -> Any:
    """Kernels of ops with a variable number of outputs return one array when there is one."""
    return outs[0] if len(outs) == 1 else tuple(outs)


def _int_tensor(value: Any, dtype: Any = _dt.int32) -> Any:
    """An int tensor from Python ints, a NumPy array, a tensor, or a list mixing them."""
    if registry.is_tensor(value):
        return convert_to_tensor(value)
    if isinstance(value, list | tuple) and any(registry.is_tensor(v) for v in value):
        from rillet.ops.math_ops import cast
        ts = [convert_to_tensor(v) if registry.is_tensor(v) else v for v in value]
        dt = next(t.dtype for t in ts if registry.is_tensor(t))
        return stack([cast(t, dt) if registry.is_tensor(t) else
                      convert_to_tensor(np.asarray(t, dtype=dt.np)) for t in ts])
    return convert_to_tensor(np.asarray(value, dtype=_dt.as_dtype(dtype).np))


def _static_axis(axis: Any, what: str = "axis") -> Any:
    return None if axis is None else static_ints(axis, what)


def _reshape_to_input_grad(op: Any, g: Any) -> list:
    return [reshape(g, shape(op.inputs[0]))] + [None] * (len(op.inputs) - 1)


# --- transpose ----------------------------------------------------------------------------
def _transpose_infer(op: Any) -> tuple:
    x, perm = op.inputs[0], op.attrs["perm"]
    nd = x.shape.ndims
    if perm is None:
        return x.dtype, TensorShape(None if nd is None else x.shape.as_list()[::-1])
    if nd is not None and len(perm) != nd:
        raise ValueError(f"Dimension must be {nd} but is {len(perm)}")
    if sorted(p % len(perm) if len(perm) else p for p in perm) != list(builtins.range(len(perm))):
        raise ValueError(f"perm must be a permutation of 0..{len(perm) - 1}, got {list(perm)}")
    if nd is None:
        return x.dtype, TensorShape([None] * len(perm))
    return x.dtype, TensorShape([x.shape[p] for p in perm])


def _transpose_grad(op: Any, g: Any) -> list:
    perm = op.attrs["perm"]
    if perm is None:
        return [transpose(g)]
    n = len(perm)
    inv = [0] * n
    for i, p in enumerate(perm):
        inv[p % n] = i
    return [transpose(g, inv)]


register("Transpose", infer=_transpose_infer, grad=_transpose_grad,
         kernel=lambda xp, x, *, perm: xp.transpose(x, perm))


def transpose(a: Any, perm: Any = None, name: str = "transpose", conjugate: bool = False) -> Any:
    """Permutes dimensions: output dim i is input dim ``perm[i]`` (default: reversed)."""
    x = convert_to_tensor(a)
    perm = _static_axis(perm, "perm")
    if isinstance(perm, int):
        perm = [perm]
    return apply_op("Transpose", (x,), {"perm": None if perm is None else tuple(perm)},
                    name=name)


def matrix_transpose(a: Any, name: str = "matrix_transpose", conjugate: bool = False) -> Any:
    """Swaps the last two dimensions ``[..., m, n] -> [..., n, m]`` (rank must be known)."""
    x = convert_to_tensor(a)
    nd = x.shape.ndims
    if nd is None or nd < 2:
        raise ValueError(f"Argument 'a' should be a (batch) matrix with rank >= 2, got shape "
                         f"{x.shape}")
    return transpose(x, list(builtins.range(nd - 2)) + [nd - 1, nd - 2], name=name)


# --- expand_dims / squeeze ----------------------------------------------------------------
def _expand_dims_infer(op: Any) -> tuple:
    x, axis = op.inputs[0], op.attrs["axis"]
    nd = x.shape.ndims
    if nd is None:
        return x.dtype, TensorShape(None)
    if not -nd - 1 <= axis <= nd:
        raise ValueError(f"Tried to expand dim index {axis} for tensor with {nd} dimensions.")
    dims = x.shape.as_list()
    dims.insert(axis % (nd + 1), 1)
    return x.dtype, TensorShape(dims)


register("ExpandDims", infer=_expand_dims_infer, grad=_reshape_to_input_grad,
         kernel=lambda xp, x, *, axis: xp.expand_dims(x, axis))


def expand_dims(input: Any, axis: Any = None, name: str | None = None, dim: Any = None) -> Any:
    """Inserts a dimension of size 1 at ``axis`` (``dim`` is TF's old name)."""
    if axis is None:
        axis = dim
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    return apply_op("ExpandDims", (convert_to_tensor(input),),
                    {"axis": int(static_ints(axis, "axis"))}, name=name)


def _squeeze_infer(op: Any) -> tuple:
    x, axis = op.inputs[0], op.attrs["axis"]
    nd = x.shape.ndims
    if nd is None:
        return x.dtype, TensorShape(None)
    dims = x.shape.as_list()
    if not axis:
        if any(d is None for d in dims):
            return x.dtype, TensorShape(None)
        return x.dtype, TensorShape([d for d in dims if d != 1])
    drop = set()
    for a in axis:
        if not -nd <= a < nd:
            raise ValueError(f"Tried to squeeze dim index {a} for tensor with {nd} dimensions.")
        a %= nd
        if dims[a] is not None and dims[a] != 1:
            raise ValueError(f"Can not squeeze dim[{a}], expected a dimension of 1, got "
                             f"{dims[a]}")
        drop.add(a)
    return x.dtype, TensorShape([d for i, d in enumerate(dims) if i not in drop])


def _squeeze_kernel(xp: Any, x: Any, *, axis: tuple) -> Any:
    if axis:
        for a in axis:
            if x.shape[a] != 1:
                raise ValueError(f"Can not squeeze dim[{a % x.ndim}], expected a dimension of "
                                 f"1, got {x.shape[a]}")
        return xp.squeeze(x, axis=axis)
    return xp.squeeze(x)


register("Squeeze", infer=_squeeze_infer, grad=_reshape_to_input_grad, kernel=_squeeze_kernel)


def squeeze(input: Any, axis: Any = None, name: str | None = None,
            squeeze_dims: Any = None) -> Any:
    """Removes size-1 dimensions (those in ``axis``/``squeeze_dims``, or all of them)."""
    if axis is None:
        axis = squeeze_dims
    axis = _static_axis(axis)
    axis = () if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))
    return apply_op("Squeeze", (convert_to_tensor(input),), {"axis": axis}, name=name)


# --- concat / split -----------------------------------------------------------------------
def _concat_infer(op: Any) -> tuple:
    dt = op.inputs[0].dtype
    axis = op.attrs["axis"]
    ref = None
    for i, t in enumerate(op.inputs):
        if t.dtype is not dt:
            raise TypeError(f"Input 'values' of 'ConcatV2' Op has type {t.dtype.name} at "
                            f"index {i} that does not match type {dt.name} of the first")
        if t.shape.ndims is not None:
            if ref is None:
                ref = t.shape
                if ref.ndims == 0:
                    raise ValueError("Can't concatenate scalars (use tf.stack instead)")
                if not -ref.ndims <= axis < ref.ndims:
                    raise ValueError(f"ConcatOp : Expected concatenating dimensions in the "
                                     f"range [{-ref.ndims}, {ref.ndims}), but got {axis}")
            elif t.shape.ndims != ref.ndims:
                raise ValueError(f"Shape must be rank {ref.ndims} but is rank {t.shape.ndims}")
    if ref is None:
        return dt, TensorShape(None)
    a = axis % ref.ndims
    dims = [None] * ref.ndims
    total: int | None = 0
    for t in op.inputs:
        if t.shape.ndims is None:
            total = None
            continue
        for i, d in enumerate(t.shape.as_list()):
            if i == a:
                total = None if total is None or d is None else total + d
            elif d is not None:
                if dims[i] is not None and dims[i] != d:
                    raise ValueError(f"Dimension {i} in both shapes must be equal, but are "
                                     f"{dims[i]} and {d}. Shapes are {ref} and {t.shape}.")
                dims[i] = d
    dims[a] = total
    return dt, TensorShape(dims)


def _concat_grad(op: Any, g: Any) -> list:
    axis = op.attrs["axis"]
    xs = op.inputs
    sizes = [t.shape[axis] if t.shape.ndims is not None else None for t in xs]
    if any(d is None for d in sizes):
        sizes = stack([shape(t)[axis] for t in xs])
    return list(split(g, sizes, axis, num=len(xs)))


register("ConcatV2", infer=_concat_infer, grad=_concat_grad,
         kernel=lambda xp, *xs, axis: xp.concatenate(xs, axis=axis))


def concat(values: Any, axis: Any, name: str = "concat") -> Any:
    """Joins tensors along an existing ``axis``; other dimensions must match."""
    if registry.is_tensor(values):
        values = [values]
    ts = [convert_to_tensor(v) for v in values]
    if not ts:
        raise ValueError("concat needs at least one value")
    dt = next((t.dtype for v, t in zip(values, ts) if registry.is_tensor(v)), ts[0].dtype)
    ts = [t if registry.is_tensor(v) else convert_to_tensor(v, dtype=dt)
          for v, t in zip(values, ts)]
    axis = int(static_ints(axis, "axis"))
    if len(ts) == 1:
        return identity(ts[0], name=name)
    return apply_op("ConcatV2", tuple(ts), {"axis": axis}, name=name)


def _split_axis(x: Any, axis: int) -> tuple[int | None, int | None]:
    nd = x.shape.ndims
    if nd is None:
        return None, None
    if not -nd <= axis < nd:
        raise ValueError(f"-input rank(-{nd}) <= split_dim < input rank ({nd}), but got "
                         f"{axis}")
    return axis % nd, x.shape[axis % nd]


def _split_infer(op: Any) -> list:
    x, n, axis = op.inputs[0], op.attrs["num_split"], op.attrs["axis"]
    a, d = _split_axis(x, axis)
    if a is None:
        return [(x.dtype, TensorShape(None))] * n
    if d is not None and d % n:
        raise ValueError(f"Dimension size must be evenly divisible by {n} but is {d}")
    dims = x.shape.as_list()
    dims[a] = None if d is None else d // n
    return [(x.dtype, TensorShape(dims))] * n


def _split_v_sizes(op: Any) -> list | None:
    v = partial_value(op.inputs[1])
    return v if isinstance(v, list) else None


def _split_v_infer(op: Any) -> list:
    x, n, axis = op.inputs[0], op.attrs["num_split"], op.attrs["axis"]
    sizes = _split_v_sizes(op)
    a, d = _split_axis(x, axis)
    if sizes is not None:
        if len(sizes) != n:
            raise ValueError(f"Length of size_splits should be equal to num_split ({n}), got "
                             f"{len(sizes)}")
        if sum(1 for s in sizes if s == -1) > 1:
            raise ValueError("Cannot have more than one derived dimension (-1) in size_splits")
        if None not in sizes and d is not None:
            known = sum(s for s in sizes if s != -1)
            if (-1 not in sizes and known != d) or (-1 in sizes and known > d):
                raise ValueError("Determined shape must either match input shape along "
                                 "split_dim exactly if fully specified, or be less than the "
                                 f"size of the input along split_dim if not fully specified. "
                                 f"Got: {known}")
            sizes = [d - known if s == -1 else s for s in sizes]
    if a is None:
        return [(x.dtype, TensorShape(None))] * n
    out = []
    for i in builtins.range(n):
        dims = x.shape.as_list()
        s = None if sizes is None else sizes[i]
        dims[a] = None if s is None or s < 0 else s
        out.append((x.dtype, TensorShape(dims)))
    return out


def _split_v_kernel(xp: Any, x: Any, sizes: Any, *, axis: int) -> tuple:
    sizes = [int(s) for s in sizes]
    d = x.shape[axis]
    if -1 in sizes:
        sizes[sizes.index(-1)] = d - (sum(sizes) + 1)
    if sum(sizes) != d or min(sizes, default=0) < 0:
        raise ValueError(f"Determined shape must either match input shape along split_dim "
                         f"exactly if fully specified, or be less than the size of the input "
                         f"along split_dim if not fully specified. Got: {sum(sizes)}")
    return _one_or_tuple(xp.split(x, np.cumsum(sizes)[:-1].tolist(), axis=axis))


def _split_grad(op: Any, *gs: Any) -> list:
    from rillet.ops import math_ops
    parts = [g if g is not None else math_ops.zeros_like(o) for g, o in zip(gs, op.outputs)]
    return [concat(parts, op.attrs["axis"])] + [None] * (len(op.inputs) - 1)


register("Split", infer=_split_infer, grad=_split_grad,
         kernel=lambda xp, x, *, num_split, axis: _one_or_tuple(xp.split(x, num_split, axis)))
register("SplitV", infer=_split_v_infer, grad=_split_grad, kernel=_split_v_kernel)


def split(value: Any, num_or_size_splits: Any, axis: Any = 0, num: int | None = None,
          name: str = "split") -> list:
    """Splits ``value`` along ``axis`` into ``num_or_size_splits`` equal parts, or into parts
    of the given sizes (one may be -1). Returns a list of tensors."""
    x = convert_to_tensor(value)
    axis = int(static_ints(axis, "axis"))
    n = num_or_size_splits
    if registry.is_tensor(n) and n.shape.ndims == 0:
        n = static_ints(n, "num_or_size_splits")  # a scalar tensor: the number of splits
    if not registry.is_tensor(n) and not isinstance(n, list | tuple) and np.ndim(n) == 0:
        n = int(n)
        if n < 1:
            raise ValueError(f"num_or_size_splits must be >= 1, got {n}")
        out = apply_op("Split", (x,), {"num_split": n, "axis": axis}, name=name)
    else:
        sizes = _int_tensor(n)
        if num is None:
            num = sizes.shape[0] if sizes.shape.ndims == 1 else None
            if num is None:
                raise ValueError(f"Cannot infer num from shape {sizes.shape}")
        out = apply_op("SplitV", (x, sizes), {"num_split": int(num), "axis": axis},
                       name=name)
    return list(out) if isinstance(out, tuple) else [out]


# --- tile / pad / reverse / broadcast_to ----------------------------------------------
def _tile_infer(op: Any) -> tuple:
    x, m = op.inputs
    if m.shape.ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {m.shape.ndims}")
    mv = partial_value(m)
    n = len(mv) if isinstance(mv, list) else (m.shape[0] if m.shape.ndims == 1 else None)
    if x.shape.ndims is not None and n is not None and n != x.shape.ndims:
        raise ValueError(f"Shape must be rank {x.shape.ndims} but is rank {n}")
    nd = x.shape.ndims if x.shape.ndims is not None else n
    if nd is None:
        return x.dtype, TensorShape(None)
    xd = x.shape.as_list() if x.shape.ndims is not None else [None] * nd
    md = mv if isinstance(mv, list) else [None] * nd
    return x.dtype, TensorShape([None if d is None or k is None else d * k
                                 for d, k in zip(xd, md)])


def _tile_grad(op: Any, g: Any) -> list:
    from rillet.ops import math_ops
    x, m = op.inputs
    nd = x.shape.ndims if x.shape.ndims is not None else m.shape[0]
    if nd is None:
        raise ValueError("The gradient of tile needs the rank of its input")
    s = shape(x, out_type=m.dtype)
    split_shape = reshape(transpose(stack([m, s])), [-1])  # [m0, d0, m1, d1, ...]
    axes = list(builtins.range(0, 2 * nd, 2))
    return [math_ops.reduce_sum(reshape(g, split_shape), axes), None]


register("Tile", infer=_tile_infer, grad=_tile_grad,
         kernel=lambda xp, x, m: xp.tile(x, tuple(int(k) for k in m)))


def tile(input: Any, multiples: Any, name: str | None = None) -> Any:
    """Repeats ``input`` ``multiples[i]`` times along dimension i."""
    return apply_op("Tile", (convert_to_tensor(input), _int_tensor(multiples)), name=name)


_PAD_MODES = {"CONSTANT": "constant", "REFLECT": "reflect", "SYMMETRIC": "symmetric"}


def _pad_infer(op: Any) -> tuple:
    x, p = op.inputs[0], op.inputs[1]
    mode = op.attrs["mode"]
    if p.shape.ndims is not None and (p.shape.ndims != 2 or p.shape[1] not in (None, 2)):
        raise ValueError(f"paddings must be a matrix with 2 columns: {p.shape}")
    nd = x.shape.ndims
    if nd is not None and p.shape.ndims == 2 and p.shape[0] not in (None, nd):
        raise ValueError(f"The first dimension of paddings must be the rank of inputs"
                         f"[{p.shape[0]},2], {x.shape}")
    if len(op.inputs) > 2 and op.inputs[2].dtype is not x.dtype:
        raise TypeError(f"constant_values has dtype {op.inputs[2].dtype.name}, expected "
                        f"{x.dtype.name}")
    if nd is None:
        nd = p.shape[0] if p.shape.ndims == 2 else None
        return x.dtype, TensorShape(None if nd is None else [None] * nd)
    pv = constant_value(p)
    if pv is None:
        return x.dtype, TensorShape([None] * nd)
    dims = []
    for i, (d, (a, b)) in enumerate(zip(x.shape.as_list(), pv.tolist())):
        if a < 0 or b < 0:
            raise ValueError(f"Paddings must be non-negative: {a} {b}")
        if d is not None and mode != "CONSTANT":
            lim = d - 1 if mode == "REFLECT" else d
            if a > lim or b > lim:
                raise ValueError(f"paddings must be no greater than the dimension size: {a}, "
                                 f"{b} greater than {lim}" if mode == "SYMMETRIC" else
                                 f"paddings must be less than the dimension size: {a}, {b} "
                                 f"not less than {d} (dimension {i})")
        dims.append(None if d is None else d + a + b)
    return x.dtype, TensorShape(dims)


def _pad_kernel(xp: Any, x: Any, p: Any, *cv: Any, mode: str) -> Any:
    pads = [(int(a), int(b)) for a, b in np.asarray(p).reshape(-1, 2)]
    if len(pads) != x.ndim:
        raise ValueError(f"The first dimension of paddings must be the rank of inputs"
                         f"[{len(pads)},2], {list(x.shape)}")
    if mode == "CONSTANT":
        return xp.pad(x, pads, mode="constant", constant_values=cv[0] if cv else 0)
    for d, (a, b) in zip(x.shape, pads):
        lim = d - 1 if mode == "REFLECT" else d
        if a > lim or b > lim or a < 0 or b < 0:
            raise ValueError(f"paddings must be less than the dimension size: {a}, {b} not "
                             f"less than {d}" if mode == "REFLECT" else
                             f"paddings must be no greater than the dimension size: {a}, {b} "
                             f"greater than {d}")
    return xp.pad(x, pads, mode=_PAD_MODES[mode])


def _pad_grad(op: Any, g: Any) -> list:
    from rillet.ops import slicing
    x, p = op.inputs[0], op.inputs[1]
    extra = [None] * (len(op.inputs) - 1)
    if op.attrs["mode"] == "CONSTANT":
        return [slicing.slice(g, p[:, 0], shape(x, out_type=p.dtype))] + extra
    return [apply_op("MirrorPadGrad", (g, p), {"mode": op.attrs["mode"]})] + extra


def _mirror_pad_grad_kernel(xp: Any, g: Any, p: Any, *, mode: str) -> Any:
    """Folds the mirrored borders of ``g`` back onto the core (one pass per dimension)."""
    r = 1 if mode == "REFLECT" else 0
    out = g
    for ax, (a, b) in enumerate(np.asarray(p).reshape(-1, 2).tolist()):
        n = out.shape[ax] - a - b
        idx = (builtins.slice(None),) * ax
        core = out[idx + (builtins.slice(a, a + n),)].copy()
        if a:
            left = xp.flip(out[idx + (builtins.slice(0, a),)], ax)
            core[idx + (builtins.slice(r, r + a),)] += left
        if b:
            right = xp.flip(out[idx + (builtins.slice(a + n, None),)], ax)
            core[idx + (builtins.slice(n - r - b, n - r),)] += right
        out = core
    return out


def _mirror_pad_grad_infer(op: Any) -> tuple:
    g, p = op.inputs
    pv = constant_value(p)
    if g.shape.ndims is None or pv is None:
        return g.dtype, TensorShape(None if g.shape.ndims is None else [None] * g.shape.ndims)
    return g.dtype, TensorShape([None if d is None else d - a - b
                                 for d, (a, b) in zip(g.shape.as_list(), pv.tolist())])


register("Pad", infer=_pad_infer, kernel=_pad_kernel, grad=_pad_grad)
register("MirrorPadGrad", infer=_mirror_pad_grad_infer, kernel=_mirror_pad_grad_kernel,
         grad=lambda op, gg: [pad(gg, op.inputs[1], op.attrs["mode"]), None])


def pad(tensor: Any, paddings: Any, mode: str = "CONSTANT", name: str | None = None,
        constant_values: Any = 0) -> Any:
    """Pads with ``paddings[i] = [before, after]`` per dimension; ``mode`` is CONSTANT
    (with ``constant_values``), REFLECT (edge not repeated) or SYMMETRIC (edge repeated)."""
    x = convert_to_tensor(tensor)
    m = str(mode).upper()
    if m not in _PAD_MODES:
        raise ValueError(f"Unknown padding mode: {mode}")
    inputs = [x, _int_tensor(paddings)]
    if m == "CONSTANT":
        inputs.append(convert_to_tensor(constant_values, dtype=x.dtype)
                      if not registry.is_tensor(constant_values)
                      else convert_to_tensor(constant_values))
    return apply_op("Pad", tuple(inputs), {"mode": m}, name=name)


def _reverse_infer(op: Any) -> tuple:
    x = op.inputs[0]
    nd = x.shape.ndims
    if nd is not None:
        seen = set()
        for a in op.attrs["axis"]:
            if not -nd <= a < nd:
                raise ValueError(f"'axis'[0] = {a} is out of valid range [{-nd}, {nd - 1}]")
            if a % nd in seen:
                raise ValueError(f"axis {a % nd} specified more than once.")
            seen.add(a % nd)
    return x.dtype, x.shape


register("ReverseV2", infer=_reverse_infer,
         kernel=lambda xp, x, *, axis: xp.flip(x, axis) if axis else x,
         grad=lambda op, g: [reverse(g, list(op.attrs["axis"]))])


def reverse(tensor: Any, axis: Any, name: str | None = None) -> Any:
    """Reverses the order of entries along each dimension in ``axis`` (a list of ints)."""
    axis = static_ints(axis, "axis")
    axis = (axis,) if isinstance(axis, int) else tuple(axis)
    return apply_op("ReverseV2", (convert_to_tensor(tensor),), {"axis": axis}, name=name)


reverse_v2 = reverse


def _broadcast_to_infer(op: Any) -> tuple:
    x, s = op.inputs
    target = shape_from_tensor(s)
    if x.shape.ndims is not None and target.ndims is not None:
        if x.shape.ndims > target.ndims:
            raise ValueError(f"Rank of input ({x.shape.ndims}) must be no greater than rank of "
                             f"output shape ({target.ndims}).")
        out = broadcast_shapes(x.shape, target)  # raises "Incompatible shapes"
        for a, b in zip(out.as_list(), target.as_list()):
            if a is not None and b is not None and a != b:
                raise ValueError(f"Incompatible shapes: {list_str(x.shape)} vs. "
                                 f"{list_str(target)}")
        return x.dtype, out
    return x.dtype, target


register("BroadcastTo", infer=_broadcast_to_infer,
         kernel=lambda xp, x, s: xp.broadcast_to(x, tuple(int(d) for d in s)),
         grad=lambda op, g: [_unbroadcast(g, op.inputs[0]), None])


def _unbroadcast(g: Any, x: Any) -> Any:
    from rillet.ops.math_ops import unbroadcast
    return unbroadcast(g, x)


def broadcast_to(input: Any, shape: Any, name: str | None = None) -> Any:
    """``input`` broadcast (NumPy rules) to ``shape``; a read-only view, no copy."""
    return apply_op("BroadcastTo", (convert_to_tensor(input), _shape_tensor(shape)), name=name)


# --- one_hot / range / linspace / sequence_mask / meshgrid / unique ---------------------
def _one_hot_infer(op: Any) -> tuple:
    idx, depth, on, off = op.inputs
    if not idx.dtype.is_integer:
        raise TypeError(f"Value passed to parameter 'indices' has DataType {idx.dtype.name} not "
                        "in list of allowed values: uint8, int32, int64")
    if on.dtype is not off.dtype:
        raise TypeError(f"on_value ({on.dtype.name}) and off_value ({off.dtype.name}) must "
                        "have the same dtype")
    d = scalar_or_none(depth)
    if d is not None and d < 0:
        raise ValueError(f"depth must be non-negative, got: {d}")
    nd = idx.shape.ndims
    if nd is None:
        return on.dtype, TensorShape(None)
    axis = op.attrs["axis"]
    if not -1 <= axis <= nd:
        raise ValueError(f"Expected axis to be -1 or between [0, {nd}).  But received: {axis}")
    dims = idx.shape.as_list()
    dims.insert(nd if axis == -1 else axis, d)
    return on.dtype, TensorShape(dims)


def _one_hot_kernel(xp: Any, idx: Any, depth: Any, on: Any, off: Any, *, axis: int) -> Any:
    d = int(depth)
    if d < 0:
        raise ValueError(f"depth must be non-negative, got: {d}")
    hot = idx[..., None] == xp.arange(d)
    out = xp.where(hot, on, off).astype(on.dtype, copy=False)
    return out if axis in (-1, idx.ndim) else xp.moveaxis(out, -1, axis)


register("OneHot", infer=_one_hot_infer, kernel=_one_hot_kernel, grad=NOT_DIFFERENTIABLE)


def one_hot(indices: Any, depth: Any, on_value: Any = None, off_value: Any = None,
            axis: int | None = None, dtype: Any = None, name: str | None = None) -> Any:
    """One-hot encoding: a new dimension of size ``depth`` at ``axis`` (default last) holding
    ``on_value`` (1) at each index and ``off_value`` (0) elsewhere; out-of-range indices
    give an all-off row. dtype: from on/off values, else ``dtype`` (float32)."""
    idx = convert_to_tensor(indices)
    if dtype is None:
        for v in (on_value, off_value):
            if registry.is_tensor(v):
                dtype = v.dtype
                break
        else:
            if on_value is not None or off_value is not None:
                v = on_value if on_value is not None else off_value
                dtype = _dt.infer_dtype(v)
            else:
                dtype = _dt.float32
    dtype = _dt.as_dtype(dtype)
    on = convert_to_tensor(1 if on_value is None else on_value, dtype=dtype)
    off = convert_to_tensor(0 if off_value is None else off_value, dtype=dtype)
    d = convert_to_tensor(depth, dtype=_dt.int32) if not registry.is_tensor(depth) else \
        convert_to_tensor(depth)
    return apply_op("OneHot", (idx, d, on, off), {"axis": -1 if axis is None else int(axis)},
                    name=name)


_RANGE_ORDER = [_dt.int32, _dt.int64, _dt.float32, _dt.float64]


def _range_infer(op: Any) -> tuple:
    dt = op.inputs[0].dtype
    for t in op.inputs:
        if t.shape.ndims not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {t.shape.ndims}")
    vals = [constant_value(t) for t in op.inputs]
    if any(v is None for v in vals):
        return dt, TensorShape([None])
    start, limit, delta = (v.item() for v in vals)
    return dt, TensorShape([_range_size(start, limit, delta)])


def _range_size(start: Any, limit: Any, delta: Any) -> int:
    if delta == 0:
        raise ValueError(f"Requires delta != 0: {delta}")
    if delta > 0 and start > limit:
        raise ValueError(f"Requires start <= limit when delta > 0: {start}/{limit}")
    if delta < 0 and start < limit:
        raise ValueError(f"Requires start >= limit when delta < 0: {start}/{limit}")
    return int(np.ceil(abs((limit - start) / delta)))


def _range_kernel(xp: Any, start: Any, limit: Any, delta: Any) -> Any:
    _range_size(start.item(), limit.item(), delta.item())
    return xp.arange(start, limit, delta, dtype=start.dtype)


register("Range", infer=_range_infer, kernel=_range_kernel, grad=NOT_DIFFERENTIABLE)


def range_(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None,
           name: str = "range") -> Any:
    """``[start, start + delta, ...]`` up to (excluding) ``limit``; ``range(n)`` counts from 0.
    dtype: the widest of the arguments' (ints -> int32, floats -> float32) unless given."""
    if limit is None:
        start, limit = 0, start
    args = [start, limit, delta]
    if dtype is None:
        dts = [a.dtype if registry.is_tensor(a) else _dt.infer_dtype(a) for a in args]
        dtype = max(dts, key=lambda d: _RANGE_ORDER.index(d) if d in _RANGE_ORDER else 0)
    dtype = _dt.as_dtype(dtype)
    ts = []
    for a in args:
        t = convert_to_tensor(a) if registry.is_tensor(a) else \
            convert_to_tensor(np.asarray(a).astype(dtype.np))
        if t.dtype is not dtype:
            from rillet.ops.math_ops import cast
            t = cast(t, dtype)
        ts.append(t)
    return apply_op("Range", tuple(ts), name=name)


def _linspace_infer(op: Any) -> tuple:
    start, stop, num = op.inputs
    if not start.dtype.is_floating:
        raise TypeError(f"Value passed to parameter 'start' has DataType {start.dtype.name} not "
                        "in list of allowed values: bfloat16, float16, float32, float64")
    n = scalar_or_none(num)
    if n is not None and n <= 0:
        raise ValueError(f"Requires num > 0: {n}")
    return start.dtype, TensorShape([n])


def _linspace_kernel(xp: Any, start: Any, stop: Any, num: Any) -> Any:
    if int(num) <= 0:
        raise ValueError(f"Requires num > 0: {int(num)}")
    return xp.linspace(start, stop, int(num), dtype=start.dtype)


register("LinSpace", infer=_linspace_infer, kernel=_linspace_kernel, grad=NOT_DIFFERENTIABLE)


def linspace(start: Any, stop: Any, num: Any, name: str | None = None) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (float)."""
    s = convert_to_tensor(start) if registry.is_tensor(start) else \
        convert_to_tensor(start, dtype=_dt.float32)
    e = convert_to_tensor(stop, dtype=s.dtype) if not registry.is_tensor(stop) else \
        convert_to_tensor(stop)
    n = convert_to_tensor(num, dtype=_dt.int32) if not registry.is_tensor(num) else \
        convert_to_tensor(num)
    return apply_op("LinSpace", (s, e, n), name=name)


lin_space = linspace


def sequence_mask(lengths: Any, maxlen: Any = None, dtype: Any = _dt.bool_,
                  name: str | None = None) -> Any:
    """``mask[..., j] = j < lengths[...]``: shape ``lengths.shape + [maxlen]`` (default
    ``max(lengths)``), as ``dtype`` (bool)."""
    from rillet.ops import math_ops
    with get_default_graph().name_scope(name or "SequenceMask"):
        lengths = convert_to_tensor(lengths)
        if maxlen is None:
            maxlen = math_ops.reduce_max(lengths)
        elif registry.is_tensor(maxlen):
            maxlen = math_ops.cast(convert_to_tensor(maxlen), lengths.dtype)
        else:
            maxlen = convert_to_tensor(maxlen, dtype=lengths.dtype)
        r = range_(convert_to_tensor(0, dtype=lengths.dtype), maxlen,
                   convert_to_tensor(1, dtype=lengths.dtype))
        mask = math_ops.less(r, expand_dims(lengths, -1))
        dtype = _dt.as_dtype(dtype)
        return mask if dtype is _dt.bool_ else math_ops.cast(mask, dtype)


def meshgrid(*args: Any, **kwargs: Any) -> list:
    """Coordinate grids from 1-D tensors: N outputs of shape ``[len1, len0, len2, ...]``
    (``indexing="xy"``, the default) or ``[len0, len1, ...]`` (``indexing="ij"``)."""
    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", "meshgrid")
    if kwargs:
        raise TypeError(f"invalid keyword arguments to meshgrid: {list(kwargs)}")
    if indexing not in ("xy", "ij"):
        raise ValueError("indexing parameter must be either 'xy' or 'ij'")
    ts = [convert_to_tensor(a) for a in args]
    n = len(ts)
    with get_default_graph().name_scope(name):
        sizes = [size(t) for t in ts]
        order = list(builtins.range(n))
        if indexing == "xy" and n > 1:
            order[0], order[1] = 1, 0
        out_shape = stack([sizes[order[i]] for i in builtins.range(n)])
        outs = []
        for i, t in enumerate(ts):
            pos = order.index(i)
            s = [1] * n
            s[pos] = -1
            outs.append(broadcast_to(reshape(t, s), out_shape))
        return outs


def _unique_infer(op: Any) -> list:
    x = op.inputs[0]
    if x.shape.ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {x.shape.ndims}")
    return [(x.dtype, TensorShape([None])), (op.attrs["out_idx"], x.shape)]


def _unique_kernel(xp: Any, x: Any, *, out_idx: Any) -> tuple:
    if x.ndim != 1:
        raise ValueError("unique expects a 1D vector.")
    u, first, inv = np.unique(x, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # first-occurrence order, as TF
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return u[order], rank[inv.reshape(-1)].astype(out_idx.np, copy=False)


register("Unique", infer=_unique_infer, kernel=_unique_kernel, grad=NOT_DIFFERENTIABLE)


def unique(x: Any, out_idx: Any = _dt.int32, name: str | None = None) -> tuple:
    """(y, idx): the distinct values of 1-D ``x`` in order of first occurrence, and for each
    entry of ``x`` its position in ``y`` (so ``x == gather(y, idx)``)."""
    return apply_op("Unique", (convert_to_tensor(x),), {"out_idx": _dt.as_dtype(out_idx)},
                    name=name)


def _reverse_sequence_infer(op: Any) -> tuple:
    x, lengths = op.inputs
    sa, ba = op.attrs["seq_axis"], op.attrs["batch_axis"]
    if not lengths.dtype.is_integer:
        raise TypeError(f"seq_lengths must be int32 or int64, got {lengths.dtype.name}")
    if lengths.shape.ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {lengths.shape.ndims}")
    nd = x.shape.ndims
    if nd is not None:
        if sa == ba or not (0 <= sa < nd and 0 <= ba < nd):
            raise ValueError(f"Invalid seq_axis {sa} / batch_axis {ba} for input of rank {nd}")
        b, n = x.shape[ba], lengths.shape[0] if lengths.shape.ndims == 1 else None
        if b is not None and n is not None and b != n:
            raise ValueError(f"Length of seq_lengths != input.dims({ba}), ({n} vs. {b})")
    return x.dtype, x.shape


def _reverse_sequence_kernel(xp: Any, x: Any, lengths: Any, *, seq_axis: int,
                             batch_axis: int) -> Any:
    t_len, b_len = x.shape[seq_axis], x.shape[batch_axis]
    lengths = lengths.astype(np.int64)
    if lengths.shape != (b_len,) or (lengths < 0).any() or (lengths > t_len).any():
        raise ValueError(f"seq_lengths must be {b_len} values in [0, {t_len}], got "
                         f"{lengths.tolist()}")
    t = xp.arange(t_len)[None, :]
    n = lengths[:, None]
    src = xp.where(t < n, n - 1 - t, t)  # [batch, time]: where each output step reads from
    if batch_axis > seq_axis:
        src = src.T
    idx = [1] * x.ndim
    idx[batch_axis], idx[seq_axis] = b_len, t_len
    src = xp.broadcast_to(src.reshape(idx), x.shape)
    return xp.take_along_axis(x, src, axis=seq_axis)


register("ReverseSequence", infer=_reverse_sequence_infer, kernel=_reverse_sequence_kernel,
         grad=lambda op, g: [reverse_sequence(g, op.inputs[1], op.attrs["seq_axis"],
                                              op.attrs["batch_axis"]), None])


def reverse_sequence(input: Any, seq_lengths: Any, seq_axis: int | None = None,
                     batch_axis: int | None = None, name: str | None = None,
                     seq_dim: int | None = None, batch_dim: int | None = None) -> Any:
    """Reverses the first ``seq_lengths[b]`` steps along ``seq_axis`` of each batch entry
    ``b`` (along ``batch_axis``, default 0); later steps stay in place."""
    sa = seq_axis if seq_axis is not None else seq_dim
    ba = batch_axis if batch_axis is not None else (batch_dim if batch_dim is not None else 0)
    if sa is None:
        raise ValueError("reverse_sequence needs seq_axis")
    x = convert_to_tensor(input)
    nd = x.shape.ndims
    if nd is not None:
        sa, ba = int(sa) % nd, int(ba) % nd
    return apply_op("ReverseSequence", (x, convert_to_tensor(seq_lengths)),
                    {"seq_axis": int(sa), "batch_axis": int(ba)}, name=name)


def eye(num_rows: int, num_columns: int | None = None, batch_shape: Any = None,
        dtype: Any = _dt.float32, name: str | None = None) -> Any:
    """Identity matrix ``[*batch_shape, num_rows, num_columns]`` (a constant)."""
    m = np.eye(int(num_rows), None if num_columns is None else int(num_columns),
               dtype=_dt.as_dtype(dtype).np)
    if batch_shape is not None:
        m = np.broadcast_to(m, tuple(int(d) for d in batch_shape) + m.shape)
    return constant(m, dtype=dtype, name=name or "eye")


# Strided slicing, gather/scatter and partitioning live in rillet.ops.slicing (imported last:
# it builds on this module). ``Tensor.__getitem__`` calls ``strided_slice_getitem``.
from rillet.ops.slicing import (  # noqa: E402, F401 - re-exported
    boolean_mask,
    dynamic_partition,
    dynamic_stitch,
    gather,
    gather_nd,
    scatter_nd,
    strided_slice,
    strided_slice_getitem,
    unsorted_segment_sum,
)

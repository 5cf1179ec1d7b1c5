"""Core array ops: constants, placeholders, identity/Print, fill, reshape, shape, stack."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet import registry
from rillet.graph import get_default_graph
from rillet.ops._util import constant_value, same_as_input, shape_from_tensor
from rillet.registry import NOT_DIFFERENTIABLE, apply_op, convert_to_tensor, register
from rillet.shapes import TensorShape, as_shape


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
    from rillet.ops.math_ops import reduce_sum
    return reduce_sum(g)


def _shape_tensor(shape: Any) -> Any:
    if registry.is_tensor(shape):
        return convert_to_tensor(shape)
    if isinstance(shape, TensorShape):
        shape = shape.as_list()
    arr = np.asarray(shape, dtype=np.int64).reshape(-1) if np.ndim(shape) else \
        np.asarray([shape], dtype=np.int64)
    if isinstance(shape, list | tuple) and any(registry.is_tensor(s) for s in shape):
        return convert_to_tensor(shape, dtype=_dt.int32)
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
        return constant(np.full(dims, v, dtype=dtype.np), dtype, name=name or
                        ("zeros" if v == 0 else "ones"))
    return fill(shape, np.array(v, dtype=dtype.np), name=name)


def zeros(shape: Any, dtype: Any = _dt.float32, name: str | None = None) -> Any:
    """A tensor of zeros; ``shape`` is a list, TensorShape or 1-D int tensor."""
    return _filled(shape, dtype, 0, name)


def ones(shape: Any, dtype: Any = _dt.float32, name: str | None = None) -> Any:
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
    return apply_op("Size", (convert_to_tensor(input),), {"out_type": _dt.as_dtype(out_type)},
                    name=name)


def rank(input: Any, name: str | None = None) -> Any:
    return apply_op("Rank", (convert_to_tensor(input),), name=name)


# --- reshape ---------------------------------------------------------------------------
def _reshape_infer(op: Any) -> tuple:
    x, s = op.inputs
    target = shape_from_tensor(s)
    v = constant_value(s)
    if v is not None:
        v = [int(d) for d in np.reshape(v, [-1])]
        if sum(1 for d in v if d == -1) > 1:
            raise ValueError("Only one input size may be -1, not both")
        n = x.shape.num_elements()
        known = int(np.prod([d for d in v if d != -1])) if v else 1
        if n is not None:
            if -1 in v:
                if known == 0 or n % known:
                    raise ValueError(f"Cannot reshape a tensor with {n} elements to shape "
                                     f"{v}")
                target = TensorShape([n // known if d == -1 else d for d in v])
            elif known != n:
                raise ValueError(f"Cannot reshape a tensor with {n} elements to shape {v} "
                                 f"({known} elements)")
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

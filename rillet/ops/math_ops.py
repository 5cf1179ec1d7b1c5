"""Arithmetic, comparison, matmul and reduction ops."""

from __future__ import annotations

from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet.ops._util import (
    broadcast_infer,
    check_same_dtype,
    compare_infer,
    float_unary_infer,
    same_as_input,
)
from rillet.registry import NOT_DIFFERENTIABLE, apply_op, convert_to_tensor, is_tensor, register
from rillet.shapes import TensorShape, broadcast_shapes


def quiet(kernel: Any) -> Any:
    """Wraps a kernel so NumPy's floating-point warnings (log(0), x/0, overflow) stay silent:
    TensorFlow returns inf/nan for these without a warning."""
    def k(xp: Any, *args: Any, **kw: Any) -> Any:
        with np.errstate(all="ignore"):
            return kernel(xp, *args, **kw)
    k.__signature__ = __import__("inspect").signature(kernel)  # keeps the attr names visible
    return k


def _int_div_check(xp: Any, y: Any) -> None:
    if y.dtype.kind in "iu" and (y == 0).any():
        raise ValueError("Integer division by zero")


def _floordiv_kernel(xp: Any, x: Any, y: Any) -> Any:
    _int_div_check(xp, y)
    return xp.floor_divide(x, y)


def _floormod_kernel(xp: Any, x: Any, y: Any) -> Any:
    _int_div_check(xp, y)
    return xp.mod(x, y)


# --- helpers for gradients: undo broadcasting -----------------------------------------
def _sum_to_shape(xp: Any, g: Any, shape: tuple) -> Any:
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, d in enumerate(shape)
                                      if d == 1 and g.shape[i + lead] != 1)
    out = g.sum(axis=axes, keepdims=True) if axes else g
    return out.reshape(shape)


register("UnbroadcastGrad",
         infer=lambda op: (op.inputs[0].dtype, op.inputs[1].shape),
         kernel=lambda xp, g, x: _sum_to_shape(xp, xp.asarray(g), np.shape(x)),
         grad=lambda op, gg: [broadcast_like(gg, op.inputs[0]), None])
register("BroadcastLike",
         infer=lambda op: (op.inputs[0].dtype,
                           broadcast_shapes(op.inputs[0].shape, op.inputs[1].shape)),
         kernel=lambda xp, x, like: xp.broadcast_to(x, np.broadcast_shapes(np.shape(x),
                                                                            np.shape(like))),
         grad=lambda op, g: [unbroadcast(g, op.inputs[0]), None])


def unbroadcast(g: Any, x: Any) -> Any:
    """Sums gradient ``g`` down to the shape of ``x`` (undoing NumPy broadcasting)."""
    if g is None:
        return None
    if g.shape.is_fully_defined() and g.shape == x.shape:
        return g
    return apply_op("UnbroadcastGrad", (g, x))


def broadcast_like(x: Any, like: Any) -> Any:
    """``x`` broadcast to the shape of ``like``."""
    if x.shape.is_fully_defined() and x.shape == like.shape:
        return x
    return apply_op("BroadcastLike", (x, like))


# --- binary elementwise ----------------------------------------------------------------
def _binary_args(x: Any, y: Any) -> tuple:
    """Converts a mix of tensors and Python/NumPy values; the tensor's dtype wins, as in TF
    (``int_tensor + 1.5`` is a TypeError, ``float_tensor + 1`` is fine)."""
    if not is_tensor(x) and is_tensor(y):
        y = convert_to_tensor(y)
        return convert_to_tensor(x, dtype=y.dtype), y
    x = convert_to_tensor(x)
    return x, convert_to_tensor(y, dtype=x.dtype) if not is_tensor(y) else convert_to_tensor(y)


def _def_binary(op_type: str, kernel: Any, grad: Any, infer: Any = broadcast_infer) -> Any:
    register(op_type, infer=infer, kernel=kernel, grad=grad)

    def fn(x: Any, y: Any, name: str | None = None) -> Any:
        x, y = _binary_args(x, y)
        return apply_op(op_type, (x, y), name=name)
    fn.__name__ = op_type.lower()
    return fn


def _div_grad(op: Any, g: Any) -> list:
    x, y = op.inputs
    return [unbroadcast(g / y, x), unbroadcast(-g * x / (y * y), y)]


def _pow_grad(op: Any, g: Any) -> list:
    x, y = op.inputs
    z = op.outputs[0]
    gx = g * y * pow(x, y - 1)
    safe_log = log(where_(x > 0, x, ones_like(x)))
    gy = g * z * where_(x > 0, safe_log, zeros_like(x))
    return [unbroadcast(gx, x), unbroadcast(gy, y)]


def _truediv_infer(op: Any) -> tuple:
    dt, shape = broadcast_infer(op)
    if dt.is_integer:
        dt = _dt.float64 if dt.size >= 4 else _dt.float32
    return dt, shape


def _truediv_kernel(xp: Any, x: Any, y: Any) -> Any:
    out = xp.true_divide(x, y)
    if x.dtype.kind in "iu" and x.dtype.itemsize < 4:
        out = out.astype(np.float32)
    return out


add = _def_binary("Add", lambda xp, x, y: xp.add(x, y),
                  lambda op, g: [unbroadcast(g, op.inputs[0]), unbroadcast(g, op.inputs[1])])
subtract = _def_binary("Sub", lambda xp, x, y: xp.subtract(x, y),
                       lambda op, g: [unbroadcast(g, op.inputs[0]),
                                      unbroadcast(-g, op.inputs[1])])
multiply = _def_binary("Mul", lambda xp, x, y: xp.multiply(x, y),
                       lambda op, g: [unbroadcast(g * op.inputs[1], op.inputs[0]),
                                      unbroadcast(g * op.inputs[0], op.inputs[1])])
divide_ = _def_binary("RealDiv", quiet(lambda xp, x, y: xp.true_divide(x, y)), _div_grad)
truediv = _def_binary("TrueDiv", quiet(_truediv_kernel), _div_grad, _truediv_infer)
floordiv = _def_binary("FloorDiv", quiet(_floordiv_kernel), NOT_DIFFERENTIABLE)
floormod = _def_binary("FloorMod", quiet(_floormod_kernel),
                       lambda op, g: [unbroadcast(g, op.inputs[0]),
                                      unbroadcast(-g * floor(op.inputs[0] / op.inputs[1]),
                                                  op.inputs[1])])
pow = _def_binary("Pow", quiet(lambda xp, x, y: xp.power(x, y)), _pow_grad)
maximum = _def_binary("Maximum", lambda xp, x, y: xp.maximum(x, y),
                      lambda op, g: _minmax_grad(op, g, greater_equal))
minimum = _def_binary("Minimum", lambda xp, x, y: xp.minimum(x, y),
                      lambda op, g: _minmax_grad(op, g, less_equal))
squared_difference = _def_binary(
    "SquaredDifference", lambda xp, x, y: xp.square(x - y),
    lambda op, g: [unbroadcast(2 * g * (op.inputs[0] - op.inputs[1]), op.inputs[0]),
                   unbroadcast(-2 * g * (op.inputs[0] - op.inputs[1]), op.inputs[1])])


def _minmax_grad(op: Any, g: Any, cmp: Any) -> list:
    x, y = op.inputs
    mask = cmp(x, y)
    z = zeros_like(g)
    return [unbroadcast(where_(mask, g, z), x), unbroadcast(where_(mask, z, g), y)]


def divide(x: Any, y: Any, name: str | None = None) -> Any:
    """``x / y`` (Python 3 semantics: integer inputs give floats)."""
    x, y = _binary_args(x, y)
    if x.dtype.is_integer:
        return apply_op("TrueDiv", (x, y), name=name)
    return apply_op("RealDiv", (x, y), name=name)


def div(x: Any, y: Any, name: str | None = None) -> Any:
    """TF 1.x ``div``: floor division for integers, true division for floats."""
    x, y = _binary_args(x, y)
    if x.dtype.is_integer:
        return floordiv(x, y, name=name)
    return apply_op("RealDiv", (x, y), name=name)


realdiv = divide_
mod = floormod
sub = subtract
mul = multiply

for _name, _np_fn in [("Equal", np.equal), ("NotEqual", np.not_equal), ("Less", np.less),
                      ("LessEqual", np.less_equal), ("Greater", np.greater),
                      ("GreaterEqual", np.greater_equal)]:
    register(_name, infer=compare_infer, grad=NOT_DIFFERENTIABLE,
             kernel=(lambda f: lambda xp, x, y: getattr(xp, f.__name__)(x, y))(_np_fn))


def _cmp(op_type: str) -> Any:
    def fn(x: Any, y: Any, name: str | None = None) -> Any:
        x, y = _binary_args(x, y)
        return apply_op(op_type, (x, y), name=name)
    fn.__name__ = op_type
    return fn


equal = _cmp("Equal")
not_equal = _cmp("NotEqual")
less = _cmp("Less")
less_equal = _cmp("LessEqual")
greater = _cmp("Greater")
greater_equal = _cmp("GreaterEqual")


def _bool_infer(op: Any) -> tuple:
    for t in op.inputs:
        if t.dtype is not _dt.bool_:
            raise TypeError(f"Value passed to '{op.type}' has DataType {t.dtype.name}, "
                            "expected bool")
    if len(op.inputs) == 1:
        return same_as_input(op)
    return _dt.bool_, broadcast_shapes(op.inputs[0].shape, op.inputs[1].shape)


register("LogicalAnd", infer=_bool_infer, kernel=lambda xp, x, y: xp.logical_and(x, y),
         grad=NOT_DIFFERENTIABLE)
register("LogicalOr", infer=_bool_infer, kernel=lambda xp, x, y: xp.logical_or(x, y),
         grad=NOT_DIFFERENTIABLE)
register("LogicalXor", infer=_bool_infer, kernel=lambda xp, x, y: xp.logical_xor(x, y),
         grad=NOT_DIFFERENTIABLE)
register("LogicalNot", infer=_bool_infer, kernel=lambda xp, x: xp.logical_not(x),
         grad=NOT_DIFFERENTIABLE)
logical_and = _cmp("LogicalAnd")
logical_or = _cmp("LogicalOr")
logical_xor = _cmp("LogicalXor")


def logical_not(x: Any, name: str | None = None) -> Any:
    return apply_op("LogicalNot", (convert_to_tensor(x),), name=name)


# --- unary -----------------------------------------------------------------------------
def _def_unary(op_type: str, kernel: Any, grad: Any, infer: Any = same_as_input) -> Any:
    register(op_type, infer=infer, kernel=kernel, grad=grad)

    def fn(x: Any, name: str | None = None) -> Any:
        return apply_op(op_type, (convert_to_tensor(x),), name=name)
    fn.__name__ = op_type.lower()
    return fn


negative = _def_unary("Neg", lambda xp, x: xp.negative(x), lambda op, g: [-g])
square = _def_unary("Square", lambda xp, x: xp.square(x),
                    lambda op, g: [g * (2 * op.inputs[0])])
abs = _def_unary("Abs", lambda xp, x: xp.abs(x), lambda op, g: [g * sign(op.inputs[0])])
sign = _def_unary("Sign", lambda xp, x: xp.sign(x), lambda op, g: [zeros_like(op.inputs[0])])
floor = _def_unary("Floor", lambda xp, x: xp.floor(x), NOT_DIFFERENTIABLE,  # TF: no gradient
                   float_unary_infer)
log = _def_unary("Log", quiet(lambda xp, x: xp.log(x)), lambda op, g: [g / op.inputs[0]],
                 float_unary_infer)
exp = _def_unary("Exp", quiet(lambda xp, x: xp.exp(x)), lambda op, g: [g * op.outputs[0]],
                 float_unary_infer)
neg = negative


# --- where / zeros_like / ones_like (needed by gradients) ------------------------------
def _select_infer(op: Any) -> tuple:
    c, x, y = op.inputs
    if c.dtype is not _dt.bool_:
        raise TypeError(f"condition must be bool, got {c.dtype.name}")
    if x.dtype is not y.dtype:
        raise TypeError(f"Input 'e' of 'Select' Op has type {y.dtype.name} that does not "
                        f"match type {x.dtype.name} of argument 't'")
    return x.dtype, broadcast_shapes(broadcast_shapes(c.shape, x.shape), y.shape)


def _select_grad(op: Any, g: Any) -> list:
    c, x, y = op.inputs
    z = zeros_like(g)
    return [None, unbroadcast(where_(c, g, z), x), unbroadcast(where_(c, z, g), y)]


register("SelectV2", infer=_select_infer, kernel=lambda xp, c, x, y: xp.where(c, x, y),
         grad=_select_grad)


def where_(condition: Any, x: Any, y: Any, name: str | None = None) -> Any:
    x, y = _binary_args(x, y)
    return apply_op("SelectV2", (convert_to_tensor(condition), x, y), name=name)


register("ZerosLike", infer=same_as_input, kernel=lambda xp, x: xp.zeros_like(x),
         grad=lambda op, g: [None])
register("OnesLike", infer=same_as_input, kernel=lambda xp, x: xp.ones_like(x),
         grad=lambda op, g: [None])


def zeros_like(tensor: Any, dtype: Any = None, name: str | None = None,
               optimize: bool = True) -> Any:
    """Zeros with the shape (and, unless given, dtype) of ``tensor``."""
    t = convert_to_tensor(tensor)
    out = apply_op("ZerosLike", (t,), name=name)
    return out if dtype is None or _dt.as_dtype(dtype) is t.dtype else cast(out, dtype)


def ones_like(tensor: Any, dtype: Any = None, name: str | None = None,
              optimize: bool = True) -> Any:
    t = convert_to_tensor(tensor)
    out = apply_op("OnesLike", (t,), name=name)
    return out if dtype is None or _dt.as_dtype(dtype) is t.dtype else cast(out, dtype)


# --- cast --------------------------------------------------------------------------------
def _cast_grad(op: Any, g: Any) -> list:
    src = op.inputs[0].dtype
    if (src.is_floating or src.is_complex) and (g.dtype.is_floating or g.dtype.is_complex):
        return [cast(g, src)]
    return [None]


register("Cast", infer=lambda op: (op.attrs["DstT"], op.inputs[0].shape),
         kernel=lambda xp, x, *, DstT: xp.asarray(x).astype(DstT.np, copy=False),
         grad=_cast_grad)


def cast(x: Any, dtype: Any, name: str | None = None) -> Any:
    """Casts to ``dtype`` (a DType, NumPy dtype or name such as ``"float"``)."""
    dtype = _dt.as_dtype(dtype)
    x = convert_to_tensor(x)
    if x.dtype is dtype:
        return x
    return apply_op("Cast", (x,), {"DstT": dtype}, name=name)


def to_float(x: Any, name: str = "ToFloat") -> Any:
    return cast(x, _dt.float32, name)


def to_int32(x: Any, name: str = "ToInt32") -> Any:
    return cast(x, _dt.int32, name)


def to_int64(x: Any, name: str = "ToInt64") -> Any:
    return cast(x, _dt.int64, name)


# --- matmul ------------------------------------------------------------------------------
def _matmul_infer(op: Any) -> tuple:
    a, b = op.inputs
    dt = check_same_dtype(op, ("a", "b"))
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    sa, sb = a.shape, b.shape
    if sa.ndims is None or sb.ndims is None:
        return dt, TensorShape(None)
    if sa.ndims < 2 or sb.ndims < 2:
        raise ValueError(f"Shape must be rank >= 2 but is rank {min(sa.ndims, sb.ndims)}")
    m, k1 = (sa[-1], sa[-2]) if ta else (sa[-2], sa[-1])
    k2, n = (sb[-1], sb[-2]) if tb else (sb[-2], sb[-1])
    if k1 is not None and k2 is not None and k1 != k2:
        raise ValueError(f"Dimensions must be equal, but are {k1} and {k2}")
    batch = broadcast_shapes(sa[:-2], sb[:-2])
    return dt, batch.concatenate([m, n])


def _mT(xp: Any, x: Any) -> Any:
    return xp.swapaxes(x, -1, -2)


def _matmul_kernel(xp: Any, a: Any, b: Any, *, transpose_a: bool, transpose_b: bool) -> Any:
    if transpose_a:
        a = _mT(xp, a)
    if transpose_b:
        b = _mT(xp, b)
    return xp.matmul(a, b)


def _matmul_grad(op: Any, g: Any) -> list:
    a, b = op.inputs
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if not ta and not tb:
        ga, gb = matmul(g, b, transpose_b=True), matmul(a, g, transpose_a=True)
    elif not ta and tb:
        ga, gb = matmul(g, b), matmul(g, a, transpose_a=True)
    elif ta and not tb:
        ga, gb = matmul(b, g, transpose_b=True), matmul(a, g)
    else:
        ga, gb = matmul(b, g, transpose_a=True, transpose_b=True), \
            matmul(g, a, transpose_a=True, transpose_b=True)
    return [unbroadcast(ga, a), unbroadcast(gb, b)]


register("MatMul", infer=_matmul_infer, kernel=_matmul_kernel, grad=_matmul_grad)


def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False,
           adjoint_a: bool = False, adjoint_b: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, name: str | None = None) -> Any:
    """Matrix product of the last two dimensions, batched over leading ones.
    a: [..., m, k], b: [..., k, n] -> [..., m, n] (after optional transposes)."""
    a, b = _binary_args(a, b)
    return apply_op("MatMul", (a, b), {"transpose_a": bool(transpose_a or adjoint_a),
                                       "transpose_b": bool(transpose_b or adjoint_b)},
                    name=name)


# --- add_n ---------------------------------------------------------------------------------
def _add_n_infer(op: Any) -> tuple:
    dt = check_same_dtype(op, tuple(f"inputs_{i}" for i in range(len(op.inputs))))
    shape = op.inputs[0].shape
    for t in op.inputs[1:]:
        if not shape.is_compatible_with(t.shape):
            raise ValueError(f"Shapes must be equal rank, but are {shape} and {t.shape}")
        shape = shape.merge_with(t.shape)
    return dt, shape


def _add_n_kernel(xp: Any, *xs: Any) -> Any:
    out = xp.add(xs[0], xs[1]) if len(xs) > 1 else xp.array(xs[0], copy=True)
    for x in xs[2:]:
        if isinstance(out, xp.ndarray) and out.ndim:
            xp.add(out, x, out=out)  # accumulate in place: one buffer for n inputs
        else:
            out = out + x
    return out


register("AddN", infer=_add_n_infer, kernel=_add_n_kernel,
         grad=lambda op, g: [g] * len(op.inputs))


def add_n(inputs: list, name: str | None = None) -> Any:
    """Elementwise sum of a list of same-shape tensors."""
    if not inputs:
        raise ValueError("inputs must be a list of at least one Tensor with the same "
                         "dtype and shape")
    ts = [convert_to_tensor(t) for t in inputs]
    if len(ts) == 1 and name is None:
        return ts[0]
    return apply_op("AddN", tuple(ts), name=name)


# --- reductions ----------------------------------------------------------------------------
def _norm_axes(axis: Any, ndim: int | None) -> tuple | None:
    if axis is None:
        return None
    axes = [int(a) for a in np.reshape(np.asarray(axis), [-1])]
    if ndim is None:
        return tuple(axes)
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"Invalid reduction dimension {a} for input with {ndim} "
                             "dimensions")
    return tuple(sorted({a % max(ndim, 1) for a in axes}))


def _reduce_infer(op: Any) -> tuple:
    x = op.inputs[0]
    dt = op.attrs.get("out_dtype") or x.dtype
    nd = x.shape.ndims
    axes = _norm_axes(op.attrs["axis"], nd)
    keep = op.attrs["keepdims"]
    if nd is None:
        return dt, TensorShape(None)
    if axes is None:
        return dt, TensorShape([1] * nd if keep else [])
    if any(a < 0 for a in axes):
        return dt, TensorShape(None)
    dims = [(1 if keep else -1) if i in axes else d for i, d in enumerate(x.shape.as_list())]
    return dt, TensorShape([d for d in dims if d != -1])


def _reduce_grad_broadcast(op: Any, g: Any) -> Any:
    """Gradient of a reduction broadcast back to the input's shape."""
    x = op.inputs[0]
    if not op.attrs["keepdims"] and op.attrs["axis"] is not None:
        g = apply_op("ExpandReduced", (g, x), {"axis": op.attrs["axis"]})
    return broadcast_like(g, x)


def _expand_reduced(xp: Any, g: Any, x: Any, *, axis: Any) -> Any:
    axes = _norm_axes(axis, np.ndim(x))
    return xp.reshape(g, [1 if i in axes else d for i, d in enumerate(np.shape(x))])


def _expand_reduced_infer(op: Any) -> tuple:
    g, x = op.inputs
    axes = _norm_axes(op.attrs["axis"], x.shape.ndims)
    if x.shape.ndims is None or any(a < 0 for a in axes):
        return g.dtype, TensorShape(None)
    return g.dtype, TensorShape([1 if i in axes else d for i, d in enumerate(x.shape)])


register("ExpandReduced", infer=_expand_reduced_infer, kernel=_expand_reduced,
         grad=lambda op, gg: [reduce_sum(gg, axis=op.attrs["axis"]), None])


def _ax(axis: Any) -> Any:
    return None if axis is None else (axis if isinstance(axis, int) else tuple(axis))


def _mean_grad(op: Any, g: Any) -> list:
    x, y = op.inputs[0], op.outputs[0]
    gx = _reduce_grad_broadcast(op, g)
    if x.shape.is_fully_defined() and y.shape.is_fully_defined():
        n = max(x.shape.num_elements(), 1) // max(y.shape.num_elements(), 1)
        return [gx / n]
    count = apply_op("ReduceCount", (x, y))
    return [gx / cast(count, gx.dtype)]


register("ReduceCount", infer=lambda op: (_dt.int64, TensorShape([])),
         kernel=lambda xp, x, y: np.int64(max(np.size(x), 1) // max(np.size(y), 1)),
         grad=NOT_DIFFERENTIABLE)


def _minmax_reduce_grad(op: Any, g: Any) -> list:
    x, y = op.inputs[0], op.outputs[0]
    op_keep = type("K", (), {"inputs": op.inputs, "attrs": op.attrs})
    yb = _reduce_grad_broadcast(op_keep, y)
    gb = _reduce_grad_broadcast(op_keep, g)
    mask = cast(equal(x, yb), g.dtype)
    count = _reduce_grad_broadcast(op_keep, reduce_sum(mask, op.attrs["axis"],
                                                       keepdims=op.attrs["keepdims"]))
    return [gb * mask / count]


def _def_reduce(op_type: str, np_name: str, grad: Any, out_dtype: Any = None) -> Any:
    def kernel(xp: Any, x: Any, *, axis: Any, keepdims: bool) -> Any:
        return getattr(xp, np_name)(x, axis=_ax(axis), keepdims=keepdims)
    register(op_type, infer=_reduce_infer, kernel=kernel, grad=grad)

    def fn(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
           reduction_indices: Any = None, keep_dims: Any = None) -> Any:
        x = convert_to_tensor(input_tensor)
        if axis is None:
            axis = reduction_indices
        if keepdims is None:
            keepdims = bool(keep_dims)
        if hasattr(axis, "op") or (hasattr(axis, "dtype") and not isinstance(axis, np.ndarray)):
            from rillet.ops._util import constant_value
            v = constant_value(axis)
            if v is None:
                raise ValueError(f"{op_type}: the reduction axis must be known when the "
                                 "graph is built")
            axis = v
        if axis is not None:
            axis = [int(a) for a in np.reshape(np.asarray(axis), [-1])]
            axis = axis[0] if len(axis) == 1 else tuple(axis)
        return apply_op(op_type, (x,), {"axis": axis, "keepdims": bool(keepdims)},
                        name=name)
    fn.__name__ = np_name
    return fn


reduce_sum = _def_reduce("Sum", "sum", lambda op, g: [_reduce_grad_broadcast(op, g)])
reduce_mean = _def_reduce("Mean", "mean", _mean_grad)
reduce_max = _def_reduce("Max", "max", _minmax_reduce_grad)
reduce_min = _def_reduce("Min", "min", _minmax_reduce_grad)


def _argminmax_infer(op: Any) -> tuple:
    x = op.inputs[0]
    axis = op.attrs["axis"]
    nd = x.shape.ndims
    if nd is None:
        return op.attrs["output_type"], TensorShape(None)
    a = _norm_axes(axis, nd)[0]
    return op.attrs["output_type"], TensorShape([d for i, d in enumerate(x.shape) if i != a])


register("ArgMax", infer=_argminmax_infer, grad=NOT_DIFFERENTIABLE,
         kernel=lambda xp, x, *, axis, output_type: xp.argmax(x, axis=axis).astype(
             output_type.np, copy=False))
register("ArgMin", infer=_argminmax_infer, grad=NOT_DIFFERENTIABLE,
         kernel=lambda xp, x, *, axis, output_type: xp.argmin(x, axis=axis).astype(
             output_type.np, copy=False))


def _arg(op_type: str) -> Any:
    def fn(input: Any, axis: Any = None, name: str | None = None, dimension: Any = None,
           output_type: Any = _dt.int64) -> Any:
        if axis is None:
            axis = 0 if dimension is None else dimension
        return apply_op(op_type, (convert_to_tensor(input),),
                        {"axis": int(axis), "output_type": _dt.as_dtype(output_type)},
                        name=name)
    return fn


argmax = _arg("ArgMax")
argmin = _arg("ArgMin")

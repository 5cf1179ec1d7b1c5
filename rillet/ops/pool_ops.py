"""2-D pooling: ``max_pool`` and ``avg_pool`` with their gradients (NHWC and NCHW).

Kernels loop over the ``kh * kw`` window offsets, each step a whole-array operation on a strided
view of the padded input; there is no loop over the batch or the elements and no ``np.add.at``.
The max-pool gradient goes to the first maximum of each window (row-major window order): each
offset claims the windows whose maximum it holds and that no earlier offset claimed, and adds
their gradient into a strided slice of the input gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rillet.ops._util import shape_from_tensor
from rillet.ops.array_ops import shape as _shape
from rillet.ops.conv_ops import (
    Geometry,
    from_nhwc,
    nhwc,
    norm_data_format,
    norm_hw,
    norm_padding,
    out_size,
    pad_hw,
    spatial,
    to_format,
)
from rillet.ops.math_ops import zeros_like
from rillet.registry import apply_op, convert_to_tensor, register
from rillet.shapes import TensorShape


def _views(x: Any, geo: Geometry, kh: int, kw: int, strides: tuple) -> Any:
    """Yields the strided view [N, OH, OW, C] of padded ``x`` for each window offset."""
    sh, sw = strides
    for i in range(kh):
        for j in range(kw):
            yield x[:, i:i + (geo.oh - 1) * sh + 1:sh, j:j + (geo.ow - 1) * sw + 1:sw, :]


def _geometry(x: Any, ksize: tuple, strides: tuple, padding: str) -> Geometry:
    return Geometry(x.shape[1], x.shape[2], ksize[0], ksize[1], strides, (1, 1), padding)


def _lowest(dtype: Any) -> Any:
    dtype = np.dtype(dtype)
    return -np.inf if dtype.kind in "fc" else np.iinfo(dtype).min


def _pool_infer(op: Any) -> tuple:
    x = op.inputs[0]
    if x.shape.ndims is not None and x.shape.ndims != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {x.shape.ndims}")
    df = op.attrs["data_format"]
    n, h, w, c = spatial(x.shape, df)
    (kh, kw), (sh, sw) = op.attrs["ksize"], op.attrs["strides"]
    pad = op.attrs["padding"]
    oh = out_size(h, kh, sh, 1, pad, 0)[0]
    ow = out_size(w, kw, sw, 1, pad, 1)[0]
    return x.dtype, to_format([n, oh, ow, c], df)


# --- max pool ---------------------------------------------------------------------------------


def _max_pool_kernel(xp: Any, x: Any, *, ksize: tuple, strides: tuple, padding: str,
                     data_format: str) -> Any:
    x = nhwc(xp, x, data_format)
    geo = _geometry(x, ksize, strides, padding)
    xpad = pad_hw(xp, x, geo.ph, geo.pw, _lowest(x.dtype))
    out = None
    for v in _views(xpad, geo, *ksize, strides):
        if out is None:
            out = v.copy()
        else:
            xp.maximum(out, v, out=out)
    return from_nhwc(xp, out, data_format)


def _first_max_masks(xp: Any, x: Any, y: Any, geo: Geometry, ksize: tuple,
                     strides: tuple) -> Any:
    """Yields (offset index, mask [N, OH, OW, C]) where the offset holds the window's first
    maximum."""
    xpad = pad_hw(xp, x, geo.ph, geo.pw, _lowest(x.dtype))
    last = ksize[0] * ksize[1] - 1
    taken = None
    for k, v in enumerate(_views(xpad, geo, *ksize, strides)):
        m = v == y
        if taken is None:
            taken = m.copy() if k < last else None
        else:
            m = xp.greater(m, taken, out=m)  # m & ~taken (bools)
            if k < last:
                taken |= m
        yield k, m


def _max_pool_grad_kernel(xp: Any, x: Any, y: Any, g: Any, *, ksize: tuple, strides: tuple,
                          padding: str, data_format: str) -> Any:
    x, y, g = (nhwc(xp, a, data_format) for a in (x, y, g))
    geo = _geometry(x, ksize, strides, padding)
    n, h, w, c = x.shape
    hp, wp = h + sum(geo.ph), w + sum(geo.pw)
    (kh, kw), (sh, sw) = ksize, strides
    disjoint = sh >= kh and sw >= kw  # each input is in at most one window
    tiled = disjoint and sh == kh and sw == kw and hp == geo.oh * kh and wp == geo.ow * kw
    dx = (xp.empty if tiled else xp.zeros)((n, hp, wp, c), dtype=g.dtype)
    views = list(_views(dx, geo, *ksize, strides))
    for k, m in _first_max_masks(xp, x, y, geo, ksize, strides):
        if disjoint:  # every view of dx is written by one offset only: write, don't add
            xp.multiply(g, m, out=views[k])
        else:
            views[k] += g * m
    dx = dx[:, geo.ph[0]:geo.ph[0] + h, geo.pw[0]:geo.pw[0] + w, :]
    return from_nhwc(xp, dx, data_format)


def _max_pool_grad_grad_kernel(xp: Any, x: Any, y: Any, gg: Any, *, ksize: tuple,
                               strides: tuple, padding: str, data_format: str) -> Any:
    x, y, gg = (nhwc(xp, a, data_format) for a in (x, y, gg))
    geo = _geometry(x, ksize, strides, padding)
    views = list(_views(pad_hw(xp, gg, geo.ph, geo.pw), geo, *ksize, strides))
    out = xp.zeros(y.shape, dtype=gg.dtype)
    for k, m in _first_max_masks(xp, x, y, geo, ksize, strides):
        out += views[k] * m
    return from_nhwc(xp, out, data_format)


def _max_pool_grad(op: Any, g: Any) -> list:
    return [apply_op("MaxPoolGrad", (op.inputs[0], op.outputs[0], g), dict(op.attrs))]


def _max_pool_grad_grad(op: Any, gg: Any) -> list:
    x, y, _ = op.inputs
    return [zeros_like(x), zeros_like(y),
            apply_op("MaxPoolGradGrad", (x, y, gg), dict(op.attrs))]


def _max_pool_grad_grad_grad(op: Any, g: Any) -> list:
    x, y, _ = op.inputs
    return [zeros_like(x), zeros_like(y), apply_op("MaxPoolGrad", (x, y, g), dict(op.attrs))]


def _same_as(i: int) -> Any:
    def infer(op: Any) -> tuple:
        dt = op.inputs[0].dtype
        for t in op.inputs[1:]:
            if t.dtype is not dt:
                raise TypeError(f"{op.type}: all inputs must have dtype {dt.name}, got "
                                f"{t.dtype.name}")
        return dt, op.inputs[i].shape
    return infer


register("MaxPool", infer=_pool_infer, kernel=_max_pool_kernel, grad=_max_pool_grad)
register("MaxPoolGrad", infer=_same_as(0), kernel=_max_pool_grad_kernel,
         grad=_max_pool_grad_grad)
register("MaxPoolGradGrad", infer=_same_as(1), kernel=_max_pool_grad_grad_kernel,
         grad=_max_pool_grad_grad_grad)


# --- average pool -----------------------------------------------------------------------------


def _counts(xp: Any, h: int, w: int, geo: Geometry, ksize: tuple, strides: tuple,
            dtype: Any) -> Any:
    """Number of real (unpadded) inputs in each window, [OH, OW, 1] (separable in h, w)."""
    def one(n: int, o: int, k: int, s: int, before: int) -> np.ndarray:
        start = np.arange(o) * s - before
        return np.minimum(start + k, n) - np.maximum(start, 0)
    ch = one(h, geo.oh, ksize[0], strides[0], geo.ph[0])
    cw = one(w, geo.ow, ksize[1], strides[1], geo.pw[0])
    return xp.asarray((ch[:, None] * cw[None, :])[:, :, None].astype(dtype))


def _avg_pool_kernel(xp: Any, x: Any, *, ksize: tuple, strides: tuple, padding: str,
                     data_format: str) -> Any:
    x = nhwc(xp, x, data_format)
    geo = _geometry(x, ksize, strides, padding)
    out = None
    for v in _views(pad_hw(xp, x, geo.ph, geo.pw), geo, *ksize, strides):
        out = v.copy() if out is None else xp.add(out, v, out=out)
    out /= _counts(xp, x.shape[1], x.shape[2], geo, ksize, strides, x.dtype)
    return from_nhwc(xp, out, data_format)


def _avg_pool_grad_kernel(xp: Any, sizes: Any, g: Any, *, ksize: tuple, strides: tuple,
                          padding: str, data_format: str) -> Any:
    shape = [int(d) for d in sizes]
    if data_format == "NCHW":
        shape = [shape[0], shape[2], shape[3], shape[1]]
    n, h, w, c = shape
    g = nhwc(xp, g, data_format)
    geo = Geometry(h, w, ksize[0], ksize[1], strides, (1, 1), padding)
    gs = g / _counts(xp, h, w, geo, ksize, strides, g.dtype)
    dx = xp.zeros((n, h + sum(geo.ph), w + sum(geo.pw), c), dtype=g.dtype)
    for v in _views(dx, geo, *ksize, strides):
        v += gs
    dx = dx[:, geo.ph[0]:geo.ph[0] + h, geo.pw[0]:geo.pw[0] + w, :]
    return from_nhwc(xp, dx, data_format)


def _avg_pool_grad_infer(op: Any) -> tuple:
    out = shape_from_tensor(op.inputs[0])
    return op.inputs[1].dtype, out if out.ndims is not None else TensorShape([None] * 4)


register("AvgPool", infer=_pool_infer, kernel=_avg_pool_kernel,
         grad=lambda op, g: [apply_op("AvgPoolGrad", (_shape(op.inputs[0]), g),
                                      dict(op.attrs))])
register("AvgPoolGrad", infer=_avg_pool_grad_infer, kernel=_avg_pool_grad_kernel,
         grad=lambda op, gg: [None, apply_op("AvgPool", (gg,), dict(op.attrs))])


# --- public functions -------------------------------------------------------------------------


def _pool_attrs(ksize: Any, strides: Any, padding: Any, data_format: Any) -> dict:
    df = norm_data_format(data_format)
    pad = norm_padding(padding, df)
    if not isinstance(pad, str):
        raise ValueError("pooling supports only 'SAME' and 'VALID' padding")
    return {"ksize": norm_hw(ksize, "ksize", df), "strides": norm_hw(strides, "strides", df),
            "padding": pad, "data_format": df}


def max_pool(value: Any = None, ksize: Any = None, strides: Any = None, padding: Any = None,
             data_format: str = "NHWC", name: str | None = None, input: Any = None) -> Any:
    """Max pooling: value [N, H, W, C] -> [N, OH, OW, C]; ``ksize``/``strides`` are
    [1, kh, kw, 1] (or ints); padding 'SAME' pads with -inf (padding never wins)."""
    x = convert_to_tensor(input if value is None else value)
    return apply_op("MaxPool", (x,), _pool_attrs(ksize, strides, padding, data_format),
                    name=name)


def avg_pool(value: Any = None, ksize: Any = None, strides: Any = None, padding: Any = None,
             data_format: str = "NHWC", name: str | None = None, input: Any = None) -> Any:
    """Average pooling: value [N, H, W, C] -> [N, OH, OW, C]; with 'SAME' padding each
    window averages only its real (unpadded) inputs, as in TensorFlow."""
    x = convert_to_tensor(input if value is None else value)
    if not x.dtype.is_floating:
        raise TypeError(f"Value passed to parameter 'value' has DataType {x.dtype.name} not in "
                        "list of allowed values: float16, float32, float64")
    return apply_op("AvgPool", (x,), _pool_attrs(ksize, strides, padding, data_format),
                    name=name)


def max_pool_grad(orig_input: Any, orig_output: Any, grad: Any, ksize: Any, strides: Any,
                  padding: Any, data_format: str = "NHWC", name: str | None = None) -> Any:
    """Gradient of max_pool: ``grad`` [N, OH, OW, C] routed to the inputs that won."""
    ts = [convert_to_tensor(t) for t in (orig_input, orig_output, grad)]
    return apply_op("MaxPoolGrad", tuple(ts), _pool_attrs(ksize, strides, padding,
                                                          data_format), name=name)


max_pool2d = max_pool
avg_pool2d = avg_pool


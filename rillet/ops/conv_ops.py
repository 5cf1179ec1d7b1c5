"""Convolutions: ``conv2d`` and its two backprops, ``conv2d_transpose``, ``conv1d``,
``depthwise_conv2d`` (and backprops) and ``separable_conv2d``.

Kernels work in NHWC (NCHW inputs are transposed views). The forward pass and the filter
gradient read patches through one strided view of the padded input (``as_strided``: no copy) and
multiply the patch matrix (im2col) with the filter in BLAS. The patch matrix is never
materialised whole: it is copied block by block (a few MB of output positions at a time) into
one reused buffer, and each block goes straight into the GEMM while it is still in cache, writing
its rows of the output in place (``matmul(..., out=)``). This keeps the copy cheap and the big
im2col allocation (and its page faults) out of every step. The input gradient is, for stride 1
and enough input channels, the same blocked GEMM on the padded output gradient with the flipped
filter (a "full" correlation); otherwise one matmul per block into patch space followed by a
col2im sum over the ``kh * kw`` kernel offsets, each a strided add.

Gradients are the backprop ops, whose own gradients are convolutions again (as in TensorFlow),
so second derivatives work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet.ops import _parallel
from rillet.ops._util import check_same_dtype, shape_from_tensor
from rillet.ops.array_ops import expand_dims, squeeze
from rillet.ops.array_ops import shape as _shape
from rillet.registry import apply_op, convert_to_tensor, register
from rillet.shapes import TensorShape

# --- attribute normalisation ------------------------------------------------------------------


def norm_padding(padding: Any, data_format: str = "NHWC") -> Any:
    """'SAME' / 'VALID' (any case, str or bytes) or explicit ``[[0,0],[t,b],[l,r],[0,0]]``
    (in ``data_format`` order) -> 'SAME', 'VALID' or ``((t, b), (l, r))``."""
    if isinstance(padding, bytes):
        padding = padding.decode()
    if isinstance(padding, str):
        p = padding.upper()
        if p not in ("SAME", "VALID"):
            raise ValueError(f"Value for attr 'padding' of \"{padding}\" is not in the list of "
                             "allowed values: \"SAME\", \"VALID\"")
        return p
    pads = np.asarray(padding, dtype=np.int64)
    if pads.shape != (4, 2) or (pads < 0).any():
        raise ValueError(f"padding must be 'SAME', 'VALID' or a [4, 2] list of non-negative "
                         f"pairs, got {padding!r}")
    h, w = (1, 2) if data_format.startswith("NH") else (2, 3)
    c = 3 if data_format.startswith("NH") else 1
    if pads[0].any() or pads[c].any():
        raise ValueError("Explicit padding in the batch or depth dimension is not supported")
    return ((int(pads[h, 0]), int(pads[h, 1])), (int(pads[w, 0]), int(pads[w, 1])))


def norm_data_format(data_format: Any, ok: tuple = ("NHWC", "NCHW")) -> str:
    if data_format is None:
        return ok[0]
    if isinstance(data_format, bytes):
        data_format = data_format.decode()
    if data_format not in ok:
        raise ValueError(f"data_format must be one of {', '.join(ok)}; got {data_format!r}")
    return data_format


def norm_hw(value: Any, name: str, data_format: str, default: int = 1) -> tuple[int, int]:
    """strides/dilations/ksize given as int, [h, w] or [1, h, w, 1] (data_format order)."""
    if value is None:
        return default, default
    if isinstance(value, int | np.integer):
        return int(value), int(value)
    v = [int(a) for a in value]
    if len(v) == 1:
        return v[0], v[0]
    if len(v) == 2:
        return v[0], v[1]
    if len(v) != 4:
        raise ValueError(f"{name} must be an int or a list of 1, 2 or 4 ints, got {value!r}")
    if data_format == "NCHW":
        n, c, h, w = v
    else:
        n, h, w, c = v
    if n != 1 or c != 1:
        raise ValueError(f"Current implementation does not yet support {name} in the batch "
                         "and depth dimensions.")
    if h < 1 or w < 1:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return h, w


# --- geometry ---------------------------------------------------------------------------------


def out_size(n: int | None, k: int, s: int, d: int, pad: Any, axis: int) -> tuple:
    """(output size, pad_before, pad_after) for one spatial dim; ``n`` may be None."""
    ek = (k - 1) * d + 1
    if n is None:
        return None, 0, 0
    if pad == "VALID":
        if n < ek:
            raise ValueError(f"Computed output size would be negative: {(n - ek) // s + 1} "
                             f"[input_size: {n}, effective_filter_size: {ek}, stride: {s}]")
        return (n - ek) // s + 1, 0, 0
    if pad == "SAME":
        o = -(-n // s)
        total = max((o - 1) * s + ek - n, 0)
        return o, total // 2, total - total // 2
    before, after = pad[axis]
    o = (n + before + after - ek) // s + 1
    if o < 0:
        raise ValueError(f"Computed output size would be negative: {o}")
    return o, before, after


def nhwc(xp: Any, x: Any, data_format: str) -> Any:
    return xp.transpose(x, (0, 2, 3, 1)) if data_format == "NCHW" else x


def from_nhwc(xp: Any, x: Any, data_format: str) -> Any:
    return xp.transpose(x, (0, 3, 1, 2)) if data_format == "NCHW" else x


def spatial(shape: TensorShape, data_format: str) -> list:
    """[N, H, W, C] from a 4-D static shape in ``data_format`` order (entries may be None)."""
    if shape.ndims is None:
        return [None] * 4
    d = shape.as_list()
    return [d[0], d[2], d[3], d[1]] if data_format == "NCHW" else d


def to_format(dims: list, data_format: str) -> TensorShape:
    n, h, w, c = dims
    return TensorShape([n, c, h, w] if data_format == "NCHW" else [n, h, w, c])


def as_strided(xp: Any, x: Any, shape: tuple, strides: tuple) -> Any:
    if xp is np:
        return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


def pad_hw(xp: Any, x: Any, ph: tuple, pw: tuple, value: float = 0.0) -> Any:
    if not any(ph) and not any(pw):
        return x
    return xp.pad(x, ((0, 0), ph, pw, (0, 0)), constant_values=value)


def patches(xp: Any, xpad: Any, kh: int, kw: int, oh: int, ow: int, sh: int, sw: int,
            dh: int, dw: int) -> Any:
    """A read-only strided view [N, OH, OW, KH, KW, C] of the padded NHWC input."""
    n, _, _, c = xpad.shape
    s = xpad.strides
    return as_strided(xp, xpad, (n, oh, ow, kh, kw, c),
                      (s[0], s[1] * sh, s[2] * sw, s[1] * dh, s[2] * dw, s[3]))


# Bytes of patch matrix copied per block (im2col + GEMM): large enough for an efficient
# GEMM, small enough that the block is still in cache when the GEMM reads it.
_BLOCK_BYTES = 4 << 20


def _blocks(n: int, oh: int, row_bytes: int) -> list[tuple[int, int, int, int]]:
    """Blocks ``(n0, n1, h0, h1)`` of output positions (whole images where one fits in
    ``_BLOCK_BYTES``, else row ranges of one image); ``row_bytes`` = patch bytes per output
    row."""
    per_image = max(oh * row_bytes, 1)
    if per_image <= _BLOCK_BYTES:
        step = max(1, _BLOCK_BYTES // per_image)
        return [(i, min(n, i + step), 0, oh) for i in range(0, n, step)]
    rows = max(1, _BLOCK_BYTES // max(row_bytes, 1))
    return [(i, i + 1, h, min(oh, h + rows)) for i in range(n) for h in range(0, oh, rows)]


def _threads(xp: Any) -> int | None:
    """Intra-op threads for the block loops: rillet's pool when a Session keeps OpenBLAS on
    one thread (rillet/ops/_parallel.py), else one (OpenBLAS, or the GPU, parallelises)."""
    return None if xp is np and _parallel.blas_managed() else 1


def _copy_block(xp: Any, buf: Any, cols: Any, blk: tuple) -> Any:
    """Copies the patches of block ``(n0, n1, h0, h1)`` into ``buf``: a [rows, K] matrix."""
    n0, n1, h0, h1 = blk
    rows = (n1 - n0) * (h1 - h0) * cols.shape[2]
    b = buf[:rows]
    xp.copyto(b.reshape((n1 - n0, h1 - h0) + cols.shape[2:]), cols[n0:n1, h0:h1])
    return b


def patch_matmul(xp: Any, cols: Any, w: Any) -> Any:
    """``im2col(cols) @ w`` as [N, OH, OW, O]: ``cols`` is the patch view [N, OH, OW, ...]
    (K values per position), ``w`` [K, O]. Blocked (see the module docstring); the blocks run
    on rillet's intra-op threads, each with its own patch buffer."""
    n, oh, ow = cols.shape[:3]
    k = w.shape[0]
    out = xp.empty((n, oh, ow, w.shape[1]), dtype=xp.result_type(cols.dtype, w.dtype))
    blocks = _blocks(n, oh, ow * k * cols.itemsize)
    if len(blocks) <= 1:
        a = cols.reshape(n * oh * ow, k)
        if xp is np:
            return _parallel.matmul(a, w).reshape(out.shape)
        xp.matmul(a, w, out=out.reshape(n * oh * ow, -1))
        return out
    b0 = blocks[0]
    size = ((b0[1] - b0[0]) * (b0[3] - b0[2]) * ow, k)
    bufs: dict = {}

    def run(i: int, wid: int) -> None:
        buf = bufs.get(wid)
        if buf is None:
            buf = bufs[wid] = xp.empty(size, dtype=cols.dtype)
        n0, n1, h0, h1 = blocks[i]
        a = _copy_block(xp, buf, cols, blocks[i])
        xp.matmul(a, w, out=out[n0:n1, h0:h1].reshape(a.shape[0], -1))

    _parallel.run_blocks(run, len(blocks), _threads(xp))
    return out


# Memory for the filter gradient's per-block partial products (summed in block order, so the
# result does not depend on the number of threads).
_PARTIAL_BYTES = 64 << 20


def patch_matmul_t(xp: Any, cols: Any, g: Any) -> Any:
    """``im2col(cols).T @ g`` as [K, O] (the filter gradient): ``cols`` the patch view
    [N, OH, OW, ...], ``g`` [N, OH, OW, O]. Blocked; groups of consecutive blocks run on
    rillet's intra-op threads and their products are summed in block order."""
    n, oh, ow = cols.shape[:3]
    o = g.shape[-1]
    k = int(np.prod(cols.shape[3:]))
    blocks = _blocks(n, oh, ow * k * cols.itemsize)
    if len(blocks) <= 1:
        a = cols.reshape(n * oh * ow, k).T
        gb = g.reshape(-1, o)
        return _parallel.matmul(a, gb) if xp is np else a @ gb
    b0 = blocks[0]
    size = ((b0[1] - b0[0]) * (b0[3] - b0[2]) * ow, k)
    nb = len(blocks)
    groups = max(1, min(nb, _PARTIAL_BYTES // max(k * o * g.itemsize, 1)))
    edges = [nb * i // groups for i in range(groups + 1)]
    partials: list = [None] * groups
    bufs: dict = {}

    def run(gi: int, wid: int) -> None:
        buf = bufs.get(wid)
        if buf is None:
            buf = bufs[wid] = xp.empty(size, dtype=cols.dtype)
        acc = tmp = None
        for bi in range(edges[gi], edges[gi + 1]):
            n0, n1, h0, h1 = blocks[bi]
            a = _copy_block(xp, buf, cols, blocks[bi])
            gb = g[n0:n1, h0:h1].reshape(a.shape[0], o)
            if acc is None:
                acc = a.T @ gb
            else:
                if tmp is None:
                    tmp = xp.empty_like(acc)
                xp.matmul(a.T, gb, out=tmp)
                acc += tmp
        partials[gi] = acc

    _parallel.run_blocks(run, groups, _threads(xp))
    acc = partials[0]
    for part in partials[1:]:
        acc += part
    return acc


def col2im(xp: Any, cols: Any, shape: tuple, pads: tuple, strides: tuple,
           dilations: tuple) -> Any:
    """Sums patch gradients cols [N, OH, OW, KH, KW, C] back into an NHWC array of ``shape``
    (one strided whole-array add per kernel offset)."""
    n, oh, ow, kh, kw, c = cols.shape
    (pt, pb), (pl, pr) = pads
    sh, sw = strides
    dh, dw = dilations
    h, w = shape[1], shape[2]
    hp = max(h + pt + pb, (oh - 1) * sh + (kh - 1) * dh + 1)
    wp = max(w + pl + pr, (ow - 1) * sw + (kw - 1) * dw + 1)
    out = xp.zeros((n, hp, wp, c), dtype=cols.dtype)
    _col2im_add(cols, out, strides, dilations)
    return out[:, pt:pt + h, pl:pl + w, :]


class Geometry:
    """Padding and output size of a 2-D window op on a concrete NHWC input shape."""

    __slots__ = ("oh", "ow", "ph", "pw")

    def __init__(self, h: int, w: int, kh: int, kw: int, strides: tuple, dilations: tuple,
                 padding: Any):
        self.oh, *ph = out_size(h, kh, strides[0], dilations[0], padding, 0)
        self.ow, *pw = out_size(w, kw, strides[1], dilations[1], padding, 1)
        self.ph, self.pw = tuple(ph), tuple(pw)


def _conv_attrs(op: Any) -> tuple:
    a = op.attrs
    return a["strides"], a["padding"], a["dilations"], a["data_format"]


# --- Conv2D -----------------------------------------------------------------------------------


def _check_filter_depth(cin: int | None, fin: int | None) -> None:
    if cin is not None and fin is not None and cin != fin:
        raise ValueError(f"Dimensions must be equal, but are {cin} and {fin} (depth of input "
                         f"{cin} does not match the input depth of the filter {fin})")


def _check_rank(shape: TensorShape, rank: int, what: str) -> None:
    if shape.ndims is not None and shape.ndims != rank:
        raise ValueError(f"Shape must be rank {rank} but is rank {shape.ndims} ({what})")


def _conv_out_shape(x_dims: list, kh: int | None, kw: int | None, cout: int | None,
                    attrs: dict) -> list:
    n, h, w, _ = x_dims
    if kh is None or kw is None:
        return [n, None, None, cout]
    sh, sw = attrs["strides"]
    dh, dw = attrs["dilations"]
    oh = out_size(h, kh, sh, dh, attrs["padding"], 0)[0]
    ow = out_size(w, kw, sw, dw, attrs["padding"], 1)[0]
    return [n, oh, ow, cout]


def _conv_operands(op: Any) -> tuple:
    """Checks a (input, filter) pair of a 2-D convolution; returns (dtype, input dims in NHWC
    order, filter dims, data_format)."""
    x, f = op.inputs
    dt = check_same_dtype(op, ("input", "filter"))
    _require_float(dt, op.type)
    _check_rank(x.shape, 4, "input")
    _check_rank(f.shape, 4, "filter")
    df = op.attrs["data_format"]
    xd = spatial(x.shape, df)
    fd = f.shape.as_list() if f.shape.ndims is not None else [None] * 4
    _check_filter_depth(xd[3], fd[2])
    return dt, xd, fd, df


def _conv2d_infer(op: Any) -> tuple:
    dt, xd, fd, df = _conv_operands(op)
    return dt, to_format(_conv_out_shape(xd, fd[0], fd[1], fd[3], op.attrs), df)


def _require_float(dt: _dt.DType, op_type: str) -> None:
    if not dt.is_floating:
        raise TypeError(f"Value passed to parameter 'input' of {op_type} has DataType "
                        f"{dt.name} not in list of allowed values: float16, float32, float64")


def _conv2d_kernel(xp: Any, x: Any, f: Any, *, strides: tuple, padding: Any,
                   dilations: tuple, data_format: str) -> Any:
    x = nhwc(xp, x, data_format)
    n, h, w, c = x.shape
    kh, kw, _, o = f.shape
    if c != f.shape[2]:
        raise ValueError(f"input depth {c} does not match the filter's input depth "
                         f"{f.shape[2]}")
    geo = Geometry(h, w, kh, kw, strides, dilations, padding)
    cols = patches(xp, pad_hw(xp, x, geo.ph, geo.pw), kh, kw, geo.oh, geo.ow, *strides,
                   *dilations)
    out = patch_matmul(xp, cols, f.reshape(kh * kw * c, o))
    return from_nhwc(xp, out, data_format)


def _backprop_input_infer(op: Any) -> tuple:
    sizes, f, g = op.inputs
    dt = f.dtype
    if g.dtype is not f.dtype:
        raise TypeError(f"Input 'out_backprop' of '{op.type}' Op has type {g.dtype.name} "
                        f"that does not match type {f.dtype.name} of argument 'filter'")
    out = shape_from_tensor(sizes)
    if out.ndims is None:
        out = TensorShape([None] * 4)
    _check_rank(out, 4, "input_sizes")
    return dt, out


def _conv2d_backprop_input_kernel(xp: Any, sizes: Any, f: Any, g: Any, *, strides: tuple,
                                  padding: Any, dilations: tuple, data_format: str) -> Any:
    g = nhwc(xp, g, data_format)
    shape = [int(d) for d in sizes]
    if data_format == "NCHW":
        shape = [shape[0], shape[2], shape[3], shape[1]]
    n, h, w, c = shape
    kh, kw, _, o = f.shape
    geo = Geometry(h, w, kh, kw, strides, dilations, padding)
    _check_out(g, n, geo, o)
    if tuple(strides) == (1, 1) and c >= _FULL_CORRELATION_MIN_C:
        dx = _full_correlation(xp, g, f, (h, w), geo, dilations)
    else:
        dx = _col2im_backprop(xp, g, f, shape, geo, strides, dilations)
    return from_nhwc(xp, dx, data_format)


# Input channels from which the stride-1 input gradient is a full correlation (a GEMM with C
# output columns); with fewer the GEMM is too thin and col2im is faster (C=1: about 9x).
_FULL_CORRELATION_MIN_C = 16


def _col2im_backprop(xp: Any, g: Any, f: Any, shape: list, geo: Geometry, strides: tuple,
                     dilations: tuple) -> Any:
    """Input gradient via patch space: per block of images, one GEMM ``g @ f.T`` into a reused
    patch buffer, summed back into the padded input gradient (col2im)."""
    n, h, w, c = shape
    kh, kw, _, o = f.shape
    oh, ow = geo.oh, geo.ow
    ft = f.reshape(kh * kw * c, o).T
    (pt, pb), (pl, pr) = geo.ph, geo.pw
    sh, sw = strides
    dh, dw = dilations
    hp = max(h + pt + pb, (oh - 1) * sh + (kh - 1) * dh + 1)
    wp = max(w + pl + pr, (ow - 1) * sw + (kw - 1) * dw + 1)
    out = xp.zeros((n, hp, wp, c), dtype=xp.result_type(g.dtype, f.dtype))
    per_image = oh * ow * kh * kw * c * g.itemsize
    step = max(1, _BLOCK_BYTES // max(per_image, 1))
    size = (min(step, n) * oh * ow, kh * kw * c)
    bufs: dict = {}

    def run(i: int, wid: int) -> None:
        buf = bufs.get(wid)
        if buf is None:
            buf = bufs[wid] = xp.empty(size, dtype=out.dtype)
        n0 = i * step
        n1 = min(n, n0 + step)
        blk = buf[:(n1 - n0) * oh * ow]
        xp.matmul(g[n0:n1].reshape(-1, o), ft, out=blk)
        _col2im_add(blk.reshape(n1 - n0, oh, ow, kh, kw, c), out[n0:n1], strides, dilations)

    _parallel.run_blocks(run, -(-n // step), _threads(xp))
    return out[:, pt:pt + h, pl:pl + w, :]


def _col2im_add(cols: Any, out: Any, strides: tuple, dilations: tuple) -> None:
    """Adds patch gradients cols [N, OH, OW, KH, KW, C] into the padded NHWC ``out``."""
    _, oh, ow, kh, kw, _ = cols.shape
    sh, sw = strides
    dh, dw = dilations
    for i in range(kh):
        for j in range(kw):
            out[:, i * dh:i * dh + (oh - 1) * sh + 1:sh,
                j * dw:j * dw + (ow - 1) * sw + 1:sw, :] += cols[:, :, :, i, j, :]


def _full_correlation(xp: Any, g: Any, f: Any, hw: tuple, geo: Geometry,
                      dilations: tuple) -> Any:
    """Stride-1 input gradient as one convolution: g padded by (k - 1) * d - pad_before
    (cropped where negative) correlated with the flipped, in/out-swapped filter. One im2col
    matmul with a long inner dimension (kh * kw * O) and no col2im."""
    kh, kw, c, o = f.shape
    dh, dw = dilations
    pads = []
    for size, out, k, d, (before, _) in ((hw[0], geo.oh, kh, dh, geo.ph),
                                         (hw[1], geo.ow, kw, dw, geo.pw)):
        top = (k - 1) * d - before
        pads.append((top, size + (k - 1) * d - top - out))
    crop = tuple(slice(max(-a, 0), g.shape[i + 1] + min(b, 0)) for i, (a, b) in
                 enumerate(pads))
    gp = pad_hw(xp, g[:, crop[0], crop[1], :], (max(pads[0][0], 0), max(pads[0][1], 0)),
                (max(pads[1][0], 0), max(pads[1][1], 0)))
    ff = xp.ascontiguousarray(xp.transpose(f[::-1, ::-1], (0, 1, 3, 2)))  # [kh, kw, O, C]
    cols = patches(xp, gp, kh, kw, hw[0], hw[1], 1, 1, dh, dw)
    return patch_matmul(xp, cols, ff.reshape(kh * kw * o, c))


def _check_out(g: Any, n: int, geo: Geometry, o: int) -> None:
    want = (n, geo.oh, geo.ow, o)
    if tuple(g.shape) != want:
        raise ValueError(f"out_backprop has shape {tuple(g.shape)} but the convolution's output "
                         f"shape is {want}")


def _backprop_filter_infer(op: Any) -> tuple:
    x, sizes, g = op.inputs
    if g.dtype is not x.dtype:
        raise TypeError(f"Input 'out_backprop' of '{op.type}' Op has type {g.dtype.name} "
                        f"that does not match type {x.dtype.name} of argument 'input'")
    out = shape_from_tensor(sizes)
    if out.ndims is None:
        out = TensorShape([None] * 4)
    _check_rank(out, 4, "filter_sizes")
    return x.dtype, out


def _conv2d_backprop_filter_kernel(xp: Any, x: Any, sizes: Any, g: Any, *, strides: tuple,
                                   padding: Any, dilations: tuple, data_format: str) -> Any:
    x = nhwc(xp, x, data_format)
    g = nhwc(xp, g, data_format)
    n, h, w, c = x.shape
    kh, kw, _, o = (int(d) for d in sizes)
    geo = Geometry(h, w, kh, kw, strides, dilations, padding)
    _check_out(g, n, geo, o)
    cols = patches(xp, pad_hw(xp, x, geo.ph, geo.pw), kh, kw, geo.oh, geo.ow, *strides,
                   *dilations)
    return patch_matmul_t(xp, cols, g).reshape(kh, kw, c, o)


def _conv_grads(fwd: str, bp_input: str, bp_filter: str) -> tuple:
    """Gradients of a convolution family (forward, input backprop, filter backprop), each
    built from the other two ops so that second derivatives are convolutions again."""
    def fwd_grad(op: Any, g: Any) -> list:
        x, f = op.inputs
        a = op.attrs
        return [apply_op(bp_input, (_shape(x), f, g), dict(a)),
                apply_op(bp_filter, (x, _shape(f), g), dict(a))]

    def input_grad(op: Any, gg: Any) -> list:
        _, f, g = op.inputs
        a = op.attrs
        return [None, apply_op(bp_filter, (gg, _shape(f), g), dict(a)),
                apply_op(fwd, (gg, f), dict(a))]

    def filter_grad(op: Any, gg: Any) -> list:
        x, _, g = op.inputs
        a = op.attrs
        return [apply_op(bp_input, (_shape(x), gg, g), dict(a)), None,
                apply_op(fwd, (x, gg), dict(a))]
    return fwd_grad, input_grad, filter_grad


_conv2d_grad, _backprop_input_grad, _backprop_filter_grad = _conv_grads(
    "Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter")


register("Conv2D", infer=_conv2d_infer, kernel=_conv2d_kernel, grad=_conv2d_grad)
register("Conv2DBackpropInput", infer=_backprop_input_infer,
         kernel=_conv2d_backprop_input_kernel, grad=_backprop_input_grad)
register("Conv2DBackpropFilter", infer=_backprop_filter_infer,
         kernel=_conv2d_backprop_filter_kernel, grad=_backprop_filter_grad)


def _attrs(strides: Any, padding: Any, data_format: Any, dilations: Any) -> dict:
    df = norm_data_format(data_format)
    return {"strides": norm_hw(strides, "strides", df),
            "padding": norm_padding(padding, df),
            "dilations": norm_hw(dilations, "dilations", df),
            "data_format": df}


def _float_pair(a: Any, b: Any) -> tuple:
    a = convert_to_tensor(a)
    return a, convert_to_tensor(b, dtype_hint=a.dtype)


def conv2d(input: Any, filter: Any = None, strides: Any = None, padding: Any = None,
           use_cudnn_on_gpu: bool = True, data_format: str = "NHWC",
           dilations: Any = None, name: str | None = None, filters: Any = None) -> Any:
    """2-D convolution (cross-correlation, as in TF).

    input [N, H, W, C] (NCHW: [N, C, H, W]), filter [KH, KW, C, O] -> [N, OH, OW, O].
    ``strides``/``dilations``: [1, sh, sw, 1] (or ints); ``padding``: 'SAME', 'VALID' or
    explicit pairs.
    """
    if filter is None:
        filter = filters
    if strides is None:
        raise TypeError("conv2d() missing required argument: 'strides'")
    if padding is None:
        raise TypeError("conv2d() missing required argument: 'padding'")
    x, f = _float_pair(input, filter)
    return apply_op("Conv2D", (x, f), _attrs(strides, padding, data_format, dilations),
                    name=name)


def conv2d_backprop_input(input_sizes: Any, filter: Any, out_backprop: Any, strides: Any,
                          padding: Any, use_cudnn_on_gpu: bool = True,
                          data_format: str = "NHWC", dilations: Any = None,
                          name: str | None = None) -> Any:
    """Gradient of conv2d w.r.t. its input: out_backprop [N, OH, OW, O] -> input_sizes."""
    f, g = _float_pair(filter, out_backprop)
    sizes = convert_to_tensor(input_sizes, dtype_hint=_dt.int32)
    return apply_op("Conv2DBackpropInput", (sizes, f, g),
                    _attrs(strides, padding, data_format, dilations), name=name)


def conv2d_backprop_filter(input: Any, filter_sizes: Any, out_backprop: Any, strides: Any,
                           padding: Any, use_cudnn_on_gpu: bool = True,
                           data_format: str = "NHWC", dilations: Any = None,
                           name: str | None = None) -> Any:
    """Gradient of conv2d w.r.t. its filter: -> [KH, KW, C, O] (``filter_sizes``)."""
    x, g = _float_pair(input, out_backprop)
    sizes = convert_to_tensor(filter_sizes, dtype_hint=_dt.int32)
    return apply_op("Conv2DBackpropFilter", (x, sizes, g),
                    _attrs(strides, padding, data_format, dilations), name=name)


def conv2d_transpose(value: Any = None, filter: Any = None, output_shape: Any = None,
                     strides: Any = None, padding: str = "SAME", data_format: str = "NHWC",
                     name: str | None = None, input: Any = None, filters: Any = None,
                     dilations: Any = None) -> Any:
    """Transposed convolution (the gradient of conv2d w.r.t. its input).

    value [N, H, W, in_C], filter [KH, KW, out_C, in_C], output_shape [N, OH, OW, out_C].
    """
    value = input if value is None else value
    filter = filters if filter is None else filter
    x, f = _float_pair(value, filter)
    df = norm_data_format(data_format)
    cin = spatial(x.shape, df)[3]
    fd = f.shape.as_list() if f.shape.ndims is not None else [None] * 4
    if cin is not None and fd[3] is not None and cin != fd[3]:
        raise ValueError(f"input channels does not match filter's input channels, "
                         f"{cin} != {fd[3]}")
    sizes = convert_to_tensor(output_shape, dtype_hint=_dt.int32)
    known = shape_from_tensor(sizes)
    if known.ndims == 4:
        cout = spatial(known, df)[3]
        if cout is not None and fd[2] is not None and cout != fd[2]:
            raise ValueError(f"output_shape does not match filter's output channels, "
                             f"{cout} != {fd[2]}")
    return apply_op("Conv2DBackpropInput", (sizes, f, x),
                    _attrs(strides, padding, df, dilations), name=name or "conv2d_transpose")


# --- Depthwise --------------------------------------------------------------------------------


def _depthwise_infer(op: Any) -> tuple:
    dt, xd, fd, df = _conv_operands(op)
    c = xd[3] if xd[3] is not None else fd[2]
    cout = None if c is None or fd[3] is None else c * fd[3]
    return dt, to_format(_conv_out_shape(xd, fd[0], fd[1], cout, op.attrs), df)


def _depthwise_kernel(xp: Any, x: Any, f: Any, *, strides: tuple, padding: Any,
                      dilations: tuple, data_format: str) -> Any:
    x = nhwc(xp, x, data_format)
    n, h, w, c = x.shape
    kh, kw, _, m = f.shape
    geo = Geometry(h, w, kh, kw, strides, dilations, padding)
    cols = patches(xp, pad_hw(xp, x, geo.ph, geo.pw), kh, kw, geo.oh, geo.ow, *strides,
                   *dilations)
    # [C, N*OH*OW, KH*KW] @ [C, KH*KW, M]: one batched matmul over channels.
    a = xp.transpose(cols, (5, 0, 1, 2, 3, 4)).reshape(c, -1, kh * kw)
    b = xp.transpose(f, (2, 0, 1, 3)).reshape(c, kh * kw, m)
    out = xp.matmul(a, b)  # [C, NOHW, M]
    out = xp.transpose(out, (1, 0, 2)).reshape(n, geo.oh, geo.ow, c * m)
    return from_nhwc(xp, out, data_format)


def _depthwise_backprop_input_kernel(xp: Any, sizes: Any, f: Any, g: Any, *, strides: tuple,
                                     padding: Any, dilations: tuple, data_format: str) -> Any:
    g = nhwc(xp, g, data_format)
    shape = [int(d) for d in sizes]
    if data_format == "NCHW":
        shape = [shape[0], shape[2], shape[3], shape[1]]
    n, h, w, c = shape
    kh, kw, _, m = f.shape
    geo = Geometry(h, w, kh, kw, strides, dilations, padding)
    _check_out(g, n, geo, c * m)
    gc = xp.transpose(g.reshape(-1, c, m), (1, 0, 2))  # [C, NOHW, M]
    fc = xp.transpose(f, (2, 3, 0, 1)).reshape(c, m, kh * kw)
    dcols = xp.matmul(gc, fc)  # [C, NOHW, KH*KW]
    dcols = xp.transpose(dcols.reshape(c, n, geo.oh, geo.ow, kh, kw), (1, 2, 3, 4, 5, 0))
    dx = col2im(xp, dcols, shape, (geo.ph, geo.pw), strides, dilations)
    return from_nhwc(xp, dx, data_format)


def _depthwise_backprop_filter_kernel(xp: Any, x: Any, sizes: Any, g: Any, *, strides: tuple,
                                      padding: Any, dilations: tuple,
                                      data_format: str) -> Any:
    x = nhwc(xp, x, data_format)
    g = nhwc(xp, g, data_format)
    n, h, w, c = x.shape
    kh, kw, _, m = (int(d) for d in sizes)
    geo = Geometry(h, w, kh, kw, strides, dilations, padding)
    _check_out(g, n, geo, c * m)
    cols = patches(xp, pad_hw(xp, x, geo.ph, geo.pw), kh, kw, geo.oh, geo.ow, *strides,
                   *dilations)
    a = xp.transpose(cols, (5, 3, 4, 0, 1, 2)).reshape(c, kh * kw, -1)  # [C, KHKW, NOHW]
    gc = xp.transpose(g.reshape(-1, c, m), (1, 0, 2))  # [C, NOHW, M]
    df = xp.matmul(a, gc)  # [C, KHKW, M]
    return xp.transpose(df.reshape(c, kh, kw, m), (1, 2, 0, 3))


_depthwise_grad, _dw_backprop_input_grad, _dw_backprop_filter_grad = _conv_grads(
    "DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
    "DepthwiseConv2dNativeBackpropFilter")


register("DepthwiseConv2dNative", infer=_depthwise_infer, kernel=_depthwise_kernel,
         grad=_depthwise_grad)
register("DepthwiseConv2dNativeBackpropInput", infer=_backprop_input_infer,
         kernel=_depthwise_backprop_input_kernel, grad=_dw_backprop_input_grad)
register("DepthwiseConv2dNativeBackpropFilter", infer=_backprop_filter_infer,
         kernel=_depthwise_backprop_filter_kernel, grad=_dw_backprop_filter_grad)


def depthwise_conv2d_native(input: Any, filter: Any, strides: Any, padding: Any,
                            data_format: str = "NHWC", dilations: Any = None,
                            name: str | None = None) -> Any:
    """Depthwise conv: input [N, H, W, C], filter [KH, KW, C, M] -> [N, OH, OW, C * M]
    (output channel ``c * M + m`` convolves input channel ``c`` with ``filter[..., c, m]``)."""
    x, f = _float_pair(input, filter)
    return apply_op("DepthwiseConv2dNative", (x, f),
                    _attrs(strides, padding, data_format, dilations), name=name)


def depthwise_conv2d(input: Any, filter: Any, strides: Any, padding: Any, rate: Any = None,
                     name: str | None = None, data_format: str | None = None,
                     dilations: Any = None) -> Any:
    """TF 1.x ``tf.nn.depthwise_conv2d``; ``rate`` ([rh, rw]) is the dilation."""
    if dilations is None:
        dilations = rate
    return depthwise_conv2d_native(input, filter, strides, padding,
                                   data_format or "NHWC", dilations, name=name)


def separable_conv2d(input: Any, depthwise_filter: Any, pointwise_filter: Any, strides: Any,
                     padding: Any, rate: Any = None, name: str | None = None,
                     data_format: str | None = None, dilations: Any = None) -> Any:
    """Depthwise conv then a 1x1 conv: pointwise_filter [1, 1, C * M, O]."""
    y = depthwise_conv2d(input, depthwise_filter, strides, padding, rate,
                         data_format=data_format, dilations=dilations)
    return conv2d(y, pointwise_filter, [1, 1, 1, 1], "VALID",
                  data_format=data_format or "NHWC", name=name)


# --- conv1d -----------------------------------------------------------------------------------


def _one_d(v: Any, df: str, what: str) -> int:
    """An int, [s] or [1, s, 1] (NWC) / [1, 1, s] (NCW)."""
    if v is None:
        return 1
    if isinstance(v, int | np.integer):
        return int(v)
    v = [int(a) for a in v]
    if len(v) == 1:
        return v[0]
    if len(v) == 3:
        return v[1] if df == "NWC" else v[2]
    raise ValueError(f"{what} must be an int or a list of 1 or 3 ints, got {v}")


def conv1d(value: Any = None, filters: Any = None, stride: Any = None, padding: Any = None,
           use_cudnn_on_gpu: Any = None, data_format: str | None = None,
           name: str | None = None, input: Any = None, dilations: Any = None) -> Any:
    """1-D convolution as a conv2d over a height of 1.

    value [N, W, C] (``NCW``: [N, C, W]), filters [K, C, O] -> [N, OW, O].
    """
    value = input if value is None else value
    df = norm_data_format(data_format, ("NWC", "NCW"))
    if df == "NCW":
        df2, axis = "NCHW", 2
    else:
        df2, axis = "NHWC", 1
    x, f = _float_pair(value, filters)
    _check_rank(x.shape, 3, "input")
    _check_rank(f.shape, 3, "filters")
    s = _one_d(stride, df, "stride")
    d = _one_d(dilations, df, "dilations")
    p = padding
    if not isinstance(p, str | bytes):
        pads = np.asarray(p).tolist()
        p = [[0, 0], [0, 0], pads[1], [0, 0]] if df == "NWC" else \
            [[0, 0], [0, 0], [0, 0], pads[2]]
    x4 = expand_dims(x, axis)
    f4 = expand_dims(f, 0)
    y = conv2d(x4, f4, [1, 1, s, 1] if df2 == "NHWC" else [1, 1, 1, s], p,
               data_format=df2, dilations=[1, 1, d, 1] if df2 == "NHWC" else [1, 1, 1, d])
    return squeeze(y, [axis], name=name)

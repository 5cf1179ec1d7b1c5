"""Tensor contractions: ``einsum`` and ``tensordot`` (one ``Einsum`` op; NumPy's einsum with
path optimisation, so two-operand contractions run on BLAS).

Equations are normalised when the op is built: implicit outputs made explicit and ``...``
replaced by letters (input ranks must then be known). The gradient for operand i is another
einsum: the output gradient contracted with the other operands, back to operand i's subscripts.
"""

from __future__ import annotations

import string
from typing import Any

from rillet.ops import array_ops, math_ops
from rillet.registry import apply_op, convert_to_tensor, register
from rillet.shapes import TensorShape

_LETTERS = string.ascii_letters


def _normalize(equation: str, ranks: list) -> tuple[list[str], str]:
    """(input subscripts, output subscripts) with no ellipsis and an explicit output."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(ranks):
        raise ValueError(f"einsum: equation {equation!r} names {len(ins)} inputs, but "
                         f"{len(ranks)} were given")
    for s in ins + [out]:
        bad = set(s.replace("...", "")) - set(_LETTERS)
        if bad or s.replace("...", "").count(".") or (s.count("...") > 1):
            raise ValueError(f"einsum: invalid subscripts {s!r} in {equation!r}")
    ell = [s for s in ins if "..." in s]
    if ell or "..." in out:
        if any(r is None for s, r in zip(ins, ranks) if "..." in s):
            raise ValueError("einsum: '...' needs inputs of known rank")
        used = set(eq)
        fresh = [c for c in _LETTERS if c not in used]
        n_ell = [r - len(s.replace("...", "")) for s, r in zip(ins, ranks) if "..." in s]
        if any(n < 0 for n in n_ell):
            raise ValueError(f"einsum: more subscripts than dimensions in {equation!r}")
        width = max(n_ell, default=0)
        letters = "".join(fresh[:width])
        it = iter(n_ell)
        ins = [s.replace("...", letters[width - next(it):]) if "..." in s else s for s in ins]
        if arrow:
            out = out.replace("...", letters)
        else:
            out = letters + "".join(sorted(c for c in set("".join(ins)) if c not in letters
                                           and "".join(ins).count(c) == 1))
    elif not arrow:
        joined = "".join(ins)
        out = "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
    if len(set(out)) != len(out):
        raise ValueError(f"einsum: output subscripts {out!r} repeat a letter")
    missing = set(out) - set("".join(ins))
    if missing:
        raise ValueError(f"einsum: output subscript(s) {sorted(missing)} do not appear in the "
                         "inputs")
    return ins, out


def _einsum_infer(op: Any) -> tuple:
    ins, out = op.attrs["inputs"], op.attrs["output"]
    dt = op.inputs[0].dtype
    sizes: dict = {}
    for i, (t, s) in enumerate(zip(op.inputs, ins)):
        if t.dtype is not dt:
            raise TypeError(f"einsum: input {i} has dtype {t.dtype.name}, expected {dt.name}")
        if t.shape.ndims is None:
            continue
        if t.shape.ndims != len(s):
            raise ValueError(f"einsum: the number of subscripts in {s!r} ({len(s)}) does not "
                             f"match the rank ({t.shape.ndims}) of input {i}")
        for ax, (c, d) in enumerate(zip(s, t.shape.as_list())):
            if c not in sizes:
                sizes[c] = d
                continue
            prev = sizes[c]  # merge with NumPy broadcasting: 1 yields to any size
            if d == prev or d == 1 or (d is None and prev is not None and prev != 1):
                continue
            if prev == 1 or prev is None:
                sizes[c] = d
            else:
                raise ValueError(f"Expected dimension {prev} at axis {ax} of input {i} shaped "
                                 f"{t.shape.as_list()} but got dimension {d} (subscript "
                                 f"{c!r})")
    return dt, TensorShape([sizes.get(c) for c in out])


def _einsum_kernel(xp: Any, *xs: Any, equation: str) -> Any:
    return xp.einsum(equation, *xs, optimize=len(xs) > 1)


def _einsum_grad(op: Any, g: Any) -> list:
    ins, out = op.attrs["inputs"], op.attrs["output"]
    xs = op.inputs
    grads = []
    for i, (x, s) in enumerate(zip(xs, ins)):
        if not (x.dtype.is_floating or x.dtype.is_complex):
            grads.append(None)
            continue
        if len(set(s)) != len(s):
            raise NotImplementedError(f"einsum gradient: repeated subscripts within one "
                                      f"operand ({s!r}) are not supported")
        others = [(t, o) for j, (t, o) in enumerate(zip(xs, ins)) if j != i]
        seen = set(out).union(*[set(o) for _, o in others])
        keep = "".join(c for c in s if c in seen)
        eq = ",".join([out] + [o for _, o in others]) + "->" + keep
        gi = _einsum(eq, [g] + [t for t, _ in others], [out] + [o for _, o in others], keep)
        for ax, c in enumerate(s):  # letters summed only within x: broadcast back
            if c not in seen:
                gi = array_ops.expand_dims(gi, ax)
        if keep != s:
            gi = math_ops.broadcast_like(gi, x)
        grads.append(math_ops.unbroadcast(gi, x))
    return grads


register("Einsum", infer=_einsum_infer, kernel=_einsum_kernel, grad=_einsum_grad)


def _einsum(eq: str, ts: list, ins: list, out: str, name: str | None = None) -> Any:
    return apply_op("Einsum", tuple(ts), {"equation": eq, "inputs": tuple(ins),
                                          "output": out}, name=name)


def einsum(equation: str, *inputs: Any, **kwargs: Any) -> Any:
    """Einstein summation, e.g. ``einsum("bij,bjk->bik", a, b)``; ``...`` and implicit
    outputs as in NumPy (size-1 dimensions broadcast)."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"invalid keyword arguments for einsum: {list(kwargs)}")
    ts = [convert_to_tensor(x) for x in inputs]
    if not ts:
        raise ValueError("einsum needs at least one input")
    ins, out = _normalize(equation, [t.shape.ndims for t in ts])
    return _einsum(",".join(ins) + "->" + out, ts, ins, out, name=name)


def tensordot(a: Any, b: Any, axes: Any, name: str | None = None) -> Any:
    """Contracts ``a``'s ``axes[0]`` with ``b``'s ``axes[1]`` (an int n: the last n of ``a``
    with the first n of ``b``); output: ``a``'s free dims then ``b``'s. Ranks must be known."""
    a, b = math_ops._binary_args(a, b)
    ra, rb = a.shape.ndims, b.shape.ndims
    if ra is None or rb is None:
        raise ValueError("tensordot needs inputs of known rank")
    if isinstance(axes, int) or (hasattr(axes, "__index__") and not isinstance(axes, list
                                                                               | tuple)):
        n = int(axes)
        if n < 0 or n > min(ra, rb):
            raise ValueError(f"'axes' must be at most the rank of both inputs ({ra}, {rb}), got "
                             f"{n}")
        ax_a, ax_b = list(range(ra - n, ra)), list(range(n))
    else:
        if len(axes) != 2:
            raise ValueError(f"'axes' must be an int or a pair of axis lists, got {axes!r}")
        ax_a, ax_b = ([int(v)] if isinstance(v, int) else [int(u) for u in v] for v in axes)
        if len(ax_a) != len(ax_b):
            raise ValueError(f"tensordot: {len(ax_a)} axes of a vs {len(ax_b)} axes of b")
        ax_a = [x % ra for x in ax_a]
        ax_b = [x % rb for x in ax_b]
    letters = iter(_LETTERS)
    sa = [next(letters) for _ in range(ra)]
    sb = [next(letters) for _ in range(rb)]
    for i, j in zip(ax_a, ax_b):
        da, db = a.shape[i], b.shape[j]
        if da is not None and db is not None and da != db:
            raise ValueError(f"Dimensions must be equal, but are {da} and {db} for tensordot "
                             f"of shapes {a.shape} and {b.shape}")
        sb[j] = sa[i]
    out = [c for k, c in enumerate(sa) if k not in ax_a] + \
        [c for k, c in enumerate(sb) if k not in ax_b]
    return _einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", [a, b],
                   ["".join(sa), "".join(sb)], "".join(out), name=name or "Tensordot")

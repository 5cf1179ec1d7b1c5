"""Binds Python operators on tensors (``+ - * / // % ** @``, comparisons, ``[]``) to ops."""

from __future__ import annotations

from typing import Any

from rillet.graph import _operators
from rillet.ops import math_ops


def _invert(x: Any) -> Any:
    return math_ops.logical_not(x)


def _getitem(x: Any, key: Any) -> Any:
    from rillet.ops import array_ops
    hook = getattr(array_ops, "strided_slice_getitem", None)
    if hook is None:
        raise TypeError("Tensor indexing needs the op library (strided_slice)")
    return hook(x, key)


def _unstack(x: Any, num: int) -> Any:
    from rillet.ops.array_ops import unstack
    return unstack(x, num)


_operators.update({
    "add": math_ops.add, "sub": math_ops.subtract, "mul": math_ops.multiply,
    "truediv": math_ops.divide, "floordiv": math_ops.floordiv, "mod": math_ops.floormod,
    "pow": math_ops.pow, "matmul": math_ops.matmul, "lt": math_ops.less,
    "le": math_ops.less_equal, "gt": math_ops.greater, "ge": math_ops.greater_equal,
    "and": math_ops.logical_and, "or": math_ops.logical_or, "xor": math_ops.logical_xor,
    "neg": math_ops.negative, "abs": math_ops.abs, "invert": _invert,
    "getitem": _getitem, "unstack": _unstack,
})

"""Run-time checks (TF 1.x ``tf.Assert``, ``tf.assert_*`` / ``tf.debugging.*``,
``tf.check_numerics``).

``Assert(condition, data, summarize)`` is an op without outputs: when it runs and ``condition``
is false it raises ``InvalidArgumentError`` with TF's message, ``assertion failed: [d0] [d1]
...``, each data tensor summarised to its first ``summarize`` (default 3) entries. Use it (and
the ``assert_*`` functions built on it) in ``tf.control_dependencies``. When both sides of an
``assert_equal`` are known while the graph is built, a failing check raises at once, as in TF.
In eager mode the checks run immediately.

``CheckNumerics(tensor, message)`` is an identity that raises ``InvalidArgumentError:
<message> : Tensor had NaN values`` (``Inf``, ``Inf and NaN``); its gradient checks the
incoming gradient the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rillet import context
from rillet import dtypes as _dt
from rillet.errors import InvalidArgumentError
from rillet.graph import Operation, get_default_graph
from rillet.ops import array_ops, math_ops
from rillet.ops._util import constant_value
from rillet.ops.control_flow_ops import group, no_op
from rillet.registry import NOT_DIFFERENTIABLE, apply_op, convert_to_tensor, is_tensor, register

# --- Assert ------------------------------------------------------------------------------------


def _element_str(v: Any) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, str):
        return v
    if isinstance(v, np.bool_ | bool):
        return "1" if v else "0"
    if isinstance(v, np.floating | float):
        # C's "%.*g" with the fewest digits that round-trip (TF's FloatToBuffer)
        if isinstance(v, np.float16 | np.float32):
            s = f"{float(v):.6g}"
            return s if np.float32(s) == v else f"{float(v):.9g}"
        s = f"{float(v):.15g}"
        return s if float(s) == float(v) else f"{float(v):.17g}"
    return str(v)


def summarize_value(value: Any, summarize: int) -> str:
    """TF's ``Tensor::SummarizeValue``: the first ``summarize`` entries (all when negative)
    separated by spaces, nested in brackets for rank > 1, ``...`` when truncated."""
    arr = np.asarray(value)
    n = arr.size
    limit = n if summarize < 0 else min(int(summarize), n)
    flat = arr.reshape(-1)
    if arr.ndim == 0:
        return _element_str(flat[0]) if limit else ""
    if arr.ndim == 1:
        out = " ".join(_element_str(flat[i]) for i in range(limit))
        return out + ("..." if n > limit else "")
    pos = [0]
    parts: list[str] = []

    def one_dim(d: int) -> None:
        if pos[0] >= limit:
            return
        count = arr.shape[d]
        if d == arr.ndim - 1:
            for i in range(count):
                if pos[0] >= limit:
                    if d != 0 and i < count:
                        parts.append("...")
                    return
                if i > 0:
                    parts.append(" ")
                parts.append(_element_str(flat[pos[0]]))
                pos[0] += 1
            return
        for _ in range(count):
            opened = False
            if pos[0] < limit:
                parts.append("[")
                opened = True
            one_dim(d + 1)
            if pos[0] < limit or opened:
                parts.append("]")

    one_dim(0)
    return "".join(parts) + ("..." if n > limit else "")


def _assert_infer(op: Any) -> list:
    cond = op.inputs[0]
    if cond.dtype is not _dt.bool_:
        raise TypeError(f"Input 'condition' of 'Assert' Op has type {cond.dtype.name} that "
                        "does not match expected type of bool.")
    if cond.shape.ndims not in (None, 0):
        raise ValueError(f"In[0] is not a scalar: {cond.shape}")
    return []


def _assert_kernel(xp: Any, condition: Any, *data: Any, summarize: int = 3) -> None:
    c = np.asarray(condition)
    if c.ndim != 0:
        raise InvalidArgumentError(None, None, f"In[0] is not a scalar: {list(c.shape)}")
    if not bool(c):
        msg = " ".join(f"[{summarize_value(d, summarize)}]" for d in data)
        raise InvalidArgumentError(None, None, "assertion failed: " + msg)
    return None


register("Assert", infer=_assert_infer, kernel=_assert_kernel, stateful=True,
         grad=NOT_DIFFERENTIABLE)


def _as_data_tensor(d: Any) -> Any:
    if is_tensor(d) or hasattr(d, "_as_graph_element"):
        return convert_to_tensor(d)
    if isinstance(d, str | bytes):
        return convert_to_tensor(d, dtype=_dt.string)
    return convert_to_tensor(d)


def Assert(condition: Any, data: list, summarize: int | None = None,  # noqa: N802 - TF name
           name: str | None = None) -> Operation | None:
    """An op raising ``InvalidArgumentError`` (``assertion failed: [...] [...]``) when it runs
    with ``condition`` false; ``data`` (tensors or strings) is printed, ``summarize`` entries of
    each. Returns the op (None in eager mode, where the check runs now)."""
    g = get_default_graph()
    with g.name_scope(name or "Assert"):
        cond = convert_to_tensor(condition, name="Condition")
        xs = [_as_data_tensor(d) for d in data]
        op = apply_op("Assert", (cond, *xs), {"summarize": 3 if summarize is None
                                              else int(summarize)}, name="Assert")
    return None if context.executing_eagerly() else op


# --- assert_* ---------------------------------------------------------------------------------
def _name_of(x: Any) -> str:
    if context.executing_eagerly():
        return f"shape={x.shape} dtype={x.dtype.name}"
    return x.name


def _static_str(d: Any) -> str:
    if not is_tensor(d):
        return str(d)
    v = constant_value(d)
    return str(v) if v is not None else str(d)


def _assert_static(condition: bool, data: list) -> None:
    if not condition:
        raise InvalidArgumentError(None, None, "\n".join(_static_str(d) for d in data))


def _binary(sym: str, default_name: str, op_fn: Callable, np_fn: Callable,
            static: bool = False) -> Callable:
    def assert_fn(x: Any, y: Any, data: list | None = None, summarize: int | None = None,
                  message: str | None = None, name: str | None = None) -> Any:
        message = message or ""
        with get_default_graph().name_scope(name or default_name):
            x = convert_to_tensor(x, name="x")
            y = convert_to_tensor(y, name="y", dtype=x.dtype)
            if data is None:
                data = [message, f"Condition x {sym} y did not hold element-wise:",
                        f"x ({_name_of(x)}) = ", x, f"y ({_name_of(y)}) = ", y]
            if static and not context.executing_eagerly():
                xs, ys = constant_value(x), constant_value(y)
                if xs is not None and ys is not None:
                    _assert_static(bool(np.all(np_fn(xs, ys))), data)
            condition = math_ops.reduce_all(op_fn(x, y))
            return Assert(condition, data, summarize=summarize)
    assert_fn.__name__ = assert_fn.__qualname__ = default_name
    assert_fn.__doc__ = (f"Asserts ``x {sym} y`` element-wise (with broadcasting): an op "
                         "raising ``InvalidArgumentError`` at run time otherwise; use it in "
                         "``control_dependencies``.")
    return assert_fn


assert_equal = _binary("==", "assert_equal", math_ops.equal, np.equal, static=True)
assert_none_equal = _binary("!=", "assert_none_equal", math_ops.not_equal, np.not_equal)
assert_less = _binary("<", "assert_less", math_ops.less, np.less)
assert_less_equal = _binary("<=", "assert_less_equal", math_ops.less_equal, np.less_equal)
assert_greater = _binary(">", "assert_greater", math_ops.greater, np.greater)
assert_greater_equal = _binary(">=", "assert_greater_equal", math_ops.greater_equal,
                               np.greater_equal)


def _sign_check(sym: str, default_name: str, check: Callable, zero_first: bool) -> Callable:
    def assert_fn(x: Any, data: list | None = None, summarize: int | None = None,
                  message: str | None = None, name: str | None = None) -> Any:
        message = message or ""
        with get_default_graph().name_scope(name or default_name):
            x = convert_to_tensor(x, name="x")
            if data is None:
                data = [message, f"Condition x {sym} 0 did not hold element-wise:",
                        f"x ({_name_of(x)}) = ", x]
            zero = convert_to_tensor(np.zeros((), x.dtype.np))
            return check(zero, x, data=data, summarize=summarize) if zero_first else \
                check(x, zero, data=data, summarize=summarize)
    assert_fn.__name__ = assert_fn.__qualname__ = default_name
    assert_fn.__doc__ = (f"Asserts ``x {sym} 0`` element-wise (an op raising "
                         "``InvalidArgumentError`` at run time otherwise).")
    return assert_fn


assert_positive = _sign_check(">", "assert_positive", assert_less, True)
assert_negative = _sign_check("<", "assert_negative", assert_less, False)
assert_non_negative = _sign_check(">=", "assert_non_negative", assert_less_equal, True)
assert_non_positive = _sign_check("<=", "assert_non_positive", assert_less_equal, False)


def assert_near(x: Any, y: Any, rtol: Any = None, atol: Any = None, data: list | None = None,
                summarize: int | None = None, message: str | None = None,
                name: str | None = None) -> Any:
    """Asserts ``|x - y| <= atol + rtol * |y|`` element-wise (default tolerances ``10 * eps``
    of the dtype)."""
    message = message or ""
    with get_default_graph().name_scope(name or "assert_near"):
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, name="y", dtype=x.dtype)
        eps = np.finfo(x.dtype.np).eps
        rtol = convert_to_tensor(10 * eps if rtol is None else rtol, dtype=x.dtype)
        atol = convert_to_tensor(10 * eps if atol is None else atol, dtype=x.dtype)
        if data is None:
            data = [message, f"x and y not equal to tolerance rtol = {_static_str(rtol)}, "
                    f"atol = {_static_str(atol)}", f"x ({_name_of(x)}) = ", x,
                    f"y ({_name_of(y)}) = ", y]
        tol = atol + rtol * math_ops.abs(y)
        condition = math_ops.reduce_all(math_ops.less_equal(math_ops.abs(x - y), tol))
        return Assert(condition, data, summarize=summarize)


def _rank_check(default_name: str, what: str, static_ok: Callable,
                dynamic: Callable) -> Callable:
    def assert_fn(x: Any, rank: Any, data: list | None = None, summarize: int | None = None,
                  message: str | None = None, name: str | None = None) -> Any:
        message = message or ""
        with get_default_graph().name_scope(name or default_name):
            x = convert_to_tensor(x, name="x")
            rank_t = convert_to_tensor(rank, name="rank")
            if rank_t.dtype not in (_dt.int32, _dt.int64):
                raise TypeError(f"{rank_t.dtype.name} is not an integer rank")
            xname = "" if context.executing_eagerly() else x.name
            rank_static = constant_value(rank_t)
            if rank_static is not None:
                if np.ndim(rank_static) != 0:
                    raise ValueError("Rank must be a scalar.")
                nd = x.shape.ndims
                if nd is not None:
                    if not static_ok(nd, int(rank_static)):
                        raise ValueError(
                            f"{message}.  Tensor {xname} must have {what} {int(rank_static)}."
                            f"  Received rank {nd}, shape {x.shape}")
                    return no_op(name="static_checks_determined_all_ok")
            if data is None:
                data = [message, f"Tensor {xname} must have {what}", rank_t,
                        "Received shape: ", array_ops.shape(x)]
            condition = dynamic(array_ops.rank(x), math_ops.cast(rank_t, _dt.int32))
            return Assert(condition, data, summarize=summarize)
    assert_fn.__name__ = assert_fn.__qualname__ = default_name
    assert_fn.__doc__ = (f"Asserts that ``x`` has {what} ``rank``: a ValueError now when the "
                         "rank is known statically, else an op checking at run time.")
    return assert_fn


assert_rank = _rank_check("assert_rank", "rank", lambda a, b: a == b, math_ops.equal)
assert_rank_at_least = _rank_check("assert_rank_at_least", "rank at least",
                                   lambda a, b: a >= b, math_ops.greater_equal)


def assert_type(tensor: Any, tf_type: Any, message: str | None = None,
                name: str | None = None) -> Any:
    """Static check of ``tensor``'s dtype (TypeError); returns a no-op."""
    message = message or ""
    t = convert_to_tensor(tensor)
    want = _dt.as_dtype(tf_type)
    if t.dtype is not want:
        tname = "" if context.executing_eagerly() else t.name
        raise TypeError(f"{message}{tname} must be of type {want!r}")
    return no_op(name=name or "statically_determined_correct_type")


def assert_integer(x: Any, message: str | None = None, name: str | None = None) -> Any:
    """Static check that ``x`` has an integer dtype (TypeError); returns a no-op."""
    message = message or ""
    t = convert_to_tensor(x)
    if not t.dtype.is_integer:
        tname = "" if context.executing_eagerly() else t.name
        raise TypeError(f"{message}Expected \"x\" to be integer type.  Found: {tname} of dtype "
                        f"{t.dtype!r}")
    return no_op(name=name or "statically_determined_was_integer")


def assert_scalar(tensor: Any, name: str | None = None, message: str | None = None) -> Any:
    """Static check that ``tensor`` is a scalar (ValueError); returns the tensor."""
    t = convert_to_tensor(tensor)
    if t.shape.ndims != 0:
        tname = "" if context.executing_eagerly() else t.name
        raise ValueError(f"{message or ''}Expected scalar shape for {tname}, saw shape: "
                         f"{t.shape}.")
    return t


def is_numeric_tensor(tensor: Any) -> bool:
    """True for a tensor of a numeric (integer, float or complex) dtype."""
    return is_tensor(tensor) and (tensor.dtype.is_integer or tensor.dtype.is_floating
                                  or tensor.dtype.is_complex)


def _monotonic(x: Any, strict: bool, default_name: str, name: str | None) -> Any:
    with get_default_graph().name_scope(name or default_name):
        flat = array_ops.reshape(convert_to_tensor(x), [-1])
        left, right = flat[:-1], flat[1:]
        cmp = math_ops.less(left, right) if strict else math_ops.less_equal(left, right)
        return math_ops.reduce_all(cmp)


def is_non_decreasing(x: Any, name: str | None = None) -> Any:
    """True when the flattened ``x`` never decreases (a bool scalar tensor)."""
    return _monotonic(x, False, "is_non_decreasing", name)


def is_strictly_increasing(x: Any, name: str | None = None) -> Any:
    """True when the flattened ``x`` strictly increases (a bool scalar tensor)."""
    return _monotonic(x, True, "is_strictly_increasing", name)


# --- CheckNumerics ------------------------------------------------------------------------------
def _check_numerics_infer(op: Any) -> tuple:
    x = op.inputs[0]
    if not x.dtype.is_floating:
        raise TypeError(f"Value passed to parameter 'tensor' has DataType {x.dtype.name} not in "
                        "list of allowed values: bfloat16, float16, float32, float64")
    return x.dtype, x.shape


def _check_numerics_kernel(xp: Any, x: Any, *, message: str = "") -> Any:
    nan = bool(xp.isnan(x).any())
    inf = bool(xp.isinf(x).any())
    if nan or inf:
        status = "Inf and NaN" if nan and inf else ("NaN" if nan else "Inf")
        raise InvalidArgumentError(None, None, f"{message} : Tensor had {status} values")
    return x


def _check_numerics_grad(op: Any, g: Any) -> list:
    return [check_numerics(g, "Not a number (NaN) or infinity (Inf) values detected in "
                              f"gradient. {op.attrs.get('message', '')}")]


register("CheckNumerics", infer=_check_numerics_infer, kernel=_check_numerics_kernel,
         grad=_check_numerics_grad)


def check_numerics(tensor: Any, message: str, name: str | None = None) -> Any:
    """``tensor`` unchanged, raising ``InvalidArgumentError: <message> : Tensor had NaN
    values`` (or ``Inf``, ``Inf and NaN``) when it holds non-finite values."""
    return apply_op("CheckNumerics", (convert_to_tensor(tensor),), {"message": str(message)},
                    name=name or "CheckNumerics")


def verify_tensor_all_finite(t: Any, msg: str, name: str | None = None) -> Any:
    """``check_numerics(t, msg)`` (TF 1.x ``tf.verify_tensor_all_finite``)."""
    with get_default_graph().name_scope(name or "VerifyFinite"):
        return check_numerics(t, message=msg)


def add_check_numerics_ops() -> Operation:
    """An op running ``check_numerics`` on every floating-point tensor of the default graph
    (message ``<op name>:<output index>``); run it with the train op to find the first NaN."""
    if context.executing_eagerly():
        raise RuntimeError("add_check_numerics_ops() is not compatible with eager execution. "
                           "To check for Inf's and NaN's under eager execution, call "
                           "tfe.seterr(inf_or_nan='raise') once before executing the checked "
                           "operations.")
    g = get_default_graph()
    checks = []
    for op in list(g.get_operations()):
        for out in op.outputs:
            if out.dtype.is_floating and op.type != "CheckNumerics":
                with g.control_dependencies(None), g.name_scope(None):
                    checks.append(check_numerics(out, f"{op.name}:{out.value_index}"))
    return group(*checks)


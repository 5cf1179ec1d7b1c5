"""Learning-rate schedules (TF 1.x ``tf.train.*_decay``): graph tensors computed from
``global_step`` each time they run, with TensorFlow's formulas and name scopes (in eager mode:
functions returning the current rate)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from rillet import context
from rillet.graph import get_default_graph
from rillet.ops import math_ops
from rillet.ops.array_ops import identity
from rillet.registry import NOT_DIFFERENTIABLE, apply_op, convert_to_tensor, register

__all__ = ["exponential_decay", "piecewise_constant", "polynomial_decay", "cosine_decay",
           "cosine_decay_restarts", "linear_cosine_decay", "inverse_time_decay",
           "natural_exp_decay"]


# --- small math helpers: math_ops' ops when present, else a private op ---------------------
def _private_unary(op_type: str, np_name: str, x: Any) -> Any:
    from rillet import registry
    from rillet.ops._util import same_as_input
    if op_type not in registry.all_ops():
        register(op_type, infer=same_as_input, grad=NOT_DIFFERENTIABLE,
                 kernel=lambda xp, v: getattr(xp, np_name)(v))
    return apply_op(op_type, (x,))


def _cos(x: Any) -> Any:
    f = getattr(math_ops, "cos", None)
    return f(x) if f is not None else _private_unary("LearningRateCos", "cos", x)


def _ceil(x: Any) -> Any:
    f = getattr(math_ops, "ceil", None)
    return f(x) if f is not None else _private_unary("LearningRateCeil", "ceil", x)


def _schedule(fn: Callable) -> Callable:
    """In graph mode a schedule returns a tensor; when executing eagerly it returns a
    function computing the current rate (as TF 1.x does), which optimizers accept."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if context.executing_eagerly():
            fn(*args, **kwargs)  # argument errors are raised now
            return functools.partial(fn, *args, **kwargs)
        return fn(*args, **kwargs)
    return wrapper


def _prologue(what: str, learning_rate: Any, global_step: Any) -> tuple:
    if global_step is None:
        raise ValueError(f"global_step is required for {what}.")
    lr = convert_to_tensor(learning_rate, name="learning_rate")
    step = math_ops.cast(global_step, lr.dtype)
    return lr, step


def _scope(name: str | None, default: str) -> Any:
    return get_default_graph().name_scope(name or default)


def _rate_and_progress(fn: str, learning_rate: Any, global_step: Any, decay_steps: Any,
                       decay_rate: Any, staircase: bool) -> tuple:
    """(lr, decay_rate, global_step / decay_steps) in lr's dtype; the ratio floored when
    ``staircase``. Shared by the exponential, inverse-time and natural-exp schedules."""
    lr, step = _prologue(fn, learning_rate, global_step)
    p = step / math_ops.cast(decay_steps, lr.dtype)
    if staircase:
        p = math_ops.floor(p)
    return lr, math_ops.cast(decay_rate, lr.dtype), p


@_schedule
def exponential_decay(learning_rate: Any, global_step: Any, decay_steps: Any,
                      decay_rate: Any, staircase: bool = False,
                      name: str | None = None) -> Any:
    """``learning_rate * decay_rate ^ (global_step / decay_steps)`` (the exponent floored
    when ``staircase``)."""
    with _scope(name, "ExponentialDecay") as scope:
        lr, decay_rate, p = _rate_and_progress("exponential_decay", learning_rate, global_step,
                                               decay_steps, decay_rate, staircase)
        return math_ops.multiply(lr, math_ops.pow(decay_rate, p), name=scope)


@_schedule
def piecewise_constant(x: Any, boundaries: list, values: list, name: str | None = None) -> Any:
    """``values[0]`` while ``x <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < x <= boundaries[i]``, ``values[-1]`` after the last boundary."""
    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    with _scope(name, "PiecewiseConstant") as scope:
        x = convert_to_tensor(x)
        bs = [convert_to_tensor(b) for b in boundaries]
        vs = [convert_to_tensor(v) for v in values]
        for i, b in enumerate(bs):
            if b.dtype is not x.dtype:
                if x.dtype.is_integer and b.dtype.is_integer:
                    bs[i] = math_ops.cast(b, x.dtype)
                else:
                    raise ValueError(f"Boundaries ({b.dtype.name}) must have the same dtype "
                                     f"as x ({x.dtype.name}).")
        for v in vs[1:]:
            if v.dtype is not vs[0].dtype:
                raise ValueError(f"Values must have elements all with the same dtype "
                                 f"({vs[0].dtype.name} vs {v.dtype.name}).")
        out = vs[-1]
        for b, v in zip(reversed(bs), reversed(vs[:-1])):
            out = math_ops.where_(math_ops.less_equal(x, b), v, out)
        return identity(out, name=scope)


@_schedule
def polynomial_decay(learning_rate: Any, global_step: Any, decay_steps: Any,
                     end_learning_rate: Any = 0.0001, power: Any = 1.0, cycle: bool = False,
                     name: str | None = None) -> Any:
    """``(lr - end_lr) * (1 - step / decay_steps) ^ power + end_lr``, with ``step`` capped at
    ``decay_steps`` (or ``decay_steps`` growing in multiples when ``cycle``)."""
    with _scope(name, "PolynomialDecay") as scope:
        lr, step = _prologue("polynomial_decay", learning_rate, global_step)
        dtype = lr.dtype
        end_lr = math_ops.cast(end_learning_rate, dtype)
        power = math_ops.cast(power, dtype)
        decay_steps = math_ops.cast(decay_steps, dtype)
        if cycle:
            multiplier = math_ops.where_(math_ops.equal(step, 0), 1.0,
                                         _ceil(step / decay_steps))
            decay_steps = math_ops.multiply(decay_steps, multiplier)
        else:
            step = math_ops.minimum(step, decay_steps)
        p = step / decay_steps
        return math_ops.add(math_ops.multiply(lr - end_lr, math_ops.pow(1 - p, power)),
                            end_lr, name=scope)


@_schedule
def cosine_decay(learning_rate: Any, global_step: Any, decay_steps: Any, alpha: Any = 0.0,
                 name: str | None = None) -> Any:
    """``lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps))
    + alpha)`` (Loshchilov & Hutter, SGDR without restarts)."""
    with _scope(name, "CosineDecay") as scope:
        lr, step = _prologue("cosine_decay", learning_rate, global_step)
        dtype = lr.dtype
        decay_steps = math_ops.cast(decay_steps, dtype)
        step = math_ops.minimum(step, decay_steps)
        completed = step / decay_steps
        cosine = 0.5 * (1.0 + _cos(math.pi * completed))
        decayed = (1 - math_ops.cast(alpha, dtype)) * cosine + math_ops.cast(alpha, dtype)
        return math_ops.multiply(lr, decayed, name=scope)


@_schedule
def cosine_decay_restarts(learning_rate: Any, global_step: Any, first_decay_steps: Any,
                          t_mul: float = 2.0, m_mul: float = 1.0, alpha: float = 0.0,
                          name: str | None = None) -> Any:
    """Cosine decay with warm restarts (SGDR): period ``i`` lasts
    ``first_decay_steps * t_mul^i`` steps and starts at ``m_mul^i`` times the rate."""
    with _scope(name, "SGDRDecay") as scope:
        lr, step = _prologue("cosine_decay_restarts", learning_rate, global_step)
        dtype = lr.dtype
        first = math_ops.cast(first_decay_steps, dtype)
        alpha_t = math_ops.cast(alpha, dtype)
        completed = step / first
        if t_mul == 1.0:
            i_restart = math_ops.floor(completed)
            completed = completed - i_restart
        else:
            i_restart = math_ops.floor(
                math_ops.log(1.0 - completed * (1.0 - t_mul)) / float(np.log(t_mul)))
            sum_r = (1.0 - math_ops.pow(math_ops.cast(t_mul, dtype), i_restart)) \
                / (1.0 - t_mul)
            completed = (completed - sum_r) / math_ops.pow(math_ops.cast(t_mul, dtype),
                                                           i_restart)
        m_fac = math_ops.pow(math_ops.cast(m_mul, dtype), i_restart)
        cosine = 0.5 * m_fac * (1.0 + _cos(math.pi * completed))
        decayed = (1 - alpha_t) * cosine + alpha_t
        return math_ops.multiply(lr, decayed, name=scope)


@_schedule
def linear_cosine_decay(learning_rate: Any, global_step: Any, decay_steps: Any,
                        num_periods: float = 0.5, alpha: float = 0.0, beta: float = 0.001,
                        name: str | None = None) -> Any:
    """``lr * ((alpha + linear) * cosine + beta)`` with ``linear = (decay_steps - step) /
    decay_steps`` and ``cosine = 0.5 * (1 + cos(2 pi num_periods step / decay_steps))``."""
    with _scope(name, "LinearCosineDecay") as scope:
        lr, step = _prologue("linear_cosine_decay", learning_rate, global_step)
        dtype = lr.dtype
        decay_steps = math_ops.cast(decay_steps, dtype)
        step = math_ops.minimum(step, decay_steps)
        linear = (decay_steps - step) / decay_steps
        completed = step / decay_steps
        fraction = 2.0 * math_ops.cast(num_periods, dtype) * completed
        cosine = 0.5 * (1.0 + _cos(math.pi * fraction))
        decayed = (math_ops.cast(alpha, dtype) + linear) * cosine + math_ops.cast(beta, dtype)
        return math_ops.multiply(lr, decayed, name=scope)


@_schedule
def inverse_time_decay(learning_rate: Any, global_step: Any, decay_steps: Any,
                       decay_rate: Any, staircase: bool = False,
                       name: str | None = None) -> Any:
    """``learning_rate / (1 + decay_rate * global_step / decay_steps)`` (the ratio floored
    when ``staircase``)."""
    with _scope(name, "InverseTimeDecay") as scope:
        lr, decay_rate, p = _rate_and_progress("inverse_time_decay", learning_rate, global_step,
                                               decay_steps, decay_rate, staircase)
        denom = math_ops.add(1.0, math_ops.multiply(decay_rate, p))
        return math_ops.divide(lr, denom, name=scope)


@_schedule
def natural_exp_decay(learning_rate: Any, global_step: Any, decay_steps: Any,
                      decay_rate: Any, staircase: bool = False,
                      name: str | None = None) -> Any:
    """``learning_rate * exp(-decay_rate * global_step / decay_steps)`` (the ratio floored
    when ``staircase``)."""
    with _scope(name, "NaturalExpDecay") as scope:
        lr, decay_rate, p = _rate_and_progress("natural_exp_decay", learning_rate, global_step,
                                               decay_steps, decay_rate, staircase)
        return math_ops.multiply(lr, math_ops.exp(math_ops.negative(decay_rate) * p),
                                 name=scope)

"""``tf.train.ExponentialMovingAverage`` and ``assign_moving_average`` (TF 1.x semantics).

``ema.apply(var_list)`` creates, once per averaged value, a non-trainable shadow variable
``<name>/<ema name>`` (``conv1/weights/ExponentialMovingAverage``) and returns one op updating
every shadow: ``shadow -= (1 - decay) * (shadow - value)``. A variable's shadow starts at the
variable's initial value; a tensor's (a loss) starts at zero. With ``num_updates`` the decay is
``min(decay, (1 + num_updates) / (10 + num_updates))``.

The shadows are created outside any ``control_dependencies`` block (TF's ``init_scope``), so
their initializers never depend on the training op; the update op itself honours the enclosing
block and reads each variable's value afresh, so under ``control_dependencies([train_op])`` it
averages the values the training step wrote. Averaged variables go into the
``MOVING_AVERAGE_VARIABLES`` collection; ``variables_to_restore()`` maps shadow names to
variables, for evaluating with the averaged weights through a ``Saver``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rillet import context
from rillet import dtypes as _dt
from rillet.graph import GraphKeys, get_collection, get_default_graph
from rillet.ops import array_ops, math_ops
from rillet.ops.control_flow_ops import group
from rillet.registry import convert_to_tensor
from rillet.variables import (
    Variable,
    assign_add,
    assign_sub,
    get_variable_scope,
    global_variables,
    trainable_variables,
)

_FLOATS = (_dt.float16, _dt.float32, _dt.float64)


def moving_average_variables(scope: str | None = None) -> list:
    """The variables that have moving averages (``tf.moving_average_variables``)."""
    return get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


def _outside_control_deps(fn: Any) -> Any:
    """Runs ``fn`` with no control dependencies and no name scope (TF's ``init_scope`` for
    creating state inside a training-step definition)."""
    g = get_default_graph()
    with g.control_dependencies(None), g.name_scope(None):
        return fn()


def _slot_name(base: str) -> str:
    vs = get_variable_scope().name
    return f"{vs}/{base}" if vs else base


def _zeros_like_var(primary: Any, name: str) -> Variable:
    shape = primary.shape
    dt = primary.dtype
    if shape.is_fully_defined():
        init: Any = np.zeros(shape.as_list(), dtype=dt.np)
        return Variable(init, trainable=False, name=name, dtype=dt)
    return Variable(array_ops.zeros(array_ops.shape(primary), dtype=dt), trainable=False,
                    name=name, dtype=dt, validate_shape=False)


def _zero_debias(unbiased: Any, value: Any, one_minus_decay: Any) -> Any:
    """TF's ``_zero_debias``: tracks a biased EMA started at zero and a step count, and
    returns the delta that moves ``unbiased`` to ``biased / (1 - decay ** step)``."""
    base = unbiased.op.name

    def make() -> tuple:
        biased = Variable(np.zeros(unbiased.shape.as_list(), unbiased.dtype.np), trainable=False,
                          name=f"{base}/biased")
        step = Variable(np.zeros((), unbiased.dtype.np), trainable=False,
                        name=f"{base}/local_step")
        return biased, step

    biased, step = _outside_control_deps(make)
    g = get_default_graph()
    update_biased = assign_sub(biased, (biased - value) * one_minus_decay)
    update_step = assign_add(step, np.ones((), unbiased.dtype.np))
    with g.control_dependencies([update_biased, update_step]):
        decay = 1.0 - one_minus_decay
        return unbiased - biased.read_value() / (1.0 - math_ops.pow(decay, step.read_value()))


def assign_moving_average(variable: Any, value: Any, decay: Any, zero_debias: bool = True,
                          name: str | None = None) -> Any:
    """``variable -= (1 - decay) * (variable - value)`` when run; returns the new value. With
    ``zero_debias`` (for averages started at zero) the result is divided by
    ``1 - decay ** steps``, so early averages are not biased toward zero."""
    g = get_default_graph()
    with g.name_scope(name or "AssignMovingAvg"):
        if isinstance(decay, float | int):
            one_minus = convert_to_tensor(np.asarray(1.0 - decay, variable.dtype.np),
                                          name="decay")
        else:
            one_minus = math_ops.subtract(1.0, convert_to_tensor(decay), name="decay")
        if one_minus.dtype is not variable.dtype:
            one_minus = math_ops.cast(one_minus, variable.dtype)
        value = convert_to_tensor(value)
        if value.dtype is not variable.dtype:
            value = math_ops.cast(value, variable.dtype)
        if zero_debias:
            delta = _zero_debias(variable, value, one_minus)
        else:
            delta = (variable - value) * one_minus
        return assign_sub(variable, delta)


class ExponentialMovingAverage:
    """Maintains moving averages of variables (or tensors) with exponential decay.

    ``decay`` is close to 1 (0.999, 0.9999); with ``num_updates`` (e.g. the global step) the
    effective decay ``min(decay, (1 + n) / (10 + n))`` is smaller early in training.
    ``zero_debias`` corrects the averages of tensors (which start at 0) for their bias.
    """

    def __init__(self, decay: Any, num_updates: Any = None, zero_debias: bool = False,
                 name: str = "ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages: dict = {}

    @property
    def name(self) -> str:
        return self._name

    def apply(self, var_list: Any = None) -> Any:
        """Creates the shadow variables (the first time a value is seen) and returns an op that
        updates all of their averages (None in eager mode, where it updates them now)."""
        if var_list is None:
            var_list = trainable_variables()
        var_list = list(var_list)
        g = get_default_graph()
        debiased: set = set()
        for var in var_list:
            if var.dtype not in _FLOATS:
                raise TypeError(f"The variables must be half, float, or double: {var.name}")
            if var in self._averages:
                continue
            if isinstance(var, Variable):
                avg = _outside_control_deps(lambda v=var: Variable(
                    v.initialized_value(), trainable=False,
                    name=_slot_name(f"{_primary_name(v)}/{self._name}")))
                g.add_to_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, var)
            else:
                avg = _outside_control_deps(lambda v=var: _zeros_like_var(
                    v, _slot_name(f"{v.op.name}/{self._name}")))
                if self._zero_debias:
                    debiased.add(id(avg))
            self._averages[var] = avg
        with g.name_scope(self._name) as scope:
            decay = convert_to_tensor(np.float32(self._decay) if isinstance(
                self._decay, float | int) else self._decay, name="decay")
            if self._num_updates is not None:
                n = math_ops.cast(_value_of(self._num_updates), _dt.float32, name="num_updates")
                decay = math_ops.minimum(decay, (1.0 + n) / (10.0 + n))
            updates = []
            for var in var_list:
                avg = self._averages[var]
                value = var.read_value() if isinstance(var, Variable) else var
                updates.append(assign_moving_average(avg, value, decay,
                                                     zero_debias=id(avg) in debiased))
            if context.executing_eagerly():
                return None
            return group(*updates, name=scope or None)

    def average(self, var: Any) -> Any:
        """The shadow variable of ``var`` (None if ``apply`` has not seen it)."""
        return self._averages.get(var)

    def average_name(self, var: Any) -> str:
        """The name of ``var``'s shadow variable (what ``apply`` names it, when it has not run
        yet); use it to restore averages through a ``Saver``."""
        if var in self._averages:
            return self._averages[var].op.name
        return get_default_graph().unique_name(f"{_primary_name(var)}/{self._name}",
                                               mark_as_used=False)

    def variables_to_restore(self, moving_avg_variables: Any = None) -> dict:
        """``{shadow name: variable}`` for the averaged variables (by default the trainable
        ones and those in ``MOVING_AVERAGE_VARIABLES``) and ``{name: variable}`` for the other
        global variables: ``Saver(ema.variables_to_restore())`` loads the averages into the
        model's variables."""
        if moving_avg_variables is None:
            moving_avg_variables = trainable_variables() + moving_average_variables()
        seen: dict = {}
        for v in moving_avg_variables:
            seen[id(v)] = v
        name_map = {}
        for v in seen.values():
            name_map[self.average_name(v)] = v
        names = {v.name for v in seen.values()}
        for v in global_variables():
            if v.name not in names and v.op.name not in name_map:
                name_map[v.op.name] = v
        return name_map


def _primary_name(v: Any) -> str:
    return v.op.name


def _value_of(x: Any) -> Any:
    if isinstance(x, Variable):
        return x.read_value()
    return convert_to_tensor(x)

"""The optimizers of ``tf.train`` (TF 1.x constructor arguments and defaults) plus AdamW
(``tf.contrib.opt.AdamWOptimizer``) and RAdam (Rectified Adam).

Every ``_apply_dense`` adds one fused in-place update op from ``rillet.ops.training_ops``.
Slot variables are named like TensorFlow's: ``<var>/<optimizer name>``, then ``_1``, ``_2``.
"""

from __future__ import annotations

from typing import Any

from rillet.graph import get_default_graph
from rillet.init_ops import constant_initializer, ones_initializer
from rillet.ops import math_ops, training_ops
from rillet.train.optimizer import Optimizer, _after, _group
from rillet.variables import assign, assign_add

__all__ = [
    "GradientDescentOptimizer", "MomentumOptimizer", "AdagradOptimizer", "AdadeltaOptimizer",
    "RMSPropOptimizer", "AdamOptimizer", "AdamWOptimizer", "RAdamOptimizer",
]


class GradientDescentOptimizer(Optimizer):
    """``var -= learning_rate * grad``."""

    def __init__(self, learning_rate: Any, use_locking: bool = False,
                 name: str = "GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        return training_ops.apply_gradient_descent(
            var, self._hyper("learning_rate", self._learning_rate, var.dtype), grad)


class MomentumOptimizer(Optimizer):
    """``accum = momentum * accum + grad; var -= lr * accum`` (Nesterov:
    ``var -= lr * grad + lr * momentum * accum``). Slot: ``momentum``."""

    def __init__(self, learning_rate: Any, momentum: Any, use_locking: bool = False,
                 name: str = "Momentum", use_nesterov: bool = False):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list: list) -> None:
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        return training_ops.apply_momentum(
            var, self.get_slot(var, "momentum"),
            self._hyper("learning_rate", self._learning_rate, var.dtype), grad,
            self._hyper("momentum", self._momentum, var.dtype),
            use_nesterov=self._use_nesterov)


class AdagradOptimizer(Optimizer):
    """``accum += grad^2; var -= lr * grad / sqrt(accum)``. Slot: ``accumulator``."""

    def __init__(self, learning_rate: Any, initial_accumulator_value: float = 0.1,
                 use_locking: bool = False, name: str = "Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError("initial_accumulator_value must be positive: "
                             f"{initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list: list) -> None:
        for v in var_list:
            init = constant_initializer(self._initial_accumulator_value, dtype=v.dtype)
            self._get_or_make_slot_with_initializer(v, init, v.shape, v.dtype, "accumulator",
                                                    self._name)

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        return training_ops.apply_adagrad(
            var, self.get_slot(var, "accumulator"),
            self._hyper("learning_rate", self._learning_rate, var.dtype), grad)


class AdadeltaOptimizer(Optimizer):
    """Adadelta (Zeiler 2012). Slots: ``accum``, ``accum_update``."""

    def __init__(self, learning_rate: Any = 0.001, rho: Any = 0.95, epsilon: Any = 1e-8,
                 use_locking: bool = False, name: str = "Adadelta"):
        super().__init__(use_locking, name)
        self._lr, self._rho, self._epsilon = learning_rate, rho, epsilon

    def _create_slots(self, var_list: list) -> None:
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        dt = var.dtype
        return training_ops.apply_adadelta(
            var, self.get_slot(var, "accum"), self.get_slot(var, "accum_update"),
            self._hyper("lr", self._lr, dt), self._hyper("rho", self._rho, dt),
            self._hyper("epsilon", self._epsilon, dt), grad)


class RMSPropOptimizer(Optimizer):
    """RMSProp: ``ms = decay * ms + (1 - decay) * grad^2``,
    ``mom = momentum * mom + lr * grad / sqrt(ms + epsilon)``, ``var -= mom``. With
    ``centered=True`` the second moment is centered by the mean gradient ``mg``.
    Slots: ``rms`` (initialized to ones, as in TF 1.x), ``momentum``, and ``mg``."""

    def __init__(self, learning_rate: Any, decay: Any = 0.9, momentum: Any = 0.0,
                 epsilon: Any = 1e-10, use_locking: bool = False, centered: bool = False,
                 name: str = "RMSProp"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = centered

    def _create_slots(self, var_list: list) -> None:
        for v in var_list:
            self._get_or_make_slot_with_initializer(v, ones_initializer(dtype=v.dtype),
                                                    v.shape, v.dtype, "rms", self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        dt = var.dtype
        args = (self._hyper("learning_rate", self._learning_rate, dt),
                self._hyper("decay", self._decay, dt),
                self._hyper("momentum", self._momentum, dt),
                self._hyper("epsilon", self._epsilon, dt), grad)
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        if self._centered:
            return training_ops.apply_centered_rms_prop(var, self.get_slot(var, "mg"), rms,
                                                        mom, *args)
        return training_ops.apply_rms_prop(var, rms, mom, *args)


class AdamOptimizer(Optimizer):
    """Adam (Kingma & Ba 2014) with TF's update:
    ``lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)``, ``m = beta1 * m + (1 - beta1) * g``,
    ``v = beta2 * v + (1 - beta2) * g^2``, ``var -= lr_t * m / (sqrt(v) + epsilon)``.
    Slots: ``m``, ``v``; non-slot variables ``beta1_power``, ``beta2_power``."""

    _apply_op = staticmethod(training_ops.apply_adam)

    def __init__(self, learning_rate: Any = 0.001, beta1: Any = 0.9, beta2: Any = 0.999,
                 epsilon: Any = 1e-08, use_locking: bool = False, name: str = "Adam"):
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon

    def _get_beta_accumulators(self) -> tuple:
        g = get_default_graph()
        return (self._get_non_slot_variable("beta1_power", graph=g),
                self._get_non_slot_variable("beta2_power", graph=g))

    def _create_slots(self, var_list: list) -> None:
        first_var = min(var_list, key=lambda x: x.name)
        self._create_non_slot_variable(self._initial_power(self._beta1), "beta1_power",
                                       first_var, dtype=first_var.dtype)
        self._create_non_slot_variable(self._initial_power(self._beta2), "beta2_power",
                                       first_var, dtype=first_var.dtype)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _initial_power(self, beta: Any) -> Any:
        return self._call_if_callable(beta)

    def _adam_args(self, var: Any) -> tuple:
        dt = var.dtype
        b1p, b2p = self._get_beta_accumulators()
        return (var, self.get_slot(var, "m"), self.get_slot(var, "v"),
                math_ops.cast(b1p, dt), math_ops.cast(b2p, dt),
                self._hyper("learning_rate", self._lr, dt),
                self._hyper("beta1", self._beta1, dt), self._hyper("beta2", self._beta2, dt),
                self._hyper("epsilon", self._epsilon, dt))

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        return training_ops.apply_adam(*self._adam_args(var), grad)

    def _finish(self, update_ops: list, name_scope: str) -> Any:
        with _after(update_ops):
            b1p, b2p = self._get_beta_accumulators()
            update_beta1 = assign(b1p, b1p * self._hyper("beta1", self._beta1, b1p.dtype))
            update_beta2 = assign(b2p, b2p * self._hyper("beta2", self._beta2, b2p.dtype))
        return _group([*update_ops, update_beta1, update_beta2], name_scope)


class AdamWOptimizer(AdamOptimizer):
    """Adam with decoupled weight decay (Loshchilov & Hutter), TF's
    ``tf.contrib.opt.AdamWOptimizer(weight_decay, learning_rate, ...)``: each step first does
    ``var -= weight_decay * var`` (not scaled by the learning rate), then the Adam update.
    ``decay_var_list`` (to ``minimize``/``apply_gradients``) limits the decay to some
    variables."""

    def __init__(self, weight_decay: Any, learning_rate: Any = 0.001, beta1: Any = 0.9,
                 beta2: Any = 0.999, epsilon: Any = 1e-8, use_locking: bool = False,
                 name: str = "AdamW"):
        super().__init__(learning_rate, beta1, beta2, epsilon, use_locking, name)
        self._weight_decay = weight_decay
        self._decay_var_list: set | None = None

    def minimize(self, loss: Any, global_step: Any = None, var_list: Any = None,
                 gate_gradients: int = Optimizer.GATE_OP, aggregation_method: Any = None,
                 colocate_gradients_with_ops: bool = False, name: str | None = None,
                 grad_loss: Any = None, decay_var_list: Any = None) -> Any:
        self._set_decay_var_list(decay_var_list)
        return super().minimize(loss, global_step, var_list, gate_gradients,
                                aggregation_method, colocate_gradients_with_ops, name,
                                grad_loss)

    def apply_gradients(self, grads_and_vars: Any, global_step: Any = None,
                        name: str | None = None, decay_var_list: Any = None) -> Any:
        if decay_var_list is not None:
            self._set_decay_var_list(decay_var_list)
        return super().apply_gradients(grads_and_vars, global_step, name)

    def _set_decay_var_list(self, decay_var_list: Any) -> None:
        self._decay_var_list = None if decay_var_list is None else \
            {id(v) for v in decay_var_list}

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        if self._decay_var_list is not None and id(var) not in self._decay_var_list:
            return training_ops.apply_adam(*self._adam_args(var), grad)
        return training_ops.apply_adamw(
            *self._adam_args(var), self._hyper("weight_decay", self._weight_decay, var.dtype),
            grad)


class RAdamOptimizer(Optimizer):
    """Rectified Adam (Liu et al. 2019), with the update of TensorFlow Addons'
    ``RectifiedAdam``: while the variance estimate is unreliable (``sma_t < sma_threshold``)
    the step is ``lr * m_hat``, afterwards ``lr * r_t * m_hat / (sqrt(v_hat) + epsilon)``.
    Slots: ``m``, ``v``; non-slot variable ``step`` (the 1-based step number)."""

    def __init__(self, learning_rate: Any = 0.001, beta1: Any = 0.9, beta2: Any = 0.999,
                 epsilon: Any = 1e-8, sma_threshold: float = 5.0, use_locking: bool = False,
                 name: str = "RAdam"):
        super().__init__(use_locking, name)
        self._lr, self._beta1, self._beta2, self._epsilon = (learning_rate, beta1, beta2,
                                                             epsilon)
        self._sma_threshold = float(sma_threshold)

    def _create_slots(self, var_list: list) -> None:
        first_var = min(var_list, key=lambda x: x.name)
        self._create_non_slot_variable(1.0, "step", first_var, dtype=first_var.dtype)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _step(self) -> Any:
        return self._get_non_slot_variable("step", graph=get_default_graph())

    def _apply_dense(self, grad: Any, var: Any) -> Any:
        dt = var.dtype
        return training_ops.apply_radam(
            var, self.get_slot(var, "m"), self.get_slot(var, "v"),
            self._hyper("learning_rate", self._lr, dt), math_ops.cast(self._step(), dt),
            self._hyper("beta1", self._beta1, dt), self._hyper("beta2", self._beta2, dt),
            self._hyper("epsilon", self._epsilon, dt), grad, sma_threshold=self._sma_threshold)

    def _finish(self, update_ops: list, name_scope: str) -> Any:
        with _after(update_ops):
            update_step = assign_add(self._step(), 1.0)
        return _group([*update_ops, update_step], name_scope)

"""``BatchNormalization`` (batch statistics while training, moving averages otherwise) and
``LayerNormalization``."""

from __future__ import annotations

from typing import Any

import rillet as rt
from rillet.keras import constraints, initializers, regularizers
from rillet.keras.engine.base_layer import Layer
from rillet.keras.engine.input_spec import InputSpec
from rillet.shapes import TensorShape


def _axes(axis: Any) -> list[int]:
    return [int(a) for a in axis] if isinstance(axis, list | tuple) else [int(axis)]


class BatchNormalization(Layer):
    """Normalizes over the batch (and spatial) axes; ``axis`` is the feature axis.

    While training (``training=True``) it uses the batch mean/variance and moves
    ``moving_mean``/``moving_variance`` towards them by ``1 - momentum`` (eagerly at once; in
    graph mode through update ops that ``fit`` runs with each step, see ``layer.updates``)."""

    def __init__(self, axis: Any = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = axis
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape: Any) -> None:
        shape = TensorShape(input_shape)
        ndims = shape.ndims
        if ndims is None:
            raise ValueError(f"Input has undefined rank: {shape}")
        axes = [a % ndims for a in _axes(self.axis)]
        if len(axes) != 1:
            raise ValueError("BatchNormalization supports a single feature axis.")
        self._axis = axes[0]
        dim = shape[self._axis]
        if dim is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined "
                             f"dimension but the layer received an input with shape {shape}.")
        self.input_spec = InputSpec(ndim=ndims, axes={self._axis: dim})
        self.gamma = self.add_weight("gamma", [dim], self.dtype, self.gamma_initializer,
                                     self.gamma_regularizer, constraint=self.gamma_constraint) \
            if self.scale else None
        self.beta = self.add_weight("beta", [dim], self.dtype, self.beta_initializer,
                                    self.beta_regularizer, constraint=self.beta_constraint) \
            if self.center else None
        self.moving_mean = self.add_weight("moving_mean", [dim], self.dtype,
                                           self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", [dim], self.dtype,
                                               self.moving_variance_initializer,
                                               trainable=False)
        self.built = True

    def _normalize(self, x: Any, mean: Any, var: Any) -> Any:
        ndims = x.shape.ndims
        if self._axis != ndims - 1:
            shape = [1] * ndims
            shape[self._axis] = -1

            def bc(v: Any) -> Any:
                return None if v is None else rt.reshape(v, shape)
        else:
            def bc(v: Any) -> Any:
                return v
        return rt.nn.batch_normalization(x, bc(mean), bc(var), bc(self.beta), bc(self.gamma),
                                         self.epsilon)

    _frozen_means_inference = True  # Keras 2: a non-trainable BN layer runs in inference mode

    def call(self, inputs: Any, training: Any = None) -> Any:
        if training is None or training is False or \
                (self._frozen_means_inference and not self.trainable):
            return self._normalize(inputs, self.moving_mean, self.moving_variance)
        reduce_axes = [i for i in range(inputs.shape.ndims) if i != self._axis]
        mean, var = rt.nn.moments(inputs, reduce_axes)
        out = self._normalize(inputs, mean, var)
        decay = 1.0 - self.momentum
        if training is not True:  # a boolean tensor: select, and update only when true
            out = rt.where(training, out, self._normalize(inputs, self.moving_mean,
                                                          self.moving_variance))
            decay = rt.where(training, decay, 0.0)
        self._update_moving(mean, var, decay)
        return out

    def _update_moving(self, mean: Any, var: Any, decay: Any) -> None:
        updates = [self.moving_mean.assign_sub((self.moving_mean - mean) * decay),
                   self.moving_variance.assign_sub((self.moving_variance - var) * decay)]
        self.add_update(updates)

    def get_config(self) -> dict:
        cfg = {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
               "epsilon": self.epsilon, "center": self.center, "scale": self.scale}
        for n in ("beta", "gamma", "moving_mean", "moving_variance"):
            cfg[f"{n}_initializer"] = initializers.serialize(getattr(self, f"{n}_initializer"))
        for n in ("beta", "gamma"):
            cfg[f"{n}_regularizer"] = regularizers.serialize(getattr(self, f"{n}_regularizer"))
            cfg[f"{n}_constraint"] = constraints.serialize(getattr(self, f"{n}_constraint"))
        return cfg


class LayerNormalization(Layer):
    """Normalizes each sample over ``axis`` (default the last), then ``gamma * x + beta``."""

    def __init__(self, axis: Any = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis, self.epsilon, self.center, self.scale = axis, float(epsilon), center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def build(self, input_shape: Any) -> None:
        shape = TensorShape(input_shape)
        ndims = shape.ndims
        self._axes = sorted(a % ndims for a in _axes(self.axis))
        pshape = [shape[a] for a in self._axes]
        if any(d is None for d in pshape):
            raise ValueError(f"LayerNormalization needs defined dimensions on axis "
                             f"{self.axis}; got input shape {shape}.")
        self._bshape = [shape[i] if i in self._axes else 1 for i in range(ndims)]
        self.gamma = self.add_weight("gamma", pshape, self.dtype, self.gamma_initializer,
                                     self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight("beta", pshape, self.dtype, self.beta_initializer,
                                    self.beta_regularizer) if self.center else None
        self.built = True

    def call(self, inputs: Any) -> Any:
        mean, var = rt.nn.moments(inputs, self._axes, keep_dims=True)
        last_only = self._axes == [inputs.shape.ndims - 1]

        def bc(v: Any) -> Any:
            return v if v is None or last_only else rt.reshape(v, self._bshape)
        return rt.nn.batch_normalization(inputs, mean, var, bc(self.beta), bc(self.gamma),
                                         self.epsilon)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer)}

"""Core layers: ``Dense``, ``Activation``, ``Dropout``, ``Flatten``, ``Reshape``, ``Lambda``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import rillet as rt
from rillet.keras import activations, constraints, initializers, regularizers
from rillet.keras.engine.base_layer import Layer, smart_cond
from rillet.keras.engine.input_spec import InputSpec
from rillet.shapes import TensorShape


def _weight_config(layer: Any, *names: str) -> dict:
    """Serialized ``<name>_initializer/_regularizer/_constraint`` entries."""
    out: dict[str, Any] = {}
    for n in names:
        out[f"{n}_initializer"] = initializers.serialize(getattr(layer, f"{n}_initializer"))
        out[f"{n}_regularizer"] = regularizers.serialize(getattr(layer, f"{n}_regularizer"))
        out[f"{n}_constraint"] = constraints.serialize(getattr(layer, f"{n}_constraint"))
    return out


class Dense(Layer):
    """``activation(inputs @ kernel + bias)`` on the last axis; kernel ``[in, units]``."""

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        if self.units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive "
                             f"integer, got {units}.")
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape: Any) -> None:
        last = TensorShape(input_shape)[-1]
        if last is None:
            raise ValueError("The last dimension of the inputs to `Dense` should be defined. "
                             "Found `None`.")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: last})
        self.kernel = self.add_weight("kernel", [last, self.units], self.dtype,
                                      self.kernel_initializer, self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", [self.units], self.dtype, self.bias_initializer,
                                    self.bias_regularizer, constraint=self.bias_constraint) \
            if self.use_bias else None
        self.built = True

    def call(self, inputs: Any) -> Any:
        shape = inputs.shape
        if shape.ndims == 2:
            out = rt.matmul(inputs, self.kernel)
        else:
            flat = rt.reshape(inputs, [-1, shape[-1]])
            middle = [d if d is not None else -1 for d in shape.as_list()[1:-1]]
            out = rt.reshape(rt.matmul(flat, self.kernel), [-1, *middle, self.units])
        if self.use_bias:
            out = rt.nn.bias_add(out, self.bias)
        return self.activation(out)

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        return TensorShape(input_shape)[:-1].concatenate([self.units])

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                **_weight_config(self, "kernel", "bias"),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer)}


class Activation(Layer):
    """Applies an activation function (``"relu"``, ``"softmax"``, a callable)."""

    def __init__(self, activation: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: Any) -> Any:
        return self.activation(inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of the inputs while training (scaling the rest by
    ``1 / (1 - rate)``); the identity at inference."""

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Invalid value {rate} received for `rate`, expected a value "
                             "between 0 and 1.")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed

    def call(self, inputs: Any, training: Any = None) -> Any:
        if self.rate == 0:
            return inputs
        return smart_cond(training, lambda: rt.nn.dropout(
            inputs, rate=self.rate, noise_shape=self.noise_shape, seed=self.seed),
            lambda: rt.identity(inputs))

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": self.seed}


class Flatten(Layer):
    """Flattens all but the batch axis (``channels_first`` inputs are transposed first)."""

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs: Any) -> Any:
        shape = inputs.shape
        if self.data_format == "channels_first" and shape.ndims and shape.ndims > 2:
            inputs = rt.transpose(inputs, [0, *range(2, shape.ndims), 1])
            shape = inputs.shape
        rest = shape.as_list()[1:]
        if any(d is None for d in rest):
            raise ValueError(f"The shape of the input to \"Flatten\" is not fully defined "
                             f"(got {tuple(rest)}). Make sure to pass a complete "
                             "\"input_shape\" or \"batch_input_shape\" argument to the first "
                             "layer in your model.")
        return rt.reshape(inputs, [-1, int(np.prod(rest, dtype=np.int64))])

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes the non-batch axes to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)

    def call(self, inputs: Any) -> Any:
        rest = inputs.shape.as_list()[1:]
        target = list(self.target_shape)
        if None not in rest:
            total = int(np.prod(rest, dtype=np.int64))
            known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
            if (-1 not in target and known != total) or (-1 in target and total % known):
                raise ValueError(f"total size of new array must be unchanged, input_shape = "
                                 f"{rest}, output_shape = {target}")
        return rt.reshape(inputs, [-1, *target])

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": self.target_shape}


class Lambda(Layer):
    """Wraps an arbitrary function of the inputs (no weights)."""

    def __init__(self, function: Callable, output_shape: Any = None, arguments: dict | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.function, self.arguments = function, dict(arguments or {})
        self._lambda_output_shape = output_shape

    def call(self, inputs: Any) -> Any:
        return self.function(inputs, **self.arguments)

    def get_config(self) -> dict:
        return {**super().get_config(), "function": self.function, "arguments": self.arguments}

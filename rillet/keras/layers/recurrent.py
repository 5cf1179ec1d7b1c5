"""Recurrent layers over ``[batch, steps, features]`` with a static number of steps:
``SimpleRNN``, ``LSTM`` (gates i, f, c, o), ``GRU`` (``reset_after`` as in TF 2) and
``Bidirectional``. The input projection of all steps is one matmul; the recurrence is unrolled
into ops (graph mode) or run step by step (eager mode)."""

from __future__ import annotations

from typing import Any

import rillet as rt
from rillet.keras import activations, constraints, initializers, regularizers
from rillet.keras.engine.base_layer import Layer, smart_cond
from rillet.keras.engine.input_spec import InputSpec
from rillet.shapes import TensorShape


class _RNN(Layer):
    """Shared weights and the time loop; subclasses define ``gates``, ``_step``, ``_states``."""

    gates = 1

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: bool = False, **kwargs: Any):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if stateful:
            raise NotImplementedError("stateful RNN layers are not supported")
        if recurrent_dropout:
            raise NotImplementedError("recurrent_dropout is not supported; use dropout")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.stateful, self.unroll = go_backwards, stateful, unroll
        self.input_spec = InputSpec(ndim=3)

    def _bias_shape(self) -> list:
        return [self.gates * self.units]

    def _bias_init(self) -> Any:
        return self.bias_initializer

    def build(self, input_shape: Any) -> None:
        dim = TensorShape(input_shape)[-1]
        if dim is None:
            raise ValueError("The last dimension of the inputs to a recurrent layer should be "
                             "defined. Found `None`.")
        self.input_spec = InputSpec(ndim=3, axes={-1: dim})
        n = self.gates * self.units
        self.kernel = self.add_weight("kernel", [dim, n], self.dtype, self.kernel_initializer,
                                      self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            "recurrent_kernel", [self.units, n], self.dtype, self.recurrent_initializer,
            self.recurrent_regularizer, constraint=self.recurrent_constraint)
        self.bias = self.add_weight("bias", self._bias_shape(), self.dtype, self._bias_init(),
                                    self.bias_regularizer, constraint=self.bias_constraint) \
            if self.use_bias else None
        self.built = True

    def _input_bias(self) -> Any:
        return self.bias

    def call(self, inputs: Any, training: Any = None, initial_state: Any = None) -> Any:
        steps, dim = inputs.shape[1], inputs.shape[-1]
        if steps is None:
            raise ValueError(f"Layer {self.name} needs a known number of time steps (got input "
                             f"shape {inputs.shape}); give the Input a fixed sequence length.")
        if self.dropout and training is not None and training is not False:
            noise = rt.stack([rt.shape(inputs)[0], 1, dim])
            inputs = smart_cond(training, lambda: rt.nn.dropout(
                inputs, rate=self.dropout, noise_shape=noise), lambda: inputs)
        xw = rt.matmul(rt.reshape(inputs, [-1, dim]), self.kernel)
        if self.use_bias and self._input_bias() is not None:
            xw = xw + self._input_bias()
        xs = rt.unstack(rt.reshape(xw, [-1, steps, self.gates * self.units]), num=steps, axis=1)
        if self.go_backwards:
            xs = xs[::-1]
        zero = rt.zeros_like(xs[0][:, :self.units])
        state = list(initial_state) if initial_state is not None else \
            [zero] * self._n_states
        outputs = []
        for xt in xs:
            out, state = self._step(xt, state)
            outputs.append(out)
        output = rt.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        return [output, *state] if self.return_state else output

    _n_states = 1

    def _step(self, xt: Any, state: list) -> tuple[Any, list]:
        raise NotImplementedError

    def get_config(self) -> dict:
        cfg = {**super().get_config(), "units": self.units,
               "activation": activations.serialize(self.activation),
               "recurrent_activation": activations.serialize(self.recurrent_activation),
               "use_bias": self.use_bias, "dropout": self.dropout,
               "recurrent_dropout": self.recurrent_dropout,
               "return_sequences": self.return_sequences, "return_state": self.return_state,
               "go_backwards": self.go_backwards}
        for n in ("kernel", "recurrent", "bias"):
            cfg[f"{n}_initializer"] = initializers.serialize(getattr(self, f"{n}_initializer"))
            cfg[f"{n}_regularizer"] = regularizers.serialize(getattr(self, f"{n}_regularizer"))
            cfg[f"{n}_constraint"] = constraints.serialize(getattr(self, f"{n}_constraint"))
        return cfg


class SimpleRNN(_RNN):
    """``h = activation(x W + h U + b)``."""

    def __init__(self, units: int, activation: Any = "tanh", **kwargs: Any):
        super().__init__(units, activation=activation, **kwargs)

    def _step(self, xt: Any, state: list) -> tuple[Any, list]:
        h = self.activation(xt + rt.matmul(state[0], self.recurrent_kernel))
        return h, [h]

    def get_config(self) -> dict:
        cfg = super().get_config()
        cfg.pop("recurrent_activation", None)
        return cfg


class LSTM(_RNN):
    """Long short-term memory; states ``[h, c]``; gate order i, f, c, o (Keras)."""

    gates = 4
    _n_states = 2

    def __init__(self, units: int, unit_forget_bias: bool = True, **kwargs: Any):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    def _bias_init(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, u = self.bias_initializer, self.units

        def forget_ones(shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
            return rt.concat([init([u], dtype=dtype), rt.ones([u], dtype=dtype),
                              init([2 * u], dtype=dtype)], axis=0)
        return forget_ones

    def _step(self, xt: Any, state: list) -> tuple[Any, list]:
        h, c = state
        z = xt + rt.matmul(h, self.recurrent_kernel)
        zi, zf, zc, zo = rt.split(z, 4, axis=1)
        ra = self.recurrent_activation
        c = ra(zf) * c + ra(zi) * self.activation(zc)
        h = ra(zo) * self.activation(c)
        return h, [h, c]

    def get_config(self) -> dict:
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRU(_RNN):
    """Gated recurrent unit (gates z, r, h). ``reset_after=True`` (TF 2's default) applies the
    reset gate after the recurrent matmul and uses separate input/recurrent biases."""

    gates = 3

    def __init__(self, units: int, reset_after: bool = True, **kwargs: Any):
        super().__init__(units, **kwargs)
        self.reset_after = reset_after

    def _bias_shape(self) -> list:
        return [2, 3 * self.units] if self.reset_after else [3 * self.units]

    def _input_bias(self) -> Any:
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def _step(self, xt: Any, state: list) -> tuple[Any, list]:
        h = state[0]
        u, ra = self.units, self.recurrent_activation
        xz, xr, xh = rt.split(xt, 3, axis=1)
        if self.reset_after:
            rec = rt.matmul(h, self.recurrent_kernel)
            if self.use_bias:
                rec = rec + self.bias[1]
            rz, rr, rh = rt.split(rec, 3, axis=1)
            z, r = ra(xz + rz), ra(xr + rr)
            hh = self.activation(xh + r * rh)
        else:
            rec = rt.matmul(h, self.recurrent_kernel[:, :2 * u])
            rz, rr = rt.split(rec, 2, axis=1)
            z, r = ra(xz + rz), ra(xr + rr)
            hh = self.activation(xh + rt.matmul(r * h, self.recurrent_kernel[:, 2 * u:]))
        h = z * h + (1.0 - z) * hh
        return h, [h]

    def get_config(self) -> dict:
        return {**super().get_config(), "reset_after": self.reset_after}


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy backwards, then merges their outputs
    (``merge_mode``: ``"concat"``, ``"sum"``, ``"mul"``, ``"ave"`` or None for a list)."""

    def __init__(self, layer: _RNN, merge_mode: str | None = "concat",
                 backward_layer: _RNN | None = None, **kwargs: Any):
        if not isinstance(layer, _RNN):
            raise ValueError("Please initialize `Bidirectional` layer with a recurrent layer "
                             f"instance. Received: {layer!r}")
        if merge_mode not in ("concat", "sum", "mul", "ave", None):
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should be "
                             "one of {\"sum\", \"mul\", \"ave\", \"concat\", None}")
        super().__init__(**kwargs)
        config = layer.get_config()
        self.forward_layer = type(layer).from_config({**config,
                                                      "name": f"forward_{layer.name}"})
        self.backward_layer = backward_layer or type(layer).from_config(
            {**config, "name": f"backward_{layer.name}",
             "go_backwards": not layer.go_backwards})
        self.merge_mode = merge_mode
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state
        self._layer_config = {"class_name": type(layer).__name__, "config": config}

    def call(self, inputs: Any, training: Any = None) -> Any:
        fw = self.forward_layer(inputs, training=training)
        bw = self.backward_layer(inputs, training=training)
        fw_states: list = []
        bw_states: list = []
        if self.return_state:
            fw, *fw_states = fw
            bw, *bw_states = bw
        if self.return_sequences:
            bw = rt.reverse(bw, [1])
        merged: Any
        if self.merge_mode == "concat":
            merged = rt.concat([fw, bw], axis=-1)
        elif self.merge_mode == "sum":
            merged = fw + bw
        elif self.merge_mode == "ave":
            merged = (fw + bw) / 2.0
        elif self.merge_mode == "mul":
            merged = fw * bw
        else:
            merged = [fw, bw]
        if self.return_state:
            return [*(merged if isinstance(merged, list) else [merged]), *fw_states, *bw_states]
        return merged

    def get_config(self) -> dict:
        return {**super().get_config(), "layer": self._layer_config,
                "merge_mode": self.merge_mode}

    @classmethod
    def from_config(cls, config: dict) -> Bidirectional:
        from rillet.keras.layers.serialization import deserialize
        config = dict(config)
        layer = deserialize(config.pop("layer"))
        return cls(layer, **config)

"""Convolution layers: ``Conv1D``, ``Conv2D``, ``Conv2DTranspose`` (``rillet.nn`` kernels)."""

from __future__ import annotations

from typing import Any

import rillet as rt
from rillet.keras import activations, constraints, initializers, regularizers
from rillet.keras.engine.base_layer import Layer
from rillet.keras.engine.input_spec import InputSpec
from rillet.keras.layers.core import _weight_config
from rillet.shapes import TensorShape


def normalize_tuple(value: Any, n: int, name: str) -> tuple:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: "
                         f"{value}")
    return value


def normalize_padding(value: str) -> str:
    padding = value.lower()
    if padding not in ("valid", "same", "causal"):
        raise ValueError(f"The `padding` argument must be one of \"valid\", \"same\" (or "
                         f"\"causal\" for Conv1D). Received: {value}")
    return padding


def normalize_data_format(value: str | None) -> str:
    fmt = (value or "channels_last").lower()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of \"channels_first\", "
                         f"\"channels_last\". Received: {value}")
    return fmt


class _Conv(Layer):
    """Shared configuration of the N-D convolutions."""

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1,
                 padding: str = "valid", data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if int(filters) <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly "
                             f"positive value. Received filters={filters}.")
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = normalize_tuple(strides, self.rank, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate")
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    @property
    def _channel_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else -1

    def _kernel_shape(self, in_channels: int) -> list:
        return [*self.kernel_size, in_channels, self.filters]

    def build(self, input_shape: Any) -> None:
        channels = TensorShape(input_shape)[self._channel_axis]
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. Found "
                             "`None`.")
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels})
        self.kernel = self.add_weight("kernel", self._kernel_shape(channels), self.dtype,
                                      self.kernel_initializer, self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", [self.filters], self.dtype, self.bias_initializer,
                                    self.bias_regularizer, constraint=self.bias_constraint) \
            if self.use_bias else None
        self.built = True

    def _finish(self, out: Any, tf_format: str) -> Any:
        if self.use_bias:
            out = rt.nn.bias_add(out, self.bias, data_format=tf_format)
        return self.activation(out)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                **_weight_config(self, "kernel", "bias"),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer)}


class Conv2D(_Conv):
    """2-D convolution; kernel ``[kh, kw, in, filters]``."""

    rank = 2

    def call(self, inputs: Any) -> Any:
        first = self.data_format == "channels_first"
        fmt = "NCHW" if first else "NHWC"
        strides = [1, 1, *self.strides] if first else [1, *self.strides, 1]
        dil = [1, 1, *self.dilation_rate] if first else [1, *self.dilation_rate, 1]
        out = rt.nn.conv2d(inputs, self.kernel, strides=strides, padding=self.padding.upper(),
                           data_format=fmt, dilations=dil)
        return self._finish(out, fmt)


class Conv1D(_Conv):
    """1-D convolution over ``[batch, steps, channels]``; ``padding="causal"`` pads the left."""

    rank = 1

    def call(self, inputs: Any) -> Any:
        first = self.data_format == "channels_first"
        padding = self.padding
        if padding == "causal":
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            pads = [[0, 0], [0, 0], [left, 0]] if first else [[0, 0], [left, 0], [0, 0]]
            inputs = rt.pad(inputs, pads)
            padding = "valid"
        fmt = "NCW" if first else "NWC"
        out = rt.nn.conv1d(inputs, self.kernel, stride=self.strides[0],
                           padding=padding.upper(), data_format=fmt,
                           dilations=self.dilation_rate[0])
        return self._finish(out, "NCHW" if first else "NHWC")


def _deconv_length(size: int | None, stride: int, kernel: int, padding: str,
                   output_padding: int | None, dilation: int = 1) -> int | None:
    if size is None:
        return None
    kernel = kernel + (kernel - 1) * (dilation - 1)
    if output_padding is None:
        return size * stride if padding == "same" else size * stride + max(kernel - stride, 0)
    pad = kernel // 2 if padding == "same" else 0
    return (size - 1) * stride + kernel - 2 * pad + output_padding


class Conv2DTranspose(Conv2D):
    """Transposed 2-D convolution; kernel ``[kh, kw, filters, in]``."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", output_padding: Any = None, data_format: str | None = None,
                 dilation_rate: Any = (1, 1), **kwargs: Any):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         **kwargs)
        self.output_padding = None if output_padding is None else \
            normalize_tuple(output_padding, 2, "output_padding")

    def _kernel_shape(self, in_channels: int) -> list:
        return [*self.kernel_size, self.filters, in_channels]

    def call(self, inputs: Any) -> Any:
        first = self.data_format == "channels_first"
        h_axis, w_axis = (2, 3) if first else (1, 2)
        shape = inputs.shape.as_list()
        op = self.output_padding or (None, None)
        oh = _deconv_length(shape[h_axis], self.strides[0], self.kernel_size[0], self.padding,
                            op[0], self.dilation_rate[0])
        ow = _deconv_length(shape[w_axis], self.strides[1], self.kernel_size[1], self.padding,
                            op[1], self.dilation_rate[1])
        batch = shape[0] if shape[0] is not None else rt.shape(inputs)[0]
        dims = [batch, self.filters, oh, ow] if first else [batch, oh, ow, self.filters]
        out_shape = rt.stack(dims) if shape[0] is None else dims
        fmt = "NCHW" if first else "NHWC"
        strides = [1, 1, *self.strides] if first else [1, *self.strides, 1]
        out = rt.nn.conv2d_transpose(inputs, self.kernel, out_shape, strides=strides,
                                     padding=self.padding.upper(), data_format=fmt)
        return self._finish(out, fmt)

    def get_config(self) -> dict:
        return {**super().get_config(), "output_padding": self.output_padding}


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution2DTranspose = Deconvolution2D = Conv2DTranspose

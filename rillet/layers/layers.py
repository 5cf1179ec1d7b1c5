"""TF 1.x ``tf.layers`` classes and functions (``rt.layers.dense(x, 10)``)."""

from __future__ import annotations

from typing import Any

from rillet import init_ops
from rillet.keras.layers import conv, core, normalization, pooling
from rillet.layers.base import Layer


class Dense(Layer, core.Dense):
    """``tf.layers.Dense``: variables ``<scope>/kernel`` and ``<scope>/bias``."""

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = None, bias_initializer: Any = None,
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, trainable: bool = True, name: str | None = None,
                 **kwargs: Any):
        self._tf1_init(name, kwargs)
        super().__init__(units, activation, use_bias, kernel_initializer,
                         bias_initializer or init_ops.zeros_initializer(), kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint,
                         bias_constraint, trainable=trainable, name=name, **kwargs)


def _conv_init(self: Any, cls: type, filters: int, kernel_size: Any, strides: Any,
               padding: str, data_format: str, dilation_rate: Any, activation: Any,
               use_bias: bool, kernel_initializer: Any, bias_initializer: Any,
               trainable: bool, name: str | None, kwargs: dict) -> None:
    self._tf1_init(name, kwargs)
    cls.__init__(self, filters, kernel_size, strides=strides, padding=padding,
                 data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                 use_bias=use_bias, kernel_initializer=kernel_initializer,
                 bias_initializer=bias_initializer or init_ops.zeros_initializer(),
                 trainable=trainable, name=name, **kwargs)


class Conv1D(Layer, conv.Conv1D):
    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate: Any = 1,
                 activation: Any = None, use_bias: bool = True, kernel_initializer: Any = None,
                 bias_initializer: Any = None, trainable: bool = True, name: str | None = None,
                 **kwargs: Any):
        _conv_init(self, conv.Conv1D, filters, kernel_size, strides, padding, data_format,
                   dilation_rate, activation, use_bias, kernel_initializer, bias_initializer,
                   trainable, name, kwargs)


class Conv2D(Layer, conv.Conv2D):
    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", data_format: str = "channels_last",
                 dilation_rate: Any = (1, 1), activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = None, bias_initializer: Any = None,
                 trainable: bool = True, name: str | None = None, **kwargs: Any):
        _conv_init(self, conv.Conv2D, filters, kernel_size, strides, padding, data_format,
                   dilation_rate, activation, use_bias, kernel_initializer, bias_initializer,
                   trainable, name, kwargs)


class Conv2DTranspose(Layer, conv.Conv2DTranspose):
    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", data_format: str = "channels_last",
                 activation: Any = None, use_bias: bool = True, kernel_initializer: Any = None,
                 bias_initializer: Any = None, trainable: bool = True, name: str | None = None,
                 **kwargs: Any):
        self._tf1_init(name, kwargs)
        conv.Conv2DTranspose.__init__(
            self, filters, kernel_size, strides, padding, data_format=data_format,
            activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer or init_ops.zeros_initializer(),
            trainable=trainable, name=name, **kwargs)


def _pool(cls: type) -> type:
    class Pool(Layer, cls):
        def __init__(self, pool_size: Any, strides: Any, padding: str = "valid",
                     data_format: str = "channels_last", name: str | None = None,
                     **kwargs: Any):
            self._tf1_init(name, kwargs)
            cls.__init__(self, pool_size, strides, padding, data_format, name=name, **kwargs)
    Pool.__name__ = Pool.__qualname__ = cls.__name__
    Pool.__doc__ = cls.__doc__
    return Pool


MaxPooling1D = _pool(pooling.MaxPooling1D)
MaxPooling2D = _pool(pooling.MaxPooling2D)
AveragePooling1D = _pool(pooling.AveragePooling1D)
AveragePooling2D = _pool(pooling.AveragePooling2D)


class Dropout(Layer, core.Dropout):
    def __init__(self, rate: float = 0.5, noise_shape: Any = None, seed: int | None = None,
                 name: str | None = None, **kwargs: Any):
        self._tf1_init(name, kwargs)
        core.Dropout.__init__(self, rate, noise_shape, seed, name=name, **kwargs)

    def call(self, inputs: Any, training: Any = False) -> Any:
        return core.Dropout.call(self, inputs, training)


class Flatten(Layer, core.Flatten):
    def __init__(self, data_format: str = "channels_last", name: str | None = None,
                 **kwargs: Any):
        self._tf1_init(name, kwargs)
        core.Flatten.__init__(self, data_format, name=name, **kwargs)


class BatchNormalization(Layer, normalization.BatchNormalization):
    """``tf.layers.BatchNormalization``: with ``training=True`` (or a bool tensor) the moving
    averages are updated by ops in ``tf.GraphKeys.UPDATE_OPS``."""

    _frozen_means_inference = False

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = None,
                 gamma_initializer: Any = None, moving_mean_initializer: Any = None,
                 moving_variance_initializer: Any = None, beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, trainable: bool = True,
                 name: str | None = None, **kwargs: Any):
        for k in ("renorm", "renorm_clipping", "renorm_momentum", "fused",
                  "virtual_batch_size", "adjustment"):
            if kwargs.pop(k, None):
                raise NotImplementedError(f"batch_normalization({k}=...) is not supported")
        self._tf1_init(name, kwargs)
        normalization.BatchNormalization.__init__(
            self, axis, momentum, epsilon, center, scale,
            beta_initializer or init_ops.zeros_initializer(),
            gamma_initializer or init_ops.ones_initializer(),
            moving_mean_initializer or init_ops.zeros_initializer(),
            moving_variance_initializer or init_ops.ones_initializer(), beta_regularizer,
            gamma_regularizer, beta_constraint, gamma_constraint, trainable=trainable,
            name=name, **kwargs)

    def call(self, inputs: Any, training: Any = False) -> Any:
        return normalization.BatchNormalization.call(self, inputs, training)


# --- functional interface -----------------------------------------------------------------
def dense(inputs: Any, units: int, activation: Any = None, use_bias: bool = True,
          kernel_initializer: Any = None, bias_initializer: Any = None,
          kernel_regularizer: Any = None, bias_regularizer: Any = None,
          activity_regularizer: Any = None, kernel_constraint: Any = None,
          bias_constraint: Any = None, trainable: bool = True, name: str | None = None,
          reuse: Any = None) -> Any:
    """A fully connected layer: ``activation(inputs @ kernel + bias)``."""
    return Dense(units, activation, use_bias, kernel_initializer, bias_initializer,
                 kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
                 bias_constraint, trainable, name, _reuse=reuse).apply(inputs)


def conv1d(inputs: Any, filters: int, kernel_size: Any, strides: Any = 1,
           padding: str = "valid", data_format: str = "channels_last", dilation_rate: Any = 1,
           activation: Any = None, use_bias: bool = True, kernel_initializer: Any = None,
           bias_initializer: Any = None, trainable: bool = True, name: str | None = None,
           reuse: Any = None, **kwargs: Any) -> Any:
    return Conv1D(filters, kernel_size, strides, padding, data_format, dilation_rate,
                  activation, use_bias, kernel_initializer, bias_initializer, trainable, name,
                  _reuse=reuse, **kwargs).apply(inputs)


def conv2d(inputs: Any, filters: int, kernel_size: Any, strides: Any = (1, 1),
           padding: str = "valid", data_format: str = "channels_last",
           dilation_rate: Any = (1, 1), activation: Any = None, use_bias: bool = True,
           kernel_initializer: Any = None, bias_initializer: Any = None,
           trainable: bool = True, name: str | None = None, reuse: Any = None,
           **kwargs: Any) -> Any:
    """2-D convolution; variables ``<scope>/kernel`` ``[kh, kw, in, filters]`` and ``bias``."""
    return Conv2D(filters, kernel_size, strides, padding, data_format, dilation_rate,
                  activation, use_bias, kernel_initializer, bias_initializer, trainable, name,
                  _reuse=reuse, **kwargs).apply(inputs)


def conv2d_transpose(inputs: Any, filters: int, kernel_size: Any, strides: Any = (1, 1),
                     padding: str = "valid", data_format: str = "channels_last",
                     activation: Any = None, use_bias: bool = True,
                     kernel_initializer: Any = None, bias_initializer: Any = None,
                     trainable: bool = True, name: str | None = None, reuse: Any = None,
                     **kwargs: Any) -> Any:
    return Conv2DTranspose(filters, kernel_size, strides, padding, data_format, activation,
                           use_bias, kernel_initializer, bias_initializer, trainable, name,
                           _reuse=reuse, **kwargs).apply(inputs)


def max_pooling1d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                  data_format: str = "channels_last", name: str | None = None) -> Any:
    return MaxPooling1D(pool_size, strides, padding, data_format, name).apply(inputs)


def max_pooling2d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                  data_format: str = "channels_last", name: str | None = None) -> Any:
    return MaxPooling2D(pool_size, strides, padding, data_format, name).apply(inputs)


def average_pooling1d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                      data_format: str = "channels_last", name: str | None = None) -> Any:
    return AveragePooling1D(pool_size, strides, padding, data_format, name).apply(inputs)


def average_pooling2d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                      data_format: str = "channels_last", name: str | None = None) -> Any:
    return AveragePooling2D(pool_size, strides, padding, data_format, name).apply(inputs)


def dropout(inputs: Any, rate: float = 0.5, noise_shape: Any = None, seed: int | None = None,
            training: Any = False, name: str | None = None) -> Any:
    """Drops ``rate`` of the inputs when ``training`` (a bool or a bool tensor) is true."""
    return Dropout(rate, noise_shape, seed, name).apply(inputs, training=training)


def flatten(inputs: Any, name: str | None = None, data_format: str = "channels_last") -> Any:
    return Flatten(data_format, name).apply(inputs)


def batch_normalization(inputs: Any, axis: int = -1, momentum: float = 0.99,
                        epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                        beta_initializer: Any = None, gamma_initializer: Any = None,
                        moving_mean_initializer: Any = None,
                        moving_variance_initializer: Any = None, beta_regularizer: Any = None,
                        gamma_regularizer: Any = None, beta_constraint: Any = None,
                        gamma_constraint: Any = None, training: Any = False,
                        trainable: bool = True, name: str | None = None, reuse: Any = None,
                        **kwargs: Any) -> Any:
    """Batch normalization; with ``training`` true the moving-average updates are added to
    ``UPDATE_OPS`` (run them with the train op, as in TF 1.x)."""
    layer = BatchNormalization(axis, momentum, epsilon, center, scale, beta_initializer,
                               gamma_initializer, moving_mean_initializer,
                               moving_variance_initializer, beta_regularizer,
                               gamma_regularizer, beta_constraint, gamma_constraint, trainable,
                               name, _reuse=reuse, **kwargs)
    return layer.apply(inputs, training=training)

"""Pooling layers: max/average pooling in 1-D and 2-D, and global average/max pooling."""

from __future__ import annotations

from typing import Any

import rillet as rt
from rillet.keras.engine.base_layer import Layer
from rillet.keras.engine.input_spec import InputSpec
from rillet.keras.layers.conv import normalize_data_format, normalize_padding, normalize_tuple


class _Pooling2D(Layer):
    _pool_fn = "max_pool"

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size")
        self.strides = normalize_tuple(strides if strides is not None else self.pool_size, 2,
                                       "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs: Any) -> Any:
        first = self.data_format == "channels_first"
        ksize = [1, 1, *self.pool_size] if first else [1, *self.pool_size, 1]
        strides = [1, 1, *self.strides] if first else [1, *self.strides, 1]
        return getattr(rt.nn, self._pool_fn)(inputs, ksize=ksize, strides=strides,
                                             padding=self.padding.upper(),
                                             data_format="NCHW" if first else "NHWC")

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling2D(_Pooling2D):
    """Maximum over ``pool_size`` windows (strides default to ``pool_size``)."""

    _pool_fn = "max_pool"


class AveragePooling2D(_Pooling2D):
    """Mean over ``pool_size`` windows (``same`` padding averages the valid cells only)."""

    _pool_fn = "avg_pool"


class _Pooling1D(Layer):
    _pool_fn = "max_pool"

    def __init__(self, pool_size: int = 2, strides: int | None = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, 1, "pool_size")
        self.strides = normalize_tuple(strides if strides is not None else self.pool_size, 1,
                                       "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs: Any) -> Any:
        axis = 2 if self.data_format == "channels_first" else 1
        x = rt.expand_dims(inputs, axis + 1)
        first = self.data_format == "channels_first"
        p, s = self.pool_size[0], self.strides[0]
        out = getattr(rt.nn, self._pool_fn)(
            x, ksize=[1, 1, p, 1] if first else [1, p, 1, 1],
            strides=[1, 1, s, 1] if first else [1, s, 1, 1], padding=self.padding.upper(),
            data_format="NCHW" if first else "NHWC")
        return rt.squeeze(out, [axis + 1])

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling1D(_Pooling1D):
    _pool_fn = "max_pool"


class AveragePooling1D(_Pooling1D):
    _pool_fn = "avg_pool"


class _GlobalPooling(Layer):
    rank = 2
    _reduce = "reduce_mean"

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs: Any) -> Any:
        start = 2 if self.data_format == "channels_first" else 1
        axes = list(range(start, start + self.rank))
        return getattr(rt, self._reduce)(inputs, axis=axes, keepdims=self.keepdims)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over the spatial axes: ``[batch, h, w, c] -> [batch, c]``."""


class GlobalMaxPooling2D(_GlobalPooling):
    _reduce = "reduce_max"


class GlobalAveragePooling1D(_GlobalPooling):
    rank = 1


class GlobalMaxPooling1D(_GlobalPooling):
    rank = 1
    _reduce = "reduce_max"


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D

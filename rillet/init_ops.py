"""Variable initializers. Each is a callable ``init(shape, dtype=None, partition_info=None)``
returning a tensor (graph ops in graph mode, values in eager mode). Kernel shapes follow
TensorFlow's layout: dense ``[in, out]``, conv ``[h, w, in, out]``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet.ops import array_ops, random_ops


def _fans(shape: list) -> tuple[float, float]:
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = float(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None, partition_info=None)``."""

    dtype: Any = None

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        return cls(**config)

    def _dtype(self, dtype: Any) -> _dt.DType:
        return _dt.as_dtype(dtype if dtype is not None else (self.dtype or _dt.float32))


class Zeros(Initializer):
    def __init__(self, dtype: Any = None):
        self.dtype = dtype

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        return array_ops.zeros(shape, self._dtype(dtype))


class Ones(Initializer):
    def __init__(self, dtype: Any = None):
        self.dtype = dtype

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        return array_ops.ones(shape, self._dtype(dtype))


class Constant(Initializer):
    """Fills with ``value`` (a scalar, or an array of the variable's shape)."""

    def __init__(self, value: Any = 0, dtype: Any = None, verify_shape: bool = False):
        self.value, self.dtype, self.verify_shape = value, dtype, verify_shape

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        return array_ops.constant(self.value, self._dtype(dtype), shape=list(shape),
                                  verify_shape=self.verify_shape)

    def get_config(self) -> dict:
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean: float = 0.0, stddev: float = 1.0, seed: int | None = None,
                 dtype: Any = None):
        self.mean, self.stddev, self.seed, self.dtype = mean, stddev, seed, dtype

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        return random_ops.random_normal(shape, self.mean, self.stddev, self._dtype(dtype),
                                        self.seed)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    def __init__(self, mean: float = 0.0, stddev: float = 1.0, seed: int | None = None,
                 dtype: Any = None):
        super().__init__(mean, stddev, seed, dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        return random_ops.truncated_normal(shape, self.mean, self.stddev, self._dtype(dtype),
                                           self.seed)


class RandomUniform(Initializer):
    def __init__(self, minval: float = 0.0, maxval: float | None = None,
                 seed: int | None = None, dtype: Any = None):
        self.minval, self.maxval, self.seed, self.dtype = minval, maxval, seed, dtype

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        dt = self._dtype(dtype)
        maxval = self.maxval if self.maxval is not None or dt.is_integer else 1.0
        return random_ops.random_uniform(shape, self.minval, maxval, dt, self.seed)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(Initializer):
    """Samples with variance ``scale / n`` where n is fan_in, fan_out or their mean.
    ``distribution``: "truncated_normal" (TF's default), "untruncated_normal"/"normal",
    or "uniform"."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None,
                 dtype: Any = None):
        if scale <= 0:
            raise ValueError("`scale` must be positive float.")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode}")
        distribution = distribution.lower()
        if distribution not in ("normal", "uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"Invalid `distribution` argument: {distribution}")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.seed, self.dtype = seed, dtype

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        dt = self._dtype(dtype)
        fan_in, fan_out = _fans([int(d) for d in shape])
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution in ("normal", "truncated_normal"):
            # 0.879... is the stddev of a unit normal truncated to [-2, 2].
            stddev = math.sqrt(scale) / 0.87962566103423978
            return random_ops.truncated_normal(shape, 0.0, stddev, dt, self.seed)
        if self.distribution == "untruncated_normal":
            return random_ops.random_normal(shape, 0.0, math.sqrt(scale), dt, self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_ops.random_uniform(shape, -limit, limit, dt, self.seed)

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class GlorotUniform(VarianceScaling):
    """Xavier uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out))."""

    def __init__(self, seed: int | None = None, dtype: Any = None):
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)

    def get_config(self) -> dict:
        return {"seed": self.seed}


class GlorotNormal(VarianceScaling):
    """Xavier normal (truncated), stddev sqrt(2 / (fan_in + fan_out))."""

    def __init__(self, seed: int | None = None, dtype: Any = None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)

    def get_config(self) -> dict:
        return {"seed": self.seed}


def he_normal(seed: int | None = None) -> VarianceScaling:
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed: int | None = None) -> VarianceScaling:
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed: int | None = None) -> VarianceScaling:
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed: int | None = None) -> VarianceScaling:
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


# TF 1.x snake_case names.
zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
random_uniform_initializer = RandomUniform
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
xavier_initializer = GlorotUniform

_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "truncated_normal": TruncatedNormal, "random_uniform": RandomUniform,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "variance_scaling": VarianceScaling, "he_normal": he_normal, "he_uniform": he_uniform,
    "lecun_normal": lecun_normal, "lecun_uniform": lecun_uniform,
}


def get(identifier: Any) -> Any:
    """An initializer from a name (``"glorot_uniform"``), class, instance or None."""
    if identifier is None or callable(identifier) and not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, type):
        return identifier()
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _BY_NAME:
            raise ValueError(f"Unknown initializer: {identifier!r}")
        return _BY_NAME[key]()
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")

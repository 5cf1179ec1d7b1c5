"""Keras initializers: rillet's initializer classes, by name, object or config dict."""

from __future__ import annotations

from typing import Any

import numpy as np

from rillet import init_ops
from rillet.init_ops import (
    Constant,
    GlorotNormal,
    GlorotUniform,
    Initializer,
    Ones,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
    he_normal,
    he_uniform,
    lecun_normal,
    lecun_uniform,
)
from rillet.ops import array_ops


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``, from the QR decomposition of a Gaussian
    matrix (computed with NumPy when the initializer is called)."""

    def __init__(self, gain: float = 1.0, seed: int | None = None, dtype: Any = None):
        self.gain, self.seed, self.dtype = float(gain), seed, dtype

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        shape = [int(d) for d in shape]
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = np.random.default_rng(self.seed).standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        value = (self.gain * q).reshape(shape)
        return array_ops.constant(value.astype(self._dtype(dtype).np), self._dtype(dtype))

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


orthogonal = Orthogonal
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
zeros = Zeros
ones = Ones
constant = Constant

_CLASSES = {c.__name__: c for c in (Constant, GlorotNormal, GlorotUniform, Ones, Orthogonal,
                                    RandomNormal, RandomUniform, TruncatedNormal,
                                    VarianceScaling, Zeros)}


def serialize(initializer: Any) -> Any:
    """``{"class_name": ..., "config": ...}`` (None stays None)."""
    if initializer is None:
        return None
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def deserialize(config: dict) -> Any:
    name = config["class_name"]
    if name not in _CLASSES:
        raise ValueError(f"Unknown initializer: {name}")
    return _CLASSES[name](**config.get("config", {}))


def get(identifier: Any) -> Any:
    """An initializer from None, a name (``"he_normal"``), a class, an instance or a config."""
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier.lower() == "orthogonal":
        return Orthogonal()
    if isinstance(identifier, str) and identifier.lower() == "uniform":
        return RandomUniform(-0.05, 0.05)
    return init_ops.get(identifier)


__all__ = ["Constant", "GlorotNormal", "GlorotUniform", "Initializer", "Ones", "Orthogonal",
           "RandomNormal",
           "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros", "deserialize", "get",
           "he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "serialize"]

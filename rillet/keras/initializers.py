"""Keras initializers: rillet's initializer classes, by name, object or config dict."""

from __future__ import annotations

from typing import Any

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

glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
zeros = Zeros
ones = Ones
constant = Constant

_CLASSES = {c.__name__: c for c in (Constant, GlorotNormal, GlorotUniform, Ones, RandomNormal,
                                    RandomUniform, TruncatedNormal, VarianceScaling, Zeros)}


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
    return init_ops.get(identifier)


__all__ = ["Constant", "GlorotNormal", "GlorotUniform", "Initializer", "Ones", "RandomNormal",
           "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros", "deserialize", "get",
           "he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "serialize"]

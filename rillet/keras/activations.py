"""Activation functions by name (``"relu"``, ``"softmax"``, ...), built on ``rillet.nn``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import rillet as rt


def linear(x: Any) -> Any:
    return x


def relu(x: Any) -> Any:
    return rt.nn.relu(x)


def relu6(x: Any) -> Any:
    return rt.nn.relu6(x)


def elu(x: Any) -> Any:
    return rt.nn.elu(x)


def selu(x: Any) -> Any:
    return rt.nn.selu(x)


def leaky_relu(x: Any) -> Any:
    return rt.nn.leaky_relu(x)


def softplus(x: Any) -> Any:
    return rt.nn.softplus(x)


def softsign(x: Any) -> Any:
    return rt.nn.softsign(x)


def sigmoid(x: Any) -> Any:
    return rt.nn.sigmoid(x)


def tanh(x: Any) -> Any:
    return rt.nn.tanh(x)


def swish(x: Any) -> Any:
    return rt.nn.swish(x)


def gelu(x: Any) -> Any:
    return rt.nn.gelu(x)


def exponential(x: Any) -> Any:
    return rt.exp(x)


def softmax(x: Any, axis: int = -1) -> Any:
    return rt.nn.softmax(x, axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Any:
    return rt.nn.log_softmax(x, axis=axis)


_BY_NAME: dict[str, Callable] = {f.__name__: f for f in (
    linear, relu, relu6, elu, selu, leaky_relu, softplus, softsign, sigmoid, tanh, swish, gelu,
    exponential, softmax, log_softmax)}


def get(identifier: Any) -> Callable:
    """A function from None (linear), a name or a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier.lower())
        if fn is None:
            raise ValueError(f"Unknown activation function: {identifier}")
        return fn
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


def serialize(fn: Callable) -> str:
    """The name of a known activation (its ``__name__`` otherwise)."""
    for name, known in _BY_NAME.items():
        if fn is known:
            return name
    for name in _BY_NAME:
        if getattr(rt.nn, name, None) is fn:
            return name
    return getattr(fn, "__name__", repr(fn))


deserialize = get

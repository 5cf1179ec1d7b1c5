"""Weight regularizers: ``l1``, ``l2``, ``l1_l2``, by name, object or config dict."""

from __future__ import annotations

from typing import Any

from rillet.ops import math_ops


class Regularizer:
    """Base class: ``regularizer(weight) -> scalar loss tensor``."""

    def __call__(self, x: Any) -> Any:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x: Any) -> Any:
        terms = []
        if self.l1:
            terms.append(self.l1 * math_ops.reduce_sum(math_ops.abs(x)))
        if self.l2:
            terms.append(self.l2 * math_ops.reduce_sum(math_ops.square(x)))
        if not terms:
            return math_ops.reduce_sum(x * 0.0)
        return terms[0] if len(terms) == 1 else terms[0] + terms[1]

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


def l1(l: float = 0.01) -> L1L2:  # noqa: E743
    return L1L2(l1=l)


def l2(l: float = 0.01) -> L1L2:
    return L1L2(l2=l)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    return L1L2(l1=l1, l2=l2)


L1 = l1
L2 = l2


def serialize(regularizer: Any) -> Any:
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def get(identifier: Any) -> Any:
    """A regularizer from None, ``"l1"``/``"l2"``/``"l1_l2"``, a config dict or a callable."""
    if identifier is None or (callable(identifier) and not isinstance(identifier, type | str)):
        return identifier
    if isinstance(identifier, dict):
        if identifier.get("class_name") != "L1L2":
            raise ValueError(f"Unknown regularizer: {identifier.get('class_name')}")
        return L1L2(**identifier.get("config", {}))
    if isinstance(identifier, str):
        by_name = {"l1": l1, "l2": l2, "l1_l2": l1_l2}
        if identifier.lower() not in by_name:
            raise ValueError(f"Unknown regularizer: {identifier!r}")
        return by_name[identifier.lower()]()
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")

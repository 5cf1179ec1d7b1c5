"""Weight constraints applied after each optimizer step: ``NonNeg``, ``MaxNorm``, ``UnitNorm``."""

from __future__ import annotations

from typing import Any

import rillet as rt


class Constraint:
    """Base class: ``constraint(weight) -> projected weight``."""

    def __call__(self, w: Any) -> Any:
        return w

    def get_config(self) -> dict:
        return {}


class NonNeg(Constraint):
    """Zeroes negative weights."""

    def __call__(self, w: Any) -> Any:
        return w * rt.cast(rt.greater_equal(w, 0.0), w.dtype)


class MaxNorm(Constraint):
    """Rescales weights whose norm along ``axis`` exceeds ``max_value``."""

    def __init__(self, max_value: float = 2.0, axis: int = 0):
        self.max_value, self.axis = float(max_value), axis

    def __call__(self, w: Any) -> Any:
        norms = rt.sqrt(rt.reduce_sum(rt.square(w), axis=self.axis, keepdims=True))
        desired = rt.clip_by_value(norms, 0.0, self.max_value)
        return w * (desired / (1e-7 + norms))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class UnitNorm(Constraint):
    """Divides weights by their norm along ``axis``."""

    def __init__(self, axis: int = 0):
        self.axis = axis

    def __call__(self, w: Any) -> Any:
        return w / (1e-7 + rt.sqrt(rt.reduce_sum(rt.square(w), axis=self.axis, keepdims=True)))

    def get_config(self) -> dict:
        return {"axis": self.axis}


max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
_CLASSES = {"NonNeg": NonNeg, "MaxNorm": MaxNorm, "UnitNorm": UnitNorm}
_NAMES = {"non_neg": NonNeg, "nonneg": NonNeg, "max_norm": MaxNorm, "unit_norm": UnitNorm}


def serialize(constraint: Any) -> Any:
    if constraint is None:
        return None
    return {"class_name": type(constraint).__name__, "config": constraint.get_config()}


def get(identifier: Any) -> Any:
    """A constraint from None, a name, a config dict or a callable."""
    if identifier is None or (callable(identifier) and not isinstance(identifier, type | str)):
        return identifier
    if isinstance(identifier, dict):
        cls = _CLASSES.get(identifier.get("class_name", ""))
        if cls is None:
            raise ValueError(f"Unknown constraint: {identifier.get('class_name')}")
        return cls(**identifier.get("config", {}))
    if isinstance(identifier, str) and identifier.lower() in _NAMES:
        return _NAMES[identifier.lower()]()
    raise ValueError(f"Could not interpret constraint identifier: {identifier!r}")

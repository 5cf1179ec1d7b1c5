"""``InputSpec``: the rank/axis constraints a layer checks on its inputs, with Keras' messages."""

from __future__ import annotations

from typing import Any

from rillet.keras.engine import nest
from rillet.shapes import TensorShape


class InputSpec:
    """Expected ``ndim`` / ``min_ndim`` / ``max_ndim`` and fixed ``axes`` ({axis: size})."""

    def __init__(self, dtype: Any = None, shape: Any = None, ndim: int | None = None,
                 max_ndim: int | None = None, min_ndim: int | None = None,
                 axes: dict | None = None):
        self.dtype = dtype
        self.shape = shape
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})

    def __repr__(self) -> str:
        parts = [f"{k}={v}" for k, v in (("ndim", self.ndim), ("max_ndim", self.max_ndim),
                                         ("min_ndim", self.min_ndim), ("axes", self.axes))
                 if v]
        return f"InputSpec({', '.join(parts)})"


def _shape_list(shape: TensorShape) -> list:
    return shape.as_list() if shape.ndims is not None else []


def assert_input_compatibility(spec: Any, inputs: Any, layer_name: str) -> None:
    """Raises ValueError naming the layer when an input violates its spec."""
    if spec is None:
        return
    specs = nest.flatten(spec)
    flat = nest.flatten(inputs)
    if len(specs) != len(flat):
        raise ValueError(f"Layer {layer_name} expects {len(specs)} input(s), but it received "
                         f"{len(flat)} input tensors.")
    for i, (s, x) in enumerate(zip(specs, flat)):
        if s is None:
            continue
        shape = x.shape
        if shape.ndims is None:
            continue
        ndim, full = shape.ndims, _shape_list(shape)
        head = f"Input {i} of layer {layer_name} is incompatible with the layer: "
        if s.ndim is not None and ndim != s.ndim:
            raise ValueError(f"{head}expected ndim={s.ndim}, found ndim={ndim}. "
                             f"Full shape received: {full}")
        if s.max_ndim is not None and ndim > s.max_ndim:
            raise ValueError(f"{head}expected max_ndim={s.max_ndim}, found ndim={ndim}")
        if s.min_ndim is not None and ndim < s.min_ndim:
            raise ValueError(f"{head}expected min_ndim={s.min_ndim}, found ndim={ndim}. "
                             f"Full shape received: {full}")
        for axis, value in s.axes.items():
            got = full[axis] if -ndim <= axis < ndim else None
            if value is not None and got not in (value, None):
                raise ValueError(f"{head}expected axis {axis} of input shape to have value "
                                 f"{value} but received input with shape {full}")

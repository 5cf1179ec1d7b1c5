"""``Model.summary()``: the layer table (name, type, output shape, parameter count; for
functional models also the inbound layers) and the parameter totals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rillet.keras.engine import nest
from rillet.keras.engine.base_layer import keras_history


def _shape_str(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_str(s) for s in shape) + "]"
    if isinstance(shape, tuple) and shape and isinstance(shape[0], tuple):
        return "[" + ", ".join(_shape_str(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _row(fields: list[str], positions: list[int]) -> str:
    line = ""
    for i, f in enumerate(fields):
        if i > 0:
            line = line[:-1] + " "
        line += f
        line = line[:positions[i]]
        line += " " * (positions[i] - len(line))
    return line


def _count(weights: list) -> int:
    return int(sum(int(np.prod(w.shape.as_list())) for w in weights))


def print_summary(model: Any, line_length: int | None = None, positions: Any = None,
                  print_fn: Callable[[str], Any] | None = None) -> None:
    """Prints ``model``'s summary with ``print_fn`` (default ``print``)."""
    print_fn = print_fn or print
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling "
                         "`build()` or calling `fit()` with some data, or specify an "
                         "`input_shape` argument in the first layer(s) for automatic build.")
    functional = getattr(model, "_is_graph_network", False) and \
        type(model).__name__ != "Sequential"
    line_length = line_length or (98 if functional else 65)
    fractions = positions or ([0.33, 0.55, 0.67, 1.0] if functional else [0.45, 0.85, 1.0])
    cols = [int(line_length * p) if p <= 1 else int(p) for p in fractions]
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if functional
                                                             else [])
    layers = model.layers
    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    print_fn(_row(headers, cols))
    print_fn("=" * line_length)
    for i, layer in enumerate(layers):
        params = str(layer.count_params()) if layer.built else "0 (unused)"
        fields = [f"{layer.name} ({type(layer).__name__})", _shape_str(layer._output_shapes),
                  params]
        inbound = _inbound(model, layer) if functional else []
        print_fn(_row(fields + ([inbound[0] if inbound else ""] if functional else []), cols))
        for extra in inbound[1:]:
            print_fn(_row(["", "", "", extra], cols))
        print_fn(("=" if i == len(layers) - 1 else "_") * line_length)
    if not layers:
        print_fn("=" * line_length)
    trainable = _count(model.trainable_weights)
    non_trainable = _count(model.non_trainable_weights)
    print_fn(f"Total params: {trainable + non_trainable:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {non_trainable:,}")
    print_fn("_" * line_length)


def _inbound(model: Any, layer: Any) -> list[str]:
    out = []
    for node in getattr(model, "_nodes", []):
        if node.layer is not layer:
            continue
        for t in nest.flatten(node.inputs):
            h = keras_history(t)
            if h is not None:
                src, src_node, index = h
                k = [n for n in src._inbound_nodes].index(src_node) \
                    if src_node in src._inbound_nodes else 0
                out.append(f"{src.name}[{k}][{index}]")
    return out

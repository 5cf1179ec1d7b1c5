"""Layer (de)serialization: ``{"class_name": ..., "config": ...}`` by class name."""

from __future__ import annotations

from typing import Any


def _registry() -> dict[str, type]:
    from rillet.keras import layers as layers_mod
    from rillet.keras.engine.base_layer import Layer
    out = {}
    for name in dir(layers_mod):
        obj = getattr(layers_mod, name)
        if isinstance(obj, type) and issubclass(obj, Layer):
            out[obj.__name__] = obj
    from rillet.keras.engine.functional import Model
    from rillet.keras.engine.sequential import Sequential
    out.update(Model=Model, Sequential=Sequential)
    return out


def serialize(layer: Any) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(spec: dict, custom_objects: dict | None = None) -> Any:
    """A new layer from ``serialize``'s output (``custom_objects`` adds classes)."""
    classes = {**_registry(), **(custom_objects or {})}
    name = spec["class_name"]
    cls = classes.get(name)
    if cls is None:
        raise ValueError(f"Unknown layer: {name}. Please ensure this object is passed to the "
                         "`custom_objects` argument.")
    return cls.from_config(dict(spec["config"]))

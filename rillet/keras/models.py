"""``Sequential``, ``Model`` and (de)serialization of whole models."""

from __future__ import annotations

import json
from typing import Any

from rillet.keras.engine.functional import Model
from rillet.keras.engine.sequential import Sequential


def model_from_config(config: dict, custom_objects: dict | None = None) -> Any:
    """A new (untrained) model from ``{"class_name": ..., "config": ...}``."""
    from rillet.keras.layers.serialization import deserialize
    return deserialize(config, custom_objects)


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Any:
    return model_from_config(json.loads(json_string), custom_objects)


def clone_model(model: Any) -> Any:
    """A model with the same architecture and new weights."""
    from rillet.keras.layers.serialization import deserialize, serialize
    return deserialize(serialize(model))


__all__ = ["Model", "Sequential", "clone_model", "model_from_config", "model_from_json"]

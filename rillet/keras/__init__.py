"""``rillet.keras``: Keras-style layers, models (Sequential, functional, subclassed),
``compile``/``fit``/``evaluate``/``predict``, callbacks, losses, metrics and optimizers, in
graph mode (a Session per model, or the default one) and eager mode. See docs/keras.md."""

from rillet import datasets
from rillet.keras import (
    activations,
    backend,
    callbacks,
    constraints,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    utils,
)
from rillet.keras.engine.functional import Input, Model
from rillet.keras.engine.sequential import Sequential

__all__ = [
    "Input", "Model", "Sequential", "activations", "backend", "callbacks", "constraints",
    "datasets", "initializers", "layers", "losses", "metrics", "models", "optimizers",
    "regularizers", "utils",
]

"""Keras engine: the Layer base class, models, training loops."""

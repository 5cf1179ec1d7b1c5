"""``Embedding``: integer ids -> rows of a trainable ``[input_dim, output_dim]`` matrix."""

from __future__ import annotations

from typing import Any

import rillet as rt
from rillet.keras import constraints, initializers, regularizers
from rillet.keras.engine.base_layer import Layer


class Embedding(Layer):
    """``Embedding(1000, 64)`` maps ids ``[batch, steps]`` to ``[batch, steps, 64]``."""

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = None,
                 embeddings_regularizer: Any = None, activity_regularizer: Any = None,
                 embeddings_constraint: Any = None, mask_zero: bool = False,
                 input_length: int | None = None, **kwargs: Any):
        if input_length is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        super().__init__(activity_regularizer=activity_regularizer, autocast=False, **kwargs)
        if int(input_dim) <= 0 or int(output_dim) <= 0:
            raise ValueError(f"Both `input_dim` and `output_dim` should be positive, found "
                             f"input_dim {input_dim} and output_dim {output_dim}")
        if mask_zero:
            raise NotImplementedError("Embedding(mask_zero=True): masking is not supported.")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(
            embeddings_initializer or initializers.RandomUniform(-0.05, 0.05))
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.input_length = input_length

    def build(self, input_shape: Any) -> None:
        self.embeddings = self.add_weight("embeddings", [self.input_dim, self.output_dim],
                                          self.dtype, self.embeddings_initializer,
                                          self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs: Any) -> Any:
        if not inputs.dtype.is_integer:
            inputs = rt.cast(inputs, rt.int32)
        return rt.nn.embedding_lookup(self.embeddings, inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "input_length": self.input_length}

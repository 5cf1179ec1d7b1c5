"""Layers merging a list of tensors: ``Add``, ``Subtract``, ``Multiply``, ``Average``,
``Maximum``, ``Minimum``, ``Concatenate``."""

from __future__ import annotations

from functools import reduce
from typing import Any

import rillet as rt
from rillet.keras.engine.base_layer import Layer


class _Merge(Layer):
    def _check(self, inputs: Any) -> list:
        if not isinstance(inputs, list | tuple) or len(inputs) < 2:
            raise ValueError(f"A merge layer should be called on a list of at least 2 inputs. "
                             f"Got {len(inputs) if isinstance(inputs, list | tuple) else 1} "
                             "inputs.")
        return list(inputs)

    def call(self, inputs: Any) -> Any:
        return self._merge(self._check(inputs))

    def _merge(self, xs: list) -> Any:
        raise NotImplementedError


class Add(_Merge):
    """Elementwise sum."""

    def _merge(self, xs: list) -> Any:
        return rt.add_n(xs) if all(x.shape == xs[0].shape for x in xs) else \
            reduce(lambda a, b: a + b, xs)


class Subtract(_Merge):
    def _merge(self, xs: list) -> Any:
        if len(xs) != 2:
            raise ValueError("A `Subtract` layer should be called on exactly 2 inputs")
        return xs[0] - xs[1]


class Multiply(_Merge):
    def _merge(self, xs: list) -> Any:
        return reduce(lambda a, b: a * b, xs)


class Average(_Merge):
    def _merge(self, xs: list) -> Any:
        return reduce(lambda a, b: a + b, xs) / float(len(xs))


class Maximum(_Merge):
    def _merge(self, xs: list) -> Any:
        return reduce(rt.maximum, xs)


class Minimum(_Merge):
    def _merge(self, xs: list) -> Any:
        return reduce(rt.minimum, xs)


class Concatenate(_Merge):
    """Concatenates along ``axis`` (default the last)."""

    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = axis

    def _merge(self, xs: list) -> Any:
        ranks = {x.shape.ndims for x in xs}
        if len(ranks) > 1:
            raise ValueError("A `Concatenate` layer requires inputs with matching shapes "
                             "except for the concatenation axis. Received: input_shape="
                             f"{[x.shape.as_list() for x in xs]}")
        return rt.concat(xs, axis=self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


def add(inputs: list, **kwargs: Any) -> Any:
    return Add(**kwargs)(inputs)


def concatenate(inputs: list, axis: int = -1, **kwargs: Any) -> Any:
    return Concatenate(axis=axis, **kwargs)(inputs)

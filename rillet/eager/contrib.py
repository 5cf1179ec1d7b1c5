"""TF 1.x ``tf.contrib.eager`` (``tfe``): this module is ``rt.contrib.eager``.

Re-exports the eager API under TF's contrib names and adds the helpers built on
``GradientTape``: ``implicit_gradients``, ``gradients_function``, ... and ``Iterator``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from collections.abc import Iterator as _Iterator
from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet.eager import nest
from rillet.eager.context import (  # noqa: F401  (tfe names)
    enable_eager_execution,
    executing_eagerly,
    in_eager_mode,
    in_graph_mode,
    num_gpus,
)
from rillet.eager.function import TensorSpec, defun, function  # noqa: F401
from rillet.eager.tape import GradientTape
from rillet.eager.tensor import EagerTensor
from rillet.eager.variables import EagerVariable  # noqa: F401
from rillet.registry import convert_to_tensor
from rillet.variables import Variable  # noqa: F401  (tfe.Variable)


def implicit_value_and_gradients(f: Callable) -> Callable:
    """``f`` -> a function returning ``(f(...), [(grad, var), ...])`` for every trainable
    variable ``f`` reads."""
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> tuple:
        with GradientTape() as tape:
            value = f(*args, **kwargs)
        variables = tape.watched_variables()
        if not variables:
            raise ValueError("No trainable variables were accessed while the function was "
                             "being computed.")
        grads = tape.gradient(value, variables)
        return value, list(zip(grads, variables))
    return wrapper


def implicit_gradients(f: Callable) -> Callable:
    """``f`` -> a function returning ``[(grad, var), ...]`` for the variables ``f`` reads
    (feed it to ``optimizer.apply_gradients``)."""
    vg = implicit_value_and_gradients(f)

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> list:
        return vg(*args, **kwargs)[1]
    return wrapper


def value_and_gradients_function(f: Callable, params: Any = None) -> Callable:
    """``f`` -> a function returning ``(f(*args), [d f / d arg for arg in params])``;
    ``params`` are positions or names of arguments (default: all positional ones)."""
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> tuple:
        idx = list(range(len(args))) if params is None else \
            [p if isinstance(p, int) else _position(f, p) for p in params]
        args = list(args)
        with GradientTape() as tape:
            for i in idx:
                args[i] = convert_to_tensor(args[i])
                tape.watch(args[i])
            value = f(*args, **kwargs)
        return value, tape.gradient(value, [args[i] for i in idx])
    return wrapper


def gradients_function(f: Callable, params: Any = None) -> Callable:
    """``f`` -> a function returning the gradients of ``f`` with respect to its arguments."""
    vg = value_and_gradients_function(f, params)

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> list:
        return vg(*args, **kwargs)[1]
    return wrapper


def _position(f: Callable, name: str) -> int:
    import inspect
    return list(inspect.signature(f).parameters).index(name)


class Iterator:
    """Iterates a ``rt.data.Dataset`` eagerly, yielding EagerTensors (``tfe.Iterator``)."""

    def __init__(self, dataset: Any):
        self._it = iter(dataset)

    def __iter__(self) -> _Iterator:
        return self

    def __next__(self) -> Any:
        return nest.map_structure(_to_eager, next(self._it))

    def next(self) -> Any:
        return self.__next__()

    def get_next(self, name: str | None = None) -> Any:
        return self.__next__()


def _to_eager(x: Any) -> Any:
    if isinstance(x, EagerTensor):
        return x
    arr = np.asarray(x)
    return EagerTensor(arr, _dt.as_dtype(arr.dtype))

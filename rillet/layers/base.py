"""``rillet.layers.Layer``: Keras layers with TF 1.x ``tf.layers`` variable handling.

Weights are created with ``get_variable`` inside the layer's variable scope (``dense``,
``dense_1``, ... or the ``name`` given), so ``reuse=True`` / ``AUTO_REUSE`` and enclosing
``variable_scope``s behave as in TF 1.x, regularization losses go to ``REGULARIZATION_LOSSES`` and
update ops (batch norm) to ``UPDATE_OPS``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from rillet import context
from rillet.graph import GraphKeys, get_default_graph
from rillet.keras import regularizers
from rillet.keras.engine import nest
from rillet.keras.engine.base_layer import Layer as KerasLayer
from rillet.keras.engine.base_layer import snake_case
from rillet.variables import get_variable, variable_scope


class Layer(KerasLayer):
    """Base of the ``tf.layers`` classes; subclasses mix it in before a Keras layer."""

    def _tf1_init(self, name: str | None, kwargs: dict) -> None:
        self._base_name = name
        self._reuse = kwargs.pop("_reuse", None)
        kwargs.pop("_scope", None)
        self._var_scope: Any = None

    @contextlib.contextmanager
    def _scope(self) -> Iterator[None]:
        if context.executing_eagerly():
            yield
            return
        if self._var_scope is None:
            cm = variable_scope(self._base_name, reuse=self._reuse) if self._base_name else \
                variable_scope(None, default_name=snake_case(type(self).__name__))
            with cm as vs:
                self._var_scope = vs
                self._name = vs.name.rsplit("/", 1)[-1]
                yield
        else:
            with variable_scope(self._var_scope, reuse=True):
                yield

    def _create_variable(self, name: str, shape: list, dtype: Any, init: Any, trainable: bool,
                         regularizer: Any, constraint: Any) -> Any:
        if context.executing_eagerly():
            return super()._create_variable(name, shape, dtype, init, trainable, regularizer,
                                            constraint)
        return get_variable(name, shape, dtype, initializer=init, regularizer=regularizer,
                            trainable=trainable, constraint=constraint)

    def add_weight(self, name: str, shape: Any = (), dtype: Any = None, initializer: Any = None,
                   regularizer: Any = None, trainable: bool = True, constraint: Any = None,
                   **kwargs: Any) -> Any:
        if context.executing_eagerly():
            return super().add_weight(name, shape, dtype, initializer, regularizer, trainable,
                                      constraint)
        var = super().add_weight(name, shape, dtype, initializer, None, trainable, constraint)
        regularizer = regularizers.get(regularizer)
        if regularizer is not None:
            with get_default_graph().name_scope(f"{var.op.name}/Regularizer/"):
                loss = regularizer(var)
            get_default_graph().add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
            self._loss_fns.append(lambda: loss)
        return var

    def add_update(self, updates: Any, inputs: Any = None) -> None:
        super().add_update(updates, inputs)
        if not context.executing_eagerly():
            g = get_default_graph()
            for u in nest.flatten(updates):
                g.add_to_collection(GraphKeys.UPDATE_OPS, u)

    @property
    def scope_name(self) -> str:
        if self._var_scope is None:
            raise ValueError("No name available for layer scope because the layer "
                             f"\"{self.name}\" has not been used yet.")
        return self._var_scope.name

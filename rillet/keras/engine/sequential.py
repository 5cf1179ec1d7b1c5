"""``Sequential``: a linear stack of layers. With an input shape (an ``Input``/``InputLayer`` or
``input_shape=`` on the first layer) every ``add`` calls the new layer on the current output at
once, so incompatible shapes fail at ``add``; otherwise the model is built on first use."""

from __future__ import annotations

from typing import Any

from rillet.keras.engine.base_layer import Layer
from rillet.keras.engine.functional import _HISTORY, InputLayer, Model


class Sequential(Model):
    """``Sequential([Dense(64, activation="relu", input_shape=(784,)), Dense(10)])``."""

    def __init__(self, layers: list | None = None, name: str | None = None):
        super().__init__(name=name)
        self._stack: list[Layer] = []
        self._input_layer: InputLayer | None = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer) -> None:
        """Appends ``layer`` (calling it on the current output when the input is known)."""
        if not isinstance(layer, Layer):
            # Keras 3 accepts ``keras.Input(...)`` (a tensor) as the first element.
            origin = _HISTORY.get(layer) if hasattr(layer, "shape") else None
            if origin is not None and isinstance(origin[0], InputLayer):
                layer = origin[0]
        if not isinstance(layer, Layer):
            raise TypeError("The added layer must be an instance of class Layer. Found: "
                            f"{layer!r}")
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError("An InputLayer can only be the first layer of a Sequential "
                                 "model.")
            self._input_layer = layer
            self._connect()
            return
        names = {x.name for x in self._stack}
        if layer.name in names:
            raise ValueError("All layers added to a Sequential model should have unique names. "
                             f'Name "{layer.name}" is already the name of a layer in this '
                             "model. Update the `name` argument to pass a unique name.")
        if not self._stack and self._input_layer is None and \
                layer._batch_input_shape is not None:
            self._input_layer = InputLayer(batch_input_shape=layer._batch_input_shape,
                                           dtype=layer.dtype, name=f"{layer.name}_input")
        self._stack.append(layer)
        if self._input_layer is not None:
            out = layer(self.outputs[0]) if self.outputs else None
            if out is None:
                self._connect()
            else:
                self.outputs = [out]
                self._output_shapes = layer._output_shapes

    def _connect(self) -> None:
        """Calls the whole stack on the input placeholder."""
        x = self._input_layer.output
        self.inputs = [x]
        for layer in self._stack:
            x = layer(x)
        self.outputs = [x]
        self.input_names = [self._input_layer.name]
        self.output_names = [self._stack[-1].name] if self._stack else [self._input_layer.name]
        self._output_shapes = self._stack[-1]._output_shapes if self._stack else \
            self._input_layer._output_shapes
        self.built = True

    def pop(self) -> None:
        """Removes the last layer."""
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        self._stack.pop()
        if self._input_layer is not None:
            self._connect()

    @property
    def layers(self) -> list[Layer]:
        return list(self._stack)

    def _sublayers(self) -> list[Layer]:
        return list(self._stack)

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        x = inputs
        for layer in self._stack:
            x = layer(x)
        return x

    def _maybe_build(self, inputs: Any) -> None:
        self.built = True
        if not getattr(self, "output_names", None) and self._stack:
            self.output_names = [self._stack[-1].name]

    def build(self, input_shape: Any = None) -> None:
        """Creates the input (``input_shape`` includes the batch dimension) and the weights."""
        if self._input_layer is None:
            if input_shape is None:
                raise ValueError("You must provide an `input_shape` argument.")
            self._input_layer = InputLayer(batch_input_shape=tuple(input_shape),
                                           name=f"{self.name}_input")
            self._connect()
        self.built = True

    def get_config(self) -> dict:
        from rillet.keras.layers.serialization import serialize
        layers = [serialize(x) for x in self._stack]
        if self._input_layer is not None and layers and \
                "batch_input_shape" not in layers[0]["config"]:
            layers[0]["config"]["batch_input_shape"] = self._input_layer._batch_input_shape
        return {"name": self.name, "layers": layers}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Sequential:
        from rillet.keras.layers.serialization import deserialize
        model = cls(name=config.get("name"))
        for spec in config["layers"]:
            model.add(deserialize(spec, custom_objects))
        return model

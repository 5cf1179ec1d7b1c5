"""``Input``/``InputLayer`` and ``Model``: functional (``Model(inputs, outputs)``, a recorded
graph of layer calls that is replayed on new inputs) or subclassed (``call`` written by the
user). In graph mode ``Input`` is a placeholder of the default graph (TF 1.x Keras); in eager
mode it lives in a scratch graph used only to trace the layer calls."""

from __future__ import annotations

import json
from typing import Any

from rillet import context
from rillet import dtypes as _dt
from rillet.keras import backend
from rillet.keras.engine import nest
from rillet.keras.engine.base_layer import _HISTORY, Layer, Node, _NoConvert, keras_history
from rillet.keras.engine.training import Trainer
from rillet.shapes import TensorShape


class InputLayer(_NoConvert, Layer):
    """The entry point of a functional model: holds the input placeholder."""

    def __init__(self, input_shape: Any = None, batch_size: int | None = None,
                 dtype: Any = None, input_tensor: Any = None, sparse: bool = False,
                 name: str | None = None, batch_input_shape: Any = None, **kwargs: Any):
        name = name or f"input_{backend.get_uid('input')}"
        super().__init__(name=name, dtype=dtype or backend.floatx())
        if batch_input_shape is None and input_shape is not None:
            batch_input_shape = (batch_size, *tuple(input_shape))
        if input_tensor is None:
            if batch_input_shape is None:
                raise ValueError("An InputLayer needs `input_shape`, `batch_input_shape` or "
                                 "`input_tensor`.")
            input_tensor = self._placeholder(tuple(batch_input_shape))
        self._batch_input_shape = tuple(TensorShape(input_tensor.shape).as_list())
        self.sparse = sparse
        self.built = True
        node = Node(self, [], input_tensor, (), {})
        self._inbound_nodes.append(node)
        _HISTORY[input_tensor] = (self, node, 0)
        self._output_shapes = self._batch_input_shape

    def _placeholder(self, shape: tuple) -> Any:
        from rillet.ops.array_ops import placeholder
        if context.executing_eagerly() and not backend.in_symbolic_scope():
            with backend.symbolic_scope():
                return placeholder(self.dtype, list(shape), name=self.name)
        return placeholder(self.dtype, list(shape), name=self.name)

    def get_config(self) -> dict:
        return {"batch_input_shape": self._batch_input_shape, "dtype": self.dtype.name,
                "sparse": self.sparse, "name": self.name}


def Input(shape: Any = None, batch_size: int | None = None, name: str | None = None,  # noqa: N802
          dtype: Any = None, sparse: bool = False, tensor: Any = None,
          batch_shape: Any = None, **kwargs: Any) -> Any:
    """A symbolic input tensor (``shape`` excludes the batch dimension)."""
    if shape is None and batch_shape is None and tensor is None:
        raise ValueError("Please provide to Input either a `shape` or a `batch_shape` "
                         "argument. Note that `shape` does not include the batch dimension.")
    layer = InputLayer(input_shape=shape, batch_size=batch_size, name=name, dtype=dtype,
                       sparse=sparse, input_tensor=tensor, batch_input_shape=batch_shape)
    return layer.output


def _topological_nodes(outputs: list) -> list[Node]:
    """Nodes needed for ``outputs``, inputs before users (iterative depth-first search)."""
    order: list[Node] = []
    done: set[int] = set()
    for out in outputs:
        stack: list[tuple[Node, bool]] = [(keras_history(out)[1], False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in done:
                continue
            if expanded:
                done.add(id(node))
                order.append(node)
                continue
            stack.append((node, True))
            for t in nest.flatten(node.inputs):
                h = keras_history(t)
                if h is not None and id(h[1]) not in done:
                    stack.append((h[1], False))
    return order


class Model(Trainer, Layer):
    """A layer with training methods: functional ``Model(inputs, outputs)`` or a subclass that
    defines ``call``."""

    def __init__(self, *args: Any, **kwargs: Any):
        inputs = kwargs.pop("inputs", args[0] if len(args) > 0 else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        super().__init__(**{k: v for k, v in kwargs.items() if k in ("name", "trainable",
                                                                       "dtype")})
        self._is_graph_network = False
        self.inputs: list = []
        self.outputs: list = []
        self.optimizer = None
        self._compile_args = None
        if inputs is not None and outputs is not None:
            self._init_graph_network(inputs, outputs)

    # --- functional construction -------------------------------------------------------
    def _init_graph_network(self, inputs: Any, outputs: Any) -> None:
        self._nested_inputs, self._nested_outputs = inputs, outputs
        self.inputs, self.outputs = nest.flatten(inputs), nest.flatten(outputs)
        for t in self.inputs:
            h = keras_history(t)
            if h is None or not isinstance(h[0], InputLayer):
                raise ValueError("Input tensors to a Model must come from `keras.Input`. "
                                 f"Received: {t} (missing previous layer metadata).")
        for t in self.outputs:
            if keras_history(t) is None:
                raise ValueError("Output tensors of a Model must be the output of a Keras "
                                 f"`Layer` (thus holding past layer metadata). Found: {t}")
        nodes = _topological_nodes(self.outputs)
        given = {id(t) for t in self.inputs}
        seen: list[str] = []
        for node in nodes:
            if isinstance(node.layer, InputLayer) and id(node.outputs) not in given:
                raise ValueError(f"Graph disconnected: cannot obtain value for tensor "
                                 f"{node.outputs} at layer \"{node.layer.name}\". The following "
                                 f"previous layers were accessed without issue: {seen}")
            seen.append(node.layer.name)
        self._nodes = [n for n in nodes if not isinstance(n.layer, InputLayer)]
        layers = [keras_history(t)[0] for t in self.inputs] + [n.layer for n in self._nodes]
        self._layers = list(dict.fromkeys(layers))
        self.input_names = [keras_history(t)[0].name for t in self.inputs]
        self.output_names = [keras_history(t)[0].name for t in self.outputs]
        self._is_graph_network = True
        self.built = True
        self._output_shapes = nest.map_structure(
            lambda t: tuple(TensorShape(t.shape).as_list()), outputs)

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        if not self._is_graph_network:
            raise NotImplementedError("When subclassing the `Model` class, you should "
                                      "implement a `call` method.")
        if isinstance(inputs, dict) and not isinstance(self._nested_inputs, dict):
            inputs = [inputs[n] for n in self.input_names]
        flat = nest.flatten(inputs)
        if len(flat) != len(self.inputs):
            raise ValueError(f"Layer {self.name} expects {len(self.inputs)} input(s), but it "
                             f"received {len(flat)} input tensors.")
        values = {id(t): v for t, v in zip(self.inputs, flat)}
        for node in self._nodes:
            args = nest.map_structure(lambda t: values[id(t)], node.inputs)
            outs = node.layer(args, *node.args, **node.kwargs)
            for t, o in zip(nest.flatten(node.outputs), nest.flatten(outs)):
                values[id(t)] = o
        return nest.pack_as(self._nested_outputs, [values[id(t)] for t in self.outputs])

    def _maybe_build(self, inputs: Any) -> None:
        self.built = True

    def build(self, input_shape: Any) -> None:
        """Builds a subclassed model by calling it on a placeholder of ``input_shape``."""
        if self._is_graph_network or self.built:
            self.built = True
            return
        if input_shape is None:
            raise ValueError("Input shape must be defined when calling build on a model "
                             "subclass network.")
        shapes = input_shape if isinstance(input_shape, list) and input_shape and \
            isinstance(input_shape[0], tuple | list | TensorShape) else [input_shape]
        from rillet.ops.array_ops import placeholder
        if context.executing_eagerly():
            with backend.symbolic_scope():
                xs = [placeholder(self.dtype, TensorShape(s).as_list()) for s in shapes]
        else:
            xs = [placeholder(self.dtype, TensorShape(s).as_list()) for s in shapes]
        self(xs[0] if len(xs) == 1 else xs)

    @property
    def layers(self) -> list[Layer]:
        if self._is_graph_network:
            return list(self._layers)
        return self._sublayers()

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                                 f"has {len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in self.layers]}.")

    @property
    def input(self) -> Any:
        return nest.unpack_singleton(self.inputs) if self.inputs else Layer.input.fget(self)

    @property
    def output(self) -> Any:
        return nest.unpack_singleton(self.outputs) if self.outputs else Layer.output.fget(self)

    def summary(self, line_length: int | None = None, positions: Any = None,
                print_fn: Any = None) -> None:
        """Prints the layer table (output shapes, parameter counts, totals)."""
        from rillet.keras.engine.summary import print_summary
        print_summary(self, line_length, positions, print_fn)

    # --- config ---------------------------------------------------------------------------
    def get_config(self) -> dict:
        if not self._is_graph_network:
            return Layer.get_config(self)
        from rillet.keras.layers.serialization import serialize
        node_ids = {}
        for layer in self._layers:
            for k, node in enumerate(n for n in self._nodes if n.layer is layer):
                node_ids[id(node)] = k

        def ref(t: Any) -> list:
            layer, node, index = keras_history(t)
            return [layer.name, node_ids.get(id(node), 0), index]
        layers = []
        for layer in self._layers:
            inbound = [[ref(t) for t in nest.flatten(n.inputs)] + [n.kwargs]
                       for n in self._nodes if n.layer is layer]
            layers.append({**serialize(layer), "name": layer.name, "inbound_nodes": inbound})
        return {"name": self.name, "layers": layers,
                "input_layers": [ref(t) for t in self.inputs],
                "output_layers": [ref(t) for t in self.outputs]}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Model:
        if "layers" not in config:
            return cls(**config)
        from rillet.keras.layers.serialization import deserialize
        made: dict[str, Layer] = {}
        tensors: dict[tuple, Any] = {}
        for spec in config["layers"]:
            layer = deserialize(spec, custom_objects)
            made[spec["name"]] = layer
            if isinstance(layer, InputLayer):
                tensors[(spec["name"], 0, 0)] = layer.output
        for spec in config["layers"]:
            layer = made[spec["name"]]
            for k, node in enumerate(spec["inbound_nodes"]):
                refs, kwargs = node[:-1], node[-1]
                args = [tensors[tuple(r)] for r in refs]
                out = layer(args[0] if len(args) == 1 else args, **kwargs)
                for i, o in enumerate(nest.flatten(out)):
                    tensors[(spec["name"], k, i)] = o
        ins = [tensors[tuple(r)] for r in config["input_layers"]]
        outs = [tensors[tuple(r)] for r in config["output_layers"]]
        return cls(nest.unpack_singleton(ins), nest.unpack_singleton(outs),
                   name=config.get("name"))

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()},
                          default=_json_default, **kwargs)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, _dt.DType):
        return obj.name
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

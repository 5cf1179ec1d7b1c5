"""The Keras ``Layer``: ``__init__`` (validated config) -> ``build(input_shape)`` with
``add_weight`` -> ``call``. ``__call__`` builds on first use, checks ``input_spec``, passes the
``training`` flag down, and records a ``Node`` when called on symbolic (functional) tensors.

One class serves graph and eager mode: in graph mode weights are graph ``Variable``s (named
``<layer>/<weight>``), in eager mode eager variables; ``call`` is written once with rillet ops.
"""

from __future__ import annotations

import contextlib
import inspect
import re
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from rillet import context
from rillet import dtypes as _dt
from rillet.graph import Tensor, get_default_graph
from rillet.keras import backend
from rillet.keras.engine import nest
from rillet.keras.engine.input_spec import InputSpec, assert_input_compatibility
from rillet.registry import convert_to_tensor, is_tensor
from rillet.shapes import TensorShape, as_shape

_ALLOWED_KWARGS = {"input_shape", "batch_input_shape", "batch_size", "input_dim", "weights",
                   "activity_regularizer", "autocast"}

# Attributes that never hold sub-layers (skipped when looking for them).
_NOT_LAYERS = frozenset({"_inbound_nodes", "_trainable_weights", "_non_trainable_weights",
                         "_loss_fns", "_call_losses", "_updates", "_nodes", "_output_shapes"})

# Output tensor -> (layer, node, index): how functional models find their layers.
_HISTORY: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Node:
    """One call of a layer on symbolic tensors (what a functional model replays)."""

    __slots__ = ("layer", "inputs", "outputs", "args", "kwargs")

    def __init__(self, layer: Layer, inputs: Any, outputs: Any, args: tuple, kwargs: dict):
        self.layer, self.inputs, self.outputs = layer, inputs, outputs
        self.args, self.kwargs = args, kwargs


def keras_history(t: Any) -> tuple | None:
    """``(layer, node, index)`` for a tensor produced by a layer call on symbolic inputs."""
    try:
        return _HISTORY.get(t)
    except TypeError:
        return None


def snake_case(name: str) -> str:
    s = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", s).lower()


# --- per-thread call state: the training flag and update collectors ---------------------------
_state = threading.local()


def current_training() -> Any:
    """The ``training`` value of the innermost layer call (None outside any)."""
    stack = getattr(_state, "training", None)
    return stack[-1] if stack else None


@contextlib.contextmanager
def _training_scope(value: Any) -> Iterator[None]:
    stack = _state.__dict__.setdefault("training", [])
    stack.append(value)
    try:
        yield
    finally:
        stack.pop()


@contextlib.contextmanager
def collect_updates() -> Iterator[list]:
    """Collects the update ops (batch-norm moving averages) layers add in graph mode."""
    stack = _state.__dict__.setdefault("collectors", [])
    out: list = []
    stack.append(out)
    try:
        yield out
    finally:
        stack.pop()


def _dedupe(items: list) -> list:
    seen: set[int] = set()
    return [x for x in items if not (id(x) in seen or seen.add(id(x)))]


def smart_cond(pred: Any, true_fn: Any, false_fn: Any) -> Any:
    """``true_fn()`` / ``false_fn()`` for Python bools; a select of both for a bool tensor."""
    if pred is None or isinstance(pred, bool | np.bool_):
        return true_fn() if pred else false_fn()
    from rillet.ops.math_ops import where_
    a, b = true_fn(), false_fn()
    return nest.pack_as(a, [where_(pred, x, y) for x, y in zip(nest.flatten(a), nest.flatten(b))])


class Layer:
    """Base class of layers (see the module docstring)."""

    _expects_training = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        params = inspect.signature(cls.call).parameters.values()
        cls._expects_training = any(p.name == "training" or p.kind is p.VAR_KEYWORD
                                    for p in params)

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None,
                 dynamic: bool = False, **kwargs: Any):
        for k in kwargs:
            if k not in _ALLOWED_KWARGS:
                raise TypeError(f"Keyword argument not understood: {k!r}")
        self._name = name or backend.unique_object_name(snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self._dtype = _dt.as_dtype(dtype if dtype is not None else backend.floatx())
        self._autocast = kwargs.get("autocast", True)
        self.built = False
        self.input_spec: Any = None
        self.supports_masking = False
        self._trainable_weights: list = []
        self._non_trainable_weights: list = []
        self._loss_fns: list = []
        self._call_losses: list = []
        self._updates: list = []
        self._inbound_nodes: list[Node] = []
        self._output_shapes: Any = None
        self._initial_weights = kwargs.get("weights")
        from rillet.keras import regularizers
        self.activity_regularizer = regularizers.get(kwargs.get("activity_regularizer"))
        self._batch_input_shape: tuple | None = None
        if "batch_input_shape" in kwargs:
            self._batch_input_shape = tuple(kwargs["batch_input_shape"])
        elif "input_shape" in kwargs or "input_dim" in kwargs:
            shape = kwargs.get("input_shape") or (kwargs["input_dim"],)
            self._batch_input_shape = (kwargs.get("batch_size"), *tuple(shape))

    # --- properties -----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def dtype(self) -> _dt.DType:
        return self._dtype

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self._sublayers():
            layer.trainable = value

    def _sublayers(self) -> list[Layer]:
        """Layers held in attributes (directly or in lists/tuples/dicts), in order."""
        out: list[Layer] = []
        for key, v in self.__dict__.items():
            if key in _NOT_LAYERS:
                continue
            items = v.values() if isinstance(v, dict) else v if isinstance(v, list | tuple) \
                else (v,)
            out.extend(x for x in items if isinstance(x, Layer) and x is not self)
        return _dedupe(out)

    @property
    def layers(self) -> list[Layer]:
        return self._sublayers()

    @property
    def trainable_weights(self) -> list:
        if not self.trainable:
            return []
        nested = [w for layer in self._sublayers() for w in layer.trainable_weights]
        return _dedupe(self._trainable_weights + nested)

    @property
    def non_trainable_weights(self) -> list:
        if self.trainable:
            nested = [w for layer in self._sublayers() for w in layer.non_trainable_weights]
            return _dedupe(self._non_trainable_weights + nested)
        nested = [w for layer in self._sublayers() for w in layer.weights]
        return _dedupe(self._trainable_weights + self._non_trainable_weights + nested)

    @property
    def weights(self) -> list:
        return _dedupe(self.trainable_weights + self.non_trainable_weights)

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def losses(self) -> list:
        """Regularization losses of the weights plus losses added during the last call."""
        own = [fn() for fn in self._loss_fns] + list(self._call_losses)
        return own + [x for layer in self._sublayers() for x in layer.losses]

    @property
    def updates(self) -> list:
        return _dedupe(self._updates + [u for layer in self._sublayers() for u in layer.updates])

    # --- weights --------------------------------------------------------------------------
    def add_weight(self, name: str, shape: Any = (), dtype: Any = None, initializer: Any = None,
                   regularizer: Any = None, trainable: bool = True, constraint: Any = None,
                   **kwargs: Any) -> Any:
        """Creates a weight variable ``<layer>/<name>`` and tracks it."""
        from rillet.keras import constraints, initializers, regularizers
        dtype = _dt.as_dtype(dtype if dtype is not None else self.dtype)
        shape = [int(d) for d in as_shape(shape).as_list()]
        init = initializers.get(initializer)
        regularizer = regularizers.get(regularizer)
        var = self._create_variable(name, shape, dtype, init, trainable, regularizer,
                                    constraints.get(constraint))
        if regularizer is not None:
            self._loss_fns.append(lambda: regularizer(var))
        (self._trainable_weights if trainable else self._non_trainable_weights).append(var)
        return var

    def _create_variable(self, name: str, shape: list, dtype: _dt.DType, init: Any,
                         trainable: bool, regularizer: Any, constraint: Any) -> Any:
        from rillet.keras import initializers
        from rillet.variables import Variable
        if init is None:
            init = initializers.get("glorot_uniform" if dtype.is_floating else "zeros")
        return Variable(lambda: init(shape, dtype=dtype), name=name, trainable=trainable,
                        dtype=dtype, constraint=constraint)

    def get_weights(self) -> list[np.ndarray]:
        return backend.batch_get_value(self.weights)

    def set_weights(self, weights: list) -> None:
        """Sets the weights from NumPy arrays (same order and shapes as ``weights``)."""
        params = self.weights
        if len(params) != len(weights):
            raise ValueError(f'You called `set_weights(weights)` on layer "{self.name}" with a '
                             f"weight list of length {len(weights)}, but the layer was "
                             f"expecting {len(params)} weights.")
        pairs = []
        for p, w in zip(params, weights):
            w = np.asarray(w)
            if tuple(p.shape.as_list()) != w.shape:
                raise ValueError(f"Layer weight shape {tuple(p.shape.as_list())} not "
                                 f"compatible with provided weight shape {w.shape}")
            pairs.append((p, w))
        backend.batch_set_value(pairs)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer {self.name}, but the "
                             "layer isn't built. You can build it manually via: "
                             f"`{self.name}.build(batch_input_shape)`.")
        return int(sum(int(np.prod(w.shape.as_list())) for w in self.weights))

    # --- losses and updates -----------------------------------------------------------------
    def add_loss(self, loss: Any, inputs: Any = None) -> None:
        """A callable (re-evaluated on demand) or a tensor from the current call."""
        (self._loss_fns if callable(loss) and not is_tensor(loss) else
         self._call_losses).append(loss)

    def add_update(self, updates: Any, inputs: Any = None) -> None:
        """Records update ops (graph mode); in eager mode they already ran."""
        if context.executing_eagerly():
            return
        ops = [u for u in nest.flatten(updates) if u is not None]
        self._updates.extend(ops)
        for collector in getattr(_state, "collectors", []):
            collector.extend(ops)

    # --- building and calling ---------------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        self.built = True

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        raise NotImplementedError(f"Layer {type(self).__name__} does not implement "
                                  "compute_output_shape; call it on an Input to see its shape.")

    def _convert_input(self, x: Any) -> Any:
        if is_tensor(x) or hasattr(x, "_to_tensor"):
            if (self._autocast and self._dtype.is_floating and x.dtype.is_floating
                    and x.dtype is not self._dtype):
                from rillet.ops.math_ops import cast
                return cast(x, self._dtype)
            return x
        arr = np.asarray(x)
        if arr.dtype.kind == "f" and self._dtype.is_floating:
            arr = arr.astype(self._dtype.np)
        return convert_to_tensor(arr)

    def _scope(self) -> Any:
        """The name scope of one call (graph mode)."""
        if context.executing_eagerly():
            return contextlib.nullcontext()
        return get_default_graph().name_scope(self.name)

    def _build_scope(self) -> Any:
        """Eagerly, weights are still named ``<layer>/<weight>``."""
        if context.executing_eagerly() and not backend.in_symbolic_scope():
            return get_default_graph().name_scope(self.name + "/")
        return contextlib.nullcontext()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args:
            inputs, args = args[0], args[1:]
        else:
            inputs = kwargs.pop("inputs")
        if not isinstance(self, _NoConvert):
            inputs = nest.map_structure(self._convert_input, inputs)
        flat = nest.flatten(inputs)
        symbolic = any(isinstance(x, Tensor) for x in flat)
        user_kwargs = dict(kwargs)
        training = kwargs.get("training", current_training())
        if self._expects_training and "training" not in kwargs and training is not None:
            kwargs["training"] = training
        with contextlib.ExitStack() as stack:
            if symbolic and context.executing_eagerly():
                stack.enter_context(backend.symbolic_scope())
            stack.enter_context(_training_scope(training))
            stack.enter_context(self._scope())
            self._call_losses = []
            if not self.built:
                self._maybe_build(inputs)
            assert_input_compatibility(self.input_spec, inputs, self.name)
            outputs = self.call(inputs, *args, **kwargs)
            if self.activity_regularizer is not None:
                for o in nest.flatten(outputs):
                    self._call_losses.append(self.activity_regularizer(o))
        if symbolic or self._output_shapes is None:
            self._output_shapes = nest.map_structure(_static_shape, outputs)
        if symbolic and flat and all(keras_history(x) is not None for x in flat):
            self._record(inputs, outputs, args, user_kwargs)
        return outputs

    def _record(self, inputs: Any, outputs: Any, args: tuple, kwargs: dict) -> None:
        node = Node(self, inputs, outputs, args, kwargs)
        self._inbound_nodes.append(node)
        for i, t in enumerate(nest.flatten(outputs)):
            if isinstance(t, Tensor):
                _HISTORY[t] = (self, node, i)

    def _maybe_build(self, inputs: Any) -> None:
        assert_input_compatibility(self.input_spec, inputs, self.name)
        shapes = nest.map_structure(lambda t: TensorShape(t.shape), inputs)
        with _init_scope(), self._build_scope():
            self.build(shapes)
        self.built = True
        if self._initial_weights is not None:
            weights, self._initial_weights = self._initial_weights, None
            self.set_weights(weights)

    apply = __call__

    # --- introspection --------------------------------------------------------------------
    @property
    def output_shape(self) -> Any:
        if self._output_shapes is None:
            raise AttributeError(f"The layer {self.name} has never been called and thus has "
                                 "no defined output shape.")
        return self._output_shapes

    def _node_attr(self, attr: str) -> Any:
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} is not connected, no input to return.")
        return getattr(self._inbound_nodes[0], attr)

    @property
    def input(self) -> Any:
        return self._node_attr("inputs")

    @property
    def output(self) -> Any:
        return self._node_attr("outputs")

    @property
    def input_shape(self) -> Any:
        return nest.map_structure(_static_shape, self.input)

    # --- config ---------------------------------------------------------------------------
    def get_config(self) -> dict:
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable,
                                  "dtype": self.dtype.name}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


class _NoConvert:
    """Mixin: the layer takes its inputs as given (input layers, containers)."""


def _static_shape(t: Any) -> Any:
    shape = getattr(t, "shape", None)
    if shape is None:
        return None
    shape = TensorShape(shape)
    return tuple(shape.as_list()) if shape.ndims is not None else None


@contextlib.contextmanager
def _init_scope() -> Iterator[None]:
    """Weights are created eagerly when building symbolically in an eager program, and outside
    any control dependencies in graph mode."""
    if backend.in_symbolic_scope():
        with backend.eager_scope():
            yield
    elif context.executing_eagerly():
        yield
    else:
        with get_default_graph().control_dependencies(None):
            yield


__all__ = ["InputSpec", "Layer", "Node", "collect_updates", "current_training", "keras_history",
           "smart_cond", "snake_case"]

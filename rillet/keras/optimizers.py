"""Keras-style optimizers (``"adam"``, ``Adam(learning_rate=...)``) on top of ``rillet.train``.

The update itself is the fused ``rillet.train`` optimizer; this wrapper keeps the
hyper-parameters in Python so callbacks can change ``learning_rate`` between steps. In graph
mode the learning rate is a non-trainable variable written into the Session by ``sync``.
"""

from __future__ import annotations

import weakref
from typing import Any

import rillet as rt
from rillet import context
from rillet.graph import Graph


class Optimizer:
    """Base class: subclasses name the ``rillet.train`` class and map the hyper-parameters."""

    default_lr = 0.001

    def __init__(self, learning_rate: float | None = None, name: str | None = None,
                 **kwargs: Any):
        lr = kwargs.pop("lr", None)
        self._learning_rate = float(learning_rate if learning_rate is not None else
                                    lr if lr is not None else self.default_lr)
        self._hyper = kwargs
        self._name = name or type(self).__name__
        self._version = 0
        self._graphs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._synced: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._eager_opt: Any = None

    # --- learning rate -------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = float(value)
        self._version += 1

    lr = learning_rate

    # --- graph mode ------------------------------------------------------------------------
    def _make(self, lr: Any) -> Any:
        raise NotImplementedError

    def _for_graph(self, graph: Graph) -> tuple[Any, Any]:
        entry = self._graphs.get(graph)
        if entry is None:
            with graph.as_default(), graph.control_dependencies(None), \
                    graph.name_scope(f"{self._name}/"):
                lr_var = rt.Variable(self._learning_rate, trainable=False,
                                     name="learning_rate", dtype=rt.float32)
            entry = self._graphs[graph] = (self._make(lr_var), lr_var)
        return entry

    def get_train_op(self, loss: Any, var_list: list) -> Any:
        """The op applying one update of ``var_list`` towards a lower ``loss``."""
        opt, _ = self._for_graph(loss.graph)
        return opt.minimize(loss, var_list=var_list)

    def variables(self, graph: Graph | None = None) -> list:
        """The optimizer's variables in ``graph`` (slots, step counters, the learning rate)."""
        out = []
        for g, (opt, lr_var) in list(self._graphs.items()):
            if graph is None or g is graph:
                out += [*opt.variables(), lr_var]
        return out

    def sync(self, session: Any) -> None:
        """Writes a changed learning rate into ``session`` (graph mode)."""
        entry = self._graphs.get(session.graph)
        if entry is not None and self._synced.get(session) != self._version:
            entry[1].load(self._learning_rate, session)
            self._synced[session] = self._version

    # --- eager mode ---------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Any, name: str | None = None,
                        lr: Any = None) -> Any:
        """Applies gradients (eager mode, or inside a traced function); ``lr`` (a tensor)
        overrides the learning rate for this step."""
        if self._eager_opt is None:
            self._eager_opt = self._make(lambda: self._lr_now)
        self._lr_now = self._learning_rate if lr is None else lr
        return self._eager_opt.apply_gradients(grads_and_vars, name=name)

    def minimize(self, loss: Any, var_list: Any = None, **kwargs: Any) -> Any:
        if context.executing_eagerly():
            return self._make(lambda: self._learning_rate).minimize(loss, var_list=var_list)
        return self.get_train_op(loss, var_list)

    def get_config(self) -> dict:
        return {"name": self._name, "learning_rate": self._learning_rate, **self._hyper}

    @classmethod
    def from_config(cls, config: dict) -> Optimizer:
        return cls(**config)


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum."""

    default_lr = 0.01

    def __init__(self, learning_rate: float | None = None, momentum: float = 0.0,
                 nesterov: bool = False, name: str = "SGD", **kwargs: Any):
        super().__init__(learning_rate, name, momentum=momentum, nesterov=nesterov, **kwargs)

    def _make(self, lr: Any) -> Any:
        if self._hyper["momentum"]:
            return rt.train.MomentumOptimizer(lr, self._hyper["momentum"],
                                              use_nesterov=self._hyper["nesterov"])
        return rt.train.GradientDescentOptimizer(lr)


class Adam(Optimizer):
    def __init__(self, learning_rate: float | None = None, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False,
                 name: str = "Adam", **kwargs: Any):
        super().__init__(learning_rate, name, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, **kwargs)

    def _make(self, lr: Any) -> Any:
        h = self._hyper
        return rt.train.AdamOptimizer(lr, h["beta_1"], h["beta_2"], h["epsilon"])


class RMSprop(Optimizer):
    def __init__(self, learning_rate: float | None = None, rho: float = 0.9,
                 momentum: float = 0.0, epsilon: float = 1e-7, centered: bool = False,
                 name: str = "RMSprop", **kwargs: Any):
        super().__init__(learning_rate, name, rho=rho, momentum=momentum, epsilon=epsilon,
                         centered=centered, **kwargs)

    def _make(self, lr: Any) -> Any:
        h = self._hyper
        return rt.train.RMSPropOptimizer(lr, decay=h["rho"], momentum=h["momentum"],
                                         epsilon=h["epsilon"], centered=h["centered"])


class Adagrad(Optimizer):
    def __init__(self, learning_rate: float | None = None,
                 initial_accumulator_value: float = 0.1, name: str = "Adagrad",
                 **kwargs: Any):
        super().__init__(learning_rate, name,
                         initial_accumulator_value=initial_accumulator_value, **kwargs)

    def _make(self, lr: Any) -> Any:
        return rt.train.AdagradOptimizer(lr, self._hyper["initial_accumulator_value"])


class Adadelta(Optimizer):
    default_lr = 1.0

    def __init__(self, learning_rate: float | None = None, rho: float = 0.95,
                 epsilon: float = 1e-7, name: str = "Adadelta", **kwargs: Any):
        super().__init__(learning_rate, name, rho=rho, epsilon=epsilon, **kwargs)

    def _make(self, lr: Any) -> Any:
        return rt.train.AdadeltaOptimizer(lr, self._hyper["rho"], self._hyper["epsilon"])


class TFOptimizer(Optimizer):
    """Wraps a ``rillet.train`` optimizer object given to ``compile``."""

    def __init__(self, optimizer: Any):
        lr = getattr(optimizer, "_learning_rate", getattr(optimizer, "_lr", None))
        super().__init__(lr if isinstance(lr, int | float) else 0.0,
                         optimizer.get_name())
        self.optimizer = optimizer

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        raise ValueError(f"The learning rate of a wrapped {type(self.optimizer).__name__} "
                         "cannot be changed; compile with rillet.keras.optimizers instead.")

    lr = learning_rate

    def get_train_op(self, loss: Any, var_list: list) -> Any:
        return self.optimizer.minimize(loss, var_list=var_list)

    def variables(self, graph: Graph | None = None) -> list:
        return list(self.optimizer.variables())

    def sync(self, session: Any) -> None:
        pass

    def apply_gradients(self, grads_and_vars: Any, name: str | None = None,
                        lr: Any = None) -> Any:
        return self.optimizer.apply_gradients(grads_and_vars, name=name)


_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad,
            "adadelta": Adadelta}


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name (``"adam"``), a Keras optimizer, a ``rillet.train`` optimizer
    or a config dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer: {identifier}")
        return cls()
    if isinstance(identifier, dict):
        cls = _BY_NAME.get(identifier.get("class_name", "").lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer: {identifier.get('class_name')}")
        return cls(**identifier.get("config", {}))
    if isinstance(identifier, rt.train.Optimizer):
        return TFOptimizer(identifier)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")

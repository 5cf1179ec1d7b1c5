"""The global step: an int64 scalar variable named ``global_step`` counting training steps."""

from __future__ import annotations

from typing import Any

from rillet import dtypes as _dt
from rillet.graph import Graph, GraphKeys, get_default_graph
from rillet.init_ops import zeros_initializer
from rillet.variables import VariableScope, get_variable, variable_scope

__all__ = ["get_global_step", "create_global_step", "get_or_create_global_step",
           "assert_global_step", "global_step"]


def assert_global_step(global_step_tensor: Any) -> None:
    """Raises TypeError unless ``global_step_tensor`` is an integer scalar variable/tensor."""
    if not hasattr(global_step_tensor, "dtype") or not hasattr(global_step_tensor, "op"):
        raise TypeError(f"Existing \"global_step\" must be a Variable or Tensor: "
                        f"{global_step_tensor}.")
    if not global_step_tensor.dtype.is_integer:
        raise TypeError("Existing \"global_step\" does not have integer type: "
                        f"{global_step_tensor.dtype}")
    shape = global_step_tensor.shape
    if shape.ndims != 0 and shape.is_fully_defined():
        raise TypeError(f"Existing \"global_step\" is not scalar: {shape}")


def get_global_step(graph: Graph | None = None) -> Any:
    """The global step variable of ``graph`` (the GLOBAL_STEP collection, else the tensor
    named ``global_step:0``), or None."""
    graph = graph or get_default_graph()
    tensors = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(tensors) == 1:
        step = tensors[0]
    elif not tensors:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except (KeyError, ValueError):
            return None
    else:
        return None  # TF logs "Multiple tensors in global_step collection." and returns None
    assert_global_step(step)
    return step


def create_global_step(graph: Graph | None = None) -> Any:
    """Creates the int64 ``global_step`` variable (initial value 0, not trainable) in the
    GLOBAL_VARIABLES and GLOBAL_STEP collections; ValueError if it already exists."""
    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    with graph.as_default(), variable_scope(VariableScope(False)):
        return get_variable(GraphKeys.GLOBAL_STEP, shape=[], dtype=_dt.int64,
                            initializer=zeros_initializer(), trainable=False,
                            collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph: Graph | None = None) -> Any:
    """The global step variable, created if it does not exist yet."""
    graph = graph or get_default_graph()
    step = get_global_step(graph)
    if step is None:
        step = create_global_step(graph)
    return step


def global_step(sess: Any, global_step_tensor: Any) -> int:
    """The current value of the global step as a Python int."""
    return int(sess.run(global_step_tensor))

"""Eager execution: ops run at once on NumPy values, ``GradientTape`` differentiates them and
``function`` compiles Python functions into graphs (see docs/eager.md).

Importing this package installs the eager hooks of the core: ``context.eager_execute``,
``registry.tensor_types`` and ``variables.eager_variable_class``.
"""

from rillet import context as _context
from rillet import registry as _registry
from rillet import variables as _variables
from rillet.eager import nest
from rillet.eager.context import (
    disable_eager_execution,
    eager_mode,
    enable_eager_execution,
    executing_eagerly,
    graph_mode,
    in_eager_mode,
    in_graph_mode,
    num_gpus,
    reset_random_state,
)
from rillet.eager.contrib import (
    Iterator,
    gradients_function,
    implicit_gradients,
    implicit_value_and_gradients,
    value_and_gradients_function,
)
from rillet.eager.execute import eager_execute
from rillet.eager.function import ConcreteFunction, Function, TensorSpec, defun, function
from rillet.eager.tape import GradientTape, UnconnectedGradients
from rillet.eager.tensor import EagerTensor
from rillet.eager.variables import EagerVariable, init_scope
from rillet.eager.variables import trace_graphs as _trace_graphs
from rillet.graph import Tensor as _Tensor
from rillet.graph import get_default_graph as _get_default_graph


def _in_trace_graph() -> bool:
    return _get_default_graph() in _trace_graphs


_context.eager_execute = eager_execute
_registry.tensor_types = (_Tensor, EagerTensor)
_variables.eager_variable_class = EagerVariable
# For Variable.__new__ (if it consults it): True while rt.function traces into the default
# graph, so variables created there are lifted out as eager variables (TF's init_scope).
_variables.trace_graph_hook = _in_trace_graph

Variable = _variables.Variable

__all__ = [
    "ConcreteFunction", "EagerTensor", "EagerVariable", "Function", "GradientTape", "Iterator",
    "TensorSpec", "UnconnectedGradients", "Variable", "defun", "disable_eager_execution",
    "eager_mode", "enable_eager_execution", "executing_eagerly", "function", "gradients_function",
    "graph_mode", "implicit_gradients", "implicit_value_and_gradients", "in_eager_mode",
    "in_graph_mode", "init_scope", "nest", "num_gpus", "reset_random_state",
    "value_and_gradients_function",
]

"""``rt.nn.rnn_cell``: TF 1.x recurrent cells.

A cell maps ``(inputs [batch, depth], state) -> (output, new_state)`` and creates its variables
with ``get_variable`` on first use, inside the variable scope current at that call plus the
cell's name (``basic_lstm_cell``, ``lstm_cell``, ``gru_cell``, ...), exactly as TF 1.x names
them: ``rnn/basic_lstm_cell/kernel``, ``rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias``. Later
calls reuse that scope, so one cell object always shares its weights.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable
from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet import init_ops
from rillet.eager import nest
from rillet.graph import get_default_graph
from rillet.ops import array_ops, math_ops, nn_ops
from rillet.ops._util import constant_value
from rillet.ops.math_ops import matmul, sigmoid, tanh
from rillet.registry import convert_to_tensor, is_tensor
from rillet.variables import VariableScope, get_variable, variable_scope

__all__ = [
    "BasicLSTMCell", "BasicRNNCell", "DropoutWrapper", "GRUCell", "LSTMCell", "LSTMStateTuple",
    "MultiRNNCell", "RNNCell", "ResidualWrapper",
]


class LSTMStateTuple(namedtuple("LSTMStateTuple", ("c", "h"))):
    """(c, h): the memory cell and the hidden state (output) of an LSTM."""

    __slots__ = ()

    @property
    def dtype(self) -> Any:
        c, h = self
        if c.dtype is not h.dtype:
            raise TypeError(f"Inconsistent internal state: {c.dtype} vs {h.dtype}")
        return c.dtype


# --- nested structures (tuples, lists, namedtuples such as LSTMStateTuple) -------------------
flatten = nest.flatten
pack_as = nest.pack_sequence_as


def _is_seq(x: Any) -> bool:
    return isinstance(x, list | tuple)


def map_structure(fn: Callable, *structures: Any) -> Any:
    """``fn`` applied leaf-wise across structures of the same nesting."""
    flats = [flatten(s) for s in structures]
    return pack_as(structures[0], [fn(*xs) for xs in zip(*flats)])


def _snake(name: str) -> str:
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def _zeros(batch_size: Any, size: Any, dtype: Any) -> Any:
    dims = [size] if isinstance(size, int) else list(size)
    if is_tensor(batch_size):
        b = math_ops.cast(batch_size, _dt.int32)
        return array_ops.zeros(array_ops.stack([b, *dims]), dtype=dtype)
    return array_ops.zeros([int(batch_size), *dims], dtype=dtype)


def _last_dim(shape: Any, cell: str) -> int:
    """The input depth from the static shape of the first input."""
    d = shape[-1] if shape.ndims else None
    if d is None:
        raise ValueError(f"{cell}: expected inputs.shape[-1] to be known, saw shape: {shape}")
    return int(d)


# --- base -------------------------------------------------------------------------------------


class RNNCell:
    """Base class. Subclasses define ``state_size``, ``output_size``, ``build(inputs_shape)``
    (create variables with ``add_variable``) and ``call(inputs, state)``."""

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None,
                 _reuse: Any = None, **kwargs: Any):
        self._base_name = name or _snake(type(self).__name__)
        self._dtype = None if dtype is None else _dt.as_dtype(dtype)
        self._reuse = _reuse
        self._trainable = trainable
        self._scope: VariableScope | None = None
        self.built = False
        self._variables: list = []

    @property
    def state_size(self) -> Any:
        raise NotImplementedError("Abstract method")

    @property
    def output_size(self) -> Any:
        raise NotImplementedError("Abstract method")

    @property
    def name(self) -> str:
        return self._base_name

    @property
    def trainable_variables(self) -> list:
        return [v for v in self._variables if v.trainable]

    trainable_weights = trainable_variables

    @property
    def variables(self) -> list:
        return list(self._variables)

    weights = variables

    def build(self, inputs_shape: Any) -> None:
        """Creates the variables; ``inputs_shape`` is the static shape of the first input."""

    def call(self, inputs: Any, state: Any) -> tuple:
        raise NotImplementedError("Abstract method")

    def add_variable(self, name: str, shape: Any = None, dtype: Any = None,
                     initializer: Any = None, trainable: bool | None = None,
                     **kwargs: Any) -> Any:
        """``get_variable`` in the cell's scope (tracked in ``self.variables``)."""
        dtype = dtype if dtype is not None else (self._dtype or _dt.float32)
        v = get_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                         trainable=self._trainable if trainable is None else trainable)
        if all(v is not w for w in self._variables):
            self._variables.append(v)
        return v

    add_weight = add_variable

    def _capture_scope(self, scope: Any) -> None:
        if isinstance(scope, VariableScope):
            self._scope = scope
            return
        if scope is not None:
            with variable_scope(scope) as s:
                self._scope = s
            return
        parent = get_default_graph()._var_scope
        if parent is not None and parent.reuse is True:
            # Reusing an existing model: do not uniquify the default name.
            with variable_scope(self._base_name) as s:
                self._scope = s
        else:
            with variable_scope(None, default_name=self._base_name) as s:
                self._scope = s

    def __call__(self, inputs: Any, state: Any, scope: Any = None) -> tuple:
        """Runs one step: returns (output, new_state)."""
        if self._scope is None:
            self._capture_scope(scope)
        inputs = convert_to_tensor(inputs) if not _is_seq(inputs) else inputs
        if self._dtype is None:
            leaf = flatten(inputs)[0]
            self._dtype = leaf.dtype
        with variable_scope(self._scope, reuse=True if self.built else self._reuse):
            if not self.built:
                self.build(flatten(inputs)[0].shape)
                self.built = True
            return self.call(inputs, state)

    def zero_state(self, batch_size: Any, dtype: Any) -> Any:
        """Zeros shaped like ``state_size`` with a leading ``batch_size`` (an int or a scalar
        int tensor)."""
        with get_default_graph().name_scope(type(self).__name__ + "ZeroState"):
            return _zero_state(self.state_size, batch_size, dtype)


def _zero_state(state_size: Any, batch_size: Any, dtype: Any) -> Any:
    dtype = _dt.as_dtype(dtype)
    if _is_seq(state_size):
        return pack_as(state_size, [_zeros(batch_size, s, dtype) for s in flatten(state_size)])
    return _zeros(batch_size, state_size, dtype)


# --- concrete cells ---------------------------------------------------------------------------


def _concat_matmul(inputs: Any, state: Any, kernel: Any) -> Any:
    return matmul(array_ops.concat([inputs, state], 1), kernel)


class BasicRNNCell(RNNCell):
    """h' = activation(W [x, h] + b) (activation: tanh)."""

    def __init__(self, num_units: int, activation: Callable | None = None, reuse: Any = None,
                 name: str | None = None, dtype: Any = None, **kwargs: Any):
        super().__init__(name=name, dtype=dtype, _reuse=reuse, **kwargs)
        self._num_units = int(num_units)
        self._activation = activation or tanh

    @property
    def state_size(self) -> int:
        return self._num_units

    @property
    def output_size(self) -> int:
        return self._num_units

    def build(self, inputs_shape: Any) -> None:
        depth = _last_dim(inputs_shape, type(self).__name__)
        self._kernel = self.add_variable("kernel", [depth + self._num_units, self._num_units])
        self._bias = self.add_variable("bias", [self._num_units],
                                       initializer=init_ops.Zeros(dtype=self._dtype))

    def call(self, inputs: Any, state: Any) -> tuple:
        out = self._activation(nn_ops.bias_add(_concat_matmul(inputs, state, self._kernel),
                                               self._bias))
        return out, out


class BasicLSTMCell(RNNCell):
    """The basic LSTM (no peepholes, no projection): gates i, j, f, o from W [x, h] + b;
    c' = c sigmoid(f + forget_bias) + sigmoid(i) tanh(j); h' = tanh(c') sigmoid(o)."""

    def __init__(self, num_units: int, forget_bias: float = 1.0, state_is_tuple: bool = True,
                 activation: Callable | None = None, reuse: Any = None,
                 name: str | None = None, dtype: Any = None, **kwargs: Any):
        super().__init__(name=name, dtype=dtype, _reuse=reuse, **kwargs)
        self._num_units = int(num_units)
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = activation or tanh

    @property
    def state_size(self) -> Any:
        n = self._num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    @property
    def output_size(self) -> int:
        return self._num_units

    def build(self, inputs_shape: Any) -> None:
        depth = _last_dim(inputs_shape, type(self).__name__)
        n = self._num_units
        self._kernel = self.add_variable("kernel", [depth + n, 4 * n])
        self._bias = self.add_variable("bias", [4 * n],
                                       initializer=init_ops.Zeros(dtype=self._dtype))

    def call(self, inputs: Any, state: Any) -> tuple:
        if self._state_is_tuple:
            c, h = state
        else:
            c, h = array_ops.split(state, 2, 1)
        gates = nn_ops.bias_add(_concat_matmul(inputs, h, self._kernel), self._bias)
        i, j, f, o = array_ops.split(gates, 4, 1)
        fb = convert_to_tensor(self._forget_bias, dtype=f.dtype)
        act = self._activation
        new_c = c * sigmoid(f + fb) + sigmoid(i) * act(j)
        new_h = act(new_c) * sigmoid(o)
        if self._state_is_tuple:
            return new_h, LSTMStateTuple(new_c, new_h)
        return new_h, array_ops.concat([new_c, new_h], 1)


class LSTMCell(RNNCell):
    """LSTM with optional peepholes (``use_peepholes``), cell clipping (``cell_clip``) and an
    output projection (``num_proj``, ``proj_clip``)."""

    def __init__(self, num_units: int, use_peepholes: bool = False, cell_clip: float | None = None,
                 initializer: Any = None, num_proj: int | None = None,
                 proj_clip: float | None = None, num_unit_shards: Any = None,
                 num_proj_shards: Any = None, forget_bias: float = 1.0,
                 state_is_tuple: bool = True, activation: Callable | None = None,
                 reuse: Any = None, name: str | None = None, dtype: Any = None,
                 **kwargs: Any):
        super().__init__(name=name, dtype=dtype, _reuse=reuse, **kwargs)
        self._num_units = int(num_units)
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = None if num_proj is None else int(num_proj)
        self._proj_clip = proj_clip
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = activation or tanh

    @property
    def state_size(self) -> Any:
        n, p = self._num_units, self._num_proj or self._num_units
        return LSTMStateTuple(n, p) if self._state_is_tuple else n + p

    @property
    def output_size(self) -> int:
        return self._num_proj or self._num_units

    def build(self, inputs_shape: Any) -> None:
        depth = _last_dim(inputs_shape, type(self).__name__)
        n, p = self._num_units, self._num_proj or self._num_units
        init = self._initializer
        self._kernel = self.add_variable("kernel", [depth + p, 4 * n], initializer=init)
        self._bias = self.add_variable("bias", [4 * n],
                                       initializer=init_ops.Zeros(dtype=self._dtype))
        if self._use_peepholes:
            self._w_f_diag = self.add_variable("w_f_diag", [n], initializer=init)
            self._w_i_diag = self.add_variable("w_i_diag", [n], initializer=init)
            self._w_o_diag = self.add_variable("w_o_diag", [n], initializer=init)
        if self._num_proj is not None:
            self._proj_kernel = self.add_variable("projection/kernel", [n, self._num_proj],
                                                  initializer=init)

    def call(self, inputs: Any, state: Any) -> tuple:
        n, p = self._num_units, self._num_proj or self._num_units
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev, m_prev = array_ops.split(state, [n, p], 1)
        lstm = nn_ops.bias_add(_concat_matmul(inputs, m_prev, self._kernel), self._bias)
        i, j, f, o = array_ops.split(lstm, 4, 1)
        fb = convert_to_tensor(self._forget_bias, dtype=f.dtype)
        act = self._activation
        if self._use_peepholes:
            c = (sigmoid(f + fb + self._w_f_diag * c_prev) * c_prev +
                 sigmoid(i + self._w_i_diag * c_prev) * act(j))
        else:
            c = sigmoid(f + fb) * c_prev + sigmoid(i) * act(j)
        if self._cell_clip is not None:
            c = math_ops.clip_by_value(c, -self._cell_clip, self._cell_clip)
        if self._use_peepholes:
            m = sigmoid(o + self._w_o_diag * c) * act(c)
        else:
            m = sigmoid(o) * act(c)
        if self._num_proj is not None:
            m = matmul(m, self._proj_kernel)
            if self._proj_clip is not None:
                m = math_ops.clip_by_value(m, -self._proj_clip, self._proj_clip)
        if self._state_is_tuple:
            return m, LSTMStateTuple(c, m)
        return m, array_ops.concat([c, m], 1)


class GRUCell(RNNCell):
    """Gated recurrent unit: r, u = sigmoid(W_g [x, h] + b_g) (b_g starts at 1);
    c = tanh(W_c [x, r h] + b_c); h' = u h + (1 - u) c."""

    def __init__(self, num_units: int, activation: Callable | None = None, reuse: Any = None,
                 kernel_initializer: Any = None, bias_initializer: Any = None,
                 name: str | None = None, dtype: Any = None, **kwargs: Any):
        super().__init__(name=name, dtype=dtype, _reuse=reuse, **kwargs)
        self._num_units = int(num_units)
        self._activation = activation or tanh
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    @property
    def state_size(self) -> int:
        return self._num_units

    @property
    def output_size(self) -> int:
        return self._num_units

    def build(self, inputs_shape: Any) -> None:
        depth = _last_dim(inputs_shape, type(self).__name__)
        n = self._num_units
        ki, bi = self._kernel_initializer, self._bias_initializer
        self._gate_kernel = self.add_variable("gates/kernel", [depth + n, 2 * n],
                                              initializer=ki)
        self._gate_bias = self.add_variable(
            "gates/bias", [2 * n],
            initializer=bi if bi is not None else init_ops.Constant(1.0, dtype=self._dtype))
        self._candidate_kernel = self.add_variable("candidate/kernel", [depth + n, n],
                                                   initializer=ki)
        self._candidate_bias = self.add_variable(
            "candidate/bias", [n],
            initializer=bi if bi is not None else init_ops.Zeros(dtype=self._dtype))

    def call(self, inputs: Any, state: Any) -> tuple:
        gates = sigmoid(nn_ops.bias_add(_concat_matmul(inputs, state, self._gate_kernel),
                                        self._gate_bias))
        r, u = array_ops.split(gates, 2, 1)
        cand = nn_ops.bias_add(_concat_matmul(inputs, r * state, self._candidate_kernel),
                               self._candidate_bias)
        c = self._activation(cand)
        new_h = u * state + (1 - u) * c
        return new_h, new_h


class MultiRNNCell(RNNCell):
    """Stacks cells: layer i runs in variable scope ``cell_i`` and feeds layer i + 1."""

    def __init__(self, cells: list, state_is_tuple: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        self._cells = list(cells)
        self._state_is_tuple = state_is_tuple
        if not state_is_tuple and any(_is_seq(c.state_size) for c in self._cells):
            raise ValueError("Some cells return tuples of states, but the flag "
                             f"state_is_tuple is not set. State sizes are: "
                             f"{[c.state_size for c in self._cells]}")

    @property
    def state_size(self) -> Any:
        if self._state_is_tuple:
            return tuple(c.state_size for c in self._cells)
        return sum(c.state_size for c in self._cells)

    @property
    def output_size(self) -> Any:
        return self._cells[-1].output_size

    @property
    def variables(self) -> list:
        out = list(self._variables)
        for c in self._cells:
            out += [v for v in c.variables if all(v is not w for w in out)]
        return out

    weights = variables

    @property
    def trainable_variables(self) -> list:
        return [v for v in self.variables if v.trainable]

    trainable_weights = trainable_variables

    def zero_state(self, batch_size: Any, dtype: Any) -> Any:
        with get_default_graph().name_scope(type(self).__name__ + "ZeroState"):
            if self._state_is_tuple:
                return tuple(c.zero_state(batch_size, dtype) for c in self._cells)
            return _zero_state(self.state_size, batch_size, dtype)

    def call(self, inputs: Any, state: Any) -> tuple:
        cur = inputs
        new_states = []
        start = 0
        for i, cell in enumerate(self._cells):
            with variable_scope(f"cell_{i}"):
                if self._state_is_tuple:
                    if not _is_seq(state):
                        raise ValueError(f"Expected state to be a tuple of length "
                                         f"{len(self.state_size)}, but received: {state}")
                    cur_state = state[i]
                else:
                    size = cell.state_size
                    cur_state = _columns(state, start, size)
                    start += size
                cur, new_state = cell(cur, cur_state)
                new_states.append(new_state)
        if self._state_is_tuple:
            return cur, tuple(new_states)
        return cur, array_ops.concat(new_states, 1)


def _columns(x: Any, start: int, size: int) -> Any:
    from rillet.ops import slicing
    return slicing.slice(x, [0, start], [-1, size])


class _Wrapper(RNNCell):
    """A cell around another cell; it adds no variable scope of its own (TF's wrappers)."""

    def __init__(self, cell: RNNCell, **kwargs: Any):
        super().__init__(**kwargs)
        self._cell = cell

    @property
    def wrapped_cell(self) -> RNNCell:
        return self._cell

    @property
    def state_size(self) -> Any:
        return self._cell.state_size

    @property
    def output_size(self) -> Any:
        return self._cell.output_size

    @property
    def variables(self) -> list:
        return self._cell.variables

    weights = variables

    @property
    def trainable_variables(self) -> list:
        return self._cell.trainable_variables

    trainable_weights = trainable_variables

    def zero_state(self, batch_size: Any, dtype: Any) -> Any:
        return self._cell.zero_state(batch_size, dtype)


def _default_state_filter(substate: Any) -> Any:
    """Drop out every state tensor except the memory ``c`` of LSTM states."""
    if isinstance(substate, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)
    return True


class DropoutWrapper(_Wrapper):
    """Dropout on a cell's inputs, outputs and (filtered) new state. Keep probabilities may be
    floats or scalar tensors (e.g. a placeholder fed 1.0 at test time). With
    ``variational_recurrent`` one mask per run is reused at every time step."""

    def __init__(self, cell: RNNCell, input_keep_prob: Any = 1.0, output_keep_prob: Any = 1.0,
                 state_keep_prob: Any = 1.0, variational_recurrent: bool = False,
                 input_size: Any = None, dtype: Any = None, seed: int | None = None,
                 dropout_state_filter_visitor: Callable | None = None, **kwargs: Any):
        super().__init__(cell, **kwargs)
        for name, p in (("input_keep_prob", input_keep_prob),
                        ("output_keep_prob", output_keep_prob),
                        ("state_keep_prob", state_keep_prob)):
            v = p if isinstance(p, int | float) else (None if not is_tensor(p) else
                                                        constant_value(p))
            if v is not None and np.ndim(v) == 0 and not 0 < float(v) <= 1:
                raise ValueError(f"Parameter {name} must be between 0 and 1: {float(v)}")
        self._input_keep_prob = input_keep_prob
        self._output_keep_prob = output_keep_prob
        self._state_keep_prob = state_keep_prob
        self._variational = variational_recurrent
        self._seed = seed
        self._state_filter = dropout_state_filter_visitor or _default_state_filter
        self._masks: dict = {}

    @staticmethod
    def _always_keep(p: Any) -> bool:
        return isinstance(p, int | float) and float(p) == 1.0

    def _dropout(self, x: Any, keep_prob: Any, key: str, salt: int) -> Any:
        seed = None if self._seed is None else self._seed + salt
        if not self._variational:
            return nn_ops.dropout(x, keep_prob, seed=seed)
        mask = self._masks.get(key)
        if mask is None:
            ones = math_ops.ones_like(x)
            mask = nn_ops.dropout(ones, keep_prob, seed=seed)
            self._masks[key] = mask
        return x * mask

    def _drop_structure(self, values: Any, keep_prob: Any, prefix: str, salt: int,
                        filt: Any = None) -> Any:
        flat = flatten(values)
        keep = flatten(filt) if filt is not None else [True] * len(flat)
        if len(keep) != len(flat):
            keep = [keep[0]] * len(flat)
        out = [self._dropout(v, keep_prob, f"{prefix}_{i}", salt + i) if k else v
               for i, (v, k) in enumerate(zip(flat, keep))]
        return pack_as(values, out)

    def __call__(self, inputs: Any, state: Any, scope: Any = None) -> tuple:
        if not self._always_keep(self._input_keep_prob):
            inputs = self._drop_structure(inputs, self._input_keep_prob, "input", 0)
        output, new_state = self._cell(inputs, state, scope=scope)
        if not self._always_keep(self._state_keep_prob):
            filt = map_structure_shallow(self._state_filter, new_state)
            new_state = self._drop_structure(new_state, self._state_keep_prob, "state", 1000,
                                             filt)
        if not self._always_keep(self._output_keep_prob):
            output = self._drop_structure(output, self._output_keep_prob, "output", 2000)
        return output, new_state


def map_structure_shallow(visitor: Callable, state: Any) -> Any:
    """Applies the state-filter visitor: LSTMStateTuples are visited whole, other nests by
    leaf; returns a structure of booleans with the leaves of ``state``."""
    if isinstance(state, LSTMStateTuple):
        r = visitor(state)
        return r if _is_seq(r) else LSTMStateTuple(bool(r), bool(r))
    if _is_seq(state):
        parts = [map_structure_shallow(visitor, s) for s in state]
        return list(parts) if isinstance(state, list) else tuple(parts)
    return bool(visitor(state))


class ResidualWrapper(_Wrapper):
    """output = cell output + inputs (or ``residual_fn(inputs, output)``)."""

    def __init__(self, cell: RNNCell, residual_fn: Callable | None = None, **kwargs: Any):
        super().__init__(cell, **kwargs)
        self._residual_fn = residual_fn

    def __call__(self, inputs: Any, state: Any, scope: Any = None) -> tuple:
        output, new_state = self._cell(inputs, state, scope=scope)
        if self._residual_fn is not None:
            return self._residual_fn(inputs, output), new_state
        return map_structure(lambda i, o: i + o, inputs, output), new_state

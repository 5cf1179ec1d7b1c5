"""Running cells over sequences: ``dynamic_rnn``, ``bidirectional_dynamic_rnn``, ``static_rnn``
and ``static_bidirectional_rnn`` (TF 1.x names, scopes and results).

``dynamic_rnn`` unrolls the cell over the time steps when their number is known when the graph
is built, and otherwise runs the cell in a ``tf.while_loop`` (one ``While`` op). With
``sequence_length``, outputs past a row's length are zero and its state is copied through, so
the final state is the state at its last valid step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from rillet import dtypes as _dt
from rillet.nn import rnn_fused
from rillet.nn.rnn_cell import LSTMStateTuple, RNNCell, flatten, map_structure, pack_as
from rillet.ops import array_ops, math_ops
from rillet.registry import convert_to_tensor
from rillet.variables import VariableScope, variable_scope

__all__ = ["bidirectional_dynamic_rnn", "dynamic_rnn", "static_bidirectional_rnn",
           "static_rnn"]


@contextlib.contextmanager
def _scope(scope: Any, default: str) -> Iterator[VariableScope]:
    """``variable_scope(scope or default)``. On leaving a scope entered by name, the counters of
    its default-named sub-scopes are reset, as TF does, so a second RNN built in the same
    scope names its cell ``basic_lstm_cell`` again (reuse=True then shares variables, and
    without reuse TF's "Variable ... already exists" error is raised)."""
    with variable_scope(scope if scope is not None else default) as vs:
        yield vs


def _check_cell(cell: Any, name: str = "cell") -> None:
    if not callable(cell) or not hasattr(cell, "state_size"):
        raise TypeError(f"{name} must be an instance of RNNCell, saw: {cell!r}")


def _batch_size(x: Any, axis: int) -> Any:
    d = x.shape[axis] if x.shape.ndims else None
    if d is not None:
        return int(d)
    return array_ops.shape(x)[axis]


def _initial_state(cell: Any, initial_state: Any, dtype: Any, batch: Any) -> Any:
    if initial_state is not None:
        return initial_state
    if dtype is None:
        raise ValueError("If there is no initial_state, you must give a dtype.")
    return cell.zero_state(batch, _dt.as_dtype(dtype))


def _seq_length(sequence_length: Any) -> Any:
    if sequence_length is None:
        return None
    s = math_ops.cast(convert_to_tensor(sequence_length), _dt.int32)
    if s.shape.ndims not in (None, 1):
        raise ValueError(f"sequence_length must be a vector of length batch_size, but saw "
                         f"shape: {s.shape}")
    return array_ops.reshape(s, [-1, 1])  # [batch, 1]: broadcasts against [batch, units]


def _step(cell: Any, x: Any, state: Any, t: int, seq: Any) -> tuple:
    """One time step; rows with ``t >= length`` emit zeros and keep their state."""
    out, new_state = cell(x, state)
    if seq is None:
        return out, new_state
    done = math_ops.less_equal(seq, t)
    out = map_structure(lambda o: math_ops.where_(done, math_ops.zeros_like(o), o), out)
    new_state = map_structure(lambda n, o: math_ops.where_(done, o, n), new_state, state)
    return out, new_state


def static_rnn(cell: RNNCell, inputs: list, initial_state: Any = None, dtype: Any = None,
               sequence_length: Any = None, scope: Any = None) -> tuple:
    """Runs ``cell`` over a Python list of inputs, each [batch, depth].

    Returns (list of outputs, final state)."""
    _check_cell(cell)
    if not isinstance(inputs, list | tuple):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    with _scope(scope, "rnn") as vs:
        first = convert_to_tensor(flatten(inputs[0])[0])
        if first.shape.ndims is not None and first.shape.ndims < 2:
            raise ValueError(f"Input size (dimension 1 of inputs) must be accessible via shape "
                             f"inference, but saw value None (shape {first.shape}).")
        state = _initial_state(cell, initial_state, dtype, _batch_size(first, 0))
        seq = _seq_length(sequence_length)
        outputs = []
        for t, x in enumerate(inputs):
            if t > 0:
                vs.reuse_variables()
            out, state = _step(cell, x, state, t, seq)
            outputs.append(out)
        return outputs, state


def dynamic_rnn(cell: RNNCell, inputs: Any, sequence_length: Any = None,
                initial_state: Any = None, dtype: Any = None, parallel_iterations: Any = None,
                swap_memory: bool = False, time_major: bool = False, scope: Any = None) -> tuple:
    """Runs ``cell`` over inputs [batch, time, depth] (``time_major``: [time, batch, depth]).

    Returns (outputs [batch, time, output_size] (time-major likewise), final state). A time
    dimension known statically is unrolled; an unknown one runs in a while loop.
    """
    _check_cell(cell)
    flat_in = [convert_to_tensor(x) for x in flatten(inputs)]
    t_axis, b_axis = (0, 1) if time_major else (1, 0)
    for x in flat_in:
        if x.shape.ndims is not None and x.shape.ndims < 2:
            raise ValueError(f"dynamic_rnn: inputs must have rank >= 2 ([batch, time, ...]), "
                             f"got shape {x.shape}")
    steps = flat_in[0].shape[t_axis] if flat_in[0].shape.ndims else None
    if steps is None:  # control flow: an unknown number of time steps runs in a while loop
        return _dynamic_rnn_loop(cell, inputs, flat_in, sequence_length, initial_state, dtype,
                                 time_major, scope)
    with _scope(scope, "rnn") as vs:
        state = _initial_state(cell, initial_state, dtype, _batch_size(flat_in[0], b_axis))
        seq = _seq_length(sequence_length)
        layers = rnn_fused.fusable_layers(cell) if seq is None and len(flat_in) == 1 \
            and rnn_fused.supported_dtype(flat_in[0].dtype) else None
        if layers is not None:
            return _fused_lstm(cell, layers, flat_in[0], state, time_major)
        per_input = [array_ops.unstack(x, steps, axis=t_axis) for x in flat_in]
        outputs = []
        for t in range(steps):
            if t > 0:
                vs.reuse_variables()
            x_t = pack_as(inputs, [p[t] for p in per_input])
            out, state = _step(cell, x_t, state, t, seq)
            outputs.append(out)
        flat_out = [array_ops.stack([flatten(o)[k] for o in outputs], axis=t_axis)
                    for k in range(len(flatten(outputs[0])))]
        return pack_as(outputs[0], flat_out), state


def _dynamic_rnn_loop(cell: RNNCell, inputs: Any, flat_in: list, sequence_length: Any,
                      initial_state: Any, dtype: Any, time_major: bool, scope: Any) -> tuple:
    """dynamic_rnn over a time dimension unknown when the graph is built: the cell is traced
    once as the body of a ``While`` op over the time-major rows of the inputs (control flow,
    ``rillet.ops.control_flow_ops``); its variables are created in the graph as usual."""
    from rillet.ops.control_flow_ops import _build_loop
    from rillet.shapes import TensorShape
    with _scope(scope, "rnn"):
        b_axis = 1 if time_major else 0
        state = _initial_state(cell, initial_state, dtype, _batch_size(flat_in[0], b_axis))
        seq = _seq_length(sequence_length)
        rows = [x if time_major else array_ops.transpose(x, [1, 0] + list(range(2, x.shape.ndims)))
                for x in flat_in]
        init = [convert_to_tensor(0)] + [convert_to_tensor(s) for s in flatten(state)]
        invariants = [TensorShape([])] + [TensorShape([None] + s.shape.as_list()[1:])
                                          if s.shape.ndims else s.shape for s in init[1:]]

        traced: list = []  # the cell's output structure, seen when the body is traced

        def body(loop_vars: list, x_t: list) -> tuple:
            t, st = loop_vars[0], pack_as(state, loop_vars[1:])
            out, new_state = _step(cell, pack_as(inputs, x_t), st, t, seq)
            traced.append(out)
            return [t + 1] + flatten(new_state), flatten(out)
        final, outs = _build_loop(None, body, init, invariants, rows, None, "while")
        if not time_major:
            outs = [array_ops.transpose(o, [1, 0] + list(range(2, o.shape.ndims))) for o in outs]
        return pack_as(traced[0], outs), pack_as(state, final[1:])


def _cell_scope(cell: RNNCell, dtype: Any) -> Any:
    """What ``RNNCell.__call__`` does before ``call``: capture the cell's variable scope (same
    names as the unrolled graph) and enter it, reusing the variables once built."""
    if cell._scope is None:
        cell._capture_scope(None)
    if cell._dtype is None:
        cell._dtype = dtype
    return variable_scope(cell._scope, reuse=True if cell.built else cell._reuse)


def _fused_layer(cell: RNNCell, x: Any, state: Any, time_major: bool) -> tuple:
    with _cell_scope(cell, x.dtype):
        if not cell.built:
            cell.build(x.shape)
            cell.built = True
        c0, h0 = state
        out, c, h = rnn_fused.lstm_sequence(
            x, convert_to_tensor(cell._kernel), convert_to_tensor(cell._bias),
            convert_to_tensor(c0), convert_to_tensor(h0), cell._forget_bias, time_major)
    return out, LSTMStateTuple(c, h)


def _fused_lstm(cell: RNNCell, layers: list, x: Any, state: Any, time_major: bool) -> tuple:
    """dynamic_rnn of an LSTM cell (or a MultiRNNCell stack of them) as one fused op per
    layer (``rnn_fused``): the variables are those the unrolled graph creates."""
    if len(layers) == 1 and layers[0] is cell:
        return _fused_layer(cell, x, state, time_major)
    with _cell_scope(cell, x.dtype):
        if not cell.built:
            cell.build(x.shape)
            cell.built = True
        cur, new_states = x, []
        for i, layer in enumerate(layers):
            with variable_scope(f"cell_{i}"):
                cur, st = _fused_layer(layer, cur, state[i], time_major)
            new_states.append(st)
    return cur, tuple(new_states)


def _reverse_time(x: Any, lengths: Any, t_axis: int, b_axis: int) -> Any:
    if lengths is None:
        return array_ops.reverse(x, [t_axis])
    return array_ops.reverse_sequence(x, lengths, seq_axis=t_axis, batch_axis=b_axis)


def bidirectional_dynamic_rnn(cell_fw: RNNCell, cell_bw: RNNCell, inputs: Any,
                              sequence_length: Any = None, initial_state_fw: Any = None,
                              initial_state_bw: Any = None, dtype: Any = None,
                              parallel_iterations: Any = None, swap_memory: bool = False,
                              time_major: bool = False, scope: Any = None) -> tuple:
    """A forward and a backward ``dynamic_rnn`` (scopes ``bidirectional_rnn/fw`` and ``/bw``;
    the backward one reads each row reversed within its length).

    Returns ((output_fw, output_bw), (state_fw, state_bw))."""
    _check_cell(cell_fw, "cell_fw")
    _check_cell(cell_bw, "cell_bw")
    t_axis, b_axis = (0, 1) if time_major else (1, 0)
    with _scope(scope, "bidirectional_rnn"):
        with _scope("fw", "fw") as fw_scope:
            out_fw, state_fw = dynamic_rnn(cell_fw, inputs, sequence_length, initial_state_fw,
                                           dtype, time_major=time_major, scope=fw_scope)
        with _scope("bw", "bw") as bw_scope:
            rev = map_structure(lambda x: _reverse_time(convert_to_tensor(x), sequence_length,
                                                        t_axis, b_axis), inputs)
            tmp, state_bw = dynamic_rnn(cell_bw, rev, sequence_length, initial_state_bw,
                                        dtype, time_major=time_major, scope=bw_scope)
    out_bw = map_structure(lambda x: _reverse_time(x, sequence_length, t_axis, b_axis), tmp)
    return (out_fw, out_bw), (state_fw, state_bw)


def _reverse_list(seq: list, lengths: Any) -> list:
    if lengths is None:
        return list(reversed(seq))
    flat = [flatten(x) for x in seq]
    out_flat: list = [[] for _ in seq]
    for k in range(len(flat[0])):
        stacked = array_ops.stack([f[k] for f in flat], axis=0)  # [time, batch, ...]
        rev = array_ops.reverse_sequence(stacked, lengths, seq_axis=0, batch_axis=1)
        for t, r in enumerate(array_ops.unstack(rev, len(seq), axis=0)):
            out_flat[t].append(r)
    return [pack_as(x, f) for x, f in zip(seq, out_flat)]


def static_bidirectional_rnn(cell_fw: RNNCell, cell_bw: RNNCell, inputs: list,
                             initial_state_fw: Any = None, initial_state_bw: Any = None,
                             dtype: Any = None, sequence_length: Any = None,
                             scope: Any = None) -> tuple:
    """Forward and backward ``static_rnn`` over a list of inputs; each output is the
    concatenation [fw, bw] along the last axis.

    Returns (outputs, state_fw, state_bw)."""
    _check_cell(cell_fw, "cell_fw")
    _check_cell(cell_bw, "cell_bw")
    if not isinstance(inputs, list | tuple):
        raise TypeError("inputs must be a list")
    if not inputs:
        raise ValueError("inputs must not be empty")
    with _scope(scope, "bidirectional_rnn"):
        with _scope("fw", "fw") as fw_scope:
            out_fw, state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype,
                                          sequence_length, scope=fw_scope)
        with _scope("bw", "bw") as bw_scope:
            rev = _reverse_list(list(inputs), sequence_length)
            tmp, state_bw = static_rnn(cell_bw, rev, initial_state_bw, dtype, sequence_length,
                                       scope=bw_scope)
    out_bw = _reverse_list(tmp, sequence_length)
    outputs = [map_structure(lambda f, b: array_ops.concat([f, b], 1), fw, bw)
               for fw, bw in zip(out_fw, out_bw)]
    return outputs, state_fw, state_bw

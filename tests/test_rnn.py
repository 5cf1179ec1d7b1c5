"""Recurrent cells and RNN drivers: cell steps against NumPy references using the same weights,
sequence_length masking, variable names as TF 1.x makes them, wrappers and error paths."""

from __future__ import annotations

import numpy as np
import pytest

import rillet as rt

rnn_cell = rt.nn.rnn_cell
RNG = np.random.default_rng(0)


def sig(z):
    return 1 / (1 + np.exp(-z))


@pytest.fixture(autouse=True)
def fresh_graph():
    g = rt.Graph()
    with g.as_default():
        yield g


def _init_run(fetches, feed=None):
    with rt.Session() as s:
        s.run(rt.global_variables_initializer())
        return s.run(fetches, feed)


def _var_names():
    return [v.op.name for v in rt.global_variables()]


# --- single steps against NumPy ---------------------------------------------------------------
def test_basic_lstm_step_matches_numpy():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    c0, h0 = (RNG.standard_normal((3, 5)).astype(np.float32) for _ in range(2))
    cell = rnn_cell.BasicLSTMCell(5, forget_bias=0.5)
    out, st = cell(rt.constant(x), rnn_cell.LSTMStateTuple(rt.constant(c0), rt.constant(h0)))
    assert cell.state_size == (5, 5) and cell.output_size == 5
    k, b, o, c, h = _init_run([cell._kernel, cell._bias, out, st.c, st.h])
    assert k.shape == (9, 20) and b.shape == (20,)
    i, j, f, og = np.split(np.concatenate([x, h0], 1) @ k + b, 4, 1)
    c_ref = c0 * sig(f + 0.5) + sig(i) * np.tanh(j)
    h_ref = np.tanh(c_ref) * sig(og)
    np.testing.assert_allclose(c, c_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, h_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(o, h_ref, rtol=1e-5, atol=1e-6)


def test_lstm_cell_peepholes_clip_projection_matches_numpy():
    x = RNG.standard_normal((2, 3))
    c0, m0 = RNG.standard_normal((2, 4)) * 3, RNG.standard_normal((2, 2))
    cell = rnn_cell.LSTMCell(4, use_peepholes=True, cell_clip=0.7, num_proj=2, proj_clip=0.3,
                             forget_bias=1.0, initializer=rt.random_normal_initializer(seed=1))
    out, st = cell(rt.constant(x), (rt.constant(c0), rt.constant(m0)))
    assert cell.state_size == (4, 2) and cell.output_size == 2
    k, b, wf, wi, wo, p, o, c, m = _init_run([cell._kernel, cell._bias, cell._w_f_diag,
                                              cell._w_i_diag, cell._w_o_diag,
                                              cell._proj_kernel, out, st.c, st.h])
    i, j, f, og = np.split(np.concatenate([x, m0], 1) @ k + b, 4, 1)
    c_ref = np.clip(sig(f + 1 + wf * c0) * c0 + sig(i + wi * c0) * np.tanh(j), -0.7, 0.7)
    m_ref = np.clip((sig(og + wo * c_ref) * np.tanh(c_ref)) @ p, -0.3, 0.3)
    np.testing.assert_allclose(c, c_ref, rtol=1e-10)
    np.testing.assert_allclose(m, m_ref, rtol=1e-10)
    np.testing.assert_allclose(o, m_ref, rtol=1e-10)
    assert _var_names() == ["lstm_cell/kernel", "lstm_cell/bias", "lstm_cell/w_f_diag",
                            "lstm_cell/w_i_diag", "lstm_cell/w_o_diag",
                            "lstm_cell/projection/kernel"]


def test_gru_and_basic_rnn_steps_match_numpy():
    x, h0 = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 4))
    gru = rnn_cell.GRUCell(4)
    rnn = rnn_cell.BasicRNNCell(4, activation=rt.nn.relu)
    go, gs = gru(rt.constant(x), rt.constant(h0))
    ro, rs = rnn(rt.constant(x), rt.constant(h0))
    gk, gb, ck, cb, rk, rb, go, gs, ro, rs = _init_run(
        [gru._gate_kernel, gru._gate_bias, gru._candidate_kernel, gru._candidate_bias,
         rnn._kernel, rnn._bias, go, gs, ro, rs])
    np.testing.assert_array_equal(gb, np.ones(8))  # GRU gate bias starts at 1
    r, u = np.split(sig(np.concatenate([x, h0], 1) @ gk + gb), 2, 1)
    cand = np.tanh(np.concatenate([x, r * h0], 1) @ ck + cb)
    want = u * h0 + (1 - u) * cand
    np.testing.assert_allclose(go, want, rtol=1e-10)
    np.testing.assert_allclose(gs, want, rtol=1e-10)
    want = np.maximum(np.concatenate([x, h0], 1) @ rk + rb, 0)
    np.testing.assert_allclose(ro, want, rtol=1e-10)
    np.testing.assert_allclose(rs, want, rtol=1e-10)
    assert _var_names() == ["gru_cell/gates/kernel", "gru_cell/gates/bias",
                            "gru_cell/candidate/kernel", "gru_cell/candidate/bias",
                            "basic_rnn_cell/kernel", "basic_rnn_cell/bias"]


def test_state_is_tuple_false():
    cell = rnn_cell.BasicLSTMCell(3, state_is_tuple=False)
    assert cell.state_size == 6
    z = cell.zero_state(2, rt.float32)
    out, st = cell(rt.ones([2, 4]), z)
    assert z.shape.as_list() == [2, 6] and st.shape.as_list() == [2, 6]
    o, s = _init_run([out, st])
    np.testing.assert_allclose(s[:, 3:], o)


# --- dynamic_rnn ------------------------------------------------------------------------------
def _lstm_numpy(x, k, b, lengths, forget_bias=1.0):
    n, t_max, _ = x.shape
    u = k.shape[1] // 4
    c, h = np.zeros((n, u)), np.zeros((n, u))
    outs = []
    for t in range(t_max):
        i, j, f, o = np.split(np.concatenate([x[:, t], h], 1) @ k + b, 4, 1)
        nc = c * sig(f + forget_bias) + sig(i) * np.tanh(j)
        nh = np.tanh(nc) * sig(o)
        live = (t < lengths)[:, None]
        outs.append(np.where(live, nh, 0))
        c, h = np.where(live, nc, c), np.where(live, nh, h)
    return np.stack(outs, 1), c, h


def test_dynamic_rnn_sequence_length_masking():
    x = RNG.standard_normal((3, 5, 2))
    inp = rt.placeholder(rt.float64, [None, 5, 2])
    lengths = rt.placeholder(rt.int32, [None])
    cell = rnn_cell.BasicLSTMCell(4)
    out, st = rt.nn.dynamic_rnn(cell, inp, sequence_length=lengths, dtype=rt.float64)
    assert out.shape.as_list() == [None, 5, 4]
    assert st.c.shape.as_list() == [None, 4]
    assert _var_names() == ["rnn/basic_lstm_cell/kernel", "rnn/basic_lstm_cell/bias"]
    lens = np.array([5, 2, 0])
    o, c, h, k, b = _init_run([out, st.c, st.h, cell._kernel, cell._bias],
                              {inp: x, lengths: lens})
    o_ref, c_ref, h_ref = _lstm_numpy(x, k, b, lens)
    np.testing.assert_allclose(o, o_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c, c_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h, h_ref, rtol=1e-10, atol=1e-12)
    assert not o[1, 2:].any() and not o[2].any() and not c[2].any()


def test_dynamic_rnn_time_major_and_initial_state():
    x = RNG.standard_normal((4, 2, 3))  # [time, batch, depth]
    cell = rnn_cell.GRUCell(3)
    h0 = RNG.standard_normal((2, 3))
    out, st = rt.nn.dynamic_rnn(cell, rt.constant(x), initial_state=rt.constant(h0),
                                time_major=True)
    assert out.shape.as_list() == [4, 2, 3]
    steps = []
    h = rt.constant(h0)
    for t in range(4):
        o, h = cell(rt.constant(x[t]), h)
        steps.append(o)
    got, last, want = _init_run([out, st, steps])
    np.testing.assert_allclose(got, np.stack(want), rtol=1e-12)
    np.testing.assert_allclose(last, want[-1], rtol=1e-12)


def test_static_rnn_matches_dynamic_rnn_and_reuses_cell_weights():
    x = RNG.standard_normal((2, 3, 4))
    cell = rnn_cell.BasicRNNCell(3)
    d_out, d_st = rt.nn.dynamic_rnn(cell, rt.constant(x), dtype=rt.float64)
    s_out, s_st = rt.nn.static_rnn(cell, rt.unstack(rt.constant(x), 3, 1), dtype=rt.float64)
    assert len(rt.global_variables()) == 2
    d, ds, s, ss = _init_run([d_out, d_st, s_out, s_st])
    np.testing.assert_allclose(np.stack(s, 1), d, rtol=1e-12)
    np.testing.assert_allclose(ss, ds, rtol=1e-12)


def test_static_rnn_sequence_length():
    x = RNG.standard_normal((2, 3, 4))
    cell = rnn_cell.BasicLSTMCell(2)
    outs, st = rt.nn.static_rnn(cell, rt.unstack(rt.constant(x), 3, 1), dtype=rt.float64,
                                sequence_length=[3, 1])
    assert _var_names() == ["rnn/basic_lstm_cell/kernel", "rnn/basic_lstm_cell/bias"]
    o, c, h, k, b = _init_run([outs, st.c, st.h, cell._kernel, cell._bias])
    o_ref, c_ref, h_ref = _lstm_numpy(x, k, b, np.array([3, 1]))
    np.testing.assert_allclose(np.stack(o, 1), o_ref, rtol=1e-10)
    np.testing.assert_allclose(h, h_ref, rtol=1e-10)


def test_multi_rnn_cell_names_and_state():
    cells = rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(4), rnn_cell.BasicLSTMCell(3)])
    assert cells.state_size == ((4, 4), (3, 3)) and cells.output_size == 3
    x = rt.placeholder(rt.float32, [None, 6, 2])
    out, st = rt.nn.dynamic_rnn(cells, x, dtype=rt.float32)
    assert _var_names() == ["rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel",
                            "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias",
                            "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel",
                            "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias"]
    assert rt.global_variables()[2].shape.as_list() == [7, 12]
    assert isinstance(st[1], rnn_cell.LSTMStateTuple)
    o, h1 = _init_run([out, st[1].h], {x: np.ones((2, 6, 2), np.float32)})
    np.testing.assert_allclose(o[:, -1], h1)
    assert len(cells.trainable_variables) == 4


def test_bidirectional_dynamic_rnn():
    x = RNG.standard_normal((2, 4, 3))
    lens = np.array([4, 2])
    fw, bw = rnn_cell.BasicLSTMCell(2), rnn_cell.BasicLSTMCell(2)
    (of, ob), (sf, sb) = rt.nn.bidirectional_dynamic_rnn(fw, bw, rt.constant(x),
                                                         sequence_length=lens,
                                                         dtype=rt.float64)
    assert _var_names() == ["bidirectional_rnn/fw/basic_lstm_cell/kernel",
                            "bidirectional_rnn/fw/basic_lstm_cell/bias",
                            "bidirectional_rnn/bw/basic_lstm_cell/kernel",
                            "bidirectional_rnn/bw/basic_lstm_cell/bias"]
    ofv, obv, sbh, kb, bb = _init_run([of, ob, sb.h, bw._kernel, bw._bias])
    xr = x.copy()
    for i, n in enumerate(lens):
        xr[i, :n] = x[i, :n][::-1]
    o_ref, _, h_ref = _lstm_numpy(xr, kb, bb, lens)
    for i, n in enumerate(lens):
        o_ref[i, :n] = o_ref[i, :n][::-1]
    np.testing.assert_allclose(obv, o_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sbh, h_ref, rtol=1e-10)
    assert not ofv[1, 2:].any()


def test_static_bidirectional_rnn():
    x = [rt.constant(RNG.standard_normal((2, 3))) for _ in range(4)]
    outs, sf, sb = rt.nn.static_bidirectional_rnn(rnn_cell.GRUCell(2), rnn_cell.GRUCell(3), x,
                                                  dtype=rt.float64)
    assert len(outs) == 4 and outs[0].shape.as_list() == [2, 5]
    assert _var_names()[0] == "bidirectional_rnn/fw/gru_cell/gates/kernel"
    assert _var_names()[4] == "bidirectional_rnn/bw/gru_cell/gates/kernel"
    o, b = _init_run([outs, sb])
    np.testing.assert_allclose(o[0][:, 2:], b)  # the backward RNN ends at step 0


def test_zero_state_with_tensor_batch_size():
    cell = rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(2), rnn_cell.GRUCell(3)])
    x = rt.placeholder(rt.float32, [None, 5])
    z = cell.zero_state(rt.shape(x)[0], rt.float32)
    assert z[0].c.shape.as_list() == [None, 2] and z[1].shape.as_list() == [None, 3]
    v = _init_run(z, {x: np.zeros((4, 5), np.float32)})
    assert v[0].h.shape == (4, 2) and v[1].shape == (4, 3) and not v[1].any()


def test_gradients_through_dynamic_rnn():
    x = RNG.standard_normal((2, 3, 2))
    inp = rt.placeholder(rt.float64, [2, 3, 2])
    out, st = rt.nn.dynamic_rnn(rnn_cell.BasicLSTMCell(2), inp, sequence_length=[3, 2],
                                dtype=rt.float64)
    loss = rt.reduce_sum(out * out) + rt.reduce_sum(st.c)
    k = rt.trainable_variables()[0]
    gx, gk = rt.gradients(loss, [inp, k])
    with rt.Session() as s:
        s.run(rt.global_variables_initializer())
        gxv, gkv = s.run([gx, gk], {inp: x})
        eps, num = 1e-6, np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            xp, xm = x.copy(), x.copy()
            xp[idx] += eps
            xm[idx] -= eps
            num[idx] = (s.run(loss, {inp: xp}) - s.run(loss, {inp: xm})) / (2 * eps)
    np.testing.assert_allclose(gxv, num, rtol=1e-5, atol=1e-7)
    assert not gxv[1, 2].any()  # the masked step does not influence the loss
    assert gkv.shape == (4, 8) and np.isfinite(gkv).all()


# --- wrappers ---------------------------------------------------------------------------------
def test_dropout_wrapper():
    cell = rnn_cell.DropoutWrapper(rnn_cell.BasicLSTMCell(50), output_keep_prob=0.5,
                                   state_keep_prob=0.5, seed=1)
    x = rt.ones([20, 3])
    out, st = cell(x, cell.zero_state(20, rt.float32))
    assert _var_names() == ["basic_lstm_cell/kernel", "basic_lstm_cell/bias"]
    plain_c = rt.get_default_graph().get_tensor_by_name(st.c.name)
    o, c, h = _init_run([out, st.c, st.h])
    assert 0.3 < (o == 0).mean() < 0.7 and 0.3 < (h == 0).mean() < 0.7
    assert (c != 0).all()  # the memory c is never dropped (TF's default state filter)
    assert plain_c is st.c


def test_dropout_wrapper_keep_prob_placeholder_and_variational():
    kp = rt.placeholder_with_default(1.0, [])
    cell = rnn_cell.DropoutWrapper(rnn_cell.GRUCell(30), input_keep_prob=kp,
                                   output_keep_prob=kp, variational_recurrent=True,
                                   dtype=rt.float32)
    base = rnn_cell.GRUCell(30)
    x = rt.constant(RNG.standard_normal((8, 4, 3)).astype(np.float32))
    out, _ = rt.nn.dynamic_rnn(cell, x, dtype=rt.float32)
    with rt.Session() as s:
        s.run(rt.global_variables_initializer())
        full = s.run(out)
        dropped = s.run(out, {kp: 0.5})
    assert not (full == 0).any()
    zero = dropped == 0
    assert zero.any() and (zero == zero[:, :1]).all()  # one mask for all time steps
    assert base.output_size == 30


def test_dropout_wrapper_bad_keep_prob_and_residual():
    with pytest.raises(ValueError, match="Parameter output_keep_prob must be between 0 and 1"):
        rnn_cell.DropoutWrapper(rnn_cell.GRUCell(2), output_keep_prob=1.5)
    cell = rnn_cell.ResidualWrapper(rnn_cell.BasicRNNCell(3))
    x = RNG.standard_normal((2, 3))
    out, st = cell(rt.constant(x), rt.zeros([2, 3], rt.float64))
    o, s = _init_run([out, st])
    np.testing.assert_allclose(o, x + s)


# --- scopes, reuse and errors -----------------------------------------------------------------
def test_reuse_semantics():
    x = rt.placeholder(rt.float32, [None, 3, 2])
    rt.nn.dynamic_rnn(rnn_cell.BasicLSTMCell(2), x, dtype=rt.float32)
    with pytest.raises(ValueError, match="Variable rnn/basic_lstm_cell/kernel already exists"):
        rt.nn.dynamic_rnn(rnn_cell.BasicLSTMCell(2), x, dtype=rt.float32)
    with rt.variable_scope("m"):
        a, _ = rt.nn.dynamic_rnn(rnn_cell.GRUCell(2), x, dtype=rt.float32)
    with rt.variable_scope("m", reuse=True):
        b, _ = rt.nn.dynamic_rnn(rnn_cell.GRUCell(2), x, dtype=rt.float32)
    assert [n for n in _var_names() if n.startswith("m/")] == [
        "m/rnn/gru_cell/gates/kernel", "m/rnn/gru_cell/gates/bias",
        "m/rnn/gru_cell/candidate/kernel", "m/rnn/gru_cell/candidate/bias"]
    va, vb = _init_run([a, b], {x: np.ones((2, 3, 2), np.float32)})
    np.testing.assert_array_equal(va, vb)


def test_rnn_errors():
    cell = rnn_cell.BasicLSTMCell(2)
    # An unknown time dimension runs in a while loop: tests/test_control_flow.py.
    with pytest.raises(ValueError, match="If there is no initial_state, you must give a dtype"):
        rt.nn.dynamic_rnn(cell, rt.zeros([2, 3, 3]))
    with pytest.raises(TypeError, match="must be an instance of RNNCell"):
        rt.nn.dynamic_rnn(lambda x: x, rt.zeros([2, 3, 3]), dtype=rt.float32)
    with pytest.raises(TypeError, match="inputs must be a sequence"):
        rt.nn.static_rnn(cell, rt.zeros([2, 3]), dtype=rt.float32)
    with pytest.raises(ValueError, match="expected inputs.shape\\[-1\\] to be known"):
        rt.nn.static_rnn(cell, [rt.placeholder(rt.float32, [2, None])], dtype=rt.float32)
    with pytest.raises(ValueError, match="Must specify at least one cell"):
        rnn_cell.MultiRNNCell([])

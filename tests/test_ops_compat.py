"""TF 1.x gap ops: the COMPAT table of tests/op_table_compat.py run forward (vs NumPy),
backward (vs central differences) and eagerly, plus their error paths (messages as TF's)."""

from __future__ import annotations

import numpy as np
import pytest
from op_table import (
    check_eager,
    check_eager_grad,
    check_forward,
    check_grad,
    dtypes_of,
)
from op_table_compat import COMPAT

import rillet as rt
from rillet.ops import check_ops

FWD = [(c, dt) for c in COMPAT for dt in dtypes_of(c)]


@pytest.mark.parametrize("case,dtype", FWD, ids=[f"{c}-{np.dtype(d).name}" for c, d in FWD])
def test_forward(case, dtype):
    check_forward(case, dtype)
    check_forward(case, dtype, contiguous=False)


@pytest.mark.parametrize("case", [c for c in COMPAT if c.unknown], ids=str)
def test_unknown_batch(case):
    check_forward(case, np.float64, unknown=True)


@pytest.mark.parametrize("case", [c for c in COMPAT if c.scalar], ids=str)
def test_scalar_shape(case):
    check_forward(case, np.float64, scalar=True)


@pytest.mark.parametrize("case", [c for c in COMPAT if c.grad], ids=str)
def test_gradient(case):
    check_grad(case)
    if case.unknown:
        check_grad(case, unknown=True)


@pytest.mark.parametrize("case", COMPAT, ids=str)
def test_eager(case):
    check_eager(case)


@pytest.mark.parametrize("case", [c for c in COMPAT if c.grad], ids=str)
def test_eager_gradient(case):
    check_eager_grad(case)


# --- behaviour beyond the table ------------------------------------------------------------------
@pytest.fixture
def graph():
    g = rt.Graph()
    with g.as_default():
        yield g


def test_top_k_is_tfs_namedtuple(graph):
    out = rt.nn.top_k(rt.constant([[1.0, 3.0, 2.0]]), k=2)
    assert type(out).__name__ == "TopKV2" and out._fields == ("values", "indices")
    values, indices = out
    assert values is out.values and indices is out.indices
    assert rt.math.top_k is rt.nn.top_k
    with rt.Session() as sess:
        got = sess.run(out)
    assert type(got).__name__ == "TopKV2"
    np.testing.assert_array_equal(got.indices, [[1, 2]])


def test_zero_fraction_is_float32_scalar_named_like_tf(graph):
    z = rt.nn.zero_fraction(rt.constant([0, 1, 0, 0]))
    assert z.dtype == rt.float32 and z.shape.as_list() == []
    assert z.op.name == "zero_fraction/fraction"
    with rt.Session() as sess:
        assert sess.run(z) == 0.75


def test_norm_argument_errors(graph):
    x = rt.constant(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="'axis' must be None, an integer, or a tuple of 2"):
        rt.norm(x, axis=(0, 0))
    with pytest.raises(ValueError, match="'ord' must be a supported vector norm"):
        rt.norm(x, ord="fro", axis=1)
    with pytest.raises(ValueError, match="'ord' must be a supported vector norm"):
        rt.norm(x, ord=-1)
    with pytest.raises(ValueError, match="'ord' must be a supported matrix norm"):
        rt.norm(x, ord=3, axis=(0, 1))
    with pytest.raises(NotImplementedError, match="matrix 2-norm"):
        rt.norm(x, ord=2, axis=(0, 1))
    assert rt.norm(x, axis=0, keep_dims=True).shape.as_list() == [1, 3]
    assert rt.linalg.norm is rt.norm


def test_matrix_inverse_singular_and_shape_errors(graph):
    x = rt.placeholder(rt.float64, [None, 2, 2])
    inv = rt.matrix_inverse(x)
    assert rt.linalg.inv is rt.matrix_inverse and rt.linalg.det is rt.matrix_determinant
    with rt.Session() as sess:
        with pytest.raises(rt.errors.InvalidArgumentError, match="Input is not invertible"):
            sess.run(inv, {x: np.zeros((1, 2, 2))})
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
        rt.matrix_inverse(rt.zeros([2, 3]))
    with pytest.raises(ValueError, match="at least rank 2"):
        rt.linalg.det(rt.zeros([3]))
    with pytest.raises(TypeError, match="int32"):
        rt.matrix_inverse(rt.zeros([2, 2], rt.int32))


def test_assert_ops_raise_tfs_messages_at_run_time(graph):
    x = rt.placeholder(rt.float32, [None])
    with rt.control_dependencies([rt.assert_positive(x, message="x must be positive")]):
        y = rt.identity(x)
    eq = rt.assert_equal(rt.shape(x)[0], 3)
    with rt.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [1.0, 2.0]}), [1.0, 2.0])
        with pytest.raises(rt.errors.InvalidArgumentError) as e:
            sess.run(y, {x: [1.0, -2.0, 3.0, 4.0]})
        msg = e.value.message
        assert msg.startswith("assertion failed: [x must be positive] [Condition x > 0 did not "
                              "hold element-wise:] [x (Placeholder:0) = ] [1 -2 3...]"), msg
        assert "assert_positive/assert_less/Assert/Assert" in msg
        with pytest.raises(rt.errors.InvalidArgumentError,
                           match=r"Condition x == y did not hold element-wise:\] "
                                 r"\[x \(strided_slice:0\) = \] \[2\]"):
            sess.run(eq, {x: [1.0, 2.0]})
        sess.run(eq, {x: [1.0, 2.0, 3.0]})


def test_assert_equal_static_failure_raises_when_built(graph):
    with pytest.raises(rt.errors.InvalidArgumentError,
                       match=r"Condition x == y did not hold element-wise:\nx \(Const:0\) = "
                             r"\n\[1 2 3\]"):
        rt.assert_equal(rt.constant([1, 2, 3]), rt.constant([1, 2, 4]))
    assert isinstance(rt.assert_equal(rt.constant([1, 2]), [1, 2]), rt.Operation)


def test_assert_rank_type_scalar_static_checks(graph):
    x = rt.zeros([2, 3])
    assert rt.assert_rank(x, 2).type == "NoOp"
    with pytest.raises(ValueError, match="must have rank 3.  Received rank 2, shape"):
        rt.assert_rank(x, 3)
    with pytest.raises(ValueError, match="must have rank at least 3"):
        rt.assert_rank_at_least(x, 3)
    with pytest.raises(TypeError, match="must be of type"):
        rt.assert_type(x, rt.int32)
    with pytest.raises(TypeError, match="to be integer type"):
        rt.assert_integer(x)
    with pytest.raises(ValueError, match="Expected scalar shape"):
        rt.assert_scalar(x)
    assert rt.debugging.is_numeric_tensor(x)
    p = rt.placeholder(rt.float32)  # unknown rank: checked at run time
    check = rt.assert_rank(p, 2)
    with rt.Session() as sess:
        sess.run(check, {p: np.zeros((1, 1))})
        with pytest.raises(rt.errors.InvalidArgumentError, match="must have rank"):
            sess.run(check, {p: np.zeros(3)})


def test_assert_in_eager_mode_raises_immediately():
    with rt.eager_mode():
        assert rt.assert_positive(rt.constant([1.0, 2.0])) is None
        with pytest.raises(rt.errors.InvalidArgumentError,
                           match=r"Condition x > 0 did not hold element-wise:\] "
                                 r"\[x \(shape=\(2,\) dtype=float32\) = \] \[1 -2\]"):
            rt.debugging.assert_positive(rt.constant([1.0, -2.0]))


def test_tf_Assert_with_summarize(graph):
    x = rt.placeholder(rt.int32, [2, 3])
    a = rt.Assert(rt.reduce_all(x > 0), ["bad x:", x], summarize=4)
    with rt.Session() as sess:
        with pytest.raises(rt.errors.InvalidArgumentError,
                           match=r"^assertion failed: \[bad x:\] \[\[1 2 3\]\[4\.\.\.\]\.\.\.\]"):
            sess.run(a, {x: [[1, 2, 3], [4, 5, 0]]})
    with pytest.raises(TypeError, match="bool"):
        rt.Assert(x, ["x"])


def test_summarize_value_matches_tf_formatting():
    sv = check_ops.summarize_value
    assert sv(np.arange(12).reshape(3, 4), 3) == "[0 1 2...]..."
    assert sv(np.arange(6).reshape(2, 3), -1) == "[0 1 2][3 4 5]"
    assert sv(np.array([0.1, 1.0, 2.5e-8], np.float32), 3) == "0.1 1 2.5e-08"
    assert sv(np.array(True), 3) == "1"
    assert sv(np.array(b"text", dtype=object), 3) == "text"
    assert sv(np.arange(5), 3) == "0 1 2..."


def test_check_numerics_messages_and_gradient(graph):
    x = rt.placeholder(rt.float32, [None])
    y = rt.check_numerics(rt.log(x), "log(x)")
    g = rt.gradients(rt.sqrt(rt.check_numerics(x, "fwd")), x)[0]  # d sqrt(x) = inf at 0
    with rt.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {x: [1.0]}), [0.0])
        for v, status in (([0.0], "Inf"), ([-1.0], "NaN"), ([0.0, -1.0], "Inf and NaN")):
            with pytest.raises(rt.errors.InvalidArgumentError,
                               match=rf"^log\(x\) : Tensor had {status} values"):
                sess.run(y, {x: v})
        with pytest.raises(rt.errors.InvalidArgumentError,
                           match=r"Not a number \(NaN\) or infinity \(Inf\) values detected in "
                                 r"gradient\. fwd : Tensor had Inf values"):
            sess.run(g, {x: [0.0]})
        np.testing.assert_allclose(sess.run(g, {x: [4.0]}), [0.25])
    assert rt.verify_tensor_all_finite(x, "m").op.type == "CheckNumerics"
    with pytest.raises(TypeError, match="int32"):
        rt.check_numerics(rt.constant([1]), "ints")


def test_add_check_numerics_ops_finds_the_nan(graph):
    x = rt.placeholder(rt.float32, [2])
    y = rt.sqrt(x, name="root") * 2.0
    check = rt.add_check_numerics_ops()
    with rt.Session() as sess:
        sess.run([y, check], {x: [1.0, 4.0]})
        with pytest.raises(rt.errors.InvalidArgumentError, match="root:0 : Tensor had NaN"):
            sess.run([y, check], {x: [1.0, -4.0]})

"""Table of the TF 1.x gap ops (``rillet.ops.compat_ops``, ``linalg_extra``, ``check_ops``) in
the format of tests/op_table.py: ``zero_fraction``, ``top_k`` as a namedtuple, ``norm``, matrix
inverse / determinant / log-determinant / trace, ``check_numerics`` and the ``assert_*`` ops
(on a passing input, through ``control_dependencies``). References are NumPy.

``tests/test_ops_compat.py`` runs the cases (forward vs NumPy in float32/float64, unknown
batch dimension, gradients vs central differences, eager mode); ``covered_cases()`` tells the
registry-completeness test (tests/test_registry.py) which op types are covered. The stateful
ops of these modules (scatter updates, slice assignment) are tested in tests/test_tf1_gaps.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from op_table import Case, F, K

import rillet as rt
from rillet.ops import check_ops, compat_ops, linalg_extra


@dataclass
class M:
    """Well-conditioned square matrices of ``shape`` (``[..., n, n]``): uniform in [-1, 1]
    plus ``3 * I``."""
    shape: tuple = (3, 3)

    def make(self, rng: np.random.Generator, dtype: Any) -> np.ndarray:
        x = rng.uniform(-1, 1, self.shape) + 3 * np.eye(self.shape[-1])
        return x.astype(dtype)

    def scalar(self) -> M:
        return self


def _c(name: str, fn: Any, ref: Any, inputs: list, grad: Any = (0,), **kw: Any) -> Case:
    return Case(name, fn, ref, inputs, list(grad), family="compat", **kw)


def _zero_fraction_ref(x: np.ndarray) -> np.ndarray:
    return np.float32(np.mean(x == 0))


def _top_k_ref(x: np.ndarray, k: int) -> tuple:
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k].astype(np.int32)
    return np.take_along_axis(x, idx, -1), idx


def _guarded(x: Any) -> Any:
    """``x`` behind a set of passing checks (their ops run before the identity)."""
    checks = [check_ops.assert_positive(x), check_ops.assert_non_negative(x),
              check_ops.assert_equal(x, x), check_ops.assert_less(x, x + 1.0),
              check_ops.assert_less_equal(x, x), check_ops.assert_greater(x + 1.0, x),
              check_ops.assert_greater_equal(x, x), check_ops.assert_none_equal(x, x + 1.0),
              check_ops.assert_near(x, x * (1 + 1e-7), rtol=1e-6), check_ops.assert_rank(x, 2),
              check_ops.Assert(rt.reduce_all(x > 0), ["x is positive", x])]
    with rt.control_dependencies([c for c in checks if c is not None]):
        return rt.identity(x) * 2.0


def _guarded_negative(x: Any) -> Any:
    checks = [check_ops.assert_negative(x), check_ops.assert_non_positive(x)]
    with rt.control_dependencies([c for c in checks if c is not None]):
        return rt.identity(x) * 2.0


COMPAT: list[Case] = [
    # zero_fraction / top_k
    _c("zero_fraction", compat_ops.zero_fraction, _zero_fraction_ref,
       [K([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])], grad=(), scalar=True),
    _c("zero_fraction_int", compat_ops.zero_fraction, _zero_fraction_ref,
       [K(np.array([[0, 3, 0, 0]], np.int32))], grad=()),
    _c("top_k_namedtuple", lambda x: compat_ops.top_k(x, 2), lambda x: _top_k_ref(x, 2),
       [F((3, 5))], grad_fn=lambda x: compat_ops.top_k(x, 2).values),
    # norm
    _c("norm_euclidean_all", compat_ops.norm, lambda x: np.sqrt(np.sum(x * x)),
       [F((2, 3), away=0.0)], scalar=True),
    _c("norm_axis_keepdims", lambda x: compat_ops.norm(x, axis=1, keepdims=True),
       lambda x: np.linalg.norm(x, axis=1, keepdims=True), [F((2, 3), away=0.0)]),
    _c("norm_ord1", lambda x: compat_ops.norm(x, ord=1, axis=-1),
       lambda x: np.linalg.norm(x, ord=1, axis=-1), [F((2, 3), away=0.0)]),
    _c("norm_inf", lambda x: compat_ops.norm(x, ord=np.inf, axis=0),
       lambda x: np.linalg.norm(x, ord=np.inf, axis=0), [F((2, 3), away=0.0)]),
    _c("norm_p3", lambda x: compat_ops.norm(x, ord=3, axis=1),
       lambda x: np.linalg.norm(x, ord=3, axis=1), [F((2, 3), away=0.0)]),
    _c("norm_fro_matrix", lambda x: compat_ops.norm(x, ord="fro", axis=(-2, -1)),
       lambda x: np.linalg.norm(x, ord="fro", axis=(-2, -1)), [F((2, 3, 2), away=0.0)]),
    _c("norm_matrix_ord1", lambda x: compat_ops.norm(x, ord=1, axis=[0, 1]),
       lambda x: np.linalg.norm(x, ord=1, axis=(0, 1)), [F((3, 3), away=0.0)]),
    _c("norm_matrix_inf", lambda x: compat_ops.norm(x, ord=np.inf, axis=(0, 1)),
       lambda x: np.linalg.norm(x, ord=np.inf, axis=(0, 1)), [F((3, 3), away=0.0)]),
    # linalg
    _c("matrix_inverse", linalg_extra.matrix_inverse, np.linalg.inv, [M((3, 3))]),
    _c("matrix_inverse_batch", linalg_extra.matrix_inverse, np.linalg.inv, [M((2, 3, 3))]),
    _c("matrix_inverse_adjoint", lambda x: linalg_extra.matrix_inverse(x, adjoint=True),
       lambda x: np.linalg.inv(np.swapaxes(x, -1, -2)), [M((2, 3, 3))]),
    _c("matrix_determinant", linalg_extra.matrix_determinant, np.linalg.det, [M((2, 3, 3))]),
    _c("log_matrix_determinant", linalg_extra.log_matrix_determinant,
       lambda x: tuple(np.linalg.slogdet(x)), [M((2, 2, 2))],
       grad_fn=lambda x: linalg_extra.log_matrix_determinant(x)[1]),
    _c("trace", linalg_extra.trace, lambda x: np.trace(x, axis1=-2, axis2=-1), [F((2, 3, 3))]),
    # checks
    _c("check_numerics", lambda x: check_ops.check_numerics(x * 3.0, "x"), lambda x: x * 3,
       [F()], scalar=True),
    _c("assert_ops_pass", _guarded, lambda x: x * 2, [F((2, 3), 0.5, 2.0)]),
    _c("assert_sign_ops_pass", _guarded_negative, lambda x: x * 2, [F((2, 3), -2.0, -0.5)]),
]


def covered_cases() -> list[Case]:
    return COMPAT


# Modules whose ops this table covers (tests/test_registry.py imports every rillet.ops module).
MODULES = [check_ops, compat_ops, linalg_extra]

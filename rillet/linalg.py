"""``tf.linalg``: matrix functions (re-exports; the ops live in ``rillet.ops.linalg_extra``,
``rillet.ops.linalg_ops``, ``rillet.ops.math_ops`` and ``rillet.ops.compat_ops``)."""

from rillet.ops.array_ops import eye, matrix_transpose
from rillet.ops.compat_ops import norm
from rillet.ops.linalg_extra import det, inv, logdet, slogdet, trace
from rillet.ops.linalg_ops import einsum, tensordot
from rillet.ops.math_ops import matmul
from rillet.ops.nn_ops import l2_normalize

transpose = matrix_transpose

__all__ = ["det", "einsum", "eye", "inv", "l2_normalize", "logdet", "matmul",
           "matrix_transpose", "norm", "slogdet", "tensordot", "trace", "transpose"]

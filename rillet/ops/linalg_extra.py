"""Square-matrix ops of TF 1.x's ``tf.linalg``: ``matrix_inverse`` / ``linalg.inv``,
``matrix_determinant`` / ``linalg.det``, ``log_matrix_determinant`` / ``linalg.slogdet``
(batched over leading dimensions, with gradients), plus ``linalg.logdet`` and ``trace``.

Gradients (as TF's): with ``Y = inv(A)``, ``dA = -Y^T g Y^T``; ``d det(A) / dA =
det(A) inv(A)^T``; ``d log|det(A)| / dA = inv(A)^T``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet.errors import InvalidArgumentError
from rillet.ops import array_ops, math_ops
from rillet.registry import apply_op, convert_to_tensor, register
from rillet.shapes import TensorShape

_FLOATS = (_dt.float16, _dt.float32, _dt.float64, _dt.complex64, _dt.complex128)


def _square_shape(op: Any) -> TensorShape:
    x = op.inputs[0]
    if x.dtype not in _FLOATS:
        raise TypeError(f"Value passed to parameter 'input' has DataType {x.dtype.name} not in "
                        "list of allowed values: float64, float32, half, complex64, complex128")
    s = x.shape
    if s.ndims is not None:
        if s.ndims < 2:
            raise ValueError(f"Shape must be at least rank 2 but is rank {s.ndims}")
        m, n = s[-2], s[-1]
        if m is not None and n is not None and m != n:
            raise ValueError(f"Dimensions must be equal, but are {m} and {n}")
    return s


def _adjoint(xp: Any, x: Any) -> Any:
    return xp.conj(xp.swapaxes(x, -1, -2))


def _inverse_kernel(xp: Any, x: Any, *, adjoint: bool = False) -> Any:
    if adjoint:
        x = _adjoint(xp, x)
    try:
        return xp.linalg.inv(x).astype(x.dtype, copy=False)
    except np.linalg.LinAlgError:
        raise InvalidArgumentError(None, None, "Input is not invertible.") from None


def _inverse_grad(op: Any, g: Any) -> list:
    y = op.outputs[0]
    adj = bool(op.attrs.get("adjoint", False))
    inner = math_ops.matmul(g, y, transpose_a=adj, transpose_b=not adj)
    return [math_ops.negative(math_ops.matmul(y, inner, transpose_a=not adj))]


register("MatrixInverse", infer=lambda op: (op.inputs[0].dtype, _square_shape(op)),
         kernel=_inverse_kernel, grad=_inverse_grad)


def matrix_inverse(input: Any, adjoint: bool = False, name: str | None = None) -> Any:
    """The inverse of each square matrix ``input[..., :, :]`` (of its adjoint with
    ``adjoint=True``); raises ``InvalidArgumentError: Input is not invertible.`` at run time
    for a singular matrix."""
    return apply_op("MatrixInverse", (convert_to_tensor(input),), {"adjoint": bool(adjoint)},
                    name=name or "MatrixInverse")


def _batch_shape(op: Any) -> TensorShape:
    s = _square_shape(op)
    return TensorShape(None) if s.ndims is None else TensorShape(s.as_list()[:-2])


def _det_kernel(xp: Any, x: Any) -> Any:
    return xp.asarray(xp.linalg.det(x)).astype(x.dtype, copy=False)


def _expand2(t: Any) -> Any:
    return array_ops.expand_dims(array_ops.expand_dims(t, -1), -1)


def _det_grad(op: Any, g: Any) -> list:
    a, det = op.inputs[0], op.outputs[0]
    return [_expand2(g * det) * matrix_inverse(a, adjoint=True)]


register("MatrixDeterminant", infer=lambda op: (op.inputs[0].dtype, _batch_shape(op)),
         kernel=_det_kernel, grad=_det_grad)


def matrix_determinant(input: Any, name: str | None = None) -> Any:
    """The determinant of each square matrix ``input[..., :, :]`` (shape ``input.shape[:-2]``)."""
    return apply_op("MatrixDeterminant", (convert_to_tensor(input),),
                    name=name or "MatrixDeterminant")


def _slogdet_kernel(xp: Any, x: Any) -> tuple:
    sign, logdet = xp.linalg.slogdet(x)
    return (xp.asarray(sign).astype(x.dtype, copy=False),
            xp.asarray(logdet).astype(x.dtype, copy=False))


def _slogdet_grad(op: Any, g_sign: Any, g_logdet: Any) -> list:
    if g_logdet is None:
        return [None]
    return [_expand2(g_logdet) * matrix_inverse(op.inputs[0], adjoint=True)]


def _slogdet_infer(op: Any) -> list:
    s = _batch_shape(op)
    return [(op.inputs[0].dtype, s), (op.inputs[0].dtype, s)]


register("LogMatrixDeterminant", infer=_slogdet_infer, kernel=_slogdet_kernel,
         grad=_slogdet_grad)


def log_matrix_determinant(input: Any, name: str | None = None) -> tuple:
    """``(sign, log_abs_determinant)`` of each square matrix, as ``np.linalg.slogdet``."""
    return apply_op("LogMatrixDeterminant", (convert_to_tensor(input),),
                    name=name or "LogMatrixDeterminant")


def logdet(matrix: Any, name: str | None = None) -> Any:
    """``log(det(matrix))`` of Hermitian positive-definite matrices (``tf.linalg.logdet``)."""
    return log_matrix_determinant(matrix, name=name or "logdet")[1]


def trace(x: Any, name: str | None = None) -> Any:
    """The sum of the main diagonal of each matrix ``x[..., :, :]`` (``tf.trace``); the
    matrices' size must be known statically."""
    x = convert_to_tensor(x)
    n = x.shape[-1] if x.shape.ndims else None
    if n is None:
        n = x.shape[-2] if x.shape.ndims else None
    if n is None:
        raise ValueError(f"trace: the matrix size of {x.name if hasattr(x, 'op') else x} "
                         "must be known statically")
    eye = convert_to_tensor(np.eye(n, dtype=x.dtype.np))
    return math_ops.reduce_sum(x * eye, [-2, -1], name=name or "trace")


inv = matrix_inverse
det = matrix_determinant
slogdet = log_matrix_determinant

"""Fused, in-place optimizer update kernels (TensorFlow's ``training_ops``).

Each ``Apply*`` op takes the gradient and the hyper-parameters as tensor inputs and names the
variable and its slot variables in attrs (the ``VariableV2`` op names). When run it updates the
Session's arrays in ``ctx.vars`` in place with NumPy ``out=`` arithmetic: no copy of the
variable is made, only a few scratch buffers of the gradient's size, which are kept per op and
reused across steps. The ops have no outputs and no gradient. The formulas (and the order of
floating-point operations) follow TensorFlow's kernels in ``training_ops.cc``.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from rillet.errors import InvalidArgumentError
from rillet.ops import _parallel
from rillet.ops.state_ops import read_var
from rillet.registry import NOT_DIFFERENTIABLE, apply_op, register

__all__ = [
    "apply_gradient_descent", "apply_momentum", "apply_adagrad", "apply_rms_prop",
    "apply_centered_rms_prop", "apply_adam", "apply_adamw", "apply_radam", "apply_adadelta",
]


# --- helpers -------------------------------------------------------------------------------
def _scratch(ctx: Any, n: int, like: Any, tag: str = "") -> list:
    """``n`` scratch arrays shaped like ``like``, cached per op (and thread, and ``tag``) and
    reused across steps."""
    key = ("training_ops.scratch", ctx.op.name, threading.get_ident(), tag)
    bufs = ctx.resources.get(key)
    if bufs is None or len(bufs) < n or bufs[0].shape != like.shape \
            or bufs[0].dtype != like.dtype:
        bufs = [ctx.xp.empty_like(like) for _ in range(max(n, 2))]
        ctx.resources[key] = bufs
    return bufs[:n]


def _vars(ctx: Any, grad: Any, *names: str) -> list:
    """The arrays of the named variables, checked against the gradient's shape."""
    arrays = [read_var(ctx, n) for n in names]
    var = arrays[0]
    if np.shape(grad) != var.shape:
        raise InvalidArgumentError(
            None, None, f"var and grad do not have the same shape{list(var.shape)} "
            f"{list(np.shape(grad))}")
    for n, a in zip(names[1:], arrays[1:]):
        if a.shape != var.shape:
            raise InvalidArgumentError(
                None, None, f"var and {n} do not have the same shape{list(var.shape)} "
                f"{list(a.shape)}")
    return arrays


def _scalar(x: Any) -> Any:
    """A 0-d input as a scalar of its dtype (NumPy); other array modules keep 0-d arrays."""
    return x[()] if isinstance(x, np.ndarray) else x


def _infer(n_hyper: int) -> Any:
    """Inference for an apply op: a gradient matching the variable, scalar hyper-parameters."""
    def infer(op: Any) -> list:
        grad = op.inputs[0]
        shape, dtype = op.attrs["_var_shape"], op.attrs["_var_dtype"]
        if grad.dtype is not dtype:
            raise TypeError(f"Input 'grad' of '{op.type}' Op has type {grad.dtype.name} that "
                            f"does not match type {dtype.name} of argument 'var'")
        if not shape.is_compatible_with(grad.shape):
            raise ValueError(f"Shapes must be equal rank, but are {shape} and {grad.shape}"
                             if shape.ndims != grad.shape.ndims else
                             f"var and grad do not have the same shape {shape} vs {grad.shape}")
        for t in op.inputs[1:1 + n_hyper]:
            if t.shape.ndims not in (None, 0):
                raise ValueError(f"hyper-parameter {t.name} must be a scalar, got shape "
                                 f"{t.shape}")
        return []
    return infer


def _register(op_type: str, kernel: Any, n_hyper: int) -> None:
    register(op_type, infer=_infer(n_hyper), kernel=kernel, grad=NOT_DIFFERENTIABLE,
             stateful=True, needs_ctx=True, mutates=True)


def _apply(op_type: str, var: Any, slots: dict, inputs: tuple, attrs: dict | None = None,
           name: str | None = None) -> Any:
    a = {"var": var.op.name, "_var_shape": var.shape, "_var_dtype": var.dtype}
    a.update({k: v.op.name for k, v in slots.items()})
    a.update(attrs or {})
    return apply_op(op_type, inputs, a, name=name or op_type)


# --- gradient descent ----------------------------------------------------------------------
def _gd_kernel(ctx: Any, grad: Any, lr: Any, *, var: str) -> None:
    xp = ctx.xp
    (v,) = _vars(ctx, grad, var)
    (t,) = _scratch(ctx, 1, v)
    xp.multiply(grad, _scalar(lr), out=t)
    xp.subtract(v, t, out=v)


_register("ApplyGradientDescent", _gd_kernel, 1)


def apply_gradient_descent(var: Any, alpha: Any, delta: Any, use_locking: bool = False,
                           name: str | None = None) -> Any:
    """``var -= alpha * delta`` in place."""
    return _apply("ApplyGradientDescent", var, {}, (delta, alpha), name=name)


# --- momentum ------------------------------------------------------------------------------
def _momentum_kernel(ctx: Any, grad: Any, lr: Any, momentum: Any, *, var: str, accum: str,
                     use_nesterov: bool = False) -> None:
    xp = ctx.xp
    v, a = _vars(ctx, grad, var, accum)
    lr, mu = _scalar(lr), _scalar(momentum)
    t1, t2 = _scratch(ctx, 2, v)
    xp.multiply(a, mu, out=a)          # accum = accum * momentum + grad
    xp.add(a, grad, out=a)
    if use_nesterov:                   # var -= grad * lr + accum * momentum * lr
        xp.multiply(grad, lr, out=t1)
        xp.multiply(a, mu, out=t2)
        xp.multiply(t2, lr, out=t2)
        xp.add(t1, t2, out=t1)
    else:                              # var -= lr * accum
        xp.multiply(a, lr, out=t1)
    xp.subtract(v, t1, out=v)


_register("ApplyMomentum", _momentum_kernel, 2)


def apply_momentum(var: Any, accum: Any, lr: Any, grad: Any, momentum: Any,
                   use_locking: bool = False, use_nesterov: bool = False,
                   name: str | None = None) -> Any:
    return _apply("ApplyMomentum", var, {"accum": accum}, (grad, lr, momentum),
                  {"use_nesterov": bool(use_nesterov)}, name)


# --- adagrad -------------------------------------------------------------------------------
def _adagrad_kernel(ctx: Any, grad: Any, lr: Any, *, var: str, accum: str) -> None:
    xp = ctx.xp
    v, a = _vars(ctx, grad, var, accum)
    t1, t2 = _scratch(ctx, 2, v)
    xp.multiply(grad, grad, out=t1)    # accum += grad^2
    xp.add(a, t1, out=a)
    xp.sqrt(a, out=t2)                 # var -= grad * lr / sqrt(accum)
    xp.multiply(grad, _scalar(lr), out=t1)
    xp.divide(t1, t2, out=t1)
    xp.subtract(v, t1, out=v)


_register("ApplyAdagrad", _adagrad_kernel, 1)


def apply_adagrad(var: Any, accum: Any, lr: Any, grad: Any, use_locking: bool = False,
                  name: str | None = None) -> Any:
    return _apply("ApplyAdagrad", var, {"accum": accum}, (grad, lr), name=name)


# --- adadelta ------------------------------------------------------------------------------
def _adadelta_kernel(ctx: Any, grad: Any, lr: Any, rho: Any, epsilon: Any, *, var: str,
                     accum: str, accum_update: str) -> None:
    xp = ctx.xp
    v, a, au = _vars(ctx, grad, var, accum, accum_update)
    lr, rho, eps = _scalar(lr), _scalar(rho), _scalar(epsilon)
    t1, t2 = _scratch(ctx, 2, v)
    xp.multiply(a, rho, out=a)         # accum = accum * rho + grad^2 * (1 - rho)
    xp.multiply(grad, grad, out=t1)
    xp.multiply(t1, 1 - rho, out=t1)
    xp.add(a, t1, out=a)
    xp.add(au, eps, out=t1)            # update = sqrt(accum_update + eps) / sqrt(accum + eps)
    xp.sqrt(t1, out=t1)                #          * grad
    xp.add(a, eps, out=t2)
    xp.sqrt(t2, out=t2)
    xp.divide(t1, t2, out=t1)
    xp.multiply(t1, grad, out=t1)
    xp.multiply(au, rho, out=au)       # accum_update = accum_update * rho + update^2 * (1-rho)
    xp.multiply(t1, t1, out=t2)
    xp.multiply(t2, 1 - rho, out=t2)
    xp.add(au, t2, out=au)
    xp.multiply(t1, lr, out=t1)        # var -= update * lr
    xp.subtract(v, t1, out=v)


_register("ApplyAdadelta", _adadelta_kernel, 3)


def apply_adadelta(var: Any, accum: Any, accum_update: Any, lr: Any, rho: Any, epsilon: Any,
                   grad: Any, use_locking: bool = False, name: str | None = None) -> Any:
    return _apply("ApplyAdadelta", var, {"accum": accum, "accum_update": accum_update},
                  (grad, lr, rho, epsilon), name=name)


# --- RMSProp -------------------------------------------------------------------------------
def _rmsprop_kernel(ctx: Any, grad: Any, lr: Any, rho: Any, momentum: Any, epsilon: Any, *,
                    var: str, ms: str, mom: str) -> None:
    xp = ctx.xp
    v, s, m = _vars(ctx, grad, var, ms, mom)
    lr, rho, mu, eps = _scalar(lr), _scalar(rho), _scalar(momentum), _scalar(epsilon)
    t1, t2 = _scratch(ctx, 2, v)
    xp.multiply(grad, grad, out=t1)    # ms += (grad^2 - ms) * (1 - rho)
    xp.subtract(t1, s, out=t1)
    xp.multiply(t1, 1 - rho, out=t1)
    xp.add(s, t1, out=s)
    xp.add(s, eps, out=t2)             # mom = mom * momentum + grad * lr / sqrt(ms + eps)
    xp.sqrt(t2, out=t2)
    xp.multiply(grad, lr, out=t1)
    xp.divide(t1, t2, out=t1)
    xp.multiply(m, mu, out=m)
    xp.add(m, t1, out=m)
    xp.subtract(v, m, out=v)           # var -= mom


_register("ApplyRMSProp", _rmsprop_kernel, 4)


def _centered_rmsprop_kernel(ctx: Any, grad: Any, lr: Any, rho: Any, momentum: Any,
                             epsilon: Any, *, var: str, mg: str, ms: str, mom: str) -> None:
    xp = ctx.xp
    v, g_avg, s, m = _vars(ctx, grad, var, mg, ms, mom)
    lr, rho, mu, eps = _scalar(lr), _scalar(rho), _scalar(momentum), _scalar(epsilon)
    t1, t2 = _scratch(ctx, 2, v)
    xp.multiply(grad, grad, out=t1)    # ms += (grad^2 - ms) * (1 - rho)
    xp.subtract(t1, s, out=t1)
    xp.multiply(t1, 1 - rho, out=t1)
    xp.add(s, t1, out=s)
    xp.subtract(grad, g_avg, out=t1)   # mg += (grad - mg) * (1 - rho)
    xp.multiply(t1, 1 - rho, out=t1)
    xp.add(g_avg, t1, out=g_avg)
    xp.multiply(g_avg, g_avg, out=t2)  # denom = ms - mg^2 + eps
    xp.subtract(s, t2, out=t2)
    xp.add(t2, eps, out=t2)
    xp.sqrt(t2, out=t2)                # mom = mom * momentum + grad * lr / sqrt(denom)
    xp.multiply(grad, lr, out=t1)
    xp.divide(t1, t2, out=t1)
    xp.multiply(m, mu, out=m)
    xp.add(m, t1, out=m)
    xp.subtract(v, m, out=v)           # var -= mom


_register("ApplyCenteredRMSProp", _centered_rmsprop_kernel, 4)


def apply_rms_prop(var: Any, ms: Any, mom: Any, lr: Any, rho: Any, momentum: Any,
                   epsilon: Any, grad: Any, use_locking: bool = False,
                   name: str | None = None) -> Any:
    return _apply("ApplyRMSProp", var, {"ms": ms, "mom": mom},
                  (grad, lr, rho, momentum, epsilon), name=name)


def apply_centered_rms_prop(var: Any, mg: Any, ms: Any, mom: Any, lr: Any, rho: Any,
                            momentum: Any, epsilon: Any, grad: Any, use_locking: bool = False,
                            name: str | None = None) -> Any:
    return _apply("ApplyCenteredRMSProp", var, {"mg": mg, "ms": ms, "mom": mom},
                  (grad, lr, rho, momentum, epsilon), name=name)


# --- Adam / AdamW --------------------------------------------------------------------------
# Elements per block of the blocked elementwise updates: the update's ~12 passes then run over
# blocks of var, m, v, grad and two scratch buffers that stay in the L2 cache, instead of
# streaming whole arrays larger than the cache from memory 12 times (fc1 of the LeNet CNN,
# 3.2M floats: about 20% faster). Smaller arrays are updated in one block.
_BLOCK = 1 << 15


def _adam_update(ctx: Any, grad: Any, v: Any, m: Any, vv: Any, lr: Any, b1p: Any, b2p: Any,
                 b1: Any, b2: Any, eps: Any) -> None:
    xp = ctx.xp
    lr, b1p, b2p = _scalar(lr), _scalar(b1p), _scalar(b2p)
    b1, b2, eps = _scalar(b1), _scalar(b2), _scalar(eps)
    alpha = lr * xp.sqrt(1 - b2p) / (1 - b1p)
    c1, c2 = 1 - b1, 1 - b2
    n = v.size
    if xp is np and n >= 4 * _BLOCK and v.flags.c_contiguous and m.flags.c_contiguous \
            and vv.flags.c_contiguous:
        # Blocks run on rillet's intra-op threads (each with its own two scratch blocks).
        bufs = _scratch(ctx, 2 * _parallel.num_threads(), np.empty(_BLOCK, v.dtype), "block")
        g = np.ascontiguousarray(grad).reshape(-1)
        fv, fm, fvv = v.reshape(-1), m.reshape(-1), vv.reshape(-1)

        def run(i: int, wid: int) -> None:
            s = i * _BLOCK
            e = min(n, s + _BLOCK)
            k = e - s
            _adam_block(xp, g[s:e], fv[s:e], fm[s:e], fvv[s:e], bufs[2 * wid][:k],
                        bufs[2 * wid + 1][:k], alpha, c1, c2, eps)

        _parallel.run_blocks(run, -(-n // _BLOCK), len(bufs) // 2)
        return
    t1, t2 = _scratch(ctx, 2, v)
    _adam_block(xp, grad, v, m, vv, t1, t2, alpha, c1, c2, eps)


def _adam_block(xp: Any, grad: Any, v: Any, m: Any, vv: Any, t1: Any, t2: Any, alpha: Any,
                c1: Any, c2: Any, eps: Any) -> None:
    xp.subtract(grad, m, out=t1)       # m += (grad - m) * (1 - beta1)
    xp.multiply(t1, c1, out=t1)
    xp.add(m, t1, out=m)
    xp.multiply(grad, grad, out=t1)    # v += (grad^2 - v) * (1 - beta2)
    xp.subtract(t1, vv, out=t1)
    xp.multiply(t1, c2, out=t1)
    xp.add(vv, t1, out=vv)
    xp.sqrt(vv, out=t2)                # var -= m * alpha / (sqrt(v) + eps)
    xp.add(t2, eps, out=t2)
    xp.multiply(m, alpha, out=t1)
    xp.divide(t1, t2, out=t1)
    xp.subtract(v, t1, out=v)


def _adam_kernel(ctx: Any, grad: Any, lr: Any, beta1_power: Any, beta2_power: Any,
                 beta1: Any, beta2: Any, epsilon: Any, *, var: str, m: str, v: str) -> None:
    var_a, m_a, v_a = _vars(ctx, grad, var, m, v)
    _adam_update(ctx, grad, var_a, m_a, v_a, lr, beta1_power, beta2_power, beta1, beta2,
                 epsilon)


_register("ApplyAdam", _adam_kernel, 6)


def _adamw_kernel(ctx: Any, grad: Any, lr: Any, beta1_power: Any, beta2_power: Any,
                  beta1: Any, beta2: Any, epsilon: Any, weight_decay: Any, *, var: str,
                  m: str, v: str) -> None:
    xp = ctx.xp
    var_a, m_a, v_a = _vars(ctx, grad, var, m, v)
    (t1,) = _scratch(ctx, 1, var_a)
    xp.multiply(var_a, _scalar(weight_decay), out=t1)   # var -= weight_decay * var
    xp.subtract(var_a, t1, out=var_a)
    _adam_update(ctx, grad, var_a, m_a, v_a, lr, beta1_power, beta2_power, beta1, beta2,
                 epsilon)


_register("ApplyAdamW", _adamw_kernel, 7)


def apply_adam(var: Any, m: Any, v: Any, beta1_power: Any, beta2_power: Any, lr: Any,
               beta1: Any, beta2: Any, epsilon: Any, grad: Any, use_locking: bool = False,
               use_nesterov: bool = False, name: str | None = None) -> Any:
    if use_nesterov:
        raise NotImplementedError("ApplyAdam with use_nesterov=True is not supported")
    return _apply("ApplyAdam", var, {"m": m, "v": v},
                  (grad, lr, beta1_power, beta2_power, beta1, beta2, epsilon), name=name)


def apply_adamw(var: Any, m: Any, v: Any, beta1_power: Any, beta2_power: Any, lr: Any,
                beta1: Any, beta2: Any, epsilon: Any, weight_decay: Any, grad: Any,
                use_locking: bool = False, name: str | None = None) -> Any:
    """Decoupled weight decay (``var -= weight_decay * var``) followed by the Adam step."""
    return _apply("ApplyAdamW", var, {"m": m, "v": v},
                  (grad, lr, beta1_power, beta2_power, beta1, beta2, epsilon, weight_decay),
                  name=name)


# --- RAdam ---------------------------------------------------------------------------------
def _radam_kernel(ctx: Any, grad: Any, lr: Any, step: Any, beta1: Any, beta2: Any,
                  epsilon: Any, *, var: str, m: str, v: str, sma_threshold: float) -> None:
    xp = ctx.xp
    var_a, m_a, v_a = _vars(ctx, grad, var, m, v)
    t1, t2 = _scratch(ctx, 2, var_a)
    t = float(_scalar(step))
    b1, b2 = float(_scalar(beta1)), float(_scalar(beta2))
    lr, eps = float(_scalar(lr)), float(_scalar(epsilon))
    b1p, b2p = b1 ** t, b2 ** t
    xp.subtract(grad, m_a, out=t1)     # m += (grad - m) * (1 - beta1)
    xp.multiply(t1, 1 - b1, out=t1)
    xp.add(m_a, t1, out=m_a)
    xp.multiply(grad, grad, out=t1)    # v += (grad^2 - v) * (1 - beta2)
    xp.subtract(t1, v_a, out=t1)
    xp.multiply(t1, 1 - b2, out=t1)
    xp.add(v_a, t1, out=v_a)
    sma_inf = 2.0 / (1.0 - b2) - 1.0
    sma_t = sma_inf - 2.0 * t * b2p / (1.0 - b2p)
    xp.multiply(m_a, 1.0 / (1.0 - b1p), out=t1)        # m_hat
    if sma_t >= sma_threshold:
        r_t = math.sqrt((sma_t - 4.0) / (sma_inf - 4.0) * (sma_t - 2.0) / (sma_inf - 2.0)
                        * sma_inf / sma_t)
        xp.multiply(v_a, 1.0 / (1.0 - b2p), out=t2)    # v_hat = sqrt(v / (1 - beta2^t))
        xp.sqrt(t2, out=t2)
        xp.add(t2, eps, out=t2)
        xp.divide(t1, t2, out=t1)
        xp.multiply(t1, lr * r_t, out=t1)
    else:
        xp.multiply(t1, lr, out=t1)
    xp.subtract(var_a, t1, out=var_a)


_register("ApplyRAdam", _radam_kernel, 5)


def apply_radam(var: Any, m: Any, v: Any, lr: Any, step: Any, beta1: Any, beta2: Any,
                epsilon: Any, grad: Any, sma_threshold: float = 5.0,
                name: str | None = None) -> Any:
    """Rectified Adam (Liu et al. 2019, as in TensorFlow Addons' ``RectifiedAdam``)."""
    return _apply("ApplyRAdam", var, {"m": m, "v": v},
                  (grad, lr, step, beta1, beta2, epsilon),
                  {"sma_threshold": float(sma_threshold)}, name)

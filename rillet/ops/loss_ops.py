"""Sampled losses for large output vocabularies: candidate samplers, ``nce_loss`` and
``sampled_softmax_loss`` (TF 1.x ``tf.nn`` semantics and argument order)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rillet import dtypes as _dt
from rillet import errors
from rillet.graph import get_default_graph
from rillet.ops import array_ops, math_ops, nn_ops
from rillet.ops.random_ops import get_seed
from rillet.registry import NOT_DIFFERENTIABLE, apply_op, convert_to_tensor, register
from rillet.shapes import TensorShape

_FLT_MAX = float(np.finfo(np.float32).max)


# --- candidate samplers -----------------------------------------------------------------------


def _sampler_infer(op: Any) -> list:
    t = op.inputs[0]
    if t.dtype is not _dt.int64:
        raise TypeError(f"true_classes must be int64, got {t.dtype.name}")
    nt, ns = op.attrs["num_true"], op.attrs["num_sampled"]
    if t.shape.ndims is not None and t.shape.ndims != 2:
        raise ValueError(f"true_classes must be a matrix [batch_size, num_true], got shape "
                         f"{t.shape}")
    if t.shape.ndims == 2 and t.shape[1] is not None and t.shape[1] != nt:
        raise ValueError(f"true_classes has {t.shape[1]} columns but num_true is {nt}")
    batch = t.shape[0] if t.shape.ndims else None
    return [(_dt.int64, TensorShape([ns])), (_dt.float32, TensorShape([batch, nt])),
            (_dt.float32, TensorShape([ns]))]


def _probs(c: np.ndarray, dist: str, range_max: int) -> np.ndarray:
    if dist == "uniform":
        return np.full(c.shape, 1.0 / range_max)
    c = c.astype(np.float64)
    return (np.log(c + 2) - np.log(c + 1)) / np.log(range_max + 1)


def _draw(rng: Any, n: int, dist: str, range_max: int) -> np.ndarray:
    if dist == "uniform":
        return rng.integers(0, range_max, n).astype(np.int64)
    v = np.floor(np.exp(rng.random(n) * np.log(range_max + 1))).astype(np.int64) - 1
    return np.clip(v, 0, range_max - 1)


def _expected(p: np.ndarray, num_sampled: int, num_tries: int) -> np.ndarray:
    if num_tries == num_sampled:
        return p * num_sampled
    return -np.expm1(num_tries * np.log1p(-p))


def _sampler_kernel(ctx: Any, true_classes: Any, *, num_true: int, num_sampled: int,
                    unique: bool, range_max: int, distribution: str, **_: Any) -> tuple:
    rng = ctx.rng()
    if unique:
        if num_sampled > range_max:
            raise errors.InvalidArgumentError(
                None, None, f"Sampler's range ({range_max}) is too small to draw "
                            f"{num_sampled} unique samples")
        draws = np.zeros([0], np.int64)
        while True:  # draw in batches until num_sampled distinct values appeared
            draws = np.concatenate([draws, _draw(rng, max(2 * num_sampled, 64), distribution,
                                                 range_max)])
            _, first = np.unique(draws, return_index=True)
            if first.size >= num_sampled:
                order = np.sort(first)[:num_sampled]
                sampled, tries = draws[order], int(order[-1]) + 1
                break
    else:
        sampled, tries = _draw(rng, num_sampled, distribution, range_max), num_sampled
    tc = np.asarray(true_classes, dtype=np.int64)
    true_exp = _expected(_probs(tc, distribution, range_max), num_sampled, tries)
    samp_exp = _expected(_probs(sampled, distribution, range_max), num_sampled, tries)
    return sampled, true_exp.astype(np.float32), samp_exp.astype(np.float32)


for _op_type in ("LogUniformCandidateSampler", "UniformCandidateSampler"):
    register(_op_type, infer=_sampler_infer, kernel=_sampler_kernel, stateful=True,
             needs_ctx=True, grad=NOT_DIFFERENTIABLE)


def _sampler(op_type: str, dist: str, true_classes: Any, num_true: int, num_sampled: int,
             unique: bool, range_max: int, seed: int | None, name: str | None) -> tuple:
    if range_max < 1:
        raise ValueError(f"range_max must be positive, got {range_max}")
    s1, s2 = get_seed(seed)
    tc = math_ops.cast(convert_to_tensor(true_classes, dtype_hint=_dt.int64), _dt.int64)
    return apply_op(op_type, (tc,), {"num_true": int(num_true), "num_sampled": int(num_sampled),
                                     "unique": bool(unique), "range_max": int(range_max),
                                     "distribution": dist, "seed": s1, "seed2": s2},
                    name=name)


def log_uniform_candidate_sampler(true_classes: Any, num_true: int, num_sampled: int,
                                  unique: bool, range_max: int, seed: int | None = None,
                                  name: str | None = None) -> tuple:
    """Samples classes with P(c) = log((c + 2) / (c + 1)) / log(range_max + 1) (Zipfian).

    Returns (sampled_candidates int64 [num_sampled], true_expected_count float32
    [batch, num_true], sampled_expected_count float32 [num_sampled]); with ``unique`` the
    samples are distinct and the expected counts account for the rejected draws."""
    return _sampler("LogUniformCandidateSampler", "log_uniform", true_classes, num_true,
                    num_sampled, unique, range_max, seed, name)


def uniform_candidate_sampler(true_classes: Any, num_true: int, num_sampled: int,
                              unique: bool, range_max: int, seed: int | None = None,
                              name: str | None = None) -> tuple:
    """Like ``log_uniform_candidate_sampler`` with P(c) = 1 / range_max."""
    return _sampler("UniformCandidateSampler", "uniform", true_classes, num_true, num_sampled,
                    unique, range_max, seed, name)


# --- accidental hits --------------------------------------------------------------------------


def _hits(true_classes: Any, sampled: Any) -> Any:
    return (true_classes[:, :, None] == sampled[None, None, :]).any(axis=1)  # [batch, S]


register("AccidentalHitsMask",
         infer=lambda op: (op.attrs["dtype"], TensorShape(
             [op.inputs[0].shape[0] if op.inputs[0].shape.ndims else None,
              op.inputs[1].shape[0] if op.inputs[1].shape.ndims else None])),
         kernel=lambda xp, tc, s, *, dtype: xp.where(_hits(tc, s), -_FLT_MAX, 0).astype(
             dtype.np),
         grad=NOT_DIFFERENTIABLE)


def _compute_hits(xp: Any, tc: Any, s: Any) -> tuple:
    r, _, c = xp.nonzero(tc[:, :, None] == s[None, None, :])
    return (r.astype(np.int32), c.astype(np.int64),
            xp.full(r.shape, -_FLT_MAX, dtype=np.float32))


register("ComputeAccidentalHits",
         infer=lambda op: [(_dt.int32, TensorShape([None])), (_dt.int64, TensorShape([None])),
                           (_dt.float32, TensorShape([None]))],
         kernel=lambda xp, tc, s, *, num_true: _compute_hits(xp, tc, s),
         grad=NOT_DIFFERENTIABLE)


def compute_accidental_hits(true_classes: Any, sampled_candidates: Any, num_true: int,
                            seed: int | None = None, name: str | None = None) -> tuple:
    """(indices int32, ids int64, weights float32): row ``indices[k]`` of true_classes has a
    true class equal to sampled candidate number ``ids[k]``; weights are -FLT_MAX (to add to
    those logits)."""
    tc = math_ops.cast(convert_to_tensor(true_classes), _dt.int64)
    s = math_ops.cast(convert_to_tensor(sampled_candidates), _dt.int64)
    return apply_op("ComputeAccidentalHits", (tc, s), {"num_true": int(num_true)}, name=name)


# --- sampled logits, nce and sampled softmax --------------------------------------------------


def _compute_sampled_logits(weights: Any, biases: Any, labels: Any, inputs: Any,
                            num_sampled: int, num_classes: int, num_true: int = 1,
                            sampled_values: Any = None, subtract_log_q: bool = True,
                            remove_accidental_hits: bool = False,
                            partition_strategy: str = "mod", name: str | None = None,
                            seed: int | None = None) -> tuple:
    """(logits [batch, num_true + num_sampled], labels of the same shape) for the true and the
    sampled classes: logit = inputs . w_c + b_c - log(expected count of c)."""
    x = convert_to_tensor(inputs)
    dt = x.dtype
    lab = math_ops.cast(convert_to_tensor(labels), _dt.int64)
    if lab.shape.ndims == 1:
        lab = array_ops.reshape(lab, [-1, num_true])
    labels_flat = array_ops.reshape(lab, [-1])
    if sampled_values is None:
        sampled_values = log_uniform_candidate_sampler(lab, num_true, num_sampled, True,
                                                       num_classes, seed=seed)
    sampled, true_exp, samp_exp = (array_ops.stop_gradient(convert_to_tensor(v))
                                   for v in sampled_values)
    sampled = math_ops.cast(sampled, _dt.int64)
    w_flat, (i_true, i_samp) = nn_ops.flat_params(weights, [labels_flat, sampled],
                                                  partition_strategy)
    b_flat, (j_true, j_samp) = nn_ops.flat_params(biases, [labels_flat, sampled],
                                                  partition_strategy)
    dim = x.shape[-1] if x.shape.ndims else None
    if dim is None:
        dim = w_flat.shape[-1] if w_flat.shape.ndims else None
    if dim is None:
        raise ValueError("sampled losses: the input dimension must be known statically")
    true_w = array_ops.reshape(array_ops.gather(w_flat, i_true), [-1, num_true, int(dim)])
    sampled_w = array_ops.gather(w_flat, i_samp)  # [num_sampled, dim]
    true_logits = math_ops.reduce_sum(array_ops.expand_dims(x, 1) * true_w, -1)
    true_logits = true_logits + array_ops.reshape(array_ops.gather(b_flat, j_true),
                                                  [-1, num_true])
    sampled_logits = math_ops.matmul(x, sampled_w, transpose_b=True) + \
        array_ops.gather(b_flat, j_samp)
    if remove_accidental_hits:
        sampled_logits = sampled_logits + apply_op("AccidentalHitsMask", (lab, sampled),
                                                   {"dtype": dt})
    if subtract_log_q:
        true_logits = true_logits - math_ops.log(math_ops.cast(true_exp, dt))
        sampled_logits = sampled_logits - math_ops.log(math_ops.cast(samp_exp, dt))
    out_logits = array_ops.concat([true_logits, sampled_logits], 1)
    out_labels = array_ops.concat([math_ops.ones_like(true_logits) / num_true,
                                   math_ops.zeros_like(sampled_logits)], 1)
    return out_logits, out_labels


def nce_loss(weights: Any, biases: Any, labels: Any, inputs: Any, num_sampled: int,
             num_classes: int, num_true: int = 1, sampled_values: Any = None,
             remove_accidental_hits: bool = False, partition_strategy: str = "mod",
             name: str = "nce_loss") -> Any:
    """Noise-contrastive estimation loss per example, [batch].

    weights [num_classes, dim] (or a list of partitions), biases [num_classes], labels int
    [batch, num_true], inputs [batch, dim]; negatives are drawn by the log-uniform sampler
    unless ``sampled_values`` (a sampler's result) is given."""
    with get_default_graph().name_scope(name or "nce_loss"):
        logits, labels_ = _compute_sampled_logits(
            weights, biases, labels, inputs, num_sampled, num_classes, num_true,
            sampled_values, True, remove_accidental_hits, partition_strategy)
        losses = nn_ops.sigmoid_cross_entropy_with_logits(labels=labels_, logits=logits,
                                                          name="sampled_losses")
        return math_ops.reduce_sum(losses, 1)


def sampled_softmax_loss(weights: Any, biases: Any, labels: Any, inputs: Any,
                         num_sampled: int, num_classes: int, num_true: int = 1,
                         sampled_values: Any = None, remove_accidental_hits: bool = True,
                         partition_strategy: str = "mod", name: str = "sampled_softmax_loss",
                         seed: int | None = None) -> Any:
    """Softmax cross-entropy over the true and ``num_sampled`` sampled classes, [batch]
    (same arguments as ``nce_loss``; accidental hits are removed by default)."""
    with get_default_graph().name_scope(name or "sampled_softmax_loss"):
        logits, labels_ = _compute_sampled_logits(
            weights, biases, labels, inputs, num_sampled, num_classes, num_true,
            sampled_values, True, remove_accidental_hits, partition_strategy, seed=seed)
        return nn_ops.softmax_cross_entropy_with_logits_v2(
            labels=array_ops.stop_gradient(labels_), logits=logits)

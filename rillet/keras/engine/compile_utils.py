"""What ``compile`` sets up: the per-output losses (combined into one tensor, in either mode) and
the metric objects with the running means ``fit`` reports."""

from __future__ import annotations

from typing import Any

import numpy as np

import rillet as rt
from rillet import metrics as metrics_mod
from rillet.keras import losses as losses_mod


class _FnLoss(losses_mod.Loss):
    """A per-sample loss function averaged over the batch."""

    def __init__(self, fn: Any):
        super().__init__(name=getattr(fn, "__name__", "loss"))
        self._user_fn = fn

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return self._user_fn(y_true, y_pred)


def _per_output(spec: Any, names: list[str], what: str) -> list:
    """Spreads ``spec`` (one value, a list or a dict by output name) over the outputs."""
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(f"Unknown entries in {what} dictionary: {sorted(unknown)}. Only "
                             f"expected following keys: {names}")
        return [spec.get(n) for n in names]
    if isinstance(spec, list | tuple) and what == "loss":
        if len(spec) != len(names):
            raise ValueError(f"When passing a list as loss, it should have one entry per model "
                             f"outputs. The model has {len(names)} outputs, but you passed "
                             f"loss={list(spec)}")
        return list(spec)
    return [spec] * len(names)


class CompiledLoss:
    """Per-output losses, their weights and the model's regularization losses."""

    def __init__(self, loss: Any, loss_weights: Any, output_names: list[str]):
        self.output_names = output_names
        self.specs = _per_output(loss, output_names, "loss")
        self.fns = [None if s is None else self._wrap(losses_mod.get(s)) for s in self.specs]
        if all(f is None for f in self.fns):
            raise ValueError("The model cannot be compiled because it has no loss to optimize.")
        w = _per_output(loss_weights, output_names, "loss_weights") \
            if loss_weights is not None else [1.0] * len(output_names)
        if isinstance(loss_weights, list | tuple):
            w = list(loss_weights)
        self.weights = [1.0 if x is None else float(x) for x in w]

    @staticmethod
    def _wrap(fn: Any) -> losses_mod.Loss:
        return fn if isinstance(fn, losses_mod.Loss) else _FnLoss(fn)

    def names(self) -> list[str]:
        return [losses_mod.name_of(s) if s is not None else "" for s in self.specs]

    def __call__(self, ys: list, preds: list, sample_weight: Any = None,
                 regularization: list | None = None) -> tuple[Any, list]:
        """(total loss, per-output losses) as tensors."""
        per_output, terms = [], []
        for fn, w, y, p in zip(self.fns, self.weights, ys, preds):
            if fn is None:
                continue
            value = fn(y, p, sample_weight)
            per_output.append(value)
            terms.append(value if w == 1.0 else value * w)
        terms.extend(regularization or [])
        total = terms[0] if len(terms) == 1 else rt.add_n(terms)
        return total, per_output


class MetricsTracker:
    """Running loss means and metric objects for one ``fit``/``evaluate`` pass."""

    def __init__(self, metrics: Any, compiled_loss: CompiledLoss, output_shapes: list):
        names = compiled_loss.output_names
        self.multi = len(names) > 1
        loss_names = compiled_loss.names()
        per_out = _per_output(metrics, names, "metrics") if metrics is not None else \
            [[] for _ in names]
        if isinstance(metrics, list | tuple) and metrics and \
                all(isinstance(m, list | tuple) for m in metrics):
            per_out = list(metrics)
        self.metrics: list[list] = []
        for i, ms in enumerate(per_out):
            ms = [] if ms is None else ms if isinstance(ms, list | tuple) else [ms]
            self.metrics.append([metrics_mod.get(m, loss_names[i], output_shapes[i])
                                 for m in ms])
        self.loss = metrics_mod.Mean("loss")
        self.output_losses = [metrics_mod.Mean(f"{n}_loss") for n, f in
                              zip(names, compiled_loss.fns) if f is not None] \
            if self.multi else []
        self._prefixes = [f"{n}_" if self.multi else "" for n in names]
        self.needs_predictions = any(self.metrics)

    @property
    def names(self) -> list[str]:
        out = ["loss"] + [m.name for m in self.output_losses]
        for prefix, ms in zip(self._prefixes, self.metrics):
            out += [prefix + m.name for m in ms]
        return out

    def reset(self) -> None:
        self.loss.reset_states()
        for m in self.output_losses:
            m.reset_states()
        for ms in self.metrics:
            for m in ms:
                m.reset_states()

    def update(self, loss: float, out_losses: list, n: int, ys: list | None,
               preds: list | None, sample_weight: Any = None) -> None:
        self.loss.update_mean(loss, n)
        for m, v in zip(self.output_losses, out_losses):
            m.update_mean(v, n)
        if preds is not None and ys is not None:
            for ms, y, p in zip(self.metrics, ys, preds):
                for m in ms:
                    m.update_state(y, p, sample_weight)

    def logs(self) -> dict[str, float]:
        out = {"loss": float(self.loss.result())}
        for m in self.output_losses:
            out[m.name] = float(m.result())
        for prefix, ms in zip(self._prefixes, self.metrics):
            for m in ms:
                r = m.result()
                out[prefix + m.name] = float(r) if np.ndim(r) == 0 else r
        return out

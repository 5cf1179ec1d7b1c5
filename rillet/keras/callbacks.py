"""Callbacks for ``fit``/``evaluate``/``predict``: hooks at train/epoch/batch begin and end.

Only callbacks that override a batch hook are called per batch, so epoch-level callbacks cost
nothing inside the training loop."""

from __future__ import annotations

import csv
import math
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
                "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end",
                "on_batch_begin", "on_batch_end")


class Callback:
    """Base class; ``self.model`` and ``self.params`` are set before training starts."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_predict_begin(self, logs: dict | None = None) -> None: ...
    def on_predict_end(self, logs: dict | None = None) -> None: ...
    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    def _overrides(self, hook: str) -> bool:
        return getattr(type(self), hook) is not getattr(Callback, hook)


class CallbackList:
    """Dispatches hooks to callbacks; tracks which ones need per-batch calls."""

    def __init__(self, callbacks: list | None, model: Any, params: dict):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)

        def users(*hooks: str) -> list:
            return [cb for cb in self.callbacks if any(cb._overrides(h) for h in hooks)]
        self._train_batch = users("on_train_batch_begin", "on_train_batch_end",
                                  "on_batch_begin", "on_batch_end")
        self._test_batch = users("on_test_batch_begin", "on_test_batch_end")
        self._predict_batch = users("on_predict_batch_begin", "on_predict_batch_end")
        self.needs_train_batch = bool(self._train_batch)
        self.needs_test_batch = bool(self._test_batch)
        self.needs_predict_batch = bool(self._predict_batch)

    def _call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._call("on_train_begin", logs)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._call("on_epoch_end", epoch, logs)

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._call("on_test_begin", logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._call("on_predict_end", logs)

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        for cb in self._train_batch:
            cb.on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        for cb in self._train_batch:
            cb.on_train_batch_end(batch, logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        for cb in self._test_batch:
            cb.on_test_batch_begin(batch, logs)

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        for cb in self._test_batch:
            cb.on_test_batch_end(batch, logs)

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        for cb in self._predict_batch:
            cb.on_predict_batch_begin(batch, logs)

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        for cb in self._predict_batch:
            cb.on_predict_batch_end(batch, logs)


class History(Callback):
    """Records the epoch logs: ``history.history["loss"]`` is one value per epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.epoch: list[int] = []
        self.history: dict[str, list] = {}

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


def _fmt(logs: dict) -> dict[str, str]:
    return {k: f"{v:.4g}" for k, v in logs.items() if np.ndim(v) == 0}


class ProgbarLogger(Callback):
    """A ``tqdm.auto`` bar per epoch with the running loss and metrics (``verbose=1``), or one
    line per epoch (``verbose=2``). Added by ``fit``/``evaluate`` when ``verbose > 0``."""

    def __init__(self, verbose: int = 1, mode: str = "train", refresh_secs: float = 0.1):
        super().__init__()
        self.verbose, self.mode, self.refresh_secs = verbose, mode, refresh_secs
        self._bar: Any = None
        self._last = 0.0
        self._epoch = 0
        self._t0 = 0.0

    def _open(self, desc: str) -> None:
        self._t0 = time.perf_counter()
        if self.verbose != 1:
            return
        from tqdm.auto import tqdm
        self._bar = tqdm(total=self.params.get("steps"), desc=desc, unit="step",
                         leave=True, dynamic_ncols=True)

    def _update(self, logs: dict | None) -> None:
        if self._bar is None:
            return
        self._bar.update(1)
        now = time.perf_counter()
        if logs and now - self._last >= self.refresh_secs:
            self._last = now
            self._bar.set_postfix(_fmt(logs), refresh=False)

    def _close(self, logs: dict | None, label: str) -> None:
        if self._bar is not None:
            self._bar.set_postfix(_fmt(logs or {}), refresh=False)
            self._bar.close()
            self._bar = None
        elif self.verbose == 2:
            secs = time.perf_counter() - self._t0
            items = " - ".join(f"{k}: {v}" for k, v in _fmt(logs or {}).items())
            print(f"{label} - {secs:.1f}s - {items}", flush=True)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch
        self._open(f"Epoch {epoch + 1}/{self.params.get('epochs', 1)}")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._update(logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._close(logs, f"Epoch {epoch + 1}/{self.params.get('epochs', 1)}")

    def on_test_begin(self, logs: dict | None = None) -> None:
        if self.mode == "test":
            self._open("Evaluate")

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.mode == "test":
            self._update(logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        if self.mode == "test":
            self._close(logs, "Evaluate")

    def on_predict_begin(self, logs: dict | None = None) -> None:
        if self.mode == "predict":
            self._open("Predict")

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.mode == "predict":
            self._update(None)

    def on_predict_end(self, logs: dict | None = None) -> None:
        if self.mode == "predict":
            self._close(None, "Predict")


def _monitor_op(mode: str, monitor: str) -> tuple[Callable, float]:
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"Mode {mode} is unknown, fallback to auto mode.", stacklevel=3)
        mode = "auto"
    if mode == "max" or (mode == "auto" and ("acc" in monitor or monitor.startswith("fmeasure")
                                             or "auc" in monitor)):
        return np.greater, -np.inf
    return np.less, np.inf


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved by ``min_delta`` for ``patience``
    epochs; optionally restores the best weights."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False):
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.monitor_op, _ = _monitor_op(mode, monitor)
        self.min_delta = abs(min_delta) if self.monitor_op is np.greater else -abs(min_delta)
        self.stopped_epoch = 0
        self.best_weights: Any = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self.baseline if self.baseline is not None else \
            (-np.inf if self.monitor_op is np.greater else np.inf)
        self.best_weights = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs or {})}",
                          stacklevel=2)
            return
        if self.monitor_op(current - self.min_delta, self.best):
            self.best, self.wait = current, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose > 0:
                    print("Restoring model weights from the end of the best epoch.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class ModelCheckpoint(Callback):
    """Saves the weights (safetensors) after each epoch, or only when ``monitor`` improves.
    ``filepath`` may contain ``{epoch:02d}`` and log keys such as ``{val_loss:.2f}``."""

    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = True,
                 mode: str = "auto", save_freq: Any = "epoch", period: int = 1):
        super().__init__()
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only, self.period = save_best_only, period
        self.monitor_op, self.best = _monitor_op(mode, monitor)
        self._since = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        self._since += 1
        if self._since < self.period:
            return
        self._since = 0
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, "
                              "skipping.", stacklevel=2)
                return
            if not self.monitor_op(current, self.best):
                return
            if self.verbose > 0:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
        self.model.save_weights(path)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` stops improving."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0):
        super().__init__()
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0.")
        self.monitor, self.factor, self.patience = monitor, factor, patience
        self.verbose, self.min_delta, self.cooldown, self.min_lr = verbose, min_delta, \
            cooldown, min_lr
        self.monitor_op, _ = _monitor_op(mode, monitor)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait = self.cooldown_counter = 0
        self.best = -np.inf if self.monitor_op is np.greater else np.inf

    def _improved(self, current: float) -> bool:
        if self.monitor_op is np.greater:
            return current > self.best + self.min_delta
        return current < self.best - self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs if logs is not None else {}
        logs["lr"] = self.model.optimizer.learning_rate
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` "
                          f"which is not available. Available metrics are: {','.join(logs)}",
                          stacklevel=2)
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = self.model.optimizer.learning_rate
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose > 0:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Sets the learning rate at each epoch start to ``schedule(epoch[, lr])``."""

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        opt = self.model.optimizer
        try:
            lr = self.schedule(epoch, opt.learning_rate)
        except TypeError:
            lr = self.schedule(epoch)
        if not isinstance(lr, int | float | np.floating):
            raise ValueError('The output of the "schedule" function should be float.')
        opt.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["lr"] = self.model.optimizer.learning_rate


class CSVLogger(Callback):
    """Streams the epoch logs to a CSV file (``epoch`` column first)."""

    def __init__(self, filename: str, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self._file: Any = None
        self._writer: Any = None
        self._keys: list[str] | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        exists = self.append and os.path.exists(self.filename) and \
            os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self._writer = None
        self._keys = None
        self._header_done = exists

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self._keys],
                                          delimiter=self.sep)
            if not self._header_done:
                self._writer.writeheader()
        row = {"epoch": epoch, **{k: logs.get(k, "NA") for k in self._keys}}
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, on_epoch_begin: Callable | None = None,
                 on_epoch_end: Callable | None = None, on_batch_begin: Callable | None = None,
                 on_batch_end: Callable | None = None, on_train_begin: Callable | None = None,
                 on_train_end: Callable | None = None, **kwargs: Any):
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_batch_begin": on_batch_begin, "on_batch_end": on_batch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end, **kwargs}
        self._hooks = {k: v for k, v in hooks.items() if v is not None}
        for name, fn in self._hooks.items():
            setattr(self, name, fn)

    def _overrides(self, hook: str) -> bool:
        return hook in self._hooks


class TerminateOnNaN(Callback):
    """Stops training when the loss becomes NaN or infinite."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class TensorBoard(Callback):
    """Writes the epoch logs (and, every ``histogram_freq`` epochs, weight histograms) as
    TensorBoard event files under ``log_dir/train`` and ``log_dir/validation``; in graph mode
    ``write_graph`` also writes the model's graph. Needs ``rillet.summary`` (tensorboard)."""

    def __init__(self, log_dir: str = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 update_freq: Any = "epoch", **kwargs: Any):
        super().__init__()
        self.log_dir, self.histogram_freq = os.fspath(log_dir), histogram_freq
        self.write_graph, self.update_freq = write_graph, update_freq
        self._writers: dict[str, Any] = {}
        self._step = 0

    def _writer(self, name: str) -> Any:
        w = self._writers.get(name)
        if w is None:
            from rillet.summary import FileWriter
            w = self._writers[name] = FileWriter(os.path.join(self.log_dir, name))
        return w

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._step = 0
        if self.write_graph:
            weights = self.model.weights
            if weights and not hasattr(weights[0], "numpy"):  # graph mode: the model's graph
                self._writer("train").add_graph(weights[0].graph)

    def _scalars(self, name: str, values: dict, step: int) -> None:
        from rillet.summary.protos import scalar_summary
        w = self._writer(name)
        for k, v in values.items():
            if np.ndim(v) == 0:
                w.add_summary(scalar_summary(k, float(v)), step)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._step += 1
        if isinstance(self.update_freq, int) and self._step % self.update_freq == 0:
            self._scalars("train", {f"batch_{k}": v for k, v in (logs or {}).items()},
                          self._step)

    def _overrides(self, hook: str) -> bool:
        if hook in ("on_train_batch_end", "on_batch_end"):
            return isinstance(self.update_freq, int)
        return super()._overrides(hook)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        train = {f"epoch_{k}": v for k, v in logs.items() if not k.startswith("val_")}
        val = {f"epoch_{k[4:]}": v for k, v in logs.items() if k.startswith("val_")}
        self._scalars("train", train, epoch)
        if val:
            self._scalars("validation", val, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            from rillet.summary.protos import histogram_summary
            w = self._writer("train")
            for var, value in zip(self.model.weights, self.model.get_weights()):
                tag = getattr(var, "name", "weight").split(":")[0]
                w.add_summary(histogram_summary(tag, value), epoch)
        for w in self._writers.values():
            w.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        for w in self._writers.values():
            w.close()
        self._writers = {}

"""``compile`` / ``fit`` / ``evaluate`` / ``predict`` and weight files, as a mixin of ``Model``.

The loops here are mode-agnostic: a runner (``runners.GraphRunner`` or ``EagerRunner``) does one
batch; metrics and losses are aggregated in NumPy; callbacks see Keras' logs."""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from rillet import context
from rillet.keras import backend
from rillet.keras import callbacks as cbks
from rillet.keras import optimizers as optimizers_mod
from rillet.keras.engine import nest
from rillet.keras.engine.compile_utils import CompiledLoss, MetricsTracker
from rillet.keras.engine.data_adapter import DataHandler, as_list, train_validation_split
from rillet.keras.engine.runners import EagerRunner, GraphRunner


def _validate_names(loss: Any, metrics: Any) -> None:
    """Unknown loss or metric names fail at ``compile``, not at the first ``fit``."""
    from rillet.keras import losses as losses_mod
    from rillet.metrics import keras_metrics
    for item in nest.flatten(loss):
        if isinstance(item, str):
            losses_mod.get(item)
    for item in nest.flatten(metrics):
        if isinstance(item, str):
            keras_metrics.get(item)


class Trainer:
    """Training methods of ``Model`` (see the module docstring)."""

    optimizer: Any = None
    compiled_loss: Any = None
    stop_training: bool = False

    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                loss_weights: Any = None, sample_weight_mode: Any = None,
                weighted_metrics: Any = None, run_eagerly: bool | None = None,
                **kwargs: Any) -> None:
        """Sets the optimizer (name or object), loss(es) and metrics used by ``fit``."""
        if kwargs:
            raise TypeError(f"Invalid keyword argument(s) in `compile`: {sorted(kwargs)}")
        opt = optimizers_mod.get(optimizer)
        if loss is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        _validate_names(loss, metrics)
        self.optimizer = opt
        self._compile_args = (loss, metrics, loss_weights)
        self._run_eagerly = run_eagerly
        self.compiled_loss = None
        self._tracker = None
        self._runner = None
        self._runner_mode = None
        if self._output_names_known():
            self._finish_compile()

    def _output_names_known(self) -> bool:
        return bool(getattr(self, "outputs", None)) or self.built

    def _output_names(self) -> list[str]:
        names = getattr(self, "output_names", None)
        if names:
            return list(names)
        shapes = self._output_shapes
        n = len(nest.flatten(shapes)) if isinstance(shapes, list | tuple) and shapes and \
            isinstance(shapes[0], tuple | list) else 1
        return [f"output_{i + 1}" for i in range(n)]

    def _finish_compile(self) -> None:
        loss, metrics, loss_weights = self._compile_args
        names = self._output_names()
        self.compiled_loss = CompiledLoss(loss, loss_weights, names)
        shapes = self._flat_output_shapes(len(names))
        self._tracker = MetricsTracker(metrics, self.compiled_loss, shapes)

    def _flat_output_shapes(self, n: int) -> list:
        shapes = self._output_shapes
        if shapes is None:
            return [None] * n
        if n == 1:
            return [shapes if not (isinstance(shapes, list) and len(shapes) == 1) else shapes[0]]
        return list(shapes)

    def _assert_compiled(self, what: str) -> None:
        if self.optimizer is None:
            raise RuntimeError(f"You must compile your model before {what}. Use "
                               "`model.compile(optimizer, loss)`.")

    @property
    def metrics_names(self) -> list[str]:
        return self._tracker.names if getattr(self, "_tracker", None) else ["loss"]

    @property
    def metrics(self) -> list:
        if not getattr(self, "_tracker", None):
            return []
        t = self._tracker
        return [t.loss, *t.output_losses, *[m for ms in t.metrics for m in ms]]

    def reset_metrics(self) -> None:
        if getattr(self, "_tracker", None):
            self._tracker.reset()

    # --- runners -----------------------------------------------------------------------------
    def _get_runner(self, handler: DataHandler) -> tuple[Any, Any]:
        eager = context.executing_eagerly()
        mode = "eager" if eager else "graph"
        if getattr(self, "_runner", None) is None or self._runner_mode != mode:
            self._runner = EagerRunner(self) if eager else GraphRunner(self)
            self._runner_mode = mode
        session = self._runner.prepare(handler.x_spec, handler.y_spec)
        if self.compiled_loss is None and self.optimizer is not None:
            self._build_for(handler)
            self._finish_compile()
        return self._runner, session

    def _build_for(self, handler: DataHandler) -> None:
        """Builds a deferred model by calling it on placeholders of the data's shapes, so the
        number of outputs and their shapes are known before losses are set up."""
        if self.built and self._output_shapes is not None:
            return
        runner = self._runner
        if isinstance(runner, GraphRunner):
            xs, _, _ = runner._placeholders
            with runner.graph.as_default():
                self(xs[0] if len(xs) == 1 else xs)
        else:
            example = [np.zeros((1, *s[1:]), dtype=d) for s, d in handler.x_spec]
            self(example[0] if len(example) == 1 else example)

    def _handler(self, x: Any, y: Any, **kwargs: Any) -> DataHandler:
        return DataHandler(x, y, input_names=getattr(self, "input_names", None),
                           output_names=getattr(self, "output_names", None), **kwargs)

    # --- fit ---------------------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: int = 1, callbacks: list | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: dict | None = None,
            sample_weight: Any = None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_batch_size: int | None = None, validation_freq: int = 1,
            **kwargs: Any) -> cbks.History:
        """Trains for ``epochs`` epochs; returns the ``History`` callback."""
        if kwargs:
            raise TypeError(f"Invalid keyword argument(s) in `fit`: {sorted(kwargs)}")
        self._assert_compiled("training/testing")
        if validation_split and validation_data is None:
            if not isinstance(x, np.ndarray | list | tuple | dict):
                raise ValueError("`validation_split` is only supported for Tensors or NumPy "
                                 f"arrays, found: {type(x).__name__}")
            xs = as_list(x, getattr(self, "input_names", None))
            ys = as_list(y, getattr(self, "output_names", None))
            sw = None if sample_weight is None else np.asarray(sample_weight)
            (x, y, sample_weight), validation_data = train_validation_split(
                xs, ys, sw, validation_split)
        handler = self._handler(x, y, sample_weight=sample_weight, class_weight=class_weight,
                                batch_size=batch_size, steps_per_epoch=steps_per_epoch,
                                shuffle=shuffle)
        val_handler = self._validation_handler(validation_data, validation_batch_size or
                                               batch_size, validation_steps)
        runner, session = self._get_runner(handler)
        tracker = self._tracker
        history = cbks.History()
        cb_list = list(callbacks or []) + [history]
        if verbose:
            cb_list.append(cbks.ProgbarLogger(verbose, "train"))
        params = {"epochs": epochs, "steps": handler.steps, "verbose": verbose,
                  "batch_size": batch_size, "metrics": tracker.names}
        cbl = cbks.CallbackList(cb_list, self, params)
        self.stop_training = False
        self.history = history
        cbl.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            tracker.reset()
            cbl.on_epoch_begin(epoch)
            self._train_epoch(runner, session, handler, tracker, cbl)
            logs = tracker.logs()
            if handler.ran_out:
                warnings.warn("Your input ran out of data; interrupting training. Make sure "
                              "that your dataset or generator can generate at least "
                              "`steps_per_epoch * epochs` batches.", stacklevel=2)
                self.stop_training = True
            if val_handler is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._test_loop(runner, session, val_handler, None)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbl.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbl.on_train_end()
        return history

    def _validation_handler(self, data: Any, batch_size: int | None,
                            steps: int | None) -> DataHandler | None:
        if data is None:
            return None
        if isinstance(data, tuple | list) and 2 <= len(data) <= 3 and \
                not hasattr(data, "_fields"):
            vx, vy = data[0], data[1]
            vsw = data[2] if len(data) == 3 else None
            return self._handler(vx, vy, sample_weight=vsw, batch_size=batch_size,
                                 steps_per_epoch=steps)
        return self._handler(data, None, batch_size=batch_size, steps_per_epoch=steps)

    def _train_epoch(self, runner: Any, session: Any, handler: DataHandler,
                     tracker: MetricsTracker, cbl: cbks.CallbackList) -> None:
        want_preds = tracker.needs_predictions
        fns: dict[bool, Any] = {}
        opt = self.optimizer
        version = opt._version
        per_batch = cbl.needs_train_batch
        for step, (xs, ys, sw) in enumerate(handler.epoch()):
            if ys is None:
                raise ValueError("Target data is missing. Your model was compiled with a loss, "
                                 "and therefore expects target data to be passed in `fit()`.")
            use_sw = sw is not None
            fn = fns.get(use_sw)
            if fn is None:
                fn = fns[use_sw] = runner.train_fn(session, use_sw, want_preds)
            if opt._version != version:
                runner.sync(session)
                version = opt._version
            if per_batch:
                cbl.on_train_batch_begin(step)
            r = fn(*xs, *ys, sw) if use_sw else fn(*xs, *ys)
            tracker.update(r.loss, r.out_losses, len(xs[0]), ys, r.preds, sw)
            if per_batch:
                cbl.on_train_batch_end(step, tracker.logs())
            if self.stop_training:
                break

    # --- evaluate / predict --------------------------------------------------------------------
    def _test_loop(self, runner: Any, session: Any, handler: DataHandler,
                   cbl: cbks.CallbackList | None) -> dict:
        tracker = MetricsTracker(self._compile_args[1], self.compiled_loss,
                                 self._flat_output_shapes(len(self.compiled_loss.output_names)))
        want_preds = tracker.needs_predictions
        fns: dict[bool, Any] = {}
        if cbl is not None:
            cbl.on_test_begin()
        for step, (xs, ys, sw) in enumerate(handler.epoch()):
            if ys is None:
                raise ValueError("Target data is missing: `evaluate` needs `y` (or a dataset "
                                 "of (x, y) pairs).")
            use_sw = sw is not None
            fn = fns.get(use_sw)
            if fn is None:
                fn = fns[use_sw] = runner.test_fn(session, use_sw, want_preds)
            r = fn(*xs, *ys, sw) if use_sw else fn(*xs, *ys)
            tracker.update(r.loss, r.out_losses, len(xs[0]), ys, r.preds, sw)
            if cbl is not None and cbl.needs_test_batch:
                cbl.on_test_batch_end(step, tracker.logs())
        logs = tracker.logs()
        if cbl is not None:
            cbl.on_test_end(logs)
        return logs

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: int = 1, sample_weight: Any = None, steps: int | None = None,
                 callbacks: list | None = None, return_dict: bool = False,
                 **kwargs: Any) -> Any:
        """The loss and metrics over the data: a scalar, a list (``metrics_names`` order) or a
        dict with ``return_dict=True``."""
        self._assert_compiled("training/testing")
        handler = self._handler(x, y, sample_weight=sample_weight, batch_size=batch_size,
                                steps_per_epoch=steps)
        runner, session = self._get_runner(handler)
        cb_list = list(callbacks or [])
        if verbose:
            cb_list.append(cbks.ProgbarLogger(verbose, "test"))
        cbl = cbks.CallbackList(cb_list, self, {"steps": handler.steps, "verbose": verbose})
        logs = self._test_loop(runner, session, handler, cbl)
        if return_dict:
            return logs
        values = [logs[k] for k in self._tracker.names]
        return values[0] if len(values) == 1 else values

    def predict(self, x: Any, batch_size: int | None = None, verbose: int = 0,
                steps: int | None = None, callbacks: list | None = None) -> Any:
        """Model outputs for ``x`` as NumPy arrays (a list for several outputs)."""
        handler = self._handler(x, None, batch_size=batch_size, steps_per_epoch=steps)
        runner, session = self._predict_runner(handler)
        fn = runner.predict_fn(session)
        cb_list = list(callbacks or [])
        if verbose:
            cb_list.append(cbks.ProgbarLogger(verbose, "predict"))
        cbl = cbks.CallbackList(cb_list, self, {"steps": handler.steps, "verbose": verbose})
        cbl.on_predict_begin()
        outs: list[list] = []
        for step, (xs, _, _) in enumerate(handler.epoch()):
            preds = fn(*xs)
            if not outs:
                outs = [[] for _ in preds]
            for acc, p in zip(outs, preds):
                acc.append(np.asarray(p))
            if cbl.needs_predict_batch:
                cbl.on_predict_batch_end(step, {"outputs": preds})
        cbl.on_predict_end()
        result = [np.concatenate(o, axis=0) for o in outs]
        return result[0] if len(result) == 1 else result

    def _predict_runner(self, handler: DataHandler) -> tuple[Any, Any]:
        eager = context.executing_eagerly()
        mode = "eager" if eager else "graph"
        if getattr(self, "_runner", None) is None or self._runner_mode != mode:
            self._runner = EagerRunner(self) if eager else GraphRunner(self)
            self._runner_mode = mode
        return self._runner, self._runner.prepare(handler.x_spec, handler.y_spec)

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: dict | None = None, reset_metrics: bool = True,
                       return_dict: bool = False) -> Any:
        """One gradient update on one batch; returns the loss and metrics of that batch."""
        self._assert_compiled("training/testing")
        handler = self._handler(x, y, sample_weight=sample_weight, class_weight=class_weight,
                                batch_size=len(as_list(x)[0]))
        runner, session = self._get_runner(handler)
        if reset_metrics:
            self._tracker.reset()
        runner.sync(session)
        cbl = cbks.CallbackList([], self, {})
        self._train_epoch(runner, session, handler, self._tracker, cbl)
        return self._batch_result(self._tracker.logs(), return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      reset_metrics: bool = True, return_dict: bool = False) -> Any:
        """Loss and metrics of one batch, without updating the weights."""
        self._assert_compiled("training/testing")
        handler = self._handler(x, y, sample_weight=sample_weight,
                                batch_size=len(as_list(x)[0]))
        runner, session = self._get_runner(handler)
        return self._batch_result(self._test_loop(runner, session, handler, None), return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        return self.predict(x, batch_size=len(as_list(x)[0]))

    def _batch_result(self, logs: dict, return_dict: bool) -> Any:
        if return_dict:
            return logs
        values = [logs[k] for k in self._tracker.names]
        return values[0] if len(values) == 1 else values

    # --- weights files ---------------------------------------------------------------------
    def _weight_keys(self) -> list[tuple[str, Any]]:
        keys = []
        layers = [self] if not self._sublayers() else self._flat_layers()
        for i, layer in enumerate(layers):
            for j, w in enumerate(layer._trainable_weights + layer._non_trainable_weights):
                base = getattr(w, "name", f"w{j}").split(":")[0].split("/")[-1]
                keys.append((f"{i:04d}.{layer.name}/{j:02d}.{base}", w))
        return keys

    def _flat_layers(self) -> list:
        out, stack, seen = [], [self], set()
        while stack:
            layer = stack.pop(0)
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            stack = layer._sublayers() + stack
        return out

    def save_weights(self, filepath: str, overwrite: bool = True,
                     save_format: str | None = None) -> None:
        """Writes every weight to one safetensors checkpoint (atomic; no pickle)."""
        from rillet.train import checkpoint_io
        path = os.fspath(filepath)
        if not overwrite and os.path.exists(path):
            raise FileExistsError(f"{path} exists and overwrite=False")
        keys = self._weight_keys()
        values = backend.batch_get_value([w for _, w in keys])
        tensors = {k: v for (k, _), v in zip(keys, values)}
        checkpoint_io.write_checkpoint(path, tensors, {"format": "rillet.keras.weights",
                                                       "model": self.name})

    def load_weights(self, filepath: str, by_name: bool = False,
                     skip_mismatch: bool = False) -> None:
        """Reads weights written by ``save_weights`` (matched by position, shapes checked)."""
        from rillet.train import checkpoint_io
        stored = checkpoint_io.read_checkpoint(os.fspath(filepath))
        keys = self._weight_keys()
        if not keys and not self.built:
            raise ValueError("Unable to load weights saved in a file into a model that has not "
                             "been built yet: call the model on data or `build()` it first.")
        names = sorted(stored)
        if len(names) != len(keys):
            raise ValueError(f"You are trying to load a weight file containing {len(names)} "
                             f"weights into a model with {len(keys)} weights.")
        pairs = []
        for name, (_, w) in zip(names, keys):
            value = stored[name]
            shape = tuple(w.shape.as_list())
            if value.shape != shape:
                if skip_mismatch:
                    continue
                raise ValueError(f"Shape mismatch for weight {name}: the file holds "
                                 f"{value.shape}, the model expects {shape}.")
            pairs.append((w, value))
        backend.batch_set_value(pairs)

"""How one batch is trained, tested or predicted.

``GraphRunner`` builds the training and evaluation graphs once (placeholders -> model -> loss ->
optimizer update, batch-norm updates grouped in) and runs them through ``Session.make_callable``,
so a step costs one plan execution. ``EagerRunner`` runs the same model eagerly with a
``GradientTape``, through ``rillet.function`` when the eager module provides it."""

from __future__ import annotations

from typing import Any

import numpy as np

import rillet as rt
from rillet import dtypes as _dt
from rillet.graph import GraphKeys, get_default_graph
from rillet.keras import backend
from rillet.keras.engine import nest
from rillet.keras.engine.base_layer import collect_updates


def _data_dtype(np_dtype: Any, default: _dt.DType) -> _dt.DType:
    d = np.dtype(np_dtype)
    if d.kind == "f":
        return default
    if d.kind == "b":
        return _dt.bool_
    if d.kind in "iu":
        return _dt.int64 if d.itemsize >= 8 or d.kind == "u" and d.itemsize >= 4 else _dt.int32
    return _dt.as_dtype(d)


class _Step:
    """The result of one batch: total loss, per-output losses, predictions (or None)."""

    __slots__ = ("loss", "out_losses", "preds")

    def __init__(self, loss: float, out_losses: list, preds: list | None):
        self.loss, self.out_losses, self.preds = loss, out_losses, preds


class GraphRunner:
    """Graph mode: one compiled callable per (kind, session)."""

    def __init__(self, model: Any):
        self.model = model
        self.graph = self._find_graph()
        self._placeholders: tuple | None = None
        self._built: dict[str, Any] = {}
        self._fns: dict[tuple, Any] = {}

    def _find_graph(self) -> Any:
        weights = self.model.weights
        if weights:
            return weights[0].graph
        if getattr(self.model, "inputs", None):
            return self.model.inputs[0].graph
        return get_default_graph()

    # --- graph construction --------------------------------------------------------------
    def _make_placeholders(self, x_spec: list, y_spec: list | None) -> tuple:
        model = self.model
        xs = []
        with self.graph.as_default(), self.graph.name_scope("keras_inputs"):
            model_inputs = getattr(model, "inputs", None) or []
            for i, (shape, dtype) in enumerate(x_spec):
                if i < len(model_inputs):
                    t = model_inputs[i]
                    xs.append(rt.placeholder(t.dtype, t.shape, name=f"x{i}"))
                else:
                    dt = _data_dtype(dtype, model.dtype)
                    xs.append(rt.placeholder(dt, list(shape), name=f"x{i}"))
            ys = [rt.placeholder(_data_dtype(dtype, _dt.float32), list(shape), name=f"y{i}")
                  for i, (shape, dtype) in enumerate(y_spec or [])]
            sw = rt.placeholder(_dt.float32, [None], name="sample_weight")
        return xs, ys, sw

    def _placeholders_for(self, x_spec: list, y_spec: list | None) -> tuple:
        if self._placeholders is None:
            self._placeholders = self._make_placeholders(x_spec, y_spec)
        xs, ys, sw = self._placeholders
        if y_spec and not ys:
            with self.graph.as_default(), self.graph.name_scope("keras_targets"):
                ys = [rt.placeholder(_data_dtype(d, _dt.float32), list(s), name=f"y{i}")
                      for i, (s, d) in enumerate(y_spec)]
            self._placeholders = xs, ys, sw
        return self._placeholders

    def _call_model(self, xs: list, training: bool) -> list:
        inputs = xs[0] if len(xs) == 1 else list(xs)
        return nest.flatten(self.model(inputs, training=training))

    def _build_train(self, use_sw: bool) -> Any:
        model = self.model
        xs, ys, sw = self._placeholders
        with self.graph.as_default():
            with collect_updates() as updates:
                preds = self._call_model(xs, training=True)
            total, outs = model.compiled_loss(ys, preds, sw if use_sw else None, model.losses)
            train_op = model.optimizer.get_train_op(total, model.trainable_weights)
            if updates:
                train_op = rt.group(train_op, *updates)
            train_op = self._constrain(train_op)
        return [train_op, total, outs, preds]

    def _constrain(self, train_op: Any) -> Any:
        pairs = [(v, v.constraint) for v in self.model.trainable_weights
                 if getattr(v, "constraint", None) is not None]
        if not pairs:
            return train_op
        with rt.control_dependencies([train_op]):
            return rt.group(*[rt.assign(v, c(v.read_value())) for v, c in pairs])

    def _build_eval(self, use_sw: bool) -> Any:
        model = self.model
        xs, ys, sw = self._placeholders
        with self.graph.as_default():
            preds = self._call_model(xs, training=False)
            if not ys:
                return [None, None, [], preds]
            total, outs = model.compiled_loss(ys, preds, sw if use_sw else None, model.losses)
        return [None, total, outs, preds]

    def _function(self, kind: str, use_sw: bool, want_preds: bool, session: Any) -> Any:
        key = (kind, use_sw, want_preds, id(session))
        fn = self._fns.get(key)
        if fn is not None:
            return fn
        bkey = ("train" if kind == "train" else "eval", use_sw if kind != "predict" else False)
        parts = self._built.get(bkey)
        if parts is None:
            parts = self._built[bkey] = (self._build_train(use_sw) if kind == "train"
                                         else self._build_eval(use_sw))
        op, total, outs, preds = parts
        xs, ys, sw = self._placeholders
        feeds = list(xs) if kind == "predict" else [*xs, *ys] + ([sw] if use_sw else [])
        if kind == "predict":
            fetches: list = list(preds)
        else:
            fetches = ([op] if op is not None else []) + [total, *(outs if len(outs) > 1 else [])]
            if want_preds:
                fetches += preds
        self._initialize(session)
        call = session.make_callable(fetches, feed_list=feeds)
        n_outs = len(outs) if len(outs) > 1 else 0
        skip = 1 if op is not None else 0

        if kind == "predict":
            fn = call
        else:
            def fn(*args: Any) -> _Step:
                r = call(*args)
                return _Step(float(r[skip]), r[skip + 1:skip + 1 + n_outs],
                             r[skip + 1 + n_outs:] if want_preds else None)
        self._fns[key] = fn
        return fn

    def _initialize(self, session: Any) -> None:
        with self.graph.as_default():
            backend.initialize_variables(session,
                                         self.graph.get_collection(GraphKeys.GLOBAL_VARIABLES))

    # --- running -------------------------------------------------------------------------
    def session(self) -> Any:
        return backend.get_session(self.graph)

    def prepare(self, x_spec: list, y_spec: list | None) -> Any:
        """Placeholders exist, variables are initialized; returns the Session to use."""
        self._placeholders_for(x_spec, y_spec)
        sess = self.session()
        return sess

    def train_fn(self, session: Any, use_sw: bool, want_preds: bool) -> Any:
        fn = self._function("train", use_sw, want_preds, session)
        opt = self.model.optimizer
        opt.sync(session)
        self._initialize(session)
        return fn

    def test_fn(self, session: Any, use_sw: bool, want_preds: bool) -> Any:
        return self._function("test", use_sw, want_preds, session)

    def predict_fn(self, session: Any) -> Any:
        fn = self._function("predict", False, True, session)
        return lambda *xs: list(fn(*xs))

    def sync(self, session: Any) -> None:
        self.model.optimizer.sync(session)


class EagerRunner:
    """Eager mode: a GradientTape step compiled with ``rillet.function`` (one trace for all
    batch sizes: the signature leaves the batch dimension open), or run op by op when the
    model was compiled with ``run_eagerly=True``."""

    def __init__(self, model: Any):
        self.model = model
        self._fns: dict = {}
        self._x_spec: list = []
        self._y_spec: list = []

    def prepare(self, x_spec: list, y_spec: list | None) -> None:
        self._x_spec = list(x_spec)
        if y_spec:
            self._y_spec = list(y_spec)

    def _signature(self, kind: str, use_sw: bool) -> list:
        from rillet.eager import TensorSpec
        sig = [TensorSpec(s, _data_dtype(d, self.model.dtype)) for s, d in self._x_spec]
        if kind != "predict":
            sig += [TensorSpec(s, _data_dtype(d, _dt.float32)) for s, d in self._y_spec]
            if use_sw:
                sig.append(TensorSpec([None], _dt.float32))
        if kind == "train":
            sig.append(TensorSpec([], _dt.float32))
        return sig

    def _compile(self, fn: Any, kind: str, use_sw: bool) -> Any:
        if getattr(self.model, "_run_eagerly", None):
            return fn
        return rt.function(fn, input_signature=self._signature(kind, use_sw))

    def _unpack(self, flat: tuple, use_sw: bool) -> tuple:
        n_x, n_y = len(self._x_spec), len(self._y_spec)
        xs, ys = list(flat[:n_x]), list(flat[n_x:n_x + n_y])
        sw = flat[n_x + n_y] if use_sw else None
        return xs, ys, sw

    def _forward(self, xs: list, training: bool) -> list:
        return nest.flatten(self.model(xs[0] if len(xs) == 1 else xs, training=training))

    def _train_step(self, use_sw: bool, want_preds: bool) -> Any:
        model = self.model

        def step(*flat: Any) -> list:
            xs, ys, sw = self._unpack(flat, use_sw)
            with rt.GradientTape() as tape:
                preds = self._forward(xs, True)
                total, outs = model.compiled_loss(ys, preds, sw, model.losses)
            weights = model.trainable_weights
            grads = tape.gradient(total, weights)
            model.optimizer.apply_gradients(
                [(g, v) for g, v in zip(grads, weights) if g is not None], lr=flat[-1])
            for v in weights:
                c = getattr(v, "constraint", None)
                if c is not None:
                    v.assign(c(v.read_value()))
            return [total, *(outs if len(outs) > 1 else []), *(preds if want_preds else [])]
        return self._compile(step, "train", use_sw)

    def _test_step(self, use_sw: bool, want_preds: bool) -> Any:
        model = self.model

        def step(*flat: Any) -> list:
            xs, ys, sw = self._unpack(flat, use_sw)
            preds = self._forward(xs, False)
            total, outs = model.compiled_loss(ys, preds, sw, model.losses)
            return [total, *(outs if len(outs) > 1 else []), *(preds if want_preds else [])]
        return self._compile(step, "test", use_sw)

    def _get(self, kind: str, use_sw: bool, want_preds: bool) -> Any:
        key = (kind, use_sw, want_preds)
        fn = self._fns.get(key)
        if fn is None:
            make = self._train_step if kind == "train" else self._test_step
            fn = self._fns[key] = make(use_sw, want_preds)
        return fn

    def _arrays(self, args: tuple, use_sw: bool, lr: float | None = None) -> list:
        specs = self._x_spec + self._y_spec
        out = [np.asarray(a).astype(_data_dtype(d, self.model.dtype if i < len(self._x_spec)
                                                 else _dt.float32).np, copy=False)
               for i, (a, (_, d)) in enumerate(zip(args, specs))]
        if use_sw:
            out.append(np.asarray(args[len(specs)], np.float32))
        if lr is not None:
            out.append(np.float32(lr))
        return out

    def _result(self, r: list, n_losses: int, want_preds: bool) -> _Step:
        values = [np.asarray(v.numpy() if hasattr(v, "numpy") else v) for v in r]
        return _Step(float(values[0]), [float(v) for v in values[1:1 + n_losses]],
                     values[1 + n_losses:] if want_preds else None)

    def _n_losses(self) -> int:
        n = sum(f is not None for f in self.model.compiled_loss.fns)
        return n if n > 1 else 0

    def train_fn(self, session: Any, use_sw: bool, want_preds: bool) -> Any:
        fn = self._get("train", use_sw, want_preds)
        opt, n = self.model.optimizer, self._n_losses()
        return lambda *args: self._result(fn(*self._arrays(args, use_sw, opt.learning_rate)),
                                          n, want_preds)

    def test_fn(self, session: Any, use_sw: bool, want_preds: bool) -> Any:
        fn = self._get("test", use_sw, want_preds)
        n = self._n_losses()
        return lambda *args: self._result(fn(*self._arrays(args, use_sw)), n, want_preds)

    def predict_fn(self, session: Any) -> Any:
        fn = self._fns.get("predict")
        if fn is None:
            def step(*xs: Any) -> list:
                return self._forward(list(xs), False)
            fn = self._fns["predict"] = self._compile(step, "predict", False)
        n_x = len(self._x_spec)

        def run(*xs: Any) -> list:
            arrays = [np.asarray(a).astype(_data_dtype(d, self.model.dtype).np, copy=False)
                      for a, (_, d) in zip(xs, self._x_spec[:n_x])]
            return [np.asarray(p.numpy()) for p in nest.flatten(fn(*arrays))]
        return run

    def sync(self, session: Any) -> None:
        pass

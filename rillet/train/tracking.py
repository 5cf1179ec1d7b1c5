"""Object-based checkpoints: ``train.Checkpoint`` and ``train.CheckpointManager`` (TF 2 API).

A ``Checkpoint`` saves the variables reachable from the objects given to it, keyed by *object
paths* instead of variable names, so that a model rebuilt in another process (or again in the
same one, where Keras would name its layers ``dense_2``, ``dense_3``) restores without any name
matching::

    ckpt = rt.train.Checkpoint(model=model, optimizer=opt, step=step)
    path = ckpt.save("ckpts/ckpt")             # "ckpts/ckpt-1" (+ the `checkpoint` state file)
    status = ckpt.restore(path)                # values go straight into the variables
    status.assert_consumed()

Keys (``rt.train.list_variables(path)`` lists them):

* a variable given directly: its argument name (``step``); lists and dicts add ``/<index>`` or
  ``/<key>`` (``weights/0``); a nested ``Checkpoint`` adds its own names (``inner/step``);
* a Keras layer or model: ``<name>/<weight attribute>`` for the layer's own weights, named by the
  attribute holding them (``model/kernel`` for ``self.kernel = self.add_weight(...)``, else the
  weight's own name); sub-layers of a ``Sequential`` or functional model by their position in
  ``model.layers`` (``model/layer-0/kernel``); sub-layers and variables held in attributes of
  other layers and subclassed models by the attribute (``model/encoder/dense/kernel``,
  ``model/blocks/1/bias``);
* an optimizer (``rillet.train`` or Keras): its non-slot variables as ``<name>/<variable>``
  (``optimizer/beta1_power``), each slot as ``<name>/<slot>/<path of the variable it belongs
  to>`` (``optimizer/m/model/layer-0/kernel``), and a Keras optimizer's learning rate as
  ``<name>/learning_rate``;
* ``save_counter``: how many times ``save`` ran.

An object reachable by two paths is saved once, under the first path in sorted order of the
top-level names.

Values are read and written directly: an eager variable's value lives in
``rillet.eager.execute.store``, a graph variable's in its Session (``sess._ctx.vars``). Files
are written with :mod:`rillet.train.checkpoint_io` (one safetensors file, SHA-256 per tensor,
atomic rename), so every guarantee of ``docs/checkpoints.md`` holds.

Restoring is *deferred* for what does not exist yet (eager mode): weights of a Keras layer that
is built later get their values right after ``build``, and optimizer slots in the checkpoint are
created (with their saved values) as soon as the variables they belong to exist, so the first
``apply_gradients`` after a restore continues exactly where the saved run stopped.
"""

from __future__ import annotations

import logging
import os
import time
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from rillet import context, errors
from rillet.graph import get_default_graph
from rillet.shapes import TensorShape
from rillet.train import checkpoint_io as _io
from rillet.train import checkpoint_state as _state
from rillet.train.optimizer import Optimizer as _TrainOptimizer
from rillet.train.optimizer import _init_scope, _var_key
from rillet.variables import Variable

__all__ = [
    "Checkpoint", "CheckpointLoadStatus", "CheckpointManager", "UnmatchedCheckpointError",
]

_log = logging.getLogger(__name__)

_FORMAT = "rillet-object-checkpoint"
_SAVE_COUNTER = "save_counter"
_RESERVED = frozenset({_SAVE_COUNTER})


# ----------------------------------------------------------------------------------------------
# Errors


class UnmatchedCheckpointError(errors.NotFoundError, AssertionError):
    """A ``CheckpointLoadStatus.assert_*`` failure: a ``NotFoundError`` (rillet's wording) that
    is also an ``AssertionError`` (what TensorFlow raises), naming the unmatched keys."""


def _unmatched(message: str) -> UnmatchedCheckpointError:
    return UnmatchedCheckpointError(None, None, message)


# ----------------------------------------------------------------------------------------------
# What can be tracked


def _eager_variable_class() -> type | None:
    import sys

    mod = sys.modules.get("rillet.eager.variables")
    return getattr(mod, "EagerVariable", None)


def _is_eager_var(v: Any) -> bool:
    cls = _eager_variable_class()
    return cls is not None and isinstance(v, cls)


def _layer_class() -> type | None:
    try:
        from rillet.keras.engine.base_layer import Layer
    except ImportError:  # pragma: no cover - keras is part of rillet
        return None
    return Layer


def _is_layer(x: Any) -> bool:
    cls = _layer_class()
    return cls is not None and isinstance(x, cls)


def _is_keras_optimizer(x: Any) -> bool:
    try:
        from rillet.keras.optimizers import Optimizer as KerasOptimizer
    except ImportError:  # pragma: no cover
        return False
    return isinstance(x, KerasOptimizer)


def _is_graph_network(layer: Any) -> bool:
    from rillet.keras.engine.sequential import Sequential

    return isinstance(layer, Sequential) or bool(getattr(layer, "_is_graph_network", False))


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else str(name)


def _var_label(v: Any) -> str:
    name = getattr(v, "name", None)
    return f"variable {name}" if isinstance(name, str) else repr(v)


def _graph_store_name(v: Any) -> str:
    op = v.op
    attrs = getattr(op, "attrs", None) or {}
    return attrs.get("shared_name") or op.name


# ----------------------------------------------------------------------------------------------
# Saveable entries


class _Entry:
    """One value in the checkpoint: a variable, or a Python value with a getter and a setter."""

    __slots__ = ("key", "var", "getter", "setter", "token", "label")

    def __init__(self, key: str, var: Any = None, getter: Callable[[], Any] | None = None,
                 setter: Callable[[np.ndarray], None] | None = None, token: Any = None,
                 label: str = ""):
        self.key = key
        self.var = var
        self.getter = getter
        self.setter = setter
        self.token = token  # identity of a Python value (restored-tracking)
        self.label = label or (_var_label(var) if var is not None else key)

    # --- static information -------------------------------------------------------------
    def expected(self) -> tuple[np.dtype | None, TensorShape | None]:
        if self.var is None:
            return None, None
        dt = getattr(self.var, "dtype", None)
        np_dt = None
        if dt is not None and getattr(dt, "np", None) is not None:
            try:
                np_dt = np.dtype(dt.np)
            except TypeError:
                np_dt = None
        return np_dt, TensorShape(self.var.shape)

    # --- values -------------------------------------------------------------------------
    def read(self, session: Any) -> np.ndarray:
        if self.var is None:
            assert self.getter is not None
            return np.array(self.getter(), copy=True)
        v = self.var
        if _is_eager_var(v):
            from rillet.eager.execute import store

            return np.array(store[v._key], copy=True)
        name = _graph_store_name(v)
        sess = _require_session(session, "save", self.key)
        value = sess._ctx.vars.get(name)
        if value is None:
            raise errors.FailedPreconditionError(
                None, None, f"Attempting to use uninitialized value {name}\n\t (while saving "
                f"checkpoint key {self.key})")
        from rillet.train.saver import _host

        # A copy, so training in another thread cannot change the bytes being hashed.
        return np.array(_host(value), copy=True)

    def write(self, arr: np.ndarray, session: Any) -> None:
        if self.var is None:
            assert self.setter is not None
            self.setter(arr)
            return
        v = self.var
        dt, shape = self.expected()
        if shape is not None and shape.is_fully_defined() and \
                tuple(arr.shape) != tuple(shape.as_list()):
            arr = arr.reshape(shape.as_list())
        if _is_eager_var(v):
            from rillet.eager.execute import store

            store[v._key] = np.array(arr, dtype=dt, copy=True)
            return
        sess = _require_session(session, "restore", self.key)
        xp = sess._ctx.xp
        sess._ctx.vars[_graph_store_name(v)] = (np.array(arr, copy=True) if xp is np
                                                else xp.asarray(arr))

    @property
    def is_graph_variable(self) -> bool:
        return self.var is not None and not _is_eager_var(self.var)


def _require_session(session: Any, what: str, key: str) -> Any:
    if session is None:
        from rillet.session import get_default_session

        session = get_default_session()
    if session is None:
        raise ValueError(
            f"train.Checkpoint cannot {what} the graph variable behind key {key!r} without a "
            "Session: pass `session=`, run it inside `with sess.as_default():`, or use "
            "train.Saver in graph mode.")
    if getattr(session, "_closed", False):
        raise RuntimeError("Attempted to use a closed Session.")
    return session


class _Graph:
    """The saveable entries reachable from a Checkpoint, by key."""

    def __init__(self, graph: Any):
        self.graph = graph  # the graph whose variables count (None when executing eagerly)
        self.entries: dict[str, _Entry] = {}
        self.var_paths: dict[int, str] = {}  # id(variable) -> key
        self.seen: set[int] = set()
        self.optimizers: list[tuple[str, Any]] = []  # (path, optimizer or keras optimizer)
        self.unbuilt: list[tuple[str, Any]] = []  # (path, keras layer not built yet)

    def add(self, entry: _Entry) -> None:
        other = self.entries.get(entry.key)
        if other is not None:
            raise ValueError(f"train.Checkpoint: two values map to the key {entry.key!r} "
                             f"({other.label} and {entry.label}); rename one of them")
        self.entries[entry.key] = entry
        if entry.var is not None:
            self.var_paths[id(entry.var)] = entry.key

    def add_variable(self, path: str, v: Any) -> None:
        if id(v) in self.seen:
            return
        self.seen.add(id(v))
        self.add(_Entry(path, var=v))

    # --- walking objects --------------------------------------------------------------------
    def visit(self, obj: Any, path: str, strict: bool) -> None:
        """Adds what ``obj`` holds under ``path``; ``strict``: non-trackables are an error."""
        if isinstance(obj, Variable):
            self.add_variable(path, obj)
        elif isinstance(obj, Checkpoint):
            if id(obj) in self.seen:
                return
            self.seen.add(id(obj))
            for name, child in sorted(obj._children.items()):
                self.visit(child, _join(path, name), True)
        elif _is_layer(obj):
            self.visit_layer(obj, path)
        elif isinstance(obj, _TrainOptimizer) or _is_keras_optimizer(obj):
            if id(obj) not in self.seen:
                self.seen.add(id(obj))
                self.optimizers.append((path, obj))
        elif isinstance(obj, list | tuple):
            for i, x in enumerate(obj):
                self.visit(x, _join(path, str(i)), strict)
        elif isinstance(obj, dict):
            for k, x in obj.items():
                self.visit(x, _join(path, str(k)), strict)
        elif strict:
            raise TypeError(
                f"train.Checkpoint can only track variables, Keras layers and models, "
                f"optimizers, Checkpoints and lists/dicts of them; {path!r} is "
                f"{type(obj).__name__}: {obj!r}")

    def visit_layer(self, layer: Any, path: str) -> None:
        if id(layer) in self.seen:
            return
        self.seen.add(id(layer))
        if not layer.built:
            self.unbuilt.append((path, layer))
        attrs = layer.__dict__
        own = list(layer._trainable_weights) + list(layer._non_trainable_weights)
        for j, w in enumerate(own):
            self.add_variable(_join(path, _weight_name(layer, w, j, attrs)), w)
        if _is_graph_network(layer):
            for i, sub in enumerate(layer.layers):
                self.visit(sub, _join(path, f"layer-{i}"), False)
            return
        from rillet.keras.engine.base_layer import _NOT_LAYERS

        sublayers = {id(x) for x in layer._sublayers()}
        for name, value in attrs.items():
            if name in _NOT_LAYERS or name == "build" or value is layer:
                continue
            if isinstance(value, Variable) or (_is_layer(value) and id(value) in sublayers):
                self.visit(value, _join(path, name), False)
            elif isinstance(value, list | tuple | dict) and _holds_trackables(value):
                self.visit(value, _join(path, name), False)

    def add_optimizers(self) -> None:
        """Optimizer variables, after every other object (slot keys use their variable's path)."""
        for path, opt in self.optimizers:
            inner = opt
            if _is_keras_optimizer(opt):
                inner = _keras_inner(opt, self.graph)
                if not hasattr(opt, "optimizer"):  # TFOptimizer's rate is not its own
                    self.add(_Entry(_join(path, "learning_rate"),
                                    getter=lambda o=opt: np.float64(o.learning_rate),
                                    setter=lambda a, o=opt: setattr(o, "learning_rate",
                                                                    float(a)),
                                    token=(id(opt), "learning_rate"),
                                    label=f"learning rate of {type(opt).__name__}"))
            if inner is not None:
                self.add_train_optimizer(path, inner)

    def add_train_optimizer(self, path: str, opt: _TrainOptimizer) -> None:
        gkey = None if self.graph is None else id(self.graph)
        for (name, key), v in sorted(opt._non_slot_dict.items(), key=lambda kv: kv[0][0]):
            if key == gkey and self._in_scope(v):
                self.add_variable(_join(path, name), v)
        by_key = {_var_key(self.entries[p].var): p for p in self.var_paths.values()}
        for slot_name in sorted(opt._slots):
            for vkey, slot in opt._slots[slot_name].items():
                if not self._in_scope(slot):
                    continue
                primary = by_key.get(vkey, vkey[1])
                self.add_variable(_join(path, f"{slot_name}/{primary}"), slot)

    def _in_scope(self, v: Any) -> bool:
        if self.graph is None:
            return _is_eager_var(v)
        return not _is_eager_var(v) and getattr(v, "graph", None) is self.graph


def _holds_trackables(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    for x in items:
        if isinstance(x, Variable) or _is_layer(x):
            return True
        if isinstance(x, list | tuple | dict) and _holds_trackables(x):
            return True
    return False


def _weight_name(layer: Any, w: Any, index: int, attrs: dict) -> str:
    """The attribute holding weight ``w`` (``kernel``), else its name without the layer scope."""
    from rillet.keras.engine.base_layer import _NOT_LAYERS

    for name, value in attrs.items():
        if value is w and name not in _NOT_LAYERS:
            return name
    name = getattr(w, "name", None)
    if not isinstance(name, str):
        return f"weight-{index}"
    name = name[:-2] if name.endswith(":0") else name
    prefix = layer.name + "/"
    return name[len(prefix):] if name.startswith(prefix) else name.rsplit("/", 1)[-1]


def _keras_inner(opt: Any, graph: Any) -> _TrainOptimizer | None:
    """The ``rillet.train`` optimizer behind a Keras optimizer, for eager mode or ``graph``."""
    wrapped = getattr(opt, "optimizer", None)
    if isinstance(wrapped, _TrainOptimizer):  # TFOptimizer
        return wrapped
    if graph is None:
        return opt._eager_opt
    entry = opt._graphs.get(graph)
    return entry[0] if entry is not None else None


# ----------------------------------------------------------------------------------------------
# Checkpoint


class Checkpoint:
    """Groups trackable objects for saving and restoring (TF 2 ``tf.train.Checkpoint``).

    ``Checkpoint(model=model, optimizer=opt, step=step)`` tracks Keras layers and models,
    ``rillet.train`` and Keras optimizers, variables, nested Checkpoints and lists/dicts of
    them; attributes set later (``ckpt.extra = v``) are tracked too. ``root``, if given, adds
    its children at the top level (no prefix). See the module docstring for the keys.
    """

    def __init__(self, root: Any = None, **kwargs: Any):
        object.__setattr__(self, "_children", {})
        object.__setattr__(self, "_save_counter", 0)
        object.__setattr__(self, "_root", root)
        for name, value in kwargs.items():
            setattr(self, name, value)
        if root is not None:
            _Graph(None).visit(root, "", True)  # type check now, not at the first save

    # --- attributes ---------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        if name in _RESERVED:
            raise ValueError(f"{name!r} is reserved by train.Checkpoint")
        if "/" in name or not name:
            raise ValueError(f"train.Checkpoint names must be non-empty and contain no '/', "
                             f"got {name!r}")
        _Graph(None).visit(value, name, True)  # raises TypeError for non-trackables
        self._children[name] = value

    def __getattr__(self, name: str) -> Any:
        children = self.__dict__.get("_children", {})
        if name in children:
            return children[name]
        raise AttributeError(f"'Checkpoint' object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        if name in self._children:
            del self._children[name]
        else:
            object.__delattr__(self, name)

    @property
    def save_counter(self) -> int:
        """How many times ``save`` ran (restored from the checkpoint by ``restore``)."""
        return self._save_counter

    # --- the object graph ---------------------------------------------------------------------
    def _collect(self, graph: Any) -> _Graph:
        g = _Graph(graph)
        g.seen.add(id(self))
        if self._root is not None:
            g.visit(self._root, "", True)
        for name, child in sorted(self._children.items()):
            g.visit(child, name, True)
        g.add_optimizers()
        g.add(_Entry(_SAVE_COUNTER, getter=lambda: np.int64(self._save_counter),
                     setter=lambda a: object.__setattr__(self, "_save_counter", int(a)),
                     token=(id(self), _SAVE_COUNTER), label="the save counter"))
        return g

    def tracked_variables(self, session: Any = None) -> dict[str, Any]:
        """``{key: variable}`` for every variable that ``save`` would write now."""
        g = self._collect(_current_graph(session))
        return {k: e.var for k, e in g.entries.items() if e.var is not None}

    # --- saving -------------------------------------------------------------------------------
    def _write(self, file_prefix: str, counter: int, session: Any) -> str:
        prefix = os.fspath(file_prefix)
        g = self._collect(_current_graph(session))
        old = self._save_counter
        object.__setattr__(self, "_save_counter", counter)
        try:
            values = {k: e.read(session) for k, e in g.entries.items()}
        finally:
            object.__setattr__(self, "_save_counter", old)
        parent = os.path.dirname(prefix)
        if parent:
            os.makedirs(parent, exist_ok=True)
        meta = {"format": _FORMAT, "format_version": 1, _SAVE_COUNTER: counter}
        _io.write_checkpoint(_io.checkpoint_file(prefix), values, meta)
        return prefix

    def write(self, file_prefix: str, session: Any = None) -> str:
        """Writes ``<file_prefix>.safetensors`` (no counter, no state file); returns
        ``file_prefix``. In graph mode values come from ``session`` or the default Session."""
        return self._write(file_prefix, self._save_counter, session)

    def save(self, file_prefix: str, session: Any = None) -> str:
        """Increments ``save_counter``, writes ``<file_prefix>-<save_counter>`` and names it in
        the ``checkpoint`` state file of its directory; returns that prefix (``ckpt-1``)."""
        n = self._save_counter + 1
        prefix = self._write(f"{os.fspath(file_prefix)}-{n}", n, session)
        object.__setattr__(self, "_save_counter", n)
        _state.update_checkpoint_state(os.path.dirname(prefix) or ".", prefix, [prefix])
        return prefix

    # --- restoring ----------------------------------------------------------------------------
    def restore(self, save_path: str | None, session: Any = None) -> CheckpointLoadStatus:
        """Restores the values in ``save_path`` into the tracked objects; returns a status.

        Values are checked first (every dtype and shape, every checksum), then written: a
        restore either completes or changes nothing. Values whose objects do not exist yet
        are kept and restored when they appear (eager mode): Keras layers built later, and
        optimizer slots (created at once for the variables that exist). ``save_path`` None
        restores nothing (``assert_consumed`` then fails).

        Raises:
          NotFoundError: ``save_path`` names no checkpoint.
          InvalidArgumentError: a dtype or shape differs (key, variable and both shapes named).
          DataLossError: the file is corrupted or truncated.
        """
        if save_path is None:
            return CheckpointLoadStatus(self, None, {}, session)
        path = os.fspath(save_path)
        if not _io.checkpoint_exists(path):
            raise errors.NotFoundError(
                None, None, f"Failed to find any matching files for checkpoint {path} (looked "
                f"for {_io.checkpoint_file(path)})")
        file = path if os.path.isfile(path) else _io.checkpoint_file(path)
        stored = {name: (shape, dtype) for name, shape, dtype in _io.list_tensors(file)}
        values = _io.read_checkpoint(file)  # every checksum verified before anything changes
        status = CheckpointLoadStatus(self, file, values, session, stored)
        status._match(first=True)
        return status

    read = restore


def _current_graph(session: Any = None) -> Any:
    """None when executing eagerly, else the graph whose variables a Checkpoint handles."""
    if context.executing_eagerly():
        return None
    if session is not None:
        return session.graph
    return get_default_graph()


# ----------------------------------------------------------------------------------------------
# Restore status and deferred restoration


class CheckpointLoadStatus:
    """What ``Checkpoint.restore`` returns: which values found their objects.

    ``assert_consumed()`` (every value in the file restored and every tracked object given a
    value), ``assert_existing_objects_matched()`` (every object that exists now got a value),
    ``assert_nontrivial_match()``, ``expect_partial()`` (no warning about unrestored values),
    ``run_restore_ops(session)`` and ``initialize_or_restore(session)`` (graph mode). Each
    ``assert_*`` returns the status, or raises :class:`UnmatchedCheckpointError` (a
    ``NotFoundError`` and an ``AssertionError``) naming the keys.
    """

    def __init__(self, checkpoint: Checkpoint, file: str | None, values: dict[str, np.ndarray],
                 session: Any, stored: dict[str, tuple] | None = None):
        self._checkpoint = checkpoint
        self._file = file
        self._pending = dict(values)  # key -> value not restored yet
        self._stored = stored or {}
        self._session = session
        self._graph = _current_graph(session)
        self._restored_vars: weakref.WeakSet = weakref.WeakSet()
        self._restored_tokens: set = set()
        self._graph_writes: dict[str, tuple[_Entry, np.ndarray]] = {}
        self._matched_any = False
        self._expect_partial = False

    # --- matching -----------------------------------------------------------------------------
    def _entries(self) -> _Graph | None:
        return self._checkpoint._collect(self._graph)

    def _match(self, first: bool = False) -> None:
        """Restores every pending value whose object exists now; hooks unbuilt layers."""
        if not self._pending:
            return
        g = self._entries()
        if g is None:
            return
        eager = self._graph is None
        if eager and self._create_slots(g):
            g = self._entries()
            assert g is not None
        todo = [(e, self._pending[k]) for k, e in g.entries.items() if k in self._pending]
        for e, arr in todo:  # check everything before changing anything
            _check(e, arr, self._file)
        for e, arr in todo:
            if e.is_graph_variable:
                self._graph_writes[e.key] = (e, arr)
                continue
            e.write(arr, self._session)
            self._mark(e)
        if self._graph_writes:
            from rillet.session import get_default_session

            sess = self._session or get_default_session()
            if sess is not None and sess.graph is self._graph:
                self.run_restore_ops(sess)
        if eager and self._pending:
            for path, layer in g.unbuilt:
                if _is_graph_network(layer):  # its layers create the weights, not its build
                    continue
                below = path + "/" if path else ""
                if any(k.startswith(below) for k in self._pending):
                    _hook_build(layer, self)

    def _mark(self, e: _Entry) -> None:
        self._pending.pop(e.key, None)
        self._matched_any = True
        if e.var is not None:
            self._restored_vars.add(e.var)
        else:
            self._restored_tokens.add(e.token)

    def _create_slots(self, g: _Graph) -> bool:
        """Creates the optimizer slots that have saved values, for variables that exist."""
        created = False
        for path, opt in g.optimizers:
            prefix = path + "/" if path else ""
            wanted: dict[str, list[str]] = {}
            for key in self._pending:
                if key.startswith(prefix) and "/" in key[len(prefix):]:
                    slot, primary = key[len(prefix):].split("/", 1)
                    wanted.setdefault(primary, []).append(slot)
            primaries = [g.entries[p].var for p in wanted
                         if p in g.entries and g.entries[p].var is not None
                         and _is_eager_var(g.entries[p].var)]
            if not primaries:
                continue
            inner = opt
            if _is_keras_optimizer(opt):
                inner = _keras_inner(opt, None)
                if inner is None and not hasattr(opt, "optimizer"):
                    # What Keras's apply_gradients does on its first call.
                    opt._eager_opt = inner = opt._make(lambda o=opt: o._lr_now)
            if inner is None:
                continue
            missing = [v for v in primaries
                       if any(inner.get_slot(v, s) is None for s in wanted[g.var_paths[id(v)]])]
            if missing:
                with _init_scope(missing[0].graph):
                    inner._create_slots(missing)
                created = True
        return created

    # --- graph mode -----------------------------------------------------------------------
    def run_restore_ops(self, session: Any = None) -> None:
        """Graph mode: writes the restored values of graph variables into ``session`` (default:
        the default Session). Eagerly, values are restored at once and this does nothing."""
        if not self._graph_writes:
            return
        for e, arr in self._graph_writes.values():
            e.write(arr, session or self._session)
            self._mark(e)

    def initialize_or_restore(self, session: Any = None) -> None:
        """Graph mode: runs the initializers of tracked variables without a saved value, then
        ``run_restore_ops``. Eagerly, does nothing (variables are initialized when created)."""
        if self._graph is None:
            return
        g = self._entries()
        if g is None:
            return
        sess = _require_session(session or self._session, "initialize", "")
        inits = [e.var.initializer for e in g.entries.values()
                 if e.is_graph_variable and e.key not in self._graph_writes
                 and e.var not in self._restored_vars
                 and getattr(e.var, "initializer", None) is not None]
        if inits:
            sess.run(inits)
        self.run_restore_ops(sess)

    # --- assertions ---------------------------------------------------------------------------
    def _unrestored(self, g: _Graph) -> list[_Entry]:
        out = []
        for e in g.entries.values():
            if e.key == _SAVE_COUNTER and _SAVE_COUNTER not in self._stored:
                continue  # files written by train.Saver have no counter
            done = e.key in self._graph_writes or (
                (e.var in self._restored_vars) if e.var is not None
                else (e.token in self._restored_tokens))
            if not done:
                out.append(e)
        return out

    def _no_file(self) -> None:
        if self._file is None:
            raise _unmatched("No checkpoint specified (save_path=None); nothing is being "
                             "restored.")

    def assert_consumed(self) -> CheckpointLoadStatus:
        """Every value in the checkpoint was restored and every tracked object got a value."""
        self._no_file()
        keys = sorted(k for k in self._pending if k not in self._graph_writes)
        if keys:
            raise _unmatched(
                f"Unresolved object in checkpoint {self._file}: {len(keys)} value(s) have no "
                f"matching object: {', '.join(keys)}")
        self.assert_existing_objects_matched()
        return self

    def assert_existing_objects_matched(self) -> CheckpointLoadStatus:
        """Every object tracked now (variables, slots, counters) got a value from the file."""
        self._no_file()
        g = self._entries()
        missing = [] if g is None else self._unrestored(g)
        if missing:
            raise _unmatched(
                f"Some objects had no checkpointed value in {self._file}: "
                + "; ".join(f"key {e.key} ({e.label}) not found in checkpoint"
                            for e in missing))
        return self

    def assert_nontrivial_match(self) -> CheckpointLoadStatus:
        """At least one object other than the save counter was restored."""
        self._no_file()
        counter = (id(self._checkpoint), _SAVE_COUNTER)
        if not (len(self._restored_vars) or self._restored_tokens - {counter}
                or self._graph_writes):
            raise _unmatched(f"Nothing except the save counter was restored from "
                             f"{self._file}")
        return self

    def expect_partial(self) -> CheckpointLoadStatus:
        """Silences the warning about values never restored."""
        self._expect_partial = True
        return self

    def __del__(self) -> None:
        try:
            if self._pending and not self._expect_partial and self._file is not None:
                _log.warning(
                    "Checkpoint %s: %d value(s) were never restored (%s). Call "
                    "status.expect_partial() if this is intended.", self._file,
                    len(self._pending), ", ".join(sorted(self._pending)[:5]))
        except Exception:  # noqa: BLE001 - never raise from __del__ (interpreter shutdown)
            pass


def _check(e: _Entry, arr: np.ndarray, file: str | None) -> None:
    dt, shape = e.expected()
    if dt is not None and arr.dtype != dt:
        raise errors.InvalidArgumentError(
            None, None, f"Restoring from checkpoint {file} failed: key {e.key} ({e.label}) "
            f"expected dtype {dt.name} does not equal original dtype {arr.dtype.name}")
    if shape is not None and not shape.is_compatible_with(TensorShape(list(arr.shape))):
        raise errors.InvalidArgumentError(
            None, None, f"Restoring from checkpoint {file} failed: shape mismatch for key "
            f"{e.key} ({e.label}): lhs shape= {shape.as_list()} rhs shape= "
            f"{list(arr.shape)}")


class _BuildHook:
    """Replaces ``layer.build`` once: builds, then restores what the build created."""

    def __init__(self, layer: Any):
        self.layer_ref = weakref.ref(layer)
        self.statuses: list[CheckpointLoadStatus] = []  # kept alive until the build

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        layer = self.layer_ref()
        assert layer is not None
        if layer.__dict__.get("build") is self:
            del layer.__dict__["build"]
        try:
            out = layer.build(*args, **kwargs)
        except BaseException:
            layer.__dict__.setdefault("build", self)  # try again at the next build
            raise
        statuses, self.statuses = self.statuses, []
        for status in statuses:
            status._match()
        return out


def _hook_build(layer: Any, status: CheckpointLoadStatus) -> None:
    hook = layer.__dict__.get("build")
    if not isinstance(hook, _BuildHook):
        hook = _BuildHook(layer)
        layer.__dict__["build"] = hook
    if not any(s is status for s in hook.statuses):
        hook.statuses.append(status)


# ----------------------------------------------------------------------------------------------
# CheckpointManager


class CheckpointManager:
    """Saves numbered checkpoints in ``directory`` and deletes old ones (TF 2 API).

    ``save()`` writes ``<directory>/<checkpoint_name>-<n>`` (``n``: ``checkpoint_number`` or
    the Checkpoint's incremented ``save_counter``), rewrites the ``checkpoint`` state file, and
    only then deletes checkpoints beyond the newest ``max_to_keep`` (None: keep all). With
    ``keep_checkpoint_every_n_hours``, one checkpoint per that many hours is kept as well (and
    no longer listed). Checkpoints listed in an existing state file are adopted, so a restarted
    program keeps pruning them.
    """

    def __init__(self, checkpoint: Checkpoint, directory: str, max_to_keep: int | None,
                 keep_checkpoint_every_n_hours: float | None = None,
                 checkpoint_name: str = "ckpt", step_counter: Any = None,
                 checkpoint_interval: int | None = None,
                 init_fn: Callable[[], Any] | None = None):
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError(f"CheckpointManager expects a train.Checkpoint, got {checkpoint!r}")
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got "
                             f"{max_to_keep}.")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("`step_counter` should be passed if `checkpoint_interval` is "
                             "not None.")
        self._checkpoint = checkpoint
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._keep_hours = keep_checkpoint_every_n_hours
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter = step_counter
        self._checkpoint_interval = checkpoint_interval
        self._init_fn = init_fn
        self._last_checkpoint_step: int | None = None
        state = _state.get_checkpoint_state(self._directory)
        self._last_preserved = time.time()
        self._maybe_delete: dict[str, float] = {}
        self._latest: str | None = None
        if state is not None:
            paths = list(state.all_model_checkpoint_paths)
            stamps = list(state.all_model_checkpoint_timestamps)
            if len(stamps) != len(paths):
                stamps = _mtimes(paths)
            self._maybe_delete = dict(zip(paths, stamps))
            if state.last_preserved_timestamp is not None:
                self._last_preserved = state.last_preserved_timestamp
            self._latest = state.model_checkpoint_path

    @property
    def directory(self) -> str:
        return self._directory

    @property
    def checkpoint(self) -> Checkpoint:
        return self._checkpoint

    @property
    def checkpoint_interval(self) -> int | None:
        return self._checkpoint_interval

    @property
    def latest_checkpoint(self) -> str | None:
        """The prefix of the newest checkpoint (from the state file at construction), or None."""
        return self._latest

    @property
    def checkpoints(self) -> list[str]:
        """Prefixes of the checkpoints this manager keeps, oldest first."""
        return list(self._maybe_delete)

    def _step(self) -> int:
        from rillet.train.saver import _host

        return int(_host(self._step_counter))

    def save(self, checkpoint_number: Any = None, check_interval: bool = True,
             session: Any = None) -> str | None:
        """Saves a checkpoint and prunes old ones; returns its prefix (None when skipped by
        ``checkpoint_interval``)."""
        if self._checkpoint_interval is not None and check_interval:
            step = self._step()
            if self._last_checkpoint_step is not None and \
                    step - self._last_checkpoint_step < self._checkpoint_interval:
                return None
        ckpt = self._checkpoint
        counter = ckpt._save_counter + 1
        if checkpoint_number is None:
            number = counter
        else:
            from rillet.train.saver import _host

            number = int(_host(checkpoint_number))
        os.makedirs(self._directory, exist_ok=True)
        prefix = ckpt._write(f"{self._prefix}-{number}", counter, session)
        object.__setattr__(ckpt, "_save_counter", counter)
        if self._step_counter is not None:
            self._last_checkpoint_step = self._step()
        now = time.time()
        self._maybe_delete.pop(prefix, None)
        self._maybe_delete[prefix] = now
        self._latest = prefix
        delete = self._sweep()
        # First the state file (never naming a file about to be deleted), then the deletions.
        _state.update_checkpoint_state(
            self._directory, prefix, list(self._maybe_delete),
            all_model_checkpoint_timestamps=list(self._maybe_delete.values()),
            last_preserved_timestamp=self._last_preserved)
        for p in delete:
            _io.remove_checkpoint(p)
        return prefix

    def _sweep(self) -> list[str]:
        """Drops the oldest entries beyond ``max_to_keep``; returns those to delete."""
        delete: list[str] = []
        if self._max_to_keep is None:
            return delete
        while len(self._maybe_delete) > self._max_to_keep:
            path = next(iter(self._maybe_delete))
            stamp = self._maybe_delete.pop(path)
            if self._keep_hours and stamp - self._keep_hours * 3600.0 >= self._last_preserved:
                self._last_preserved = stamp
                continue
            delete.append(path)
        return delete

    def restore_or_initialize(self) -> str | None:
        """Restores the latest checkpoint and returns its prefix, or calls ``init_fn`` (if any)
        and returns None when there is none."""
        if self._latest is not None and _io.checkpoint_exists(self._latest):
            self._checkpoint.restore(self._latest)
            return self._latest
        if self._init_fn is not None:
            self._init_fn()
        return None


def _mtimes(paths: list[str]) -> list[float]:
    out = []
    for p in paths:
        try:
            out.append(os.path.getmtime(_io.checkpoint_file(p)))
        except OSError:
            out.append(time.time())
    return out

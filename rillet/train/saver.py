"""``train.Saver``: saves and restores variables to checkpoints (TF 1.x API).

Unlike TensorFlow, the Saver adds no ops to the graph: ``save`` reads each variable's value
straight from the Session (``sess._ctx.vars``, where rillet keeps variable values) and writes
them with :mod:`rillet.train.checkpoint_io` (one safetensors file, SHA-256 per tensor, atomic
rename); ``restore`` verifies and writes copies back into the Session. Variables are stored under
their op names (``layer1/weights``), or the keys of a ``var_list`` dict. The ``checkpoint`` state
file is rewritten atomically *before* old checkpoints are deleted, so ``latest_checkpoint``
always names a complete checkpoint.

Executing eagerly, ``save(None, path)`` / ``restore(None, path)`` use the variables' own
``numpy()`` and ``assign()``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from rillet import context, errors
from rillet import dtypes as _dt
from rillet.graph import GraphKeys, Operation, Tensor, get_default_graph
from rillet.shapes import TensorShape
from rillet.train import checkpoint_io as _io
from rillet.train import checkpoint_state as _state
from rillet.train.checkpoint_io import checkpoint_exists, checkpoint_file
from rillet.train.checkpoint_state import (
    CheckpointState,
    get_checkpoint_state,
    latest_checkpoint,
    update_checkpoint_state,
)

__all__ = [
    "CheckpointReader", "CheckpointState", "NewCheckpointReader", "Saver", "checkpoint_exists",
    "get_checkpoint_mtimes", "get_checkpoint_state", "latest_checkpoint", "list_variables",
    "load_checkpoint", "load_variable", "remove_checkpoint", "update_checkpoint_state",
]

_log = logging.getLogger(__name__)


class _Saveable:
    """One variable as the Saver sees it: the key in the file and where its value lives."""

    __slots__ = ("key", "var_name", "op_name", "dtype", "shape", "eager")

    def __init__(self, key: str, var_name: str, dtype: Any, shape: TensorShape, eager: Any,
                 op_name: str | None = None):
        self.key = key
        self.var_name = var_name  # the name of its value in Session._ctx.vars
        self.op_name = op_name or var_name  # the VariableV2 op in the graph
        self.dtype = dtype
        self.shape = shape
        self.eager = eager  # the variable object when it has no graph op (eager mode)


def _var_op(v: Any) -> Operation | None:
    """The ``VariableV2`` op behind a Variable, its output tensor or the op itself."""
    if isinstance(v, Operation):
        return v if v.type == "VariableV2" else None
    op = getattr(v, "op", None)
    if isinstance(op, Operation) and op.type == "VariableV2":
        return op
    return None


def _default_key(v: Any) -> str:
    op = _var_op(v)
    if op is not None:
        return op.name
    name = getattr(v, "_shared_name", None) or getattr(v, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"Variable to save is not a Variable: {v!r}")
    return name[:-2] if name.endswith(":0") else name


def _saveable(key: str, v: Any) -> _Saveable:
    if isinstance(v, list | tuple):
        raise TypeError(f"Partitioned variables are not supported by rillet's Saver ({key})")
    op = _var_op(v)
    if op is not None:
        out = op.outputs[0]
        return _Saveable(key, op.attrs.get("shared_name") or op.name, out.dtype, out.shape,
                         None, op.name)
    if hasattr(v, "numpy") and hasattr(v, "assign"):
        dtype = _dt.as_dtype(v.dtype) if getattr(v, "dtype", None) is not None else None
        return _Saveable(key, key, dtype, TensorShape(getattr(v, "shape", None)), v)
    raise TypeError(f"Variable to save is not a Variable: {v!r}")


def _saveables(var_list: Any) -> list[_Saveable]:
    if isinstance(var_list, dict):
        return [_saveable(str(k), v) for k, v in sorted(var_list.items(), key=lambda kv: kv[0])]
    out: list[_Saveable] = []
    seen: dict[str, Any] = {}
    for v in var_list:
        key = _default_key(v)
        if key in seen:
            raise ValueError(f"At least two variables have the same name: {key}")
        seen[key] = v
        out.append(_saveable(key, v))
    return out


def _host(x: Any) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x
    get = getattr(x, "get", None)
    if get is not None and hasattr(x, "__cuda_array_interface__"):
        return get()
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


def _meta_path(prefix: str, suffix: str = "meta") -> str:
    return f"{prefix}.{suffix}"


def remove_checkpoint(checkpoint_prefix: str, checkpoint_format_version: int = 2,
                      meta_graph_suffix: str = "meta") -> None:
    """Deletes the checkpoint file of ``checkpoint_prefix`` and its meta graph, if present."""
    _io.remove_checkpoint(checkpoint_prefix)
    try:
        os.remove(_meta_path(checkpoint_prefix, meta_graph_suffix))
    except FileNotFoundError:
        pass


class Saver:
    """Saves and restores variables (TF 1.x ``tf.train.Saver``).

    ``var_list`` is None (all global variables, optimizer slots and ``global_step`` included), a
    list of variables (saved under their op names) or a dict ``{name in file: variable}``.
    ``max_to_keep`` newest checkpoints are kept (None or 0: all files kept, only the newest
    listed in the state file); ``keep_checkpoint_every_n_hours`` additionally spares one
    checkpoint per that many hours. ``sharded``, ``builder``, ``restore_sequence`` and
    ``write_version`` are accepted for compatibility (a checkpoint is always one file).
    """

    def __init__(self, var_list: Any = None, reshape: bool = False, sharded: bool = False,
                 max_to_keep: int | None = 5, keep_checkpoint_every_n_hours: float = 10000.0,
                 name: str | None = None, restore_sequence: Any = None, saver_def: Any = None,
                 builder: Any = None, defer_build: bool = False, allow_empty: bool = False,
                 write_version: int = 2, pad_step_number: bool = False,
                 save_relative_paths: bool = False, filename: str | None = None):
        if max_to_keep is not None and max_to_keep < 0:
            raise ValueError(f"max_to_keep must be None or >= 0, got {max_to_keep}")
        if defer_build and var_list is not None:
            raise ValueError("If `var_list` is provided then build cannot be deferred. Either "
                             "set defer_build=False or var_list=None.")
        self._var_list = var_list
        self._reshape = reshape
        self._sharded = sharded
        self._max_to_keep = max_to_keep
        self._keep_hours = float(keep_checkpoint_every_n_hours)
        self._name = name or "save"
        self._allow_empty = allow_empty
        self._pad_step_number = pad_step_number
        self._save_relative_paths = save_relative_paths
        self._filename = filename
        self._write_version = write_version
        self._saver_def = saver_def
        self._graph = None if context.executing_eagerly() else get_default_graph()
        self._items: list[_Saveable] | None = None
        self._is_empty = False
        self._last_checkpoints: list[tuple[str, float]] = []
        self._next_checkpoint_time = time.time() + self._keep_hours * 3600
        if saver_def is not None:
            self._from_saver_def(saver_def)
        elif not defer_build:
            self.build()

    # --- building -------------------------------------------------------------------------
    def _from_saver_def(self, d: Any) -> None:
        d = d.to_dict() if hasattr(d, "to_dict") else dict(d)
        self._max_to_keep = d.get("max_to_keep", self._max_to_keep)
        self._keep_hours = float(d.get("keep_checkpoint_every_n_hours", self._keep_hours))
        self._next_checkpoint_time = time.time() + self._keep_hours * 3600
        self._pad_step_number = bool(d.get("pad_step_number", self._pad_step_number))
        self._reshape = bool(d.get("reshape", self._reshape))
        self._sharded = bool(d.get("sharded", self._sharded))
        self._name = d.get("name", self._name)
        self._filename = d.get("filename", self._filename)
        g = self._graph or get_default_graph()
        by_op = {_default_key(v): v for v in g.get_collection(GraphKeys.GLOBAL_VARIABLES)
                 + g.get_collection(GraphKeys.LOCAL_VARIABLES) if _var_op(v) is not None}
        var_map = {}
        for key, var_name in d["var_map"].items():
            v = by_op.get(var_name)
            if v is None:
                try:
                    v = g.get_operation_by_name(var_name)
                except KeyError:
                    raise ValueError(f"Saver: variable {var_name!r} (checkpoint key {key!r}) "
                                     "is not in the graph") from None
            var_map[key] = v
        self._items = _saveables(var_map)
        self._is_empty = not self._items

    def build(self) -> None:
        """Resolves the variables to save (done by the constructor unless ``defer_build``)."""
        if self._items is not None:
            return
        var_list = self._var_list
        if var_list is None:
            g = get_default_graph() if self._graph is None else self._graph
            var_list = g.get_collection(GraphKeys.GLOBAL_VARIABLES) + \
                g.get_collection("saveable_objects")
            if context.executing_eagerly():
                raise RuntimeError("When eager execution is enabled, `var_list` must specify a "
                                   "list or dict of variables to save")
        if not isinstance(var_list, dict):
            var_list = list(var_list)
        if not var_list:
            if self._allow_empty:
                self._is_empty = True
                self._items = []
                return
            raise ValueError("No variables to save")
        self._items = _saveables(var_list)

    def _built_items(self) -> list[_Saveable]:
        if self._items is None:
            self.build()
        assert self._items is not None
        return self._items

    # --- checkpoint bookkeeping -------------------------------------------------------------
    @property
    def last_checkpoints(self) -> list[str]:
        """Prefixes of the checkpoints this Saver still keeps, oldest first."""
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints: Sequence[str]) -> None:
        """DEPRECATED in TF: use ``recover_last_checkpoints``."""
        self._last_checkpoints = [(str(p), np.inf) for p in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time: Sequence) -> None:
        self._last_checkpoints = [(str(p), float(t)) for p, t in last_checkpoints_with_time]

    def recover_last_checkpoints(self, checkpoint_paths: Sequence[str]) -> None:
        """Adopts existing checkpoints (e.g. ``get_checkpoint_state(d).all_model_checkpoint_paths``
        after a restart) so that ``max_to_keep`` deletes them in turn."""
        mtimes = get_checkpoint_mtimes(checkpoint_paths)
        self._last_checkpoints = [(p, t) for p, t in zip(
            [p for p in checkpoint_paths if checkpoint_exists(p)], mtimes)]

    def _preserve(self, path: str) -> bool:
        ts = dict(self._last_checkpoints).get(path)
        if ts is not None and ts > self._next_checkpoint_time:
            self._next_checkpoint_time += self._keep_hours * 3600
            return True
        return False

    # --- save -----------------------------------------------------------------------------
    def _values(self, sess: Any) -> dict[str, np.ndarray]:
        items = self._built_items()
        out: dict[str, np.ndarray] = {}
        if sess is None:
            for it in items:
                if it.eager is None:
                    raise ValueError("A Session is required to save graph variables "
                                     f"({it.var_name}); pass `sess`")
                out[it.key] = np.array(_host(it.eager), copy=True)
            return out
        if getattr(sess, "_closed", False):
            raise RuntimeError("Attempted to use a closed Session.")
        store = sess._ctx.vars
        for it in items:
            if it.eager is not None:
                out[it.key] = np.array(_host(it.eager), copy=True)
                continue
            v = store.get(it.var_name)
            if v is None:
                raise errors.FailedPreconditionError(
                    None, None, f"Attempting to use uninitialized value {it.var_name}\n\t "
                    f"(while saving checkpoint key {it.key})")
            # A copy, so training in another thread cannot change the bytes being hashed.
            out[it.key] = np.array(_host(v), copy=True)
        return out

    def save(self, sess: Any, save_path: str, global_step: Any = None,
             latest_filename: str | None = None, meta_graph_suffix: str = "meta",
             write_meta_graph: bool = True, write_state: bool = True,
             strip_default_attrs: bool = False, save_debug_info: bool = False) -> str | None:
        """Writes a checkpoint; returns its prefix (``save_path-global_step``).

        The order is: checkpoint file, meta graph (``<prefix>.meta``), state file, and only then
        deletion of checkpoints beyond ``max_to_keep`` — every step an atomic rename.
        """
        if latest_filename is None:
            latest_filename = "checkpoint"
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        save_path = os.fspath(save_path)
        if global_step is not None:
            if not isinstance(global_step, int | np.integer):
                if sess is not None and (isinstance(global_step, Tensor)
                                         or hasattr(global_step, "_as_graph_element")):
                    global_step = sess.run(global_step)
                global_step = int(_host(global_step))
            fmt = "{}-{:08d}" if self._pad_step_number else "{}-{:d}"
            prefix = fmt.format(save_path, int(global_step))
        else:
            prefix = save_path
        if self._is_empty:
            return None
        values = self._values(sess)
        parent = os.path.dirname(prefix) or "."
        if not os.path.isdir(parent):
            raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")
        meta = {} if global_step is None else {"global_step": int(global_step)}
        _io.write_checkpoint(checkpoint_file(prefix), values, meta)
        if write_meta_graph and not context.executing_eagerly():
            graph = sess.graph if sess is not None else self._graph
            if graph is not None:
                self.export_meta_graph(_meta_path(prefix, meta_graph_suffix), graph=graph,
                                       strip_default_attrs=strip_default_attrs)
        if write_state:
            self._record(prefix, os.path.dirname(save_path), latest_filename, meta_graph_suffix)
        return prefix

    def _record(self, prefix: str, save_dir: str, latest_filename: str, suffix: str) -> None:
        now = time.time()
        self._last_checkpoints = [(p, t) for p, t in self._last_checkpoints if p != prefix]
        self._last_checkpoints.append((prefix, now))
        keep, delete = _state.prune_old(self.last_checkpoints, self._max_to_keep,
                                        self._preserve)
        times = dict(self._last_checkpoints)
        if self._max_to_keep:
            self._last_checkpoints = [(p, times[p]) for p in keep]
        else:
            self._last_checkpoints = []
        stamps = [times[p] for p in keep]
        update_checkpoint_state(save_dir or ".", prefix, keep, latest_filename,
                                stamps if all(np.isfinite(stamps)) else None)
        for p in delete:  # only after the state file no longer names them
            remove_checkpoint(p, meta_graph_suffix=suffix)

    # --- restore --------------------------------------------------------------------------
    def restore(self, sess: Any, save_path: str) -> None:
        """Restores every variable of this Saver from the checkpoint ``save_path``.

        Raises:
          ValueError: ``save_path`` is None or names no checkpoint.
          NotFoundError: a key is missing from the checkpoint.
          InvalidArgumentError: dtype or shape mismatch (both shapes in the message).
          DataLossError: the file is corrupted or truncated.
        """
        if self._is_empty:
            return
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        save_path = os.fspath(save_path)
        if not checkpoint_exists(save_path):
            raise ValueError(f"The passed save_path is not a valid checkpoint: {save_path}")
        items = self._built_items()
        file = checkpoint_file(save_path) if not os.path.isfile(save_path) else save_path
        stored = {name: (shape, dtype) for name, shape, dtype in _io.list_tensors(file)}
        missing = [it.key for it in items if it.key not in stored]
        if missing:
            raise errors.NotFoundError(
                None, None, "Restoring from checkpoint failed. This is most likely due to a "
                "Variable name or other graph key that is missing from the checkpoint. Please "
                "ensure that you have not altered the graph expected based on the checkpoint. "
                f"Original error:\n\nKey {missing[0]} not found in checkpoint {file}"
                + (f" (missing keys: {', '.join(missing)})" if len(missing) > 1 else ""))
        for it in items:
            shape, dtype = stored[it.key]
            if it.dtype is not None and it.dtype is not _dt.string and \
                    np.dtype(it.dtype.np) != dtype:
                raise errors.InvalidArgumentError(
                    None, None, f"tensor_name = {it.key}; expected dtype {it.dtype.name} does "
                    f"not equal original dtype {dtype.name} (variable {it.var_name}, "
                    f"checkpoint {file})")
            if not it.shape.is_compatible_with(TensorShape(list(shape))):
                same_size = it.shape.is_fully_defined() and \
                    it.shape.num_elements() == int(np.prod(shape, dtype=np.int64))
                if not (self._reshape and same_size):
                    raise errors.InvalidArgumentError(
                        None, None, "Restoring from checkpoint failed: shape mismatch for "
                        f"variable {it.var_name} (key {it.key} in {file}): Assign requires "
                        f"shapes of both tensors to match. lhs shape= {it.shape.as_list()} "
                        f"rhs shape= {list(shape)}")
        values = _io.read_checkpoint(file, [it.key for it in items])
        if sess is None:
            for it in items:
                if it.eager is None:
                    raise ValueError("A Session is required to restore graph variables")
        elif getattr(sess, "_closed", False):
            raise RuntimeError("Attempted to use a closed Session.")
        for it in items:
            arr = values[it.key]
            if it.shape.is_fully_defined() and tuple(arr.shape) != tuple(it.shape.as_list()):
                arr = arr.reshape(it.shape.as_list())
            if it.eager is not None:
                it.eager.assign(arr)
                continue
            xp = sess._ctx.xp
            arr = np.array(arr, copy=True) if xp is np else xp.asarray(arr)
            sess._ctx.vars[it.var_name] = arr

    # --- meta graph and SaverDef ------------------------------------------------------------
    def to_dict(self, export_scope: str | None = None) -> dict:
        """What the meta graph stores about this Saver (keys -> variable op names)."""
        items = self._built_items()

        def strip(n: str) -> str:
            if export_scope and n.startswith(export_scope + "/"):
                return n[len(export_scope) + 1:]
            return n
        return {
            "name": self._name, "var_map": {it.key: strip(it.op_name) for it in items},
            "max_to_keep": self._max_to_keep,
            "keep_checkpoint_every_n_hours": self._keep_hours,
            "pad_step_number": self._pad_step_number, "reshape": self._reshape,
            "sharded": self._sharded, "filename": self._filename, "version": 2,
        }

    def as_saver_def(self) -> Any:
        """A TensorFlow ``SaverDef`` proto describing this Saver (rillet adds no save ops, so
        the tensor/op names are nominal)."""
        from tensorboard.compat.proto import saver_pb2

        return saver_pb2.SaverDef(
            filename_tensor_name=f"{self._name}/Const:0",
            save_tensor_name=f"{self._name}/control_dependency:0",
            restore_op_name=f"{self._name}/restore_all", max_to_keep=self._max_to_keep or 0,
            sharded=self._sharded, keep_checkpoint_every_n_hours=self._keep_hours,
            version=saver_pb2.SaverDef.V2)

    @property
    def saver_def(self) -> Any:
        return self.as_saver_def()

    def to_proto(self, export_scope: str | None = None) -> Any:
        return self.as_saver_def()

    def export_meta_graph(self, filename: str | None = None, collection_list: Any = None,
                          as_text: bool = False, export_scope: str | None = None,
                          clear_devices: bool = False, clear_extraneous_savers: bool = False,
                          strip_default_attrs: bool = False, save_debug_info: bool = False,
                          graph: Any = None) -> Any:
        """Exports the graph with this Saver (see ``train.export_meta_graph``)."""
        from rillet.train.meta_graph import export_meta_graph

        return export_meta_graph(filename=filename, graph=graph or self._graph,
                                 saver=self, collection_list=collection_list,
                                 export_scope=export_scope, clear_devices=clear_devices)


# --- reading checkpoints ------------------------------------------------------------------------
def _resolve(ckpt_dir_or_file: str) -> str:
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = latest_checkpoint(path)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given "
                             f"directory {path}")
        return latest
    return path


class CheckpointReader:
    """TF's ``CheckpointReader``: ``get_tensor``, ``has_tensor`` and the name maps."""

    def __init__(self, filepattern: str):
        self._path = _resolve(filepattern)
        self._entries = {n: (s, d) for n, s, d in _io.list_tensors(self._path)}

    def get_tensor(self, tensor_str: str) -> np.ndarray:
        name = tensor_str[:-2] if tensor_str.endswith(":0") and tensor_str not in \
            self._entries else tensor_str
        return _io.read_checkpoint(self._path, [name])[name]

    def has_tensor(self, tensor_str: str) -> bool:
        return tensor_str in self._entries

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        return {n: list(s) for n, (s, _) in self._entries.items()}

    def get_variable_to_dtype_map(self) -> dict[str, _dt.DType]:
        return {n: _dt.as_dtype(d) for n, (_, d) in self._entries.items()}

    def debug_string(self) -> bytes:
        return "".join(f"{n} ({d.name}) {list(s)}\n"
                       for n, (s, d) in sorted(self._entries.items())).encode()


def NewCheckpointReader(filepattern: str) -> CheckpointReader:  # noqa: N802 - TF's name
    return CheckpointReader(filepattern)


def load_checkpoint(ckpt_dir_or_file: str) -> CheckpointReader:
    """A reader for the checkpoint (or the latest one in a directory)."""
    return CheckpointReader(ckpt_dir_or_file)


def list_variables(ckpt_dir_or_file: str) -> list[tuple[str, list[int]]]:
    """``[(name, shape)]`` of every variable in the checkpoint, sorted by name."""
    return [(n, list(s)) for n, s, _ in _io.list_tensors(_resolve(ckpt_dir_or_file))]


def load_variable(ckpt_dir_or_file: str, name: str) -> np.ndarray:
    """The value of variable ``name`` (a trailing ``:0`` is ignored) in the checkpoint."""
    if name.endswith(":0"):
        name = name[:-2]
    path = _resolve(ckpt_dir_or_file)
    return _io.read_checkpoint(path, [name])[name]


def get_checkpoint_mtimes(checkpoint_prefixes: Iterable[str]) -> list[float]:
    """Modification times of the checkpoints that exist (others are skipped, as in TF)."""
    out = []
    for p in checkpoint_prefixes:
        f = checkpoint_file(p)
        if os.path.isfile(f):
            out.append(os.path.getmtime(f))
    return out

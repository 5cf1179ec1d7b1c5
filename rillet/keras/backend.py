"""Keras backend helpers: unique layer names, the Session a model uses in graph mode, reading and
writing variable values, and the scratch graph used to build functional models eagerly."""

from __future__ import annotations

import contextlib
import sys
import threading
import weakref
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import numpy as np

from rillet import context
from rillet.graph import Graph, Tensor, get_default_graph, reset_default_graph
from rillet.session import Session, get_default_session

_EPSILON = 1e-7
_FLOATX = "float32"
_IMAGE_DATA_FORMAT = "channels_last"


def epsilon() -> float:
    return _EPSILON


def floatx() -> str:
    return _FLOATX


def image_data_format() -> str:
    return _IMAGE_DATA_FORMAT


# --- unique names ------------------------------------------------------------------------------
_GRAPH_UIDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_EAGER_UIDS: defaultdict = defaultdict(int)


def get_uid(prefix: str = "") -> int:
    """1, 2, ... per prefix: per graph in graph mode, per process in eager mode."""
    if context.executing_eagerly():
        uids = _EAGER_UIDS
    else:
        uids = _GRAPH_UIDS.setdefault(get_default_graph(), defaultdict(int))
    uids[prefix] += 1
    return uids[prefix]


def unique_object_name(prefix: str) -> str:
    """``prefix``, then ``prefix_1``, ``prefix_2``, ... (Keras layer names)."""
    n = get_uid(prefix)
    return prefix if n == 1 else f"{prefix}_{n - 1}"


def reset_uids() -> None:
    _EAGER_UIDS.clear()
    _GRAPH_UIDS.clear()


# --- sessions ----------------------------------------------------------------------------------
_SESSIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_KNOWN_INITIALIZED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def get_session(graph: Graph | None = None) -> Session:
    """The default Session when it runs ``graph``, else a private Session for ``graph``."""
    g = graph if graph is not None else get_default_graph()
    s = get_default_session()
    if s is not None and s.graph is g and not s._closed:
        return s
    s = _SESSIONS.get(g)
    if s is None or s._closed:
        s = _SESSIONS[g] = Session(graph=g)
    return s


def set_session(session: Session) -> None:
    """Makes ``session`` the one Keras uses for its graph."""
    _SESSIONS[session.graph] = session


def clear_session() -> None:
    """Forgets Keras sessions and layer-name counters and resets the default graph."""
    for s in list(_SESSIONS.values()):
        s.close()
    _SESSIONS.clear()
    reset_uids()
    if not context.executing_eagerly():
        reset_default_graph()


def initialize_variables(session: Session, variables: list) -> None:
    """Runs the initializers of those ``variables`` not yet initialized in ``session``."""
    known = _KNOWN_INITIALIZED.setdefault(session, set())
    todo = [v for v in variables if id(v) not in known]
    if not todo:
        return
    from rillet.variables import report_uninitialized_variables, variables_initializer
    with session.graph.as_default():
        names = {n.decode() if isinstance(n, bytes) else str(n)
                 for n in session.run(report_uninitialized_variables(todo))}
        init = [v for v in todo if v.op.name in names]
        if init:
            session.run(variables_initializer(init))
    known.update(id(v) for v in todo)


def _is_graph_value(x: Any) -> bool:
    """A graph tensor or graph Variable (eager ones have ``numpy()``)."""
    if hasattr(x, "numpy"):
        return False
    return isinstance(x, Tensor) or getattr(getattr(x, "op", None), "type", "") == "VariableV2"


def batch_get_value(xs: list) -> list:
    """NumPy values of variables/tensors (graph: one ``Session.run``)."""
    graph_items = [x for x in xs if _is_graph_value(x)]
    values: dict[int, Any] = {}
    if graph_items:
        sess = get_session(graph_items[0].graph)
        initialize_variables(sess, [x for x in graph_items if not isinstance(x, Tensor)])
        for x, v in zip(graph_items, sess.run(list(graph_items))):
            values[id(x)] = v
    out = []
    for x in xs:
        if id(x) in values:
            out.append(values[id(x)])
        elif hasattr(x, "numpy"):
            out.append(np.asarray(x.numpy()))
        else:
            out.append(np.asarray(x))
    return out


def get_value(x: Any) -> Any:
    return batch_get_value([x])[0]


def batch_set_value(pairs: list) -> None:
    """Writes ``(variable, value)`` pairs (graph: through the variable's Keras Session)."""
    for var, value in pairs:
        if _is_graph_value(var):
            sess = get_session(var.graph)
            var.load(np.asarray(value), sess)
            _KNOWN_INITIALIZED.setdefault(sess, set()).add(id(var))
        else:
            var.assign(np.asarray(value, dtype=var.dtype.as_numpy_dtype))


def set_value(x: Any, value: Any) -> None:
    batch_set_value([(x, value)])


# --- the scratch graph for symbolic (functional) construction in eager mode ---------------
_symbolic = threading.local()
_SYMBOLIC_GRAPH: Graph | None = None


def symbolic_graph() -> Graph:
    """The graph holding ``Input`` placeholders created while executing eagerly."""
    global _SYMBOLIC_GRAPH
    if _SYMBOLIC_GRAPH is None:
        _SYMBOLIC_GRAPH = Graph()
        ev = sys.modules.get("rillet.eager.variables")
        if ev is not None:  # eager variables may appear there (as never-run read nodes)
            ev.trace_graphs.add(_SYMBOLIC_GRAPH)
    return _SYMBOLIC_GRAPH


def in_symbolic_scope() -> bool:
    return getattr(_symbolic, "depth", 0) > 0


@contextlib.contextmanager
def symbolic_scope() -> Iterator[Graph]:
    """Graph mode in the scratch graph; eager variables used inside become placeholders of the
    same shape (only shapes matter there), so no weights are copied."""
    from rillet.ops.array_ops import placeholder
    g = symbolic_graph()
    old_mode = context.set_mode(False)
    old_capture = context.capture_eager
    context.capture_eager = lambda value, name=None: placeholder(value.dtype, value.shape)
    _symbolic.depth = getattr(_symbolic, "depth", 0) + 1
    try:
        with g.as_default():
            yield g
    finally:
        _symbolic.depth -= 1
        context.capture_eager = old_capture
        context.set_mode(old_mode)


@contextlib.contextmanager
def eager_scope() -> Iterator[None]:
    """Eager execution (used to create real variables while building symbolically)."""
    old_mode = context.set_mode(True)
    old_depth = getattr(_symbolic, "depth", 0)
    _symbolic.depth = 0
    try:
        yield
    finally:
        _symbolic.depth = old_depth
        context.set_mode(old_mode)

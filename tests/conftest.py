"""Shared fixtures.

``both_modes`` runs a test body twice, building a graph and executing eagerly::

    def test_add(both_modes):
        x = rt.constant([1.0, 2.0])
        np.testing.assert_allclose(both_modes.evaluate(x + 1), [2.0, 3.0])

or, without using the fixture's value, mark the test ``@pytest.mark.both_modes`` and call
``rt`` directly. Each run gets a fresh default graph (graph mode: a Session on it, which
initializes new global variables before each ``evaluate``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import rillet as rt
from rillet.eager import nest


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "both_modes: run the test in graph mode and in eager "
                                       "mode")


def pytest_generate_tests(metafunc: Any) -> None:
    if metafunc.definition.get_closest_marker("both_modes") and \
            "both_modes" not in metafunc.fixturenames:
        metafunc.fixturenames.append("both_modes")
        metafunc.parametrize("both_modes", ["graph", "eager"], indirect=True)


class Mode:
    """The mode a ``both_modes`` test runs in, and how to get values out of tensors."""

    def __init__(self, eager: bool, graph: rt.Graph):
        self.eager = eager
        self.name = "eager" if eager else "graph"
        self.graph = graph
        self._sess: rt.Session | None = None
        self._initialized: set[int] = set()

    @property
    def session(self) -> rt.Session:
        if self._sess is None:
            self._sess = rt.Session(graph=self.graph)
        return self._sess

    def evaluate(self, tensors: Any) -> Any:
        """NumPy values of (a nested structure of) tensors, variables or ops."""
        if self.eager:
            return nest.map_structure(_numpy, tensors)
        self.initialize()
        flat = nest.flatten(tensors)
        fetch = [x.value() if isinstance(x, rt.Variable) else x for x in flat]
        tensors_only = [x for x in fetch if x is not None and not isinstance(x, int | float |
                                                                             np.ndarray)]
        vals = iter(self.session.run(tensors_only))
        out = [next(vals) if x is not None and not isinstance(x, int | float | np.ndarray)
               else x for x in fetch]
        return nest.pack_sequence_as(tensors, out)

    def initialize(self) -> None:
        """Graph mode: runs the initializers of global variables not yet initialized."""
        if self.eager:
            return
        new = [v for v in self.graph.get_collection(rt.GraphKeys.GLOBAL_VARIABLES) +
               self.graph.get_collection(rt.GraphKeys.LOCAL_VARIABLES)
               if id(v) not in self._initialized]
        if new:
            self.session.run([v.initializer for v in new])
            self._initialized.update(id(v) for v in new)

    def close(self) -> None:
        if self._sess is not None:
            self._sess.close()

    def __repr__(self) -> str:
        return self.name


def _numpy(x: Any) -> Any:
    if x is None:
        return None
    if hasattr(x, "numpy"):
        return x.numpy()
    return np.asarray(x)


@pytest.fixture(params=["graph", "eager"])
def both_modes(request: Any) -> Iterator[Mode]:
    """Runs the test in graph mode (fresh default graph + Session) and in eager mode."""
    eager = request.param == "eager"
    g = rt.Graph()
    mode = Mode(eager, g)
    with g.as_default(), (rt.eager_mode() if eager else rt.graph_mode()):
        try:
            yield mode
        finally:
            mode.close()

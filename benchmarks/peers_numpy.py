"""Plain NumPy: the floor for eager dispatch (what rillet's eager mode wraps)."""

from __future__ import annotations


def setup():
    import numpy

    return numpy


def info(np) -> dict:
    return {"numpy": np.__version__}


def eager_add(np, data):
    a, b = data["a"], data["b"]
    return lambda: a + b


BUILDERS = {"eager_add": eager_add}


def make_step(workload: str, data):
    """The NumPy step for `workload`."""
    return BUILDERS[workload](setup(), data)

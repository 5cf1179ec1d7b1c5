"""Run-time error types raised by input pipelines.

Each is a :mod:`rillet.errors` ``OpError`` (so a graph-mode ``get_next()`` kernel can pass it on
unchanged) and also the matching builtin exception, so plain Python code can catch ``TypeError``,
``ValueError`` or ``FileNotFoundError`` as it would expect.
"""

from __future__ import annotations

from rillet import errors


class DataInvalidArgumentError(errors.InvalidArgumentError, ValueError):
    """A pipeline element had the wrong shape, structure or value (``InvalidArgumentError``)."""

    def __init__(self, message: str):
        super().__init__(None, None, message)


class DataTypeError(errors.InvalidArgumentError, TypeError):
    """A pipeline element had the wrong dtype or was not convertible (``InvalidArgumentError``)."""

    def __init__(self, message: str):
        super().__init__(None, None, message)


class DataNotFoundError(errors.NotFoundError, FileNotFoundError):
    """An input file does not exist (``NotFoundError``)."""

    def __init__(self, message: str):
        super().__init__(None, None, message)

"""``tf.app``: ``run(main)`` and ``flags`` (an argparse-backed ``FLAGS`` object), as TF 1.x
scripts use them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any


class _Flags:
    """Attribute access to parsed flags; parsing happens on first access or in ``run``."""

    def __init__(self) -> None:
        object.__setattr__(self, "_parser", argparse.ArgumentParser(allow_abbrev=False))
        object.__setattr__(self, "_values", None)
        object.__setattr__(self, "_defaults", {})
        object.__setattr__(self, "_bools", set())

    def _define(self, kind: Any, name: str, default: Any, help: str | None) -> None:
        self._defaults[name] = default
        if kind is bool:
            # absl style: --name, --noname, --name=true|false (never consumes the next arg)
            self._parser.add_argument(f"--{name}", action="store_true", default=default,
                                      help=help)
            self._parser.add_argument(f"--no{name}", dest=name, action="store_false")
            self._bools.add(name)
        elif kind == "list":
            self._parser.add_argument(f"--{name}", default=default,
                                      type=lambda s: s.split(","), help=help)
        else:
            self._parser.add_argument(f"--{name}", type=kind, default=default, help=help)

    def _parse(self, argv: list[str] | None = None) -> list[str]:
        args = []
        for a in sys.argv[1:] if argv is None else argv[1:]:
            name, eq, val = a[2:].partition("=")
            if a.startswith("--") and eq and name in self._bools:
                a = f"--{name}" if val.lower() in ("1", "true", "yes") else f"--no{name}"
            args.append(a)
        values, rest = self._parser.parse_known_args(args)
        object.__setattr__(self, "_values", values)
        return [sys.argv[0] if argv is None else argv[0], *rest]

    def __getattr__(self, name: str) -> Any:
        if self._values is None:
            self._parse()
        try:
            return getattr(self._values, name)
        except AttributeError:
            raise AttributeError(f"Unknown command line flag '{name}'") from None

    def __setattr__(self, name: str, value: Any) -> None:
        if self._values is None:
            self._parse()
        setattr(self._values, name, value)

    def __call__(self, argv: list[str]) -> list[str]:
        return self._parse(argv)

    def flag_values_dict(self) -> dict[str, Any]:
        """``{flag name: value}`` for every defined flag (parsing the command line first)."""
        if self._values is None:
            self._parse()
        return {name: getattr(self._values, name) for name in self._defaults}

    def __contains__(self, name: str) -> bool:
        return name in self._defaults

    def __iter__(self) -> Any:
        return iter(list(self._defaults))

    def is_parsed(self) -> bool:
        return self._values is not None

    def mark_as_parsed(self) -> None:
        if self._values is None:
            self._parse([sys.argv[0]])


FLAGS = _Flags()


class flags:  # noqa: N801 - TF's module-like name
    """``tf.app.flags``: DEFINE_string/integer/float/boolean/list and ``FLAGS``."""

    FLAGS = FLAGS

    @staticmethod
    def DEFINE_string(name: str, default: Any, help: str | None = None) -> None:  # noqa: N802
        FLAGS._define(str, name, default, help)

    @staticmethod
    def DEFINE_integer(name: str, default: Any, help: str | None = None) -> None:  # noqa: N802
        FLAGS._define(int, name, default, help)

    @staticmethod
    def DEFINE_float(name: str, default: Any, help: str | None = None) -> None:  # noqa: N802
        FLAGS._define(float, name, default, help)

    @staticmethod
    def DEFINE_boolean(name: str, default: Any, help: str | None = None) -> None:  # noqa: N802
        FLAGS._define(bool, name, default, help)

    DEFINE_bool = DEFINE_boolean

    @staticmethod
    def DEFINE_list(name: str, default: Any, help: str | None = None) -> None:  # noqa: N802
        FLAGS._define("list", name, default, help)


def run(main: Callable | None = None, argv: list[str] | None = None) -> None:
    """Parses flags, then calls ``main(argv)`` (or ``__main__.main``) and exits with its code."""
    rest = FLAGS._parse(argv)
    if main is None:
        main = sys.modules["__main__"].main
    sys.exit(main(rest))

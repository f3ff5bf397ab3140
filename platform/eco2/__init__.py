"""eco2: the runtime library vendored into every function image.

A function's ``main.py`` builds a :class:`Function`, declares its routes and
exports ``handle`` for functions-framework. Everything heavy (psycopg, redis,
JWT crypto) is imported by the module that uses it, on first use, so that a
function only pays at cold start for what its first request needs.

The names below are loaded on first use (PEP 562): ``python -m eco2.serve``
imports this package before any function does, and the server itself needs
none of eco2.app (pydantic, werkzeug), so a bare function served by it (the
benchmarks' hello world) starts as it would under functions-framework's own
command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eco2.app import Call, Function
    from eco2.problems import Problem

__all__ = ["Call", "Function", "Problem"]


def __getattr__(name: str) -> Any:
    if name in ("Call", "Function"):
        from eco2 import app

        return getattr(app, name)
    if name == "Problem":
        from eco2.problems import Problem

        return Problem
    raise AttributeError(f"module 'eco2' has no attribute {name!r}")

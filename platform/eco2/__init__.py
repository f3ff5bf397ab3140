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

import os
from typing import TYPE_CHECKING, Any

# pydantic looks for plugins (the `pydantic` entry-point group) when it builds
# its first model: a read of every installed distribution's metadata, 1.3 % of a
# database route's cold start (docs/bench.md). eco2 uses none. Set here, before
# any eco2 model exists (every eco2 module imports this package first); a
# deployment that wants a plugin sets the variable itself ("" loads them all).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

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

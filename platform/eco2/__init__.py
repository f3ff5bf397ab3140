"""eco2: the runtime library vendored into every function image.

A function's ``main.py`` builds a :class:`Function`, declares its routes and
exports ``handle`` for functions-framework. Everything heavy (psycopg, redis,
JWT crypto) is imported by the module that uses it, on first use, so that a
function only pays at cold start for what its first request needs.
"""

from eco2.app import Call, Function
from eco2.problems import Problem

__all__ = ["Call", "Function", "Problem"]

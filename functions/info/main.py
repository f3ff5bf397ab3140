"""info: Waste categories, disposal guides, FAQ and search."""

from eco2 import Function

fn = Function("info", "/api/v1/info")

handle = fn.build()

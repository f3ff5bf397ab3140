"""character: The character catalog, ownership and collection analysis."""

from eco2 import Function

fn = Function("character", "/api/v1/character")

handle = fn.build()

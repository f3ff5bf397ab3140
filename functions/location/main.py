"""location: Collection points and zero-waste shops near a position."""

from eco2 import Function

fn = Function("location", "/api/v1/locations")

handle = fn.build()

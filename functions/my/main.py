"""my: The user's profile, points balance and ledger, and scan history."""

from eco2 import Function

fn = Function("my", "/api/v1/user")

handle = fn.build()

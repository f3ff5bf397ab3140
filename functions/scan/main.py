"""scan: Photo to category to disposal guide to reward, in one transaction."""

from eco2 import Function

fn = Function("scan", "/api/v1/scan")

handle = fn.build()

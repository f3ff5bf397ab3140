"""Opaque keyset cursors: the position after the last row of a page.

A cursor is base64url JSON of the sort key of the page's last row; the next
page continues strictly after it, so rows inserted meanwhile never shift it.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from pydantic import BaseModel, Field

from eco2.problems import Problem


class PageQuery(BaseModel):
    cursor: str | None = Field(None, max_length=256, description="next_cursor of the previous page")
    limit: int = Field(20, ge=1, le=100)


def encode(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), default=str).encode()).decode().rstrip("=")


def decode(cursor: str | None, *types: type) -> tuple[Any, ...] | None:
    """The key in ``cursor``, each part converted by ``types``; a 422 for any
    cursor this service did not make."""
    if cursor is None:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(types):
            raise ValueError
        return tuple(kind(value) for kind, value in zip(types, raw))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid_cursor("not a cursor from this service") from None


def invalid_cursor(reason: str, detail: str = "The cursor is not valid.") -> Problem:
    """The 422 for a ``cursor`` query parameter that cannot be used: one we did
    not make, or one made for another listing."""
    return Problem(422, detail, slug="validation",
                   errors=[{"loc": ["query", "cursor"], "msg": reason, "type": "cursor"}])


def page(rows: list[dict[str, Any]], limit: int, *key: str) -> tuple[list[dict[str, Any]], str | None]:
    """Split ``rows`` (fetched with ``limit + 1``) into the page and the cursor
    after its last row (None when there is no further page)."""
    items = rows[:limit]
    more = len(rows) > limit
    return items, encode(*(items[-1][k] for k in key)) if more else None

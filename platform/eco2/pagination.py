"""Opaque keyset cursors: the position after the last row of a page.

A cursor is base64url JSON of the sort key of the page's last row; the next
page continues strictly after it, so rows inserted meanwhile never shift it.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import datetime, timezone
from typing import Any, Callable
from uuid import UUID

from pydantic import BaseModel, Field

from eco2.problems import Problem


class PageQuery(BaseModel):
    cursor: str | None = Field(None, max_length=256, description="next_cursor of the previous page")
    limit: int = Field(20, ge=1, le=100)


# One encoder for every cursor: json.dumps builds a new one per call when given
# an option (default=): 3 µs of a page's read.
_dumps = json.JSONEncoder(default=str).encode


def encode(*key: Any) -> str:
    return base64.urlsafe_b64encode(_dumps(list(key)).encode()).decode().rstrip("=")


def decode(cursor: str | None, *kinds: Callable[[Any], Any]) -> tuple[Any, ...] | None:
    """The key in ``cursor``, each part checked and converted by ``kinds``
    (:func:`bigint`, :func:`finite`, :func:`uuid`, :func:`timestamp`,
    :func:`text`, or a function of the caller's that raises ValueError); a 422
    for any cursor this service did not make, and for any that does not decode
    to values within their columns' ranges."""
    if cursor is None:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise ValueError
        return tuple(kind(value) for kind, value in zip(kinds, raw))
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error, UnicodeDecodeError):
        raise invalid_cursor("not a cursor from this service") from None


# The kinds of a cursor's parts. Each takes what JSON gave (so a str, an int, a
# float, a list...), and returns the value in its column's range or raises
# ValueError: a forged cursor must be a 422 here, never an error from Python
# (OverflowError) or from PostgreSQL (bigint out of range) later.
BIGINT_MIN, BIGINT_MAX = -(1 << 63), (1 << 63) - 1


def bigint(value: Any) -> int:
    """A PostgreSQL bigint (an id): a JSON integer, not a float, not a bool."""
    if type(value) is not int or not BIGINT_MIN <= value <= BIGINT_MAX:
        raise ValueError("not a bigint")
    return value


def finite(value: Any) -> float:
    """A finite number (a distance): JSON's Infinity and NaN, and 1e400, are not."""
    if type(value) not in (int, float) or not math.isfinite(value):
        raise ValueError("not a finite number")
    return float(value)


def uuid(value: Any) -> UUID:
    if not isinstance(value, str):
        raise ValueError("not a UUID")
    return UUID(value)


def timestamp(value: Any) -> datetime:
    """An instant with its offset, as a timestamptz column gives it, in UTC: an
    offset PostgreSQL would refuse (over 15:59) cannot reach it."""
    if not isinstance(value, str):
        raise ValueError("not a timestamp")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a timestamp without an offset")
    return moment.astimezone(timezone.utc)


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value


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

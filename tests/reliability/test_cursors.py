"""Forged pagination cursors are a 422, never a 500 (issue 11, item 3).

The failing cursors of the review: ``[Infinity]`` and ``[1e400]`` (OverflowError
in int()), ``[9223372036854775808]`` (past PostgreSQL's bigint), and a scans
cursor whose second part is not a UUID string (AttributeError in UUID()). The
decoder is property-tested: whatever the cursor, it gives values within their
columns' ranges or a 422.
"""

from __future__ import annotations

import base64
import json
import math
from datetime import datetime, timezone
from typing import Any, Iterator
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eco2 import pagination
from eco2.problems import Problem
from eco2.testing import Client

from ..support import bearer, is_problem
from .conftest import BY_NAME, report

# The listings' cursors: the parts each one decodes to, as its route asks for them.
LISTINGS = {
    "points": (pagination.bigint,),
    "scans": (pagination.timestamp, pagination.uuid),
    "faq": (pagination.text,),
}

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
    | st.sampled_from(["Infinity", "NaN", "2026-01-01T00:00:00+20:00", "0001-01-01T00:00:00-01:00"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


def forge(value: Any) -> str:
    """A cursor as this service writes one, around any JSON (Infinity and NaN included)."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def in_range(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return pagination.BIGINT_MIN <= value <= pagination.BIGINT_MAX
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, datetime):
        return value.utcoffset() is not None and value.utcoffset().total_seconds() == 0
    return isinstance(value, (str, UUID))


def decoded_or_422(cursor: str, kinds: tuple) -> tuple | None:
    try:
        return pagination.decode(cursor, *kinds)
    except Problem as problem:
        assert problem.status == 422 and problem.errors[0]["loc"] == ["query", "cursor"]
        return None


@settings(max_examples=300, deadline=None)
@given(listing=st.sampled_from(sorted(LISTINGS)), parts=st.lists(JSON, max_size=3))
def test_any_json_cursor_decodes_in_range_or_is_a_422(listing: str, parts: list[Any]) -> None:
    got = decoded_or_422(forge(parts), LISTINGS[listing])
    if got is not None:
        assert len(got) == len(LISTINGS[listing]) and all(in_range(v) for v in got), got


@settings(max_examples=200, deadline=None)
@given(listing=st.sampled_from(sorted(LISTINGS)), cursor=st.text(max_size=256))
def test_any_text_cursor_decodes_in_range_or_is_a_422(listing: str, cursor: str) -> None:
    got = decoded_or_422(cursor, LISTINGS[listing])
    if got is not None:
        assert all(in_range(v) for v in got), got


@settings(max_examples=200, deadline=None)
@given(
    number=st.integers(pagination.BIGINT_MIN, pagination.BIGINT_MAX),
    moment=st.datetimes(timezones=st.just(timezone.utc)),
    ident=st.uuids(),
)
def test_cursors_this_service_makes_decode_to_their_key(number: int, moment: datetime, ident: UUID) -> None:
    assert pagination.decode(pagination.encode(number), pagination.bigint) == (number,)
    assert pagination.decode(pagination.encode(moment, ident), pagination.timestamp, pagination.uuid) == (
        moment, ident)


# -- through the routes ---------------------------------------------------------------------------

FORGED = {
    "[Infinity]": "[Infinity]",
    "[1e400]": "[1e400]",
    "[-1e400]": "[-1e400]",
    "[NaN]": "[NaN]",
    "past bigint": "[9223372036854775808]",
    "below bigint": "[-9223372036854775809]",
    "a float id": "[1.5]",
    "true": "[true]",
    "scan: id not a string": '["2026-01-01T00:00:00+00:00", 123]',
    "scan: id not a uuid": '["2026-01-01T00:00:00+00:00", "x"]',
    "scan: no offset": '["2026-01-01T00:00:00", "00000000-0000-0000-0000-000000000000"]',
    "scan: a time not a string": '[1e400, "00000000-0000-0000-0000-000000000000"]',
    "centers: infinite distance": '[Infinity, [1], "abc"]',
    "centers: ids past bigint": '[1.0, [9223372036854775808], "abc"]',
    "centers: ids not a list": '[1.0, 5, "abc"]',
}

ROUTES = {
    "points history": ("my", "/api/v1/user/me/points/history", {}),
    "scans": ("my", "/api/v1/user/me/scans", {}),
    "faq": ("info", "/api/v1/info/faq", {}),
    "centers": ("location", "/api/v1/locations/centers", {"lat": "37.5", "lon": "127.0"}),
}


@pytest.fixture(scope="module")
def listing_clients(reliability_env: dict[str, str]) -> Iterator[dict[str, Client]]:
    loaded = {name: Client(BY_NAME[name].source, env=reliability_env) for name in ("my", "info", "location")}
    yield loaded
    for client in loaded.values():
        client.close()


def test_forged_cursors_are_a_422_on_every_listing(listing_clients: dict[str, Client], mint) -> None:
    from urllib.parse import urlencode

    _, token = mint()
    wrong = []
    for route, (function, path, query) in ROUTES.items():
        for name, raw in FORGED.items():
            cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
            result = listing_clients[function].get(f"{path}?{urlencode({**query, 'cursor': cursor})}",
                                                   headers=bearer(token))
            if not is_problem(result, 422):
                wrong.append(f"{route} {name} -> {result.status} {result.body[:120]!r}")
    report(f"cursors: {len(FORGED)} forged cursors × {len(ROUTES)} listings; {len(wrong)} not a 422")
    assert wrong == []

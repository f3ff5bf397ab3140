"""character: the character catalog, and the user's collection analysis."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from werkzeug.wrappers import Response

from eco2 import Call, Function

fn = Function("character", "/api/v1/character")


class CatalogEntry(BaseModel):
    code: str
    name: str
    category: str | None
    items: list[str]
    tip: str
    default: bool


class CharacterStatus(BaseModel):
    code: str
    name: str
    category: str | None
    owned: bool
    acquired_at: datetime | None
    how_to_earn: str | None = None


class CategoryScans(BaseModel):
    category: str
    scans: int
    correct: int
    last_missing_steps: list[str]


class Blocked(BaseModel):
    category: str
    code: str
    missing_steps: list[str]


class Suggestion(BaseModel):
    code: str
    name: str
    reason: Literal["missing_step", "scanned_often", "new_category"]
    missing_steps: list[str]


class Analysis(BaseModel):
    owned: int
    total: int
    characters: list[CharacterStatus]
    scans_by_category: list[CategoryScans]
    blocked: list[Blocked]
    suggestion: Suggestion | None


@functools.cache
def _catalog_json() -> bytes:
    """The catalog never changes while the function runs: serialized once."""
    from pydantic import TypeAdapter

    from eco2 import characters

    entries = [
        CatalogEntry(code=c.code, name=c.name, category=c.category, items=list(c.items), tip=c.tip, default=c.default)
        for c in characters.catalog()
    ]
    return TypeAdapter(list[CatalogEntry]).dump_json(entries)


@fn.get("/catalog", response=list[CatalogEntry])
def catalog(call: Call) -> Response:
    """Every character, the mascot first (public)."""
    response = Response(_catalog_json(), content_type="application/json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@fn.get("/me/analysis", auth=True, response=Analysis)
def analysis(call: Call) -> dict:
    """Owned and missing characters, scans per category, what holds a character back, what next."""
    from eco2.analysis import analyse

    with call.db.read() as conn:
        return analyse(conn, call.user.id)


handle = fn.build()

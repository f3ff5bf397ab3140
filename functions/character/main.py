"""character: the character catalog, and the user's collection analysis."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from eco2 import Call, Function

fn = Function("character", "/api/v1/character")


class CatalogEntry(BaseModel):
    code: str
    name: str
    category: str | None
    items: list[str]
    tip: str
    default: bool
    # The original's fields, which the released app reads.
    type: str = Field(description="The item types it stands for, comma-separated (the original's type)")
    dialog: str = Field(description="What the character says: its tip")
    match: str = Field(description="The middle category it matches; the mascot's label for the mascot")


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


@fn.get("/catalog", response=list[CatalogEntry], cache="public, max-age=3600", static=True)
def catalog(call: Call) -> tuple[Any, ...]:
    """Every character, the mascot first (public)."""
    from eco2.character import catalog

    return catalog.characters()


@fn.get("/me/analysis", auth=True, response=Analysis)
def analysis(call: Call) -> dict[str, Any]:
    """Owned and missing characters, scans per category, what holds a character back, what next."""
    from eco2.character.analysis import analyse

    with call.db.read() as conn:
        return analyse(conn, call.user.id)


handle = fn.build()

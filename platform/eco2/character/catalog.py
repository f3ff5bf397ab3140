"""The character catalog (shipped in data/characters.json) and ownership.

Each of the 13 characters is owned at most once per user (primary key
``(user_id, character_code)``): the mascot 이코 on the first profile read, the
others for a correctly prepared recyclable scan of their category.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eco2.db import Connection


@dataclass(frozen=True)
class Character:
    code: str
    name: str
    category: str | None  # the recyclable middle category it matches; None for the mascot
    items: tuple[str, ...]
    tip: str
    default: bool
    position: int


@lru_cache(maxsize=1)
def characters() -> tuple[Character, ...]:
    """Every character, the mascot first (read once per process)."""
    raw = json.loads(resources.files("eco2").joinpath("data/characters.json").read_text(encoding="utf-8"))
    return tuple(
        Character(c["code"], c["name"], c["category"], tuple(c["items"]), c["tip"], c["default"], i)
        for i, c in enumerate(raw)
    )


def by_code(code: str) -> Character | None:
    return next((c for c in characters() if c.code == code), None)


def for_category(category: str | None) -> Character | None:
    return next((c for c in characters() if category and c.category == category), None)


def mascot() -> Character:
    return next(c for c in characters() if c.default)


def sync(conn: "Connection") -> None:
    """Upsert the shipped catalog into ``character.characters`` (a seed loader)."""
    for c in characters():
        conn.execute(
            """INSERT INTO character.characters (code, name, category, items, tip, is_default, position)
               VALUES (%s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (code) DO UPDATE SET name = excluded.name, category = excluded.category,
                   items = excluded.items, tip = excluded.tip, is_default = excluded.is_default,
                   position = excluded.position""",
            (c.code, c.name, c.category, list(c.items), c.tip, c.default, c.position),
        )


def grant(conn: "Connection", user_id: str, code: str, source: str, source_id: str) -> bool:
    """Give ``code`` to the user; False when it was owned already."""
    row = conn.execute(
        """INSERT INTO character.ownerships (user_id, character_code, source, source_id)
           VALUES (%s, %s, %s, %s)
           ON CONFLICT (user_id, character_code) DO NOTHING
           RETURNING 1""",
        (user_id, code, source, source_id),
    ).fetchone()
    return row is not None


def owned(conn: "Connection", user_id: str) -> dict[str, datetime]:
    """The user's characters: code -> acquired_at."""
    rows = conn.execute(
        "SELECT character_code, acquired_at FROM character.ownerships WHERE user_id = %s", (user_id,)
    ).fetchall()
    return dict(rows)

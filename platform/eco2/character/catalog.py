"""The character catalog (shipped in data/characters.json) and ownership.

Each of the 13 characters is owned at most once per user (primary key
``(user_id, character_code)``): the mascot 이코 on the first profile read, the
others for a correctly prepared recyclable scan of their category.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eco2.db import Connection

# The original catalog's match label of the mascot, which matches no category.
MASCOT_MATCH = "대표 캐릭터"
# Stable UUIDs for the original's character ids, derived from the codes.
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:eco2:character")


@dataclass(frozen=True)
class Character:
    code: str
    name: str
    category: str | None  # the recyclable middle category it matches; None for the mascot
    items: tuple[str, ...]
    tip: str
    default: bool
    position: int

    @property
    def id(self) -> uuid.UUID:
        """The character's id in the original's shapes: a UUID, stable per code."""
        return uuid.uuid5(_ID_NAMESPACE, self.code)

    @property
    def type(self) -> str:
        """The original's item string: the item types it stands for, comma-separated."""
        return ", ".join(self.items) if self.items else MASCOT_MATCH

    @property
    def dialog(self) -> str:
        """What the character says (the original's ``dialog``): its tip."""
        return self.tip

    @property
    def match(self) -> str:
        """The original's match label: the middle category, or the mascot's label."""
        return self.category or MASCOT_MATCH


@lru_cache(maxsize=1)
def characters() -> tuple[Character, ...]:
    """Every character, the mascot first (read once per process)."""
    raw = json.loads(resources.files("eco2").joinpath("data/characters.json").read_text(encoding="utf-8"))
    return tuple(
        Character(c["code"], c["name"], c["category"], tuple(c["items"]), c["tip"], c["default"], i)
        for i, c in enumerate(raw)
    )


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, Character], dict[str, Character]]:
    """The characters by code and by category (the mascot has none)."""
    found = characters()
    return {c.code: c for c in found}, {c.category: c for c in found if c.category}


def by_code(code: str) -> Character | None:
    return _index()[0].get(code)


def by_code_or_name(key: str) -> Character | None:
    """The character whose code or (Korean) name is ``key``: the original app
    names characters by name, eco2's clients by code."""
    return next((c for c in characters() if key in (c.code, c.name)), None)


def for_category(category: str | None) -> Character | None:
    return _index()[1].get(category) if category else None


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

"""The character analysis: the collection so far and what to do next."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from eco2.character import catalog

if TYPE_CHECKING:
    from eco2.db import Connection

# What the analysis reads, in one statement (one round trip): the user's
# characters (code -> acquired_at) and, per middle (or major) category of
# their scans, how many, how many correct, and the steps missed on the latest
# incorrect one. As JSON, which the response model parses: cheaper than rows
# and arrays decoded one value at a time.
_READ = """
SELECT (SELECT coalesce(json_object_agg(character_code, acquired_at), '{}')
          FROM character.ownerships WHERE user_id = %(user)s) AS owned,
       (SELECT coalesce(json_agg(c ORDER BY c.scans DESC, c.category), '[]')
          FROM (SELECT c.category, c.scans, c.correct,
                       coalesce(last.missing_steps, '{}') AS last_missing_steps
                  FROM (SELECT coalesce(middle_category, major_category) AS category,
                               count(*) AS scans, count(*) FILTER (WHERE correct) AS correct
                          FROM scan.scans WHERE user_id = %(user)s GROUP BY 1) c
                  LEFT JOIN LATERAL (
                        SELECT s.missing_steps FROM scan.scans s
                         WHERE s.user_id = %(user)s AND NOT s.correct
                           AND coalesce(s.middle_category, s.major_category) = c.category
                         ORDER BY s.created_at DESC LIMIT 1) last ON true) c) AS per_category
"""


def analyse(conn: "Connection", user_id: str) -> dict[str, Any]:
    owned, per_category = conn.execute(_READ, {"user": user_id}).fetchone()
    scanned = {row["category"]: row for row in per_category}
    entries = []
    for c in catalog.characters():
        entry: dict[str, Any] = {"code": c.code, "name": c.name, "category": c.category,
                                 "owned": c.code in owned, "acquired_at": owned.get(c.code)}
        if c.code not in owned:
            entry["how_to_earn"] = _how_to_earn(c)
        entries.append(entry)
    # Scanned recyclables whose character is still missing because a step was skipped.
    blocked = [
        {"category": row["category"], "code": match.code, "missing_steps": row["last_missing_steps"]}
        for row in per_category
        if (match := catalog.for_category(row["category"])) and match.code not in owned
        and row["last_missing_steps"]
    ]
    return {
        "owned": len(owned),
        "total": len(catalog.characters()),
        "characters": entries,
        "scans_by_category": per_category,
        "blocked": blocked,
        "suggestion": _suggest(owned, scanned, blocked),
    }


@lru_cache(maxsize=None)
def _how_to_earn(c: catalog.Character) -> str:
    """How a missing character is met (the same text for every user)."""
    if c.category:
        return f"'{c.category}' 품목을 올바르게 분리해 스캔하면 만날 수 있어요. {c.tip}"
    return "프로필을 처음 열면 만날 수 있어요."


def _suggest(owned: dict[str, Any], scanned: dict[str, Any], blocked: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The nearest character: one a skipped step is keeping back, else the
    category the user scans most without owning it, else the first unowned."""
    if blocked:
        first = blocked[0]
        c = catalog.by_code(first["code"])
        return {"code": c.code, "name": c.name, "reason": "missing_step", "missing_steps": first["missing_steps"]}
    candidates = [c for c in catalog.characters() if c.category and c.code not in owned]
    if not candidates:
        return None
    candidates.sort(key=lambda c: -scanned.get(c.category, {}).get("scans", 0))
    c = candidates[0]
    reason = "scanned_often" if c.category in scanned else "new_category"
    return {"code": c.code, "name": c.name, "reason": reason, "missing_steps": []}

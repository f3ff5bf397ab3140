"""Read side of the scan history (schema ``scan``): my lists it (character's
analysis reads its per-category counts in its own statement, eco2.character.analysis)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from eco2 import db

if TYPE_CHECKING:
    from eco2.db import Connection


def history(conn: "Connection", user_id: str, after: tuple[datetime, Any] | None, limit: int) -> list[dict[str, Any]]:
    """Newest first, keyset-paginated by (created_at, id)."""
    return db.rows(
        conn,
        """SELECT id, created_at, major_category, middle_category, item, recyclable, correct,
                  missing_steps, points, character_code
             FROM scan.scans
            WHERE user_id = %s AND (%s::timestamptz IS NULL OR (created_at, id) < (%s, %s::uuid))
            ORDER BY created_at DESC, id DESC LIMIT %s""",
        (user_id, after and after[0], after and after[0], after and after[1], limit),
    )


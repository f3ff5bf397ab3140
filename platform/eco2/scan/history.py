"""Read side of the scan history (schema ``scan``): my lists it, character analyses it."""

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


def by_category(conn: "Connection", user_id: str) -> list[dict[str, Any]]:
    """Per middle (or major) category: scans, correct ones, and the steps
    missed on the latest incorrect scan."""
    return db.rows(
        conn,
        """SELECT c.category, c.scans, c.correct,
                  coalesce(last.missing_steps, '{}') AS last_missing_steps
             FROM (SELECT coalesce(middle_category, major_category) AS category,
                          count(*) AS scans, count(*) FILTER (WHERE correct) AS correct
                     FROM scan.scans WHERE user_id = %s GROUP BY 1) c
             LEFT JOIN LATERAL (
                   SELECT s.missing_steps FROM scan.scans s
                    WHERE s.user_id = %s AND NOT s.correct
                      AND coalesce(s.middle_category, s.major_category) = c.category
                    ORDER BY s.created_at DESC LIMIT 1) last ON true
            ORDER BY c.scans DESC, c.category""",
        (user_id, user_id),
    )

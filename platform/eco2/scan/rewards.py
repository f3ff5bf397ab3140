"""What a scan earns: points and, for a correctly prepared recyclable item,
the character of its category. Runs inside the caller's transaction, so scan
records the scan and its reward atomically."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from eco2.character import catalog
from eco2.my import points

if TYPE_CHECKING:
    from eco2.db import Connection

RECYCLABLE = "재활용폐기물"


@dataclass(frozen=True)
class ScanReward:
    points: int
    capped: bool                         # the daily cap was reached: 0 points, said so
    character: catalog.Character | None  # newly granted by this scan
    character_points: int


def award_scan(conn: "Connection", user_id: str, scan_id: str, *, major: str, middle: str | None, correct: bool) -> ScanReward:
    good = major == RECYCLABLE and correct
    reason = "scan_correct" if good else "scan"
    points.lock_balance(conn, user_id)  # one user's awards in turn: the cap counts right
    capped = points.scans_today(conn, user_id) >= points.DAILY_SCAN_CAP
    amount = 0
    if not capped and points.credit(conn, user_id, reason, scan_id, points.SCAN_CORRECT if good else points.SCAN_OTHER):
        amount = points.SCAN_CORRECT if good else points.SCAN_OTHER
    granted, bonus = None, 0
    match = catalog.for_category(middle) if good else None
    if match and catalog.grant(conn, user_id, match.code, "scan", scan_id):
        points.credit(conn, user_id, "character", match.code, points.NEW_CHARACTER)
        granted, bonus = match, points.NEW_CHARACTER
    return ScanReward(amount, capped, granted, bonus)

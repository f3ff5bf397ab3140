"""Points: the rules, in one place, and the append-only ledger that holds them.

=============================================  ======
rule                                           points
=============================================  ======
a scan of a recyclable item, correctly prepared  +10
any other completed scan                           +2
each new character (the mascot 이코 included)      +30
point-earning scans per user per Asia/Seoul day    20 (then 0, and the scan says so)
=============================================  ======

Levels follow lifetime points (never lowered by spending):

=====  ===========  ==============
level  name         lifetime from
=====  ===========  ==============
1      새싹          0
2      떡잎          50
3      묘목          150
4      나무          400
5      숲            1,000
6      지구지킴이     2,500
=====  ===========  ==============

Every ledger row has a reason and a source id, unique per (user, reason,
source): replaying an award inserts nothing and changes no balance. The
balance row is updated in the same transaction as its ledger row, so the
two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eco2.db import Connection

SCAN_CORRECT = 10
SCAN_OTHER = 2
NEW_CHARACTER = 30
DAILY_SCAN_CAP = 20
TIMEZONE = "Asia/Seoul"

LEVELS: tuple[tuple[int, str, int], ...] = (
    (1, "새싹", 0),
    (2, "떡잎", 50),
    (3, "묘목", 150),
    (4, "나무", 400),
    (5, "숲", 1000),
    (6, "지구지킴이", 2500),
)
SCAN_REASONS = ("scan_correct", "scan")


@dataclass(frozen=True)
class Level:
    level: int
    name: str
    next_level_at: int | None  # lifetime points of the next level; None at the top


def level_for(lifetime: int) -> Level:
    current = max((lv for lv in LEVELS if lifetime >= lv[2]), key=lambda lv: lv[0])
    following = next((lv for lv in LEVELS if lv[0] == current[0] + 1), None)
    return Level(current[0], current[1], following[2] if following else None)


def lock_balance(conn: "Connection", user_id: str) -> None:
    """Create the user's balance row if needed and lock it for this transaction:
    one user's awards then run one at a time (the daily cap counts correctly)."""
    conn.execute(
        "INSERT INTO my.point_balances (user_id) VALUES (%s) ON CONFLICT (user_id) DO NOTHING", (user_id,)
    )
    conn.execute("SELECT 1 FROM my.point_balances WHERE user_id = %s FOR UPDATE", (user_id,))


def credit(conn: "Connection", user_id: str, reason: str, source_id: str, amount: int, note: str | None = None) -> bool:
    """Append one entry and move the balance; False (and nothing changed) on replay."""
    lock_balance(conn, user_id)
    row = conn.execute(
        """INSERT INTO my.point_ledger (user_id, amount, reason, source_id, note)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (user_id, reason, source_id) DO NOTHING
           RETURNING amount""",
        (user_id, amount, reason, source_id, note),
    ).fetchone()
    if row is None:
        return False
    conn.execute(
        """UPDATE my.point_balances
              SET balance = balance + %s, lifetime = lifetime + greatest(%s, 0)
            WHERE user_id = %s""",
        (amount, amount, user_id),
    )
    return True


def scans_today(conn: "Connection", user_id: str) -> int:
    """Point-earning scans credited today, Asia/Seoul."""
    (count,) = conn.execute(
        """SELECT count(*) FROM my.point_ledger
            WHERE user_id = %s AND reason = ANY(%s) AND amount > 0
              AND created_at >= date_trunc('day', now() AT TIME ZONE %s) AT TIME ZONE %s""",
        (user_id, list(SCAN_REASONS), TIMEZONE, TIMEZONE),
    ).fetchone()
    return int(count)


def totals(conn: "Connection", user_id: str) -> tuple[int, int]:
    """(balance, lifetime); (0, 0) for a user with no points yet."""
    row = conn.execute(
        "SELECT balance, lifetime FROM my.point_balances WHERE user_id = %s", (user_id,)
    ).fetchone()
    return (row[0], row[1]) if row else (0, 0)


# One page of the ledger as the answer's JSON (parsed by the response model as
# it is: cheaper than rows decoded into dicts), and the id after which the next
# page starts when one follows: the page's last id, if an older entry exists
# (one index probe). One scan of at most `limit` rows; the earlier form (limit
# + 1 rows in a CTE, counted and re-sorted) took ~80 µs more of PostgreSQL's
# time a call (docs/bench.md).
_HISTORY = """
SELECT coalesce(json_agg(p ORDER BY p.id DESC), '[]')::text,
       CASE WHEN count(*) = %(limit)s AND EXISTS (
                 SELECT 1 FROM my.point_ledger l WHERE l.user_id = %(user)s AND l.id < min(p.id))
            THEN min(p.id) END
  FROM (SELECT id, amount, reason, source_id, note, created_at FROM my.point_ledger
         WHERE user_id = %(user)s AND (%(before)s::bigint IS NULL OR id < %(before)s)
         ORDER BY id DESC LIMIT %(limit)s) p
"""


def history(conn: "Connection", user_id: str, before_id: int | None, limit: int) -> tuple[str, int | None]:
    """Ledger entries newest first, keyset-paginated by id: up to ``limit`` as
    a JSON array, and the last one's id when more follow (else None)."""
    page, last = conn.execute(_HISTORY, {"user": user_id, "before": before_id, "limit": limit}).fetchone()
    return page, last

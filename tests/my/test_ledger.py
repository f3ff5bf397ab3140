"""The points ledger and scan rewards: idempotent, capped, and always balanced."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg_pool import ConnectionPool

from eco2.my import points
from eco2.scan import rewards
from eco2.testing import Client

from ..support import ROOT, bearer

MY = ROOT / "functions" / "my" / "main.py"
RECYCLABLE = rewards.RECYCLABLE


@pytest.fixture(scope="module")
def pool(database_url: str):
    with ConnectionPool(database_url, min_size=4, max_size=16, kwargs={"prepare_threshold": None}) as p:
        yield p


def new_user(pool: ConnectionPool) -> str:
    with pool.connection() as conn:
        (user_id,) = conn.execute("INSERT INTO auth.users DEFAULT VALUES RETURNING id").fetchone()
    return str(user_id)


def award(pool: ConnectionPool, user_id: str, scan_id: str, major: str = RECYCLABLE,
          middle: str | None = "종이", correct: bool = True) -> rewards.ScanReward:
    with pool.connection() as conn, conn.transaction():
        return rewards.award_scan(conn, user_id, scan_id, major=major, middle=middle, correct=correct)


def ledger(pool: ConnectionPool, user_id: str) -> tuple[int, int, int]:
    """(balance, sum of ledger, ledger rows)."""
    with pool.connection() as conn:
        balance, _ = points.totals(conn, user_id)
        total, rows = conn.execute(
            "SELECT coalesce(sum(amount), 0), count(*) FROM my.point_ledger WHERE user_id = %s", (user_id,)
        ).fetchone()
    return balance, int(total), int(rows)


def test_correct_recyclable_scan_earns_points_and_character(pool: ConnectionPool) -> None:
    user = new_user(pool)
    first = award(pool, user, "scan-1", middle="무색페트병")
    assert first.points == points.SCAN_CORRECT
    assert first.character and first.character.code == "char-petty"
    assert first.character_points == points.NEW_CHARACTER
    second = award(pool, user, "scan-2", middle="무색페트병")
    assert second.points == points.SCAN_CORRECT and second.character is None  # owned once
    assert ledger(pool, user)[0] == 2 * points.SCAN_CORRECT + points.NEW_CHARACTER


@pytest.mark.parametrize(
    ("major", "middle", "correct"),
    [(RECYCLABLE, "종이", False), ("일반종량제폐기물", None, True), ("음식물류폐기물", None, False)],
)
def test_other_scans_earn_two_and_no_character(pool: ConnectionPool, major: str, middle: str | None, correct: bool) -> None:
    user = new_user(pool)
    reward = award(pool, user, "s", major=major, middle=middle, correct=correct)
    assert reward.points == points.SCAN_OTHER and reward.character is None


def test_replay_is_a_no_op(pool: ConnectionPool) -> None:
    user = new_user(pool)
    award(pool, user, "same")
    again = award(pool, user, "same")
    assert again.points == 0 and again.character is None
    assert ledger(pool, user) == (points.SCAN_CORRECT + points.NEW_CHARACTER,) * 2 + (2,)


def test_daily_cap(pool: ConnectionPool) -> None:
    user = new_user(pool)
    results = [award(pool, user, f"cap-{i}", major="일반종량제폐기물", middle=None) for i in range(points.DAILY_SCAN_CAP + 3)]
    assert [r.points for r in results] == [points.SCAN_OTHER] * points.DAILY_SCAN_CAP + [0] * 3
    assert [r.capped for r in results][-3:] == [True] * 3
    # a character is still granted once the cap is reached: it is not a scan award
    capped = award(pool, user, "cap-char", middle="유리병")
    assert capped.points == 0 and capped.capped and capped.character.code == "char-glassy"


def test_200_concurrent_awards_for_one_scan_credit_once(pool: ConnectionPool) -> None:
    user = new_user(pool)
    with ThreadPoolExecutor(max_workers=16) as ex:
        results = list(ex.map(lambda _: award(pool, user, "one-scan", middle="금속류"), range(200)))
    assert sum(r.points for r in results) == points.SCAN_CORRECT
    assert sum(1 for r in results if r.character) == 1
    balance, total, rows = ledger(pool, user)
    assert balance == total == points.SCAN_CORRECT + points.NEW_CHARACTER and rows == 2


def test_1000_concurrent_awards_over_10_users_stay_balanced(pool: ConnectionPool) -> None:
    users = [new_user(pool) for _ in range(10)]
    middles = ["종이", "유리병", "비닐류", None]
    jobs = [(users[i % 10], f"scan-{i % 37}", middles[i % 4], i % 3 != 0) for i in range(1000)]
    with ThreadPoolExecutor(max_workers=16) as ex:
        list(ex.map(lambda j: award(pool, j[0], j[1], middle=j[2], correct=j[3]), jobs))
    for user in users:
        balance, total, _ = ledger(pool, user)
        assert balance == total
        with pool.connection() as conn:
            scans = points.scans_today(conn, user)
        assert scans <= points.DAILY_SCAN_CAP


def test_ledger_is_append_only(pool: ConnectionPool) -> None:
    user = new_user(pool)
    award(pool, user, "x")
    with pytest.raises(psycopg.errors.RaiseException), pool.connection() as conn:
        conn.execute("UPDATE my.point_ledger SET amount = 1000 WHERE user_id = %s", (user,))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["종이", "유리병", "전지", None]), st.booleans(),
                          st.booleans()), max_size=30))
def test_ledger_rules_hold_for_any_sequence(pool: ConnectionPool, scans: list) -> None:
    """Any sequence of awards (with replays): balance = ledger sum = the rules' sum."""
    user = new_user(pool)
    seen: set[str] = set()
    owned: set[str] = set()
    expected = 0
    earning = 0
    for scan_no, middle, correct, recyclable in scans:
        scan_id = f"s{scan_no}"
        major = RECYCLABLE if recyclable else "일반종량제폐기물"
        reward = award(pool, user, scan_id, major=major, middle=middle if recyclable else None, correct=correct)
        good = recyclable and correct
        reason_key = f"{scan_id}:{'correct' if good else 'other'}"
        if reason_key not in seen and earning < points.DAILY_SCAN_CAP:
            expected += points.SCAN_CORRECT if good else points.SCAN_OTHER
            earning += 1
        seen.add(reason_key)
        if good and middle and middle not in owned:
            owned.add(middle)
            expected += points.NEW_CHARACTER
        assert reward.points >= 0
    balance, total, _ = ledger(pool, user)
    assert balance == total == expected


@pytest.mark.parametrize("entries", [6, 7])
def test_history_pagination(function_env: dict[str, str], make_user, pool: ConnectionPool, entries: int) -> None:
    """Pages of 3, newest first; the last page says no more follow, also when it is full."""
    my = Client(MY, env=function_env)
    user, token = make_user()
    for i in range(entries):
        award(pool, user, f"h-{i}", major="일반종량제폐기물", middle=None)
    seen, cursor, pages = [], None, 0
    while True:
        page = my.get("/api/v1/user/me/points/history", query={"limit": 3, **({"cursor": cursor} if cursor else {})},
                      headers=bearer(token)).json
        seen += [e["source_id"] for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"h-{i}" for i in reversed(range(entries))]
    assert pages == -(-entries // 3)  # no empty page after a full last one


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"cursor": "!!!"},
                                   {"cursor": "WzFd" + "x"}, {"cursor": "eyJhIjoxfQ"}, {"cursor": "WyJhIl0"}])
def test_bad_page_queries_are_422(function_env: dict[str, str], make_user, query: dict) -> None:
    my = Client(MY, env=function_env)
    _, token = make_user()
    for path in ("/api/v1/user/me/points/history", "/api/v1/user/me/scans"):
        result = my.get(path, query=query, headers=bearer(token))
        assert result.status == 422, (path, query, result.body)


def test_scan_history_pages(function_env: dict[str, str], make_user) -> None:
    my = Client(MY, env=function_env)
    user, token = make_user()
    assert my.get("/api/v1/user/me/scans", headers=bearer(token)).json == {"items": [], "next_cursor": None}
    with psycopg.connect(function_env["DATABASE_URL"]) as conn:
        for i in range(5):
            conn.execute(
                """INSERT INTO scan.scans (id, user_id, created_at, major_category, recyclable, correct)
                   VALUES (%s, %s, now() - make_interval(mins => %s), '일반종량제폐기물', false, true)""",
                (uuid.uuid4(), user, i))
    first = my.get("/api/v1/user/me/scans", query={"limit": 2}, headers=bearer(token)).json
    rest = my.get("/api/v1/user/me/scans", query={"limit": 10, "cursor": first["next_cursor"]}, headers=bearer(token)).json
    assert len(first["items"]) == 2 and len(rest["items"]) == 3 and rest["next_cursor"] is None
    times = [s["created_at"] for s in first["items"] + rest["items"]]
    assert times == sorted(times, reverse=True)

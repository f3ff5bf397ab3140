"""The committed dataset (platform/eco2/data/locations) and its loading."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from pathlib import Path

import psycopg
import pytest

from eco2.location import categories, hours, sites

DATA = resources.files("eco2").joinpath("data/locations")


@pytest.fixture(scope="module")
def dataset() -> list[dict]:
    return list(sites.dataset())


def test_counts(dataset: list[dict]) -> None:
    assert Counter(s["source"] for s in dataset) == {"keco": 395, "zerowaste": 351}
    assert len({s["id"] for s in dataset}) == len(dataset)
    assert len({(s["source"], s["source_pk"]) for s in dataset}) == len(dataset)


def test_skipped_rows_are_reported_not_loaded(dataset: list[dict]) -> None:
    report = json.loads(DATA.joinpath("report.json").read_text(encoding="utf-8"))
    skipped = {s["source_pk"]: s["reason"] for s in report["skipped"]}
    assert len(skipped) == 14 and {s["source"] for s in report["skipped"]} == {"keco"}
    assert "4.596996" in skipped["188"]  # the bogus latitude 4.6
    loaded = {s["source_pk"] for s in dataset if s["source"] == "keco"}
    assert not loaded & set(skipped)


def test_every_site_is_in_south_korea(dataset: list[dict]) -> None:
    assert all(33 <= s["latitude"] <= 38.7 and 124.5 <= s["longitude"] <= 132 for s in dataset)


def test_categories_are_known_codes(dataset: list[dict]) -> None:
    assert {s["store_category"] for s in dataset} <= set(categories.STORE_CATEGORIES)
    assert all(s["pickup_categories"] and set(s["pickup_categories"]) <= set(categories.PICKUP_CATEGORIES)
               for s in dataset)
    keco = Counter(s["store_category"] for s in dataset if s["source"] == "keco")
    assert set(keco) == {"public_dropbox", "upcycle_recycle"}


def test_keco_hours_are_understood(dataset: list[dict]) -> None:
    for site in dataset:
        days = {d: hours.DayHours.from_json(doc) for d, doc in site["hours"].items()}
        if site["source"] == "keco":
            assert set(days) == {*hours.DAYS, hours.HOLIDAY}
            assert hours.week_ranges(days) is not None, site["id"]
        else:
            assert days == {}


def test_public_holidays_are_shipped() -> None:
    dates = hours.public_holidays()
    assert "2025-10-06" in dates and "2026-01-01" in dates
    assert all(sum(d.startswith(str(year)) for d in dates) >= 12 for year in range(2024, 2031))


def test_sync_mirrors_the_dataset(database_url: str, dataset: list[dict]) -> None:
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM location.sites").fetchone()[0] == len(dataset)
        conn.execute("UPDATE location.sites SET name = 'renamed' WHERE id = 1")
        conn.execute("INSERT INTO location.sites SELECT 42424242, source, 'x', name, latitude, longitude,"
                     " store_category, pickup_categories, week_hours, holiday_hours, details"
                     " FROM location.sites WHERE id = 1")
        sites.sync(conn)
        sites.sync(conn)
        assert conn.execute("SELECT count(*) FROM location.sites").fetchone()[0] == len(dataset)
        assert conn.execute("SELECT name FROM location.sites WHERE id = 1").fetchone()[0] == "고양동 종합복지회관"
        conn.rollback()


def _nested_plans(conn: psycopg.Connection, limit: int, pickups: str = "ARRAY['can']", open_now: bool = True,
                  after: str = "100.0, ARRAY[1::bigint]") -> tuple[list[str], int]:
    """The plans auto_explain logs for one call of location.nearby, the
    statements run inside it included, and how many sites the page shows."""
    at = hours.moment(hours.now())
    conn.execute("LOAD 'auto_explain'")
    for setting in ("log_min_duration = 0", "log_nested_statements = on", "log_level = notice"):
        conn.execute(f"SET LOCAL auto_explain.{setting}")
    plans: list[str] = []
    conn.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
    page = conn.execute(
        f"SELECT sites FROM location.nearby(37.5665, 126.978, 5000, {limit}, NULL, {pickups}, {open_now}, {after},"
        " %s, %s, %s, %s, %s)", (at.public_holiday, at.day, at.occurrence, at.minute, at.cycle_minute)).fetchone()[0]
    return plans, len(json.loads(page))


def test_queries_walk_the_spatial_index_nearest_first(database_url: str) -> None:
    """location.nearby's own plan (auto_explain shows the statement inside the
    function): the index nearest-first, never a sort of the box, with every
    filter and a keyset."""
    with psycopg.connect(database_url) as conn:
        conn.execute("SET LOCAL enable_seqscan = off")  # a small table: show what the planner can use
        plans, _ = _nested_plans(conn, 20)
        inner = next(plan for plan in plans if "location.sites" in plan)
        assert "Index Scan using sites_earth_idx" in inner and "Order By" in inner
        assert "Bitmap" not in inner and "Seq Scan" not in inner


def test_nearby_runs_no_statement_per_site(database_url: str) -> None:
    """A SQL function PostgreSQL does not inline (earthdistance's ll_to_earth
    and sec_to_gc) runs as a nested statement each time it is called: per site,
    that cost grew with the page (89 statements for 11 sites before migration
    0027). A page of 1 and a page of 20 now run the same few."""
    counts = {}
    for limit in (1, 20):
        with psycopg.connect(database_url) as conn:
            plans, shown = _nested_plans(conn, limit, pickups="NULL", open_now=False, after="NULL, NULL")
            counts[limit] = (len(plans), shown)
    assert counts[1][1] == 1 and counts[20][1] == 20
    assert counts[20][0] == counts[1][0], counts


@pytest.mark.parametrize(("metres", "text"), [(0, "0m"), (349.6, "350m"), (999.4, "999m"), (999.6, "1.0km"),
                                               (1234, "1.2km"), (15_050, "15.1km")])
def test_distance_text(database_url: str, metres: float, text: str) -> None:
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT location.distance_text(%s)", (metres,)).fetchone()[0] == text


def test_upgrade_from_0026_keeps_the_answers_and_their_cursors(empty_database_url: str, tmp_path: Path) -> None:
    """A deployment at migration 0026 with its sites loaded takes 0027 (a stored
    column added to a full table, the index moved to it, the table clustered)
    in its migration transaction; the same searches then give the same bytes,
    and a cursor issued before the upgrade pages on."""
    from eco2 import migrate

    for path in migrate.DEFAULT_DIR.glob("*.sql"):
        if path.name < "0027":
            (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    migrate.apply(empty_database_url, tmp_path, seed=True)
    at = hours.moment(hours.now())
    searches = [sites.Nearby(37.5665, 126.978, 5000, 7), sites.Nearby(37.45, 126.70, 20_000, 3, pickups=["can"]),
                sites.Nearby(35.1796, 129.0756, 50_000, 50, open_now=True)]
    with psycopg.connect(empty_database_url) as conn:
        before = [sites.nearby(conn, search, at) for search in searches]
    assert migrate.apply(empty_database_url) == ["0027"]
    with psycopg.connect(empty_database_url) as conn:
        assert conn.execute("SELECT count(*) FROM location.sites WHERE earth_point IS NULL").fetchone()[0] == 0
        assert [sites.nearby(conn, search, at) for search in searches] == before
        first, cursor = before[0]
        assert cursor is not None and len(json.loads(first)) == 7
        following, _ = sites.nearby(conn, sites.Nearby(37.5665, 126.978, 5000, 7, after=cursor), at)
        assert not {s["id"] for s in json.loads(following)} & {s["id"] for s in json.loads(first)}

"""The committed dataset (platform/eco2/data/locations) and its loading."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources

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


def test_queries_walk_the_spatial_index_nearest_first(database_url: str) -> None:
    """location.nearby's own plan (auto_explain shows the statement inside the
    function): the index nearest-first, never a sort of the box, with every
    filter and a keyset."""
    at = hours.moment(hours.now())
    with psycopg.connect(database_url) as conn:
        conn.execute("LOAD 'auto_explain'")
        conn.execute("SET LOCAL enable_seqscan = off")  # a small table: show what the planner can use
        for setting in ("log_min_duration = 0", "log_nested_statements = on", "log_level = notice"):
            conn.execute(f"SET LOCAL auto_explain.{setting}")
        plans: list[str] = []
        conn.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
        conn.execute(
            "SELECT * FROM location.nearby(37.45, 126.70, 5000, 20, NULL, ARRAY['can'], true, 100.0, ARRAY[1::bigint],"
            " %s, %s, %s, %s, %s)", (at.public_holiday, at.day, at.occurrence, at.minute, at.cycle_minute))
        inner = next(plan for plan in plans if "location.sites" in plan)
        assert "Index Scan using sites_earth_idx" in inner and "Order By" in inner
        assert "Bitmap" not in inner and "Seq Scan" not in inner


@pytest.mark.parametrize(("metres", "text"), [(0, "0m"), (349.6, "350m"), (999.4, "999m"), (999.6, "1.0km"),
                                               (1234, "1.2km"), (15_050, "15.1km")])
def test_distance_text(database_url: str, metres: float, text: str) -> None:
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT location.distance_text(%s)", (metres,)).fetchone()[0] == text

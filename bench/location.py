"""Nearby-site queries at one million sites: the GiST index against a full scan.

    python -m bench.location [--sites N] [--queries N]     (run by `make bench`, bench/domain.py)

Creates a scratch database (on ECO2_BENCH_DATABASE_URL's server, else an
embedded PostgreSQL), migrates it, adds N synthetic sites (default 1,000,000:
most around Korea's cities, the rest spread over the country, with random
categories and opening hours), and times eco2.location.sites.nearby for 1 km
and 5 km searches with a store + pickup filter and with open_now, plus the
same 5 km search with index scans turned off (the brute-force baseline, every
row's distance computed), in the same run. The database is dropped at the end.
The figures go, as one JSON object, to the file named by ECO2_BENCH_JSON, or
are printed as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg

from eco2 import migrate
from bench.stats import emit
from eco2.location import categories, hours, sites

# Where people are: (lat, lon, share of the clustered sites, spread in degrees)
CITIES = [
    (37.5665, 126.9780, 0.40, 0.12),  # Seoul and around
    (37.4563, 126.7052, 0.08, 0.08),  # Incheon
    (35.1796, 129.0756, 0.14, 0.08),  # Busan
    (35.8714, 128.6014, 0.10, 0.07),  # Daegu
    (36.3504, 127.3845, 0.08, 0.06),  # Daejeon
    (35.1595, 126.8526, 0.08, 0.06),  # Gwangju
    (35.5384, 129.3114, 0.06, 0.05),  # Ulsan
    (36.6424, 127.4890, 0.06, 0.05),  # Cheongju
]
CLUSTERED = 0.75
# Opening-hours templates: (weekdays open, opening minute, closing minute).
HOURS = [
    (range(5), 540, 1080), (range(6), 600, 1320), (range(7), 0, 1440), (range(1, 2), 660, 840),
    (range(0), 0, 0),
]
STORES, PICKUPS = list(categories.STORE_CATEGORIES), list(categories.PICKUP_CATEGORIES)
FIRST_ID = 10_000_000  # clear of the shipped dataset's ids


@contextmanager
def server() -> Iterator[str]:
    url = os.environ.get("ECO2_BENCH_DATABASE_URL")
    if url:
        yield url
        return
    from eco2_tools.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory() as scratch:
        pg = EmbeddedPostgres(Path(scratch), durable=False)
        pg.start()
        try:
            yield pg.url
        finally:
            pg.destroy()


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    name = f"eco2_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def point(rng: random.Random) -> tuple[float, float]:
    if rng.random() < CLUSTERED:
        lat, lon, _, spread = rng.choices(CITIES, weights=[c[2] for c in CITIES])[0]
        return lat + rng.gauss(0, spread * 0.8), lon + rng.gauss(0, spread)
    return rng.uniform(34.5, 38.3), rng.uniform(126.2, 129.4)


def week(template: tuple[range, int, int]) -> str | None:
    """A template as the week_hours column holds it."""
    open_days, start, end = template
    days = {day: hours.DayHours(day, ((start, end),) if n in open_days else ())
            for n, day in enumerate(hours.DAYS)}
    return hours.multirange(hours.week_ranges(days))


def fill(url: str, count: int, rng: random.Random) -> float:
    weeks = [week(t) for t in HOURS]
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        # The migration's index, dropped for the load and built once after it.
        index = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'location' AND indexname = 'sites_earth_idx'"
        ).fetchone()[0]
        conn.execute("DROP INDEX location.sites_earth_idx")
        with conn.cursor().copy(
            "COPY location.sites (id, source, source_pk, name, latitude, longitude, store_category,"
            " pickup_categories, week_hours, details) FROM STDIN"
        ) as copy:
            for n in range(count):
                lat, lon = point(rng)
                copy.write_row((
                    FIRST_ID + n, "keco", f"bench-{n}", f"site {n}", lat, lon, rng.choice(STORES),
                    rng.sample(PICKUPS, rng.randint(1, 3)),
                    rng.choice(weeks) if rng.random() < 0.6 else None, "{}",
                ))
        conn.execute(index)
        sites.cluster(conn)  # as sites.sync does after a load
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE location.sites")
    return time.perf_counter() - started


def timed(
    conn: psycopg.Connection, searches: list[sites.Nearby], at: hours.Moment
) -> tuple[list[float], int]:
    times, found = [], 0
    for search in searches:
        started = time.perf_counter()
        page, _ = sites.nearby(conn, search, at)
        times.append((time.perf_counter() - started) * 1000)
        found += len(json.loads(page))
    return times, found


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400, help="per configuration")
    parser.add_argument("--brute-force", type=int, default=5,
                        help="full-scan queries (each reads every row)")
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(20251126)
    at = hours.moment(hours.now())

    with server() as admin, scratch_database(admin) as url:
        migrate.apply(url)
        load_s = fill(url, args.sites, rng)
        # As the functions connect: no prepared statements (PgBouncer in transaction mode),
        # so every query is planned, and the brute-force settings below take effect.
        with psycopg.connect(url, prepare_threshold=None) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            total = conn.execute("SELECT count(*) FROM location.sites").fetchone()[0]
            print(f"location bench: {total:,} sites (PostgreSQL {version}); load + index {load_s:.0f} s; "
                  f"{args.queries} queries per line, limit {args.limit}")
            centres = [point(rng) for _ in range(args.queries)]
            configs = {
                "1km store+pickup": dict(radius_m=1000, stores=["refill_zero", "cafe_bakery"],
                                                  pickups=["clear_pet"]),
                "5km store+pickup": dict(radius_m=5000, stores=["refill_zero", "cafe_bakery"],
                                                  pickups=["clear_pet"]),
                "1km open_now": dict(radius_m=1000, open_now=True),
                "5km open_now": dict(radius_m=5000, open_now=True),
                "5km no filter": dict(radius_m=5000),
                "5km store+pickup limit200": dict(radius_m=5000, stores=["refill_zero", "cafe_bakery"],
                                                      pickups=["clear_pet"], limit=200),
            }
            warm_up = [sites.Nearby(lat, lon, 1000, args.limit) for lat, lon in centres[:50]]
            timed(conn, warm_up, at)
            p50s, p99s = {}, {}
            for label, config in configs.items():
                searches = [sites.Nearby(lat, lon, **{"limit": args.limit, **config})
                            for lat, lon in centres]
                times, found = timed(conn, searches, at)
                p50s[label], p99s[label] = statistics.median(times), p(times, 99)
                print(f"  {label:26} p50 {p50s[label]:6.2f} ms  p99 {p99s[label]:6.2f} ms"
                      f"  ({found / len(searches):.0f} sites per answer)")
        # A new session: PostgreSQL 18 keeps a SQL function's plan for the session,
        # so location.nearby's, made with the index, would survive these settings.
        with psycopg.connect(url, prepare_threshold=None) as conn:
            conn.execute("SET enable_indexscan = off")
            conn.execute("SET enable_bitmapscan = off")
            label = "5km store+pickup"
            searches = [sites.Nearby(lat, lon, **{"limit": args.limit, **configs[label]})
                        for lat, lon in centres[: args.brute_force]]
            brute, _ = timed(conn, searches, at)
            conn.rollback()
            print(f"  brute force (no index), {label}: p50 {statistics.median(brute):.0f} ms over "
                  f"{len(brute)} queries = x{statistics.median(brute) / p50s[label]:.0f} the indexed p50")
    emit({
        "sites": total, "postgres": version.split()[0], "limit": args.limit, "queries": args.queries,
        "p50_ms": {k: round(v, 2) for k, v in p50s.items()},
        "p99_ms": {k: round(v, 2) for k, v in p99s.items()},
        "brute_force_p50_ms": round(statistics.median(brute), 1),
        "brute_force_ratio": round(statistics.median(brute) / p50s[label], 1),
    })


if __name__ == "__main__":
    main()

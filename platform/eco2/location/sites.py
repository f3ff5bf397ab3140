"""Collection sites: loading the shipped dataset, and the nearby and detail queries.

The dataset (``data/locations/sites.jsonl``, one site per line) is written by
``eco2 import locations`` and loaded by :func:`sync` in the migration
transaction. Queries filter everything in SQL, before the LIMIT, and walk the
GiST index nearest-first inside the search radius's bounding box.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, Iterator

from psycopg.types.json import Jsonb

from eco2 import db
from eco2.location import hours

if TYPE_CHECKING:
    from eco2.db import Connection

DATASET = "data/locations/sites.jsonl"
COLUMNS = (
    "id", "source", "source_pk", "name", "latitude", "longitude", "store_category", "pickup_categories",
)

_UPSERT = """
INSERT INTO location.sites
    (id, source, source_pk, name, latitude, longitude, store_category, pickup_categories,
     week_hours, holiday_hours, details)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::int4multirange, %s::int4multirange, %s)
ON CONFLICT (id) DO UPDATE SET
    source = EXCLUDED.source, source_pk = EXCLUDED.source_pk, name = EXCLUDED.name,
    latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
    store_category = EXCLUDED.store_category, pickup_categories = EXCLUDED.pickup_categories,
    week_hours = EXCLUDED.week_hours, holiday_hours = EXCLUDED.holiday_hours, details = EXCLUDED.details
WHERE (location.sites.*) IS DISTINCT FROM (EXCLUDED.*)
"""


def dataset() -> Iterator[dict[str, Any]]:
    text = resources.files("eco2").joinpath(DATASET).read_text(encoding="utf-8")
    return (json.loads(line) for line in text.splitlines() if line.strip())


def row(site: dict[str, Any]) -> tuple[Any, ...]:
    """The table row of a dataset entry: the columns, the hours as multiranges,
    and the rest as ``details``."""
    days = {day: hours.DayHours.from_json(doc) for day, doc in site["hours"].items()}
    holiday = days.get(hours.HOLIDAY)
    return (
        *(site[c] for c in COLUMNS),
        hours.multirange(hours.week_ranges(days)),
        hours.multirange(list(holiday.intervals)) if holiday and holiday.intervals is not None else None,
        Jsonb({k: v for k, v in site.items() if k not in COLUMNS}),
    )


def sync(conn: "Connection") -> None:
    """Make location.sites the shipped dataset: upsert every site (rows that did
    not change are not rewritten), delete sites it no longer has, and when
    anything changed, lay the table out in index order again."""
    rows = [row(site) for site in dataset()]
    with conn.cursor() as cur:
        cur.executemany(_UPSERT, rows)
        changed = cur.rowcount
        cur.execute("DELETE FROM location.sites WHERE NOT (id = ANY(%s))", ([r[0] for r in rows],))
        changed += cur.rowcount
    if changed:
        cluster(conn)


def cluster(conn: "Connection") -> None:
    """Rewrite location.sites in the order of its spatial index, so that the
    sites of one neighbourhood share a few table pages: a nearby query then
    reads far fewer pages (at a million sites its p50 drops by about a third).
    Run after a bulk load; it locks the table while it runs."""
    conn.execute("CLUSTER location.sites USING sites_earth_idx")


@dataclass(frozen=True)
class Nearby:
    """What to look for: around (lat, lon) within radius_m, filtered, nearest first."""

    lat: float
    lon: float
    radius_m: int
    limit: int
    stores: list[str] | None = None
    pickups: list[str] | None = None
    open_now: bool = False
    # Keyset of the previous page: its last order key, and the ids it showed at
    # that key (sites at the same point tie, and the index returns ties in no
    # particular order).
    after: tuple[float, tuple[int, ...]] | None = None


_NEARBY = """SELECT sites, more, last_key, last_ids FROM location.nearby(
    %(lat)s, %(lon)s, %(radius)s, %(limit)s, %(stores)s, %(pickups)s, %(open_now)s, %(after_key)s, %(after_ids)s,
    %(holiday)s, %(day)s, %(occurrence)s, %(minute)s, %(cycle_minute)s)"""

_ONE = """SELECT location.summary(
                   s.id, s.name, s.source, s.details, s.latitude, s.longitude, s.store_category,
                   s.pickup_categories, NULL,
                   location.open_at(s.week_hours, s.holiday_hours, %(holiday)s, %(minute)s, %(cycle_minute)s),
                   location.day_spans(s.details -> 'hours', %(holiday)s, %(day)s, %(occurrence)s)) AS summary,
                 s.details
            FROM location.sites s WHERE s.id = %(id)s"""


def _moment(at: hours.Moment) -> dict[str, Any]:
    """``at`` as the SQL functions of migration 0026 take it."""
    return {"holiday": at.public_holiday, "day": at.day, "occurrence": at.occurrence, "minute": at.minute,
            "cycle_minute": at.cycle_minute}


def nearby(conn: "Connection", query: Nearby, at: hours.Moment) -> tuple[str, tuple[float, tuple[int, ...]] | None]:
    """The sites for ``query`` at moment ``at`` as the JSON array of their
    summaries (``location.summary``: the map's fields), nearest first (ties by
    id within a page; across pages each tied site still comes exactly once),
    and the keyset of the next page (None on the last page).

    One statement, ``location.nearby`` (migrations 0026, 0027): it filters in SQL
    before the LIMIT, walks the GiST index nearest-first, and builds the JSON,
    which the caller validates as it is instead of decoding rows."""
    params = {
        "lat": query.lat, "lon": query.lon, "radius": float(query.radius_m), "limit": query.limit,
        "stores": query.stores, "pickups": query.pickups, "open_now": query.open_now,
        "after_key": query.after[0] if query.after else None,
        "after_ids": list(query.after[1]) if query.after else None,
        **_moment(at),
    }
    page, more, last, shown = conn.execute(_NEARBY, params).fetchone()
    if not more:
        return page, None
    if query.after and query.after[0] == last:
        shown += query.after[1]
    return page, (last, tuple(shown))


def one(conn: "Connection", site_id: int, at: hours.Moment) -> dict[str, Any] | None:
    """One site's summary (no distance) and its ``details``."""
    return db.row(conn, _ONE, {"id": site_id, **_moment(at)})


def detail(site: dict[str, Any]) -> dict[str, Any]:
    """Everything known about a site, from :func:`one`."""
    details = site["details"]
    extra = ("region", "lot_address", "address_detail", "introduction", "parking", "homepage", "notes",
             "memo", "kakao_place_id", "place_url")
    return {
        **site["summary"],
        **{key: details.get(key) for key in extra},
        "hours": details.get("hours", {}),
    }

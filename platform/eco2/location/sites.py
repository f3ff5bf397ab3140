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

from psycopg import sql
from psycopg.rows import dict_row
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

_OPEN = (
    "CASE WHEN %(holiday)s AND s.holiday_hours IS NOT NULL THEN s.holiday_hours @> %(minute)s::int"
    " ELSE s.week_hours @> %(cycle_minute)s::int END"
)


def _sql(text: str) -> sql.Composed:
    """SQL with the shared pieces filled in: {site} and {here} are the site's
    point and the search centre as earthdistance sees them, {open} whether the
    site is open at the moment passed in (NULL when its hours are unknown)."""
    return sql.SQL(text).format(
        site=sql.SQL("ll_to_earth(s.latitude, s.longitude)"),
        here=sql.SQL("ll_to_earth(%(lat)s, %(lon)s)"),
        open=sql.SQL(_OPEN),
    )


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


def statement(query: Nearby, at: hours.Moment) -> tuple[sql.Composed, dict[str, Any]]:
    """The SQL and parameters of :func:`nearby` (one more row than the limit, to
    know whether there is a next page)."""
    where = [
        _sql("earth_box({here}, %(radius)s) @> {site}"),
        _sql("earth_distance({here}, {site}) <= %(radius)s"),
    ]
    if query.stores:
        where.append(_sql("s.store_category = ANY(%(stores)s)"))
    if query.pickups:
        where.append(_sql("s.pickup_categories && %(pickups)s"))
    if query.open_now:
        where.append(_sql("({open}) IS TRUE"))
    if query.after:
        where.append(_sql(
            "({site} <-> {here} > %(after_key)s"
            " OR ({site} <-> {here} = %(after_key)s AND NOT s.id = ANY(%(after_ids)s)))"
        ))
    composed = sql.SQL("{select} WHERE {where} {order}").format(
        select=_sql(
            "SELECT s.id, s.source, s.name, s.latitude, s.longitude, s.store_category, s.pickup_categories,"
            " s.details, earth_distance({here}, {site}) AS distance_m, {site} <-> {here} AS key,"
            " {open} AS is_open FROM location.sites s"
        ),
        where=sql.SQL(" AND ").join(where),
        # Nearest first by the index alone: a second sort key would make
        # PostgreSQL read and sort the whole box instead.
        order=_sql("ORDER BY {site} <-> {here} LIMIT %(limit)s"),
    )
    params = {
        "lat": query.lat, "lon": query.lon, "radius": float(query.radius_m), "limit": query.limit + 1,
        "stores": query.stores, "pickups": query.pickups,
        "holiday": at.public_holiday, "minute": at.minute, "cycle_minute": at.cycle_minute,
        "after_key": query.after[0] if query.after else None,
        "after_ids": list(query.after[1]) if query.after else None,
    }
    return composed, params


def nearby(
    conn: "Connection", query: Nearby, at: hours.Moment
) -> tuple[list[dict[str, Any]], tuple[float, tuple[int, ...]] | None]:
    """Sites for ``query`` at moment ``at``, nearest first (ties by id within a
    page; across pages each tied site still comes exactly once), and the
    keyset of the next page (None on the last page). Each site has
    ``distance_m`` and ``key`` (its order key)."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        # GiST cannot tell the planner how many points a box holds; it guesses
        # few, and would fetch the whole box with a bitmap scan and sort it.
        # Walking the index nearest-first reads only as far as the page needs.
        cur.execute("SET LOCAL enable_bitmapscan = off")
        found = cur.execute(*statement(query, at)).fetchall()
    more = len(found) > query.limit
    page = sorted(found[: query.limit], key=lambda site: (site["key"], site["id"]))
    if not more:
        return page, None
    last = page[-1]["key"]
    shown = [site["id"] for site in page if site["key"] == last]
    if query.after and query.after[0] == last:
        shown += query.after[1]
    return page, (last, tuple(shown))


def one(conn: "Connection", site_id: int, at: hours.Moment) -> dict[str, Any] | None:
    statement = _sql(
        "SELECT s.id, s.source, s.name, s.latitude, s.longitude, s.store_category, s.pickup_categories,"
        " s.details, {open} AS is_open FROM location.sites s WHERE s.id = %(id)s"
    )
    return db.row(conn, statement, {"id": site_id, "holiday": at.public_holiday, "minute": at.minute,
                                    "cycle_minute": at.cycle_minute})


def distance_text(meters: float) -> str:
    """"350m" under a kilometre, else "1.2km", as the app shows it."""
    rounded = round(meters)
    return f"{rounded}m" if rounded < 1000 else f"{meters / 1000:.1f}km"


def _today(site: dict[str, Any], at: hours.Moment) -> dict[str, Any]:
    """The original app's opening fields for ``at``'s day."""
    day = hours.today(site["details"].get("hours", {}), at)
    spans = day.intervals if day else None
    return {
        "is_open": site["is_open"],
        "is_holiday": None if spans is None else not spans,
        "start_time": hours.clock(spans[0][0]) if spans else None,
        "end_time": hours.clock(spans[-1][1]) if spans else None,
    }


def summary(site: dict[str, Any], at: hours.Moment) -> dict[str, Any]:
    """A site as the map lists it, with the original app's field names."""
    details = site["details"]
    distance = site.get("distance_m")
    return {
        "id": site["id"],
        "name": site["name"],
        "source": site["source"],
        "road_address": details.get("road_address"),
        "latitude": site["latitude"],
        "longitude": site["longitude"],
        "distance_m": None if distance is None else round(distance),
        "distance_km": None if distance is None else round(distance / 1000, 3),
        "distance_text": None if distance is None else distance_text(distance),
        "store_category": site["store_category"],
        "pickup_categories": site["pickup_categories"],
        **_today(site, at),
        "phone": details.get("phone"),
        "collection_items": details.get("collection_items", []),
    }


def detail(site: dict[str, Any], at: hours.Moment) -> dict[str, Any]:
    """Everything known about a site."""
    details = site["details"]
    extra = ("region", "lot_address", "address_detail", "introduction", "parking", "homepage", "notes",
             "memo", "kakao_place_id", "place_url")
    return {
        **summary(site, at),
        **{key: details.get(key) for key in extra},
        "hours": details.get("hours", {}),
    }

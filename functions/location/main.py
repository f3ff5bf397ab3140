"""location: Collection points and zero-waste shops near a position.

``/centers`` keeps the original app's query parameters and field names (its
map sends lat, lon, zoom, store_category, pickup_category) and still answers
with a bare list; the next page's URL is in the ``Link`` header.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, Field, field_validator

from eco2 import Call, Function, pagination, problems
from eco2.location import categories, hours, zoom

fn = Function("location", "/api/v1/locations")


class CentersQuery(BaseModel):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    radius: int | None = Field(None, ge=100, le=50_000, description="Metres; wins over zoom")
    zoom: int | None = Field(None, ge=1, le=20, description="Kakao map level (1 street .. 14 country)")
    store_category: str | None = Field(None, max_length=300, description="Comma-separated codes, or all")
    pickup_category: str | None = Field(None, max_length=300, description="Comma-separated codes, or all")
    open_now: bool = Field(False, description="Only sites open now (Asia/Seoul)")
    limit: int | None = Field(None, ge=1, le=200, description="Default: by zoom, 200 without")
    cursor: str | None = Field(None, max_length=256)

    @field_validator("store_category")
    @classmethod
    def _stores(cls, value: str | None) -> str | None:
        categories.parse_filter(value, categories.STORE_CATEGORIES)
        return value

    @field_validator("pickup_category")
    @classmethod
    def _pickups(cls, value: str | None) -> str | None:
        categories.parse_filter(value, categories.PICKUP_CATEGORIES)
        return value

    @property
    def stores(self) -> list[str] | None:
        return categories.parse_filter(self.store_category, categories.STORE_CATEGORIES)

    @property
    def pickups(self) -> list[str] | None:
        return categories.parse_filter(self.pickup_category, categories.PICKUP_CATEGORIES)


class Center(BaseModel):
    id: int
    name: str
    source: Literal["keco", "zerowaste"]
    road_address: str | None
    latitude: float
    longitude: float
    distance_m: int | None
    distance_km: float | None
    distance_text: str | None = Field(description='"350m" under a kilometre, else "1.2km"')
    store_category: str
    pickup_categories: list[str]
    is_open: bool | None = Field(description="Open now in Asia/Seoul; null when the hours are unknown")
    is_holiday: bool | None = Field(description="Closed all day today")
    start_time: str | None
    end_time: str | None
    phone: str | None
    collection_items: list[str]


class DayHours(BaseModel):
    text: str
    open: list[list[str]] | None = Field(description="[start, end] pairs; [] closed; null not understood")
    weeks: list[int] | None = None


class CenterDetail(Center):
    region: str | None
    lot_address: str | None
    address_detail: str | None
    introduction: str | None
    parking: str | None
    homepage: str | None
    notes: str | None
    memo: str | None
    kakao_place_id: str | None
    place_url: str | None
    hours: dict[str, DayHours] = Field(description="mon..sun and holiday (public holidays)")


class Label(BaseModel):
    code: str
    label: str


class ZoomLevel(BaseModel):
    zoom: int
    level: int
    radius_m: int
    limit: int


class Categories(BaseModel):
    store_categories: list[Label]
    pickup_categories: list[Label]
    zoom: list[ZoomLevel]


def _fingerprint(q: CentersQuery, radius: int) -> str:
    """Ties a cursor to the search it pages through."""
    key = json.dumps([q.lat, q.lon, radius, q.stores, q.pickups, q.open_now])
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _ids(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("not a list of site ids")
    return tuple(pagination.bigint(i) for i in value)


def _next_link(call: Call, cursor: str) -> str:
    """RFC 8288 link to the next page, relative (a proxy may have changed the scheme
    and host): this request's path and query with the new cursor."""
    args = call.request.args.copy()
    args["cursor"] = cursor
    return f'<{call.request.path}?{urlencode(list(args.items(multi=True)))}>; rel="next"'


@fn.get("/centers", query=CentersQuery, response=list[Center], auth=True)
def centers(call: Call) -> list[Center]:
    """Sites within the radius (or the zoom's), nearest first, filtered before the limit."""
    from eco2.location import sites

    q: CentersQuery = call.query
    radius = q.radius or zoom.radius(q.zoom)
    fingerprint = _fingerprint(q, radius)
    after = None
    if q.cursor is not None:
        key, shown, made_for = pagination.decode(q.cursor, pagination.finite, _ids, pagination.text)
        if made_for != fingerprint:
            raise pagination.invalid_cursor("cursor of a different search", "The cursor belongs to another search.")
        after = (key, shown)
    at = hours.moment(hours.now())
    search = sites.Nearby(q.lat, q.lon, radius, q.limit or zoom.limit(q.zoom), q.stores, q.pickups,
                          q.open_now, after)
    with call.db.read() as conn:
        found, last = sites.nearby(conn, search, at)
    if last is not None:
        call.headers["Link"] = _next_link(call, pagination.encode(*last, fingerprint))
    # PostgreSQL's JSON, validated as it is by the route's own response type:
    # cheaper than rows decoded into dicts.
    return call.route.response_adapter().validate_json(found)


@fn.get("/centers/{id:int}", response=CenterDetail, auth=True)
def center(call: Call) -> dict[str, Any]:
    """One site with its addresses, opening hours per weekday and contacts."""
    from eco2.location import sites

    at = hours.moment(hours.now())
    with call.db.read() as conn:
        found = sites.one(conn, call.params["id"], at)
    if found is None:
        raise problems.not_found("No such site.")
    return sites.detail(found)


@fn.get("/categories", response=Categories)
def category_list(call: Call) -> dict[str, Any]:
    """The filter codes with their labels, and the Kakao zoom -> radius table."""
    return {
        "store_categories": [{"code": c, "label": l} for c, l in categories.STORE_CATEGORIES.items()],
        "pickup_categories": [{"code": c, "label": l} for c, l in categories.PICKUP_CATEGORIES.items()],
        "zoom": zoom.table(),
    }


handle = fn.build()

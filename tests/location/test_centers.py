"""GET /api/v1/locations/centers and /centers/{id} against the loaded dataset."""

from __future__ import annotations

import math
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from eco2.location import hours, sites
from eco2.testing import Client

CENTERS = "/api/v1/locations/centers"
INCHEON = {"lat": 37.4563, "lon": 126.7052}  # many KECO sites around
EARTH_RADIUS_M = 6_378_168  # earthdistance's sphere (earth())
GOYANG = {"lat": 37.7025454, "lon": 126.901133}  # site 1: open Tuesdays 11:00-14:00, closed on holidays


def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def expected(lat: float, lon: float, radius: float, keep=lambda s: True) -> list[tuple[float, int]]:
    """(distance, id) of the dataset's sites within radius, nearest first, by haversine."""
    found = [(haversine(lat, lon, s["latitude"], s["longitude"]), s["id"]) for s in sites.dataset() if keep(s)]
    return sorted(f for f in found if f[0] <= radius)


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch):
    """Set the clock that "open now" reads."""

    def set_clock(when: str) -> None:
        monkeypatch.setattr(hours, "now", lambda: datetime.fromisoformat(when).replace(tzinfo=hours.SEOUL))

    return set_clock


def test_sorted_by_distance_as_haversine(location: Client, auth_header: dict) -> None:
    result = location.get(CENTERS, query={**INCHEON, "radius": 5000}, headers=auth_header)
    assert result.status == 200, result.body
    body = result.json
    want = expected(INCHEON["lat"], INCHEON["lon"], 5000)
    assert len(want) > 20
    assert [c["id"] for c in body] == [i for _, i in want]
    for center, (distance, _) in zip(body, want):
        assert abs(center["distance_m"] - distance) <= 1
        assert center["distance_km"] == pytest.approx(distance / 1000, abs=0.001)
        text = center["distance_text"]
        if center["distance_m"] < 1000:
            assert text == f"{center['distance_m']}m"
        else:
            assert text.endswith("km") and abs(float(text[:-2]) - center["distance_km"]) <= 0.05
    assert "Link" not in result.headers


def test_fields_keep_the_original_names(location: Client, auth_header: dict) -> None:
    center = location.get(CENTERS, query={**GOYANG, "radius": 100}, headers=auth_header).json[0]
    assert center["id"] == 1 and center["source"] == "keco" and center["name"] == "고양동 종합복지회관"
    for field in ("road_address", "latitude", "longitude", "distance_km", "distance_text", "store_category",
                  "pickup_categories", "is_open", "is_holiday", "start_time", "end_time", "phone"):
        assert field in center
    assert center["distance_text"] == "0m"


def test_filters_apply_before_the_limit(location: Client, auth_header: dict) -> None:
    radius, limit = 20_000, 3
    want = expected(INCHEON["lat"], INCHEON["lon"], radius, lambda s: "battery" in s["pickup_categories"])
    nearest = expected(INCHEON["lat"], INCHEON["lon"], radius)[:limit]
    battery = {i for _, i in want}
    # Filtering the nearest three afterwards (the original's bug) would come back short.
    assert len(want) >= limit and len(battery & {i for _, i in nearest}) < limit
    body = location.get(CENTERS, query={**INCHEON, "radius": radius, "pickup_category": "battery",
                                        "limit": limit}, headers=auth_header).json
    assert [c["id"] for c in body] == [i for _, i in want[:limit]]
    assert all("battery" in c["pickup_categories"] for c in body)


def test_store_and_pickup_filters_combine(location: Client, auth_header: dict) -> None:
    def keep(s: dict) -> bool:
        return s["store_category"] in ("book_workshop", "refill_zero") and {"paper", "textile"} & set(
            s["pickup_categories"])

    want = expected(INCHEON["lat"], INCHEON["lon"], 30_000, keep)
    body = location.get(CENTERS, query={**INCHEON, "radius": 30_000, "store_category": "book_workshop,refill_zero",
                                        "pickup_category": "paper,textile"}, headers=auth_header).json
    assert want and [c["id"] for c in body] == [i for _, i in want]
    every = location.get(CENTERS, query={**INCHEON, "radius": 10_000, "store_category": "all"}, headers=auth_header).json
    assert [c["id"] for c in every] == [i for _, i in expected(INCHEON["lat"], INCHEON["lon"], 10_000)]


def test_zoom_sets_radius_and_limit(location: Client, auth_header: dict) -> None:
    body = location.get(CENTERS, query={**INCHEON, "zoom": 12}, headers=auth_header).json  # level 4: 30 km, 80 sites
    assert [c["id"] for c in body] == [i for _, i in expected(INCHEON["lat"], INCHEON["lon"], 30_000)[:80]]
    near = location.get(CENTERS, query={**GOYANG, "zoom": 1}, headers=auth_header).json  # 100 m
    assert [c["id"] for c in near] == [i for _, i in expected(GOYANG["lat"], GOYANG["lon"], 100)]


def test_pages_follow_the_link_header(location: Client, auth_header: dict) -> None:
    query = {**INCHEON, "radius": 8000, "limit": 7}
    whole = location.get(CENTERS, query={**query, "limit": 200}, headers=auth_header).json
    seen, result = [], location.get(CENTERS, query=query, headers=auth_header)
    while True:
        assert result.status == 200, result.body
        seen += [c["id"] for c in result.json]
        link = result.headers.get("Link")
        if not link:
            break
        target = link[link.index("<") + 1 : link.index(">")]
        assert urlsplit(target).path == CENTERS and parse_qs(urlsplit(target).query)["limit"] == ["7"]
        result = location.get(target, headers=auth_header)
    assert len(whole) > 14 and sorted(seen) == sorted(c["id"] for c in whole) and len(set(seen)) == len(seen)
    distances = {c["id"]: c["distance_m"] for c in whole}
    assert [distances[i] for i in seen] == sorted(distances[i] for i in seen)


def test_sites_at_one_point_page_one_at_a_time(location: Client, auth_header: dict) -> None:
    """Sites 285 and 286 share a position: paging by one returns each once
    (in either order: the index returns ties as it finds them)."""
    twins = [s for s in sites.dataset() if s["id"] in (285, 286)]
    assert twins[0]["latitude"] == twins[1]["latitude"] and twins[0]["longitude"] == twins[1]["longitude"]
    query = {"lat": twins[0]["latitude"] + 0.001, "lon": twins[0]["longitude"], "radius": 2000, "limit": 1}
    whole = location.get(CENTERS, query={**query, "limit": 200}, headers=auth_header).json
    seen, result = [], location.get(CENTERS, query=query, headers=auth_header)
    while True:
        seen += [c["id"] for c in result.json]
        link = result.headers.get("Link")
        if not link:
            break
        result = location.get(link[link.index("<") + 1 : link.index(">")], headers=auth_header)
    assert sorted(seen[:2]) == [285, 286] and len(seen) == len(set(seen))
    assert sorted(seen) == sorted(c["id"] for c in whole)


def test_a_cursor_belongs_to_its_search(location: Client, auth_header: dict) -> None:
    first = location.get(CENTERS, query={**INCHEON, "radius": 8000, "limit": 2}, headers=auth_header)
    cursor = parse_qs(urlsplit(first.headers["Link"][1:].split(">")[0]).query)["cursor"][0]
    other = location.get(CENTERS, query={**INCHEON, "radius": 9000, "limit": 2, "cursor": cursor}, headers=auth_header)
    assert other.status == 422 and other.json["errors"][0]["loc"] == ["query", "cursor"]
    junk = location.get(CENTERS, query={**INCHEON, "cursor": "bm90IGEgY3Vyc29y"}, headers=auth_header)
    assert junk.status == 422


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        ("2025-11-25T12:00", True),  # Tuesday, inside 11:00-14:00
        ("2025-11-25T14:00", False),  # Tuesday, at closing time
        ("2025-11-24T12:00", False),  # Monday: 휴무
        ("2025-10-07T12:00", False),  # a Tuesday, but 추석 다음날: closed on public holidays
    ],
)
def test_open_now_at_fixed_times(location: Client, auth_header: dict, at, when: str, is_open: bool) -> None:
    at(when)
    listed = location.get(CENTERS, query={**GOYANG, "radius": 100}, headers=auth_header).json
    site = next(c for c in listed if c["id"] == 1)
    assert site["is_open"] is is_open
    open_now = location.get(CENTERS, query={**GOYANG, "radius": 100, "open_now": "true"}, headers=auth_header).json
    assert (1 in [c["id"] for c in open_now]) is is_open
    assert all(c["is_open"] is True for c in open_now)


def test_opening_fields(location: Client, auth_header: dict, at) -> None:
    at("2025-11-25T09:00")
    site = location.get(CENTERS, query={**GOYANG, "radius": 100}, headers=auth_header).json[0]
    assert (site["is_open"], site["is_holiday"], site["start_time"], site["end_time"]) == (False, False, "11:00", "14:00")
    at("2025-11-24T12:00")
    site = location.get(CENTERS, query={**GOYANG, "radius": 100}, headers=auth_header).json[0]
    assert (site["is_holiday"], site["start_time"]) == (True, None)


@pytest.mark.parametrize(("when", "is_open"), [("2025-12-01T11:00", True), ("2025-12-08T11:00", False)])
def test_open_only_on_some_weeks(location: Client, auth_header: dict, at, when: str, is_open: bool) -> None:
    """Site 167 opens on the 1st, 3rd and 5th Monday of the month."""
    at(when)
    site = next(s for s in sites.dataset() if s["id"] == 167)
    listed = location.get(CENTERS, query={"lat": site["latitude"], "lon": site["longitude"], "radius": 100},
                          headers=auth_header).json
    assert next(c for c in listed if c["id"] == 167)["is_open"] is is_open


def test_unknown_hours_are_not_open_now(location: Client, auth_header: dict, at) -> None:
    at("2025-11-25T12:00")
    seoul = {"lat": 37.5665, "lon": 126.9780, "radius": 10_000}
    listed = location.get(CENTERS, query=seoul, headers=auth_header).json
    shops = [c for c in listed if c["source"] == "zerowaste"]
    assert shops and all(c["is_open"] is None for c in shops)
    open_now = location.get(CENTERS, query={**seoul, "open_now": "true"}, headers=auth_header).json
    assert all(c["source"] == "keco" for c in open_now)


def test_detail(location: Client, auth_header: dict, at) -> None:
    at("2025-11-25T12:00")
    result = location.get(f"{CENTERS}/1", headers=auth_header)
    assert result.status == 200, result.body
    site = result.json
    assert site["name"] == "고양동 종합복지회관" and site["is_open"] is True and site["distance_m"] is None
    assert site["hours"]["tue"]["open"] == [["11:00", "14:00"]] and site["hours"]["holiday"]["text"] == "휴무"
    assert site["lot_address"] == "경기도 고양시 덕양구 고양동 233-2"
    shop = next(s for s in sites.dataset() if s.get("place_url"))
    detail = location.get(f"{CENTERS}/{shop['id']}", headers=auth_header).json
    assert detail["place_url"] == shop["place_url"] and detail["hours"] == {}


@pytest.mark.parametrize("path", [f"{CENTERS}/999999999", f"{CENTERS}/abc"])
def test_unknown_site_is_404(location: Client, auth_header: dict, path: str) -> None:
    result = location.get(path, headers=auth_header)
    assert result.status == 404 and result.content_type == "application/problem+json"


def test_a_token_is_required(location: Client) -> None:
    assert location.get(CENTERS, query=INCHEON).status == 401
    assert location.get(f"{CENTERS}/1").status == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"lat": 91, "lon": 127}, "lat"),
        ({"lat": -90.5, "lon": 127}, "lat"),
        ({"lat": 37, "lon": 180.1}, "lon"),
        ({"lat": "abc", "lon": 127}, "lat"),
        ({"lat": "nan", "lon": 127}, "lat"),
        ({"lon": 127}, "lat"),
        ({**INCHEON, "radius": 99}, "radius"),
        ({**INCHEON, "radius": 50_001}, "radius"),
        ({**INCHEON, "zoom": 0}, "zoom"),
        ({**INCHEON, "zoom": 21}, "zoom"),
        ({**INCHEON, "store_category": "bookshop"}, "store_category"),
        ({**INCHEON, "pickup_category": "can,cans"}, "pickup_category"),
        ({**INCHEON, "limit": 0}, "limit"),
        ({**INCHEON, "limit": 201}, "limit"),
        ({**INCHEON, "open_now": "maybe"}, "open_now"),
    ],
)
def test_validation(location: Client, auth_header: dict, query: dict, field: str) -> None:
    result = location.get(CENTERS, query=query, headers=auth_header)
    assert result.status == 422, result.body
    assert result.content_type == "application/problem+json"
    assert ["query", field] in [e["loc"] for e in result.json["errors"]]


def test_categories_and_zoom_table(location: Client) -> None:
    body = location.get("/api/v1/locations/categories").json
    assert [c["code"] for c in body["pickup_categories"]][-2:] == ["battery", "general"]
    assert len(body["store_categories"]) == 9
    assert body["zoom"][0] == {"zoom": 1, "level": 20, "radius_m": 100, "limit": 200}


@pytest.mark.parametrize(
    ("site_id", "when", "fields"),
    [
        (1, "2025-10-07T12:00", (False, True, None, None)),  # a Tuesday, but a public holiday: 휴무
        (1, "2025-11-25T12:00", (True, False, "11:00", "14:00")),  # the same weekday, no holiday
        (167, "2025-12-08T11:00", (False, True, None, None)),  # a Monday it skips (1st, 3rd, 5th only)
    ],
)
def test_opening_fields_of_holidays_and_skipped_weeks(location: Client, auth_header: dict, at, site_id: int,
                                                      when: str, fields: tuple) -> None:
    """The day's fields come from the holiday's hours on a public holiday, and
    a weekday the site skips that week is a closed day, in the list and the detail."""
    at(when)
    site = next(s for s in sites.dataset() if s["id"] == site_id)
    listed = location.get(CENTERS, query={"lat": site["latitude"], "lon": site["longitude"], "radius": 100},
                          headers=auth_header).json
    detail = location.get(f"{CENTERS}/{site_id}", headers=auth_header).json
    for center in (next(c for c in listed if c["id"] == site_id), detail):
        assert (center["is_open"], center["is_holiday"], center["start_time"], center["end_time"]) == fields

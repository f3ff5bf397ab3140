"""The released app's my, character and location calls against eco2, through
the dev gateway, with cookies only (the rows of docs/api-v1.md).

The app (eco2-team/frontend, badf466): Splash.tsx goes to login unless the
profile has ``username``; MyPage.tsx shows ``nickname``, ``username``,
``phone_number`` and ``provider``; EditPage.tsx patches the nickname; the map
(map.service.ts) reads the sites of ``/locations/centers``. The character
fields are the original backend's (v1.0.0, domains/my/schemas/user.py and
domains/character/schemas/catalog.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from .app import App

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_the_splash_screens_profile_path(signed_in: App) -> None:
    """Splash.tsx asks /api/v1/users/me (plural) and goes home only when the
    answer has ``username``; the original answered 404 there."""
    me = signed_in.call("GET", "/api/v1/users/me")
    assert me.status_code == 200 and me.json()["username"] == "홍길동"
    assert me.json() == signed_in.call("GET", "/api/v1/user/me").json()


def test_profile(signed_in: App) -> None:
    me = signed_in.call("GET", "/api/v1/user/me")
    assert me.status_code == 200
    body = me.json()
    assert body["username"] == "홍길동"  # the provider's name, as the original derived it
    assert body["nickname"] and body["provider"] == "google" and body["phone_number"] is None
    datetime.fromisoformat(body["last_login_at"])


@pytest.mark.parametrize(
    ("patch", "field", "expected"),
    [({"nickname": "새이름"}, "nickname", "새이름"), ({"phone_number": "01012345678"}, "phone_number", "010-1234-5678")],
)
def test_profile_edit(signed_in: App, patch: dict, field: str, expected: str) -> None:
    reply = signed_in.call("PATCH", "/api/v1/user/me", json_body=patch)
    assert reply.status_code == 200
    assert any(p.request.headers["Access-Control-Request-Method"] == "PATCH" for p in signed_in.preflights)
    body = reply.json()
    assert body[field] == expected
    assert {"username", "nickname", "phone_number", "provider", "last_login_at"} <= body.keys()


def test_my_characters(signed_in: App) -> None:
    signed_in.call("GET", "/api/v1/user/me")  # the first profile read grants 이코
    reply = signed_in.call("GET", "/api/v1/user/me/characters")
    assert reply.status_code == 200
    [eco] = reply.json()
    uuid.UUID(eco["id"])
    assert eco["code"] == "char-eco" and eco["name"] == "이코"
    assert isinstance(eco["type"], str) and eco["type"] and eco["dialog"]
    datetime.fromisoformat(eco["acquired_at"])


@pytest.mark.parametrize(("name", "owned"), [("이코", True), ("페티", False)])
def test_ownership_by_korean_name(signed_in: App, name: str, owned: bool) -> None:
    signed_in.call("GET", "/api/v1/user/me")
    reply = signed_in.call("GET", f"/api/v1/user/me/characters/{name}/ownership")
    assert reply.status_code == 200
    body = reply.json()
    assert body["character_name"] == name and body["owned"] is owned


def test_catalog(signed_in: App) -> None:
    reply = signed_in.call("GET", "/api/v1/character/catalog")
    assert reply.status_code == 200
    catalog = reply.json()
    assert len(catalog) == 13
    for entry in catalog:
        assert entry["name"] and entry["type"] and entry["dialog"] and entry["match"]
    petty = next(e for e in catalog if e["name"] == "페티")
    assert petty["match"] == "무색페트병" and petty["type"] == "먹는샘물 페트병, 음료 페트병"


SITE_FIELDS = {"id", "name", "source", "road_address", "latitude", "longitude", "distance_km", "distance_text",
               "is_open", "is_holiday", "start_time", "end_time", "phone", "pickup_categories", "store_category",
               "collection_items"}


@pytest.mark.parametrize(
    "params",
    [
        {"lat": 37.4563, "lon": 126.7052, "radius": 5000},
        {"lat": 37.4563, "lon": 126.7052, "zoom": 5},
        {"lat": 37.4563, "lon": 126.7052, "zoom": 7, "store_category": "all", "pickup_category": "clear_pet,paper"},
        {"lat": 37.5665, "lon": 126.978, "radius": 10000, "store_category": "public_dropbox,refill_zero"},
    ],
    ids=["radius", "zoom", "pickup filter", "store filter"],
)
def test_centers(signed_in: App, params: dict) -> None:
    reply = signed_in.call("GET", "/api/v1/locations/centers", params=params)
    assert reply.status_code == 200, reply.text
    sites = reply.json()
    assert isinstance(sites, list) and sites  # a bare list, as the map expects
    for site in sites:
        assert SITE_FIELDS <= site.keys()
        assert site["source"] in ("keco", "zerowaste")
    distances = [s["distance_km"] for s in sites]
    assert distances == sorted(distances)
    if "pickup_category" in params:
        wanted = set(params["pickup_category"].split(","))
        assert all(wanted & set(s["pickup_categories"]) for s in sites)

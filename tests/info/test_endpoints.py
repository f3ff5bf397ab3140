"""The info function's routes: public, cacheable, validated."""

from __future__ import annotations


import pytest

from eco2 import knowledge
from eco2.testing import Client

from ..support import ROOT

INFO = ROOT / "functions" / "info" / "main.py"
P = "/api/v1/info"


@pytest.fixture(scope="module")
def info() -> Client:
    return Client(INFO, env={"ECO2_ENV": "test"})  # no database: the knowledge base is package data


def ok(result):
    assert result.status == 200, result.body
    assert result.content_type == "application/json"
    return result.json


def test_categories(info: Client) -> None:
    body = ok(info.get(f"{P}/categories"))
    codes = [c["code"] for c in body["categories"]]
    assert len(codes) == 20 and "clear_pet" in codes and "hazardous" in codes
    pet = next(c for c in body["categories"] if c["code"] == "clear_pet")
    assert pet["middle"] == "무색페트병" and pet["parent"] == "recyclable" and "pet bottle" in pet["synonyms"]


@pytest.mark.parametrize("key", ["clear_pet", "무색페트병"])
def test_guide(info: Client, key: str) -> None:
    guide = ok(info.get(f"{P}/categories/{key}"))
    assert guide["code"] == "clear_pet" and guide["title"] and guide["summary"]
    assert [s["id"] for s in guide["steps"]] == ["emptied", "rinsed", "label_removed", "crushed", "cap_closed"]
    assert {"item": "유색 페트병", "goes_to": ["plastic"]}.items() <= guide["not_accepted"][0].items()
    assert {"id": "water-pet-bottle", "name": "생수 페트병"} in guide["items"]
    assert any(f["id"] == "pet-label" for f in guide["faq"])


def test_recyclables_list_their_subcategories(info: Client) -> None:
    guide = ok(info.get(f"{P}/categories/recyclable"))
    assert len(guide["subcategories"]) == 12


def test_item(info: Client) -> None:
    item = ok(info.get(f"{P}/items/animal-bone"))
    assert item["category"]["code"] == "general" and item["confused_with"]["code"] == "food"
    assert item["guide"]["steps"][0]["id"] == "recyclables_out"


@pytest.mark.parametrize("path", [f"{P}/categories/nope", f"{P}/items/nope", f"{P}/categories/"])
def test_unknown_is_404(info: Client, path: str) -> None:
    result = info.get(path)
    assert result.status == 404 and result.content_type == "application/problem+json"


def test_search(info: Client) -> None:
    body = ok(info.get(f"{P}/search", query={"q": "피자 박스", "limit": 3}))
    assert body["query"] == "피자 박스" and len(body["results"]) == 3
    first = body["results"][0]
    assert first["category"]["code"] == "paper" and first["guide"]["steps"][0]["id"] == "tape_removed"
    english = ok(info.get(f"{P}/search", query={"q": "pet bottle"}))
    assert english["results"][0]["category"]["code"] == "clear_pet"
    assert ok(info.get(f"{P}/search", query={"q": "zzqxj"}))["results"] == []


def test_a_repeated_search_is_the_same_answer(info: Client) -> None:
    query = {"q": " 페트병 라벨 ", "limit": 4}
    first, again = info.get(f"{P}/search", query=query), info.get(f"{P}/search", query=query)
    assert first.body == again.body and ok(first)["query"] == "페트병 라벨"
    assert again.headers["Cache-Control"] == "public, max-age=300" and again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["X-Request-Id"] != first.headers["X-Request-Id"]


@pytest.mark.parametrize("q", ['"페트병', "NEAR(pet bottle)", "-캔 AND (pet*", "^캔", "title:캔", "'; --"])
def test_search_takes_fts5_syntax_as_text(info: Client, q: str) -> None:
    assert isinstance(ok(info.get(f"{P}/search", query={"q": q}))["results"], list)


@pytest.mark.parametrize("query", [{}, {"q": ""}, {"q": "   "}, {"q": "x" * 101}, {"q": "캔", "limit": 0},
                                   {"q": "캔", "limit": 51}, {"q": "캔", "limit": "many"}])
def test_search_validation(info: Client, query: dict) -> None:
    result = info.get(f"{P}/search", query=query)
    assert result.status == 422 and result.content_type == "application/problem+json"


def test_faq_pages(info: Client) -> None:
    seen, query = [], {"limit": 7}
    while True:
        page = ok(info.get(f"{P}/faq", query=query))
        assert len(page["items"]) <= 7
        seen += [f["id"] for f in page["items"]]
        if not page["next_cursor"]:
            break
        query = {"limit": 7, "cursor": page["next_cursor"]}
    assert seen == [f.id for f in knowledge.load().faq] and len(seen) >= 40


def test_faq_of_a_category(info: Client) -> None:
    page = ok(info.get(f"{P}/faq", query={"category": "음식물류폐기물", "limit": 100}))
    assert {f["category"] for f in page["items"]} == {"food"} and page["next_cursor"] is None
    bones = next(f for f in page["items"] if f["id"] == "chicken-bones")
    assert bones["goes_to"] == "general"


@pytest.mark.parametrize("query", [{"category": "nope"}, {"limit": 0}, {"limit": 101}, {"cursor": "%%%"},
                                   {"cursor": "WyJuby1zdWNoLWlkIl0"}])  # a well-formed cursor of no entry
def test_faq_validation(info: Client, query: dict) -> None:
    result = info.get(f"{P}/faq", query=query)
    assert result.status == 422, result.body


def test_faq_cursor_of_another_category(info: Client) -> None:
    paper = ok(info.get(f"{P}/faq", query={"category": "paper", "limit": 1}))
    other = info.get(f"{P}/faq", query={"category": "metal", "cursor": paper["next_cursor"]})
    assert other.status == 422


@pytest.mark.parametrize("region", ["capital", "수도권", "서울"])
def test_prices_of_a_region(info: Client, region: str) -> None:
    body = ok(info.get(f"{P}/prices", query={"region": region}))
    assert body["region"]["id"] == "capital" and body["unit"] == "원/kg" and body["surveyed"] == "2025-01"
    can = next(i for i in body["items"] if i["id"] == "metal_aluminum_can")
    assert can["price"] == 1350 and can["prices"] == {"capital": 1350}


def test_prices_of_every_region(info: Client) -> None:
    body = ok(info.get(f"{P}/prices"))
    assert body["region"] is None and len(body["regions"]) == 9
    assert all(len(i["prices"]) == 9 and i["price"] is None for i in body["items"])
    assert info.get(f"{P}/prices", query={"region": "화성"}).status == 422


@pytest.mark.parametrize(
    ("path", "query"),
    [("categories", None), ("categories/paper", None), ("items/pizza-box", None), ("faq", {"limit": 5}),
     ("prices", {"region": "gangwon"}), ("search", {"q": "건전지"})],
)
def test_etag_and_304(info: Client, path: str, query: dict | None) -> None:
    first = info.get(f"{P}/{path}", query=query)
    etag = first.headers["ETag"]
    assert first.status == 200 and etag.startswith('"') and "public" in first.headers["Cache-Control"]
    again = info.get(f"{P}/{path}", query=query, headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b"" and again.headers["ETag"] == etag
    assert "max-age" in again.headers["Cache-Control"]
    listed = info.get(f"{P}/{path}", query=query, headers={"If-None-Match": f'"other", {etag}'})
    assert listed.status == 304
    stale = info.get(f"{P}/{path}", query=query, headers={"If-None-Match": '"stale"'})
    assert stale.status == 200 and stale.body == first.body


def test_head(info: Client) -> None:
    result = info.request("HEAD", f"{P}/categories")
    assert result.status == 200 and result.body == b"" and result.headers["ETag"]

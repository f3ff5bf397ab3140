"""The importer on small CSVs in the sources' formats (tests/location/fixtures),
with the rows that trip it up: a bogus latitude, a malformed longitude, a
number with a stray character, no coordinates, Kakao x/y instead of lon/lat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eco2_tools.importers import locations

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def built() -> tuple[dict[int, dict], dict]:
    sites, report = locations.build(FIXTURES)
    return {s["id"]: s for s in sites}, report


def test_counts_and_skipped_rows(built) -> None:
    sites, report = built
    assert report["rows"] == {"keco": 10, "zerowaste": 7}
    assert report["sites"] == {"keco": 6, "zerowaste": 6}
    skipped = {(s["source"], s["source_pk"]): s["reason"] for s in report["skipped"]}
    assert skipped[("keco", "188")].startswith("coordinates outside South Korea: 4.596996")
    assert skipped[("keco", "368")].startswith("coordinates are not numbers")  # 127.7.23106
    assert skipped[("keco", "99")].startswith("coordinates are not numbers")  # 37.45…788?
    assert skipped[("keco", "204")] == "no coordinates"
    assert skipped[("zerowaste", "1")] == "no coordinates"
    assert len(skipped) == 5
    assert all(33 <= s["latitude"] <= 38.7 and 124.5 <= s["longitude"] <= 132 for s in sites.values())


def test_store_categories(built) -> None:
    sites, _ = built
    assert sites[1]["store_category"] == "upcycle_recycle"  # a staffed 자원순환가게
    assert sites[51]["store_category"] == "public_dropbox"  # 재활용 무인회수기
    assert sites[194106793]["store_category"] == "cafe_bakery"  # 카페 겸 제로웨이스트 쇼룸
    assert sites[776485736]["store_category"] == "refill_zero"  # 브니엘상점: a shop on a zero-waste map
    assert sites[780218107]["store_category"] == "general"  # 프릿지: no keyword at all


def test_pickup_categories(built) -> None:
    sites, _ = built
    assert sites[1]["pickup_categories"] == ["clear_pet", "colored_pet", "can", "paper", "plastic"]
    assert sites[285]["pickup_categories"] == ["clear_pet"]  # "투명pet"
    # No accepted-items column: what the machine's introduction says it takes.
    assert sites[51]["pickup_categories"] == ["clear_pet", "can"]
    assert sites[780218107]["pickup_categories"] == ["general"]


def test_opening_hours_per_weekday(built) -> None:
    sites, _ = built
    first = sites[1]["hours"]
    assert first["tue"] == {"text": "11:00 ~ 14:00", "open": [["11:00", "14:00"]]}
    assert first["mon"]["open"] == [] and first["holiday"]["open"] == []
    assert sites[35]["hours"]["mon"]["open"] == [["09:00", "12:00"], ["14:00", "17:00"]]
    assert sites[160]["hours"]["mon"]["open"] == [["10:00", "22:00"]]  # the summer hours are a remark
    assert sites[167]["hours"]["mon"]["weeks"] == [1, 3, 5]
    assert sites[285]["hours"]["sun"]["open"] == [["00:00", "24:00"]]  # 상시
    assert sites[780218107]["hours"] == {}  # Kakao favourites have none


def test_phone_numbers(built) -> None:
    sites, _ = built
    assert sites[1]["phone"] == "031-8075-2706"
    # The basic number lacks its area code ("850-6921(자원순환과)"); the representative one has it.
    assert sites[285]["phone"] == "043-850-6921"
    assert sites[160]["phone"] == "032-760-7217"


def test_kakao_map_coordinates(built) -> None:
    sites, report = built
    assert report["kakao_conversion"]["checked_rows"] == 4
    assert report["kakao_conversion"]["max_error_m"] < 1
    converted = sites[392127054]  # 천연제작소, 경남 양산시 물금읍: x/y only
    assert converted["coordinates_from"] == "kakao_map_xy"
    assert converted["latitude"] == pytest.approx(35.31, abs=0.02)
    assert converted["longitude"] == pytest.approx(129.01, abs=0.02)
    assert converted["place_url"] == "https://place.map.kakao.com/787294651"


def test_address_favourites(built) -> None:
    sites, _ = built
    bare = sites[733490700]
    assert (bare["name"], bare["road_address"]) == ("경남지역자활 리본 옥포점 매장", "경남 거제시 옥포로23길 5")
    assert bare["kakao_place_id"] is None
    combined = sites[448354937]
    assert (combined["name"], combined["road_address"]) == ("틈새숲을", "경북 경주시 진현로2길 39")


def test_run_writes_the_dataset(tmp_path: Path) -> None:
    summary = locations.run(FIXTURES, out=tmp_path)
    assert "wrote 12 sites" in summary and "skipped 5" in summary
    lines = (tmp_path / "sites.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 12 and all(json.loads(line)["id"] for line in lines)
    assert json.loads((tmp_path / "report.json").read_text())["sites"] == {"keco": 6, "zerowaste": 6}
    holidays = json.loads((tmp_path / "holidays.json").read_text())["dates"]
    assert "2025-10-06" in holidays  # 추석
    # Running it again writes the same bytes.
    before = (tmp_path / "sites.jsonl").read_bytes()
    locations.run(FIXTURES, out=tmp_path)
    assert (tmp_path / "sites.jsonl").read_bytes() == before

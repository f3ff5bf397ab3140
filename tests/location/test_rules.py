"""Pure rules: opening-hours text, keyword categories, the zoom table."""

from __future__ import annotations

from datetime import datetime

import pytest

from eco2.location import categories, hours, zoom

SEOUL = hours.SEOUL


@pytest.mark.parametrize(
    ("text", "intervals", "weeks"),
    [
        ("09:00 ~ 21:00", ((540, 1260),), None),
        ("09:00~18:00", ((540, 1080),), None),
        ("9:00 ~ 11:00", ((540, 660),), None),
        ("08시~22시", ((480, 1320),), None),
        ("00:00~24:00", ((0, 1440),), None),
        ("상시", ((0, 1440),), None),
        ("휴무", (), None),
        ("전체휴무", (), None),
        ("계약종료", (), None),
        ("09:00 ~ 12:00,\n14:00 ~ 17:00", ((540, 720), (840, 1020)), None),
        ("10시~22시         (하절기(7~9월) 10시~23시)", ((600, 1320),), None),
        ("10:00~12:00\n14:00~16:00\n(1,3,5주)", ((600, 720), (840, 960)), (1, 3, 5)),
        ("10:00~12:00\n14:00~16:00\n(2, 4주)", ((600, 720), (840, 960)), (2, 4)),
        ("22:00~02:00", None, None),  # past midnight: not understood, so unknown
        ("전화 문의", None, None),
    ],
)
def test_parse_hours(text: str, intervals, weeks) -> None:
    day = hours.parse(text)
    assert day.intervals == intervals and day.weeks == weeks and day.text == text
    assert hours.DayHours.from_json(day.to_json()) == day


def test_empty_hours_are_none() -> None:
    assert hours.parse("") is None and hours.parse(None) is None


def test_week_cycle() -> None:
    week = {d: hours.parse("휴무") for d in hours.DAYS}
    week["tue"] = hours.parse("11:00 ~ 14:00")
    week["mon"] = hours.parse("10:00~12:00 (2, 4주)")
    ranges = hours.week_ranges(week)
    # Tuesday 11-14 in all five weeks of the cycle, Monday 10-12 in weeks 2 and 4 only.
    tuesday = [(o * hours.WEEK_MINUTES + hours.DAY_MINUTES + 660, o * hours.WEEK_MINUTES + hours.DAY_MINUTES + 840)
               for o in range(5)]
    monday = [(o * hours.WEEK_MINUTES + 600, o * hours.WEEK_MINUTES + 720) for o in (1, 3)]
    assert sorted(ranges) == sorted(tuesday + monday)
    week["sun"] = None
    assert hours.week_ranges(week) is None  # a day unknown: the week is unknown


def test_moment_in_seoul() -> None:
    # 2025-11-25 03:30 UTC is Tuesday 12:30 in Seoul, the 4th Tuesday of the month.
    m = hours.moment(datetime.fromisoformat("2025-11-25T03:30:00+00:00"))
    assert (m.day, m.occurrence, m.minute, m.public_holiday) == ("tue", 4, 750, False)
    assert m.cycle_minute == (3 * 7 + 1) * hours.DAY_MINUTES + 750
    chuseok = hours.moment(datetime(2025, 10, 6, 12, 0, tzinfo=SEOUL))
    assert chuseok.public_holiday


def test_store_rules() -> None:
    assert categories.zero_waste_store("자양분", "카페 겸 제로웨이스트 쇼룸") == "cafe_bakery"
    assert categories.zero_waste_store("낙토", "제로웨이스트 숙소") == "lodging"
    assert categories.zero_waste_store("포레스테이블", "") == "general"  # 스테이 inside a word is no stay
    assert categories.zero_waste_store("코뿔소책방", "") == "book_workshop"
    assert categories.zero_waste_store("한살림 제주담을매장", "") == "market_mart"
    assert categories.zero_waste_store("살림꽃", "되살림 매장") == "upcycle_recycle"
    assert categories.zero_waste_store("알맹상점", "") == "refill_zero"
    assert categories.zero_waste_store("프릿지", "") == "general"
    assert categories.keco_store("증심사입구 재활용 무인회수기", "") == "public_dropbox"
    assert categories.keco_store("주교동 행정복지센터", "고양자원순환가게입니다") == "upcycle_recycle"


def test_pickup_rules() -> None:
    assert categories.pickups("무색페트병(투명페트병)", "PET(유색)", "PE, PS, others") == [
        "clear_pet", "colored_pet", "plastic"]
    assert categories.pickups("PET") == ["plastic"]  # a PET container in a plastics list
    assert categories.pickups("투명, 갈색,녹색병") == ["glass"]
    assert categories.pickups("(폐건전지 교환) 폐건전지 20개<->새건전지 2개") == ["battery"]
    assert categories.pickups("외류 외(가방, 신발)", "종이팩(멸균,살균)", "철") == ["can", "paper", "textile"]
    assert categories.pickups("자원순환 정책 안내") == ["general"]  # 정책 is no book


def test_filters() -> None:
    known = categories.PICKUP_CATEGORIES
    assert categories.parse_filter(None, known) is None
    assert categories.parse_filter("all", known) is None
    assert categories.parse_filter("paper, can,paper", known) == ["can", "paper"]
    with pytest.raises(ValueError, match="unknown categories: cans"):
        categories.parse_filter("can,cans", known)


def test_zoom_table_is_the_originals() -> None:
    # Kakao 1 (street) is the internal 20 (100 m), Kakao 14 the internal 1 (80 km).
    assert [zoom.internal(z) for z in (1, 2, 7, 13, 14)] == [20, 19, 11, 2, 1]
    assert zoom.radius(1) == 100 and zoom.radius(14) == 80_000 and zoom.radius(7) == 3000
    assert zoom.radius(None) == 5000 and zoom.limit(None) == 200
    assert [zoom.limit(z) for z in (1, 5, 8, 10, 12, 14)] == [200, 200, 160, 120, 80, 50]
    assert zoom.radius(20) == zoom.radius(14)  # clamped to Kakao's range
    assert len(zoom.table()) == 14

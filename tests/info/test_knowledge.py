"""The shipped knowledge base holds together, and its Python API answers."""

from __future__ import annotations

from collections import Counter

import pytest

from eco2 import knowledge

MAJORS = {"재활용폐기물", "일반종량제폐기물", "불연성종량제폐기물", "음식물류폐기물", "대형폐기물",
          "공사장생활폐기물", "생활계유해폐기물", "미분류"}
MIDDLES = {"종이", "종이팩", "무색페트병", "플라스틱류", "비닐류", "발포합성수지", "유리병", "금속류",
           "의류및원단", "전지", "조명제품", "전기전자제품"}


@pytest.fixture(scope="module")
def kb() -> knowledge.KnowledgeBase:
    return knowledge.load()


def test_the_original_categories(kb) -> None:
    assert {c.major for c in kb.categories} == MAJORS
    assert {c.middle for c in kb.categories if c.middle} == MIDDLES
    assert all(kb.category(name) for name in MAJORS | MIDDLES)
    assert len({c.code for c in kb.categories}) == len(kb.categories) == 20
    assert {c.code for c in kb.children("recyclable")} == {c.code for c in kb.categories if c.middle}


def test_guides_use_the_step_vocabulary(kb) -> None:
    for c in kb.categories:
        g = c.guide
        assert g.category == c.code and g.title and g.summary and g.includes and g.put_out
        assert g.steps, c.code
        assert all(s.id in kb.steps for s in g.steps)
        assert len({s.id for s in g.steps}) == len(g.steps)
        assert all(kb.category(code) for r in g.not_accepted for code in r.goes_to)


def test_items_point_at_categories(kb) -> None:
    assert len({i.id for i in kb.items}) == len(kb.items) >= 150
    for item in kb.items:
        assert kb.category(item.category), item.id
        assert item.confused_with is None or kb.category(item.confused_with), item.id
    assert all(kb.items_in(c.code) for c in kb.categories if c.middle)


def test_faq(kb) -> None:
    assert len(kb.faq) >= 40
    assert len({f.id for f in kb.faq}) == len(kb.faq)
    assert all(kb.category(f.category) and f.question.endswith("?") and f.answer for f in kb.faq)
    covered = Counter(f.category for f in kb.faq)
    assert all(covered[c.code] for c in kb.categories if c.middle)


def test_prices(kb) -> None:
    p = kb.prices
    assert p.surveyed == "2025-01" and p.unit == "원/kg"
    regions = [r.id for r in p.regions]
    assert len(regions) == 9 and all(set(i.prices) == set(regions) for i in p.items)
    assert next(i for i in p.items if i.id == "metal_aluminum_can").prices["capital"] == 1350
    assert kb.region("수도권").id == kb.region("capital").id == kb.region("서울").id == "capital"
    assert kb.region("화성") is None


def test_lookup_by_code_or_korean_name(kb) -> None:
    assert kb.category("clear_pet") is kb.category("무색페트병")
    assert kb.category("의류 및 원단").code == "textile"
    assert kb.category("재활용폐기물").code == "recyclable"
    assert kb.category("nope") is None and knowledge.guide("nope") is None


def test_steps_for_scan(kb) -> None:
    steps = knowledge.steps_for("무색페트병")
    assert [s.id for s in steps] == ["emptied", "rinsed", "label_removed", "crushed", "cap_closed"]
    assert steps[2].title == "라벨 떼기" and steps[2].required
    assert knowledge.steps_for("unknown") == ()
    # Scan's situation tags -> the required steps that were not done, in guide order.
    assert knowledge.unmet_steps("무색페트병", ["라벨_부착", "내용물_있음", "뚜껑_있음"]) == ("emptied", "label_removed")
    assert knowledge.unmet_steps("발포합성수지", ["스티로폼_테이프_부착"]) == ("tape_removed",)
    assert knowledge.unmet_steps("전지", ["배터리_포함"]) == ()  # taping the terminals is advice only


def test_items_for_classifier_labels(kb) -> None:
    assert kb.item_for_label("식품용기", "발포합성수지").id == "foam-food-container"
    assert kb.item_for_label("식품용기", "plastic").id == "plastic-food-container"
    bone = kb.item_for_label("뼈(배출불가)", "음식물류폐기물")
    assert (bone.category, bone.confused_with) == ("general", "food")
    assert kb.item_for_label("없는 물건") is None

"""The situation-tag vocabulary and its coverage of the knowledge base's steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eco2 import knowledge
from eco2.scan import tags
from eco2_tools.importers import scan_tags

from tests.support import ROOT

SOURCES = ROOT / "data" / "sources"


def test_the_committed_vocabulary_is_what_the_importer_makes(tmp_path: Path) -> None:
    out = tmp_path / "situation_tags.json"
    scan_tags.run(SOURCES, out)
    assert out.read_text(encoding="utf-8") == scan_tags.OUT.read_text(encoding="utf-8")


def test_the_vocabulary_is_the_originals_plus_eco2s() -> None:
    raw = json.loads(scan_tags.OUT.read_text(encoding="utf-8"))
    original = [t for g in raw["groups"] if g["origin"] == "original" for t in g["tags"]]
    assert raw["entries"] == 80 and len(original) == 79 == len(set(original))
    assert len([g for g in raw["groups"] if g["origin"] == "original"]) == 11
    assert set(tags.vocabulary()) == set(original) | set(scan_tags.ECO2_TAGS)
    assert {"내용물_있음", "라벨_부착", "뚜껑_있음", "미분류_전체"} <= set(original)


def test_the_importer_refuses_a_tag_outside_any_group() -> None:
    with pytest.raises(ValueError, match="before any group"):
        scan_tags.build("situation_tags:\n- 내용물_있음\n  # 1) 그룹\n- 라벨_부착\n")


def test_steps_name_only_tags_of_the_vocabulary() -> None:
    words = set(tags.vocabulary())
    for step in knowledge.load().steps.values():
        assert set(step.unmet_tags) <= words, (step.id, set(step.unmet_tags) - words)


def test_every_step_of_every_guide_is_reachable_from_a_tag() -> None:
    """For each step a guide lists, some tag of the vocabulary makes scan report
    it: as missing (a required step) or as advice (an advice-only step)."""
    kb = knowledge.load()
    unreachable = []
    for category in kb.categories:
        for step in category.guide.steps:
            reported = [
                tag for tag in tags.vocabulary()
                if step.id in kb.unmet_steps(category.code, [tag], advice=not step.required)
            ]
            if not reported:
                unreachable.append((category.code, step.id))
    assert unreachable == []


def test_every_step_has_a_tag() -> None:
    assert [s.id for s in knowledge.load().steps.values() if not s.unmet_tags] == []


@pytest.mark.parametrize(("code", "tag", "step"), [
    ("clear_pet", "뚜껑_없음", "cap_closed"), ("glass", "뚜껑_있음", "cap_off"),
    ("glass", "유리병_깨짐", "kept_intact"), ("electronics", "배터리_포함", "batteries_out"),
    ("battery", "전극_노출", "terminals_taped"), ("bulky", "배출스티커_없음", "sticker_attached"),
    ("food", "다수_품목_혼합", "foreign_removed"), ("unclassified", "미분류_전체", "checked"),
])
def test_examples_of_tags_and_the_steps_they_report(code: str, tag: str, step: str) -> None:
    kb = knowledge.load()
    advice = not next(s for s in kb.steps_for(code) if s.id == step).required
    assert step in kb.unmet_steps(code, [tag], advice=advice)


def test_known_drops_invented_and_repeated_tags() -> None:
    assert tags.known(["라벨_부착", "made_up", "라벨_부착", "뚜껑_있음"]) == ("라벨_부착", "뚜껑_있음")

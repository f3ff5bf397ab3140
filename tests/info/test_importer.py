"""`eco2 import knowledge` on small inputs in the sources' shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from eco2_tools.importers import knowledge

SURVEY = {
    "survey_info": {"source": "조사", "date": "2025-01", "unit": "원/kg", "url": "https://example.test", "note": "x"},
    "regions": [{"id": "nationwide", "name": "전국평균"}, {"id": "capital", "name": "수도권", "description": "서울"}],
    "categories": [{"id": "metal", "name": "폐금속류", "items": [
        {"id": "can", "name": "알루미늄캔", "synonyms": ["캔"], "prices": {"nationwide": 1200, "capital": 1350}}]}],
}


def test_prices_keep_the_figures_and_write_their_own_note() -> None:
    data = knowledge.prices(SURVEY)
    assert data["groups"][0]["items"][0]["prices"] == {"nationwide": 1200, "capital": 1350}
    assert data["regions"][1] == {"id": "capital", "name": "수도권", "description": "서울"}
    assert data["survey"]["note"] == knowledge.PRICE_NOTE


def test_a_missing_regional_price_fails() -> None:
    broken = json.loads(json.dumps(SURVEY))
    del broken["categories"][0]["items"][0]["prices"]["capital"]
    with pytest.raises(ValueError, match="lacks regions"):
        knowledge.prices(broken)


def test_class_list_entries() -> None:
    raw = {"item_class_list": {"재활용폐기물": {"종이": ["신문지"]}, "대형폐기물": ["가구"]}}
    assert knowledge.class_list(raw) == [("종이", "신문지"), ("대형폐기물", "가구")]


def test_check_holds_the_written_files_to_the_class_list(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "rules").mkdir(parents=True)
    (source / "rules" / "재활용폐기물_종이.json").write_text(json.dumps({"key": "종이"}), encoding="utf-8")
    raw = {"item_class_list": {"재활용폐기물": {"종이": ["신문지", "골판지류"]}, "음식물류폐기물": ["뼈(배출불가)"]}}
    (source / "item_class_list.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    shipped = Path(knowledge.OUT)
    assert knowledge.check(source, shipped) == (3, 1)
    raw["item_class_list"]["재활용폐기물"]["종이"].append("양피지")
    (source / "item_class_list.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="no item labelled '양피지' in paper"):
        knowledge.check(source, shipped)

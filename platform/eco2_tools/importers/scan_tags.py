"""scan's situation-tag vocabulary: `eco2 import scan-tags`.

The tags name what a photo shows about an item's state (내용물_있음,
라벨_부착, 뚜껑_없음 ...). The vocabulary is the original app's
``situation_tags.yaml`` (its 80 entries, 79 distinct, in 11 groups), kept as
it is, plus a few tags of eco2's own (:data:`ECO2_TAGS`) for preparation steps
that no original tag can report as missing. The output,
``platform/eco2/data/scan/situation_tags.json``, is committed; the vision
refinement offers exactly these tags to the model, and the knowledge base's
steps (``steps.json``, ``unmet_tags``) may name only these.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parents[2] / "eco2" / "data" / "scan" / "situation_tags.json"
SOURCE = "situation_tags.yaml"
# The original groups its tags under comments ("  # 1) 내용물·오염 상태").
_GROUP = re.compile(r"^\s*#\s*\d+\)\s*(?P<name>.+?)\s*$")
_TAG = re.compile(r"^\s*-\s*(?P<tag>\S+)\s*$")

# Tags eco2 adds, each for a step of the knowledge base that the original
# vocabulary has no way to report as missing (tag -> why).
ECO2_TAGS = {
    "전극_노출": "전지의 전극(+/-)이 테이프로 감싸지지 않았다 (terminals_taped)",
    "개인정보_저장기기": "개인정보가 남아 있을 수 있는 기기다: 휴대폰, 컴퓨터 (data_wiped)",
    "종량제봉투_아님": "종량제 봉투나 전용 마대가 아닌 곳에 담겨 있다 (bagged)",
    "배출스티커_없음": "대형폐기물 배출 스티커가 보이지 않는다 (sticker_attached)",
}
ECO2_GROUP = "eco2 추가"


def build(text: str) -> dict[str, Any]:
    """The vocabulary from the YAML's text: the tags in order, without repeats,
    grouped as the file's comments group them; then eco2's."""
    listed = yaml.safe_load(text)["situation_tags"]
    groups: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line in text.splitlines():
        if m := _GROUP.match(line):
            groups.append({"name": m["name"], "origin": "original", "tags": []})
        elif (m := _TAG.match(line)) and m["tag"] not in seen:
            if not groups:
                raise ValueError(f"tag {m['tag']} comes before any group heading")
            groups[-1]["tags"].append(m["tag"])
            seen.add(m["tag"])
    parsed = [tag for g in groups for tag in g["tags"]]
    if parsed != list(dict.fromkeys(listed)):
        raise ValueError("the group scan disagrees with the YAML's list of tags")
    clash = seen & set(ECO2_TAGS)
    if clash:
        raise ValueError(f"eco2's tags are already in the original: {sorted(clash)}")
    groups.append({
        "name": ECO2_GROUP, "origin": "eco2",
        "tags": list(ECO2_TAGS), "why": dict(ECO2_TAGS),
    })
    return {
        "source": f"{SOURCE} of the original Eco² app (MIT, data/sources/LICENSE.original)",
        "entries": len(listed),
        "groups": groups,
    }


def write(vocabulary: dict[str, Any], out: Path = OUT) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(vocabulary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def run(source: Path, out: Path = OUT) -> str:
    vocabulary = build((source / SOURCE).read_text(encoding="utf-8"))
    write(vocabulary, out)
    original = sum(len(g["tags"]) for g in vocabulary["groups"] if g["origin"] == "original")
    return (f"{out}: {original} original tags ({vocabulary['entries']} entries) in "
            f"{len(vocabulary['groups']) - 1} groups, {len(ECO2_TAGS)} of eco2's")

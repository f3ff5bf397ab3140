"""The character catalog: `eco2 import characters`.

From the original catalog CSV we keep the facts (each character's name, the
category it matches, the item types it stands for). Codes and tips are the
project's own, below. The output, platform/eco2/data/characters.json, is
committed and is what the runtime reads.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from eco2.character.catalog import MASCOT_MATCH

OUT = Path(__file__).resolve().parents[2] / "eco2" / "data" / "characters.json"

# name in the original catalog -> (stable code, the project's one-line tip)
PROJECT = {
    "이코": ("char-eco", "사진 한 장이면 분리배출 방법을 알려 주는 에코²의 마스코트예요."),
    "페이피": ("char-paepy", "상자는 테이프와 송장을 떼고 납작하게 펴서 끈으로 묶어 내놓아요."),
    "팩토리": ("char-factory", "우유팩은 헹궈 말린 뒤 펼쳐서, 일반 종이와 섞지 말고 따로 모아요."),
    "페티": ("char-petty", "투명 페트병은 라벨을 떼고 비운 뒤 찌그러뜨려 뚜껑을 닫아 내놓아요."),
    "메탈리": ("char-metally", "캔은 비우고 헹궈서, 부탄가스는 남은 가스를 모두 뺀 뒤 내놓아요."),
    "비니": ("char-bini", "비닐은 음식물을 털고 헹궈 모으고, 씻기지 않을 만큼 더러우면 종량제 봉투로."),
    "글래시": ("char-glassy", "병은 뚜껑을 떼고 비워서 내놓고, 깨진 유리는 싸서 종량제 봉투에 넣어요."),
    "코튼": ("char-cotton", "입지 않는 옷은 젖지 않게 의류수거함으로, 솜이불과 베개는 받지 않아요."),
    "플리": ("char-plea", "플라스틱 용기는 내용물을 씻어 내고, 다른 재질의 부속은 떼어 내놓아요."),
    "일렉": ("char-elec", "작은 가전은 수거함으로, 큰 가전은 무상 방문수거를 신청할 수 있어요."),
    "배리": ("char-battery", "다 쓴 전지는 전용 수거함으로, 리튬 배터리는 단자를 테이프로 감싸요."),
    "라이티": ("char-lighty", "형광등과 LED 전구는 깨지지 않게 그대로 전용 수거함에 넣어요."),
    "폼이": ("char-foamy", "스티로폼은 테이프와 스티커를 떼고, 깨끗하고 흰 것만 따로 내놓아요."),
}


def split_items(text: str) -> list[str]:
    """'a, b(c, d), e' -> ['a', 'b(c, d)', 'e']: commas inside parentheses stay."""
    return [part.strip() for part in re.split(r",\s*(?![^()]*\))", text) if part.strip()]


def build(csv_path: Path) -> list[dict]:
    with csv_path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    names = {row["name"] for row in rows}
    if names != set(PROJECT):
        raise ValueError(f"catalog names differ from the project's table: {sorted(names ^ set(PROJECT))}")
    catalog = []
    for row in rows:
        code, tip = PROJECT[row["name"]]
        mascot = row["match"] == MASCOT_MATCH
        catalog.append({
            "code": code,
            "name": row["name"],
            "category": None if mascot else row["match"],
            "items": [] if mascot else split_items(row["type"]),
            "tip": tip,
            "default": mascot,
        })
    # The mascot first, then the original's order.
    catalog.sort(key=lambda c: not c["default"])
    return catalog


def run(source: Path, out: Path = OUT) -> str:
    catalog = build(source / "character_catalog.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(catalog, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return f"wrote {len(catalog)} characters to {out}"

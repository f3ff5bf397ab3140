"""The waste knowledge base: `eco2 import knowledge`.

The knowledge base is mostly the project's own writing (steps, categories with
their guides, items and FAQ in platform/eco2/data/knowledge/). This importer
writes the one file that is pure data, prices.json from the KECO price survey,
and holds the written files to the original's facts: every category of the
class list and every rule file has its category, and every item of the class
list is an item's label in the category the list puts it in (or the one it is
confused with, for the list's "배출불가" entries). A mismatch fails the import.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parents[2] / "eco2" / "data" / "knowledge"
# The survey's figures carry over; this sentence about them is the project's.
PRICE_NOTE = "권역 안 조사 업체들의 평균 가격이에요. 실제 매입 가격은 업체마다 달라요."


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def prices(survey: dict[str, Any]) -> dict[str, Any]:
    """The survey in the project's shape; every item must have every region's price."""
    regions = [r["id"] for r in survey["regions"]]
    info = survey["survey_info"]
    groups = []
    for group in survey["categories"]:
        items = []
        for item in group["items"]:
            missing = set(regions) - set(item["prices"])
            if missing:
                raise ValueError(f"price item {item['id']} lacks regions {sorted(missing)}")
            items.append({
                "id": item["id"],
                "name": item["name"],
                "form": item.get("form"),
                "synonyms": item.get("synonyms", []),
                "prices": {region: int(item["prices"][region]) for region in regions},
            })
        groups.append(
            {"id": group["id"], "name": group["name"], "note": group.get("note"), "items": items}
        )
    return {
        "survey": {
            "source": info["source"],
            "date": str(info["date"]),
            "unit": info["unit"],
            "url": info["url"],
            "note": PRICE_NOTE,
        },
        "regions": [
            {"id": r["id"], "name": r["name"], "description": r.get("description")}
            for r in survey["regions"]
        ],
        "groups": groups,
    }


def class_list(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """(category name, item label) for every entry of item_class_list.yaml: the
    middle category for recyclables, the major otherwise."""
    entries = []
    for major, body in raw["item_class_list"].items():
        if isinstance(body, dict):
            entries += [(middle, label) for middle, labels in body.items() for label in labels]
        else:
            entries += [(major, label) for label in body]
    return entries


def check(source: Path, knowledge: Path) -> tuple[int, int]:
    """Hold the written files to the class list and the rule files; returns
    (class-list entries, rule files) checked."""
    categories = json.loads((knowledge / "categories.json").read_text(encoding="utf-8"))
    items = json.loads((knowledge / "items.json").read_text(encoding="utf-8"))
    by_name = {c["middle"] or c["major"]: c["code"] for c in categories}
    problems = []

    entries = class_list(_load(source / "item_class_list.yaml"))
    for name, label in entries:
        code = by_name.get(name)
        if code is None:
            problems.append(f"no category for {name}")
        elif not any(
            label in i["labels"] and code in (i["category"], i.get("confused_with")) for i in items
        ):
            problems.append(f"no item labelled {label!r} in {code}")

    rules = sorted((source / "rules").glob("*.json"))
    for path in rules:
        rule = json.loads(path.read_text(encoding="utf-8"))
        if rule["key"] not in by_name:
            problems.append(f"no category for rule file {path.name}")

    if problems:
        listed = "\n  ".join(sorted(set(problems)))
        raise ValueError(f"the knowledge base disagrees with the source:\n  {listed}")
    return len(entries), len(rules)


def run(source: Path, out: Path = OUT) -> str:
    data = prices(_load(source / "recyclable_prices.yaml"))
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    (out / "prices.json").write_text(text, encoding="utf-8")
    entries, rules = check(source, out)
    count = sum(len(g["items"]) for g in data["groups"])
    return (
        f"wrote {count} price items x {len(data['regions'])} regions to {out / 'prices.json'}; "
        f"checked {entries} class-list entries and {rules} rule files"
    )

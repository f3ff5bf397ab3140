"""Loading the shipped knowledge base and looking things up in it.

The files live in ``eco2/data/knowledge/`` (package data): the project's own
categories, guides, items and FAQ, and the price survey written by
``eco2 import knowledge``. :func:`load` reads them once per process.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any, Iterable

from eco2.knowledge.model import (
    Category,
    Faq,
    Guide,
    GuideStep,
    Item,
    PriceItem,
    Prices,
    Redirect,
    Region,
    Step,
)

DATA = "data/knowledge"
UNCLASSIFIED = "미분류"  # the major category of what cannot be classified


class KnowledgeBase:
    """Categories with guides, items, FAQ and prices, with lookups by code or name."""

    def __init__(
        self,
        steps: Iterable[Step],
        categories: Iterable[Category],
        items: Iterable[Item],
        faq: Iterable[Faq],
        prices: Prices,
    ) -> None:
        self.steps = {s.id: s for s in steps}
        self.categories = tuple(categories)
        self.items = tuple(items)
        self.faq = tuple(faq)
        self.prices = prices
        self._by_code = {c.code: c for c in self.categories}
        # Scan and chat name categories by the classifier's Korean names: a middle
        # category by its own name, a major without middles by the major's name.
        self._by_name: dict[str, Category] = {}
        for c in self.categories:
            self._by_name.setdefault(c.middle or c.major, c)
            self._by_name.setdefault(c.name, c)
        self._items = {i.id: i for i in self.items}

    def category(self, key: str) -> Category | None:
        """A category by its code (``clear_pet``) or Korean name (``무색페트병``)."""
        return self._by_code.get(key) or self._by_name.get(key.replace(" ", ""))

    def guide(self, key: str) -> Guide | None:
        category = self.category(key)
        return category.guide if category else None

    def steps_for(self, key: str) -> tuple[GuideStep, ...]:
        """The preparation steps of a category's guide (empty for an unknown one)."""
        guide = self.guide(key)
        return guide.steps if guide else ()

    def unmet_steps(self, key: str, situation_tags: Iterable[str], *, advice: bool = False) -> tuple[str, ...]:
        """Ids of the required steps of ``key``'s guide that ``situation_tags``
        (scan's tags for what it saw) say were not done, in guide order; with
        ``advice``, the guide's advice-only steps (``required: false``) instead."""
        tags = set(situation_tags)
        return tuple(
            step.id
            for step in self.steps_for(key)
            if step.required is not advice and tags.intersection(self.steps[step.id].unmet_tags)
        )

    def named_in(self, text: str) -> Item | Category | None:
        """The item or category that ``text`` names ("우유팩이에요" -> the milk
        carton item): the longest name, alias, class-list label or category
        synonym found in it, spaces ignored; an item before a category of the
        same length. None when nothing of at least two letters is named, or
        only 재활용폐기물 or 미분류, which name no thing.
        Negation is not understood ("페트병 아니에요" names 페트병)."""
        compact = _compact(text)
        for name, target in self._names:
            if name in compact:
                return target
        return None

    def children(self, code: str) -> tuple[Category, ...]:
        return tuple(c for c in self.categories if c.parent == code)

    def item(self, item_id: str) -> Item | None:
        return self._items.get(item_id)

    def item_for_label(self, label: str, category: str | None = None) -> Item | None:
        """The item standing for an original class-list label (a classifier's minor
        category), within ``category`` (code or name) when given."""
        wanted = self.category(category) if category else None
        for item in self._labels.get(label.strip(), ()):
            if wanted is None or wanted.code in (item.category, item.confused_with):
                return item
        return None

    def items_in(self, code: str) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.category == code)

    def faq_in(self, code: str | None) -> tuple[Faq, ...]:
        return self.faq if code is None else tuple(f for f in self.faq if f.category == code)

    def region(self, key: str) -> Region | None:
        """A price region by id (``capital``), name (``수도권``) or a place its
        description names (``서울`` is in 수도권)."""
        key = key.strip()
        for region in self.prices.regions:
            if key in (region.id, region.name):
                return region
        for region in self.prices.regions:
            if key and region.description and key in region.description:
                return region
        return None

    @cached_property
    def _names(self) -> tuple[tuple[str, Item | Category], ...]:
        """Every name of every item and category, compacted, longest first."""
        names: dict[str, Item | Category] = {}
        for item in self.items:
            for name in (item.name, *item.aliases, *item.labels):
                names.setdefault(_compact(name), item)
        for c in self.categories:
            # 재활용폐기물 (the parent of the recyclables) and 미분류 name no
            # thing: "분리배출 방법" is a question, not an answer.
            if c.major == UNCLASSIFIED or any(child.parent == c.code for child in self.categories):
                continue
            for name in (c.name, c.middle or c.major, *c.synonyms):
                names.setdefault(_compact(name), c)
        return tuple(sorted(((n, t) for n, t in names.items() if len(n) >= 2), key=lambda p: -len(p[0])))

    @cached_property
    def _labels(self) -> dict[str, tuple[Item, ...]]:
        index: dict[str, list[Item]] = {}
        for item in self.items:
            for label in item.labels:
                index.setdefault(label, []).append(item)
        return {label: tuple(items) for label, items in index.items()}


def _compact(text: str) -> str:
    """NFKC, lower case, no spaces: how names are compared with free text."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def _read(name: str) -> Any:
    return json.loads(resources.files("eco2").joinpath(f"{DATA}/{name}").read_text(encoding="utf-8"))


def _guide(code: str, raw: dict[str, Any], steps: dict[str, Step]) -> Guide:
    return Guide(
        category=code,
        title=raw["title"],
        summary=raw["summary"],
        includes=tuple(raw["includes"]),
        steps=tuple(
            GuideStep(s["id"], steps[s["id"]].title, s["text"], s.get("required", True))
            for s in raw["steps"]
        ),
        put_out=tuple(raw["put_out"]),
        not_accepted=tuple(
            Redirect(r["item"], tuple(r["goes_to"]), r["note"]) for r in raw["not_accepted"]
        ),
        tips=tuple(raw["tips"]),
    )


def _prices(raw: dict[str, Any]) -> Prices:
    survey = raw["survey"]
    return Prices(
        source=survey["source"],
        surveyed=survey["date"],
        unit=survey["unit"],
        url=survey["url"],
        note=survey.get("note"),
        regions=tuple(Region(r["id"], r["name"], r.get("description")) for r in raw["regions"]),
        items=tuple(
            PriceItem(
                i["id"], i["name"], g["id"], g["name"], i.get("form"), tuple(i["synonyms"]), i["prices"]
            )
            for g in raw["groups"]
            for i in g["items"]
        ),
    )


@lru_cache(maxsize=1)
def load() -> KnowledgeBase:
    """The knowledge base, read from package data on first call (a few ms)."""
    steps = {s["id"]: Step(s["id"], s["title"], tuple(s["unmet_tags"])) for s in _read("steps.json")}
    categories = [
        Category(
            code=c["code"],
            name=c["name"],
            name_en=c["name_en"],
            major=c["major"],
            middle=c["middle"],
            parent=c["parent"],
            recyclable=c["recyclable"],
            synonyms=tuple(c["synonyms"]),
            guide=_guide(c["code"], c["guide"], steps),
        )
        for c in _read("categories.json")
    ]
    items = [
        Item(
            i["id"], i["name"], i["category"], tuple(i["labels"]), tuple(i["aliases"]),
            i["note"], i.get("confused_with"),
        )
        for i in _read("items.json")
    ]
    faq = [
        Faq(f["id"], f["category"], f["question"], f["answer"], f.get("goes_to"))
        for f in _read("faq.json")
    ]
    return KnowledgeBase(steps.values(), categories, items, faq, _prices(_read("prices.json")))

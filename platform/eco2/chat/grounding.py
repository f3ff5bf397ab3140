"""What an answer stands on: the knowledge base's entries for the message, as text.

:func:`retrieve` searches the knowledge base (:func:`eco2.knowledge.search`)
with the user's message, keeps the hits that match well enough, and writes
each as a block of plain text: a category's guide (summary, what belongs,
the steps, how to put it out, look-alikes that go elsewhere, tips), an item
(where it goes, its note) with its category's guide, a FAQ entry. The blocks
are the model's reference text, and ``sources`` names exactly those blocks.
A photo (a scan, or a classified ``image_url``) puts its category's guide
first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from eco2 import knowledge
from eco2.knowledge import Category, Faq, Item

Kind = Literal["category", "item", "faq"]
# BM25 scores (eco2.knowledge.index) below this share only stray n-grams with
# the message: "오늘 날씨 어때" reaches 9.8 on a food FAQ, while a named
# thing scores 20 and more ("건전지 버리는 법" 23.7, "우유팩" 46.7).
MIN_SCORE = 12.0
RELATIVE = 0.35  # and at least this share of the best hit's score
MAX_HITS = 4
MAX_GUIDES = 2  # category guides written out in full


@dataclass(frozen=True)
class Source:
    """One entry of the knowledge base the answer was given: ``kind`` and ``id``
    as info's API names them (``/categories/{id}``, ``/items/{id}``, the FAQ)."""

    kind: Kind
    id: str
    title: str
    category: str  # the category code it belongs to (a FAQ: where its answer sends the thing)


@dataclass(frozen=True)
class Photo:
    """What a photo showed: from the user's scan (``scan_id``) or a classified ``image_url``."""

    origin: Literal["scan", "image"]
    category: Category
    item: Item | None
    missing_steps: tuple[str, ...]  # required step ids not done, guide order
    answer: str  # scan's own words for it (eco2.scan.answer), for the offline answer

    def describe(self) -> str:
        thing = f"{self.item.name} ({self.category.name})" if self.item else self.category.name
        how = "사용자가 스캔한 사진" if self.origin == "scan" else "사용자가 보낸 사진"
        lines = [f"[{how}] 분류: {thing}"]
        by_id = {s.id: s for s in self.category.guide.steps}
        missing = [by_id[i].title for i in self.missing_steps if i in by_id]
        if missing:
            lines.append("아직 안 된 준비: " + ", ".join(missing))
        return "\n".join(lines)


@dataclass(frozen=True)
class Grounding:
    sources: tuple[Source, ...]
    blocks: tuple[str, ...]  # one per source, same order
    photo: Photo | None = None
    categories: tuple[Category, ...] = field(default=())  # whose guides are written out, first the best

    @property
    def text(self) -> str:
        parts = ([self.photo.describe()] if self.photo else []) + list(self.blocks)
        return "\n\n".join(parts)


@lru_cache(maxsize=1)
def _faqs() -> dict[str, Faq]:
    return {f.id: f for f in knowledge.load().faq}


def faq(faq_id: str) -> Faq:
    return _faqs()[faq_id]


def _names(codes: tuple[str, ...]) -> str:
    kb = knowledge.load()
    return ", ".join(c.name for code in codes if (c := kb.category(code)))


def guide_block(category: Category) -> str:
    guide = category.guide
    lines = [f"[분리배출 안내: {category.name}] {guide.title}", f"요약: {guide.summary}"]
    if guide.includes:
        lines.append("해당하는 것: " + ", ".join(guide.includes))
    if guide.steps:
        lines.append("준비: " + " ".join(f"{n}. {s.text}" for n, s in enumerate(guide.steps, 1)))
    if guide.put_out:
        lines.append("배출: " + " ".join(guide.put_out))
    for r in guide.not_accepted:
        lines.append(f"해당하지 않는 것: {r.item} → {_names(r.goes_to)}" + (f" ({r.note})" if r.note else ""))
    if guide.tips:
        lines.append("팁: " + " ".join(guide.tips))
    return "\n".join(lines)


def item_block(item: Item, category: Category) -> str:
    line = f"[물건: {item.name}] 버리는 곳: {category.name}."
    if item.note:
        line += f" {item.note}"
    if item.confused_with:
        line += f" 흔히 잘못 버리는 곳: {_names((item.confused_with,))}."
    return line


def faq_block(faq: Faq) -> str:
    return f"[자주 묻는 질문] Q. {faq.question}\nA. {faq.answer}"


def retrieve(message: str, photo: Photo | None = None, previous: str | None = None) -> Grounding:
    """The knowledge base's entries for ``message`` (and the photo's category).

    A follow-up that names no item or category ("뚜껑은요?", "어디에 내놓아요?")
    is searched together with the ``previous`` turn's topic (its message, and
    what its photo showed), which it continues; one that names something is
    searched alone.
    """
    kb = knowledge.load()
    query = message
    if previous and kb.named_in(message) is None:
        query = f"{previous} {message}"
    hits = knowledge.search(query, limit=MAX_HITS * 2)
    best = hits[0].score if hits else 0.0
    kept = [h for h in hits if h.score >= MIN_SCORE and h.score >= RELATIVE * best][:MAX_HITS]

    guides: list[Category] = [photo.category] if photo else []
    for hit in kept:  # the categories the hits point at, best first
        if hit.category not in guides:
            guides.append(hit.category)
    guides = guides[:MAX_GUIDES]

    sources: list[Source] = []
    blocks: list[str] = []
    for category in guides:
        sources.append(Source("category", category.code, category.name, category.code))
        blocks.append(guide_block(category))
    for hit in kept:
        if hit.kind == "item" and (item := kb.item(hit.id)):
            sources.append(Source("item", item.id, item.name, hit.category.code))
            blocks.append(item_block(item, hit.category))
        elif hit.kind == "faq" and (entry := _faqs().get(hit.id)):
            sources.append(Source("faq", entry.id, entry.question, hit.category.code))
            blocks.append(faq_block(entry))
    return Grounding(tuple(sources), tuple(blocks), photo, tuple(guides))

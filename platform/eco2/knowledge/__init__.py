"""The waste knowledge base: categories, disposal guides, items, FAQ, prices, search.

Shipped as package data (``eco2/data/knowledge/``); no database. The API that
the functions call::

    from eco2 import knowledge

    kb = knowledge.load()                      # KnowledgeBase, read once per process
    kb.category("무색페트병")                   # by code or the classifier's Korean name
    knowledge.guide("clear_pet")               # Guide: includes, steps, put_out, ...
    knowledge.steps_for("무색페트병")            # GuideStep(id="label_removed", ...), ...
    knowledge.unmet_steps("무색페트병", ["라벨_부착"])  # ("label_removed",)
    knowledge.search("페트병 라벨", limit=5)     # [Hit(kind, id, title, score, category)]

All of it, :func:`search` too (SQLite FTS5, built on the first search), is
the standard library: a function that uses it needs nothing in its
requirements.txt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from eco2.knowledge.base import KnowledgeBase, load
from eco2.knowledge.model import Category, Faq, Guide, GuideStep, Item, Prices, Step

if TYPE_CHECKING:
    from eco2.knowledge.index import Hit

__all__ = [
    "Category", "Faq", "Guide", "GuideStep", "Item", "KnowledgeBase", "Prices", "Step",
    "guide", "load", "search", "steps_for", "unmet_steps",
]


def guide(key: str) -> Guide | None:
    """A category's guide, by code or Korean category name."""
    return load().guide(key)


def steps_for(key: str) -> tuple[GuideStep, ...]:
    """The preparation steps (with stable ids) of a category's guide."""
    return load().steps_for(key)


def unmet_steps(key: str, situation_tags: Iterable[str]) -> tuple[str, ...]:
    """Ids of the required steps that scan's situation tags say were not done."""
    return load().unmet_steps(key, situation_tags)


def search(query: str, limit: int = 10) -> list["Hit"]:
    """Ranked categories, items and FAQ for a Korean or English query."""
    from eco2.knowledge.index import search as run

    return run(query, limit)

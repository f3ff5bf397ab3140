"""scan's situation-tag vocabulary (``data/scan/situation_tags.json``, made by
``eco2 import scan-tags``): what a photo can show about an item's state. The
knowledge base's steps name the tags that mean a step was not done."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def vocabulary() -> tuple[str, ...]:
    """Every tag, the original's first, in the file's order."""
    raw = json.loads(resources.files("eco2").joinpath("data/scan/situation_tags.json").read_text("utf-8"))
    return tuple(tag for group in raw["groups"] for tag in group["tags"])


def known(tags: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``tags`` without repeats and without anything outside the vocabulary
    (a vision model may invent a tag; it counts for nothing)."""
    words = set(vocabulary())
    return tuple(dict.fromkeys(t for t in tags if t in words))

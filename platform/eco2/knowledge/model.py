"""The knowledge base's records: categories with their guides, items, FAQ, prices.

Frozen dataclasses, built straight from the shipped JSON without validation
on load (the tests validate the files), so that loading stays a few ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class Step:
    """A preparation step of the shared vocabulary: its id is stable and scan
    records it (``scan.scans.missing_steps``). ``unmet_tags`` are the scan
    situation tags that mean the step was not done."""

    id: str
    title: str
    unmet_tags: tuple[str, ...]


@dataclass(frozen=True)
class GuideStep:
    """One step of one category's guide: the shared step, worded for the category.
    Only ``required`` steps count as missing in a scan; the rest are advice."""

    id: str
    title: str
    text: str
    required: bool


@dataclass(frozen=True)
class Redirect:
    """Something that looks like it belongs to a category but goes elsewhere."""

    item: str
    goes_to: tuple[str, ...]  # category codes, the first is the usual one
    note: str | None


@dataclass(frozen=True)
class Guide:
    category: str  # the category's code
    title: str
    summary: str
    includes: tuple[str, ...]
    steps: tuple[GuideStep, ...]
    put_out: tuple[str, ...]
    not_accepted: tuple[Redirect, ...]
    tips: tuple[str, ...]


@dataclass(frozen=True)
class Category:
    """A major category (대분류) or a recyclable middle category (중분류).

    ``major`` and ``middle`` are the original classifier's Korean names, which
    scan produces; ``code`` is the stable id the API uses.
    """

    code: str
    name: str
    name_en: str
    major: str
    middle: str | None
    parent: str | None
    recyclable: bool
    synonyms: tuple[str, ...]
    guide: Guide


@dataclass(frozen=True)
class Item:
    """A thing people throw away, and the category it goes to.

    ``labels`` are the item names of the original class list it stands for
    (what a classifier outputs as the minor category); ``confused_with`` is the
    category people often put it in by mistake.
    """

    id: str
    name: str
    category: str
    labels: tuple[str, ...]
    aliases: tuple[str, ...]
    note: str | None
    confused_with: str | None


@dataclass(frozen=True)
class Faq:
    """A question and its answer. ``category`` is the topic it is listed under;
    ``goes_to`` the category the answer sends the thing to, when that differs
    (치킨 뼈 is asked about under 음식물, and goes to 종량제)."""

    id: str
    category: str
    question: str
    answer: str
    goes_to: str | None = None


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    description: str | None


@dataclass(frozen=True)
class PriceItem:
    id: str
    name: str
    group: str
    group_name: str
    form: str | None
    synonyms: tuple[str, ...]
    prices: Mapping[str, int]  # region id -> KRW per kg


@dataclass(frozen=True)
class Prices:
    """The KECO recyclable-resource price survey, per region."""

    source: str
    surveyed: str  # YYYY-MM
    unit: str
    url: str
    note: str | None
    regions: tuple[Region, ...]
    items: tuple[PriceItem, ...]

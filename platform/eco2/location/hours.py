"""Opening hours: parsed from the source's text per weekday, evaluated in Asia/Seoul.

A day's hours are a list of ``[start, end)`` intervals in minutes (``[]`` is
closed, ``None`` unknown), optionally only on some occurrences of that weekday
in the month ("1,3,5주"). For the database a site's week becomes one
``int4multirange`` over a five-week cycle (occurrence x weekday x minute), so
that "open now" is a single ``@>`` in SQL and filters before the LIMIT; its
public-holiday hours are a second multirange over the minutes of a day.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOLIDAY = "holiday"
DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES
OCCURRENCES = 5  # a weekday occurs at most five times in a month

# The patterns of :func:`parse`, as text: only the importer reads hours text
# (eco2 import locations), so a location function's start does not compile
# them (about 1 ms); re compiles and caches each at its first use.
_CLOSED = r"휴무|휴점|휴관|계약\s*종료|미운영|운영\s*안\s*함"
_ALWAYS = r"상시|24\s*시간|연중무휴"
_RANGE = r"(\d{1,2})\s*(?::\s*(\d{2})|시)\s*[~\-–]\s*(\d{1,2})\s*(?::\s*(\d{2})|시)"
_PARENS = r"\([^()]*\)"
_WEEKS = r"([1-5](?:\s*,\s*[1-5])*)\s*주"


@dataclass(frozen=True)
class DayHours:
    text: str
    intervals: tuple[tuple[int, int], ...] | None  # minutes [start, end); () closed; None unknown
    weeks: tuple[int, ...] | None = None  # only on these occurrences in the month

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "text": self.text,
            "open": None if self.intervals is None else [[clock(s), clock(e)] for s, e in self.intervals],
        }
        if self.weeks:
            doc["weeks"] = list(self.weeks)
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> "DayHours":
        spans = doc["open"]
        return cls(
            doc["text"],
            None if spans is None else tuple((_minutes(s), _minutes(e)) for s, e in spans),
            tuple(doc["weeks"]) if doc.get("weeks") else None,
        )


def clock(minutes: int) -> str:
    """Minutes since midnight as HH:MM (24:00 is the end of the day)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def parse(text: str | None) -> DayHours | None:
    """One day's hours from text like ``09:00 ~ 18:00``, ``08시~22시``, ``상시``,
    ``휴무``, two lines of ranges, or ranges followed by ``(1,3,5주)``.

    Parenthesized remarks are left out of the ranges (``10시~22시 (하절기
    10시~23시)`` is 10-22), except for the weeks they name. A range that ends
    before it starts (past midnight) is not understood: the day is unknown.
    None for empty text.
    """
    text = (text or "").strip()
    if not text:
        return None
    weeks = re.search(_WEEKS, text)
    week_list = tuple(sorted({int(w) for w in re.findall(r"[1-5]", weeks.group(1))})) if weeks else None
    plain = text
    while re.search(_PARENS, plain):
        plain = re.sub(_PARENS, " ", plain)
    spans = []
    for sh, sm, eh, em in re.findall(_RANGE, plain):
        start, end = int(sh) * 60 + int(sm or 0), int(eh) * 60 + int(em or 0)
        if not (0 <= start < end <= DAY_MINUTES):
            return DayHours(text, None)
        spans.append((start, end))
    if spans:
        return DayHours(text, tuple(sorted(spans)), week_list)
    if re.search(_CLOSED, plain):
        return DayHours(text, ())
    if re.search(_ALWAYS, plain):
        return DayHours(text, ((0, DAY_MINUTES),))
    return DayHours(text, None)


def week_ranges(days: dict[str, DayHours | None]) -> list[tuple[int, int]] | None:
    """The open minutes of the five-week cycle, or None unless all seven days are known."""
    if any(days.get(d) is None or days[d].intervals is None for d in DAYS):
        return None
    ranges = []
    for occurrence in range(OCCURRENCES):
        for index, day in enumerate(DAYS):
            hours = days[day]
            if hours.weeks and occurrence + 1 not in hours.weeks:
                continue
            base = occurrence * WEEK_MINUTES + index * DAY_MINUTES
            ranges += [(base + s, base + e) for s, e in hours.intervals]
    return ranges


def multirange(ranges: list[tuple[int, int]] | None) -> str | None:
    """An ``int4multirange`` literal; PostgreSQL merges touching ranges."""
    if ranges is None:
        return None
    return "{" + ",".join(f"[{s},{e})" for s, e in ranges) + "}"


@dataclass(frozen=True)
class Moment:
    """A point in time as the opening hours see it, in Asia/Seoul."""

    day: str
    occurrence: int  # 1..5: which occurrence of this weekday in the month
    minute: int  # minutes since midnight
    public_holiday: bool

    @property
    def cycle_minute(self) -> int:
        return ((self.occurrence - 1) * 7 + DAYS.index(self.day)) * DAY_MINUTES + self.minute


def moment(at: datetime) -> Moment:
    local = at.astimezone(SEOUL)
    return Moment(
        day=DAYS[local.weekday()],
        occurrence=(local.day - 1) // 7 + 1,
        minute=local.hour * 60 + local.minute,
        public_holiday=local.date().isoformat() in public_holidays(),
    )


def now() -> datetime:
    """The clock "open now" uses; tests replace it."""
    return datetime.now(SEOUL)


@lru_cache(maxsize=1)
def public_holidays() -> frozenset[str]:
    """ISO dates of Korea's public holidays, shipped in data/locations/holidays.json
    (written by ``eco2 import locations`` from the ``holidays`` package)."""
    path = resources.files("eco2").joinpath("data/locations/holidays.json")
    return frozenset(json.loads(path.read_text(encoding="utf-8"))["dates"])

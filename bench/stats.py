"""Statistics and reporting: medians, percentiles, ratios to a baseline, the
progress log and the domain benchmarks' figures."""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path


def log(text: str) -> None:
    sys.stderr.write(f"bench | {text}\n")
    sys.stderr.flush()


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by nearest rank."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def ratio(value: float | None, base: float | None) -> float | None:
    if value is None or not base:
        return None
    return round(value / base, 3)


def emit(figures: dict) -> None:
    """A domain benchmark's figures for bench/domain.py: to ECO2_BENCH_JSON, else as the last line."""
    text = json.dumps(figures, ensure_ascii=False)
    target = os.environ.get("ECO2_BENCH_JSON")
    if target:
        Path(target).write_text(text, encoding="utf-8")
    else:
        print(text)

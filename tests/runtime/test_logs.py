"""The log line's shape: its timestamp and how it writes what JSON has no type for."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from eco2 import logs


@pytest.mark.parametrize(
    "created",
    [0.0, 1.9999, 1764000000.0, 1764000000.0005, 1764000000.999, 1764000059.9999, 1798761599.5004],
)
def test_timestamp_is_datetimes_isoformat_to_the_millisecond(created: float) -> None:
    expected = datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds")
    assert logs._timestamp(created) == expected  # noqa: SLF001
    assert logs._timestamp(created) == expected  # noqa: SLF001 - the second's text, now kept


def test_timestamps_across_seconds_from_many_threads() -> None:
    """Each thread's lines carry their own second, whatever the others write."""
    wrong: list[tuple[float, str]] = []

    def write(base: float) -> None:
        for i in range(2000):
            created = base + (i % 7) + i / 10000
            text = logs._timestamp(created)  # noqa: SLF001
            if text != datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds"):
                wrong.append((created, text))

    threads = [threading.Thread(target=write, args=(1764000000.0 + 100 * n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_a_line_is_one_json_object_with_odd_values_as_text() -> None:
    class Opaque:
        def __str__(self) -> str:
            return "opaque!"

    fields = {"user": UUID(int=1), "amount": Decimal("1.50"), "thing": Opaque(), "name": "페트병\n\"x\"",
              "at": datetime(2026, 12, 7, 14, 0, tzinfo=timezone.utc), "n": 3, "ok": True, "none": None}
    line = logs._json_line(1764000000.25, "info", "eco2.test", "request", fields)  # noqa: SLF001
    assert "\n" not in line and "페트병" in line  # one line; Korean as it is, not \\u-escaped
    decoded = json.loads(line)
    assert list(decoded)[:4] == ["ts", "level", "logger", "msg"]
    assert decoded["ts"] == "2025-11-24T16:00:00.250+00:00"
    assert decoded["user"] == "00000000-0000-0000-0000-000000000001"
    assert decoded["thing"] == "opaque!"
    assert decoded["name"] == "페트병\n\"x\""
    assert decoded["n"] == 3 and decoded["ok"] is True and decoded["none"] is None
    assert datetime.fromisoformat(decoded["at"].replace("Z", "+00:00")) == fields["at"]

"""JSON logs: one line per request, one at start-up, errors with their trace.

Lines go to stdout, where Knative and the dev gateway collect them. Secrets
never reach a log line: callers pass only the fields they mean to publish.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from typing import Any

from pydantic_core import to_json

_configured = False
# The second a line was written in, and its ISO 8601 text: formatting only the
# milliseconds of each line is a third of datetime's isoformat. One tuple, so
# that threads never pair one second with another's text.
_second: tuple[int, str] = (-1, "")


def _timestamp(created: float) -> str:
    """``created`` as UTC ISO 8601 to the millisecond (2026-12-07T14:05:16.596+00:00)."""
    global _second
    # Rounded to the microsecond first, half to even, as datetime.fromtimestamp does.
    second = int(created)
    micro = round((created - second) * 1e6)
    if micro >= 1_000_000:
        second, micro = second + 1, micro - 1_000_000
    cached = _second
    if cached[0] != second:
        cached = _second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return "%s.%03d+00:00" % (cached[1], micro // 1000)


def _json_line(created: float, level: str, logger: str, msg: str, fields: dict[str, Any]) -> str:
    """The one shape of every eco2 log line. pydantic-core writes its JSON (a
    quarter of the json module's time for a request line); anything it cannot
    write natively is written as its ``str()``."""
    line = {"ts": _timestamp(created), "level": level, "logger": logger, "msg": msg, **fields}
    return to_json(line, fallback=str).decode()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = dict(getattr(record, "fields", {}))
        if record.exc_info:
            fields["exc"] = "".join(traceback.format_exception(*record.exc_info))
        return _json_line(record.created, record.levelname.lower(), record.name, record.getMessage(), fields)


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is now, not what it was at set-up
    (test runners and the dev gateway swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def setup(level: str = "INFO") -> None:
    """Route the ``eco2`` loggers to stdout as JSON (once per process)."""
    global _configured
    logger = logging.getLogger("eco2")
    logger.setLevel(level)
    if _configured:
        return
    handler = _StdoutHandler()
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.propagate = False
    _configured = True


def get(name: str) -> logging.Logger:
    return logging.getLogger(f"eco2.{name}")


def event(logger: logging.Logger, msg: str, level: int = logging.INFO, **fields: Any) -> None:
    logger.log(level, msg, extra={"fields": fields})


def request_line(logger: logging.Logger, fields: dict[str, Any]) -> None:
    """The per-request line: the same JSON as :func:`event`, written straight to
    stdout. Going through logging (a record, handler lookups, a lock, a
    formatter) cost more than the rest of a small request's handling."""
    if not logger.isEnabledFor(logging.INFO):
        return
    out = sys.stdout
    out.write(_json_line(time.time(), "info", logger.name, "request", fields) + "\n")
    out.flush()

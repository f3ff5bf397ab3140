"""JSON logs: one line per request, one at start-up, errors with their trace.

Lines go to stdout, where Knative and the dev gateway collect them. Secrets
never reach a log line: callers pass only the fields they mean to publish.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import datetime, timezone
from typing import Any

_configured = False


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exc"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


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
    line = {
        "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "level": "info",
        "logger": logger.name,
        "msg": "request",
        **fields,
    }
    out = sys.stdout
    out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
    out.flush()

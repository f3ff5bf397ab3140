"""JSON logs: one line per request, one at start-up, errors with their trace.

Lines go to stdout, where Knative and the dev gateway collect them. Secrets
never reach a log line: callers pass only the fields they mean to publish.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from datetime import datetime, timezone
from typing import Any

_configured = False
# One encoder for every line: json.dumps builds a new one per call when given
# any option (ensure_ascii, default).
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _json_line(created: float, level: str, logger: str, msg: str, fields: dict[str, Any]) -> str:
    """The one shape of every eco2 log line."""
    line = {
        "ts": datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds"),
        "level": level,
        "logger": logger,
        "msg": msg,
        **fields,
    }
    return _encode(line)


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

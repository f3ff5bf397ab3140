"""A real dev gateway for the tests: in this process, serving from its own event
loop in a background thread, with real function processes behind it; and ways
to look at the processes it starts."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

from eco2_tools.dev import Gateway

from ..support import ROOT

FIXTURES = Path(__file__).parent / "fixtures"  # functions/lab, broken, stuck
# The functions under test never connect at start-up: any well-formed URL will do.
DATABASE_URL = os.environ.get("ECO2_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/eco2")
REDIS_URL = os.environ.get("ECO2_TEST_REDIS_URL", "redis://127.0.0.1:1/0")


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class RunningGateway:
    """A started :class:`Gateway` and a small blocking HTTP client for it."""

    def __init__(self, port: int = 0, **options: Any) -> None:
        """``options`` as for :class:`Gateway`; ``port`` 0 is any free port."""
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="gateway", daemon=True)
        self.thread.start()
        options.setdefault("root", ROOT)
        options.setdefault("idle_seconds", 300)
        options.setdefault("watch", False)  # others may edit the real code meanwhile
        options.setdefault("stop_grace", 2.0)
        options.setdefault("database_url", DATABASE_URL)
        options.setdefault("redis_url", REDIS_URL)
        self.gateway = Gateway(**options)
        self._stopped = False
        try:
            self.call(self.gateway.start(port))
        except BaseException:
            self.stop()
            raise
        self.port = self.gateway.port

    def call(self, coro: Any, timeout: float = 60) -> Any:
        """Run a coroutine on the gateway's loop and wait for its result."""
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            self.call(self.gateway.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        timeout: float = 30,
    ) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {},
                         encode_chunked=body is not None and not isinstance(body, bytes))
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def status(self) -> dict[str, Any]:
        return self.get("/_eco2/status").json()

    def function(self, name: str) -> dict[str, Any]:
        return next(f for f in self.status()["functions"] if f["name"] == name)


# -- processes -------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a parent that is not us to reap it is not)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def reaped(pid: int) -> bool:
    """Gone for good: exited and reaped, so that ``os.kill(pid, 0)`` fails."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def group_members(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` (a function's master and workers)."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and fields[0] != "Z" and int(fields[2]) == pgid:
                members.append(int(entry))
    return members


def function_children(source: str = "") -> list[int]:
    """Our live child processes serving a function (``python -m eco2.serve``, as the
    image runs it), on a FUNCTION_SOURCE containing ``source``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat(int(entry))
        if fields is None or fields[0] == "Z" or int(fields[1]) != os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read().decode(errors="replace").split("\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        sources = [v.split("=", 1)[1] for v in environ if v.startswith("FUNCTION_SOURCE=")]
        if "eco2.serve" in argv and any(source in s for s in sources):
            found.append(int(entry))
    return found


def eventually(check: Callable[[], Any], timeout: float = 20, interval: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {check}")
        time.sleep(interval)

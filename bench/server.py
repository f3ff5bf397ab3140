"""Function servers: one function served by `python -m eco2.serve` (functions-framework's
server, as the image runs it) in a process group of its own (started and stopped by :mod:`eco2_tools.serve`, as `eco2 dev`
does), plain HTTP requests to it, and the representative routes a run measures."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import BARE, HELLO, PLATFORM, PY, ROOT
from bench.machine import pin
from eco2_tools import serve
from eco2_tools.embedded import free_port


def function_source(name: str) -> Path:
    fixtures = {"hello": HELLO, "bare": BARE}
    return fixtures.get(name) or ROOT / "functions" / name / "main.py"


@dataclass
class Server:
    """One function served by ``python -m eco2.serve`` (gunicorn inside), in its own
    process group, started the way `eco2 dev` and the cluster start it."""

    name: str
    env: dict[str, str]
    cpu: int | None = None
    python_flags: tuple[str, ...] = ()
    log_path: Path | None = None  # None: output is captured as lines
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    started: float = 0.0
    lines: list[tuple[float, str]] = field(default_factory=list)
    _reader: threading.Thread | None = None
    _log: Any = None

    @property
    def source(self) -> Path:
        return function_source(self.name)

    def start(self) -> "Server":
        if self.log_path is not None:
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            out: Any = self._log
        else:
            out = subprocess.PIPE
        self.started = time.perf_counter()
        argv, variables = serve.command(self.source, self.port, python=PY, python_flags=self.python_flags)
        self.proc = subprocess.Popen(
            argv,
            env={**self.env, **variables},
            cwd=self.source.parent,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        pin(self.proc.pid, self.cpu)
        if self.log_path is None:
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append((time.perf_counter(), raw.decode(errors="replace").rstrip("\n")))

    def json_lines(self) -> list[tuple[float, dict[str, Any]]]:
        found = []
        for at, line in list(self.lines):
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    found.append((at, json.loads(line)))
        return found

    def wait_for_line(self, predicate: Any, timeout: float = 5.0) -> tuple[float, dict[str, Any]] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, doc in self.json_lines():
                if predicate(doc):
                    return at, doc
            time.sleep(0.005)
        return None

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.output_tail()}")
            try:
                status, _ = request(self.port, "GET", "/readyz" if self.name != "hello" else "/", timeout=2)
                if status == 200:
                    return
            except OSError:
                time.sleep(0.01)
        raise TimeoutError(f"{self.name} not ready in {timeout} s: {self.output_tail()}")

    def output_tail(self) -> str:
        if self.log_path is not None and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-2000:]
        return "\n".join(line for _, line in self.lines[-20:])

    def cpu_seconds(self) -> float:
        """User + system CPU time so far of the server's processes (the
        gunicorn master and its workers: the process group)."""
        if self.proc is None:
            return 0.0
        total = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == self.proc.pid:  # the process group is the master's pid
                    total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc is not None:
            serve.stop(self.proc)
        if self._reader is not None:
            self._reader.join(2)
        if self._log is not None:
            self._log.close()
            self._log = None


def request(port: int, method: str, path: str, *, headers: dict[str, str] | None = None,
            body: bytes | None = None, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass(frozen=True)
class Route:
    """A representative request of a function. ``kind``: ``plain`` (the same
    request), ``user`` (each request as another bench user, with a bearer token),
    ``refresh`` (a chain of refresh-token rotations). ``paths`` cycles through
    several paths (search queries, positions); ``body`` is a JSON body sent
    with every request; ``status`` the route's documented success status."""

    function: str
    label: str
    method: str
    path: str
    kind: str = "plain"
    paths: tuple[str, ...] = ()
    body: str = ""
    status: int = 200

    @property
    def key(self) -> str:
        return f"{self.function}:{self.label}"

    def all_paths(self) -> tuple[str, ...]:
        return self.paths or (self.path,)


def route_exists(name: str, method: str, path: str) -> bool:
    """Whether function ``name`` declares a route for ``method path`` (checked
    in-process, without serving it)."""
    from urllib.parse import urlsplit

    from eco2.testing import Client

    if name in ("hello", "bare"):
        return True
    client = Client(function_source(name), env={"ECO2_ENV": "test", "ECO2_LOG_LEVEL": "ERROR",
                                                "PYTHONPATH": str(PLATFORM)})
    match = client.function.router.match(method, urlsplit(path).path)
    return bool(match and match.route)

"""One function's process under the dev gateway: its start (a cold start the
gateway holds requests for), its stop (scale to zero), its counters."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp

from eco2.problems import Problem
from eco2_tools import serve
from eco2_tools.embedded import free_port
from eco2_tools.functions import FunctionSpec

READY_TIMEOUT = 30.0  # seconds a cold start may take before held requests get a 503
# Seconds between SIGTERM and SIGKILL; None: the function's graceful timeout and a
# margin, as the kubelet waits the pod's grace period (serve.kill_after).
STOP_GRACE: float | None = None
PROBE_INTERVAL = 0.02  # seconds between readiness probes during a cold start
OUTPUT_LINE_LIMIT = 1 << 20  # longest child output line relayed

State = Literal["cold", "starting", "warm", "stopping"]


def say(who: str, text: str) -> None:
    """Write one line to the gateway's stdout, prefixed with who said it."""
    sys.stdout.write(f"{who:>10} | {text}\n")
    sys.stdout.flush()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class FunctionProcess:
    """One function and its process, if it has one.

    Start and stop hold ``_lock``, so a cold start, a reload and the idle reaper
    never interleave. Concurrent cold requests share one start task
    (``_starting``): a burst of first requests starts exactly one process, and
    every held request gets that start's outcome.
    """

    def __init__(
        self,
        spec: FunctionSpec,
        env: dict[str, str],
        *,
        ready_timeout: float = READY_TIMEOUT,
        stop_grace: float | None = STOP_GRACE,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.prefix = spec.prefix
        self.env = env
        self.ready_timeout = ready_timeout
        self.stop_grace = serve.kill_after(spec.graceful_timeout) if stop_grace is None else stop_grace
        self.state: State = "cold"
        self.port: int | None = None
        self.cold_start_ms: float | None = None
        self.starts = 0
        self.requests = 0
        self.in_flight = 0
        self.last_request_at: str | None = None
        self.last_active = time.monotonic()
        self._proc: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task[None]] = []  # output relay and exit watch of _proc
        self._lock = asyncio.Lock()
        self._starting: asyncio.Task[int] | None = None
        self._reaping: set[asyncio.Task[None]] = set()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def command(self, port: int) -> tuple[list[str], dict[str, str]]:
        """The command line and environment of the process, as the image runs it
        (``python -m eco2.serve`` with function.yaml's graceful timeout)."""
        argv, variables = serve.command(
            self.spec.source, port, target=self.spec.target,
            graceful_timeout=self.spec.graceful_timeout,
        )
        return argv, {**self.env, **variables}

    def status(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "prefix": self.prefix,
            "state": self.state,
            "pid": self.pid,
            "port": self.port,
            "cold_start_ms": self.cold_start_ms,
            "starts": self.starts,
            "requests": self.requests,
            "in_flight": self.in_flight,
            "last_request_at": self.last_request_at,
        }

    @contextlib.contextmanager
    def track(self) -> Iterator[None]:
        """Count one request, from its arrival (a held request counts) to its end."""
        self.requests += 1
        self.in_flight += 1
        self.last_request_at = _now_iso()
        self.last_active = time.monotonic()
        try:
            yield
        finally:
            self.in_flight -= 1
            self.last_active = time.monotonic()

    # -- start -----------------------------------------------------------------

    async def ensure_warm(self, session: aiohttp.ClientSession) -> int:
        """The port of a ready process, starting one first if there is none.

        Raises :class:`Problem` (502 or 503) when the process cannot start.
        """
        if self.state == "warm" and self.port is not None:
            return self.port
        if self._starting is None:
            self._starting = asyncio.create_task(self._start(session))
        # Shielded: a client that gives up must not cancel the start the others wait for.
        return await asyncio.shield(self._starting)

    async def _start(self, session: aiohttp.ClientSession) -> int:
        try:
            async with self._lock:
                return await self._spawn(session)
        finally:
            self._starting = None

    async def _spawn(self, session: aiohttp.ClientSession) -> int:
        port = free_port()
        argv, env = self.command(port)
        spawned = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            *argv,
            env=env,
            cwd=self.spec.directory,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            # Its own process group, so that stopping it reaches gunicorn's worker
            # too, and Ctrl-C in the terminal reaches only the gateway.
            start_new_session=True,
            limit=OUTPUT_LINE_LIMIT,
        )
        self._proc, self.port, self.state = proc, port, "starting"
        self.starts += 1
        assert proc.stdout is not None
        self._tasks = [
            asyncio.create_task(self._relay(proc.stdout)),
            asyncio.create_task(self._watch_exit(proc)),
        ]
        say(self.name, f"cold start: pid {proc.pid}, port {port}")
        # A failed or cancelled start leaves no process behind.
        try:
            await self._wait_ready(proc, port, session)
        except Problem as problem:
            say(self.name, f"cold start failed: {problem.detail}")
            await self._terminate()
            raise
        except BaseException:
            await self._terminate()
            raise
        self.cold_start_ms = round((time.monotonic() - spawned) * 1000, 1)
        self.state = "warm"
        self.last_active = time.monotonic()
        say(self.name, f"warm after {self.cold_start_ms:.0f} ms")
        return port

    async def _wait_ready(
        self, proc: asyncio.subprocess.Process, port: int, session: aiohttp.ClientSession
    ) -> None:
        """Poll GET /readyz until it answers 200, as Knative's activator probes."""
        url = f"http://127.0.0.1:{port}/readyz"
        deadline = time.monotonic() + self.ready_timeout
        while (remaining := deadline - time.monotonic()) > 0:
            if proc.returncode is not None:
                raise Problem(
                    502,
                    f"Function {self.name} exited with code {proc.returncode} while starting; "
                    "its output is in the gateway's log.",
                    slug="bad-gateway",
                )
            try:
                timeout = aiohttp.ClientTimeout(total=min(2.0, remaining))
                async with session.get(url, timeout=timeout) as probe:
                    if probe.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass  # not listening yet, or gunicorn's worker not accepting yet
            await asyncio.sleep(PROBE_INTERVAL)
        raise Problem(
            503,
            f"Function {self.name} was not ready within {self.ready_timeout:g} s.",
            slug="unavailable",
            headers={"Retry-After": "5"},
        )

    async def _relay(self, stream: asyncio.StreamReader) -> None:
        """Copy the process's output (JSON log lines) to ours, prefixed with its name."""
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # longer than OUTPUT_LINE_LIMIT: asyncio has dropped it
                say(self.name, "(an over-long output line was dropped)")
                continue
            if not line:
                return
            say(self.name, line.decode(errors="replace").rstrip())

    async def _watch_exit(self, proc: asyncio.subprocess.Process) -> None:
        await proc.wait()
        self._exited(proc)

    def _exited(self, proc: asyncio.subprocess.Process) -> None:
        """Forget a process that exited on its own: the next request cold-starts."""
        if self._proc is not proc:
            return  # a stop we asked for, already accounted for
        self._forget()
        serve.signal_group(proc.pid, signal.SIGKILL)  # a worker must not outlive its master
        say(self.name, f"exited with code {proc.returncode}; cold until the next request")

    # -- stop ------------------------------------------------------------------

    def _forget(self) -> None:
        self._proc, self.port, self.state = None, None, "cold"

    async def _terminate(self) -> None:
        """Stop the process group (SIGTERM, then SIGKILL after the grace period) and reap it.

        Once begun, a stop runs to its end even if the caller is cancelled (the
        reaper or the watcher at shutdown); :meth:`close` waits for it.
        """
        proc = self._proc
        if proc is None:
            return
        self._forget()  # first, so that the exit watch knows this exit was asked for
        self.state = "stopping"
        reaping = asyncio.create_task(self._reap(proc, self._tasks))
        self._reaping.add(reaping)
        reaping.add_done_callback(self._reaping.discard)
        await asyncio.shield(reaping)

    async def _reap(
        self, proc: asyncio.subprocess.Process, tasks: list[asyncio.Task[None]]
    ) -> None:
        try:
            await serve.stop_async(proc, self.stop_grace)
            # The output ends when the last member of the group has gone.
            await asyncio.wait(tasks, timeout=1.0)
            for task in tasks:
                task.cancel()
        finally:
            if self._proc is None and self.state == "stopping":
                self.state = "cold"

    async def stop_if_idle(self, idle_seconds: float) -> bool:
        """Scale to zero after ``idle_seconds`` with no request and none in flight."""
        if not self._idle(idle_seconds):
            return False
        async with self._lock:
            if not self._idle(idle_seconds):  # a request came while we waited
                return False
            await self._terminate()
        return True

    def _idle(self, idle_seconds: float) -> bool:
        return (
            self.state == "warm"
            and self.in_flight == 0
            and time.monotonic() - self.last_active >= idle_seconds
        )

    async def restart(self, session: aiohttp.ClientSession) -> None:
        """Replace a running process by a fresh one (new code); a cold function stays cold."""
        async with self._lock:
            if self._proc is None:
                return
            say(self.name, "code changed: restarting")
            await self._terminate()
        await self.ensure_warm(session)

    async def check_exit(self, wait: float = 1.0) -> None:
        """After a failed forward: if the process is dying, see it gone before the
        client hears of it, so that the next request cold-starts a new one."""
        proc = self._proc
        if proc is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), wait)
            self._exited(proc)

    async def close(self) -> None:
        """Stop for good (gateway shutdown): abandon a start in progress, stop the process."""
        starting = self._starting
        if starting is not None:
            starting.cancel()  # its own clean-up stops what it spawned
            await asyncio.wait([starting])
        async with self._lock:
            await self._terminate()
        await asyncio.gather(*self._reaping)

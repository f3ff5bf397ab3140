"""`eco2 dev`: one local gateway in front of every function, routed as in the cluster.

Each function runs in its own process exactly as in production (functions-framework
serving ``handle``, a gunicorn master and its worker). As Knative does, a function
starts on its first request while the gateway holds that request (the activator),
stops after ``idle_seconds`` without traffic (scale to zero), and the gateway
restarts it when its folder or the runtime (platform/eco2) changes.

- :class:`FunctionProcess`: one function's process, its start, stop and counters.
- :class:`Gateway`: routing, proxying, the status page, the idle reaper, reloads.
- :func:`run`: backing services, migrations and signals around a Gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from watchfiles import awatch
from yarl import URL

from eco2 import migrate
from eco2.problems import PROBLEM_JSON, Problem
from eco2_tools.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from eco2_tools.functions import FunctionSpec, discover, repo_root

PLATFORM = Path(__file__).resolve().parents[1]  # platform/: where children import eco2 from
READY_TIMEOUT = 30.0  # seconds a cold start may take before held requests get a 503
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL
PROBE_INTERVAL = 0.02  # seconds between readiness probes during a cold start
OUTPUT_LINE_LIMIT = 1 << 20  # longest child output line relayed

# RFC 9110 section 7.6.1: these describe one connection, not the message, so a
# proxy must not forward them. Expect is answered by our own server already.
HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
        "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "expect",
    }
)
_FUNCTION_HOST = re.compile(r"([a-z0-9-]+)\.localhost(?::\d+)?", re.IGNORECASE)

State = Literal["cold", "starting", "warm"]


def say(who: str, text: str) -> None:
    """Write one line to the gateway's stdout, prefixed with who said it."""
    sys.stdout.write(f"{who:>10} | {text}\n")
    sys.stdout.flush()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    """Signal a whole process group; a group that is already gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


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
        stop_grace: float = STOP_GRACE,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.prefix = spec.prefix
        self.env = env
        self.ready_timeout = ready_timeout
        self.stop_grace = stop_grace
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

    def command(self, port: int) -> list[str]:
        return [
            sys.executable, "-m", "functions_framework",
            "--target", self.spec.target, "--source", str(self.spec.source),
            "--host", "127.0.0.1", "--port", str(port),
        ]

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
        spawned = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            *self.command(port),
            env=self.env,
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
        _signal_group(proc.pid, signal.SIGKILL)  # a worker must not outlive its master
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
        reaping = asyncio.create_task(self._reap(proc, self._tasks))
        self._reaping.add(reaping)
        reaping.add_done_callback(self._reaping.discard)
        await asyncio.shield(reaping)

    async def _reap(
        self, proc: asyncio.subprocess.Process, tasks: list[asyncio.Task[None]]
    ) -> None:
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), self.stop_grace)
        except TimeoutError:
            _signal_group(proc.pid, signal.SIGKILL)
            await proc.wait()
        # gunicorn reaps its worker before it exits on SIGTERM; this catches
        # anything that did not (a master killed by SIGKILL above).
        _signal_group(proc.pid, signal.SIGKILL)
        # The output ends when the last member of the group has gone.
        await asyncio.wait(tasks, timeout=1.0)
        for task in tasks:
            task.cancel()

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


class Gateway:
    """The local gateway: every function behind one port, each scaled from and to zero.

    ``root`` holds ``functions/``; ``platform`` goes on the children's PYTHONPATH
    and its ``eco2/`` is watched; ``env`` is extra environment for every function
    (dev keys), below the developer's own. ``start()`` serves on 127.0.0.1 (port
    0: any free port, then see ``port``); ``stop()`` stops everything it started.
    """

    def __init__(
        self,
        root: Path,
        database_url: str,
        redis_url: str,
        idle_seconds: float,
        *,
        database_embedded: bool = False,
        redis_embedded: bool = False,
        env: Mapping[str, str] | None = None,
        platform: Path = PLATFORM,
        watch: bool = True,
        ready_timeout: float = READY_TIMEOUT,
        stop_grace: float = STOP_GRACE,
    ) -> None:
        self.root = Path(root).resolve()
        self.platform = Path(platform).resolve()
        self.idle_seconds = idle_seconds
        self.watch = watch
        self.backing = {
            "database": "embedded" if database_embedded else "external",
            "redis": "embedded" if redis_embedded else "external",
        }
        self.functions: dict[str, FunctionProcess] = {}
        for spec in discover(self.root):
            self.functions[spec.name] = FunctionProcess(
                spec,
                self._child_env(spec, env or {}, database_url, redis_url),
                ready_timeout=ready_timeout,
                stop_grace=stop_grace,
            )
        # Longest prefix first, so that a nested prefix wins over its parent.
        self._by_prefix = sorted(self.functions.values(), key=lambda f: len(f.prefix), reverse=True)
        self.app = web.Application()
        self.app.router.add_route("*", "/{path:.*}", self._dispatch)
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = asyncio.Event()

    def _child_env(
        self, spec: FunctionSpec, extra: Mapping[str, str], database_url: str, redis_url: str
    ) -> dict[str, str]:
        """function.yaml's env (as the cluster sets it), ``extra``, the developer's, then ours."""
        paths = [str(self.platform), os.environ.get("PYTHONPATH")]
        pythonpath = os.pathsep.join(path for path in paths if path)
        return {
            **spec.spec.get("env", {}),
            **extra,
            **os.environ,
            "PYTHONPATH": pythonpath,
            "PYTHONUNBUFFERED": "1",  # log lines reach us as they are written
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "ECO2_ENV": "dev",
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle -------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1:``port`` and start the idle reaper and the watcher.

        No function starts here: each starts on its first request.
        """
        self._session = aiohttp.ClientSession(
            # One connection per request (cheap on loopback): an idle keep-alive
            # connection would hold a gunicorn thread and slow every stop down
            # to its 2 s keep-alive, and could be reused just as it closes.
            connector=aiohttp.TCPConnector(limit=0, force_close=True),
            # No read timeout: a response may stream (server-sent events) for long.
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=5),
            auto_decompress=False,
        )
        self._runner = web.AppRunner(
            self.app,
            access_log=None,
            shutdown_timeout=1.0,
            # A client that hangs up cancels its request, which closes the upstream
            # connection too: an abandoned event stream must not stay in flight.
            handler_cancellation=True,
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.port = self._runner.addresses[0][1]
        self._tasks.append(asyncio.create_task(self._reap_idle()))
        if self.watch:
            self._tasks.append(asyncio.create_task(self._watch()))

    async def stop(self) -> None:
        """Stop serving and stop every function process; safe after a partial start."""
        self._closing.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        try:
            if self._runner is not None:
                await self._runner.cleanup()  # no new requests; held ones are cancelled
                self._runner = None
        finally:
            await asyncio.gather(*(fn.close() for fn in self.functions.values()))
            if self._session is not None:
                await self._session.close()
                self._session = None

    async def _reap_idle(self) -> None:
        interval = min(1.0, max(self.idle_seconds / 4, 0.05))
        while True:
            await asyncio.sleep(interval)
            stopped = await asyncio.gather(
                *(fn.stop_if_idle(self.idle_seconds) for fn in self.functions.values())
            )
            for fn, was_stopped in zip(self.functions.values(), stopped, strict=True):
                if was_stopped:
                    say(fn.name, f"idle for {self.idle_seconds:g} s: scaled to zero")

    async def _watch(self) -> None:
        """Restart a running function when its folder changes; all of them when
        the runtime does. (watchfiles' default filter skips __pycache__ and *.pyc.)"""
        functions_dir, runtime = self.root / "functions", self.platform / "eco2"
        async for changes in awatch(functions_dir, runtime, stop_event=self._closing):
            changed = [Path(path) for _, path in changes]
            if any(runtime in path.parents for path in changed):
                targets = list(self.functions.values())
            else:
                targets = [
                    fn for fn in self.functions.values()
                    if any(fn.spec.directory in path.parents for path in changed)
                ]
            await asyncio.gather(*(self._restart(fn) for fn in targets))

    async def _restart(self, fn: FunctionProcess) -> None:
        assert self._session is not None
        try:
            await fn.restart(self._session)
        except Exception as exc:  # noqa: BLE001 - keep watching; the next request tries again
            say(fn.name, f"restart failed: {exc}")

    # -- requests --------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        """Route as the cluster does: by ``<function>.localhost`` host, else by path prefix."""
        host = _FUNCTION_HOST.fullmatch(request.host)
        if host:
            fn = self.functions.get(host.group(1).lower())
            if fn is None:
                problem = Problem(404, f"No function is named {host.group(1)!r}.", slug="no-route")
                return _problem_response(problem, request)
            return await self._forward(request, fn)
        if request.path == "/_eco2/status":
            return web.json_response(self.status())
        if request.path in ("/_eco2", "/_eco2/"):
            return web.Response(text=self.status_html(), content_type="text/html")
        for fn in self._by_prefix:
            if request.path == fn.prefix or request.path.startswith(fn.prefix + "/"):
                return await self._forward(request, fn)
        routes = ", ".join(fn.prefix for fn in self.functions.values())
        problem = Problem(
            404,
            f"No function serves {request.path}. Prefixes: {routes}; "
            "or use a <function>.localhost host.",
            slug="no-route",
        )
        return _problem_response(problem, request)

    async def _forward(self, request: web.Request, fn: FunctionProcess) -> web.StreamResponse:
        """Proxy one request to ``fn``, cold-starting it first; bodies stream both ways."""
        assert self._session is not None
        with fn.track():
            try:
                port = await fn.ensure_warm(self._session)
            except Problem as problem:
                return _problem_response(problem, request)
            url = URL(f"http://127.0.0.1:{port}{request.raw_path}", encoded=True)
            response: web.StreamResponse | None = None
            try:
                async with self._session.request(
                    request.method,
                    url,
                    headers=_forward_headers(request),
                    data=request.content if request.body_exists else None,
                    allow_redirects=False,
                    # Add nothing the client did not send.
                    skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
                ) as upstream:
                    response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
                    for name, value in _end_to_end(upstream.headers):
                        response.headers.add(name, value)
                    await response.prepare(request)
                    async for chunk in upstream.content.iter_any():
                        await response.write(chunk)
                    await response.write_eof()
                    return response
            except aiohttp.ClientError as exc:
                if response is not None and response.prepared:
                    # The status line is gone already: cutting the connection is the
                    # only way left to tell the client that the reply is incomplete.
                    # (If the client is what went away, there is nobody to tell.)
                    if request.transport is not None and not request.transport.is_closing():
                        say(fn.name, f"response broken off: {type(exc).__name__}")
                        await fn.check_exit()
                        request.transport.close()
                    return response
                await fn.check_exit()
                problem = Problem(
                    502,
                    f"Function {fn.name} did not answer ({type(exc).__name__}).",
                    slug="bad-gateway",
                )
                return _problem_response(problem, request)

    # -- status ----------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return {"functions": [fn.status() for fn in self.functions.values()], **self.backing}

    def status_html(self) -> str:
        """The status as a small page that refreshes itself."""
        columns = ["name", "prefix", "state", "pid", "port", "cold_start_ms", "starts",
                   "requests", "in_flight", "last_request_at"]
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        rows = []
        for fn in self.functions.values():
            status = fn.status()
            cells = "".join(
                f"<td>{'' if status[c] is None else html.escape(str(status[c]))}</td>"
                for c in columns
            )
            rows.append(f'<tr class="{html.escape(fn.state)}">{cells}</tr>')
        backing = ", ".join(f"{html.escape(k)}: {html.escape(v)}" for k, v in self.backing.items())
        return f"""<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>eco2 dev</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: .3em .8em; border-bottom: 1px solid #ddd; text-align: left; }}
tr.warm td:nth-child(3) {{ color: #080; font-weight: bold; }}
tr.starting td:nth-child(3) {{ color: #b60; }}
tr.cold td:nth-child(3) {{ color: #888; }}
</style></head>
<body><h1>eco2 dev</h1>
<p>Functions start on their first request and stop after {self.idle_seconds:g} s idle.
{backing}. JSON: <a href="/_eco2/status">/_eco2/status</a>.</p>
<table><tr>{head}</tr>{"".join(rows)}</table>
</body></html>
"""


def _end_to_end(headers: CIMultiDictProxy[str]) -> list[tuple[str, str]]:
    """The headers a proxy passes on: all but hop-by-hop ones and those Connection names."""
    named = {token.strip().lower() for token in headers.get("Connection", "").split(",")}
    dropped = HOP_BY_HOP | named
    return [(name, value) for name, value in headers.items() if name.lower() not in dropped]


def _forward_headers(request: web.Request) -> CIMultiDict[str]:
    headers = CIMultiDict(_end_to_end(request.headers))
    prior = request.headers.get("X-Forwarded-For")
    peer = request.remote or ""
    headers["X-Forwarded-For"] = f"{prior}, {peer}" if prior else peer
    headers["X-Forwarded-Host"] = request.host
    headers["X-Forwarded-Proto"] = request.scheme
    return headers


def _problem_response(problem: Problem, request: web.Request) -> web.Response:
    response = web.Response(
        body=problem.to_json(request.path), status=problem.status, content_type=PROBLEM_JSON
    )
    response.headers.update(problem.headers)
    return response


# -- `eco2 dev` ------------------------------------------------------------------


@dataclass
class Backing:
    """A backing service for the functions: its URL, and the server we started for it."""

    variable: str
    url: str
    server: EmbeddedPostgres | EmbeddedRedis | None = None

    def describe(self) -> str:
        if self.server is None:
            return f"${self.variable} (external)"
        return f"{self.url} (embedded, data in {self.server.datadir})"


def _backing(variable: str, embedded: Callable[[], EmbeddedPostgres | EmbeddedRedis],
             started: list[Backing]) -> Backing:
    """``$variable`` when it is set; otherwise an embedded server, started here."""
    url = os.environ.get(variable)
    if url:
        return Backing(variable, url)
    server = embedded()
    backing = Backing(variable, server.url, server)
    started.append(backing)  # before start(): a half-started server is stopped too
    say("gateway", f"starting {type(server).__name__} in {server.datadir}")
    server.start()
    return backing


def _dev_env(directory: Path, port: int) -> dict[str, str]:
    """Settings for local development (the developer's ECO2_* variables still win):
    a token signing key for auth and the JWKS every function verifies with, made
    on first use; the local app origins; and the gateway as one trusted proxy
    (it appends the client to X-Forwarded-For, which the rate limits read)."""
    from eco2_tools.keys import ensure

    ensure(directory)
    say("gateway", f"dev token keys in {directory}")
    return {
        "ECO2_JWT_SIGNING_KEY_FILE": str(directory / "signing.pem"),
        "ECO2_JWKS_FILE": str(directory / "jwks.json"),
        "ECO2_APP_ORIGINS": f"http://localhost:5173,http://localhost:{port}",
        "ECO2_CORS_ORIGINS": "http://localhost:5173",
        "ECO2_AUTH_PUBLIC_URL": f"http://localhost:{port}",
        "ECO2_TRUSTED_PROXY_HOPS": "1",
    }


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(port: int, idle_seconds: float) -> None:
    """Serve every function on 127.0.0.1:``port`` until Ctrl-C or SIGTERM.

    Uses DATABASE_URL and REDIS_URL when set; otherwise starts an embedded
    PostgreSQL and Redis with their data under ``.eco2/``. Everything started
    here is stopped on the way out.
    """
    root = repo_root()
    # Until the event loop takes over, SIGTERM unwinds like Ctrl-C, so that the
    # finally below stops the embedded servers.
    previous_handler = signal.signal(signal.SIGTERM, _interrupt)
    started: list[Backing] = []
    try:
        data = root / ".eco2"
        database = _backing("DATABASE_URL", lambda: EmbeddedPostgres(data / "postgres"), started)
        redis = _backing("REDIS_URL", lambda: EmbeddedRedis(data / "redis"), started)
        applied = migrate.apply(database.url)
        say("gateway", f"migrations applied: {' '.join(applied) or 'none pending'}")
        gateway = Gateway(
            root,
            database.url,
            redis.url,
            idle_seconds,
            database_embedded=database.server is not None,
            redis_embedded=redis.server is not None,
            env=_dev_env(data / "keys", port),
        )
        asyncio.run(_serve(gateway, port, [database, redis]))
    except KeyboardInterrupt:
        pass
    finally:
        for backing in reversed(started):
            assert backing.server is not None
            say("gateway", f"stopping {type(backing.server).__name__}")
            backing.server.stop()
        signal.signal(signal.SIGTERM, previous_handler)


async def _serve(gateway: Gateway, port: int, backing: list[Backing]) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        # Kept during the shutdown below: a second Ctrl-C must not cut it short.
        loop.add_signal_handler(sig, stopping.set)
    try:
        try:
            await gateway.start(port)
        except OSError as exc:
            message = f"eco2 dev: cannot listen on 127.0.0.1:{port}: {exc.strerror}"
            raise SystemExit(message) from None
        print(_banner(gateway, backing), flush=True)
        await stopping.wait()
        say("gateway", "stopping")
    finally:
        await gateway.stop()
        for sig in signals:
            loop.remove_signal_handler(sig)
        signal.signal(signal.SIGTERM, _interrupt)


def _banner(gateway: Gateway, backing: list[Backing]) -> str:
    lines = ["", f"eco2 dev on {gateway.url}   status: {gateway.url}/_eco2/", ""]
    for fn in gateway.functions.values():
        host = f"http://{fn.name}.localhost:{gateway.port}/"
        lines.append(f"  {fn.name:<10} {host:<36} {gateway.url}{fn.prefix}/")
    lines.append("")
    for service in backing:
        lines.append(f"  {service.variable:<13} {service.describe()}")
    lines += [
        "",
        f"A function starts on its first request and stops after {gateway.idle_seconds:g} s idle;",
        "a change under functions/<name>/ or platform/eco2/ restarts it. Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)

"""The dev gateway: every function behind one port, routed as in the cluster,
each scaled from and to zero; its status and API docs pages (:mod:`.pages`)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from watchfiles import awatch
from yarl import URL

from eco2.problems import PROBLEM_JSON, Problem, no_route
from eco2_tools.dev import pages
from eco2_tools.dev.process import READY_TIMEOUT, STOP_GRACE, FunctionProcess, say
from eco2_tools.functions import FunctionSpec, discover, routes

PLATFORM = Path(__file__).resolve().parents[2]  # platform/: where children import eco2 from

# RFC 9110 section 7.6.1: these describe one connection, not the message, so a
# proxy must not forward them. Expect is answered by our own server already.
HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
        "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "expect",
    }
)
_FUNCTION_HOST = re.compile(r"([a-z0-9-]+)\.localhost(?::\d+)?", re.IGNORECASE)
# The hosts the gateway answers for, whatever else names 127.0.0.1: a web page
# that rebinds its own name to 127.0.0.1 (DNS rebinding) must not reach dev login.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
_HOST_PORT = re.compile(r"(\[[^\]]*\]|[^:]*)(?::\d*)?")


class Gateway:
    """The local gateway: every function behind one port, each scaled from and to zero.

    ``root`` holds ``functions/``; ``platform`` goes on the children's PYTHONPATH
    and its ``eco2/`` is watched; ``env`` is extra environment for every function
    (dev keys), below the developer's own; ``function_env`` is extra environment
    for named functions, above the developer's (the embedded object store's
    key: a developer's own AWS variables must not sign for it). ``start()``
    serves on 127.0.0.1 (port 0: any free port, then see ``port``); ``stop()``
    stops everything it started. It answers only for ``localhost``,
    ``*.localhost``, ``127.0.0.1``, ``[::1]`` and ``allowed_hosts`` (421 for
    any other Host).
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
        function_env: Mapping[str, Mapping[str, str]] | None = None,
        platform: Path = PLATFORM,
        watch: bool = True,
        ready_timeout: float = READY_TIMEOUT,
        stop_grace: float | None = STOP_GRACE,
        allowed_hosts: Iterable[str] = (),
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
                self._child_env(spec, env or {}, database_url, redis_url, (function_env or {}).get(spec.name, {})),
                ready_timeout=ready_timeout,
                stop_grace=stop_grace,
            )
        # Longest prefix first, in the order the cluster's ALB rules use.
        specs = [fn.spec for fn in self.functions.values()]
        self._by_prefix = [(prefix, self.functions[spec.name]) for prefix, spec in routes(specs)]
        self.allowed_hosts = LOOPBACK_HOSTS | {host.strip().lower().rstrip(".") for host in allowed_hosts}
        self.app = web.Application(middlewares=[self._guard])
        self.app.router.add_route("*", "/{path:.*}", self._dispatch)
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = asyncio.Event()

    def _child_env(
        self, spec: FunctionSpec, extra: Mapping[str, str], database_url: str, redis_url: str,
        own: Mapping[str, str],
    ) -> dict[str, str]:
        """function.yaml's env (as the cluster sets it), ``extra``, the developer's, ``own``, then ours."""
        paths = [str(self.platform), os.environ.get("PYTHONPATH")]
        pythonpath = os.pathsep.join(path for path in paths if path)
        return {
            **spec.spec.get("env", {}),
            **extra,
            **os.environ,
            **own,
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
            # At Ctrl-C, requests in flight get as long to finish as the
            # functions would give them (their grace period), as a pod's do;
            # with none in flight the gateway stops at once.
            shutdown_timeout=max((fn.stop_grace for fn in self.functions.values()), default=1.0),
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

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Before routing: the Host must be one of ours (421 otherwise), and an
        absolute-form target (``GET http://host/path``, RFC 9112 section 3.2.2)
        is served as its path, with its authority as the host (aiohttp's own
        routing would answer it with a plain 404 or fail in the proxy)."""
        if not self._host_allowed(request.host):
            problem = Problem(421, "This gateway answers only for localhost, *.localhost, 127.0.0.1 and [::1] "
                                   "(and ECO2_DEV_ALLOWED_HOSTS).", slug="misdirected-request")
            return _problem_response(problem, request)
        target = request.raw_path
        if not target.startswith("/"):
            if not target.lower().startswith(("http://", "https://")):
                problem = Problem(400, "The request target must be a path or an absolute http URL.",
                                  slug="bad-request-target")
                return _problem_response(problem, request)
            path = request.rel_url.raw_path_qs
            request = request.clone(rel_url=URL(path if path.startswith("/") else "/" + path, encoded=True),
                                    host=request.host)
        return await self._dispatch(request)

    def _host_allowed(self, host: str) -> bool:
        match = _HOST_PORT.fullmatch(host.strip())
        name = (match.group(1) if match else "").lower().rstrip(".")
        return name in self.allowed_hosts or name.endswith(".localhost")

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        """Route as the cluster does: by ``<function>.localhost`` host, else by path prefix."""
        host = _FUNCTION_HOST.fullmatch(request.host)
        if host:
            fn = self.functions.get(host.group(1).lower())
            if fn is None:
                problem = no_route(request.path, f"No function is named {host.group(1)!r}.")
                return _problem_response(problem, request)
            return await self._forward(request, fn)
        if request.path == "/_eco2" or request.path.startswith("/_eco2/"):
            return self._page(request)
        for prefix, fn in self._by_prefix:
            if request.path == prefix or request.path.startswith(prefix + "/"):
                return await self._forward(request, fn)
        prefixes = ", ".join(p for fn in self.functions.values() for p in fn.spec.prefixes)
        problem = no_route(request.path, f"No function serves {request.path}. Prefixes: {prefixes}; "
                                         "or use a <function>.localhost host.")
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

    # -- status and pages --------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return {"functions": [fn.status() for fn in self.functions.values()], **self.backing}

    def _page(self, request: web.Request) -> web.StreamResponse:
        """The gateway's own pages under /_eco2/ (status, API docs and their assets)."""
        path = request.path
        if path == "/_eco2/status":
            return web.json_response(self.status())
        if path in ("/_eco2", "/_eco2/"):
            return web.Response(text=pages.status_page(self), content_type="text/html")
        if path.startswith(pages.DOCS) and (fn := self.functions.get(path[len(pages.DOCS):])):
            return web.Response(text=pages.docs_page(fn), content_type="text/html")
        if path.startswith(pages.ASSETS) and (found := pages.asset(path[len(pages.ASSETS):])):
            return web.FileResponse(found, headers={"Cache-Control": "public, max-age=86400"})
        return _problem_response(no_route(path), request)


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

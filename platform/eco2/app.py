"""The function: a small router on functions-framework's HTTP signature.

``main.py`` of every function is::

    fn = Function("info", "/api/v1/info")

    @fn.get("/categories/{code}", response=Guide)
    def guide(call: Call) -> Guide: ...

    handle = fn.build()

``handle`` is what functions-framework serves (``--target handle``). It turns
every outcome into JSON or RFC 9457 problem+json, and logs one line per request.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import re
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.http import generate_etag, quote_etag
from werkzeug.wrappers import Request, Response

from eco2 import body, config, cors, logs
from eco2.problems import PROBLEM_JSON, Problem, from_validation_error, no_route, unavailable
from eco2.routing import Answer, Match, Route, Router

if TYPE_CHECKING:
    import redis

    from eco2.db import Database
    from eco2.tokens import Principal

F = TypeVar("F", bound=Callable[..., Any])

# A request id we echo must not be able to inject headers or flood logs.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_JSON_TYPE = re.compile(r"^application/(?:[a-z0-9.+-]+\+)?json\s*(?:;.*)?$", re.IGNORECASE)
# Cache-Control of every answer on an auth=True route, and of any that sets a
# cookie, unless the route or its handler names another.
PERSONAL_CACHE = "private, no-store"
# NUL is the one character PostgreSQL text cannot hold; in JSON it can only be
# the escape \u0000 (not preceded by an odd number of backslashes).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class Health(BaseModel):
    status: Literal["ok", "ready"]
    function: str


class Session(BaseModel):
    user_id: str
    expires_at: int
    function: str


@dataclass
class Call:
    """What a route handler receives: the request, parsed and validated."""

    request: Request
    function: "Function"
    request_id: str
    params: dict[str, Any] = field(default_factory=dict)
    query: Any = None
    body: Any = None
    user: "Principal | None" = None  # the verified caller, on auth=True routes
    # The body as it came, on a route with ``media=`` when its Content-Type is
    # one of them (``call.body`` is then None; a multipart form: body.multipart).
    raw: bytes | None = None
    # Headers the handler adds to the response the runtime serializes for it.
    headers: dict[str, str] = field(default_factory=dict)
    # The route being served (its response_adapter() parses a ready-made answer).
    route: "Route | None" = None

    @property
    def settings(self) -> config.Settings:
        return self.function.settings

    @property
    def db(self) -> "Database":
        """The function's :class:`eco2.db.Database` (pool opened on first use)."""
        return self.function.db

    @property
    def redis(self) -> "redis.Redis":
        """The function's Redis client (connected on first use)."""
        return self.function.redis


# What runs in the serving process once it exists (eco2.serve's worker, after
# gunicorn's fork): work a function starts early without holding up readiness.
_WORKER_START: list[Callable[[], None]] = []


def worker_started() -> None:
    """Run what :meth:`Function.on_worker_start` registered (eco2.serve calls it)."""
    for callback in _WORKER_START:
        callback()


class Function:
    """One function: its settings, routes, lazily opened resources and handler."""

    def __init__(
        self,
        name: str,
        prefix: str,
        *,
        settings: type[config.Settings] = config.Settings,
        version: str = "0.1.0",
    ) -> None:
        self._t_init = time.perf_counter()
        self.name = name
        self.prefix = prefix.rstrip("/")
        self.version = version
        self.settings = config.load(settings)
        logs.setup(self.settings.log_level)
        self.log = logs.get(name)
        self.router = Router()
        self._db: "Database | None" = None
        self._redis: "redis.Redis | None" = None
        self._openapi: bytes | None = None
        self._served = itertools.count()
        self._import_ms = _process_age_ms()
        # The probes' answers never change while the process runs: kept serialized.
        probe = {"absolute": True, "response": Health, "static": True}
        self.route("GET", "/healthz", **probe, summary="Liveness")(healthz)
        self.route("GET", "/readyz", **probe, summary="Readiness")(readyz)
        # The original backend's probe paths, which its manifests and the ALB use.
        self.route("GET", "/health", **probe, summary="Liveness (the original's path)")(health)
        self.route("GET", "/ready", **probe, summary="Readiness (the original's path)")(ready)
        self.route("GET", "/openapi.json", summary="This function's OpenAPI document")(openapi_document)
        self.route("GET", "/session", auth=True, response=Session, summary="The caller's verified token")(session)

    # -- declaring routes -------------------------------------------------

    def route(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Any = None,
        response: Any = None,
        status: int = 200,
        auth: bool = False,
        optional_body: bool = False,
        cache: str | None = None,
        etag: bool = False,
        static: bool = False,
        memo: int = 0,
        media: tuple[str, ...] = (),
        max_body: int | None = None,
        part: str | None = None,
        summary: str | None = None,
        absolute: bool = False,
    ) -> Callable[[F], F]:
        """Declare a route; ``path`` is relative to the prefix unless ``absolute``.

        With ``optional_body`` an empty body is allowed and ``call.body`` is None.
        ``cache`` is the success response's ``Cache-Control``; with ``etag`` it
        carries a content ETag, and a request whose ``If-None-Match`` holds it
        gets 304 Not Modified with no body. A ``static`` route's answer does not
        change while the process runs (shipped data): its handler runs, and its
        result is validated and serialized, on the first request only. A
        ``memo`` route's answer depends only on its path and query string
        (shipped data searched or looked up): the last ``memo`` distinct
        answers are kept serialized, and a request for one of them costs a
        dictionary lookup (no query validation, no handler, no serialization).
        ``media`` are Content-Types accepted besides the JSON ``body`` (an image,
        ``multipart/form-data``): such a body is not validated but handed over
        as ``call.raw``; ``max_body`` is their body limit in bytes (JSON keeps
        the runtime's); ``part`` names a multipart body's file part (the
        OpenAPI document shows it).
        """

        if media and body is None:
            raise ValueError(f"{method} {path}: media= needs body= (the JSON form beside the media)")
        if max_body is not None and not media:
            raise ValueError(f"{method} {path}: max_body= is the limit of a media= body; there is none")
        if part is not None and "multipart/form-data" not in media:
            raise ValueError(f"{method} {path}: part= names a multipart/form-data media= body's file part")

        def register(handler: F) -> F:
            doc = (handler.__doc__ or "").strip().splitlines()
            self.router.add(
                Route(
                    method=method.upper(),
                    path=path if absolute else self.prefix + path,
                    handler=handler,
                    body=body,
                    query=query,
                    response=response,
                    status=status,
                    auth=auth,
                    optional_body=optional_body,
                    cache=cache,
                    etag=etag,
                    static=static,
                    memo=memo,
                    media=tuple(m.lower() for m in media),
                    max_body=max_body,
                    part=part,
                    summary=summary or (doc[0] if doc else None),
                    tags=(self.name,),
                )
            )
            self._openapi = None
            return handler

        return register

    def get(self, path: str, **kw: Any) -> Callable[[F], F]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[F], F]:
        return self.route("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Callable[[F], F]:
        return self.route("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[F], F]:
        return self.route("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[F], F]:
        return self.route("DELETE", path, **kw)

    def on_worker_start(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` in the serving worker once it has started: after
        gunicorn's fork, so a thread it starts lives where requests are served
        (main.py is imported in gunicorn's master, before the fork). Not called
        by the in-process test client."""
        _WORKER_START.append(callback)

    def build(self) -> Callable[[Request], Response]:
        """Finish start-up: log the start-up line and return the handler.

        functions-framework accepts only a plain function as its target, so
        this returns one that calls :meth:`handle`; ``handle.function`` is
        this Function (the test client uses it).
        """
        init_ms = (time.perf_counter() - self._t_init) * 1000
        logs.event(
            self.log,
            "start",
            function=self.name,
            import_ms=self._import_ms,
            init_ms=round(init_ms, 2),
            routes=len(self.router.routes),
        )

        self._route_framework_errors()

        def handle(request: Request) -> Response:
            return self.handle(request)

        handle.function = self  # type: ignore[attr-defined]
        return handle

    def _route_framework_errors(self) -> None:
        """Errors Flask raises before our handler runs (its own /robots.txt and
        /favicon.ico routes, paths its path converter does not match, such as a
        segment with a line break) become problem+json like every other error.

        functions-framework imports main.py inside its Flask app's context,
        so the app is at hand here; outside it (a plain import) there is none.
        """
        if "flask" not in sys.modules:  # not served by functions-framework
            return
        import flask
        from werkzeug.exceptions import HTTPException

        if not flask.has_app_context():
            return

        def framework_error(exc: HTTPException) -> Response:
            status = exc.code or 500
            problem = no_route(flask.request.path) if status == 404 else Problem(status)
            response = self._problem(problem, flask.request)
            if body.unread(flask.request):  # as in handle: nothing waits on a body no route takes
                response.headers["Connection"] = "close"
            return response

        flask.current_app.register_error_handler(HTTPException, framework_error)

    # -- resources ----------------------------------------------------------

    @property
    def db(self) -> "Database":
        if self._db is None:
            from eco2.db import Database

            self._db = Database(self.settings, application_name=self.name)
        return self._db

    @property
    def redis(self) -> "redis.Redis":
        if self._redis is None:
            from eco2.kv import connect

            self._redis = connect(self.settings)
        return self._redis

    def openapi(self) -> dict[str, Any]:
        from eco2.openapi import document

        return document(self)

    # -- serving -------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """The functions-framework entry point."""
        started = time.perf_counter()
        cold = next(self._served) == 0
        # The environ itself: werkzeug's header lookup raises and catches a
        # KeyError for a header that is not there, as this one mostly is not.
        header_id = request.environ.get("HTTP_X_REQUEST_ID", "")
        # 32 random hex digits, as uuid4().hex has them, without building a UUID
        # or a system call: an id names a request in the logs, it guards nothing.
        request_id = header_id if _REQUEST_ID.fullmatch(header_id) else "%032x" % random.getrandbits(128)
        call = Call(request=request, function=self, request_id=request_id)
        route_path = None
        personal = False
        try:
            match = self.router.match(request.method, request.path)
            route_path = match.route.path if match and match.route else None
            personal = bool(match and match.route and match.route.auth)
            if cors.is_preflight(request) and match is not None:
                response = cors.preflight(request, self.settings.cors_origins, match.allowed)
            else:
                response = self._dispatch(call, match)
        except Problem as problem:
            response = self._problem(problem, request)
        except HTTPException as exc:
            # werkzeug's own refusals while a handler reads the request (a
            # multipart form over its part or memory limits: 413) are the
            # client's fault, said as a problem; anything else is ours.
            client = exc.code is not None and 400 <= exc.code < 500
            problem = Problem(exc.code, exc.description) if client else self.classify(exc, request_id)
            response = self._problem(problem, request)
        except Exception as exc:  # noqa: BLE001 - the one place every failure is turned into a reply
            response = self._problem(self.classify(exc, request_id), request)
        # getlist, not ``in`` nor ``setdefault``: werkzeug answers those for a
        # header that is not there by raising and catching a KeyError (2 µs).
        headers = response.headers
        if (personal or headers.getlist("Set-Cookie")) and not headers.getlist("Cache-Control"):
            # A caller's own data, or a credential: no cache keeps it, a
            # shared one least of all, unless the route set its own policy.
            headers.add("Cache-Control", PERSONAL_CACHE)
        if body.unread(request):
            # A body nobody read (an early refusal, a route that takes none):
            # closing spares the server reading its rest, at the client's pace.
            headers["Connection"] = "close"
        headers.add("X-Request-Id", request_id)  # only the runtime sets it: appended, not searched for
        if self.settings.cors_origins:
            cors.decorate(request, response, self.settings.cors_origins)
        if request.method == "HEAD":
            response.set_data(b"")
        fields: dict[str, Any] = {
            "function": self.name,
            "method": request.method,
            "route": route_path,
            "status": response.status_code,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            "request_id": request_id,
        }
        if call.user is not None:
            fields["user_id"] = str(getattr(call.user, "id", call.user))
        if cold:
            fields["cold_start"] = True
        logs.request_line(self.log, fields)
        return response

    def _dispatch(self, call: Call, match: Match | None) -> Response:
        """Route, then token, then body: nothing waits on a client's body until
        the request has a route that takes one and a valid token (eco2.body)."""
        request = call.request
        limit = self.settings.max_body_bytes
        own = match.route if match is not None and match.route is not None else None
        if own is not None and own.max_body and request.mimetype in own.media:
            limit = own.max_body  # a body of the route's own media (a photo); JSON keeps the runtime's
        if (body.length(request) or 0) > limit:  # declared: refused before anything is read
            raise body.too_large(limit)
        if match is None:
            raise no_route(request.path)
        if match.route is None:
            raise Problem(
                405,
                f"{request.method} is not allowed here.",
                slug="method-not-allowed",
                headers={"Allow": ", ".join(match.allowed)},
            )
        route = match.route
        call.route, call.params = route, match.params
        if route.answers is None:
            answer = self._answer(call, route, limit)
        else:
            # A static route has one answer; a memo route one per path and query.
            key = (request.path, request.query_string) if route.memo else None
            answer = route.answers.get(key)
            if answer is None:
                answer = self._answer(call, route, limit)
                if isinstance(answer, Answer) and answer.shareable:
                    route.answers.put(key, answer)
        if not isinstance(answer, Answer):
            return answer
        # One header list, built in one go: werkzeug's per-header assignment
        # (a scan of the list each) was a tenth of a small route's handling.
        response = Response(answer.payload, status=route.status, headers=Headers(answer.headers))
        if route.etag:
            response.make_conditional(request)  # 304 for a matching If-None-Match (412 for If-Match)
        return response

    def _answer(self, call: Call, route: Route, limit: int) -> Answer | Response:
        """Token, then body, then query; the handler's result serialized with its
        headers (and ETag), or the handler's own Response, or a 204."""
        request = call.request
        if route.auth:
            from eco2.tokens import authenticate

            call.user = authenticate(call)
        # Only a route that takes a body looks at its Content-Type.
        as_is = bool(route.media) and request.mimetype in route.media  # a body of its own kind: not JSON
        json_type = route.body is not None and bool(_JSON_TYPE.match(request.headers.get("Content-Type", "")))
        if route.body is not None and not (as_is or json_type or route.optional_body) and body.announced(request):
            raise _unsupported(route)  # from the head: no reader slot held, nothing waited for (eco2.body)
        raw = b""
        if route.body is not None:
            raw = body.read(request, limit=limit, timeout=self.settings.body_timeout_seconds)
        _reject_nul(request, call.params, b"" if as_is else raw)
        if route.query is not None:
            # A parameter given twice reaches its model as a list: a scalar field
            # refuses it (422) rather than silently taking the first value.
            args = {k: v[0] if len(v) == 1 else v for k, v in request.args.lists()}
            call.query = _validate(route.query, args, "query")
        if as_is:
            call.raw = raw
        elif route.body is not None and not (route.optional_body and not raw.strip()):
            if not json_type:  # an optional body's route, with one after all
                raise _unsupported(route)
            call.body = _validate_json(route.body, raw)
        result = route.handler(call)
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(status=204 if route.status == 200 else route.status, headers=call.headers)
        payload = _serialize(route, result)
        headers = route.headers + tuple(call.headers.items())
        if route.etag:
            # What werkzeug's add_etag would set, computed here once with the
            # payload (and kept with it on a static or memo route).
            headers += (("ETag", quote_etag(generate_etag(payload))),)
        return Answer(payload, headers)

    def classify(self, exc: Exception, request_id: str) -> Problem:
        """Turn an unexpected exception into a problem; only the log sees details."""
        if _is_unavailable(exc):
            logs.event(
                self.log,
                "dependency unavailable",
                logging.WARNING,
                request_id=request_id,
                error=type(exc).__name__,
            )
            return unavailable("A backing service is unavailable; try again shortly.")
        sql = _sql_fields(exc)
        if sql is not None:
            # psycopg's message carries the failing row and the values sent
            # (DETAIL: Failing row contains (id, nickname, phone...)), and so
            # does any traceback with it in its chain: only what names the
            # failure, and the stack without messages, reach the log.
            refused = _refused_by_database(exc)
            if refused is not None:
                logs.event(self.log, "refused by the database", logging.WARNING, request_id=request_id, **sql)
                return refused
            self.log.error(
                "unhandled error",
                extra={"fields": {"function": self.name, "request_id": request_id, **sql,
                                  "stack": _stack_without_messages(exc)}},
            )
        else:
            self.log.error(
                "unhandled error",
                exc_info=exc,
                extra={"fields": {"function": self.name, "request_id": request_id}},
            )
        return Problem(500, "An internal error occurred.", slug="internal")

    @staticmethod
    def _problem(problem: Problem, request: Request) -> Response:
        response = Response(problem.to_json(request.path), status=problem.status, content_type=PROBLEM_JSON)
        response.headers.update(problem.headers)
        return response


def _unsupported(route: Route) -> Problem:
    accepted = ", ".join(("application/json", *route.media))
    return Problem(415, f"The body must be one of: {accepted}.", slug="unsupported-media-type")


def _reject_nul(request: Request, params: dict[str, Any], body: bytes) -> None:
    """422 for a NUL anywhere in the input: no text column could store it."""
    # A decoded query string holds a NUL only where the raw one has %00 (or a
    # raw NUL): only then are its arguments parsed here.
    query = request.query_string
    found = (
        [["query", k] for k, v in request.args.items(multi=True) if "\x00" in v]
        if b"%00" in query or b"\x00" in query
        else []
    )
    found += [["path", k] for k, v in params.items() if isinstance(v, str) and "\x00" in v]
    if _JSON_NUL.search(body):
        found.append(["body"])
    if found:
        raise Problem(
            422,
            "The request contains a NUL character.",
            slug="validation",
            errors=[{"loc": loc, "msg": "NUL characters are not allowed", "type": "nul"} for loc in found],
        )


def _serialize(route: Route, result: Any) -> bytes:
    """The JSON of a handler's result, validated by the route's response type.

    From attributes too: a handler may return the domain's own objects
    (dataclasses), and the response model picks the fields it shows.
    """
    if route.response is None:
        return json.dumps(result, ensure_ascii=False).encode()
    adapter = route.response_adapter()
    return adapter.dump_json(adapter.validate_python(result, from_attributes=True), by_alias=True)


def _validate(model: Any, data: Any, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, where) from None


def _validate_json(model: Any, raw: bytes) -> Any:
    if not raw.strip():
        raise Problem(400, "A JSON body is required.", slug="malformed-json")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise from_validation_error(exc, "body") from None


def _is_unavailable(exc: Exception) -> bool:
    """Whether ``exc`` means PostgreSQL or Redis could not answer in time.

    Checks only the client libraries already imported, so that a function that
    never touched the database does not import psycopg to handle an error.
    """
    if "psycopg" in sys.modules:
        import psycopg

        if isinstance(exc, psycopg.OperationalError):
            return True
    if "psycopg_pool" in sys.modules:
        import psycopg_pool

        if isinstance(exc, psycopg_pool.PoolTimeout):
            return True
    if "redis" in sys.modules:
        import redis

        if isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
            return True
    return False


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from or while handling, outermost first."""
    links: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in links:
        links.append(link)
        link = link.__cause__ or link.__context__
    return links


def _sql_fields(exc: Exception) -> dict[str, Any] | None:
    """For a PostgreSQL error anywhere in ``exc``'s chain, what names it without
    any value: the class, SQLSTATE, constraint and table; None for anything else."""
    if "psycopg" not in sys.modules:
        return None
    import psycopg

    found = next((link for link in _chain(exc) if isinstance(link, psycopg.Error)), None)
    if found is None:
        return None
    fields = {
        "error": type(found).__name__,
        "sqlstate": found.sqlstate,
        "constraint": found.diag.constraint_name,
        "table": found.diag.table_name,
    }
    if found is not exc:
        fields["raised"] = type(exc).__name__
    return fields


def _stack_without_messages(exc: BaseException) -> str:
    """Every link's class and frames, innermost first as Python prints them; no message."""
    return "".join(
        f"{type(link).__module__}.{type(link).__qualname__}\n" + "".join(traceback.format_tb(link.__traceback__))
        for link in reversed(_chain(exc))
    )


# The SQLSTATEs a value a client sent can cause (a model may miss a race or a
# rule only the database knows); anything else, a division by zero or a NOT
# NULL our own INSERT breaks, is a bug and stays a 500 with its stack.
_CONFLICT_STATES = frozenset({
    "23505",  # unique_violation
    "23503",  # foreign_key_violation
    "23P01",  # exclusion_violation
})
_UNSTORABLE_STATES = frozenset({
    "23514",  # check_violation
    "22001",  # string_data_right_truncation
    "22003",  # numeric_value_out_of_range
    "22007",  # invalid_datetime_format
    "22008",  # datetime_field_overflow
    "22P02",  # invalid_text_representation
    "22P05",  # untranslatable_character
    "22021",  # character_not_in_repertoire
})


def _refused_by_database(exc: Exception) -> Problem | None:
    """The reply to a value PostgreSQL refused: a 409 when it conflicts with rows
    that exist (a duplicate key, a row referenced or gone), a 422 when a value
    breaks a rule (CHECK) or does not fit its type (too long, out of range, bad
    format); None for every other error, ours."""
    import psycopg

    if not isinstance(exc, psycopg.Error):  # the database's error was not what failed the request
        return None
    if exc.sqlstate in _CONFLICT_STATES:
        return Problem(409, "The request conflicts with the current state of the data.", slug="conflict")
    # psycopg refuses a NUL in text itself (no SQLSTATE): the client's value too.
    if exc.sqlstate in _UNSTORABLE_STATES or (exc.sqlstate is None and isinstance(exc, psycopg.DataError)):
        return Problem(422, "A value in the request cannot be stored.", slug="validation")
    return None


def _process_age_ms() -> float | None:
    """Milliseconds since this process started (Linux), i.e. interpreter plus imports."""
    import os

    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return round((uptime - start_ticks / os.sysconf("SC_CLK_TCK")) * 1000, 1)


def healthz(call: Call) -> dict[str, str]:
    """Alive: the process answers."""
    return {"status": "ok", "function": call.function.name}


def readyz(call: Call) -> dict[str, str]:
    """Ready: start-up finished. Waits on no peer and no database on purpose:
    a cold start is as long as the slowest thing readiness waits for."""
    return {"status": "ready", "function": call.function.name}


def health(call: Call) -> dict[str, str]:
    """:func:`healthz` at the original backend's probe path."""
    return healthz(call)


def ready(call: Call) -> dict[str, str]:
    """:func:`readyz` at the original backend's probe path."""
    return readyz(call)


def session(call: Call) -> dict[str, Any]:
    """Every function answers this with the verified token, or 401: the app (and
    the tests) can check that a token is honoured, or refused, anywhere."""
    return {"user_id": call.user.id, "expires_at": call.user.exp, "function": call.function.name}


def openapi_document(call: Call) -> Response:
    fn = call.function
    if fn._openapi is None:  # noqa: SLF001 - cache owned by Function
        fn._openapi = json.dumps(fn.openapi(), ensure_ascii=False).encode()  # noqa: SLF001
    return Response(fn._openapi, content_type="application/json")  # noqa: SLF001

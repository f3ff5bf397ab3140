"""Route declarations and path matching for one function."""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?::(int))?\}")
_PATTERNS = {None: "[^/]+", "int": "[0-9]{1,18}"}


@dataclass
class Route:
    """One operation: method and path template, with the models that type it."""

    method: str
    path: str
    handler: Callable[..., Any]
    body: Any = None
    query: Any = None
    response: Any = None
    status: int = 200
    auth: bool = False
    optional_body: bool = False
    cache: str | None = None  # Cache-Control of a success
    etag: bool = False  # a content ETag, and 304 for a matching If-None-Match
    static: bool = False  # the same answer to every request: serialized once, kept in ``answers``
    # A route whose answer depends only on its path and query string: this many
    # serialized answers are kept, by both (``answers``).
    memo: int = 0
    # Media types taken as they come besides the JSON body (call.raw), and their
    # body limit (JSON keeps ECO2_MAX_BODY_BYTES).
    media: tuple[str, ...] = ()
    max_body: int | None = None
    part: str | None = None  # a multipart media body's file part, for the OpenAPI
    summary: str | None = None
    tags: tuple[str, ...] = ()
    params: dict[str, str | None] = field(default_factory=dict)
    answers: "Answers | None" = None  # a static or memo route's serialized answers
    # A success response's own headers, built once when the route is added.
    headers: tuple[tuple[str, str], ...] = ()
    _adapter: Any = None

    @property
    def operation_id(self) -> str:
        return self.handler.__name__

    def response_adapter(self) -> Any:
        """The pydantic TypeAdapter for the response, built on first use."""
        if self._adapter is None:
            from pydantic import TypeAdapter

            self._adapter = TypeAdapter(self.response)
        return self._adapter


@dataclass(frozen=True)
class Answer:
    """A success serialized once: its body and its own headers (the ETag among
    them, hashed once with the body), served as they are to every request that
    asks for it."""

    payload: bytes
    headers: tuple[tuple[str, str], ...]

    @property
    def shareable(self) -> bool:
        """Whether it may be served to another request: not when its handler set
        a cookie (one caller's) or a Vary (it depends on more than path and query)."""
        return not any(name.lower() in ("set-cookie", "vary") for name, _ in self.headers)


class Answers:
    """A bounded store of a route's answers by key; when full, the least
    recently used goes. Thread-safe: the server's threads share it.

    Written here rather than taken from a library: functools.lru_cache keeps
    every result of a call, and the runtime must choose what to keep (never a
    refusal, nor an answer with a cookie); cachetools would be a dependency of
    every function for these twenty lines."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[Any, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Answer | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: Any, answer: Answer) -> None:
        with self._lock:
            self._kept[key] = answer
            self._kept.move_to_end(key)
            if len(self._kept) > self._size:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)


@dataclass
class Match:
    route: Route | None
    params: dict[str, Any]
    table: dict[str, Route]  # the path's routes by method

    @property
    def allowed(self) -> tuple[str, ...]:
        """The methods the path allows: asked only by a 405 and a preflight, not on every match."""
        return _allowed(self.table)


class Router:
    """Static paths by dictionary, templated paths by regular expression."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._static: dict[str, dict[str, Route]] = {}
        self._dynamic: list[tuple[re.Pattern[str], str, dict[str, Route]]] = []

    def add(self, route: Route) -> None:
        if not route.path.startswith("/"):
            raise ValueError(f"route path must start with '/': {route.path!r}")
        route.params = {m.group(1): m.group(2) for m in _PARAM.finditer(route.path)}
        route.headers = (("Content-Type", "application/json"),) + ((("Cache-Control", route.cache),) if route.cache else ())
        if route.static and (route.params or route.query is not None or route.body is not None or route.auth):
            raise ValueError(f"a static route takes no input and no token: {route.method} {route.path}")
        if route.memo and (route.body is not None or route.auth or route.static):
            # Its key is the path and query: a body or a caller would change the answer.
            raise ValueError(f"a memo route takes no body and no token: {route.method} {route.path}")
        if route.static or route.memo:
            route.answers = Answers(route.memo or 1)
        if route.params:
            table = next((t for _, p, t in self._dynamic if p == route.path), None)
            if table is None:
                table = {}
                self._dynamic.append((_compile(route.path), route.path, table))
        else:
            table = self._static.setdefault(route.path, {})
        if route.method in table:
            raise ValueError(f"duplicate route {route.method} {route.path}")
        table[route.method] = route
        self.routes.append(route)

    def match(self, method: str, path: str) -> Match | None:
        """The route for ``method`` at ``path``; None when no route has the path."""
        table = self._static.get(path)
        params: dict[str, Any] = {}
        if table is None:
            for pattern, _, candidate in self._dynamic:
                found = pattern.fullmatch(path)
                if found:
                    table, params = candidate, found.groupdict()
                    break
            else:
                return None
        lookup = "GET" if method == "HEAD" else method
        route = table.get(lookup)
        if route is not None and params:
            params = {k: int(v) if route.params.get(k) == "int" else v for k, v in params.items()}
        return Match(route, params, table)


@functools.lru_cache(maxsize=None)
def _methods(methods: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(methods | ({"HEAD"} if "GET" in methods else set())))


def _allowed(table: dict[str, Route]) -> tuple[str, ...]:
    """The methods a path allows (HEAD wherever GET is), sorted; one tuple per set of methods."""
    return _methods(frozenset(table))


def _compile(template: str) -> re.Pattern[str]:
    pattern, last = "", 0
    for m in _PARAM.finditer(template):
        pattern += re.escape(template[last : m.start()])
        pattern += f"(?P<{m.group(1)}>{_PATTERNS[m.group(2)]})"
        last = m.end()
    return re.compile(pattern + re.escape(template[last:]))

"""An in-process test client for a function, part of the library.

It loads the function exactly as production does, through
``functions_framework.create_app(target="handle", source=...)``, and drives
the Flask app with werkzeug's test client: no sockets, no processes::

    client = Client("functions/info/main.py", env={"ECO2_ENV": "test"})
    result = client.get("/api/v1/info/openapi.json")
    assert result.status == 200 and result.json["openapi"] == "3.1.0"
"""

from __future__ import annotations

import json as jsonlib
import os
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from werkzeug.datastructures import Headers


@dataclass
class Result:
    status: int
    headers: Headers  # case-insensitive; ``headers.getlist("Set-Cookie")``
    body: bytes

    @property
    def json(self) -> Any:
        return jsonlib.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


@contextmanager
def _environ(env: Mapping[str, str] | None) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class Client:
    """Call a function's routes in-process and get status, headers and JSON.

    ``close()`` (or ``Client.close_all()`` at the end of a test session) closes
    the database pool and Redis client the function opened.
    """

    _open: "weakref.WeakSet[Client]" = weakref.WeakSet()

    def __init__(self, source: str | Path, env: Mapping[str, str] | None = None, target: str = "handle"):
        import functions_framework

        # Settings are read when main.py is imported, so env applies to that import.
        with _environ(env):
            self.app = functions_framework.create_app(target=target, source=str(source))
        # functions-framework wraps ``handle`` with functools.wraps, which
        # keeps the original as ``__wrapped__``; Function.build() set ``function``.
        self.function = self.app.view_functions["run"].__wrapped__.function
        self._client = self.app.test_client()
        Client._open.add(self)

    def close(self) -> None:
        fn = self.function
        if fn._db is not None:  # noqa: SLF001 - only what was opened
            fn._db.close()  # noqa: SLF001
        if fn._redis is not None:  # noqa: SLF001
            fn._redis.close()  # noqa: SLF001
            fn._redis = None  # noqa: SLF001

    @classmethod
    def close_all(cls) -> None:
        for client in list(cls._open):
            client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> Result:
        kwargs: dict[str, Any] = {"headers": dict(headers or {}), "query_string": query}
        if json is not None:
            kwargs["json"] = json
        elif data is not None:
            kwargs["data"] = data
        response = self._client.open(path, method=method, **kwargs)
        return Result(response.status_code, Headers(response.headers), response.get_data())

    def get(self, path: str, **kw: Any) -> Result:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Result:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Result:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Result:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Result:
        return self.request("DELETE", path, **kw)

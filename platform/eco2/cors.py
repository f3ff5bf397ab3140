"""CORS for the app's browser origins, which call the functions with cookies.

Only origins listed in ``ECO2_CORS_ORIGINS`` get ``Access-Control-Allow-*``
headers (with credentials, so never ``*``); any other origin gets none and the
browser blocks the response.

The allowed request headers are those eco2's clients and the released app
send: ``X-Frontend-Origin`` is the app's login call's, and ``Idempotency-Key``
(or the original's ``X-Idempotency-Key``) makes a scan safe to retry. The
exposed ones are those a script needs to read: the next page (``Link``), when
to retry (``Retry-After``), the request id to report, and whether a scan's
answer was a replay (``Idempotent-Replayed``).
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

ALLOW_HEADERS = "Authorization, Content-Type, X-Request-Id, X-Frontend-Origin, Idempotency-Key, X-Idempotency-Key"
EXPOSE_HEADERS = "Link, Retry-After, X-Request-Id, Idempotent-Replayed"
MAX_AGE = "600"


def is_preflight(request: Request) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def preflight(request: Request, allowed: list[str], methods: tuple[str, ...]) -> Response:
    """The answer to a preflight: 204, with permissions only for an allowed
    origin (the origin's own headers come from :func:`decorate`, as on every answer)."""
    response = Response(status=204)
    if request.headers.get("Origin") in allowed:
        response.headers["Access-Control-Allow-Methods"] = ", ".join(methods)
        response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = MAX_AGE
    return response


def decorate(request: Request, response: Response, allowed: list[str]) -> None:
    """Vary and, for an allowed origin, its permissions: on every answer, once
    (eco2.app's ``handle``), a preflight's too."""
    origin = request.environ.get("HTTP_ORIGIN")
    # Appended, not set: nothing else sets these, and werkzeug's ``vary.add``
    # parses the header into a set and writes it back (4 µs a request), which
    # only an answer with a Vary of its own needs.
    if response.headers.getlist("Vary"):
        response.vary.add("Origin")
    else:
        response.headers.add("Vary", "Origin")
    if origin and origin in allowed:
        response.headers.extend((("Access-Control-Allow-Origin", origin),
                                 ("Access-Control-Allow-Credentials", "true"),
                                 ("Access-Control-Expose-Headers", EXPOSE_HEADERS)))

"""Server-sent events: a route answers ``Accept: text/event-stream`` with a stream.

A handler validates its input first (so a bad request is still an ordinary
problem+json reply), then returns ``sse.stream(call, events())`` where
``events()`` yields ``(name, data)`` pairs as the work progresses::

    @fn.post("/messages", body=Message, status=201)
    def send(call):
        if sse.wanted(call.request):
            return sse.stream(call, chat.stream(call.body))
        return chat.answer(call.body)

Each pair becomes one ``event: <name>`` / ``data: <json>`` block, flushed as it
is made (gunicorn writes each chunk; queue-proxy and Kourier pass them on
unbuffered). A failure after the first byte cannot change the status any more,
so the stream ends with one ``error`` event carrying the problem document the
same failure would have had as a reply: never a trace.

Why by hand: the format is four lines of the WHATWG spec; the SSE packages on
PyPI are written for ASGI servers, and functions-framework is WSGI.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from pydantic_core import to_json
from werkzeug.wrappers import Request, Response

from eco2.problems import Problem

EVENT_STREAM = "text/event-stream"


def wanted(request: Request) -> bool:
    """Whether the client asked for a stream: ``text/event-stream`` named in ``Accept``.

    A wildcard (``*/*``, ``text/*``) is not a request for a stream: the released
    app sends ``application/json, text/plain, */*`` and reads JSON. Named, the
    stream must rank at least as high as JSON.
    """
    accept = request.accept_mimetypes
    named = max((q for value, q in accept if value.lower() == EVENT_STREAM), default=0)
    return named > 0 and named >= accept["application/json"]


def encode(name: str, data: Any) -> bytes:
    """One event. JSON never contains a raw line break, so ``data`` is one line."""
    return b"event: " + name.encode() + b"\ndata: " + to_json(data, by_alias=True) + b"\n\n"


def stream(call: Any, events: Iterable[tuple[str, Any]], status: int = 200) -> Response:
    """A streaming response of ``events``, ending in ``error`` if they fail."""

    def body() -> Iterator[bytes]:
        try:
            for name, data in events:
                yield encode(name, data)
        except Problem as problem:
            yield encode("error", problem.body(call.request.path))
        except Exception as exc:  # noqa: BLE001 - turned into an error event, logged with its trace
            problem = call.function.classify(exc, call.request_id)
            yield encode("error", problem.body(call.request.path))

    headers = {
        **call.headers,
        # No proxy may hold events back or store them (nginx honours X-Accel-Buffering).
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
    }
    return Response(body(), status=status, mimetype=EVENT_STREAM, headers=headers, direct_passthrough=True)

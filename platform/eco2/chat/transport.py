"""The HTTP transport under the model's client: a deadline per attempt, and a cap on waits.

httpx has a connect and a read timeout, but no total one: a read timeout
restarts with every byte, so an answer that trickles (a JSON body a few bytes
at a time, or a stream of SSE comments such as ``: ping``, which the openai
client skips without yielding a chunk) could hold a request forever. Here
every attempt gets a deadline, checked when its headers and each piece of its
body arrive; past it the attempt fails as a read timeout, which the openai
client treats as any other (retried before the body, an ``APITimeoutError``
during a stream). A byte arriving just before the deadline can start one more
read, so an attempt ends at most one read timeout after it.

The openai client honours a ``Retry-After`` of up to two minutes between its
retries; a user waiting for an answer gains nothing from such a wait (the
degraded answer is better), so a longer one is shortened to ``max_wait``.

Imported only by :mod:`eco2.chat.client`, when the client is made (httpx2
comes with openai). A transport of one's own turns off httpx's proxies from
the environment (``HTTPS_PROXY``): chat reaches the API directly (its
``egress: [https]``). Why by hand: httpx's documented extension point for this
is a transport; no package offers a total deadline for it.
"""

from __future__ import annotations

import math
import time
from typing import Iterator

import httpx2

RETRY_HEADERS = ("retry-after-ms", "retry-after")


class Deadline(httpx2.BaseTransport):
    """:class:`httpx2.HTTPTransport` with ``seconds`` per attempt and waits capped at ``max_wait``."""

    def __init__(self, seconds: float, max_wait: float) -> None:
        self._inner = httpx2.HTTPTransport()
        self._seconds = seconds
        self._max_wait = max_wait

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        deadline = time.monotonic() + self._seconds
        response = self._inner.handle_request(request)
        if time.monotonic() > deadline:
            response.close()
            raise _late(request)
        headers = response.headers
        if any(h in headers for h in RETRY_HEADERS):
            headers = httpx2.Headers([(k, v) for k, v in headers.multi_items() if k.lower() not in RETRY_HEADERS])
            headers["retry-after-ms"] = str(math.ceil(1000 * min(_seconds(response.headers), self._max_wait)))
        return httpx2.Response(response.status_code, headers=headers, extensions=response.extensions,
                               stream=_Bounded(response.stream, deadline, request))

    def close(self) -> None:
        self._inner.close()


class _Bounded(httpx2.SyncByteStream):
    def __init__(self, stream: httpx2.SyncByteStream, deadline: float, request: httpx2.Request) -> None:
        self._stream, self._deadline, self._request = stream, deadline, request

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            if time.monotonic() > self._deadline:
                raise _late(self._request)
            yield chunk

    def close(self) -> None:
        self._stream.close()


def _late(request: httpx2.Request) -> httpx2.ReadTimeout:
    return httpx2.ReadTimeout("The answer took longer than its deadline.", request=request)


def _seconds(headers: httpx2.Headers) -> float:
    """The wait the server asked for, in seconds; unreadable (an HTTP date) counts as long."""
    for name, scale in (("retry-after-ms", 1000), ("retry-after", 1)):
        if name in headers:
            try:
                return max(0.0, float(headers[name]) / scale)
            except ValueError:
                return float("inf")
    return 0.0

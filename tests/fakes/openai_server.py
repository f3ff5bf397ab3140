"""A real HTTP server that stands in for the OpenAI API in tests.

It speaks ``POST /v1/chat/completions`` as OpenAI does, in JSON or, when the
request has ``"stream": true``, as server-sent events (``chat.completion.chunk``
objects, with a last usage chunk when ``stream_options.include_usage`` asks,
then ``data: [DONE]``). It records every request, and each answer can
be scripted: a reply text, a delay, an error status (429 with ``Retry-After``,
500 ...), a stream that trickles (a delay before each chunk, or keep-alive
comments only), a JSON body that trickles, a malformed answer (raw bytes), or
a stream that breaks off mid-way (the connection is closed without ``[DONE]``). The openai client (3.x, on httpx2) is not intercepted by
respx; pointing its ``base_url`` at this server tests the real client::

    from tests.fakes.openai_server import FakeOpenAI, Reply

    with FakeOpenAI() as fake:
        fake.script(Reply(content='{"category": "glass"}'), Reply(status=429))
        client = openai.OpenAI(api_key="test", base_url=fake.base_url, max_retries=0)
        ...
        fake.requests[0].json["model"]

Unscripted requests get :attr:`FakeOpenAI.default`. The pytest fixture
``fake_openai`` gives a fresh server per test: import it into a conftest, as
``tests/fakes/conftest.py`` and ``tests/scan/conftest.py`` do.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest


@dataclass
class Reply:
    """One scripted answer."""

    content: str = "{}"  # the assistant message's text
    status: int = 200  # anything else answers an OpenAI-shaped error body
    delay: float = 0.0  # seconds before the first byte
    break_after: int | None = None  # streaming: close after this many content chunks, no [DONE]
    chunk_size: int = 8  # streaming: characters per chunk
    chunk_delay: float = 0.0  # seconds before each content chunk (a slow model); JSON: a body that trickles
    pings: int = 0  # streaming: SSE comments first, each after chunk_delay (a keep-alive trickle)
    raw: bytes | None = None  # a malformed answer: the JSON body, or streaming, the first chunk's bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class FakeOpenAI:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[Request] = []
        self.default = Reply()
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these, in order."""
        with self._lock:
            self._script.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.default = Reply()

    def _next(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self._script.popleft() if self._script else self.default

    def start(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


USAGE = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}


def _completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": content, "refusal": None}}],
        "usage": USAGE,
    }


def _chunk(model: str, delta: dict[str, Any] | None, finish: str | None = None,
           usage: dict[str, int] | None = None) -> bytes:
    """One chunk; with ``delta`` None, the usage chunk (no choices), as OpenAI sends it last."""
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
    body = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model, "choices": choices, "usage": usage}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet in test output
            pass

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without TCP_NODELAY the body
            # waits for the client's delayed ACK (40 ms a reply on Linux).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first (a timeout test): expected

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            headers = {k.lower(): v for k, v in self.headers.items()}
            request = Request("POST", self.path, headers, self.rfile.read(length))
            reply = fake._next(request)
            if reply.delay:
                time.sleep(reply.delay)
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            if reply.status != 200:
                return self._json(reply.status, {"error": {
                    "message": f"fake error {reply.status}", "type": "fake", "code": str(reply.status)}},
                    reply.headers)
            try:
                payload = request.json
            except ValueError:
                return self._json(400, {"error": {"message": "bad json", "type": "invalid_request_error"}})
            model = payload.get("model", "fake")
            if payload.get("stream"):
                usage = bool((payload.get("stream_options") or {}).get("include_usage"))
                return self._stream(model, reply, usage)
            if reply.raw is not None:
                return self._raw(reply.raw)
            if reply.chunk_delay:
                return self._trickle(json.dumps(_completion(model, reply.content)).encode(), reply)
            self._json(200, _completion(model, reply.content), reply.headers)

        def _trickle(self, data: bytes, reply: Reply) -> None:
            """A JSON body sent ``chunk_size`` bytes at a time, each after ``chunk_delay``."""
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for i in range(0, len(data), reply.chunk_size):
                time.sleep(reply.chunk_delay)
                self.wfile.write(data[i:i + reply.chunk_size])
                self.wfile.flush()

        def _raw(self, data: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, model: str, reply: Reply, usage: bool) -> None:
            """SSE in HTTP/1.1 chunked encoding, so that a stream cut short (no
            terminating chunk) is an incomplete body to the client, as when an
            upstream connection drops, not a clean end."""
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.close_connection = True

            def send(data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            send(_chunk(model, {"role": "assistant", "content": ""}))
            for _ in range(reply.pings):
                time.sleep(reply.chunk_delay)
                send(b": ping\n\n")
            if reply.raw is not None:
                send(reply.raw)
            pieces = [reply.content[i:i + reply.chunk_size]
                      for i in range(0, len(reply.content), reply.chunk_size)]
            for n, piece in enumerate(pieces):
                if reply.break_after is not None and n >= reply.break_after:
                    return  # closed mid-body: no finish, no [DONE], no last chunk
                if reply.chunk_delay:
                    time.sleep(reply.chunk_delay)
                send(_chunk(model, {"content": piece}))
            send(_chunk(model, {}, "stop"))
            if usage:
                send(_chunk(model, None, usage=USAGE))
            send(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Handler


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A fresh fake OpenAI server for one test."""
    with FakeOpenAI() as fake:
        yield fake

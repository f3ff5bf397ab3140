"""Slow clients cannot take a function's threads (issue 11, item 2).

A function serves with THREADS threads (4 here). Before eco2.body, a request's
body was read before its route or token was checked, with no deadline, and
gunicorn read a request's head with none either: THREADS + 1 connections that
sent a head and one byte of a 100 kB body, or half a head, left nothing to
answer anyone.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
from pathlib import Path
from typing import Iterator

import pytest

from ..support import PROBLEM, bearer
from .conftest import report
from .live import head_of, raw, serve

THREADS = 4
WAIT = 15.0  # a client's patience here; the server's deadlines below are far longer or far shorter


@contextlib.contextmanager
def opened(port: int, heads: list[bytes]) -> Iterator[list[socket.socket]]:
    """One connection per head, each sent and then left hanging."""
    socks = []
    try:
        for head in heads:
            sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
            sock.sendall(head)
            socks.append(sock)
        yield socks
    finally:
        for sock in socks:
            sock.close()


def answer(sock: socket.socket) -> bytes:
    """What the server sends before it closes (b"" if it closes without a word)."""
    chunks = []
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def get(port: int, path: str, headers: dict[str, str] | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        conn.request("GET", path, headers=headers or {})
        return conn.getresponse().status
    finally:
        conn.close()


def slow_body(method: str, path: str, extra: bytes = b"") -> bytes:
    """A head announcing 100 kB of JSON, and its first byte."""
    return (f"{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n".encode() + extra
            + b"Content-Length: 100000\r\n\r\n{")


def test_slow_bodies_leave_threads_for_everyone_else(reliability_env: dict[str, str], mint) -> None:
    """THREADS + 1 slow bodies of each kind at once: to no route, to an auth route
    without a token, to a route that reads a body (auth's refresh, no token needed).
    /healthz and an authenticated route still answer, long before any deadline."""
    _, token = mint()
    env = {**reliability_env, "THREADS": str(THREADS),
           "ECO2_BODY_TIMEOUT_SECONDS": "120", "ECO2_HEADER_TIMEOUT_SECONDS": "120"}
    kinds = {
        "no route": slow_body("POST", "/api/v1/nowhere/at/all"),
        "no route (Flask's own)": slow_body("POST", "/api/v1/auth/a%0Ab"),
        "wrong method": slow_body("PUT", "/api/v1/auth/refresh"),
        "no token": slow_body("GET", "/api/v1/auth/me"),
        "body route": slow_body("POST", "/api/v1/auth/refresh"),
    }
    with serve("auth", env) as port:
        heads = [head for head in kinds.values() for _ in range(THREADS + 1)]
        with opened(port, heads) as socks:
            assert get(port, "/healthz") == 200
            assert get(port, "/api/v1/auth/session", bearer(token)) == 200
            seen = {}
            for i, name in enumerate(kinds):
                group = socks[i * (THREADS + 1):(i + 1) * (THREADS + 1)]
                if name == "body route":
                    # THREADS - 2 of them wait for their bodies; the rest are told to come back.
                    for sock in group:
                        sock.settimeout(1.0)
                    statuses = []
                    for sock in group:
                        with contextlib.suppress(TimeoutError):
                            statuses.append(head_of(answer(sock))[0])
                    assert statuses == [503] * (len(group) - (THREADS - 2)), statuses
                else:
                    statuses = [head_of(answer(sock))[0] for sock in group]  # answered, then closed
                    assert len(set(statuses)) == 1 and statuses[0] in (401, 404, 405), (name, statuses)
                seen[name] = statuses
            assert get(port, "/healthz") == 200
    report(f"slow clients: {THREADS + 1} slow bodies of each kind on {THREADS} threads: "
           + ", ".join(f"{k} -> {v}" for k, v in seen.items()) + "; /healthz and /session answered")


def test_overdue_heads_and_bodies_are_cut_off(reliability_env: dict[str, str]) -> None:
    """With 1 s deadlines: THREADS + 1 half-sent heads are shut (and /healthz
    answers), and a body that stops arriving gets a 408 problem."""
    env = {**reliability_env, "THREADS": str(THREADS),
           "ECO2_BODY_TIMEOUT_SECONDS": "1", "ECO2_HEADER_TIMEOUT_SECONDS": "1"}
    with serve("auth", env) as port:
        with opened(port, [b"GET /healthz HTTP/1.1\r\nHo"] * (THREADS + 1)) as socks:
            assert get(port, "/healthz") == 200
            assert [answer(sock) for sock in socks] == [b""] * len(socks)  # shut without a reply
        with opened(port, [slow_body("POST", "/api/v1/auth/refresh")]) as (sock,):
            reply = answer(sock)
        status, headers = head_of(reply)
        assert status == 408 and ("Content-Type", PROBLEM) in headers, reply[:300]
        assert ("Connection", "close") in headers
        assert b"body-timeout" in reply
    report(f"slow clients: {THREADS + 1} half-sent heads shut at their 1 s deadline; a stalled body -> 408")


@pytest.mark.parametrize("value", ["soon", "0", "3601", ""])
def test_a_bad_header_timeout_stops_the_server(value: str, capsys) -> None:
    from eco2 import serve as server

    assert server.header_timeout({}) == server.DEFAULT_HEADER_TIMEOUT
    with pytest.raises(SystemExit) as stopped:
        server.header_timeout({"ECO2_HEADER_TIMEOUT_SECONDS": value})
    assert stopped.value.code == 78
    assert "ECO2_HEADER_TIMEOUT_SECONDS must be an integer from 1 to 3600" in capsys.readouterr().err


MEDIA = Path(__file__).parents[1] / "runtime" / "fixtures" / "media" / "main.py"
BROKEN_CHUNKS = {
    "size not hex": b"zz\r\nabc\r\n0\r\n\r\n",
    "no terminator after the data": b"3\r\nabcXY0\r\n\r\n",
    "bad extension": b"3;\x01\r\nabc\r\n0\r\n\r\n",
}


def test_a_malformed_chunked_body_is_a_400(tmp_path: Path) -> None:
    """gunicorn's chunk parser raises its own errors (not OSError) from the body's
    read: before, a 500 and an "unhandled error" with a stack in the log."""
    seen = {}
    with open(tmp_path / "stderr", "wb") as log, serve(MEDIA, {"ECO2_ENV": "test"}, log=log) as port:
        for name, chunks in BROKEN_CHUNKS.items():
            for path, kind in (("/api/v1/media/upload", "image/png"), ("/api/v1/media/note", "application/json")):
                reply = raw(port, (f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: {kind}\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n").encode() + chunks)
                status, headers = head_of(reply)
                seen[f"{name} {path}"] = status
                assert status == 400 and ("Content-Type", PROBLEM) in headers, (name, path, reply[:300])
                assert b"body-malformed" in reply and ("Connection", "close") in headers
    assert b"unhandled error" not in (tmp_path / "stderr").read_bytes()
    report(f"slow clients: {len(seen)} malformed chunked bodies -> " + ", ".join(sorted({str(s) for s in seen.values()})))


def test_a_wrong_content_type_is_refused_before_its_body_is_read() -> None:
    """A 415 needs only the head: before, the body was read first (a reader slot
    held, and the whole upload waited out at the client's pace) and then refused."""
    env = {"ECO2_ENV": "test", "ECO2_BODY_TIMEOUT_SECONDS": "60"}
    with serve(MEDIA, env) as port:
        for path in ("/api/v1/media/upload", "/api/v1/media/note"):
            head = (f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: image/gif\r\n"
                    "Content-Length: 60000\r\n\r\nGIF89a").encode()
            with opened(port, [head]) as (sock,):
                sock.settimeout(5.0)  # far less than the body's 60 s: only an answer without the body comes in time
                reply = answer(sock)
            status, headers = head_of(reply)
            assert status == 415 and ("Connection", "close") in headers, (path, reply[:300])
    report("slow clients: a body of a type the route does not take -> 415 from its head, the body never read")


def test_a_gunicorn_without_the_overridden_internals_stops_the_server(monkeypatch, capsys) -> None:
    """GracefulWorker overrides gunicorn 27's gthread internals; another gunicorn
    (functions-framework allows >=22) must fail loudly, not serve without them."""
    import gunicorn
    from gunicorn.workers.gthread import ThreadWorker

    from eco2 import serve as server

    server.check_gunicorn()  # the pinned one passes
    monkeypatch.delattr(ThreadWorker, "murder_pending")
    with pytest.raises(SystemExit) as stopped:
        server.check_gunicorn()
    assert stopped.value.code == 70 and "ThreadWorker.murder_pending()" in capsys.readouterr().err
    monkeypatch.undo()
    monkeypatch.setattr(gunicorn, "__version__", "28.0.0")
    with pytest.raises(SystemExit):
        server.check_gunicorn()

"""The gateway answers only for loopback names (DNS rebinding), and serves an
absolute-form request target instead of failing on it (issue 11, items 7 and 8)."""

from __future__ import annotations

import socket

import pytest

from .test_routing import assert_problem

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def raw(port: int, request: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


def test_only_loopback_hosts_are_served(start_gateway):
    gw = start_gateway(allowed_hosts=["dev.example.test"])
    for host in ("evil.example", "attacker.com:8080", "127.0.0.2", "localhost.evil.example", "10.0.0.1",
                 "[::2]", "localhost@evil.example"):
        problem = assert_problem(gw.get("/api/v1/auth/.well-known/jwks.json", headers={"Host": host}), 421)
        assert problem["type"] == "urn:eco2:problem:misdirected-request", host
    assert all(f["state"] == "cold" for f in gw.status()["functions"])  # nothing started for them
    for host in ("localhost", f"localhost:{gw.port}", f"127.0.0.1:{gw.port}", f"[::1]:{gw.port}",
                 "LOCALHOST.", "dev.example.test"):
        assert gw.get("/_eco2/status", headers={"Host": host}).status == 200, host
    assert gw.get("/healthz", headers={"Host": "info.localhost"}).status == 200


def test_absolute_form_targets_are_served_or_refused_with_a_problem(start_gateway):
    gw = start_gateway()
    status, reply = raw(gw.port, b"GET http://localhost/api/v1/info/openapi.json HTTP/1.1\r\n"
                                 b"Host: localhost\r\nConnection: close\r\n\r\n")
    assert status == 200 and b'"eco2 info"' in reply, reply[:300]
    # The target's authority is the host (RFC 9112 section 3.2.2), whatever Host says.
    status, reply = raw(gw.port, b"GET http://evil.example/api/v1/info/openapi.json HTTP/1.1\r\n"
                                 b"Host: localhost\r\nConnection: close\r\n\r\n")
    assert status == 421 and b"application/problem+json" in reply, reply[:300]
    status, reply = raw(gw.port, b"GET http://localhost:1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert status == 404 and b"application/problem+json" in reply, reply[:300]

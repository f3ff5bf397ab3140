"""What the gateway passes on: method, path, query, headers and bodies, both ways, streamed."""

from __future__ import annotations

import hashlib
import http.client
import os

import pytest

from ..support import ROOT
from .harness import DATABASE_URL, FIXTURES, REDIS_URL, eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(30)]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_request_is_forwarded_whole(start_gateway, chunked):
    gw = start_gateway(root=FIXTURES)
    body = os.urandom(512 * 1024)
    payload = (body[i:i + 65536] for i in range(0, len(body), 65536)) if chunked else body
    reply = gw.request(
        "POST",
        "/api/v1/lab/echo?q=%C3%A9co&x=1&x=2",
        headers={
            "X-Test": "yes",
            "X-Forwarded-For": "203.0.113.9",
            "Connection": "keep-alive, X-Drop",
            "X-Drop": "hop-by-hop",
            "Content-Type": "application/octet-stream",
        },
        body=payload,
    )

    assert reply.status == 200, reply.body
    echo = reply.json()
    assert echo["method"] == "POST"
    assert (echo["path"], echo["query"]) == ("/api/v1/lab/echo", "q=%C3%A9co&x=1&x=2")
    assert (echo["length"], echo["sha256"]) == (len(body), hashlib.sha256(body).hexdigest())
    headers = echo["headers"]
    assert headers["x-test"] == "yes"
    assert headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert headers["x-forwarded-host"] == f"127.0.0.1:{gw.port}"
    assert headers["x-forwarded-proto"] == "http"
    assert "x-drop" not in headers
    assert reply.headers["X-Request-Id"]  # the function's response headers come back


def test_response_streams_as_it_is_written(start_gateway, tmp_path):
    gw = start_gateway(root=FIXTURES)
    gate = tmp_path / "gate"
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=15)
    try:
        conn.request("GET", f"/api/v1/lab/stream?gate={gate}")
        response = conn.getresponse()
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        # The function writes the second event only after this test has read the
        # first: a gateway that buffered the reply would hang here until timeout.
        assert response.readline() == b"data: first\n"
        assert response.readline() == b"\n"
        gate.touch()
        assert response.read() == b"data: second\n\n"
    finally:
        conn.close()


def test_a_client_that_hangs_up_is_no_longer_in_flight(start_gateway, tmp_path):
    gw = start_gateway(root=FIXTURES)
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=15)
    try:
        conn.request("GET", f"/api/v1/lab/stream?gate={tmp_path / 'never'}")
        response = conn.getresponse()
        assert response.readline() == b"data: first\n"
        assert gw.function("lab")["in_flight"] == 1
    finally:
        conn.close()
    # Otherwise an abandoned event stream would keep the function from scaling to zero.
    eventually(lambda: gw.function("lab")["in_flight"] == 0)


def test_function_environment(start_gateway, monkeypatch):
    monkeypatch.setenv("LAB_MINE", "developer")
    gw = start_gateway(root=FIXTURES, env={"LAB_EXTRA": "extra", "LAB_OVERRIDDEN": "extra",
                                           "LAB_MINE": "extra"})
    names = ["ECO2_ENV", "DATABASE_URL", "REDIS_URL", "PYTHONPATH", "LAB_FROM_YAML",
             "LAB_OVERRIDDEN", "LAB_EXTRA", "LAB_MINE"]
    env = gw.get(f"/api/v1/lab/env?names={','.join(names)}").json()

    assert env["ECO2_ENV"] == "dev"
    assert (env["DATABASE_URL"], env["REDIS_URL"]) == (DATABASE_URL, REDIS_URL)
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(ROOT / "platform")
    # function.yaml, then the gateway's extras, then the developer's own
    assert env["LAB_FROM_YAML"] == "yaml"
    assert env["LAB_OVERRIDDEN"] == env["LAB_EXTRA"] == "extra"
    assert env["LAB_MINE"] == "developer"

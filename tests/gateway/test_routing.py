"""Routes as in the cluster (by host, by path prefix), problems for the rest, the status page."""

from __future__ import annotations

from datetime import datetime

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(30)]

PROBLEM_FIELDS = {"type", "title", "status", "detail"}


def assert_problem(reply, status: int) -> dict:
    assert reply.status == status
    assert reply.headers["Content-Type"].startswith("application/problem+json")
    problem = reply.json()
    assert PROBLEM_FIELDS <= problem.keys()
    assert problem["status"] == status
    return problem


def test_routes_by_host_and_by_prefix(start_gateway):
    gw = start_gateway()

    by_host = gw.get("/healthz", headers={"Host": "info.localhost"})
    assert by_host.status == 200
    assert by_host.json()["function"] == "info"
    with_port = gw.get("/readyz", headers={"Host": f"character.localhost:{gw.port}"})
    assert with_port.status == 200
    assert with_port.json()["function"] == "character"

    by_prefix = gw.get("/api/v1/info/openapi.json")
    assert by_prefix.status == 200
    assert by_prefix.json()["info"]["title"] == "eco2 info"

    states = {f["name"]: f["state"] for f in gw.status()["functions"]}
    assert states.pop("info") == states.pop("character") == "warm"
    assert set(states.values()) == {"cold"}  # routing started nothing else


def test_unknown_routes_are_404_problems(start_gateway):
    gw = start_gateway()
    for path, headers in [
        ("/healthz", {}),  # a function's own path, but no function host
        ("/api/v1/nowhere/x", {}),
        ("/api/v1/infox/openapi.json", {}),  # a prefix only at a segment boundary
        ("/healthz", {"Host": "nosuch.localhost"}),
        ("/_eco2/nothing", {}),
    ]:
        problem = assert_problem(gw.get(path, headers=headers), 404)
        assert problem["type"] == "urn:eco2:problem:no-route"
    assert all(f["state"] == "cold" for f in gw.status()["functions"])


def test_status_after_a_request(start_gateway):
    gw = start_gateway()
    before = gw.function("info")
    assert before["state"] == "cold"
    assert (before["pid"], before["port"], before["starts"]) == (None, None, 0)

    assert gw.get("/api/v1/info/openapi.json").status == 200

    status = gw.status()
    assert status["database"] == status["redis"] == "external"
    info = next(f for f in status["functions"] if f["name"] == "info")
    assert info["state"] == "warm"
    assert info["prefix"] == "/api/v1/info"
    assert isinstance(info["pid"], int) and isinstance(info["port"], int)
    assert info["cold_start_ms"] > 0
    assert (info["starts"], info["requests"], info["in_flight"]) == (1, 1, 0)
    assert datetime.fromisoformat(info["last_request_at"]).tzinfo is not None

    page = gw.get("/_eco2/")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    text = page.body.decode()
    assert "<table>" in text and "info" in text and "warm" in text and str(info["pid"]) in text

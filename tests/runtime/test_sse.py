"""Server-sent events through functions-framework: the fixture in fixtures/stream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eco2.testing import Client

FIXTURE = Path(__file__).parent / "fixtures" / "stream" / "main.py"
URL = "/api/v1/stream/count"
STREAM = {"Accept": "text/event-stream"}


@pytest.fixture(scope="module")
def client() -> Client:
    return Client(FIXTURE, env={"ECO2_ENV": "test"})


def events(body: bytes) -> list[tuple[str, dict]]:
    """Parse an event stream strictly: every block is exactly one event and one data line."""
    text = body.decode()
    assert text.endswith("\n\n")
    parsed = []
    for block in text[:-2].split("\n\n"):
        name, data = block.split("\n")
        assert name.startswith("event: ") and data.startswith("data: ")
        parsed.append((name[7:], json.loads(data[6:])))
    return parsed


def test_stream_when_asked(client: Client) -> None:
    result = client.post(URL, json={"upto": 3}, headers=STREAM)
    assert result.status == 200
    assert result.content_type.startswith("text/event-stream")
    assert result.headers.getlist("Cache-Control") == ["no-store"]  # once
    assert events(result.body) == [
        ("number", {"n": 0}), ("number", {"n": 1}), ("number", {"n": 2}), ("done", {"total": 3}),
    ]


def test_json_otherwise(client: Client) -> None:
    for accept in (
        None, "*/*", "text/*", "application/json", "application/json, text/plain, */*",
        "application/json, text/event-stream;q=0.5",
    ):
        result = client.post(URL, json={"upto": 2}, headers={"Accept": accept} if accept else {})
        assert (result.status, result.json) == (201, {"total": 2}), accept


def test_stream_when_named_at_least_as_high_as_json(client: Client) -> None:
    for accept in ("text/event-stream, application/json", "application/json;q=0.5, text/event-stream"):
        result = client.post(URL, json={"upto": 1}, headers={"Accept": accept})
        assert result.content_type.startswith("text/event-stream"), accept


def test_bad_input_is_a_problem_not_a_stream(client: Client) -> None:
    result = client.post(URL, json={"upto": 99}, headers=STREAM)
    assert result.status == 422
    assert result.content_type == "application/problem+json"


def test_failure_mid_stream_ends_with_an_error_event_without_detail(client: Client) -> None:
    result = client.post(URL, json={"upto": 5, "fail_at": 2}, headers=STREAM)
    got = events(result.body)
    assert [name for name, _ in got] == ["number", "number", "error"]
    error = got[-1][1]
    assert error["status"] == 500 and error["type"] == "urn:eco2:problem:internal"
    assert "secret" not in result.body.decode()


def test_problem_mid_stream_keeps_its_status(client: Client) -> None:
    got = events(client.post(URL, json={"upto": 5, "problem_at": 1}, headers=STREAM).body)
    assert got[-1] == ("error", {
        "type": "urn:eco2:problem:unavailable", "title": "Service Unavailable", "status": 503,
        "detail": "Upstream is busy.", "instance": URL,
        "success": False, "error": {"code": "UNAVAILABLE", "message": "Upstream is busy."},
    })

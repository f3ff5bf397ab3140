"""Graceful scale-down of a bare function process (python -m eco2.serve, as the image runs it).

Knative sends SIGTERM when it scales a pod away. Requests in flight must
finish within the grace period (function.yaml's terminationGracePeriodSeconds,
given to gunicorn as ECO2_GRACEFUL_TIMEOUT_SECONDS) and new connections must
be refused, not half-served. The dev gateway's half (stopping a function
with a request in flight) is tests/gateway/test_graceful.py.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from eco2_tools import serve as launch

from ..support import refused
from .support import free_port, get, start, wait_http

FIXTURE = Path(__file__).parent / "fixtures" / "slow" / "main.py"
PLATFORM = Path(__file__).resolve().parents[2] / "platform"


def serve(tmp_path: Path, grace: str) -> tuple[object, int, Path]:
    port = free_port()
    argv, variables = launch.command(FIXTURE, port)  # as the image and eco2 dev run it
    env = {
        **os.environ,
        **variables,
        "PYTHONPATH": str(PLATFORM),
        "THREADS": "4",
        "ECO2_GRACEFUL_TIMEOUT_SECONDS": grace,
        "SLOW_STARTED": str(tmp_path / "started"),
    }
    log = tmp_path / "server.log"
    process = start(argv, env, tmp_path, log)
    wait_http(f"http://127.0.0.1:{port}/", process, log)
    return process, port, log


def slow_request(port: int, seconds: float, result: dict) -> None:
    try:
        result["answer"] = get(f"http://127.0.0.1:{port}/slow?seconds={seconds}")
    except Exception as exc:  # noqa: BLE001 - the test inspects what happened
        result["error"] = exc
    result["at"] = time.monotonic()


def wait_started(tmp_path: Path) -> None:
    deadline = time.monotonic() + 10
    while not (tmp_path / "started").exists():
        assert time.monotonic() < deadline, "the slow request never reached the function"
        time.sleep(0.02)


def test_sigterm_lets_the_request_in_flight_finish_and_refuses_new_ones(tmp_path: Path) -> None:
    process, port, log = serve(tmp_path, grace="20")
    result: dict = {}
    thread = threading.Thread(target=slow_request, args=(port, 3, result))
    thread.start()
    wait_started(tmp_path)
    process.send_signal(signal.SIGTERM)
    sigterm_at = time.monotonic()

    # New connections are refused while the old request is still being served.
    deadline = time.monotonic() + 5
    while not refused(port):
        assert time.monotonic() < deadline, "still accepting connections 5 s after SIGTERM"
        time.sleep(0.05)
    assert thread.is_alive(), "the slow request ended before new connections were refused"

    thread.join(30)
    assert result.get("answer") == (200, b"done"), result
    assert result["at"] > sigterm_at
    assert process.wait(30) == 0, log.read_text()


@pytest.mark.parametrize("grace", ["1"])
def test_the_grace_period_bounds_the_wait(tmp_path: Path, grace: str) -> None:
    """A request longer than the grace period is cut off when it ends: the knob is what counts."""
    process, port, log = serve(tmp_path, grace=grace)
    result: dict = {}
    thread = threading.Thread(target=slow_request, args=(port, 15, result))
    thread.start()
    wait_started(tmp_path)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(12)  # gunicorn's default (30 s) would still be waiting
    assert time.monotonic() - started < 12
    thread.join(20)
    assert "error" in result, result  # the connection died with the worker


def test_a_bad_grace_period_stops_the_process_naming_the_variable(tmp_path: Path) -> None:
    argv, variables = launch.command(FIXTURE, free_port())
    env = {**os.environ, **variables, "PYTHONPATH": str(PLATFORM), "ECO2_GRACEFUL_TIMEOUT_SECONDS": "soon"}
    log = tmp_path / "server.log"
    process = start(argv, env, tmp_path, log)
    assert process.wait(30) == 78
    assert "ECO2_GRACEFUL_TIMEOUT_SECONDS must be an integer" in log.read_text()

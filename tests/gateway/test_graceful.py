"""Graceful scale-down in the dev gateway: a function is stopped the way Knative
stops a pod (SIGTERM to ``python -m eco2.serve``, as the image runs it, then
SIGKILL only after the function's graceful timeout), so a request in flight
when the gateway replaces or scales away a process finishes, and a request
that arrives meanwhile is held and answered by the next process."""

from __future__ import annotations

import http.client
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from eco2_tools import serve

from ..support import refused
from .harness import FIXTURES, alive, eventually, function_children, reaped

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def test_functions_run_as_the_image_runs_them(start_gateway):
    gw = start_gateway(root=FIXTURES, stop_grace=None)
    assert gw.get("/api/v1/lab/openapi.json").status == 200
    lab = gw.gateway.functions["lab"]
    argv, env = lab.command(1234)
    assert argv[-2:] == ["-m", "eco2.serve"]
    assert env["FUNCTION_SOURCE"] == str(lab.spec.source) and env["PORT"] == "1234"
    # lab's function.yaml names no grace period: eco2.serve's default, and the
    # gateway waits that long (and a margin) before SIGKILL, as the kubelet would.
    assert "ECO2_GRACEFUL_TIMEOUT_SECONDS" not in env
    assert lab.stop_grace == serve.kill_after(None) > 30
    assert function_children("/lab/") == [gw.function("lab")["pid"]]


def _in_flight(port: int, gate) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """lab's stream, its first event read: in flight until ``gate`` exists."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", f"/api/v1/lab/stream?gate={gate}")
    response = conn.getresponse()
    assert response.status == 200
    assert response.readline() == b"data: first\n"
    return conn, response


def test_a_request_in_flight_finishes_when_the_gateway_stops_its_process(start_gateway, tmp_path):
    gw = start_gateway(root=FIXTURES, stop_grace=None)
    gate = tmp_path / "gate"
    conn, response = _in_flight(gw.port, gate)
    with ThreadPoolExecutor(2) as pool:
        try:
            old = gw.function("lab")
            fn = gw.gateway.functions["lab"]

            # What the watcher does on a code change (and the reaper, minus the
            # in-flight check, when a function idles): stop the process, start anew.
            restarting = pool.submit(gw.call, gw.gateway._restart(fn), 45)
            eventually(lambda: gw.function("lab")["state"] == "stopping")
            # SIGTERM has closed the old process's listener at once (eco2.serve)...
            eventually(lambda: refused(old["port"]), timeout=5)
            assert alive(old["pid"])  # ...while it still serves the request in flight.

            # A request arriving now is held, and answered by the next process.
            later = pool.submit(gw.get, "/api/v1/lab/openapi.json")
            assert not later.done()

            gate.touch()
            assert response.read() == b"\ndata: second\n\n"  # the whole reply
        finally:
            conn.close()
        restarting.result(45)
        assert later.result(45).status == 200

    eventually(lambda: reaped(old["pid"]))
    now = gw.function("lab")
    assert now["state"] == "warm" and now["pid"] != old["pid"] and now["starts"] == 2


def test_a_request_in_flight_finishes_when_the_gateway_itself_stops(start_gateway, tmp_path):
    """Ctrl-C: the gateway stops taking requests, lets those in flight finish
    (as long as the functions' grace period, not a second), then stops the
    functions."""
    gw = start_gateway(root=FIXTURES, stop_grace=None)
    gate = tmp_path / "gate"
    conn, response = _in_flight(gw.port, gate)
    with ThreadPoolExecutor(1) as pool:
        try:
            pid = gw.function("lab")["pid"]
            stopping = pool.submit(gw.stop)
            eventually(lambda: refused(gw.port), timeout=5)  # no new requests...
            time.sleep(3)  # ...and past the second aiohttp gave before
            assert alive(pid) and not stopping.done()
            gate.touch()
            assert response.read() == b"\ndata: second\n\n"  # the whole reply
        finally:
            conn.close()
        stopping.result(45)
    eventually(lambda: reaped(pid))

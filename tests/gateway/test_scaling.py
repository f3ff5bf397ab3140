"""Scale from zero (one process for a burst of first requests), to zero when idle,
failed starts, a function killed mid-request, and a clean stop."""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest

from .harness import FIXTURES, alive, eventually, function_children, group_members, reaped

pytestmark = [pytest.mark.slow, pytest.mark.timeout(30)]


def test_a_burst_of_first_requests_starts_one_process(start_gateway):
    gw = start_gateway()
    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(lambda _: gw.get("/api/v1/info/openapi.json"), range(20)))

    assert [r.status for r in replies] == [200] * 20
    info = gw.function("info")
    assert (info["state"], info["starts"], info["requests"]) == ("warm", 1, 20)
    assert function_children("/functions/info/") == [info["pid"]]


def test_an_idle_function_scales_to_zero(start_gateway):
    gw = start_gateway(idle_seconds=1)
    assert gw.get("/api/v1/info/openapi.json").status == 200
    pid = gw.function("info")["pid"]
    members = group_members(pid)
    assert pid in members and len(members) >= 2  # gunicorn's master and its worker

    eventually(lambda: gw.function("info")["state"] == "cold")
    info = gw.function("info")
    assert (info["pid"], info["port"]) == (None, None)

    eventually(lambda: reaped(pid))  # the stop may still be reaping it
    assert not any(alive(member) for member in members)

    assert gw.get("/api/v1/info/openapi.json").status == 200  # and from zero again
    assert gw.function("info")["starts"] == 2


def test_a_function_killed_mid_request_gives_502_then_cold_starts(start_gateway):
    gw = start_gateway(root=FIXTURES)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(gw.get, "/api/v1/lab/sleep")
        lab = eventually(
            lambda: (f := gw.function("lab"))["state"] == "warm" and f["in_flight"] == 1 and f
        )
        os.killpg(lab["pid"], signal.SIGKILL)
        reply = pending.result(timeout=30)

    assert reply.status in (502, 503)
    assert reply.headers["Content-Type"].startswith("application/problem+json")
    assert reply.json()["status"] == reply.status

    assert gw.get("/api/v1/lab/openapi.json").status == 200
    lab_now = gw.function("lab")
    assert lab_now["starts"] == 2
    assert lab_now["pid"] != lab["pid"]


def test_a_function_that_exits_while_starting_gives_502_with_its_code(start_gateway):
    gw = start_gateway(root=FIXTURES)
    reply = gw.get("/api/v1/broken/openapi.json")
    assert reply.status == 502
    assert reply.headers["Content-Type"].startswith("application/problem+json")
    assert "code 3" in reply.json()["detail"]
    broken = gw.function("broken")
    assert (broken["state"], broken["pid"], broken["starts"]) == ("cold", None, 1)


def test_a_start_that_takes_too_long_gives_503_and_leaves_no_process(start_gateway):
    gw = start_gateway(root=FIXTURES, ready_timeout=2)
    with ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(lambda _: gw.get("/api/v1/stuck/openapi.json"), range(3)))

    for reply in replies:
        assert reply.status == 503
        assert reply.headers["Content-Type"].startswith("application/problem+json")
        assert int(reply.headers["Retry-After"]) > 0
    stuck = gw.function("stuck")
    assert (stuck["state"], stuck["pid"], stuck["starts"]) == ("cold", None, 1)
    assert function_children("/stuck/") == []


def test_stop_leaves_no_process_behind(start_gateway):
    gw = start_gateway()
    for name in ("info", "character", "scan"):
        assert gw.get(f"/api/v1/{name}/openapi.json").status == 200
    pids = [f["pid"] for f in gw.status()["functions"] if f["pid"]]
    members = [m for pid in pids for m in group_members(pid)]
    assert len(pids) == 3 and len(members) >= 6

    gw.stop()

    assert not any(alive(m) for m in members)
    assert function_children() == []


def test_stop_during_a_cold_start_leaves_no_process_behind(start_gateway):
    gw = start_gateway(root=FIXTURES)
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(gw.get, "/api/v1/stuck/openapi.json")
        stuck = eventually(lambda: (f := gw.function("stuck"))["state"] == "starting" and f)
        assert alive(stuck["pid"])

        gw.stop()

        with pytest.raises(OSError):  # the held request is cut off with the gateway
            held.result(timeout=30)
    assert not alive(stuck["pid"])
    assert function_children() == []

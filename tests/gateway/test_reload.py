"""A code change restarts the running functions it concerns, and new code answers."""

from __future__ import annotations

import time

import pytest

from .harness import alive, eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(30)]

NEW_ROUTE = '''

@fn.get("/reloaded")
def reloaded(call):
    return {"reloaded": True}


handle = fn.build()
'''


def restarted(gw, name: str, old_pid: int) -> bool:
    f = gw.function(name)
    return f["state"] == "warm" and f["pid"] not in (None, old_pid)


def edit_until(edit, done, timeout: float = 20) -> None:
    """Edit, and again until ``done``: the watcher may not be watching yet at first."""
    def attempt() -> bool:
        edit()
        try:
            eventually(done, timeout=2)
        except AssertionError:
            return False
        return True

    eventually(attempt, timeout=timeout, interval=0)


def settled(gw, name: str, quiet: float = 1.5, timeout: float = 15) -> dict:
    """The function's status once its pid and start count stayed the same for ``quiet`` s."""
    deadline = time.monotonic() + timeout
    before = gw.function(name)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = gw.function(name)
        if now["state"] == "warm" and (now["pid"], now["starts"]) == (before["pid"], before["starts"]):
            return now
        before = now
    raise AssertionError(f"{name} kept restarting: {before}")


def test_a_change_in_a_function_restarts_it(start_gateway, tmp_root):
    gw = start_gateway(root=tmp_root, platform=tmp_root / "platform", watch=True)
    assert gw.get("/api/v1/info/openapi.json").status == 200
    assert gw.get("/api/v1/info/reloaded").status == 404
    old_pid = gw.function("info")["pid"]

    main = tmp_root / "functions" / "info" / "main.py"
    source = main.read_text().replace("handle = fn.build()", "")
    edit_until(lambda: main.write_text(source + NEW_ROUTE), lambda: restarted(gw, "info", old_pid))

    assert gw.get("/api/v1/info/reloaded").json() == {"reloaded": True}
    assert not alive(old_pid)
    assert gw.function("character")["state"] == "cold"  # not running: nothing to restart


def test_a_change_in_the_runtime_restarts_every_running_function(start_gateway, tmp_root):
    platform = tmp_root / "platform"
    gw = start_gateway(root=tmp_root, platform=platform, watch=True)
    for path in ("/api/v1/info/openapi.json", "/api/v1/character/openapi.json"):
        assert gw.get(path).status == 200
    old = {name: gw.function(name)["pid"] for name in ("info", "character")}

    module = platform / "eco2" / "problems.py"
    original = module.read_text()
    edit_until(
        lambda: module.write_text(original + "\n# touched\n"),
        lambda: all(restarted(gw, name, pid) for name, pid in old.items()),
    )

    assert gw.get("/api/v1/character/openapi.json").status == 200
    assert gw.function("my")["state"] == "cold"
    assert not any(alive(pid) for pid in old.values())


def test_pycache_changes_are_ignored(start_gateway, tmp_root):
    gw = start_gateway(root=tmp_root, platform=tmp_root / "platform", watch=True)
    assert gw.get("/api/v1/info/openapi.json").status == 200
    main = tmp_root / "functions" / "info" / "main.py"
    text = main.read_text()
    pid = gw.function("info")["pid"]
    edit_until(lambda: main.write_text(text + "\n"), lambda: restarted(gw, "info", pid))
    # edit_until may have written twice (a slow first restart on a loaded machine),
    # so wait until the restarts it caused are over before taking the reference.
    watched = settled(gw, "info")

    cache = tmp_root / "functions" / "info" / "__pycache__"
    cache.mkdir(exist_ok=True)
    for i in range(5):
        (cache / f"main.cpython-311.{i}.pyc").write_bytes(b"x")
    time.sleep(1)  # well past watchfiles' 50 ms of quiet before it reports a change

    now = gw.function("info")
    assert (now["pid"], now["starts"]) == (watched["pid"], watched["starts"])

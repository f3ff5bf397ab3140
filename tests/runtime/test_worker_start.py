"""Function.on_worker_start: callbacks run when the serving worker starts (eco2.serve), not at import."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from eco2 import app
from eco2.app import Function
from eco2_tools import serve as launch

from ..knative.support import free_port, start, wait_http

FIXTURE = Path(__file__).parent / "fixtures" / "worker" / "main.py"
PLATFORM = Path(__file__).resolve().parents[2] / "platform"


def test_callbacks_run_when_the_worker_starts_not_before() -> None:
    calls: list[str] = []
    fn = Function("hooks", "/api/v1/hooks")
    before = list(app._WORKER_START)  # noqa: SLF001
    try:
        fn.on_worker_start(lambda: calls.append("started"))
        fn.build()
        assert calls == []  # importing main.py (gunicorn's master) runs nothing
        app.worker_started()  # what eco2.serve's worker does after the fork
        assert calls == ["started"]
    finally:
        app._WORKER_START[:] = before  # noqa: SLF001


def test_eco2_serve_calls_them_once_in_the_forked_worker(tmp_path: Path) -> None:
    """Served as the image serves it: main.py is imported in gunicorn's master,
    the callback runs once, in the worker (another process)."""
    port = free_port()
    argv, variables = launch.command(FIXTURE, port)
    marker = tmp_path / "started"
    env = {**os.environ, **variables, "PYTHONPATH": str(PLATFORM), "WORKER_STARTED": str(marker)}
    log = tmp_path / "server.log"
    process = start(argv, env, tmp_path, log)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", process, log)
        [line] = marker.read_text().splitlines()
        imported_in, ran_in = map(int, line.split())
        assert imported_in == process.pid and ran_in != process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)

"""Starting and stopping a function's process, as production does: one place
for the dev gateway, the benchmarks and the tests that need a real server.

A function runs as ``python -m functions_framework --target handle --source
functions/<name>/main.py`` (a gunicorn master and its worker), in a process
group of its own (``start_new_session=True``), so that a stop reaches the
worker too and Ctrl-C in a terminal reaches only the parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL


def command(source: Path | str, port: int, *, target: str = "handle", host: str | None = "127.0.0.1",
            python: str = sys.executable, python_flags: tuple[str, ...] = ()) -> list[str]:
    """The functions-framework command line serving ``target`` of ``source`` on ``port``."""
    argv = [python, *python_flags, "-m", "functions_framework", "--target", target, "--source", str(source)]
    if host is not None:
        argv += ["--host", host]
    return argv + ["--port", str(port)]


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Signal a whole process group; a group that is already gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def stop(proc: subprocess.Popen, grace: float = STOP_GRACE) -> None:
    """Stop ``proc``'s process group: SIGTERM, SIGKILL after ``grace`` seconds,
    and SIGKILL once more for anything left (a worker must not outlive its
    master; gunicorn reaps its worker on SIGTERM, not when killed)."""
    if proc.poll() is None:
        signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
    signal_group(proc.pid, signal.SIGKILL)


async def stop_async(proc: asyncio.subprocess.Process, grace: float = STOP_GRACE) -> None:
    """:func:`stop` for a process started with asyncio."""
    if proc.returncode is None:
        signal_group(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            signal_group(proc.pid, signal.SIGKILL)
            await proc.wait()
    signal_group(proc.pid, signal.SIGKILL)

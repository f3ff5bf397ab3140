"""Starting and stopping a function's process exactly as its image does: one
place for the dev gateway, the benchmarks and the tests that need a real server.

The image runs ``python -m eco2.serve`` (functions-framework's gunicorn with a
graceful timeout and a listener that closes on SIGTERM), configured by
environment variables: ``FUNCTION_SOURCE`` and ``FUNCTION_TARGET`` (the
Containerfile's), ``PORT`` (Knative's), ``ECO2_GRACEFUL_TIMEOUT_SECONDS``
(rendered from function.yaml's ``terminationGracePeriodSeconds``), and
``WORKERS``/``THREADS`` from function.yaml's env. :func:`command` gives the
same command and variables for a local port. The process runs in a process
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

MODULE = "eco2.serve"  # what the image's CMD runs (eco2_tools.build writes it)
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL when the caller names none
KILL_MARGIN = 2.0  # past the function's own graceful timeout, as the kubelet's grace period is


def command(
    source: Path | str,
    port: int,
    *,
    target: str = "handle",
    host: str | None = "127.0.0.1",
    graceful_timeout: int | None = None,
    python: str = sys.executable,
    python_flags: tuple[str, ...] = (),
) -> tuple[list[str], dict[str, str]]:
    """The command line and the variables (to add to the environment) that serve
    ``target`` of ``source`` on ``port`` as the image does.

    ``graceful_timeout``: seconds requests in flight get after SIGTERM (None:
    eco2.serve's default, gunicorn's 30 s). ``host`` None: eco2.serve's default.
    """
    env = {"FUNCTION_SOURCE": str(source), "FUNCTION_TARGET": target, "PORT": str(port)}
    if host is not None:
        env["HOST"] = host
    if graceful_timeout is not None:
        env["ECO2_GRACEFUL_TIMEOUT_SECONDS"] = str(graceful_timeout)
    return [python, *python_flags, "-m", MODULE], env


def kill_after(graceful_timeout: int | None) -> float:
    """How long a stop waits after SIGTERM before SIGKILL: the function's own
    graceful timeout (eco2.serve's default when it has none) and a margin."""
    from eco2.serve import DEFAULT_GRACEFUL_TIMEOUT

    return float(graceful_timeout or DEFAULT_GRACEFUL_TIMEOUT) + KILL_MARGIN


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

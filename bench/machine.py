"""The machine a run measures on: its description, and pinning to CPUs."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any


def cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def pin(pid: int, cpu: int | None) -> None:
    """Pin a process (its later children inherit it) to one CPU, as a pod's
    ``limits.cpu: 1`` bounds it to one CPU's worth of time."""
    if cpu is None:
        return
    with contextlib.suppress(OSError):
        os.sched_setaffinity(pid, {cpu})


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem_gib = round(kb / 1024 / 1024, 1)
    load = None
    with contextlib.suppress(OSError):
        load = [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    import platform

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": load,
    }

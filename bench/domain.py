"""The domain benchmarks that other parts of eco2 ship (location at a million
sites, search precision@1): ``bench/<name>.py``, run when present.

Contract for such a script (docs/bench.md): it runs as ``python -m bench.<name>``
from the repository root, finishes within ``ECO2_BENCH_TIMEOUT`` seconds, and
writes its figures as one JSON object to the file named by ``ECO2_BENCH_JSON``
(or prints it as the last line of its output). It may use the PostgreSQL at
``ECO2_BENCH_DATABASE_URL`` (a maintenance database: create your own) and the
Redis at ``REDIS_URL``; the environment also carries a function's settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from typing import Any

from bench import PY, ROOT
from bench.stats import log

SCRIPTS = ("info_search", "location", "scan", "chat", "contexts")


def run(env: dict[str, str], database_url: str, timeout: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in SCRIPTS:
        if not (ROOT / "bench" / f"{name}.py").exists():
            results[name] = {"status": "absent"}
            continue
        log(f"domain: bench/{name}.py (at most {timeout:g} s)")
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "result.json")
            started = time.perf_counter()
            try:
                done = subprocess.run(
                    [PY, "-m", f"bench.{name}"], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                    env={**env, "ECO2_BENCH_JSON": out, "ECO2_BENCH_DATABASE_URL": database_url,
                         "ECO2_BENCH_TIMEOUT": str(int(timeout))},
                )
            except subprocess.TimeoutExpired:
                results[name] = {"status": "timed out", "seconds": timeout}
                continue
            entry: dict[str, Any] = {"status": "ok" if done.returncode == 0 else f"exit {done.returncode}",
                                     "seconds": round(time.perf_counter() - started, 1)}
            figures = None
            if os.path.exists(out):
                try:
                    with open(out) as f:
                        figures = json.load(f)
                except ValueError:
                    figures = None
            if figures is None:
                lines = [line for line in done.stdout.splitlines() if line.strip()]
                try:
                    figures = json.loads(lines[-1]) if lines else None
                except ValueError:
                    figures = None
            if figures is None:
                entry["output"] = (done.stdout.strip() or done.stderr.strip())[-2500:]
            else:
                entry["figures"] = figures
            if done.returncode:
                entry["stderr"] = done.stderr[-1500:]
            results[name] = entry
    return results

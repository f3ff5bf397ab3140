"""The dev gateway in a process of its own, and what it costs per request.

``python -m bench.gateway PORT_FILE`` serves a :class:`eco2_tools.dev.Gateway`
for this repository on a free port (written to PORT_FILE), with DATABASE_URL,
REDIS_URL and the functions' settings taken from its environment, until SIGTERM.

:func:`overhead` measures one route through the gateway and directly on the
very process the gateway started, in interleaved rounds, at one connection
(the added latency per request) and at the bench's concurrency (req/s).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from bench import client
from bench import PY, ROOT
from bench.server import request
from eco2_tools import serve
from bench.stats import log, median, ratio


async def _serve(port_file: Path) -> None:
    from eco2_tools.dev import Gateway

    gateway = Gateway(ROOT, os.environ["DATABASE_URL"], os.environ["REDIS_URL"],
                      idle_seconds=3600, watch=False)
    await gateway.start(0)
    port_file.write_text(str(gateway.port))
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    await gateway.stop()


@contextlib.contextmanager
def running(env: dict[str, str], output: Path | None = None) -> Iterator[int]:
    """A gateway process with ``env``; yields its port, stops it (and its functions) after."""
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        out = open(output, "ab") if output else subprocess.DEVNULL  # noqa: SIM115
        proc = subprocess.Popen([PY, "-m", "bench.gateway", str(port_file)], env=env, cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the gateway did not start ({proc.poll()})")
                time.sleep(0.02)
            yield int(port_file.read_text())
        finally:
            # The gateway stops its functions (process groups of their own) on SIGTERM.
            serve.stop(proc, grace=20)
            if output:
                out.close()  # type: ignore[union-attr]


def overhead(env: dict[str, str], function: str, path: str, *, rounds: int, seconds: float,
             connections: int, logdir: Path) -> dict[str, Any]:
    with running(env, logdir / "gateway.log") as port:
        status, body = request(port, "GET", path)  # the cold start
        if status != 200:
            raise RuntimeError(f"through the gateway {path}: {status} {body[:200]!r}")
        _, raw = request(port, "GET", "/_eco2/status")
        direct = next(f for f in json.loads(raw)["functions"] if f["name"] == function)["port"]
        samples: dict[str, list[dict[str, Any]]] = {}
        lines = [f"GET\t{path}\t\t"]
        for conns in (1, connections):  # warm both paths
            client.run("cycle", port, lines, conns, 1)
            client.run("cycle", direct, lines, conns, 1)
        for _ in range(rounds):
            for conns in (1, connections):
                for name, target in (("direct", direct), ("gateway", port)):
                    samples.setdefault(f"{name}@{conns}", []).append(client.run("cycle", target, lines, conns, seconds))
    out: dict[str, Any] = {"route": f"GET {path}", "function": function}
    for key, runs in samples.items():
        out[key] = {
            "rps": round(median([r["rps"] for r in runs]) or 0, 1),
            "p50_ms": round(median([r["p50_ms"] for r in runs]) or 0, 3),
            "p99_ms": round(median([r["p99_ms"] for r in runs]) or 0, 3),
            "non2xx": sum(r["non2xx"] for r in runs),
        }
    out["added_ms_per_request"] = round(out["gateway@1"]["p50_ms"] - out["direct@1"]["p50_ms"], 3)
    out["rps_ratio_c1"] = ratio(out["gateway@1"]["rps"], out["direct@1"]["rps"])
    out[f"rps_ratio_c{connections}"] = ratio(out[f"gateway@{connections}"]["rps"], out[f"direct@{connections}"]["rps"])
    log(f"gateway: +{out['added_ms_per_request']} ms per request at c=1")
    return out


if __name__ == "__main__":
    asyncio.run(_serve(Path(sys.argv[1])))

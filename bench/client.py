"""The load generator: `wrk` (Debian's package) when it is installed, else a
small asyncio HTTP/1.1 client in a separate process. Both run a fixed number of
keep-alive connections for a fixed time and report the same JSON:

    {"requests", "duration_us", "p50_us", "p90_us", "p99_us", "max_us",
     "non2xx", "s5xx", "socket_errors"}

Two kinds of plan: ``cycle`` (a file of requests, one per line: METHOD, PATH,
bearer token, JSON body, tab-separated, sent in turn) and ``refresh`` (each
connection rotates its own refresh token, as the app does).

Run as a module it is the asyncio client:
``python -m bench.client cycle PLAN PORT CONNECTIONS SECONDS`` or
``python -m bench.client refresh TOKENS PORT CONNECTIONS SECONDS PATH``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WRK_DIR = Path(__file__).resolve().parent / "wrk"


def tool() -> str:
    return "wrk" if shutil.which("wrk") and not os.environ.get("ECO2_BENCH_PYCLIENT") else "asyncio"


def run(kind: str, port: int, lines: list[str], connections: int, seconds: float,
        path: str = "", cpu: int | None = None) -> dict[str, Any]:
    """Drive 127.0.0.1:``port`` and return the figures (plus ``rps``, ``p50_ms``, ``p99_ms``)."""
    with tempfile.NamedTemporaryFile("w", suffix=".plan", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        plan = f.name
    try:
        if tool() == "wrk":
            script = WRK_DIR / ("cycle.lua" if kind == "cycle" else "refresh.lua")
            argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                    "-s", str(script), f"http://127.0.0.1:{port}", "--", plan]
            if kind == "refresh":
                argv += ["1", path]
        else:
            argv = [sys.executable, "-m", "bench.client", kind, plan, str(port), str(connections), str(seconds)]
            if kind == "refresh":
                argv.append(path)
        preexec = None
        if cpu is not None:
            def preexec() -> None:  # noqa: E306 - a separate process, before exec
                os.sched_setaffinity(0, {cpu})
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60,
                              cwd=Path(__file__).resolve().parents[1], preexec_fn=preexec)
        found = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode or not found:
            raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")
        figures = json.loads(found[-1])
    finally:
        os.unlink(plan)
    seconds_run = figures["duration_us"] / 1e6 or seconds
    figures["rps"] = round(figures["requests"] / seconds_run, 1)
    figures["p50_ms"] = round(figures["p50_us"] / 1000, 2)
    figures["p99_ms"] = round(figures["p99_us"] / 1000, 2)
    figures["client"] = tool()
    return figures


# -- the asyncio client ---------------------------------------------------------------


def _encode(method: str, path: str, token: str, body: str, forwarded_for: str = "") -> bytes:
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if forwarded_for:
        head.append(f"X-Forwarded-For: {forwarded_for}")
    if token:
        head.append(f"Authorization: Bearer {token}")
    data = body.encode()
    if data:
        head.append("Content-Type: application/json")
    head.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length, chunked, close = 0, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            close = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
    else:
        body = await reader.readexactly(length)
    return status, body, close


async def _drive(kind: str, plan: list[str], port: int, connections: int, seconds: float,
                 path: str) -> dict[str, Any]:
    latencies: list[float] = []
    counts = {"non2xx": 0, "s5xx": 0, "socket_errors": 0}
    started = time.perf_counter()
    deadline = started + seconds
    requests = [_encode(*(line.split("\t") + ["", "", ""])[:4]) for line in plan] if kind == "cycle" else []

    async def connection(index: int) -> None:
        token = plan[index] if kind == "refresh" and index < len(plan) else "starved"
        at = index * 7
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                if kind == "cycle":
                    at = (at + 1) % len(requests)
                    data = requests[at]
                else:
                    address = f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"
                    data = _encode("POST", path, "", json.dumps({"refresh_token": token}), address)
                sent = time.perf_counter()
                writer.write(data)
                try:
                    status, body, close = await _response(reader)
                except (ConnectionError, asyncio.IncompleteReadError, ValueError):
                    counts["socket_errors"] += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                latencies.append(time.perf_counter() - sent)
                if status >= 300:
                    counts["non2xx"] += 1
                if status >= 500:
                    counts["s5xx"] += 1
                if kind == "refresh" and status == 200:
                    token = json.loads(body)["refresh_token"]
                if close:
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    await asyncio.gather(*(connection(i) for i in range(connections)))
    elapsed = time.perf_counter() - started
    from bench.stats import percentile

    us = [x * 1e6 for x in latencies]
    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "p50_us": int(percentile(us, 50) or 0),
        "p90_us": int(percentile(us, 90) or 0),
        "p99_us": int(percentile(us, 99) or 0),
        "max_us": int(max(us, default=0)),
        **counts,
    }


def main(argv: list[str]) -> None:
    kind, plan_file, port, connections, seconds = argv[:5]
    path = argv[5] if len(argv) > 5 else ""
    plan = [line for line in Path(plan_file).read_text().splitlines() if line]
    figures = asyncio.run(_drive(kind, plan, int(port), int(connections), float(seconds), path))
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1:])

"""The floor under a database route: what its libraries cost before eco2 does anything.

Two measurements, each next to a baseline from this same run:

- **imports**, in the order a cold authenticated database route loads them, in
  fresh interpreters that have already imported functions-framework and the
  eco2 runtime (so shared modules such as asyncio count once), against
  functions-framework's own import: a cold start cannot be shorter than
  hello's plus these. Beside them, pydantic's import and its first model,
  marginal to functions-framework's (the runtime imports pydantic): not part
  of the issue's floor, but every eco2 function validates with it;
- **CPU per call**, single-threaded, of the two round trips every
  authenticated read makes (redis-py's MGET of the denylist keys, and a
  one-statement read through psycopg_pool), against the same round trip on a
  bare socket: what a warm request pays on top of hello's.

    python -m bench.floor   (with DATABASE_URL and REDIS_URL of running servers)
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from typing import Any, Callable
from urllib.parse import urlsplit

from bench import coldstart
from bench import PY, ROOT
from bench.stats import median

# The same statements as the cold-start table's import costs, timed here after the runtime.
IMPORTS = {name: coldstart.IMPORTS[name] for name in ("psycopg + psycopg_pool", "redis", "PyJWT + cryptography EC")}
# pydantic's first model pays its schema machinery's lazy imports (a model is built at class creation).
PYDANTIC = "from pydantic import BaseModel\nclass First(BaseModel):\n    id: int\nFirst(id=1)"
_TIMER = """
import sys, time, json
t = time.perf_counter(); import functions_framework; base = time.perf_counter() - t
t = time.perf_counter(); exec(sys.argv[2]); pydantic = time.perf_counter() - t
import eco2.app
out = {"functions_framework": base, "pydantic": pydantic}
for name, stmt in json.loads(sys.argv[1]).items():
    t = time.perf_counter(); exec(stmt); out[name] = time.perf_counter() - t
print(json.dumps(out))
"""


def imports(rounds: int = 5) -> dict[str, Any]:
    """Median seconds of each import, marginal in this order, over fresh interpreters."""
    runs = []
    for _ in range(rounds + 1):  # the first writes any missing .pyc
        done = subprocess.run([PY, "-c", _TIMER, json.dumps(IMPORTS), PYDANTIC], capture_output=True, text=True,
                              cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "platform")})
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    runs = runs[1:]
    base = median([r["functions_framework"] for r in runs]) or 0.0
    figures = {name: round((median([r[name] for r in runs]) or 0) * 1000, 1) for name in IMPORTS}
    return {"functions_framework_ms": round(base * 1000, 1), "marginal_ms": figures,
            "sum_ms": round(sum(figures.values()), 1),
            "pydantic_ms": round((median([r["pydantic"] for r in runs]) or 0) * 1000, 1)}


def _cpu_per_call(call: Callable[[], Any], n: int) -> float:
    call()
    started = time.process_time()
    for _ in range(n):
        call()
    return (time.process_time() - started) / n * 1e6


def round_trips(database_url: str, redis_url: str, n: int = 3000) -> dict[str, float]:
    """CPU µs per call of the round trips of an authenticated read, and of the same on a bare socket."""
    import redis
    from psycopg_pool import ConnectionPool

    client = redis.Redis.from_url(redis_url)
    keys = ["eco2:bench:floor:a", "eco2:bench:floor:b"]
    where = urlsplit(redis_url)
    with socket.create_connection((where.hostname or "127.0.0.1", where.port or 6379)) as raw:
        packed = client.connection_pool.get_connection().pack_command("MGET", *keys)

        def bare() -> None:
            raw.sendall(b"".join(packed))
            raw.recv(65536)

        bare_us = _cpu_per_call(bare, n)
    mget_us = _cpu_per_call(lambda: client.mget(keys), n)
    client.close()
    with ConnectionPool(database_url, min_size=1, max_size=1, open=True,
                        kwargs={"autocommit": True, "prepare_threshold": None}) as pool:
        def read() -> None:
            with pool.connection() as conn:
                conn.execute("SELECT 1").fetchone()

        read_us = _cpu_per_call(read, n)
    return {"bare_socket_mget_us": round(bare_us, 1), "redis_py_mget_us": round(mget_us, 1),
            "psycopg_pool_read_us": round(read_us, 1)}


def run(database_url: str, redis_url: str) -> dict[str, Any]:
    return {"imports": imports(), "round_trips": round_trips(database_url, redis_url)}


if __name__ == "__main__":
    print(json.dumps(run(os.environ["DATABASE_URL"], os.environ["REDIS_URL"]), indent=2))

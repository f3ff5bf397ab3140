"""Cold start: from spawning a function's server to its first 200 on a real route.

Each function and the hello-world baseline are started the same way
(``python -m eco2.serve`` with ``FUNCTION_SOURCE`` and ``FUNCTION_TARGET``, as the
image runs them; same environment, same CPU), in turn, for several rounds after one discarded
warm-up round (which compiles the .pyc files a fresh clone lacks). The
breakdown of each start:

- interpreter: ``python -c pass`` with the same environment, spawn to exit;
- imports: spawn to the start-up line, less init and the interpreter;
- init: the start-up line's ``init_ms`` (``Function()`` to ``build()``);
- server: what is left before the first request's handler runs (gunicorn's
  master and worker, the connection);
- first request: the handler's own latency for that request (its log line),
  where lazy imports, the token check and the first database connection land.

One more start per function under ``-X importtime`` tells which packages the
import time goes to, at start-up and during the first request.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import time
from typing import Any

from bench import PY
from bench.server import Route, Server
from bench.stats import log, median, ratio
from bench.users import Users


def interpreter_ms(env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([PY, "-c", "pass"], env=env, check=True)
        times.append((time.perf_counter() - started) * 1000)
    return round(median(times) or 0.0, 1)


IMPORTS = {
    "functions_framework (flask, werkzeug, gunicorn)": "import functions_framework",
    "pydantic": "import pydantic",
    "eco2 runtime (eco2.app)": "import eco2.app",
    "psycopg + psycopg_pool": "import psycopg, psycopg_pool",
    "redis": "import redis",
    "PyJWT + cryptography EC": "import jwt; from cryptography.hazmat.primitives.asymmetric import ec",
    "all of the above": "import functions_framework, eco2.app, psycopg, psycopg_pool, redis, jwt; "
                        "from cryptography.hazmat.primitives.asymmetric import ec",
}


def import_costs(env: dict[str, str], runs: int, interpreter: float) -> dict[str, float]:
    """What each library costs to import in a fresh interpreter (beyond the
    interpreter itself): the floor under any start that needs it."""
    costs = {}
    for label, statement in IMPORTS.items():
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([PY, "-c", statement], env=env, check=True)
            times.append((time.perf_counter() - started) * 1000)
        costs[label] = round((median(times) or 0.0) - interpreter, 1)
    return costs


def request_for(route: Route, users: Users) -> tuple[str, str, dict[str, str], bytes | None]:
    if route.kind == "refresh":
        token = users.take_refresh(1)[0]
        return route.method, route.path, {"Content-Type": "application/json"}, json.dumps(
            {"refresh_token": token}).encode()
    headers = {}
    if route.kind == "user":
        headers["Authorization"] = f"Bearer {users.users[0].access_token}"
    if route.body:
        headers["Content-Type"] = "application/json"
    return route.method, route.all_paths()[0], headers, route.body.encode() or None


def first_200(port: int, method: str, path: str, headers: dict[str, str], body: bytes | None,
              proc: Any, timeout: float = 60.0) -> tuple[float, int, bytes]:
    """Poll until the route answers; returns (perf_counter at the answer, status, body)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before answering")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            return time.perf_counter(), response.status, data
        except (ConnectionRefusedError, ConnectionResetError):
            time.sleep(0.002)
        finally:
            conn.close()
    raise TimeoutError("no answer")


def measure(route: Route, env: dict[str, str], users: Users, cpu: int | None,
            python_flags: tuple[str, ...] = ()) -> dict[str, Any]:
    method, path, headers, body = request_for(route, users)
    server = Server(route.function, env, cpu=cpu, python_flags=python_flags)
    server.start()
    try:
        answered, status, data = first_200(server.port, method, path, headers, body, server.proc)
        if status != route.status:
            raise RuntimeError(f"{route.key}: first answer {status}: {data[:300]!r}")
        start = server.wait_for_line(lambda d: d.get("msg") == "start")
        first = server.wait_for_line(lambda d: d.get("msg") == "request" and d.get("cold_start"))
    finally:
        server.stop()
    total = (answered - server.started) * 1000
    result: dict[str, Any] = {"total_ms": round(total, 1), "lines": server.lines if python_flags else None}
    if start:
        at, doc = start
        result["to_start_line_ms"] = round((at - server.started) * 1000, 1)
        result["init_ms"] = doc.get("init_ms")
        result["self_import_ms"] = doc.get("import_ms")
    if first:
        result["first_request_ms"] = first[1].get("latency_ms")
    return result


def _importtime(lines: list[tuple[float, str]]) -> dict[str, Any]:
    """Self import time by top-level package, before the start-up line and after it."""
    phases: dict[str, dict[str, float]] = {"startup": {}, "first_request": {}}
    counts = {"startup": 0, "first_request": 0}
    phase = "startup"
    for _, line in lines:
        if line.startswith("{") and '"msg": "start"' in line.replace('"msg":"start"', '"msg": "start"'):
            phase = "first_request"
            continue
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        try:
            _, rest = line.split(":", 1)
            self_us, _cumulative, name = rest.split("|", 2)
            package = name.strip().split(".")[0]
            phases[phase][package] = phases[phase].get(package, 0.0) + int(self_us) / 1000
            counts[phase] += 1
        except ValueError:
            continue
    out: dict[str, Any] = {}
    for key, packages in phases.items():
        ranked = sorted(packages.items(), key=lambda kv: kv[1], reverse=True)
        out[key] = {
            "modules": counts[key],
            "total_ms": round(sum(packages.values()), 1),
            "packages": {name: round(ms, 1) for name, ms in ranked},
        }
    return out


def run(routes: list[Route], env_for: Any, users: Users, rounds: int, cpu: int | None) -> dict[str, Any]:
    """``routes``: one per function, the baseline (function ``hello``) first.
    ``env_for(function)`` gives each one's environment."""
    interp = interpreter_ms(env_for("hello"), max(5, rounds))
    log(f"cold start: interpreter {interp} ms; {rounds} rounds of {len(routes)} starts after a warm-up round")
    samples: dict[str, list[dict[str, Any]]] = {r.key: [] for r in routes}
    for round_no in range(rounds + 1):
        for route in routes:
            sample = measure(route, env_for(route.function), users, cpu)
            if round_no:  # round 0 warms the page cache and writes .pyc files
                samples[route.key].append(sample)
        log(f"cold start: round {round_no}/{rounds} done")
    imports = {}
    for route in routes:
        traced = measure(route, env_for(route.function), users, cpu, python_flags=("-X", "importtime"))
        imports[route.key] = _importtime(traced["lines"])
    baseline_key = routes[0].key
    hello_startup = set(imports[baseline_key]["startup"]["packages"])

    def med(key: str, field: str) -> float | None:
        values = [s[field] for s in samples[key] if s.get(field) is not None]
        return round(median(values), 1) if values else None

    results: dict[str, Any] = {"interpreter_ms": interp, "rounds": rounds, "functions": {},
                               "import_costs_ms": import_costs(env_for("hello"), max(3, rounds), interp)}
    base_total = med(baseline_key, "total_ms")
    for route in routes:
        key = route.key
        total = med(key, "total_ms")
        to_line = med(key, "to_start_line_ms")
        init = med(key, "init_ms") or 0.0
        first = med(key, "first_request_ms") or 0.0
        imports_ms = round(to_line - init - interp, 1) if to_line is not None else None
        server_ms = round(total - to_line - first, 1) if total is not None and to_line is not None else None
        extra = {name: ms for name, ms in imports[key]["startup"]["packages"].items() if name not in hello_startup}
        # A function measured on two routes (image: /healthz and its first presign) is named with each.
        name = route.function if [r.function for r in routes].count(route.function) == 1 \
            else f"{route.function} {route.label}"
        results["functions"][name] = {
            "route": f"{route.method} {route.path}",
            "total_ms": total,
            "ratio": ratio(total, base_total),
            "runs_ms": [s["total_ms"] for s in samples[key]],
            "breakdown_ms": {
                "interpreter": interp,
                "imports": imports_ms,
                "init": round(init, 1),
                "server": server_ms,
                "first_request": round(first, 1),
            },
            "self_reported_import_ms": med(key, "self_import_ms"),
            "importtime": {
                "startup_total_ms": imports[key]["startup"]["total_ms"],
                "startup_modules": imports[key]["startup"]["modules"],
                "startup_beyond_hello_ms": dict(list(sorted(extra.items(), key=lambda kv: -kv[1]))[:8]),
                "first_request_total_ms": imports[key]["first_request"]["total_ms"],
                "first_request_modules": imports[key]["first_request"]["modules"],
                "first_request_top_ms": dict(list(imports[key]["first_request"]["packages"].items())[:6]),
            },
        }
    return results

"""`make bench`: cold start, warm throughput, server settings, the floor under a
database route, the dev gateway's overhead, closure sizes and the domain
benchmarks, each against its baseline measured in the same run. Writes
bench/results.json and bench/results.md and prints the table. See docs/bench.md.

    python -m bench.run [--quick] [--only coldstart,throughput,floor,revocation,gateway,sizes,domain]
                        [--routes my,character:catalog]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench import bytecode, client, coldstart, domain, floor, gateway, revocation, sizes, throughput
from bench import ROOT
from bench.machine import cpus, machine
from bench.server import Route, route_exists
from bench.stack import stack
from bench.stats import log, ratio
from bench.users import make_users

PARTS = ("coldstart", "throughput", "floor", "revocation", "gateway", "sizes", "domain")
# Issue 18's targets: warm req/s as a ratio to hello's, by route.
READ_TARGETS = {"my:profile": 0.45, "my:points history": 0.45, "character:analysis": 0.45,
                "character:catalog": 0.85, "info:guide search": 0.5, "location:nearby 5 km": 0.3}
# Cold starts to /healthz (≤ HEALTH_TARGET × hello), and those of authenticated
# database routes (≤ the floor + FLOOR_MARGIN × hello; bench/floor.py's imports).
HEALTH_TARGET, FLOOR_MARGIN = 1.3, 0.15
DATABASE_COLD = ("auth", "my", "character", "location")
LIGHT = ("auth", "my", "character", "location", "info")  # scan (a model) and chat (an LLM client) are not
P99_TARGET_MS, LIGHT_TARGET_MB = 50.0, 60.0
# bench/fixtures/bare: two routes' answers without eco2's request path, each driven
# right after the route it is the ceiling of, wherever that route is measured.
BARE_OF = {"bare:profile": "my:profile", "bare:catalog": "character:catalog"}


def search_queries() -> list[str]:
    path = ROOT / "tests" / "info" / "search_eval.json"
    try:
        queries = [q["q"] for q in json.loads(path.read_text())["queries"]]
    except (OSError, ValueError, KeyError, TypeError):
        queries = []
    return queries[:60] or ["페트병", "pet bottle", "우유팩", "건전지", "스티로폼", "유리병"]


def positions(n: int = 64) -> list[tuple[float, float]]:
    """Positions in and around Seoul, where the shipped sites are densest."""
    rng = random.Random(6)
    return [(round(37.5665 + rng.uniform(-0.08, 0.08), 5), round(126.978 + rng.uniform(-0.1, 0.1), 5))
            for _ in range(n)]


def all_routes() -> list[Route]:
    search = tuple(f"/api/v1/info/search?q={quote(q)}" for q in search_queries())
    nearby = tuple(f"/api/v1/locations/centers?lat={lat}&lon={lon}&radius=5000" for lat, lon in positions())
    return [
        Route("hello", "hello", "GET", "/"),
        Route("auth", "token refresh", "POST", "/api/v1/auth/refresh", kind="refresh"),
        Route("my", "profile", "GET", "/api/v1/user/me", kind="user"),
        Route("bare", "profile", "GET", "/api/v1/user/me", kind="user"),
        Route("my", "points history", "GET", "/api/v1/user/me/points/history", kind="user"),
        Route("character", "catalog", "GET", "/api/v1/character/catalog"),
        Route("bare", "catalog", "GET", "/api/v1/character/catalog"),
        Route("character", "analysis", "GET", "/api/v1/character/me/analysis", kind="user"),
        Route("info", "guide search", "GET", search[0], paths=search),
        Route("location", "nearby 5 km", "GET", nearby[0], kind="user", paths=nearby),
        Route("scan", "health", "GET", "/healthz"),
        Route("chat", "health", "GET", "/healthz"),
        # boto3 is imported by the first upload route, never by /healthz: both starts are measured.
        Route("image", "health", "GET", "/healthz"),
        Route("image", "presign", "POST", "/api/v1/images/scan", kind="user", body=UPLOAD),
    ]


COLD_ROUTE = {"hello": "hello", "auth": "token refresh", "my": "profile", "character": "analysis",
              "info": "guide search", "location": "nearby 5 km", "scan": "health", "chat": "offline answer",
              "image": "presign"}
# The cold starts beyond one per function: image's and chat's to /healthz, beside their first real answer.
EXTRA_COLD = ("image:health", "chat:health")
# Cold-start routes that throughput does not load: chat's answer is a 201, and
# its per-user rate limit would turn a load into 429s.
COLD_ONLY = (Route("chat", "offline answer", "POST", "/api/v1/chat/messages", kind="user",
                   body=json.dumps({"message": "페트병"}), status=201),)
UPLOAD = json.dumps({"filename": "photo.jpg", "content_type": "image/jpeg"})
# Presigning is local (no request to S3): a bucket name and a key are all it needs.
IMAGE_ENV = {"ECO2_IMAGE_BUCKET": "eco2-bench-uploads", "AWS_ACCESS_KEY_ID": "bench",
             "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_REGION": "ap-northeast-2"}
SWEEP = ("hello:hello", "my:profile", "character:catalog", "info:guide search", "location:nearby 5 km")


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                               text=True).stdout.strip()
        return head + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds, shorter runs (a smoke test)")
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts: " + ",".join(PARTS))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--no-pin", action="store_true", help="do not pin servers and client to CPUs")
    parser.add_argument("--routes", default="", help="only these routes (function or function:label, "
                        "comma-separated; hello is always measured), e.g. my,character:catalog")
    args = parser.parse_args()
    parts = [p for p in args.only.split(",") if p]
    cold_rounds, rounds, seconds = (2, 1, 1.0) if args.quick else (9, 3, 3.0)
    connections = 16
    cores = cpus()
    server_cpu, client_cpu = (cores[-1], cores[0]) if len(cores) >= 2 and not args.no_pin else (None, None)

    started = time.perf_counter()
    results: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": machine(),
        "pinning": {"server_cpu": server_cpu, "client_cpu": client_cpu},
        "client": client.tool(),
        "quick": args.quick,
    }
    log(f"load generator: {client.tool()}; server CPU {server_cpu}, client CPU {client_cpu}")
    routes, skipped = [], []
    wanted = {w.strip() for w in args.routes.split(",") if w.strip()}
    for route in all_routes():
        names = {route.function, route.key}
        if route.key in BARE_OF:
            names = {BARE_OF[route.key], BARE_OF[route.key].split(":")[0]}
        if wanted and route.function != "hello" and not names & wanted:
            continue
        (routes if route_exists(route.function, route.method, route.path) else skipped).append(route)
    results["skipped_routes"] = [f"{r.function} {r.method} {r.path.split('?')[0]}" for r in skipped]
    for route in skipped:
        log(f"skipped (no such route yet): {route.function} {route.method} {route.path.split('?')[0]}")

    if any(p in parts for p in ("coldstart", "throughput", "floor", "revocation", "gateway", "domain")):
        results["bytecode"] = bytecode.compile_all()
        log(f"bytecode compiled as the image has it: {results['bytecode']['seconds']} s")
        with stack() as st, tempfile.TemporaryDirectory(prefix="eco2-bench-logs-") as logs:
            log(f"PostgreSQL {st.database_url}, Redis {st.redis_url}")
            users = make_users(st, 24, 130)
            log(f"{len(users.users)} bench users with 18 scans each; {len(users.spare_refresh)} spare refresh tokens")

            def env_for(function: str) -> dict[str, str]:
                return st.env(**IMAGE_ENV) if function == "image" else st.env()

            if "coldstart" in parts:
                by_key = {r.key: r for r in (*routes, *COLD_ONLY)}
                cold = [by_key[key] for key in [f"{f}:{label}" for f, label in COLD_ROUTE.items()] + list(EXTRA_COLD)
                        if key in by_key]
                results["coldstart"] = coldstart.run(cold, env_for, users, cold_rounds, server_cpu)
            if "throughput" in parts:
                # With --routes naming none of SWEEP's functions, sweep the routes chosen.
                sweep = [r for r in routes if r.key in SWEEP]
                sweep = sweep if len(sweep) > 1 else routes
                settings = throughput.SETTINGS if not args.quick else throughput.SETTINGS[1:3]
                results["throughput"] = throughput.run(
                    routes, sweep, env_for, users, rounds=rounds, seconds=seconds, connections=connections,
                    server_cpu=server_cpu, client_cpu=client_cpu, logdir=Path(logs), settings=settings,
                    sweep_rounds=1 if args.quick else 2, sweep_seconds=seconds if args.quick else 2.0)
            if "floor" in parts:
                results["floor"] = floor.run(st.database_url, st.redis_url)
            if "revocation" in parts:
                results["revocation"] = revocation.run(env_for, Path(logs), rounds=20 if args.quick else 50)
            if "gateway" in parts:
                results["gateway"] = gateway.overhead(
                    st.env(), "character", "/api/v1/character/catalog", rounds=rounds, seconds=seconds,
                    connections=connections, logdir=Path(logs))
            if "domain" in parts:
                results["domain"] = domain.run(st.env(), st.database_url, timeout=90 if args.quick else 180)
    if "sizes" in parts:
        results["sizes"] = sizes.run()
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["targets"] = targets(results)

    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    table = markdown(results)
    args.out.with_suffix(".md").write_text(table)
    print(table)


# -- the report --------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{suffix}"
    return f"{value}{suffix}"


def floor_ratio(results: dict[str, Any], with_pydantic: bool = False) -> float | None:
    """The floor under an authenticated database route's cold start, × hello:
    hello's whole start plus the marginal imports of psycopg, redis-py and PyJWT
    (bench/floor.py), and ``with_pydantic`` pydantic's with its first model,
    over hello's start. Both from this run."""
    hello = results.get("coldstart", {}).get("functions", {}).get("hello", {}).get("total_ms")
    imports = results.get("floor", {}).get("imports", {})
    if not hello or "sum_ms" not in imports:
        return None
    return round((hello + imports["sum_ms"] + (imports.get("pydantic_ms", 0) if with_pydantic else 0)) / hello, 2)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 18's targets, each with what this run measured."""
    found = []
    cold = results.get("coldstart", {}).get("functions", {})
    floor_x = floor_ratio(results)
    for name, c in cold.items():
        if name == "hello":
            continue
        measured = f"{_fmt(c['ratio'], 2)}×"
        if c["route"].endswith("/healthz"):
            found.append({"figure": f"cold start {name} to /healthz", "target": f"≤ {HEALTH_TARGET}× hello",
                          "measured": measured, "met": c["ratio"] is not None and c["ratio"] <= HEALTH_TARGET})
        elif name in DATABASE_COLD:
            limit = None if floor_x is None else round(floor_x + FLOOR_MARGIN, 2)
            found.append({"figure": f"cold start {name} (database route)",
                          "target": f"≤ floor + {FLOOR_MARGIN}× = {_fmt(limit, 2)}× hello",
                          "measured": measured,
                          "met": limit is not None and c["ratio"] is not None and c["ratio"] <= limit})
    tp = results.get("throughput", {}).get("routes", {})
    for key, r in tp.items():
        if key in READ_TARGETS:
            goal = READ_TARGETS[key]
            met = (r["rps_ratio"] or 0) >= goal and r["p99_ms"] < P99_TARGET_MS and r["non2xx"] == 0
            found.append({"figure": f"{r['function']} {r['route']}, c=16",
                          "target": f"≥ {goal}× hello req/s, p99 < {P99_TARGET_MS:g} ms",
                          "measured": f"{_fmt(r['rps_ratio'], 2)}×, p99 {_fmt(r['p99_ms'], 1)} ms", "met": met})
    size = results.get("sizes", {}).get("functions", {})
    for name in LIGHT:
        if name in size:
            found.append({"figure": f"closure {name}", "target": f"≤ {LIGHT_TARGET_MB:g} MB",
                          "measured": f"{size[name]['mb']} MB", "met": size[name]["mb"] <= LIGHT_TARGET_MB})
    return found


def bounds(results: dict[str, Any]) -> list[str]:
    """What this run measured under the targets: the floor with pydantic beside each
    database start, and each answer without eco2's request path beside its route."""
    out = []
    with_pydantic = floor_ratio(results, with_pydantic=True)
    cold = results.get("coldstart", {}).get("functions", {})
    above = [f"{name} {c['ratio'] - with_pydantic:+.2f}" for name, c in cold.items()
             if name in DATABASE_COLD and c.get("ratio") is not None and with_pydantic is not None]
    if above:
        out += [f"With pydantic's import and first model added, the floor is {with_pydantic}× hello. Each database "
                f"route's start less that, × hello (eco2's modules, its settings, the function's models and the first "
                f"request's own work; below zero, the start was shorter than the sum of imports timed one by one in "
                f"fresh interpreters): {', '.join(above)}.", ""]
    tp = results.get("throughput", {}).get("routes", {})
    what = {"bare:profile": "the token's signature, the same statement through the pool, the same model's "
                            "serialization; no route matching, request id, log line, revocation lookup or deadline",
            "bare:catalog": "the same stored answer and headers; no route matching, request id or log line"}
    for key, of in BARE_OF.items():
        bare, route = tp.get(key), tp.get(of)
        if bare and route and bare.get("rps"):
            # The two straight against each other (medians over the same rounds, one
            # run right after the other), not through their ratios to two hellos.
            out += [f"{route['function']} {route['route']} without eco2's request path (bench/fixtures/bare: "
                    f"{what[key]}): "
                    f"{_fmt(bare.get('rps_ratio'), 2)}× hello's req/s. The route serves "
                    f"{_fmt(ratio(route['rps'], bare['rps']), 2)}× its req/s at "
                    f"{_fmt(ratio(route['cpu_us'], bare['cpu_us']), 2)}× its server CPU per request: the request "
                    f"path's share.", ""]
    return out


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    out = [
        "# eco2 benchmark results",
        "",
        f"{results['generated_at']}, commit {results['commit']}, {results['seconds']} s"
        + (" (--quick: a smoke test, not figures to quote)" if results.get("quick") else ""),
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}, "
        f"Python {m['python']}, load average at start {m['loadavg_at_start']}.",
        f"Load generator: {results['client']}; servers pinned to CPU {results['pinning']['server_cpu']}, "
        f"the generator to CPU {results['pinning']['client_cpu']}. Every ratio is to a baseline from this same run.",
        "",
    ]
    if results.get("bytecode"):
        out += [f"Every start runs from `.pyc` compiled before the run, as the image has them "
                f"(bench/bytecode.py, {results['bytecode']['seconds']} s).", ""]
    if results.get("skipped_routes"):
        out += [f"Not measured (route not there yet): {', '.join(results['skipped_routes'])}.", ""]
    cold = results.get("coldstart")
    if cold:
        out += [
            f"## Cold start: spawn to first 200 on a real route (median of {cold['rounds']})",
            "",
            "| function | route | total ms | × hello | interpreter | imports | init | server | first request |"
            " start-up imports beyond hello (ms, under -X importtime) |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|---|",
        ]
        for name, c in cold["functions"].items():
            b = c["breakdown_ms"]
            beyond = ", ".join(f"{k} {v:g}" for k, v in list(c["importtime"]["startup_beyond_hello_ms"].items())[:5])
            out.append(
                f"| {name} | `{c['route'].split('?')[0]}` | {_fmt(c['total_ms'])} | {_fmt(c['ratio'], 2)} | "
                f"{_fmt(b['interpreter'])} | {_fmt(b['imports'])} | {_fmt(b['init'], 1)} | {_fmt(b['server'])} | "
                f"{_fmt(b['first_request'], 1)} | {beyond or '–'} |")
        costs = cold.get("import_costs_ms", {})
        if costs:
            hello_total = cold["functions"].get("hello", {}).get("total_ms")
            out += ["", f"Import costs in a fresh interpreter (ms beyond `python -c pass`, median of {max(3, cold['rounds'])};"
                    f" the whole hello-world start is {_fmt(hello_total)} ms):", "",
                    "| import | ms | × hello's start |", "|---|--:|--:|"]
            for label, ms in costs.items():
                out.append(f"| {label} | {_fmt(ms)} | {_fmt(ratio(ms, hello_total), 2)} |")
        out += ["", "First request: the handler's own time for the first request (lazy imports, token check,"
                " first database connection). Imports during it (under -X importtime): "
                + "; ".join(f"{n} {c['importtime']['first_request_total_ms']:g} ms"
                            for n, c in cold["functions"].items() if c["importtime"]["first_request_total_ms"]) + ".",
                ""]
    tp = results.get("throughput")
    if tp:
        out += [
            f"## Warm throughput at c={tp['connections']} ({tp['chosen']}; median of {tp['rounds']} × {tp['seconds']:g} s)",
            "",
            "| function | route | req/s | × hello | p50 ms | p99 ms | non-2xx | server CPU µs/request | × hello |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for r in tp["routes"].values():
            out.append(f"| {r['function']} | {r['route']} | {_fmt(r['rps'])} | {_fmt(r['rps_ratio'], 2)} | "
                       f"{_fmt(r['p50_ms'], 1)} | {_fmt(r['p99_ms'], 1)} | {r['non2xx']} | {_fmt(r.get('cpu_us'))} | "
                       f"{_fmt(r.get('cpu_ratio'), 2)} |")
        out += ["", "Hello is driven again right before every route: a ratio is the median of the route's ratios "
                "to that adjacent hello, and hello's own figures are the median of all its runs. The server runs "
                "on one CPU and is busy all the time it is measured, so its req/s is about 1 s over its CPU time "
                "per request: the last column is why a route is slower than hello."]
        keys = list(next(iter(tp["sweep"].values())).keys())
        out += ["", f"### Server settings (req/s, × hello under the same setting, p99 ms; median of "
                f"{tp.get('sweep_rounds', 1)} interleaved rounds × {tp.get('sweep_seconds', tp['seconds']):g} s)", "",
                "| setting | " + " | ".join(k.replace(":", " ") for k in keys) + " |",
                "|---|" + "--:|" * len(keys)]
        for name, figures in tp["sweep"].items():
            cells = [f"{_fmt(f['rps'])} ({_fmt(f['rps_ratio'], 2)}×, {_fmt(f['p99_ms'], 1)})" for f in figures.values()]
            out.append(f"| {name}{' **chosen**' if name == tp['chosen'] else ''} | " + " | ".join(cells) + " |")
        out += ["", f"Chosen: {tp['chosen']}: {tp['why']}.", ""]
    gw = results.get("gateway")
    if gw:
        conns = tp["connections"] if tp else 16
        out += [
            f"## Dev gateway overhead ({gw['route']})",
            "",
            "| | direct p50 ms | via gateway p50 ms | added per request | direct req/s | via gateway req/s | ratio |",
            "|---|--:|--:|--:|--:|--:|--:|",
            f"| c=1 | {gw['direct@1']['p50_ms']} | {gw['gateway@1']['p50_ms']} | {gw['added_ms_per_request']} ms | "
            f"{_fmt(gw['direct@1']['rps'])} | {_fmt(gw['gateway@1']['rps'])} | {gw['rps_ratio_c1']} |",
            f"| c={conns} | {gw[f'direct@{conns}']['p50_ms']} | {gw[f'gateway@{conns}']['p50_ms']} | | "
            f"{_fmt(gw[f'direct@{conns}']['rps'])} | {_fmt(gw[f'gateway@{conns}']['rps'])} | {gw[f'rps_ratio_c{conns}']} |",
            "",
        ]
    fl = results.get("floor")
    if fl:
        imp, trips = fl["imports"], fl["round_trips"]
        hello_cpu = (tp or {}).get("routes", {}).get("hello:hello", {}).get("cpu_us")
        out += ["## The floor under a database route (bench/floor.py)", "",
                f"Imports, marginal, after functions-framework and the eco2 runtime (median of 5 fresh interpreters; "
                f"functions-framework's own import: {_fmt(imp['functions_framework_ms'])} ms):", "",
                "| import | ms | × functions-framework's |", "|---|--:|--:|"]
        for name, ms in imp["marginal_ms"].items():
            out.append(f"| {name} | {_fmt(ms)} | {_fmt(ratio(ms, imp['functions_framework_ms']), 2)} |")
        out += [f"| all three | {_fmt(imp['sum_ms'])} | {_fmt(ratio(imp['sum_ms'], imp['functions_framework_ms']), 2)} |",
                f"| pydantic, with its first model (marginal to functions-framework; beside the floor) | "
                f"{_fmt(imp.get('pydantic_ms'))} | {_fmt(ratio(imp.get('pydantic_ms'), imp['functions_framework_ms']), 2)} |",
                "", "CPU per call, one thread (µs), against the same MGET on a bare socket"
                + (f" and hello's whole request ({_fmt(hello_cpu)} µs of server CPU, above)" if hello_cpu else "") + ":",
                "", "| call | µs | × bare socket | × hello's request |", "|---|--:|--:|--:|"]
        for name, key in (("MGET on a bare socket", "bare_socket_mget_us"), ("redis-py MGET (the denylist check)",
                          "redis_py_mget_us"), ("psycopg_pool checkout + one-statement read", "psycopg_pool_read_us")):
            us = trips[key]
            out.append(f"| {name} | {_fmt(us)} | {_fmt(ratio(us, trips['bare_socket_mget_us']), 2)} | "
                       f"{_fmt(ratio(us, hello_cpu), 2)} |")
        out.append("")
    rv = results.get("revocation")
    if rv:
        out += ["## Logout to refusal on another function (bench/revocation.py)", "",
                f"{rv['rounds']} logouts through auth, each after my had answered the token three times (its "
                "revocation keys held in process); then my asked again with the same token until refused.", "",
                "| stale 200s after the logout's answer | first request refused | logout's answer to the first 401, "
                "p50 µs | max µs |", "|--:|--:|--:|--:|",
                f"| {rv['stale_answers_after_logout']} | {rv['first_request_refused']} of {rv['rounds']} | "
                f"{_fmt(rv['logout_to_first_401_p50_us'])} | {_fmt(rv['logout_to_first_401_max_us'])} |", ""]
    sz = results.get("sizes")
    if sz:
        out += [
            "## Closure sizes (installed, from the dists' RECORDs; MB = 10^6 bytes)",
            "",
            "| function | MB | packages | beyond the runtime | × monolithic |",
            "|---|--:|--:|--:|--:|",
        ]
        for name, s in sz["functions"].items():
            extra = f"{s['beyond_runtime_mb']} MB ({', '.join(s['requirements'])})" if s["requirements"] else "–"
            out.append(f"| {name} | {s['mb']} | {s['packages']} | {extra} | {s['ratio_to_monolithic']} |")
        largest = ", ".join(f"{k} {v}" for k, v in sz["runtime_largest_mb"].items())
        out += [f"| monolithic (runtime + every function's requirements) | {sz['monolithic_mb']} | "
                f"{sz['monolithic_packages']} | | 1.0 |", "",
                f"The runtime alone: {sz['runtime_mb']} MB in {sz['runtime_packages']} packages (largest: {largest}); "
                f"platform/eco2 adds {sz['platform_eco2_mb']} MB, {sz['platform_eco2_data_mb']} MB of it data.", ""]
    dom = results.get("domain")
    if dom:
        out += ["## Domain benchmarks", ""]
        for name, d in dom.items():
            body = json.dumps(d["figures"], indent=1, ensure_ascii=False) if "figures" in d else d.get("output", "")
            out.append(f"bench/{name}.py: {d['status']}{', ' + str(d.get('seconds')) + ' s' if 'seconds' in d else ''}")
            if body:
                out += ["", "```", body.strip(), "```"]
            out.append("")
    if results.get("targets"):
        floor_x = floor_ratio(results)
        if floor_x is not None:
            out += [f"The floor under a database route's cold start, from this run: {floor_x}× hello "
                    "(hello's start plus the marginal imports of psycopg, redis-py and PyJWT).", ""]
        out += ["## Against the targets (issue 18)", "", "| figure | target | measured | met |", "|---|---|---|---|"]
        for t in results["targets"]:
            out.append(f"| {t['figure']} | {t['target']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |")
        out.append("")
        out += bounds(results)
        if not all(t["met"] for t in results["targets"]):
            out += ["For a target missed here: the levers tried, kept or not, and the measurements of what is left "
                    "are in docs/bench.md (\"Issue 18's levers\").", ""]
    return "\n".join(out)


if __name__ == "__main__":
    main()

"""Warm throughput and latency at a fixed concurrency, against the hello world.

Every server runs on one CPU (as a pod with ``limits.cpu: 1``) and the load
generator on another; PostgreSQL and Redis float. A server is warmed for one
second before it is measured. Each figure is the median over rounds. In the
main measurement the hello world is driven again right before every route, and
a route's ratio is the median of its ratios to that adjacent hello: this
machine's speed drifts within a minute, and a baseline measured once per round
moved every ratio of the round with it.

Server settings are what functions-framework's gunicorn reads from the
environment: ``WORKERS`` (processes) and ``THREADS`` (threads per process; its
default is 4 per CPU the process sees, which depends on the node).
"""

from __future__ import annotations

import math
from itertools import cycle, islice
from typing import Any, Callable

from bench import client
from bench.server import Route, Server
from bench.stats import log, median, ratio
from bench.users import Users

# (WORKERS, THREADS): one thread; a few; functions-framework's default on 2 CPUs; many; two processes.
SETTINGS: list[tuple[int, int]] = [(1, 1), (1, 4), (1, 8), (1, 16), (2, 4)]


def label(setting: tuple[int, int]) -> str:
    return f"WORKERS={setting[0]} THREADS={setting[1]}"


def plan(route: Route, users: Users) -> list[str]:
    paths = route.all_paths()
    if route.kind == "user":
        n = max(len(paths), len(users.users))
        pairs = zip(islice(cycle(paths), n), islice(cycle(users.users), n), strict=True)
        return [f"{route.method}\t{path}\t{user.access_token}\t{route.body}" for path, user in pairs]
    return [f"{route.method}\t{path}\t\t{route.body}" for path in paths]


def drive(route: Route, port: int, users: Users, connections: int, seconds: float,
          cpu: int | None) -> dict[str, Any]:
    if route.kind == "refresh":
        tokens = users.take_refresh(connections)
        return client.run("refresh", port, tokens, connections, seconds, path=route.path, cpu=cpu)
    return client.run("cycle", port, plan(route, users), connections, seconds, cpu=cpu)


def _servers(routes: list[Route], env_for: Callable[[str], dict[str, str]], setting: tuple[int, int],
             cpu: int | None, logdir: Any) -> dict[str, Server]:
    servers: dict[str, Server] = {}
    for route in routes:
        if route.function in servers:
            continue
        env = {**env_for(route.function), "WORKERS": str(setting[0]), "THREADS": str(setting[1])}
        servers[route.function] = Server(route.function, env, cpu=cpu,
                                          log_path=logdir / f"{route.function}-{setting[0]}x{setting[1]}.log")
        servers[route.function].start()
    for server in servers.values():
        server.wait_ready()
    return servers


def _summary(route: Route, runs: list[dict[str, Any]]) -> dict[str, Any]:
    summary = {
        "function": route.function,
        "route": route.label,
        "request": f"{route.method} {route.path}",
        "rps": round(median([r["rps"] for r in runs]) or 0, 1),
        "p50_ms": round(median([r["p50_ms"] for r in runs]) or 0, 2),
        "p99_ms": round(median([r["p99_ms"] for r in runs]) or 0, 2),
        # The server's CPU time per request (all its threads): on one CPU, req/s is about 1 s / this.
        "cpu_us": round(median([r["cpu_us"] for r in runs]) or 0),
        "requests": sum(r["requests"] for r in runs),
        "non2xx": sum(r["non2xx"] for r in runs),
        "s5xx": sum(r["s5xx"] for r in runs),
        "socket_errors": sum(r["socket_errors"] for r in runs),
        "runs_rps": [r["rps"] for r in runs],
    }
    paired = [r for r in runs if "baseline" in r]
    if paired:  # each run against the hello driven right before it
        for key, field in (("rps_ratio", "rps"), ("cpu_ratio", "cpu_us")):
            summary[key] = round(median([ratio(r[field], r["baseline"][field]) or 0 for r in paired]) or 0, 3)
    return summary


def measure_settings(routes: list[Route], env_for: Callable[[str], dict[str, str]], users: Users,
                     settings: list[tuple[int, int]], rounds: int, seconds: float, connections: int,
                     server_cpu: int | None, client_cpu: int | None, logdir: Any,
                     paired: bool = False) -> dict[str, dict[str, Any]]:
    """Every route under every setting, all servers up at once (idle ones cost
    nothing), measured in ``rounds`` interleaved rounds: a neighbour's burst
    lands on every setting alike. Medians per setting and route. ``paired``:
    the first route (the baseline) is driven again right before each other
    route, and each sample keeps that adjacent baseline's figures."""
    servers: dict[tuple[int, int], dict[str, Server]] = {}
    samples: dict[tuple[int, int], dict[str, list[dict[str, Any]]]] = {}
    try:
        for setting in settings:
            servers[setting] = _servers(routes, env_for, setting, server_cpu, logdir)
            samples[setting] = {r.key: [] for r in routes}
        for setting in settings:  # warm-up: pools opened, lazy imports done, caches filled
            for route in routes:
                drive(route, servers[setting][route.function].port, users, connections, 1, client_cpu)

        def measured(setting: tuple[int, int], route: Route) -> dict[str, Any]:
            server = servers[setting][route.function]
            before = server.cpu_seconds()
            figures = drive(route, server.port, users, connections, seconds, client_cpu)
            figures["cpu_us"] = (server.cpu_seconds() - before) / max(1, figures["requests"]) * 1e6
            return figures

        for _ in range(rounds):
            for setting in settings:
                for n, route in enumerate(routes):
                    baseline = measured(setting, routes[0]) if paired and n else None
                    figures = measured(setting, route)
                    if baseline:
                        samples[setting][routes[0].key].append(baseline)
                        figures["baseline"] = baseline
                    samples[setting][route.key].append(figures)
    finally:
        for group in servers.values():
            for server in group.values():
                server.stop()
    return {label(setting): {r.key: _summary(r, samples[setting][r.key]) for r in routes} for setting in settings}


def _geomean(values: list[float]) -> float:
    values = [v for v in values if v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else 0.0


def choose(sweep: dict[str, dict[str, Any]], baseline_key: str, margin: float = 0.05) -> tuple[str, str]:
    """The setting with the best geometric-mean req/s over the function routes;
    among those within ``margin`` of it (run-to-run noise on a shared machine),
    the one with the lowest worst p99, then the first listed (fewer processes
    and threads: less memory, fewer connections)."""
    scores = {}
    for name, figures in sweep.items():
        routes = [f for key, f in figures.items() if key != baseline_key]
        scores[name] = (_geomean([f["rps"] for f in routes]), max(f["p99_ms"] for f in routes))
    best = max(score for score, _ in scores.values())
    close = [name for name, (score, _) in scores.items() if score >= (1 - margin) * best]
    order = list(sweep)
    chosen = min(close, key=lambda name: (scores[name][1], order.index(name)))
    why = (f"geometric-mean req/s over the swept function routes {scores[chosen][0]:.0f} (best {best:.0f}); "
           f"of the settings within {margin:.0%} of the best, the lowest worst p99 ({scores[chosen][1]:.1f} ms)")
    return chosen, why


def run(routes: list[Route], sweep_routes: list[Route], env_for: Callable[[str], dict[str, str]],
        users: Users, *, rounds: int, seconds: float, connections: int, server_cpu: int | None,
        client_cpu: int | None, logdir: Any, settings: list[tuple[int, int]] = SETTINGS,
        sweep_rounds: int = 2, sweep_seconds: float = 2.0) -> dict[str, Any]:
    baseline = routes[0].key
    log(f"throughput: {len(settings)} settings × {len(sweep_routes)} routes, {sweep_rounds} interleaved rounds")
    sweep = measure_settings(sweep_routes, env_for, users, settings, sweep_rounds, sweep_seconds, connections,
                             server_cpu, client_cpu, logdir)
    chosen, why = choose(sweep, baseline)
    setting = next(s for s in settings if label(s) == chosen)
    log(f"throughput: {chosen} chosen; {rounds} rounds over {len(routes)} routes")
    main = measure_settings(routes, env_for, users, [setting], rounds, seconds, connections,
                            server_cpu, client_cpu, logdir, paired=True)[chosen]
    main[baseline].update(rps_ratio=1.0, cpu_ratio=1.0)
    for figures in sweep.values():
        for f in figures.values():
            f["rps_ratio"] = ratio(f["rps"], figures[baseline]["rps"])
    return {
        "connections": connections,
        "seconds": seconds,
        "rounds": rounds,
        "sweep_rounds": sweep_rounds,
        "sweep_seconds": sweep_seconds,
        "client": client.tool(),
        "chosen": chosen,
        "why": why,
        "sweep": sweep,
        "routes": main,
    }

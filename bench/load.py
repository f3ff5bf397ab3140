"""`make load`: many users at once through the dev gateway, for a fixed time, on loopback.

Every virtual user signs in (dev login), then until the time is up reads and
edits their profile, reads their points, rotates their refresh token, looks at
the character catalog and their analysis, searches the disposal guides and
looks up nearby sites (those two when the routes exist), with a short random
pause between requests. Meanwhile a writer awards scans to the same users, in
one transaction each, as the scan function will. Then the run is checked:

- no 5xx, and no refresh refused (each user's token chain is theirs alone);
- no lost write: every user's profile shows the last edit that was acknowledged;
- every balance equals the sum of its ledger.

It prints what it did and found, writes bench/load-results.json, and exits 1
when a check fails. Bounded: --seconds of traffic, at most --max-requests.

    python -m bench.load [--users 80] [--seconds 40] [--max-requests 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench import gateway
from bench import ROOT
from bench.server import route_exists
from bench.stack import stack
from bench.stats import log, percentile
from bench.run import positions, search_queries


@dataclass
class VirtualUser:
    index: int
    address: str
    nickname: str
    user_id: str = ""
    access: str = ""
    refresh: str = ""
    acked: str | None = None            # the last nickname a 200 confirmed
    attempted: list[str] = field(default_factory=list)  # edits sent since, not confirmed
    edits: int = 0


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    errors: list[str] = field(default_factory=list)
    requests: int = 0


class Load:
    def __init__(self, port: int, users: int, seconds: float, max_requests: int, optional: dict[str, bool]) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.users = [VirtualUser(i, f"198.18.{i // 250}.{i % 250 + 1}", f"load{i:04d}") for i in range(users)]
        self.seconds = seconds
        self.max_requests = max_requests
        self.optional = optional
        self.tally = Tally()
        self.queries = search_queries()
        self.positions = positions(200)
        self.deadline = 0.0

    async def call(self, session: Any, user: VirtualUser, name: str, method: str, path: str,
                   body: Any = None, token: str | None = None) -> tuple[int, Any]:
        import aiohttp

        headers = {"X-Forwarded-For": user.address}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.tally.requests += 1
        started = time.perf_counter()
        try:
            async with session.request(method, self.base + path, json=body, headers=headers) as response:
                data = await response.read()
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self.tally.statuses[name]["error"] += 1
            self.tally.errors.append(f"{name}: {type(exc).__name__}")
            return 0, None
        self.tally.latencies[name].append(time.perf_counter() - started)
        self.tally.statuses[name][status] += 1
        if status >= 500:
            self.tally.errors.append(f"{name} {method} {path} -> {status} {data[:200]!r}")
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None

    async def sign_in(self, session: Any, user: VirtualUser) -> bool:
        status, doc = await self.call(session, user, "dev login", "POST", "/api/v1/auth/dev/login",
                                      {"nickname": user.nickname})
        if status != 200:
            return False
        user.user_id, user.access, user.refresh = doc["user_id"], doc["access_token"], doc["refresh_token"]
        return True

    async def act(self, session: Any, user: VirtualUser, rng: random.Random) -> None:
        roll = rng.random()
        if roll < 0.22:
            await self.call(session, user, "profile read", "GET", "/api/v1/user/me", token=user.access)
        elif roll < 0.36:
            user.edits += 1
            nickname = f"u{user.index}e{user.edits}"
            user.attempted.append(nickname)
            status, _ = await self.call(session, user, "profile edit", "PATCH", "/api/v1/user/me",
                                        {"nickname": nickname}, token=user.access)
            if status == 200:
                user.acked, user.attempted = nickname, []
        elif roll < 0.44:
            await self.call(session, user, "points history", "GET", "/api/v1/user/me/points/history",
                            token=user.access)
        elif roll < 0.52:
            status, doc = await self.call(session, user, "token refresh", "POST", "/api/v1/auth/refresh",
                                          {"refresh_token": user.refresh})
            if status == 200:
                user.access, user.refresh = doc["access_token"], doc["refresh_token"]
            else:
                self.tally.errors.append(f"refresh refused for user {user.index}: {status}")
                await self.sign_in(session, user)
        elif roll < 0.57:
            await self.call(session, user, "character catalog", "GET", "/api/v1/character/catalog")
        elif roll < 0.64:
            await self.call(session, user, "character analysis", "GET", "/api/v1/character/me/analysis",
                            token=user.access)
        elif roll < 0.82 and self.optional["search"]:
            q = quote(rng.choice(self.queries))
            await self.call(session, user, "guide search", "GET", f"/api/v1/info/search?q={q}")
        elif self.optional["nearby"]:
            lat, lon = rng.choice(self.positions)
            await self.call(session, user, "nearby sites", "GET",
                            f"/api/v1/locations/centers?lat={lat}&lon={lon}&radius=3000", token=user.access)
        else:
            await self.call(session, user, "profile read", "GET", "/api/v1/user/me", token=user.access)

    async def user_loop(self, session: Any, user: VirtualUser) -> None:
        rng = random.Random(user.index)
        await asyncio.sleep(rng.uniform(0, 1.0))  # arrivals spread over the first second
        if not await self.sign_in(session, user):
            return
        while time.monotonic() < self.deadline and self.tally.requests < self.max_requests:
            await self.act(session, user, rng)
            await asyncio.sleep(rng.uniform(0, 0.05))

    async def run(self) -> float:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            started = time.monotonic()
            self.deadline = started + self.seconds
            await asyncio.gather(*(self.user_loop(session, user) for user in self.users))
            return time.monotonic() - started

    async def verify(self) -> list[str]:
        """Each user's profile through the gateway: the last acknowledged edit (or
        one sent after it whose answer was lost) is what is stored."""
        import aiohttp

        lost = []
        async with aiohttp.ClientSession() as session:
            for user in self.users:
                if user.acked is None:
                    continue
                status, doc = await self.call(session, user, "verify", "GET", "/api/v1/user/me", token=user.access)
                if status == 401 and await self.sign_in(session, user):
                    status, doc = await self.call(session, user, "verify", "GET", "/api/v1/user/me", token=user.access)
                stored = doc.get("nickname") if status == 200 and doc else None
                if stored != user.acked and stored not in user.attempted:
                    lost.append(f"user {user.index}: stored {stored!r}, acknowledged {user.acked!r}")
        return lost


def award_scans(database_url: str, users: list[VirtualUser], stop: threading.Event, counts: Counter) -> None:
    """Scan rewards for the signed-in users while the load runs, one transaction each."""
    import psycopg

    from eco2.scan import rewards

    rng = random.Random(7)
    mix = [("재활용폐기물", "무색페트병", True), ("재활용폐기물", "종이", True), ("일반종량제폐기물", None, True),
           ("재활용폐기물", "캔류", False)]
    with psycopg.connect(database_url) as conn:
        while not stop.is_set():
            ready = [u for u in users if u.user_id]
            if not ready:
                time.sleep(0.05)
                continue
            user = rng.choice(ready)
            major, middle, correct = rng.choice(mix)
            try:
                with conn.transaction():
                    (scan_id,) = conn.execute(
                        "INSERT INTO scan.scans (user_id, major_category, middle_category, recyclable, correct) "
                        "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                        (user.user_id, major, middle, major == "재활용폐기물", correct)).fetchone()
                    reward = rewards.award_scan(conn, user.user_id, str(scan_id), major=major, middle=middle,
                                                correct=correct)
                counts["scans"] += 1
                counts["points"] += reward.points + reward.character_points
            except psycopg.errors.ForeignKeyViolation:
                counts["no profile yet"] += 1
            time.sleep(0.005)


def ledger_check(database_url: str) -> tuple[int, list[str]]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        (balances,) = conn.execute("SELECT count(*) FROM my.point_balances").fetchone()
        rows = conn.execute(
            """SELECT b.user_id, b.balance, coalesce(sum(l.amount), 0)
                 FROM my.point_balances b LEFT JOIN my.point_ledger l USING (user_id)
                GROUP BY b.user_id, b.balance HAVING b.balance <> coalesce(sum(l.amount), 0)""").fetchall()
    return balances, [f"{u}: balance {b}, ledger {s}" for u, b, s in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=80)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "load-results.json")
    args = parser.parse_args()
    optional = {
        "search": route_exists("info", "GET", "/api/v1/info/search"),
        "nearby": route_exists("location", "GET", "/api/v1/locations/centers"),
    }
    with stack() as st:
        # Each virtual user has an address of its own in X-Forwarded-For; the
        # gateway appends its own hop, so the functions trust two.
        env = st.env(ECO2_TRUSTED_PROXY_HOPS="2", ECO2_LOG_LEVEL="WARNING")
        with gateway.running(env, output=Path(st.workdir) / "gateway.log") as port:
            log(f"gateway on :{port}; {args.users} users for {args.seconds:g} s "
                f"(search {'on' if optional['search'] else 'absent'}, nearby {'on' if optional['nearby'] else 'absent'})")
            load = Load(port, args.users, args.seconds, args.max_requests, optional)
            stop, awarded = threading.Event(), Counter()
            writer = threading.Thread(target=award_scans, args=(st.database_url, load.users, stop, awarded), daemon=True)
            writer.start()
            try:
                elapsed = asyncio.run(load.run())
            finally:
                stop.set()
                writer.join(10)
            lost = asyncio.run(load.verify())
            import urllib.request

            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_eco2/status") as reply:
                functions = {f["name"]: f for f in json.loads(reply.read())["functions"]}
        balances, unbalanced = ledger_check(st.database_url)
        server_log = (Path(st.workdir) / "gateway.log").read_text(errors="replace")

    tally = load.tally
    five = [e for e in tally.errors if " -> 5" in e]
    refused = [e for e in tally.errors if e.startswith("refresh refused")]
    transport = [e for e in tally.errors if ": " in e and " -> " not in e and not e.startswith("refresh")]
    routes = {}
    for name in sorted(tally.statuses):
        lat = [x * 1000 for x in tally.latencies[name]]
        routes[name] = {
            "requests": sum(tally.statuses[name].values()),
            "statuses": {str(k): v for k, v in sorted(tally.statuses[name].items(), key=lambda kv: str(kv[0]))},
            "p50_ms": round(percentile(lat, 50) or 0, 1),
            "p99_ms": round(percentile(lat, 99) or 0, 1),
        }
    checks = {
        "no 5xx": not five,
        "no transport error": not transport,
        "no refresh refused": not refused,
        "no lost write": not lost,
        "every balance equals its ledger sum": not unbalanced,
    }
    result = {
        "users": args.users,
        "seconds": round(elapsed, 1),
        "requests": tally.requests,
        "rps": round(tally.requests / elapsed, 1),
        "edits_acknowledged": sum(1 for u in load.users if u.acked),
        "scans_awarded": dict(awarded),
        "balances_checked": balances,
        "cold_starts": {name: {"starts": f["starts"], "cold_start_ms": f["cold_start_ms"]}
                        for name, f in functions.items() if f["starts"]},
        "routes": routes,
        "checks": checks,
        "problems": (five + transport + refused + lost + unbalanced)[:50],
    }
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\nload: {args.users} users through the dev gateway for {result['seconds']} s: "
          f"{result['requests']} requests ({result['rps']} req/s), {awarded['scans']} scans awarded alongside")
    print(f"{'route':<20} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for name, r in routes.items():
        print(f"{name:<20} {r['requests']:>9} {r['p50_ms']:>8} {r['p99_ms']:>8}  {r['statuses']}")
    print("cold starts: " + ", ".join(f"{n} {c['cold_start_ms']} ms" for n, c in result["cold_starts"].items()))
    print(f"checked: {len([u for u in load.users if u.acked])} users' last acknowledged edits, "
          f"{balances} balances against their ledgers")
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    for problem in result["problems"][:20]:
        print(f"       {problem}")
    if not all(checks.values()):
        if five:
            print(server_log[-3000:], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

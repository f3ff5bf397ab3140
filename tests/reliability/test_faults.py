"""Faults: PostgreSQL stopped mid-run, Redis stopped.

Each test runs servers of its own (embedded, from the pip wheels) so that it
can stop them, and starts them again on the same port and data directory. The
functions are the same in-process instances throughout: recovering means
recovering without a restart.

(A function killed mid-request behind the dev gateway is
tests/gateway/test_scaling.py::test_a_function_killed_mid_request_gives_502_then_cold_starts.)
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterator

import pytest

from eco2.testing import Client
from eco2_tools.embedded import EmbeddedPostgres, EmbeddedRedis

from ..support import Keys, bearer, mint
from .conftest import BY_NAME, SPECS, functions_env, report

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

DB_TIMEOUT = 1.0  # ECO2_DB_TIMEOUT_SECONDS for these functions
REDIS_TIMEOUT = 1.0
# "Not a hang": a request that needs a stopped server answers within its
# configured timeout plus this much (process scheduling on a busy CI machine).
SLACK = 4.0


@pytest.fixture(scope="module")
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    from eco2 import migrate

    server = EmbeddedPostgres(tmp_path_factory.mktemp("faults-postgres"), durable=False)
    server.start()
    migrate.apply(server.url)
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("faults-redis"), persist=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _env(database_url: str, redis_url: str, key_env: dict[str, str]) -> dict[str, str]:
    return functions_env(
        database_url, redis_url, key_env,
        ECO2_LOG_LEVEL="ERROR",
        ECO2_DB_TIMEOUT_SECONDS=str(DB_TIMEOUT),
        ECO2_REDIS_TIMEOUT_SECONDS=str(REDIS_TIMEOUT),
        ECO2_DB_POOL_MAX="8",
    )


def _unavailable(result) -> bool:  # noqa: ANN001
    return (result.status == 503 and result.content_type == "application/problem+json"
            and result.json.get("status") == 503 and int(result.headers.get("Retry-After", "0")) >= 1)


def _eventually(check: Callable[[], bool], timeout: float = 60.0) -> float:
    """Seconds until ``check()`` holds; fails after ``timeout``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not recovered within {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - started


def _award(database_url: str, user_id: str) -> None:
    """A scan with its reward, as the scan function will write them: one transaction."""
    import psycopg

    from eco2.scan import rewards

    with psycopg.connect(database_url, connect_timeout=2) as conn, conn.transaction():
        (scan_id,) = conn.execute(
            "INSERT INTO scan.scans (user_id, major_category, middle_category, recyclable, correct) "
            "VALUES (%s, '재활용폐기물', '종이', true, true) RETURNING id", (user_id,)).fetchone()
        rewards.award_scan(conn, user_id, str(scan_id), major="재활용폐기물", middle="종이", correct=True)


def test_postgres_stopped_mid_run(own_postgres: EmbeddedPostgres, redis_server: str, key_env: dict[str, str],
                                  keys: Keys) -> None:
    """Users sign up (profile + 이코 + 30 points, one transaction), edit their
    profiles, read their points and get scan rewards while PostgreSQL stops and
    comes back. Every answer is 2xx or a 503 problem with Retry-After, none
    waits much past the configured timeout, the same function instances
    recover, no acknowledged write is lost and nothing is half-written."""
    import psycopg

    url = own_postgres.url
    env = _env(url, redis_server, key_env)
    my = Client(BY_NAME["my"].source, env=env)
    character = Client(BY_NAME["character"].source, env=env)
    users = [mint(url, keys) for _ in range(16)]
    for _, token in users[:4]:  # some have profiles before the outage
        assert my.get("/api/v1/user/me", headers=bearer(token)).status == 200

    outcomes: Counter = Counter()
    wrong: list[str] = []
    slowest = 0.0
    acked: dict[str, str] = {}                   # user -> last nickname a 200 confirmed
    attempted: dict[str, list[str]] = {}         # user -> nicknames tried since (answered 503)
    lock = threading.Lock()
    stop = threading.Event()
    outage = threading.Event()

    def call(client: Client, method: str, path: str, token: str, **kw: Any):  # noqa: ANN202
        nonlocal slowest
        started = time.monotonic()
        result = client.request(method, path, headers=bearer(token), **kw)
        took = time.monotonic() - started
        with lock:
            slowest = max(slowest, took)
            outcomes[result.status] += 1
            if result.status >= 300 and not _unavailable(result):
                wrong.append(f"{method} {path} -> {result.status} {result.body[:200]!r}")
            if took > DB_TIMEOUT + SLACK:
                wrong.append(f"{method} {path} took {took:.1f} s (timeout {DB_TIMEOUT} s): a hang")
        return result

    def user_loop(index: int) -> None:
        user_id, token = users[index]
        round_no = 0
        while not stop.is_set():
            round_no += 1
            call(my, "GET", "/api/v1/user/me", token)
            nickname = f"n{index}-{round_no}"
            edited = call(my, "PATCH", "/api/v1/user/me", token, json={"nickname": nickname})
            with lock:
                if edited.status == 200:
                    acked[user_id], attempted[user_id] = nickname, []
                else:
                    attempted.setdefault(user_id, []).append(nickname)
            call(my, "GET", "/api/v1/user/me/points/history", token)
            call(character, "GET", "/api/v1/character/me/analysis", token)
            if round_no <= 12:  # under the daily cap: every scan earns
                try:
                    _award(url, user_id)
                except psycopg.OperationalError:
                    pass  # PostgreSQL down: the transaction is gone whole
            time.sleep(0.01)

    with ThreadPoolExecutor(len(users)) as pool:
        futures = [pool.submit(user_loop, i) for i in range(len(users))]
        time.sleep(1.0)
        own_postgres.stop()
        outage.set()
        stopped_at = time.monotonic()
        time.sleep(2.0)
        # While it is down: a request that needs it is a 503 problem, soon.
        _, token = users[0]
        during = call(my, "GET", "/api/v1/user/me", token)
        assert _unavailable(during), (during.status, during.body)
        own_postgres.start()
        down_for = time.monotonic() - stopped_at
        recovered = _eventually(lambda: my.get("/api/v1/user/me", headers=bearer(token)).status == 200)
        _eventually(lambda: character.get("/api/v1/character/me/analysis",
                                          headers=bearer(token)).status == 200)
        time.sleep(1.0)  # traffic after the recovery, too
        stop.set()
        for future in futures:
            future.result()

    with psycopg.connect(url) as conn:
        unbalanced = conn.execute(
            """SELECT b.user_id, b.balance, coalesce(sum(l.amount), 0)
                 FROM my.point_balances b LEFT JOIN my.point_ledger l USING (user_id)
                GROUP BY b.user_id, b.balance HAVING b.balance <> coalesce(sum(l.amount), 0)""").fetchall()
        half_profiles = conn.execute(
            """SELECT p.user_id FROM my.profiles p
                WHERE NOT EXISTS (SELECT 1 FROM character.ownerships o
                                   WHERE o.user_id = p.user_id AND o.character_code = 'char-eco')
                   OR NOT EXISTS (SELECT 1 FROM my.point_ledger l WHERE l.user_id = p.user_id
                                   AND l.reason = 'character' AND l.source_id = 'char-eco')""").fetchall()
        orphans = conn.execute(
            """SELECT o.user_id FROM character.ownerships o
                WHERE o.character_code = 'char-eco'
                  AND NOT EXISTS (SELECT 1 FROM my.profiles p WHERE p.user_id = o.user_id)""").fetchall()
        unrewarded = conn.execute(
            """SELECT s.id FROM scan.scans s WHERE NOT EXISTS (
                 SELECT 1 FROM my.point_ledger l WHERE l.user_id = s.user_id
                    AND l.reason IN ('scan', 'scan_correct') AND l.source_id = s.id::text)""").fetchall()
        (scans,) = conn.execute("SELECT count(*) FROM scan.scans").fetchone()
        nicknames = dict(conn.execute("SELECT user_id::text, nickname FROM my.profiles").fetchall())
    lost = [f"{user}: has {nicknames.get(user)!r}, acknowledged {nick!r}, tried since {attempted.get(user)}"
            for user, nick in acked.items()
            if nicknames.get(user) != nick and nicknames.get(user) not in attempted.get(user, [])]
    report(f"fault postgres: {sum(outcomes.values())} requests by {len(users)} users, PostgreSQL down "
           f"{down_for:.1f} s; statuses {dict(sorted(outcomes.items()))}; slowest answer {slowest:.2f} s "
           f"(timeout {DB_TIMEOUT:g} s); recovered {recovered:.1f} s after restart without a function restart; "
           f"{scans} rewarded scans, {len(unbalanced)} unbalanced, {len(half_profiles) + len(orphans)} half-written "
           f"sign-ups, {len(unrewarded)} unrewarded scans, {len(lost)} lost edits; {len(wrong)} wrong answers")
    assert wrong == [], wrong[:10]
    assert unbalanced == [] and half_profiles == [] and orphans == [] and unrewarded == []
    assert lost == [], lost[:10]
    my.close()
    character.close()


PUBLIC = {  # routes that need neither a token nor Redis, per function (when the route exists)
    "auth": ["/api/v1/auth/.well-known/jwks.json"],
    "character": ["/api/v1/character/catalog"],
    "info": ["/api/v1/info/categories", "/api/v1/info/search?q=%ED%8E%98%ED%8A%B8%EB%B3%91"],
    "location": ["/api/v1/locations/categories"],
}


def test_redis_stopped(own_redis: EmbeddedRedis, database_url: str, key_env: dict[str, str], keys: Keys) -> None:
    """With Redis stopped, every authenticated route of every function fails
    closed (503 problem, Retry-After, within the Redis timeout), so do the
    routes that rate-limit (sign-in, refresh); public routes keep working.
    Redis back on the same port: the same instances answer 200 again."""
    env = _env(database_url, own_redis.url, key_env)
    clients = {spec.name: Client(spec.source, env=env) for spec in SPECS}
    user_id, token = mint(database_url, keys)
    auth_header = bearer(token)
    dev_login = ("POST", "/api/v1/auth/dev/login", {"json": {"nickname": "레디스"}})
    login = clients["auth"].request(dev_login[0], dev_login[1], **dev_login[2])
    assert login.status == 200, login.body

    def checks() -> list[tuple[str, str, str, dict[str, Any]]]:
        found = []
        for spec in SPECS:
            found.append((spec.name, "GET", f"{spec.prefix}/session", {"headers": auth_header}))
            for route in clients[spec.name].function.router.routes:
                if route.auth and route.method == "GET" and "{" not in route.path and route.query is None:
                    found.append((spec.name, "GET", route.path, {"headers": auth_header}))
        found.append(("auth", *dev_login))
        found.append(("auth", "POST", "/api/v1/auth/refresh", {"json": {"refresh_token": login.json["refresh_token"]}}))
        return found

    for name, method, path, kw in checks():  # all up: these work (refresh rotates once)
        if path != "/api/v1/auth/refresh":
            assert clients[name].request(method, path, **kw).status == 200, (name, path)
    own_redis.stop()
    failed_open, slowest, closed = [], 0.0, 0
    try:
        for name, method, path, kw in checks():
            started = time.monotonic()
            result = clients[name].request(method, path, **kw)
            slowest = max(slowest, time.monotonic() - started)
            if _unavailable(result):
                closed += 1
            else:
                failed_open.append(f"{name} {method} {path} -> {result.status} {result.body[:150]!r}")
        # Account deletion revokes the tokens in Redis first: with Redis down, nothing is deleted.
        deleted = clients["my"].delete("/api/v1/user/me", headers=auth_header)
        if not _unavailable(deleted):
            failed_open.append(f"my DELETE /api/v1/user/me -> {deleted.status}")
        public, broken_public = 0, []
        for spec in SPECS:
            for path in ["/healthz", "/readyz", f"{spec.prefix}/openapi.json", *PUBLIC.get(spec.name, [])]:
                path_only = path.split("?")[0]
                match = clients[spec.name].function.router.match("GET", path_only)
                if not (match and match.route):
                    continue
                public += 1
                result = clients[spec.name].get(path)
                if result.status != 200:
                    broken_public.append(f"{spec.name} GET {path} -> {result.status}")
    finally:
        own_redis.start()
    recovered = _eventually(lambda: clients["my"].get("/api/v1/user/me", headers=auth_header).status == 200)
    import psycopg

    with psycopg.connect(database_url) as conn:
        (kept,) = conn.execute("SELECT count(*) FROM auth.users WHERE id = %s", (user_id,)).fetchone()
    back = [f"{spec.name}" for spec in SPECS
            if clients[spec.name].get(f"{spec.prefix}/session", headers=auth_header).status != 200]
    report(f"fault redis: {closed} authenticated or rate-limited requests failed closed (503) with Redis "
           f"stopped, slowest {slowest:.2f} s (timeout {REDIS_TIMEOUT:g} s); {public} public routes kept "
           f"answering 200; recovered {recovered:.1f} s after restart; {len(failed_open) + len(broken_public)} wrong")
    for client in clients.values():
        client.close()
    assert failed_open == [], failed_open
    assert broken_public == [], broken_public
    assert slowest < REDIS_TIMEOUT + SLACK
    assert back == [], back
    assert kept == 1, "the account was deleted while its tokens could not be revoked"


def _postgres_processes(server: EmbeddedPostgres) -> list[int]:
    """The postmaster and every backend it forked."""
    import os

    postmaster = int((server.datadir / "postmaster.pid").read_text().split()[0])
    found = [postmaster]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == postmaster:
                        found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def test_postgres_that_stops_answering(own_postgres: EmbeddedPostgres, redis_server: str,
                                       key_env: dict[str, str], keys: Keys) -> None:
    """A server that accepts but never answers (SIGSTOP: what a stuck host or a
    lost network looks like from the client) must give 503, not a hang."""
    import os
    import signal

    env = _env(own_postgres.url, redis_server, key_env)
    my = Client(BY_NAME["my"].source, env=env)
    _, token = mint(own_postgres.url, keys)
    auth_header = bearer(token)
    assert my.get("/api/v1/user/me", headers=auth_header).status == 200  # a pooled connection now exists
    answer: dict[str, Any] = {}

    def ask() -> None:
        started = time.monotonic()
        result = my.get("/api/v1/user/me", headers=auth_header)
        answer.update(status=result.status, seconds=time.monotonic() - started, problem=_unavailable(result))

    frozen = _postgres_processes(own_postgres)
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    try:
        asking = threading.Thread(target=ask, daemon=True)
        asking.start()
        asking.join(DB_TIMEOUT + SLACK)
        in_time = dict(answer)
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
    asking.join(30)
    my.close()
    report(f"fault postgres frozen: {'answered ' + str(in_time) if in_time else 'no answer'} within "
           f"{DB_TIMEOUT + SLACK:g} s; after thawing: {answer}")
    assert in_time and in_time["problem"], f"no 503 within {DB_TIMEOUT + SLACK:g} s: {answer}"

"""PostgreSQL and Redis through the runtime: lazy, transactional, and 503 when down."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg
import pytest

from eco2.testing import Client

FIXTURE = Path(__file__).parent / "fixtures" / "routes" / "main.py"
PREFIX = "/api/v1/fixture"
# Nothing listens on port 1: connecting fails at once, like a stopped server.
DOWN = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x", "REDIS_URL": "redis://127.0.0.1:1/0"}


def test_nothing_connects_at_start_up(function_env: dict[str, str]) -> None:
    client = Client(FIXTURE, env=function_env)
    fn = client.function
    assert fn._db is None and fn._redis is None  # noqa: SLF001
    assert client.get("/readyz").status == 200
    assert fn._db is None and fn._redis is None  # noqa: SLF001 - readiness waits on nothing


def test_query_through_the_pool(function_env: dict[str, str]) -> None:
    client = Client(FIXTURE, env=function_env)
    assert client.get(f"{PREFIX}/db").json == {"value": 42}
    # psycopg is imported by the first query, not at start-up
    assert "psycopg_pool" in sys.modules


def test_failed_request_leaves_nothing_written(function_env: dict[str, str]) -> None:
    client = Client(FIXTURE, env=function_env)
    result = client.post(f"{PREFIX}/db/fail")
    assert result.status == 409
    with psycopg.connect(function_env["DATABASE_URL"]) as conn:
        (count,) = conn.execute("SELECT count(*) FROM public.fixture_rows").fetchone()
    assert count == 0


def test_reads_are_single_statements_outside_a_transaction(function_env: dict[str, str]) -> None:
    """A read pays one round trip per statement: no BEGIN, no COMMIT."""
    client = Client(FIXTURE, env=function_env)
    assert client.get(f"{PREFIX}/db/read").json == {"transaction_status": "IDLE"}


def test_a_connection_the_server_closed_is_replaced_before_use(function_env: dict[str, str]) -> None:
    """After a restart (here: the backend terminated), the next request gets a
    fresh connection instead of a 503 from the dead one."""
    client = Client(FIXTURE, env=function_env)
    assert client.get(f"{PREFIX}/db").status == 200
    with client.function.db.pool.connection() as conn:
        old = conn.info.backend_pid
    with psycopg.connect(function_env["DATABASE_URL"], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (old,))
    assert client.get(f"{PREFIX}/db").json == {"value": 42}
    with client.function.db.pool.connection() as conn:
        assert conn.info.backend_pid != old


def test_prepared_statements_by_default(function_env: dict[str, str]) -> None:
    """psycopg's automatic preparation is on: a statement run past its threshold
    (5) is prepared on the server (PgBouncer ≥ 1.22 keeps them: tests/infra)."""
    client = Client(FIXTURE, env=function_env)
    for _ in range(10):
        assert client.get(f"{PREFIX}/db").json == {"value": 42}
    with client.function.db.pool.connection() as conn:
        assert conn.prepare_threshold == 5
        (prepared,) = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    assert prepared >= 1


def test_prepared_statements_off(function_env: dict[str, str]) -> None:
    """ECO2_DB_PREPARE_THRESHOLD=off, for a PgBouncer in transaction mode that
    cannot keep prepared statements (< 1.22): nothing is prepared."""
    client = Client(FIXTURE, env={**function_env, "ECO2_DB_PREPARE_THRESHOLD": "off"})
    for _ in range(10):
        assert client.get(f"{PREFIX}/db").json == {"value": 42}
    with client.function.db.pool.connection() as conn:
        assert conn.prepare_threshold is None
        (prepared,) = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    assert prepared == 0


def test_redis(function_env: dict[str, str]) -> None:
    client = Client(FIXTURE, env=function_env)
    assert client.get(f"{PREFIX}/redis").json == {"pong": True}


@pytest.mark.parametrize("route", ["/db", "/redis"])
def test_unreachable_backing_service_is_503(route: str) -> None:
    client = Client(FIXTURE, env={"ECO2_ENV": "test", "ECO2_DB_TIMEOUT_SECONDS": "1", **DOWN})
    result = client.get(PREFIX + route)
    assert result.status == 503
    assert result.content_type == "application/problem+json"
    assert result.headers["Retry-After"].isdigit()
    assert "127.0.0.1" not in result.body.decode()  # no connection details leak


def test_unconfigured_database_is_503() -> None:
    client = Client(FIXTURE, env={"ECO2_ENV": "test", "DATABASE_URL": "", "REDIS_URL": ""})
    assert client.get(f"{PREFIX}/db").status == 503

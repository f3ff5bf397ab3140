"""Real PostgreSQL, Redis and an S3-compatible store for the tests, never mocks.

``ECO2_TEST_DATABASE_URL`` / ``ECO2_TEST_REDIS_URL`` point the tests at running
servers (this machine's on loopback, say); without them the session starts an
embedded PostgreSQL and Redis from the pip wheels. Each test module gets a
fresh database cloned from a migrated template; each test gets an empty
logical Redis database. The object store is always embedded (moto's S3
server behind S3's presigned-URL checks, eco2_tools.objectstore); each test
that asks gets a bucket of its own.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from eco2.testing import Client
from eco2_tools.embedded import EmbeddedPostgres, EmbeddedRedis, EmbeddedS3

from .support import Keys, mint

# Logical Redis databases 9-11 (this one, reliability's and contract's); under
# pytest-xdist each worker takes the next three, so workers sharing one server
# (ECO2_TEST_REDIS_URL) never flush each other's.
TEST_REDIS_DB = 9 + 3 * int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)


def with_database(url: str, name: str) -> str:
    """``url`` with its database name replaced by ``name``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _admin(url: str):  # noqa: ANN202 - psycopg imported lazily
    import psycopg

    return psycopg.connect(url, autocommit=True)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database."""
    url = os.environ.get("ECO2_TEST_DATABASE_URL")
    if url:
        yield url
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("postgres"), durable=False)
    server.start()
    try:
        yield server.url
    finally:
        Client.close_all()  # the functions' pools, before their server goes away
        server.destroy()


@contextmanager
def scratch_database(pg_server: str, prefix: str, template: str | None = None) -> Iterator[str]:
    """A new database (optionally cloned from ``template``), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    clone = f' TEMPLATE "{template}"' if template else ""
    with _admin(pg_server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{clone}')
    try:
        yield name
    finally:
        with _admin(pg_server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def template_database(pg_server: str) -> Iterator[str]:
    """A database with every migration applied, cloned by ``database_url``."""
    from eco2 import migrate

    with scratch_database(pg_server, "eco2_template") as name:
        migrate.apply(with_database(pg_server, name))
        yield name


@pytest.fixture(scope="module")
def database_url(pg_server: str, template_database: str) -> Iterator[str]:
    """A fresh, migrated database for this test module."""
    with scratch_database(pg_server, "eco2_test", template_database) as name:
        yield with_database(pg_server, name)


@pytest.fixture
def empty_database_url(pg_server: str) -> Iterator[str]:
    """A fresh database with no migrations applied, for the migration tests."""
    with scratch_database(pg_server, "eco2_empty") as name:
        yield with_database(pg_server, name)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("ECO2_TEST_REDIS_URL")
    if url:
        yield url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), persist=False)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def flushed_redis(redis_server: str, db: int) -> str:
    """The URL of logical database ``db`` on ``redis_server``, emptied now."""
    import redis

    url = with_database(redis_server, str(db))
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """A logical Redis database of its own, flushed before the test."""
    return flushed_redis(redis_server, TEST_REDIS_DB)


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A key directory as `eco2 keys generate` makes it: signing.pem, jwks.json."""
    from eco2_tools.keys import generate

    directory = tmp_path_factory.mktemp("keys")
    generate(directory)
    return directory


@pytest.fixture(scope="session")
def keys(signing_keys: Path) -> Keys:
    """The test signing key: tokens as auth issues them, and forged ones."""
    return Keys(signing_keys)


@pytest.fixture(scope="session")
def key_env(keys: Keys) -> dict[str, str]:
    return keys.env


@pytest.fixture
def function_env(database_url: str, redis_url: str, key_env: dict[str, str]) -> dict[str, str]:
    """Environment for a function under test, wired to the test servers."""
    return {"ECO2_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": redis_url, **key_env}


@pytest.fixture
def make_user(database_url: str, keys: Keys):
    """``make_user(nickname=None) -> (user_id, access_token)``: a user in
    auth.users and a token (of the default lifetime) signed as auth signs them."""
    return lambda nickname=None: mint(database_url, keys, nickname, ttl=keys.signer.settings.access_ttl_seconds)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[EmbeddedS3]:
    """The embedded object store, answering a HEAD of a missing key with 403 as
    S3 does for the image function's key (no s3:ListBucket)."""
    server = EmbeddedS3(missing_key_status=403)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_server: EmbeddedS3) -> dict[str, str]:
    """A new bucket on the embedded store, and the image settings' variables for it."""
    bucket = f"eco2-test-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(bucket, ["http://localhost:5173"])
    return s3_server.env(bucket)

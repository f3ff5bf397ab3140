from __future__ import annotations

import uuid

import pytest

from eco2.testing import Client

from ..support import ROOT, Keys, bearer

LOCATION = ROOT / "functions" / "location" / "main.py"


@pytest.fixture(scope="module")
def auth_header(keys: Keys) -> dict[str, str]:
    """An Authorization header with a valid access token (of a user the
    database need not have: location reads no user row)."""
    return bearer(keys.issue(str(uuid.uuid4())))


@pytest.fixture(scope="module")
def location(database_url: str, redis_server: str, key_env: dict[str, str]) -> Client:
    env = {"ECO2_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": redis_server, **key_env}
    return Client(LOCATION, env=env)

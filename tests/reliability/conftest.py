"""The reliability tier: fuzzing, faults and the security regression set.

Every test here runs the functions as production does (``python -m eco2.serve``,
functions-framework loading ``main.py``) on real PostgreSQL and Redis; the fault tests start
servers of their own so that they can stop them. Each test module records what
it checked and what it found with :func:`report`, and the whole tier prints
that at the end of the run (``make test``, ``make fuzz``).
"""

from __future__ import annotations

import uuid
from typing import Callable, Iterator

import pytest

from eco2.testing import Client
from eco2_tools.functions import FunctionSpec, discover

from .. import support
from ..conftest import TEST_REDIS_DB, flushed_redis
from ..support import Keys

SPECS: list[FunctionSpec] = discover()
BY_NAME = {spec.name: spec for spec in SPECS}
RELIABILITY_REDIS_DB = TEST_REDIS_DB + 1  # kept for a whole module, unlike redis_url's

_REPORT: list[str] = []


def report(line: str) -> None:
    """One line for the tier's summary at the end of the test run."""
    _REPORT.append(line)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001 - pytest hook
    if _REPORT:
        terminalreporter.section("reliability: what was checked and what was found")
        for line in _REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def module_redis_url(redis_server: str) -> str:
    """A logical Redis database for this module, flushed when it starts."""
    return flushed_redis(redis_server, RELIABILITY_REDIS_DB)


def functions_env(database_url: str, redis_url: str, key_env: dict[str, str], **extra: str) -> dict[str, str]:
    """As `eco2 dev` runs functions (dev login on), with the rate limits out of the way."""
    return {
        "ECO2_ENV": "dev",
        "ECO2_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ECO2_RATE_LIMIT_PER_MINUTE": "10000",
        **key_env,
        **extra,
    }


@pytest.fixture(scope="module")
def reliability_env(database_url: str, module_redis_url: str, key_env: dict[str, str]) -> dict[str, str]:
    return functions_env(database_url, module_redis_url, key_env)


@pytest.fixture(scope="module")
def mint(database_url: str, keys: Keys) -> Callable[..., tuple[str, str]]:
    """``mint(nickname=None) -> (user_id, access_token)`` in this module's database."""
    return lambda nickname=None: support.mint(database_url, keys, nickname)


@pytest.fixture(scope="module")
def clients(reliability_env: dict[str, str]) -> Iterator[dict[str, Client]]:
    """Every function, loaded once for the module."""
    loaded = {spec.name: Client(spec.source, env=reliability_env) for spec in SPECS}
    yield loaded
    for client in loaded.values():
        client.close()


def fresh_nickname() -> str:
    return "r" + uuid.uuid4().hex[:10]

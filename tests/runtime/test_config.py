"""Configuration: validated at start-up; a bad value stops the process, naming the variable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from eco2 import config
from eco2_tools import serve

from ..support import ROOT

FIXTURE = Path(__file__).parent / "fixtures" / "routes" / "main.py"


def test_defaults() -> None:
    settings = config.load(environ={})
    assert settings.env == "prod"
    assert settings.database_url is None
    assert settings.max_body_bytes == 1 << 20


def test_values_from_environment() -> None:
    settings = config.load(environ={"ECO2_ENV": "dev", "ECO2_MAX_BODY_BYTES": "2048"})
    assert settings.env == "dev" and settings.max_body_bytes == 2048


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ECO2_ENV", "staging"),
        ("ECO2_MAX_BODY_BYTES", "lots"),
        ("ECO2_MAX_BODY_BYTES", "7"),
        ("DATABASE_URL", "mysql://user:hunter2@db/x"),
        ("REDIS_URL", "memcached://x"),
        ("ECO2_DB_TIMEOUT_SECONDS", "-1"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(config.ConfigError) as raised:
        config.load(environ={name: value})
    assert raised.value.code == 78
    assert name in raised.value.message
    assert value not in raised.value.message  # values may be secrets


def test_bad_value_stops_the_function_process() -> None:
    """Served as in production (python -m eco2.serve): the process exits before listening."""
    argv, variables = serve.command(FIXTURE, 0, host=None)
    env = {**os.environ, **variables, "PYTHONPATH": str(ROOT / "platform"), "ECO2_MAX_BODY_BYTES": "nope"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 78
    assert "ECO2_MAX_BODY_BYTES" in done.stderr

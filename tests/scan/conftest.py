from __future__ import annotations

from typing import Any

import pytest

from eco2 import config
from eco2.scan.settings import ScanSettings

from tests.fakes.openai_server import fake_openai  # noqa: F401 - the fixture


def scan_settings(**env: Any) -> ScanSettings:
    """ScanSettings from these variables only (not the test process's environment)."""
    return config.load(ScanSettings, {k: str(v) for k, v in env.items()})


@pytest.fixture
def settings() -> ScanSettings:
    return scan_settings()

"""Fixtures: gateways stopped after each test, a repository root safe to edit."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..support import ROOT
from .harness import RunningGateway


@pytest.fixture
def start_gateway() -> Iterator[Callable[..., RunningGateway]]:
    """Start gateways (options as for :class:`Gateway`); all are stopped afterwards."""
    started: list[RunningGateway] = []

    def start(**options: Any) -> RunningGateway:
        running = RunningGateway(**options)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def tmp_root(tmp_path: Path) -> Path:
    """A repository root of our own, safe to edit: copies of functions/ and
    platform/eco2/ (pass ``platform=tmp_root / "platform"``), so that edits made
    meanwhile to the real ones restart nothing here."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "functions", tmp_path / "functions", ignore=skip)
    shutil.copytree(ROOT / "platform" / "eco2", tmp_path / "platform" / "eco2", ignore=skip)
    return tmp_path

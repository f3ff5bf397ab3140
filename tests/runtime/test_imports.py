"""What a cold start loads and looks up: nothing a first request does not need (docs/bench.md)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ..support import ROOT


def in_fresh_python(code: str, **env: str) -> str:
    """What ``code`` prints in a new interpreter with the runtime on its path
    (and ``PYDANTIC_DISABLE_PLUGINS`` only as ``env`` gives it)."""
    base = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    done = subprocess.run([sys.executable, "-c", code], env={**base, "PYTHONPATH": str(ROOT / "platform"), **env},
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_pydantic_plugins_off_unless_the_environment_says() -> None:
    """eco2 uses no pydantic plugin: looking for them reads every installed
    distribution's metadata at the first model."""
    show = "import os, eco2; print(repr(os.environ['PYDANTIC_DISABLE_PLUGINS']))"
    assert in_fresh_python(show) == "'__all__'"
    assert in_fresh_python(show, PYDANTIC_DISABLE_PLUGINS="") == "''"


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        # auth takes the nickname rule from profiles; only a profile's creation grants.
        ("eco2.my.profiles", {"eco2.character.catalog", "eco2.my.points"}),
        # a refresh: accounts names oauth's Profile in annotations only.
        ("eco2.auth.sessions", {"eco2.auth.oauth"}),
    ],
)
def test_module_does_not_load(module: str, absent: set[str]) -> None:
    loaded = set(in_fresh_python(f"import sys, {module}; print(' '.join(sys.modules))").split())
    assert module in loaded
    assert not absent & loaded

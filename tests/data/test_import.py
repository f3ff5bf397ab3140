"""`eco2 import` rebuilds the shipped data (platform/eco2/data/) byte for byte
from the repository alone: a fresh clone of the commit under test, its own
data/sources/, its own code. The shipped files are then reproducible, not
just committed.

A clone sees only what is committed: run this after committing a change to
the data, the sources or the importers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..support import ROOT

pytestmark = pytest.mark.timeout(300)


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed: no clone to make")
    try:
        head = _git("rev-parse", "HEAD", cwd=ROOT).strip()
    except subprocess.CalledProcessError:
        pytest.skip(f"{ROOT} is not a git checkout: no clone to make")
    target = tmp_path_factory.mktemp("clone") / "eco2"
    _git("clone", "--quiet", "--no-checkout", str(ROOT), str(target), cwd=ROOT)
    _git("-c", "advice.detachedHead=false", "checkout", "--quiet", head, cwd=target)
    return target


def test_import_rebuilds_the_shipped_data_from_a_fresh_clone(clone: Path) -> None:
    assert (clone / "data" / "sources" / "LICENSE.original").is_file()
    env = {**os.environ, "PYTHONPATH": str(clone / "platform")}  # the clone's code, not this checkout's
    done = subprocess.run(
        [sys.executable, "-c", "from eco2_tools.cli import main; main()", "import"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("wrote ") == 3, done.stdout  # characters, knowledge, locations
    for line in done.stdout.splitlines():
        assert str(clone) in line, f"an importer wrote outside the clone: {line}"
    changed = _git("status", "--porcelain", "--", "platform/eco2/data", cwd=clone)
    diff = _git("diff", "--stat", "--", "platform/eco2/data", cwd=clone) if changed else ""
    assert changed == "", f"the import differs from the shipped data:\n{changed}{diff}"

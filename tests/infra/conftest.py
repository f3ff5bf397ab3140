"""The infra tier: offline checks of terraform/, ansible/ and .github/workflows/.

The slow external checkers (checkov, ansible-lint, the playbook syntax check,
yamllint, actionlint) all start together at the first test of this directory
and run while the pure-Python tests (python-hcl2 over the Terraform files,
the dashboard's PromQL) proceed; each test then waits for its own result.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.infra.tools import BIN, ROOT, Check, venv_bin
from tests.support import CHECKOV


@pytest.fixture(scope="session")
def checks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Check]]:
    home = tmp_path_factory.mktemp("ansible-home")
    ansible_env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_HOME": str(home),  # not the user's ~/.ansible, shared with other runs
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "NO_COLOR": "1",
    }
    checkov_out = tmp_path_factory.mktemp("checkov")
    found: dict[str, Check] = {
        "ansible-syntax": Check(
            [str(venv_bin("ansible-playbook")), "-i", "inventory/example.yml", "--syntax-check", "site.yml"],
            cwd=ROOT / "ansible",
            env=ansible_env,
        ),
        "ansible-lint": Check(
            [str(venv_bin("ansible-lint")), "--offline", "--profile", "production", "--nocolor", "site.yml"],
            cwd=ROOT / "ansible",
            env=ansible_env,
        ),
        "yamllint": Check(
            [str(venv_bin("yamllint")), "--strict", "-c", "tests/infra/yamllint.yml", ".github", "ansible"],
        ),
        "actionlint": Check(
            [str(venv_bin("actionlint")), "-no-color", "-oneline", "-shellcheck", str(venv_bin("shellcheck"))],
        ),
        "checkov": Check(
            [
                str(CHECKOV),
                "--framework", "terraform",
                "--skip-download",
                "--directory", "terraform",
                "--compact",
                "--quiet",
                "--output", "cli",
                "--output", "json",
                "--output-file-path", str(checkov_out),
            ],
            env={"BC_SKIP_MAPPING": "TRUE", "NO_COLOR": "1"},
            output_dir=checkov_out,
        ),
    }
    if not CHECKOV.exists():  # its test skips and says why
        del found["checkov"]
    for check in found.values():
        check.start()
    yield found
    for check in found.values():
        if check.process and check.process.poll() is None:
            check.process.kill()
            check.process.wait()


@pytest.fixture(autouse=True)
def _start_checks_early(checks: dict[str, Check]) -> None:
    """Every test here starts the background checkers, so the first one does."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """More than the suite's 120 s per test here: checkov shares two busy cores
    with ansible-lint."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.timeout(600))

"""The external checkers, each started in the background by conftest.py."""

from __future__ import annotations

import json

import pytest

from tests.infra.tools import Check
from tests.support import CHECKOV


def test_checkov_passes_every_terraform_check_it_does_not_skip_with_a_reason(checks: dict[str, Check]) -> None:
    if not CHECKOV.exists():
        pytest.skip("checkov's venv is missing: run `make install` (it creates .tools/checkov)")
    code, output = checks["checkov"].result()
    report = checks["checkov"].output_dir / "results_json.json"
    assert report.is_file(), output
    summary = json.loads(report.read_text())["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for c in json.loads(report.read_text())["results"]["failed_checks"]
    ]
    assert code == 0 and not failed, "\n".join(failed) or output
    assert summary["passed"] > 200 and summary["parsing_errors"] == 0, summary


def test_playbook_syntax_check(checks: dict[str, Check]) -> None:
    code, output = checks["ansible-syntax"].result()
    assert code == 0, output


def test_ansible_lint_production_profile(checks: dict[str, Check]) -> None:
    code, output = checks["ansible-lint"].result()
    assert code == 0, output
    assert "Profile 'production' was required, and it passed" in output, output


def test_yamllint(checks: dict[str, Check]) -> None:
    code, output = checks["yamllint"].result()
    assert code == 0, output


def test_actionlint_with_shellcheck(checks: dict[str, Check]) -> None:
    code, output = checks["actionlint"].result()
    assert code == 0, output

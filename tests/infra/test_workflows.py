"""The GitHub Actions workflows wire CI and CD the way docs/infrastructure.md says."""

from __future__ import annotations

from typing import Any

import yaml

from tests.infra.tools import ROOT

WORKFLOWS = ROOT / ".github/workflows"


def workflow(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job.get("steps", []))


def uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"].split("@")[0] for step in job.get("steps", []) if "uses" in step]


def test_ci_tests_every_push_with_the_same_entry_point_and_no_terraform_init() -> None:
    ci = workflow("ci.yml")
    assert {"push", "pull_request", "workflow_call"} <= set(ci[True])  # YAML 1.1 reads `on` as True
    (job,) = ci["jobs"].values()
    assert "bash .ci/run" in runs(job)
    assert "terraform init" not in (WORKFLOWS / "ci.yml").read_text() + (ROOT / ".ci/run").read_text()


def test_cd_tests_then_builds_changed_functions_from_eco2_build_and_commits_digests() -> None:
    cd = workflow("cd.yml")
    assert cd[True]["push"]["branches"] == ["main"]
    jobs = cd["jobs"]
    assert jobs["test"]["uses"] == "./.github/workflows/ci.yml"
    build = jobs["build"]
    assert set(build["needs"]) == {"test", "changes"}
    assert build["permissions"]["packages"] == "write"
    assert '.venv/bin/eco2 build "${{ matrix.function }}"' in runs(build)
    push = next(step for step in build["steps"] if step.get("uses", "").startswith("docker/build-push-action"))
    assert push["with"]["context"] == "build/${{ matrix.function }}"
    assert push["with"]["file"] == "build/${{ matrix.function }}/Containerfile"
    assert "${{ env.REGISTRY }}" in str(build["steps"]) and cd["env"]["REGISTRY"] == "ghcr.io"
    gitops = jobs["gitops"]
    assert gitops["permissions"] == {"contents": "write"}
    assert cd["env"]["OVERLAY"] == "knative/overlays/prod"
    assert "kustomize edit set image" in runs(gitops) and "git push origin HEAD:main" in runs(gitops)
    # The shared runtime is vendored into every image: touching it rebuilds all.
    assert "platform/eco2/" in runs(jobs["changes"])


def test_terraform_plan_runs_on_pull_requests_touching_terraform() -> None:
    tf = workflow("terraform.yml")
    assert "terraform/**" in tf[True]["pull_request"]["paths"]
    plan = tf["jobs"]["plan"]
    assert plan["permissions"]["id-token"] == "write", "AWS through OIDC, no stored keys"
    assert "terraform plan" in runs(plan) and "actions/github-script" in uses(plan)
    apply = tf["jobs"]["apply"]
    assert apply["environment"] == "production" and "workflow_dispatch" in apply["if"]

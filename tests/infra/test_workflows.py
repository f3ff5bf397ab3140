"""The GitHub Actions workflows wire CI and CD the way docs/infrastructure.md says."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from eco2_tools.cli import main as eco2_cli
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
    assert "git push origin HEAD:main" in runs(gitops)
    # The shared runtime is vendored into every image: touching it rebuilds all,
    # the migration Job's image included.
    assert "platform/eco2/" in runs(jobs["changes"]) and "echo migrate" in runs(jobs["changes"])


def test_terraform_plan_runs_on_pull_requests_touching_terraform() -> None:
    tf = workflow("terraform.yml")
    assert "terraform/**" in tf[True]["pull_request"]["paths"]
    plan = tf["jobs"]["plan"]
    assert plan["permissions"]["id-token"] == "write", "AWS through OIDC, no stored keys"
    assert "terraform plan" in runs(plan) and "actions/github-script" in uses(plan)
    apply = tf["jobs"]["apply"]
    assert apply["environment"] == "production" and "workflow_dispatch" in apply["if"]


# -- CD pins images the one way the repository does: eco2 render --digest ----------


def step(job: dict[str, Any], name_start: str) -> dict[str, Any]:
    return next(s for s in job["steps"] if s.get("name", "").startswith(name_start))


def eco2_invocations() -> list[list[str]]:
    """Every `.venv/bin/eco2 ...` command line in the workflows, ${{ }} and $VAR as placeholders."""
    found = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        text = re.sub(r"\$\{\{[^}]*\}\}", "PLACEHOLDER", path.read_text())
        for line in text.splitlines():
            if ".venv/bin/eco2 " in line:
                command = line[line.index(".venv/bin/eco2 "):].split("|")[0].split("&&")[0].split(">>")[0]
                command = re.sub(r"\$\([^)]*\)\)?", "PLACEHOLDER", command)
                found.append(shlex.split(command)[1:])
    return found


def test_no_workflow_pins_images_outside_knative_images_yaml() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        assert "kustomize edit" not in text, f"{path.name}: images are pinned by eco2 render --digest"
        assert "overlays/prod/kustomization" not in text


def test_every_eco2_command_the_workflows_run_exists_with_its_options() -> None:
    calls = eco2_invocations()
    assert {call[0] for call in calls} >= {"build", "image", "render"}
    for call in calls:
        command = eco2_cli.get_command(click.Context(eco2_cli), call[0])
        assert command is not None, f"eco2 {call[0]} does not exist"
        options = {opt for param in command.params for opt in getattr(param, "opts", []) if opt.startswith("-")}
        for word in call[1:]:
            if word.startswith("-"):
                assert word.split("=")[0] in options, f"eco2 {call[0]} has no option {word}"


def test_the_gitops_step_pins_digests_where_render_reads_them(tmp_path: Path) -> None:
    """Run the workflow's own pin step on a copy of the repository: the digests land in
    knative/images.yaml and the rendered Services, and the commit step adds both."""
    cd = workflow("cd.yml")
    gitops = cd["jobs"]["gitops"]
    pin = step(gitops, "Pin the new digests")["run"]
    commit = step(gitops, "Commit and push")["run"]
    # The copy: what `eco2 render` reads and writes, and the CLI itself.
    for part in ("functions", "knative", "platform/eco2_tools"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "eco2").write_text(f"#!/bin/sh\nexec {sys.executable} -c 'from eco2_tools.cli import main; main()' \"$@\"\n")
    (bin_dir / "eco2").chmod(0o755)
    (tmp_path / "digests").mkdir()
    digests = {"auth": "sha256:" + "a" * 64, "migrate": "sha256:" + "b" * 64}
    for name, digest in digests.items():
        (tmp_path / "digests" / name).write_text(digest + "\n")  # as the build job writes them
    script = pin.replace("make install\n", "")  # the copy's CLI needs no install
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "platform"), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=tmp_path, env=env, check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    git("add", "functions", "knative", "platform")
    git("commit", "-qm", "before")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr

    images = yaml.safe_load((tmp_path / "knative/images.yaml").read_text())
    assert images["digests"] == digests
    auth = yaml.safe_load((tmp_path / "knative/services/auth.yaml").read_text())
    image = auth["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == f"{images['registry']}/eco2-auth@{digests['auth']}"
    job = yaml.safe_load((tmp_path / "knative/services/migrate-job.yaml").read_text())
    assert job["spec"]["template"]["spec"]["containers"][0]["image"].endswith("@" + digests["migrate"])
    check = subprocess.run([str(bin_dir / "eco2"), "render", "--check"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    # The commit step stages every file the pin changed, and nothing is left behind.
    git_add = next(line.strip() for line in commit.splitlines() if line.strip().startswith("git add"))
    subprocess.run(git_add, shell=True, cwd=tmp_path, env=env, check=True)
    staged = set(git("diff", "--cached", "--name-only").split())
    assert staged == {"knative/images.yaml", "knative/services/auth.yaml", "knative/services/migrate-job.yaml"}
    assert git("status", "--porcelain", "--untracked-files=no").splitlines() == [f"M  {p}" for p in sorted(staged)]


def test_cd_pushes_where_the_services_pull_from() -> None:
    build = workflow("cd.yml")["jobs"]["build"]
    naming = step(build, "Name the image")["run"]
    assert ".venv/bin/eco2 image" in naming and "GITHUB_OUTPUT" in naming
    push = next(s for s in build["steps"] if s.get("uses", "").startswith("docker/build-push-action"))
    tags = push["with"]["tags"].splitlines()
    assert tags == ["${{ steps.image.outputs.repository }}:${{ github.sha }}",
                    "${{ steps.image.outputs.repository }}:${{ steps.image.outputs.tag }}"]
    record = step(build, "Record the pushed digest")
    assert record["env"]["DIGEST"] == "${{ steps.push.outputs.digest }}"

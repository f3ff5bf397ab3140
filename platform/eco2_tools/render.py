"""`eco2 render`: every functions/*/function.yaml as a Knative Service in knative/services/.

The output is committed, and a test fails when it differs from a fresh render,
so the YAML in git is always what function.yaml says. Besides the Services it
writes the migration Job (the same image settings, so a digest pin reaches it
too), the kustomization that lists them all, and terraform/api_routes.tf.json:
every path prefix (aliases included) and the function that owns it, which the
ALB's single-host path rules are built from (terraform/modules/ingress).

Images come from knative/images.yaml: ``<registry>/eco2-<name>@<digest>`` when
a digest is recorded there (CD writes it with ``eco2 render --digest``), else
``<registry>/eco2-<name>:<tag>``, which Knative resolves to a digest when it
creates the revision.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eco2_tools.functions import FunctionSpec, discover, repo_root, routes

NAMESPACE = "eco2"
# The image's user (build.py creates it); runAsNonRoot needs a numeric id.
RUN_AS = 65532
PORT = 8080
# A service account without an API token (knative/base/app/serviceaccount.yaml):
# Knative's pod spec cannot turn automounting off, the account can.
SERVICE_ACCOUNT = "eco2-function"
# This deployment's public settings (knative/base/app/settings.yaml; the
# overlay's patches fill in the values): what function.yaml's `settings` name.
SETTINGS = "eco2-settings"
MIGRATE = "migrate"
ROUTES = Path("terraform") / "api_routes.tf.json"
FIRST_RULE = 100  # the ALB's listener-rule priorities below it stay free for the operator
HEADER = "# Rendered by `eco2 render` from {source}: do not edit, edit that and render again.\n"
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def images_file(root: Path) -> Path:
    return root / "knative" / "images.yaml"


def read_images(root: Path) -> dict[str, Any]:
    import yaml

    images = yaml.safe_load(images_file(root).read_text(encoding="utf-8"))
    for name, digest in (images.get("digests") or {}).items():
        if not DIGEST.match(str(digest)):
            raise ValueError(
                f"{images_file(root)}: digests/{name}: not a sha256 digest: {digest!r}"
            )
    return images


def repository_for(name: str, images: Mapping[str, Any]) -> str:
    """Where ``name``'s images are pushed (CD) and pulled from (the Services)."""
    return f"{images['registry']}/eco2-{name}"


def image_for(name: str, images: Mapping[str, Any]) -> str:
    """The image reference of ``name``: pinned by digest when one is known."""
    repository = repository_for(name, images)
    digest = (images.get("digests") or {}).get(name)
    return f"{repository}@{digest}" if digest else f"{repository}:{images['tag']}"


def known_images(root: Path) -> set[str]:
    """The names with an image: every function, and the migration Job's."""
    return {fn.name for fn in discover(root)} | {MIGRATE}


def labels(name: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "eco2",
        "app.kubernetes.io/managed-by": "eco2-render",
    }


def security_context() -> dict[str, Any]:
    """Non-root, read-only root filesystem, no privilege: what every eco2 container runs with."""
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _secret_env(entry: Mapping[str, Any], value_from_file: str | None = None) -> dict[str, Any]:
    if value_from_file is not None:
        return {"name": entry["env"], "value": value_from_file}
    ref = {"name": entry["secret"], "key": entry["key"]}
    if entry.get("optional"):
        ref["optional"] = True
    return {"name": entry["env"], "valueFrom": {"secretKeyRef": ref}}


def _annotations(spec: Mapping[str, Any]) -> dict[str, str]:
    """The revision template's annotations: autoscaling and the progress deadline."""
    keys = {
        "minScale": "autoscaling.knative.dev/min-scale",
        "maxScale": "autoscaling.knative.dev/max-scale",
        "initialScale": "autoscaling.knative.dev/initial-scale",
        "target": "autoscaling.knative.dev/target",
        "targetUtilization": "autoscaling.knative.dev/target-utilization-percentage",
        "scaleDownDelay": "autoscaling.knative.dev/scale-down-delay",
        "scaleToZeroRetention": "autoscaling.knative.dev/scale-to-zero-pod-retention-period",
    }
    scaling = spec["scaling"]
    found = {annotation: str(scaling[key]) for key, annotation in keys.items() if key in scaling}
    if "progressDeadline" in spec:
        found["serving.knative.dev/progress-deadline"] = spec["progressDeadline"]
    return found


def service(fn: FunctionSpec, image: str) -> dict[str, Any]:
    """The Knative Service of one function."""
    spec = fn.spec
    name = fn.name
    pod_labels = labels(name, "function")
    if "https" in spec.get("egress", []):
        pod_labels["eco2/egress-https"] = "true"  # selected by the allow-https NetworkPolicy

    env = [{"name": key, "value": value} for key, value in spec.get("env", {}).items()]
    if fn.graceful_timeout is not None:
        # eco2.serve gives gunicorn this graceful timeout (docs/deploy.md).
        env.append({"name": "ECO2_GRACEFUL_TIMEOUT_SECONDS", "value": str(fn.graceful_timeout)})
    env += [
        {"name": name, "valueFrom": {"configMapKeyRef": {"name": SETTINGS, "key": name}}}
        for name in spec.get("settings", [])
    ]
    env += [_secret_env(entry) for entry in spec.get("secrets", [])]

    mounts: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    for index, writable in enumerate(spec.get("writable", [])):
        volume = f"writable-{index}"
        mounts.append({"name": volume, "mountPath": writable["path"]})
        volumes.append({"name": volume, "emptyDir": {"sizeLimit": writable["sizeLimit"]}})
    for entry in spec.get("secretFiles", []):
        volume = f"secret-{entry['secret']}"
        directory = f"/var/run/secrets/eco2/{entry['secret']}"
        env.append(_secret_env(entry, value_from_file=f"{directory}/{entry['key']}"))
        if all(v["name"] != volume for v in volumes):
            source: dict[str, Any] = {"secretName": entry["secret"], "defaultMode": 0o440}
            if entry.get("optional"):
                source["optional"] = True
            volumes.append({"name": volume, "secret": source})
            mounts.append({"name": volume, "mountPath": directory, "readOnly": True})

    container: dict[str, Any] = {
        "name": "function",
        "image": image,
        "ports": [{"name": "http1", "containerPort": PORT}],
        "env": env,
        "resources": spec["resources"],
        # No periodSeconds: queue-proxy then probes aggressively (every few ms)
        # until the first success, so a cold start is not rounded up to a period.
        # No startupProbe: Knative's readiness already gates traffic.
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": PORT}},
        "securityContext": security_context(),
    }
    if mounts:
        container["volumeMounts"] = mounts

    template_spec: dict[str, Any] = {
        "serviceAccountName": SERVICE_ACCOUNT,
        "enableServiceLinks": False,  # no *_SERVICE_HOST variables: less env, nothing to leak
        "containerConcurrency": spec["scaling"].get("containerConcurrency", 0),
        "timeoutSeconds": spec["timeoutSeconds"],
    }
    for key in ("responseStartTimeoutSeconds", "idleTimeoutSeconds"):
        if key in spec:
            template_spec[key] = spec[key]
    # The pod's own context (Knative's kubernetes.podspec-securitycontext
    # feature): fsGroup makes the mounted secret files (mode 0440) readable.
    template_spec["securityContext"] = {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "fsGroup": RUN_AS,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    template_spec["containers"] = [container]
    if volumes:
        template_spec["volumes"] = volumes

    metadata: dict[str, Any] = {
        "name": name,
        "namespace": NAMESPACE,
        "labels": labels(name, "function"),
    }
    if spec["visibility"] == "cluster-local":
        metadata["labels"]["networking.knative.dev/visibility"] = "cluster-local"
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {
            "template": {
                "metadata": {"labels": pod_labels, "annotations": _annotations(spec)},
                "spec": template_spec,
            },
            "traffic": [{"latestRevision": True, "percent": 100}],
        },
    }


def migrate_job(image: str) -> dict[str, Any]:
    """The Job that applies migrations and reference data before a rollout.

    ArgoCD runs it as a PreSync hook (recreated on every sync); without ArgoCD,
    docs/deploy.md deletes and applies it before `eco2 deploy`.
    """
    pod_labels = labels(MIGRATE, "migration")
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "eco2-migrate",
            "namespace": NAMESPACE,
            "labels": pod_labels,
            "annotations": {
                "argocd.argoproj.io/hook": "PreSync",
                "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
            },
        },
        "spec": {
            # Migrations run under an advisory lock and are idempotent: a retry is safe.
            "backoffLimit": 3,
            "activeDeadlineSeconds": 600,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": MIGRATE,
                            "image": image,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["python", "-m", "eco2.migrate"],
                            "env": [
                                _secret_env(
                                    {"env": "DATABASE_URL", "secret": "eco2-database", "key": "url"}
                                )
                            ],
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"cpu": "1", "memory": "256Mi"},
                            },
                            "securityContext": security_context(),
                        }
                    ],
                },
            },
        },
    }


def dump(document: Mapping[str, Any], source: str) -> str:
    import yaml

    return HEADER.format(source=source) + yaml.safe_dump(
        dict(document), sort_keys=False, default_flow_style=False, allow_unicode=True, width=100
    )


def api_routes(functions: list[FunctionSpec]) -> str:
    """terraform/api_routes.tf.json: ``local.api_routes``, path prefix -> its
    function and the priority of its ALB rule.

    In the order of :func:`eco2_tools.functions.routes`, the dev gateway's.
    JSON, not HCL, because Terraform reads it as configuration and the standard
    library writes it; its "//" property is Terraform's JSON comment.
    """
    document = {
        "//": HEADER.removeprefix("# ").strip().format(source="functions/*/function.yaml"),
        "locals": {
            "api_routes": {
                prefix: {"function": fn.name, "priority": FIRST_RULE + index}
                for index, (prefix, fn) in enumerate(routes(functions))
            }
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render(root: Path | None = None) -> dict[Path, str]:
    """Every file eco2 render writes, by path, with its text; nothing is written."""
    root = root or repo_root()
    images = read_images(root)
    out_dir = root / "knative" / "services"
    files: dict[Path, str] = {}
    functions = discover(root)
    for fn in functions:
        source = f"functions/{fn.name}/function.yaml"
        files[out_dir / f"{fn.name}.yaml"] = dump(service(fn, image_for(fn.name, images)), source)
    files[out_dir / "migrate-job.yaml"] = dump(
        migrate_job(image_for(MIGRATE, images)), "knative/images.yaml"
    )
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [f"{fn.name}.yaml" for fn in functions] + ["migrate-job.yaml"],
    }
    files[out_dir / "kustomization.yaml"] = dump(kustomization, "functions/*/function.yaml")
    files[root / ROUTES] = api_routes(functions)
    return files


def stale(root: Path | None = None) -> list[Path]:
    """Rendered files that differ from a fresh render, and files under knative/services/
    that no function renders."""
    root = root or repo_root()
    files = render(root)
    out_dir = root / "knative" / "services"
    present = set(out_dir.glob("*.yaml")) if out_dir.is_dir() else set()
    differ = [
        p for p, text in files.items() if not p.is_file() or p.read_text(encoding="utf-8") != text
    ]
    return sorted(differ + [p for p in present if p not in files])


def write(root: Path | None = None) -> list[Path]:
    """Render and write; return the files that changed. Files no function renders are removed."""
    root = root or repo_root()
    changed = stale(root)
    files = render(root)
    for path in changed:
        if path in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[path], encoding="utf-8")
        else:
            path.unlink()
    return changed


def record_digest(root: Path, name: str, digest: str) -> None:
    """Pin ``name``'s image to ``digest`` in knative/images.yaml (the rest of the file is kept)."""
    if not DIGEST.match(digest):
        raise ValueError(f"not a sha256 digest: {digest!r}")
    known = known_images(root)
    if name not in known:
        raise ValueError(f"no function {name!r} (known: {', '.join(sorted(known))})")
    import yaml

    path = images_file(root)
    images = yaml.safe_load(path.read_text(encoding="utf-8"))
    digests = dict(images.get("digests") or {})
    digests[name] = digest
    # Rewrite only the digests block so the file's comments survive.
    text = path.read_text(encoding="utf-8")
    head = text.split("\ndigests:", 1)[0].rstrip("\n")
    body = yaml.safe_dump(
        {"digests": dict(sorted(digests.items()))}, sort_keys=False, default_flow_style=False
    )
    path.write_text(f"{head}\n{body}", encoding="utf-8")

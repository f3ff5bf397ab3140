"""`eco2 deploy / status / rollback / traffic`: Knative Services through the kubernetes client.

Everything goes through ``CustomObjectsApi`` on ``serving.knative.dev/v1``:

- deploy: create the rendered Service, or server-side apply it (field manager
  ``eco2``), then wait until Knative reports it Ready for this generation,
  printing each change of its conditions; a failed revision ends the wait with
  Knative's own message.
- status: each function's URL, latest ready revision, traffic and readiness.
- rollback: pin 100 % of traffic to the revision before the one serving now,
  or to a named one.
- traffic: split traffic between revisions for a canary.

Deploying rolls forward: the rendered Service sends all traffic to the latest
revision, so a deploy undoes an earlier rollback or split.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

GROUP, VERSION, SERVICES, REVISIONS = "serving.knative.dev", "v1", "services", "revisions"
FIELD_MANAGER = "eco2"
LATEST = "latest"


class DeployError(RuntimeError):
    """A deploy, rollback or traffic change that did not take: the message says why."""


def api(context: str | None = None, config_file: str | None = None) -> Any:
    """A CustomObjectsApi for a kubeconfig context (default: the current one).

    Without a kubeconfig, inside a pod (a CI runner in the cluster), the pod's
    service account is used.
    """
    import os

    from kubernetes import client, config

    try:
        api_client = config.new_client_from_config(config_file=config_file, context=context)
    except config.ConfigException:
        if context or config_file or "KUBERNETES_SERVICE_HOST" not in os.environ:
            raise
        config.load_incluster_config()
        api_client = client.ApiClient()
    return client.CustomObjectsApi(api_client)


def _not_found(exc: Exception) -> bool:
    return getattr(exc, "status", None) == 404


def get_service(custom: Any, namespace: str, name: str) -> dict[str, Any] | None:
    from kubernetes.client import ApiException

    try:
        return custom.get_namespaced_custom_object(GROUP, VERSION, namespace, SERVICES, name)
    except ApiException as exc:
        if _not_found(exc):
            return None
        raise


def condition(obj: dict[str, Any], kind: str = "Ready") -> dict[str, Any]:
    for entry in obj.get("status", {}).get("conditions", []) or []:
        if entry.get("type") == kind:
            return entry
    return {"type": kind, "status": "Unknown"}


def _observed(obj: dict[str, Any]) -> bool:
    """Has Knative's controller seen this generation of the spec yet?"""
    generation = obj.get("metadata", {}).get("generation")
    return generation is not None and obj.get("status", {}).get("observedGeneration") == generation


def _describe(obj: dict[str, Any]) -> str:
    parts = []
    for entry in obj.get("status", {}).get("conditions", []) or []:
        text = f"{entry.get('type')}={entry.get('status')}"
        if entry.get("reason"):
            text += f" {entry['reason']}"
        if entry.get("message"):
            text += f": {entry['message']}"
        parts.append(text)
    return "; ".join(parts) or "no status yet"


def wait_ready(
    custom: Any,
    namespace: str,
    name: str,
    timeout: float,
    echo: Callable[[str], None],
    interval: float = 1.0,
) -> dict[str, Any]:
    """Poll the Service until Ready=True for its current generation; raise on False or timeout."""
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        obj = get_service(custom, namespace, name)
        if obj is None:
            raise DeployError(f"{name}: the Service disappeared while waiting for it")
        ready = condition(obj)
        if _observed(obj):
            if ready.get("status") == "True":
                return obj
            if ready.get("status") == "False":
                raise DeployError(
                    f"{name}: {ready.get('reason', 'NotReady')}: {ready.get('message', '')}".rstrip(
                        ": "
                    )
                )
        state = _describe(obj) if _observed(obj) else "waiting for Knative to see the new spec"
        if state != last:
            echo(f"{name}: {state}")
            last = state
        if time.monotonic() >= deadline:
            raise DeployError(f"{name}: not ready after {timeout:.0f} s ({state})")
        time.sleep(interval)


def apply_service(custom: Any, namespace: str, body: dict[str, Any]) -> str:
    """Create the Service or apply it over the existing one; say which."""
    name = body["metadata"]["name"]
    body = {**body, "metadata": {**body["metadata"], "namespace": namespace}}
    if get_service(custom, namespace, name) is None:
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, SERVICES, body)
        return "created"
    custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        SERVICES,
        name,
        body,
        field_manager=FIELD_MANAGER,
        force=True,
        _content_type="application/apply-patch+yaml",
    )
    return "updated"


def deploy(
    custom: Any,
    namespace: str,
    bodies: Iterable[dict[str, Any]],
    timeout: float,
    echo: Callable[[str], None],
    interval: float = 1.0,
) -> list[dict[str, Any]]:
    """Apply every Service first (they roll out in parallel), then wait for each."""
    names = []
    for body in bodies:
        name = body["metadata"]["name"]
        echo(f"{name}: {apply_service(custom, namespace, body)}")
        names.append(name)
    ready = []
    failures = []
    for name in names:
        try:
            obj = wait_ready(custom, namespace, name, timeout, echo, interval)
        except DeployError as exc:
            failures.append(str(exc))
            continue
        st = obj["status"]
        echo(f"{name}: ready, {st.get('url', '(no URL)')} ({st.get('latestReadyRevisionName')})")
        ready.append(obj)
    if failures:
        raise DeployError("\n".join(failures))
    return ready


@dataclass(frozen=True)
class Status:
    name: str
    deployed: bool
    ready: str = "-"
    url: str = "-"
    latest_ready: str = "-"
    traffic: str = "-"
    reason: str = ""


def _traffic_text(obj: dict[str, Any]) -> str:
    entries = obj.get("status", {}).get("traffic") or []
    text = []
    for entry in entries:
        revision = entry.get("revisionName", "?")
        if entry.get("latestRevision"):
            revision += " (latest)"
        text.append(f"{revision} {entry.get('percent', 0)}%")
    return ", ".join(text) or "-"


def status(custom: Any, namespace: str, names: Iterable[str]) -> list[Status]:
    out = []
    for name in names:
        obj = get_service(custom, namespace, name)
        if obj is None:
            out.append(Status(name, deployed=False))
            continue
        ready = condition(obj)
        st = obj.get("status", {})
        out.append(
            Status(
                name,
                True,
                ready=ready.get("status", "Unknown"),
                url=st.get("url", "-"),
                latest_ready=st.get("latestReadyRevisionName", "-"),
                traffic=_traffic_text(obj),
                reason=""
                if ready.get("status") == "True"
                else ready.get("message", ready.get("reason", "")),
            )
        )
    return out


def revisions(custom: Any, namespace: str, name: str) -> list[dict[str, Any]]:
    """The Service's revisions, oldest first (by Knative's configuration generation)."""
    listing = custom.list_namespaced_custom_object(
        GROUP, VERSION, namespace, REVISIONS, label_selector=f"serving.knative.dev/service={name}"
    )
    # The selector is checked again here: cheap, and the result cannot depend
    # on the server having honoured it.
    items = [
        r
        for r in listing.get("items", [])
        if r.get("metadata", {}).get("labels", {}).get("serving.knative.dev/service") == name
    ]

    def generation(rev: dict[str, Any]) -> int:
        return int(
            rev["metadata"].get("labels", {}).get("serving.knative.dev/configurationGeneration", 0)
        )

    return sorted(items, key=generation)


def _serving_revision(obj: dict[str, Any]) -> str | None:
    """The revision that takes the most traffic now."""
    entries = obj.get("status", {}).get("traffic") or []
    if not entries:
        return obj.get("status", {}).get("latestReadyRevisionName")
    return max(entries, key=lambda e: e.get("percent", 0)).get("revisionName")


def _ready_revision(rev: dict[str, Any]) -> bool:
    return condition(rev).get("status") == "True"


def set_traffic(
    custom: Any,
    namespace: str,
    name: str,
    split: dict[str, int],
    timeout: float,
    echo: Callable[[str], None],
    interval: float = 1.0,
) -> dict[str, Any]:
    """Route ``split`` (revision or ``latest`` -> percent, summing to 100) and wait for it."""
    total = sum(split.values())
    if total != 100 or any(p < 0 for p in split.values()):
        raise DeployError(f"{name}: percentages must be from 0 to 100 and add up to 100, not {total}")
    if get_service(custom, namespace, name) is None:
        raise DeployError(f"{name}: not deployed in namespace {namespace}")
    known = {r["metadata"]["name"]: r for r in revisions(custom, namespace, name)}
    traffic = []
    for revision, percent in split.items():
        if revision == LATEST:
            traffic.append({"latestRevision": True, "percent": percent})
            continue
        if revision not in known:
            raise DeployError(
                f"{name}: no revision {revision!r} (known: {', '.join(known) or 'none'})"
            )
        if not _ready_revision(known[revision]):
            why = condition(known[revision]).get("message", "")
            raise DeployError(f"{name}: revision {revision} is not ready: {why}")
        traffic.append({"revisionName": revision, "latestRevision": False, "percent": percent})
    # A merge patch replaces the whole traffic list, as intended.
    custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        SERVICES,
        name,
        {"spec": {"traffic": traffic}},
        _content_type="application/merge-patch+json",
    )
    obj = wait_ready(custom, namespace, name, timeout, echo, interval)
    echo(f"{name}: traffic {_traffic_text(obj)}")
    return obj


def rollback(
    custom: Any,
    namespace: str,
    name: str,
    to: str | None,
    timeout: float,
    echo: Callable[[str], None],
    interval: float = 1.0,
) -> dict[str, Any]:
    """Pin all traffic to ``to``, or to the newest ready revision older than the one serving."""
    obj = get_service(custom, namespace, name)
    if obj is None:
        raise DeployError(f"{name}: not deployed in namespace {namespace}")
    if to is None:
        serving = _serving_revision(obj)
        found = revisions(custom, namespace, name)
        ordered = [r["metadata"]["name"] for r in found]
        ready = {r["metadata"]["name"] for r in found if _ready_revision(r)}
        if serving not in ordered:
            raise DeployError(
                f"{name}: the serving revision {serving!r} is not among its revisions"
            )
        older = [r for r in ordered[: ordered.index(serving)] if r in ready]
        if not older:
            raise DeployError(f"{name}: no ready revision before {serving} to roll back to")
        to = older[-1]
    echo(f"{name}: pinning 100% of traffic to {to}")
    return set_traffic(custom, namespace, name, {to: 100}, timeout, echo, interval)


def parse_split(items: Iterable[str]) -> dict[str, int]:
    """``REV=PCT`` arguments (``latest`` for the latest ready revision) as a mapping."""
    split: dict[str, int] = {}
    for item in items:
        revision, sep, percent = item.partition("=")
        if not sep or not revision or not percent.isdigit():
            raise DeployError(f"{item!r}: expected REVISION=PERCENT, e.g. auth-00003=90")
        if revision in split:
            raise DeployError(f"{revision} is given twice")
        split[revision] = int(percent)
    return split

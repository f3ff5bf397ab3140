"""kmock's Kubernetes emulator, in a thread, with Knative's controller played by the test.

kmock keeps objects and answers the API, but it is no apiserver: it bumps no
``metadata.generation``, validates nothing, answers a create with 200 and
has no PUT. The subclass adds the one apiserver duty eco2 relies on (a new
generation on every spec change, in the same request), and ``Knative``
reconciles Services the way Knative's controller would: a revision per
generation, the Ready condition, the route's traffic and URL. Both remember
what they last saw in ``test/*`` annotations on the object. The static checks
(tests/knative/test_static.py) cover the validation kmock skips.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import kmock

SERVICES = kmock.resource("serving.knative.dev/v1/services")
REVISIONS = kmock.resource("serving.knative.dev/v1/revisions")


class Apiserver(kmock.KubernetesEmulator):
    """Bumps metadata.generation when a write changes an object's spec, as the apiserver does."""

    async def _serve_create(self, request: kmock.Request) -> Any:
        obj = await super()._serve_create(request)
        self._bump(request.resource, obj)
        return self._current(request.resource, obj)

    async def _serve_update(self, request: kmock.Request) -> Any:
        obj = await super()._serve_update(request)
        self._bump(request.resource, obj)
        return self._current(request.resource, obj)

    def _key(self, resource: Any, obj: dict[str, Any]) -> tuple[Any, str, str]:
        meta = obj.get("metadata", {})
        return (resource, meta.get("namespace"), meta.get("name"))

    def _current(self, resource: Any, obj: dict[str, Any]) -> dict[str, Any]:
        return self.objects[self._key(resource, obj)].raw

    def _bump(self, resource: Any, obj: dict[str, Any]) -> None:
        stored = self.objects[self._key(resource, obj)]
        raw = stored.raw
        spec_seen = raw.get("metadata", {}).get("annotations", {}).get("test/spec-seen")
        spec_now = repr(raw.get("spec"))
        if spec_seen != spec_now:
            generation = raw.get("metadata", {}).get("generation", 0) + 1
            stored.patch(
                {
                    "metadata": {
                        "generation": generation,
                        "annotations": {"test/spec-seen": spec_now},
                    }
                }
            )


class Knative:
    """Reconciles Services in the emulator, one step per call to ``reconcile``."""

    def __init__(self, server: Apiserver, domain: str = "api.example.com") -> None:
        self.server = server
        self.domain = domain
        self.fail_images: dict[str, str] = {}  # image substring -> container failure message
        self.revision_count: dict[str, int] = {}

    def reconcile(self) -> None:
        for (resource, namespace, name), stored in list(self.server.objects.items()):
            if resource != SERVICES or stored.deleted:
                continue
            svc = stored.raw
            generation = svc["metadata"].get("generation", 1)
            status = svc.get("status", {})
            if status.get("observedGeneration") == generation:
                continue
            patch = self._status(namespace, name, svc, generation)
            stored.patch({"status": patch})

    def _status(
        self, namespace: str, name: str, svc: dict[str, Any], generation: int
    ) -> dict[str, Any]:
        status = dict(svc.get("status", {}))
        spec = svc["spec"]
        template_seen = svc["metadata"].get("annotations", {}).get("test/template-seen")
        template_now = repr(spec["template"])
        latest_ready = status.get("latestReadyRevisionName")
        if template_seen != template_now:
            # A new revision for a new template.
            count = self.revision_count.get(name, 0) + 1
            self.revision_count[name] = count
            revision = f"{name}-{count:05d}"
            image = spec["template"]["spec"]["containers"][0]["image"]
            failure = next((msg for part, msg in self.fail_images.items() if part in image), None)
            self._create_revision(namespace, name, revision, count, failure)
            status["latestCreatedRevisionName"] = revision
            self.server.objects[(SERVICES, namespace, name)].patch(
                {"metadata": {"annotations": {"test/template-seen": template_now}}}
            )
            if failure:
                message = f'Revision "{revision}" failed with message: {failure}.'
                status.update(
                    observedGeneration=generation,
                    conditions=[
                        {
                            "type": "ConfigurationsReady",
                            "status": "False",
                            "reason": "RevisionFailed",
                            "message": message,
                        },
                        {
                            "type": "Ready",
                            "status": "False",
                            "reason": "RevisionFailed",
                            "message": message,
                        },
                        {"type": "RoutesReady", "status": "True"},
                    ],
                )
                return status
            latest_ready = revision
        traffic = []
        for entry in spec.get("traffic", [{"latestRevision": True, "percent": 100}]):
            if entry.get("latestRevision"):
                traffic.append(
                    {
                        "revisionName": latest_ready,
                        "latestRevision": True,
                        "percent": entry["percent"],
                    }
                )
            else:
                traffic.append(
                    {
                        "revisionName": entry["revisionName"],
                        "latestRevision": False,
                        "percent": entry["percent"],
                    }
                )
        status.update(
            observedGeneration=generation,
            latestReadyRevisionName=latest_ready,
            url=f"http://{name}.{self.domain}",
            traffic=traffic,
            conditions=[
                {"type": t, "status": "True"}
                for t in ("ConfigurationsReady", "Ready", "RoutesReady")
            ],
        )
        return status

    def _create_revision(
        self, namespace: str, service: str, revision: str, generation: int, failure: str | None
    ) -> None:
        ready = (
            {"type": "Ready", "status": "False", "reason": "ContainerMissing", "message": failure}
            if failure
            else {"type": "Ready", "status": "True"}
        )
        self.server.objects[(REVISIONS, namespace, revision)] = {
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Revision",
            "metadata": {
                "name": revision,
                "namespace": namespace,
                "labels": {
                    "serving.knative.dev/service": service,
                    "serving.knative.dev/configuration": service,
                    "serving.knative.dev/configurationGeneration": str(generation),
                },
            },
            "status": {"conditions": [ready]},
        }


@contextmanager
def running(tmp_path: Path, step: float = 0.05) -> Iterator[tuple[Path, Knative, Apiserver]]:
    """The emulator on a loopback port, a kubeconfig for it, and the fake controller running."""
    started = threading.Event()
    holder: dict[str, Any] = {}

    async def serve() -> None:
        stop = asyncio.Event()
        async with Apiserver() as server, kmock.Server(server) as http:
            server.resources["serving.knative.dev/v1/services"] = {
                "kind": "Service",
                "namespaced": True,
                "verbs": ["get", "list", "create", "patch"],
            }
            server.resources["serving.knative.dev/v1/revisions"] = {
                "kind": "Revision",
                "namespaced": True,
                "verbs": ["get", "list"],
            }
            knative = Knative(server)
            holder.update(
                server=server,
                url=str(http.url).rstrip("/"),
                knative=knative,
                loop=asyncio.get_running_loop(),
                stop=stop,
            )
            started.set()

            async def controller() -> None:
                while not stop.is_set():
                    knative.reconcile()
                    await asyncio.sleep(step)

            task = asyncio.create_task(controller())
            await stop.wait()
            task.cancel()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert started.wait(10), "kmock did not start"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: emulator\n"
        f"clusters: [{{name: emulator, cluster: {{server: '{holder['url']}'}}}}]\n"
        "users: [{name: nobody, user: {}}]\n"
        "contexts: [{name: emulator, context: {cluster: emulator, user: nobody, namespace: eco2}}]\n"
    )
    try:
        yield kubeconfig, holder["knative"], holder["server"]
    finally:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(10)

"""The requests a workload adapter makes, over the request layer (the I/O edge of workloads/)."""

from __future__ import annotations

from kubectl_harness_rollback.cluster import rest
from kubectl_harness_rollback.kinds import Kind


class NamespacedCalls:
    """The calls an adapter makes on the resource of its kind, over the request layer, returning plain dicts."""

    def __init__(self, kind: Kind):
        self.api = rest.Resource.of(kind)

    def list(self, kube, namespace: str) -> list[dict]:
        return kube.list(self.api, namespace)

    def read(self, kube, namespace: str, name: str) -> dict:
        return kube.get(self.api, name, namespace)

    def patch(self, kube, namespace: str, name: str, body, dry_run: dict) -> dict:
        """A list body is sent as a JSON patch, a dict as a strategic merge patch."""
        return kube.patch(self.api, name, namespace, body, "json" if isinstance(body, list) else "strategic",
                          dry_run=bool(dry_run))

    def delete(self, kube, namespace: str, name: str, body: dict, dry_run: dict) -> dict:
        return kube.delete(self.api, name, namespace, body=body, dry_run=bool(dry_run))

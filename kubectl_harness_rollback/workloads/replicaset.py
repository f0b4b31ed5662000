"""Bare ReplicaSets (no owning Deployment): no revisions; each release names its own ReplicaSet."""

from __future__ import annotations

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.model import WorkloadRef, WorkloadState
from kubectl_harness_rollback.workloads.calls import NamespacedCalls
from kubectl_harness_rollback.workloads.common import annotations, labels, template_images

KIND = kinds.REPLICA_SET
kind = KIND.name
# No revisions of its own: each release names its own ReplicaSet, and a rollback scales them.
has_revisions = KIND.revisions is not None

_api = NamespacedCalls(KIND)
read, patch, delete = _api.read, _api.patch, _api.delete


def list_workloads(kube, namespace: str) -> list[dict]:
    sets = _api.list(kube, namespace)
    # A ReplicaSet a Deployment controls is that Deployment's revision, not a workload.
    return [rs for rs in sets if not any(ref.get("controller") for ref in rs["metadata"].get("ownerReferences") or [])]


def list_children(kube, namespace: str, workload: dict) -> list[dict]:
    return []


def state(workload: dict, children: list[dict]) -> WorkloadState:
    meta, spec = workload["metadata"], workload["spec"]
    return WorkloadState(
        ref=WorkloadRef(kind, meta["name"], meta["namespace"]),
        resource_version=meta.get("resourceVersion", ""),
        current_revision=None,
        images=template_images(spec.get("template")),
        revisions=[],
        has_revisions=has_revisions,
        replicas=spec.get("replicas"),
        annotations=annotations(workload),
        labels=labels(workload),
        raw=workload,
    )


def scale_patch(state: WorkloadState, replicas: int, audit: dict[str, str]) -> dict:
    """A bare ReplicaSet is rolled back by scale: guarded by the resourceVersion read."""
    return {"metadata": {"resourceVersion": state.resource_version, "annotations": dict(audit)},
            "spec": {"replicas": replicas}}


def restore(state: WorkloadState, change, audit: dict[str, str]) -> dict | None:
    """A bare ReplicaSet is restored by its scale: to `change.to_replicas` (the rollback-to one up
    to the failed one's replicas, the failed one to zero); None when it is already there."""
    if change.to_replicas is None or state.replicas == change.to_replicas:
        return None
    return scale_patch(state, change.to_replicas, audit)


def observed(obj: dict) -> bool:
    return (obj.get("status") or {}).get("observedGeneration", 0) >= obj["metadata"].get("generation", 0)


def current_revision(kube, namespace: str, obj: dict) -> int | None:
    return None


def rollout_status(obj: dict, restored_from: str | None = None) -> tuple[bool, str]:
    name, status = obj["metadata"]["name"], obj.get("status") or {}
    want, ready = obj["spec"].get("replicas", 1), status.get("readyReplicas", 0)
    if not observed(obj) or ready < want or status.get("replicas", 0) != want:
        return False, f'Waiting for replica set "{name}": {ready} of {want} replicas are ready...'
    return True, f'replica set "{name}" has {want} ready replicas'


"""Bare ReplicaSets (no owning Deployment): no revisions; each release names its own ReplicaSet."""

from __future__ import annotations

from kubectl_harness_rollback.model import WorkloadRef, WorkloadState
from kubectl_harness_rollback.workloads.common import annotations, template_images

kind = "ReplicaSet"


def list_workloads(kube, namespace: str) -> list[dict]:
    sets = kube.list_all(kube.apps.list_namespaced_replica_set, namespace)
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
        replicas=spec.get("replicas"),
        annotations=annotations(workload),
    )

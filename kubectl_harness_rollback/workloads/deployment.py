"""Deployments: revisions are the ReplicaSets the Deployment controls."""

from __future__ import annotations

from kubectl_harness_rollback.model import Revision, WorkloadRef, WorkloadState
from kubectl_harness_rollback.workloads.common import (
    annotations, controlled_by, parse_revision_number, selector_string, template_images,
)

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DEFAULT_REVISION_HISTORY_LIMIT = 10

kind = "Deployment"


def list_workloads(kube, namespace: str) -> list[dict]:
    return kube.list_all(kube.apps.list_namespaced_deployment, namespace)


def list_children(kube, namespace: str, workload: dict) -> list[dict]:
    # kubectl's way: list by the Deployment's selector, then keep what it controls.
    selector = selector_string(workload["spec"].get("selector"))
    return kube.list_all(kube.apps.list_namespaced_replica_set, namespace, label_selector=selector)


def _revision(ref: WorkloadRef, replica_set: dict) -> Revision | None:
    notes = annotations(replica_set)
    number = parse_revision_number(notes.get(REVISION))
    if number is None:
        return None
    previous = tuple(int(n) for n in (notes.get(REVISION_HISTORY) or "").split(",") if n.strip().isdigit())
    status = replica_set.get("status") or {}
    return Revision(
        workload=ref,
        number=number,
        previous_numbers=previous,
        object_kind="ReplicaSet",
        object_name=replica_set["metadata"]["name"],
        images=template_images(replica_set["spec"].get("template")),
        annotations=notes,
        replicas=replica_set["spec"].get("replicas"),
        ready_replicas=status.get("readyReplicas", 0),
    )


def state(workload: dict, children: list[dict]) -> WorkloadState:
    meta, spec = workload["metadata"], workload["spec"]
    ref = WorkloadRef(kind, meta["name"], meta["namespace"])
    revisions = [r for r in (_revision(ref, rs) for rs in children if controlled_by(rs, workload)) if r]
    revisions.sort(key=lambda r: r.number)
    return WorkloadState(
        ref=ref,
        resource_version=meta.get("resourceVersion", ""),
        current_revision=parse_revision_number(annotations(workload).get(REVISION)),
        images=template_images(spec.get("template")),
        revisions=revisions,
        revision_history_limit=spec.get("revisionHistoryLimit", DEFAULT_REVISION_HISTORY_LIMIT),
        paused=bool(spec.get("paused")),
        replicas=spec.get("replicas"),
        annotations=annotations(workload),
    )

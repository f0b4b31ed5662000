"""StatefulSets: revisions are ControllerRevisions; status.updateRevision names the current one."""

from __future__ import annotations

from kubectl_harness_rollback.model import WorkloadState
from kubectl_harness_rollback.workloads import controller_revisions

kind = "StatefulSet"
list_children = controller_revisions.list_children


def list_workloads(kube, namespace: str) -> list[dict]:
    return kube.list_all(kube.apps.list_namespaced_stateful_set, namespace)


def state(workload: dict, children: list[dict]) -> WorkloadState:
    current = (workload.get("status") or {}).get("updateRevision")
    return controller_revisions.state(kind, workload, children, current)

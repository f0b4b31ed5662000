"""DaemonSets: revisions are ControllerRevisions; the highest is the current one."""

from __future__ import annotations

from kubectl_harness_rollback.model import WorkloadState
from kubectl_harness_rollback.workloads import controller_revisions

kind = "DaemonSet"
list_children = controller_revisions.list_children


def list_workloads(kube, namespace: str) -> list[dict]:
    return kube.list_all(kube.apps.list_namespaced_daemon_set, namespace)


def state(workload: dict, children: list[dict]) -> WorkloadState:
    return controller_revisions.state(kind, workload, children, None)

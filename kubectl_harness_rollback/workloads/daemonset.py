"""DaemonSets: revisions are ControllerRevisions; the highest is the current one."""

from __future__ import annotations

from kubectl_harness_rollback.model import WorkloadState
from kubectl_harness_rollback.workloads import controller_revisions

kind = "DaemonSet"
list_children = controller_revisions.list_children
rollback_patch = controller_revisions.rollback_patch
observed = controller_revisions.observed


def list_workloads(kube, namespace: str) -> list[dict]:
    return kube.list_all(kube.apps.list_namespaced_daemon_set, namespace)


def state(workload: dict, children: list[dict]) -> WorkloadState:
    return controller_revisions.state(kind, workload, children, None)


def read(kube, namespace: str, name: str) -> dict:
    return kube.call(kube.apps.read_namespaced_daemon_set, name, namespace)


def patch(kube, namespace: str, name: str, body, dry_run: dict) -> dict:
    return kube.call(kube.apps.patch_namespaced_daemon_set, name, namespace, body, **dry_run)


def current_revision(kube, namespace: str, obj: dict) -> int | None:
    return controller_revisions.new_revision_number(kube, namespace, {**obj, "kind": kind}, None)


def rollout_status(obj: dict) -> tuple[bool, str]:
    """(done, message) in the words of `kubectl rollout status daemonset/NAME`."""
    name, status = obj["metadata"]["name"], obj.get("status") or {}
    if not observed(obj):
        return False, "Waiting for daemon set spec update to be observed..."
    want, updated = status.get("desiredNumberScheduled", 0), status.get("updatedNumberScheduled", 0)
    if updated < want:
        return False, (f'Waiting for daemon set "{name}" rollout to finish: {updated} out of {want} '
                       "new pods have been updated...")
    available = status.get("numberAvailable", 0)
    if available < want:
        return False, f'Waiting for daemon set "{name}" rollout to finish: {available} of {want} updated pods are available...'
    return True, f'daemon set "{name}" successfully rolled out'


def delete(kube, namespace: str, name: str, body: dict, dry_run: dict) -> dict:
    return kube.call(kube.apps.delete_namespaced_daemon_set, name, namespace, body=body, **dry_run)

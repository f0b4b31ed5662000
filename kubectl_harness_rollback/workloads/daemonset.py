"""DaemonSets: revisions are ControllerRevisions; the highest is the current one."""

from __future__ import annotations

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.model import WorkloadState
from kubectl_harness_rollback.workloads import controller_revisions
from kubectl_harness_rollback.workloads.calls import NamespacedCalls

KIND = kinds.DAEMON_SET
kind = KIND.name

_api = NamespacedCalls(KIND)
read, patch, delete = _api.read, _api.patch, _api.delete
list_workloads = _api.list
list_children = controller_revisions.list_children
has_revisions = KIND.revisions is not None
restore = controller_revisions.restore
observed = controller_revisions.observed


def state(workload: dict, children: list[dict]) -> WorkloadState:
    return controller_revisions.state(kind, workload, children, None)


def current_revision(kube, namespace: str, obj: dict) -> int | None:
    return controller_revisions.new_revision_number(kube, namespace, {**obj, "kind": kind}, None)


def rollout_status(obj: dict, restored_from: str | None = None) -> tuple[bool, str]:
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


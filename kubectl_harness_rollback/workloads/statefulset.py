"""StatefulSets: revisions are ControllerRevisions; status.updateRevision names the current one."""

from __future__ import annotations

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.model import WorkloadState
from kubectl_harness_rollback.workloads import controller_revisions
from kubectl_harness_rollback.workloads.calls import NamespacedCalls

KIND = kinds.STATEFUL_SET
kind = KIND.name

_api = NamespacedCalls(KIND)
read, patch, delete = _api.read, _api.patch, _api.delete
list_workloads = _api.list
list_children = controller_revisions.list_children
has_revisions = KIND.revisions is not None
restore = controller_revisions.restore
observed = controller_revisions.observed


def state(workload: dict, children: list[dict]) -> WorkloadState:
    current = (workload.get("status") or {}).get("updateRevision")
    return controller_revisions.state(kind, workload, children, current)


def current_revision(kube, namespace: str, obj: dict) -> int | None:
    obj = {**obj, "kind": kind}
    return controller_revisions.new_revision_number(kube, namespace, obj, (obj.get("status") or {}).get("updateRevision"))


def rollout_status(obj: dict, restored_from: str | None = None) -> tuple[bool, str]:
    """(done, message) in the words of `kubectl rollout status statefulset/NAME`."""
    spec, status = obj["spec"], obj.get("status") or {}
    if not status.get("observedGeneration") or not observed(obj):
        return False, "Waiting for statefulset spec update to be observed..."
    want, ready = spec.get("replicas", 1), status.get("readyReplicas", 0)
    if ready < want:
        return False, f"Waiting for {want - ready} pods to be ready..."
    if status.get("updateRevision") != status.get("currentRevision"):
        return False, (f"waiting for statefulset rolling update to complete {status.get('updatedReplicas', 0)} "
                       f"pods at revision {status.get('updateRevision')}...")
    return True, f"statefulset rolling update complete {status.get('currentReplicas', 0)} pods at revision " \
                 f"{status.get('currentRevision')}..."


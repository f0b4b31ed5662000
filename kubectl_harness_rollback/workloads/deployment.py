"""Deployments: revisions are the ReplicaSets the Deployment controls."""

from __future__ import annotations

import copy
import re

from kubectl_harness_rollback import digits, kinds
from kubectl_harness_rollback.cluster.rest import REPLICASETS
from kubectl_harness_rollback.errors import RolloutFailed
from kubectl_harness_rollback.model import Revision, WorkloadRef, WorkloadState
from kubectl_harness_rollback.workloads.calls import NamespacedCalls
from kubectl_harness_rollback.workloads.common import (
    annotations,
    controlled_by,
    labels,
    parse_revision_number,
    selector_string,
    template_images,
)
from kubectl_harness_rollback.workloads.owners import is_ownership_key

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DEFAULT_REVISION_HISTORY_LIMIT = 10

KIND = kinds.DEPLOYMENT
kind = KIND.name
has_revisions = KIND.revisions is not None

_api = NamespacedCalls(KIND)
read, patch, delete = _api.read, _api.patch, _api.delete
list_workloads = _api.list


def list_children(kube, namespace: str, workload: dict) -> list[dict]:
    # kubectl's way: list by the Deployment's selector, then keep what it controls.
    selector = selector_string(workload["spec"].get("selector"))
    return kube.list(REPLICASETS, namespace, label_selector=selector)


def _revision(ref: WorkloadRef, replica_set: dict) -> Revision | None:
    notes = annotations(replica_set)
    number = parse_revision_number(notes.get(REVISION))
    if number is None:
        return None
    previous = digits.naturals(notes.get(REVISION_HISTORY))
    # `list` reads most ReplicaSets as metadata only (PartialObjectMetadata): no spec, no status.
    spec = replica_set.get("spec") or {}
    return Revision(
        workload=ref,
        number=number,
        previous_numbers=previous,
        object_kind=kinds.REPLICA_SET.name,
        object_name=replica_set["metadata"]["name"],
        images=template_images(spec.get("template")),
        annotations=notes,
        replicas=spec.get("replicas"),
        raw=replica_set,
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
        labels=labels(workload),
        raw=workload,
    )


# kubectl rollout undo keeps the live values of these: they are the controller's (and
# kubectl apply's) own bookkeeping, not part of the revision being restored.
BOOKKEEPING_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
)
POD_TEMPLATE_HASH = "pod-template-hash"


def restored_template(revision: Revision) -> dict:
    """The ReplicaSet's pod template without the label the controller adds to it."""
    template = copy.deepcopy(revision.raw["spec"]["template"])
    labels = template.get("metadata", {}).get("labels") or {}
    labels.pop(POD_TEMPLATE_HASH, None)
    return template


def rollback_patch(state: WorkloadState, revision: Revision, audit: dict[str, str]) -> list:
    """kubectl's undo as one JSON patch, guarded by the resourceVersion read when planning.

    Replaces the template with the ReplicaSet's and the annotations with the ReplicaSet's
    (which carry the identity of the release being restored), keeping the live bookkeeping keys.
    Unlike kubectl, the live ownership annotations (Helm's, Argo CD's, Flux's) are kept too and
    the ReplicaSet's old ones are not brought back: who owns the Deployment now is not part of
    the revision, and Helm refuses to upgrade a Deployment whose `meta.helm.sh/*` are gone.
    """
    restored = {k: v for k, v in revision.annotations.items()
                if k not in BOOKKEEPING_ANNOTATIONS and not is_ownership_key(k)}
    restored.update({k: state.annotations[k] for k in BOOKKEEPING_ANNOTATIONS if k in state.annotations})
    restored.update({k: v for k, v in state.annotations.items() if is_ownership_key(k)})
    restored.update(audit)
    return [
        {"op": "replace", "path": "/metadata/resourceVersion", "value": state.resource_version},
        {"op": "replace", "path": "/spec/template", "value": restored_template(revision)},
        {"op": "replace", "path": "/metadata/annotations", "value": restored},
    ]


def restore(state: WorkloadState, change, audit: dict[str, str]) -> list:
    """A Deployment is restored to the template of the change's ReplicaSet."""
    return rollback_patch(state, change.source, audit)


def observed(obj: dict) -> bool:
    return (obj.get("status") or {}).get("observedGeneration", 0) >= obj["metadata"].get("generation", 0)


def rollout_status(obj: dict, restored_from: str | None = None) -> tuple[bool, str]:
    """(done, message) in the words of `kubectl rollout status deployment/NAME`.

    `restored_from` names the ReplicaSet a rollback just restored, so that a deadline condition
    left over from the rollout rolled back from does not end the wait (see _left_over)."""
    name, spec, status = obj["metadata"]["name"], obj["spec"], obj.get("status") or {}
    if not observed(obj):
        return False, "Waiting for deployment spec update to be observed..."
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded" \
                and not _left_over(condition, restored_from):
            raise RolloutFailed(f'deployment "{name}" exceeded its progress deadline')
    want, updated = spec.get("replicas", 1), status.get("updatedReplicas", 0)
    if updated < want:
        return False, (f'Waiting for deployment "{name}" rollout to finish: {updated} out of {want} '
                       "new replicas have been updated...")
    if status.get("replicas", 0) > updated:
        return False, (f'Waiting for deployment "{name}" rollout to finish: {status.get("replicas", 0) - updated} '
                       "old replicas are pending termination...")
    if status.get("availableReplicas", 0) < updated:
        return False, (f'Waiting for deployment "{name}" rollout to finish: {status.get("availableReplicas", 0)} '
                       f"of {updated} updated replicas are available...")
    return True, f'deployment "{name}" successfully rolled out'


_TIMED_OUT = re.compile(r'^ReplicaSet "([^"]+)" has timed out progressing')


def _left_over(condition: dict, restored_from: str | None) -> bool:
    """True for a ProgressDeadlineExceeded condition about another ReplicaSet than the restored one.

    The controller keeps a timed-out condition, message and all, until the rollout moves again
    (SetDeploymentCondition does not replace a condition of the same status and reason): the first
    status it writes after a rollback of a stalled rollout has the new observedGeneration and still
    says the failed ReplicaSet "has timed out progressing". One sync later it says the restored
    ReplicaSet is progressing. A condition that names no ReplicaSet, or the restored one, is real."""
    if restored_from is None:
        return False
    named = _TIMED_OUT.match(condition.get("message") or "")
    return named is not None and named.group(1) != restored_from


def current_revision(kube, namespace: str, obj: dict) -> int | None:
    """The revision number the controller gave the restored template (once it observed it)."""
    return parse_revision_number(annotations(obj).get(REVISION))


"""StatefulSets and DaemonSets: revisions are the ControllerRevisions the object controls.

A ControllerRevision's `data` is the patch that restores the template
(`{"spec": {"template": {..., "$patch": "replace"}}}`) and `.revision` is its number.
"""

from __future__ import annotations

import copy

from kubectl_harness_rollback import digits, kinds
from kubectl_harness_rollback.cluster.rest import CONTROLLERREVISIONS
from kubectl_harness_rollback.model import Revision, WorkloadRef, WorkloadState
from kubectl_harness_rollback.workloads.common import (
    annotations,
    controlled_by,
    labels,
    selector_string,
    template_images,
)

DEFAULT_REVISION_HISTORY_LIMIT = 10


def list_children(kube, namespace: str, workload: dict) -> list[dict]:
    selector = selector_string(workload["spec"].get("selector"))
    return kube.list(CONTROLLERREVISIONS, namespace, label_selector=selector)


def _revision(ref: WorkloadRef, controller_revision: dict) -> Revision:
    template = ((controller_revision.get("data") or {}).get("spec") or {}).get("template")
    return Revision(
        workload=ref,
        number=digits.natural(controller_revision.get("revision")) or 0,  # an int64 in the API
        previous_numbers=(),
        object_kind=kinds.CONTROLLER_REVISION.name,
        object_name=controller_revision["metadata"]["name"],
        images=template_images(template),
        annotations=annotations(controller_revision),
        raw=controller_revision,
    )


def state(kind: str, workload: dict, children: list[dict], current_name: str | None) -> WorkloadState:
    """`current_name` names the ControllerRevision the workload runs now, where the API says
    (StatefulSet status.updateRevision); otherwise the highest revision is current, as in kubectl."""
    meta, spec = workload["metadata"], workload["spec"]
    ref = WorkloadRef(kind, meta["name"], meta["namespace"])
    revisions = sorted((_revision(ref, cr) for cr in children if controlled_by(cr, workload)),
                       key=lambda r: r.number)
    current = next((r.number for r in revisions if r.object_name == current_name), None)
    if current is None and revisions:
        current = revisions[-1].number
    return WorkloadState(
        ref=ref,
        resource_version=meta.get("resourceVersion", ""),
        current_revision=current,
        images=template_images(spec.get("template")),
        revisions=revisions,
        revision_history_limit=spec.get("revisionHistoryLimit", DEFAULT_REVISION_HISTORY_LIMIT),
        replicas=spec.get("replicas"),
        annotations=annotations(workload),
        labels=labels(workload),
        raw=workload,
    )


def rollback_patch(state: WorkloadState, revision: Revision, audit: dict[str, str]) -> dict:
    """kubectl's undo for StatefulSets and DaemonSets: the ControllerRevision's `data` (the template
    with `$patch: replace`) as a strategic merge patch, guarded by the resourceVersion read."""
    body = copy.deepcopy(revision.raw.get("data") or {})
    body["metadata"] = {"resourceVersion": state.resource_version, "annotations": dict(audit)}
    return body


def restore(state: WorkloadState, change, audit: dict[str, str]) -> dict:
    """A StatefulSet or DaemonSet is restored to the template of the change's ControllerRevision."""
    return rollback_patch(state, change.source, audit)


def new_revision_number(kube, namespace: str, obj: dict, current_name: str | None) -> int | None:
    """The number the controller gave the restored template: it reuses the matching
    ControllerRevision and raises its number above all others."""
    children = list_children(kube, namespace, obj)
    revisions = sorted((_revision(WorkloadRef(obj["kind"], obj["metadata"]["name"], namespace), cr)
                        for cr in children if controlled_by(cr, obj)), key=lambda r: r.number)
    named = [r.number for r in revisions if r.object_name == current_name]
    return named[0] if named else (revisions[-1].number if revisions else None)


def observed(obj: dict) -> bool:
    return (obj.get("status") or {}).get("observedGeneration", 0) >= obj["metadata"].get("generation", 0)

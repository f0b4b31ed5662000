"""StatefulSets and DaemonSets: revisions are the ControllerRevisions the object controls.

A ControllerRevision's `data` is the patch that restores the template
(`{"spec": {"template": {..., "$patch": "replace"}}}`) and `.revision` is its number.
"""

from __future__ import annotations

from kubectl_harness_rollback.model import Revision, WorkloadRef, WorkloadState
from kubectl_harness_rollback.workloads.common import annotations, controlled_by, selector_string, template_images

DEFAULT_REVISION_HISTORY_LIMIT = 10


def list_children(kube, namespace: str, workload: dict) -> list[dict]:
    selector = selector_string(workload["spec"].get("selector"))
    return kube.list_all(kube.apps.list_namespaced_controller_revision, namespace, label_selector=selector)


def _revision(ref: WorkloadRef, controller_revision: dict) -> Revision:
    template = ((controller_revision.get("data") or {}).get("spec") or {}).get("template")
    return Revision(
        workload=ref,
        number=int(controller_revision.get("revision", 0)),
        previous_numbers=(),
        object_kind="ControllerRevision",
        object_name=controller_revision["metadata"]["name"],
        images=template_images(template),
        annotations=annotations(controller_revision),
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
    )

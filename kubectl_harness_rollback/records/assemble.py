"""Join what was read from the cluster into one ReleaseModel (pure: objects in, model out).

Each record format is a store (records/registry.py, in precedence order): when several
describe the same release, the first decides the status and the revision numbers; the
annotations on workloads and ReplicaSets add the identity. Without any history, releases come
from the annotations alone, and without those, from Kubernetes' own revisions.
"""

from __future__ import annotations

from kubectl_harness_rollback.harness_names import RELEASE_NAME_LABEL
from kubectl_harness_rollback.model import Release, ReleaseModel, ReleaseWorkload, Revision, WorkloadRef, WorkloadState
from kubectl_harness_rollback.records import registry
from kubectl_harness_rollback.records.annotations import identity_from_annotations
from kubectl_harness_rollback.records.store import ClusterObjects


def _revision_for(workloads: dict[WorkloadRef, WorkloadState], item: ReleaseWorkload) -> Revision | None:
    state = workloads.get(item.ref)
    if state is None or item.revision is None:
        return None
    return state.revision(item.revision)


def _add_identities(releases: list[Release], workloads: dict[WorkloadRef, WorkloadState]) -> None:
    for release in releases:
        if release.identity is not None:
            continue
        for item in release.workloads:
            revision = _revision_for(workloads, item)
            if revision is not None:
                release.identity = identity_from_annotations(revision.annotations, item.ref.namespace)
                if release.identity is not None:
                    break


def assemble(objects: ClusterObjects) -> ReleaseModel:
    """The ReleaseModel of one release name."""
    workloads = {state.ref: state for state in objects.workloads}
    model = ReleaseModel(objects.release_name, objects.namespace, [], workloads, notes=list(objects.notes))
    releases = registry.releases(objects, model)
    _add_identities(releases, workloads)
    model.releases = releases
    return model


def release_name_of(obj: dict) -> str | None:
    """The release a workload belongs to: its pod template's label, else its own."""
    template_labels = ((obj.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
    own_labels = obj.get("metadata", {}).get("labels") or {}
    return template_labels.get(RELEASE_NAME_LABEL) or own_labels.get(RELEASE_NAME_LABEL)

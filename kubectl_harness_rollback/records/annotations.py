"""Releases from Kubernetes' own revisions, numbered by the identity annotations where a pipeline left them.

Without any release history, each ReplicaSet or ControllerRevision is a release: numbered and
judged by the annotations `record` (or a pipeline) wrote on it, else by its revision number with
no status. The workloads are read anyway (one list per kind), so this store makes no request of
its own; a rollback's audit annotation rides on the workload patch, so it has no edit either.
"""

from __future__ import annotations

from kubectl_harness_rollback import digits
from kubectl_harness_rollback.harness_names import (
    CLUSTER_NAME,
    INFRA_ID,
    RELEASE_NUMBER,
    RELEASE_STATUS,
    SERVICE_ID,
    WORKFLOW_ID,
)
from kubectl_harness_rollback.model import (
    Identity,
    InfraMapping,
    Release,
    ReleaseModel,
    ReleaseWorkload,
    Source,
    Status,
    WorkloadRef,
)
from kubectl_harness_rollback.records.store import ClusterObjects, Edit, Plan, Right


def identity_from_annotations(annotations: dict[str, str], namespace: str) -> Identity | None:
    """The identity a pipeline stamped on a workload (copied by the controller to its ReplicaSets)."""
    if not any(key in annotations for key in (WORKFLOW_ID, SERVICE_ID, INFRA_ID, CLUSTER_NAME)):
        return None
    infra = InfraMapping(annotations.get(SERVICE_ID), annotations.get(INFRA_ID),
                         annotations.get(CLUSTER_NAME), namespace)
    return Identity(annotations.get(WORKFLOW_ID), infra)


class Revisions:
    """Kubernetes' revisions, with the identity annotations where present: the last resort."""

    source = Source.REVISIONS
    fallback = True

    def read(self, fetch, release_name: str, objects: ClusterObjects) -> None:
        """The workloads and their revisions are read for every release name: nothing more."""

    def releases(self, objects: ClusterObjects, model: ReleaseModel) -> list[Release]:
        by_number: dict[int, Release] = {}
        for state in model.workloads.values():
            for revision in state.revisions:
                notes = revision.annotations
                number = digits.natural(notes.get(RELEASE_NUMBER))
                number = revision.number if number is None else number
                status = Status.parse(notes[RELEASE_STATUS]) if notes.get(RELEASE_STATUS) in {
                    s.value for s in Status} else None
                source = (Source.ANNOTATIONS if RELEASE_NUMBER in notes or RELEASE_STATUS in notes
                          else Source.REVISIONS)
                release = by_number.setdefault(number, Release(number, status, [], source,
                                                               identity_from_annotations(notes, state.ref.namespace)))
                release.workloads.append(ReleaseWorkload(state.ref, revision.number))
        return sorted(by_number.values(), key=lambda r: r.number, reverse=True)

    def edits(self, model: ReleaseModel, plan: Plan, revisions: dict[WorkloadRef, int] | None) -> list[Edit]:
        return []

    def rights(self, model: ReleaseModel, plan: Plan) -> list[Right]:
        return []


STORE = Revisions()

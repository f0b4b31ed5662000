"""Join what was read from the cluster into one ReleaseModel (pure: objects in, model out).

When several sources describe the same release, the release history (legacy
or declarative) decides the status and the revision numbers; the annotations on workloads and
ReplicaSets add the identity. Without any history, releases come from the annotations alone,
and without those, from Kubernetes' own revisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubectl_harness_rollback import digits
from kubectl_harness_rollback.errors import CorruptHistory
from kubectl_harness_rollback.harness_names import (
    CLUSTER_NAME,
    INFRA_ID,
    RELEASE_NAME_LABEL,
    RELEASE_NUMBER,
    RELEASE_SECRET_TYPE,
    RELEASE_STATUS,
    SERVICE_ID,
    WORKFLOW_ID,
)
from kubectl_harness_rollback.model import (
    HistoryStore,
    Identity,
    InfraMapping,
    Release,
    ReleaseModel,
    ReleaseWorkload,
    Revision,
    Source,
    Status,
    WorkloadRef,
    WorkloadState,
)
from kubectl_harness_rollback.records import declarative, history_codec


@dataclass
class ClusterObjects:
    """Everything the reader fetched for one release name, as plain API dicts."""

    release_name: str
    namespace: str
    history: dict | None = None  # the legacy history ConfigMap or Secret
    history_kind: str | None = None  # ConfigMap | Secret
    release_secrets: list[dict] = field(default_factory=list)  # declarative releases
    workloads: list[WorkloadState] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what reading noticed (e.g. a name clash)
    decoded_history: tuple[dict, bool] | None = None  # `history` already decoded (doc, compressed): not again


def identity_from_annotations(annotations: dict[str, str], namespace: str) -> Identity | None:
    """The identity a pipeline stamped on a workload (copied by the controller to its ReplicaSets)."""
    if not any(key in annotations for key in (WORKFLOW_ID, SERVICE_ID, INFRA_ID, CLUSTER_NAME)):
        return None
    infra = InfraMapping(annotations.get(SERVICE_ID), annotations.get(INFRA_ID),
                         annotations.get(CLUSTER_NAME), namespace)
    return Identity(annotations.get(WORKFLOW_ID), infra)


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


def _releases_from_revisions(workloads: dict[WorkloadRef, WorkloadState]) -> list[Release]:
    """No history store: one release per revision, numbered and judged by the annotations if
    a pipeline wrote them (`record`), else by the revision number with no status."""
    by_number: dict[int, Release] = {}
    for state in workloads.values():
        for revision in state.revisions:
            notes = revision.annotations
            number = digits.natural(notes.get(RELEASE_NUMBER))
            number = revision.number if number is None else number
            status = Status.parse(notes[RELEASE_STATUS]) if notes.get(RELEASE_STATUS) in {
                s.value for s in Status} else None
            source = Source.ANNOTATIONS if RELEASE_NUMBER in notes or RELEASE_STATUS in notes else Source.REVISIONS
            release = by_number.setdefault(number, Release(number, status, [], source,
                                                           identity_from_annotations(notes, state.ref.namespace)))
            release.workloads.append(ReleaseWorkload(state.ref, revision.number))
    return sorted(by_number.values(), key=lambda r: r.number, reverse=True)


def is_release_secret(secret: dict) -> bool:
    """Harness reads only Secrets of its release type, whatever other Secrets carry its labels
    (K8sReleaseHandlerImpl.getReleaseHistory selects `type=harness.io/release/v2`)."""
    return secret.get("type") == RELEASE_SECRET_TYPE


def _declarative_releases(objects: ClusterObjects, notes: list[str]) -> list[Release]:
    """The releases of the declarative release Secrets. A Secret of another type that carries the
    labels is no release (a note names it, never its content); two Secrets saying they are the
    same release are refused: which one is the truth would depend on the API's list order."""
    releases: list[Release] = []
    read_from: dict[int, str] = {}
    for secret in sorted(objects.release_secrets, key=lambda s: s["metadata"]["name"]):
        meta = secret["metadata"]
        if not is_release_secret(secret):
            notes.append(f"secret/{meta['name']} carries the labels of a release of {objects.release_name} but is not "
                         f"of type {RELEASE_SECRET_TYPE}: it is not a release, and is ignored (as Harness ignores it)")
            continue
        parsed = declarative.parse_release_secret(meta["name"], objects.namespace, meta.get("labels") or {},
                                                  meta.get("annotations") or {}, secret.get("data") or {})
        number = parsed.release.number
        if number in read_from:
            raise CorruptHistory(
                f"declarative release secret/{read_from[number]} and secret/{meta['name']} in namespace "
                f"{objects.namespace} both say they are release {number} of {objects.release_name}; nothing was "
                "changed: delete the one that is not the release",
                reason=f"two release Secrets say they are release {number}")
        read_from[number] = meta["name"]
        parsed.release.manifests = parsed.manifests
        releases.append(parsed.release)
    return releases


def assemble(objects: ClusterObjects) -> ReleaseModel:
    """The ReleaseModel of one release name."""
    workloads = {state.ref: state for state in objects.workloads}
    model = ReleaseModel(objects.release_name, objects.namespace, [], workloads, notes=list(objects.notes))
    releases: list[Release] = []
    if objects.history is not None:
        meta = objects.history["metadata"]
        doc, compressed = objects.decoded_history or history_codec.decode_history(
            objects.history_kind, meta["name"], objects.namespace, objects.history.get("data"))
        source = f"{objects.history_kind.lower()}/{meta['name']}"
        releases = history_codec.releases_from_history(doc, source, objects.namespace)
        model.history_store = HistoryStore(objects.history_kind, meta["name"], objects.namespace, compressed,
                                           meta.get("resourceVersion", ""), doc)
    known = {r.number for r in releases}
    releases += [r for r in _declarative_releases(objects, model.notes) if r.number not in known]
    if not releases:
        releases = _releases_from_revisions(workloads)
    releases.sort(key=lambda r: r.number, reverse=True)
    _add_identities(releases, workloads)
    model.releases = releases
    return model


def release_name_of(obj: dict) -> str | None:
    """The release a workload belongs to: its pod template's label, else its own."""
    template_labels = ((obj.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
    own_labels = obj.get("metadata", {}).get("labels") or {}
    return template_labels.get(RELEASE_NAME_LABEL) or own_labels.get(RELEASE_NAME_LABEL)

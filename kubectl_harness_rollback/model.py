"""The in-memory model of a release name: what the readers build and the planner decides on.

Plain data, no I/O. The names are the domain's: a release is one deployment attempt of a release
name, a revision is one Kubernetes keeps (ReplicaSet or ControllerRevision), an identity is who
deployed it (Workflow Id + Infrastructure Mapping), the rollback-to release is what comes back.
"""

from __future__ import annotations

from dataclasses import field
from enum import Enum

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.data_class import data_class


class Status(str, Enum):
    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    @classmethod
    def parse(cls, text: object) -> "Status":
        """The status named by `text`; ValueError naming the allowed values otherwise.

        Harness's release status enum was once spelt IN_PROGRESS / SUCCEEDED / FAILED, and its
        own test histories still are: those spellings are read too."""
        found = _STATUS_SPELLINGS.get(text) if isinstance(text, str) else None
        if found is not None:  # a dict, not a walk of the enum: `list -A` parses thousands
            return found
        for status in cls:
            if text in (status.value, status.name):
                return status
        allowed = ", ".join(s.value for s in cls)
        raise ValueError(f"unknown status {text!r} (expected one of {allowed})")


_STATUS_SPELLINGS = {spelling: status for status in Status for spelling in (status.value, status.name)}


# The kinds a rollback can restore. Harness also records custom workloads (CRDs annotated
# harness.io/managed-workload) and OpenShift DeploymentConfigs: those are refused by name.
RESTORABLE_KINDS = kinds.WORKLOAD_NAMES


@data_class(frozen=True, order=True)
class WorkloadRef:
    kind: str  # Deployment, StatefulSet, DaemonSet, ReplicaSet
    name: str
    namespace: str

    def __str__(self) -> str:
        return f"{self.kind.lower()}/{self.name}"


@data_class(frozen=True)
class InfraMapping:
    """Harness's Infrastructure Mapping: Service Id + Infrastructure Id + Cluster Name + Namespace."""

    service_id: str | None
    infra_id: str | None
    cluster_name: str | None
    namespace: str

    @property
    def known(self) -> bool:
        return bool(self.service_id or self.infra_id or self.cluster_name)


@data_class(frozen=True)
class Identity:
    """Who deployed a release: Workflow Id + Infrastructure Mapping."""

    workflow_id: str | None
    infra: InfraMapping


@data_class(frozen=True)
class ReleaseWorkload:
    """A workload a release deployed, and the revision Kubernetes gave it then."""

    ref: WorkloadRef
    revision: int | None


class Source(str):
    """Where a release was read: the name of the record format (records/registry.py) that read it.

    A value, not a closed set: each store declares its own (`source = Source("legacy")`), so a new
    format needs no change here. The planner asks about the formats below by name."""

    __slots__ = ()

    @property
    def value(self) -> str:
        return str(self)  # a plain str, as `-o yaml` represents it

    def __repr__(self) -> str:
        return f"Source({str(self)!r})"


Source.LEGACY = Source("legacy")  # the legacy release history ConfigMap or Secret (Release.store names it)
Source.DECLARATIVE = Source("declarative")  # its own declarative release Secret
Source.ANNOTATIONS = Source("annotations")  # the identity annotations `record` (or a pipeline) left on a revision
Source.REVISIONS = Source("revisions")  # no record at all: Kubernetes' own revisions


@data_class
class Release:
    """One deployment attempt of a release name."""

    number: int
    status: Status | None  # None: no record says (annotations-only clusters)
    workloads: list[ReleaseWorkload]
    source: Source
    identity: Identity | None = None
    bg_environment: str | None = None  # primary | stage, for blue/green releases
    color: str | None = None  # blue | green, for blue/green releases
    # Declarative releases: every resource of the release, re-applied to restore it.
    manifests: list[dict] = field(default_factory=list, repr=False)
    # Every resource the release deployed (the history's `resources`, or the manifests' kinds and
    # names): Harness's canary delete picks the `-canary` ones from here.
    resources: list[WorkloadRef] = field(default_factory=list)
    store: str | None = None  # the legacy history object it was read from: "configmap/NAME", "secret/NAME"
    # Declarative: the name of the release Secret it was read from, which its bookkeeping writes
    # (the name is Harness's habit, not a rule: the Secret's labels say which release it is).
    secret: str | None = None

    @property
    def is_declarative(self) -> bool:
        """Kept in a release Secret of its own (its status is that Secret's `status` label)."""
        return self.source == Source.DECLARATIVE

    @property
    def is_legacy(self) -> bool:
        """Kept in the legacy release history ConfigMap or Secret."""
        return self.source == Source.LEGACY

    @property
    def where(self) -> str:
        """Where it was read, for people: the history object's kind/name, else the source."""
        return self.store or self.source.value


class UnrecordedRevision(Release):
    """What `--to-revision N` rolls back to when no release records revision N (one made by
    `kubectl rollout`, say): the revision itself, as kubectl would. It has no release number and
    no status, so the history records no rollback-to release."""

    number: None  # type: ignore[assignment] - what sets it apart from a recorded release

    def __init__(self, ref: WorkloadRef, revision: int):
        super().__init__(None, None, [ReleaseWorkload(ref, revision)], Source.REVISIONS)  # type: ignore[arg-type]


@data_class(frozen=True)
class Revision:
    """One of Kubernetes' own revisions of a workload: a ReplicaSet or a ControllerRevision."""

    workload: WorkloadRef
    number: int
    previous_numbers: tuple[int, ...]  # deployment.kubernetes.io/revision-history
    object_kind: str  # ReplicaSet | ControllerRevision
    object_name: str
    images: tuple[str, ...]
    annotations: dict[str, str] = field(default_factory=dict)
    replicas: int | None = None
    # The API object as read (ReplicaSet or ControllerRevision): what a rollback restores from.
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def template(self) -> dict:
        """The pod template this revision restores (ReplicaSet spec, or ControllerRevision data)."""
        spec = self.raw.get("spec") or ((self.raw.get("data") or {}).get("spec")) or {}
        return spec.get("template") or {}

    def answers_to(self, number: int) -> bool:
        """True if this revision is, or was before an earlier rollback renumbered it, `number`."""
        return number == self.number or number in self.previous_numbers


@data_class
class WorkloadState:
    """A live workload with all of its revisions."""

    ref: WorkloadRef
    resource_version: str
    current_revision: int | None
    images: tuple[str, ...]
    revisions: list[Revision]  # sorted by number, ascending
    revision_history_limit: int | None = None
    paused: bool = False
    replicas: int | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # the object's and its pod template's
    # False for a kind without revisions of its own (a bare ReplicaSet): restored by its scale.
    has_revisions: bool = True
    # The API object as read; its resourceVersion guards every write (optimistic concurrency).
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    def revision(self, number: int) -> Revision | None:
        """The revision that is or was `number`; the current number wins over an old one."""
        exact = [r for r in self.revisions if r.number == number]
        if exact:
            return exact[0]
        renumbered = [r for r in self.revisions if number in r.previous_numbers]
        return renumbered[-1] if renumbered else None


@data_class
class ServiceState:
    """A Service that may route a blue/green release's traffic."""

    name: str
    namespace: str
    selector: dict[str, str]
    annotations: dict[str, str]
    resource_version: str
    uid: str = ""


@data_class(frozen=True)
class HistoryStore:
    """Where the legacy release history was read, so it can be written back the same way."""

    kind: str  # ConfigMap | Secret
    name: str
    namespace: str
    compressed: bool
    resource_version: str
    # The decoded YAML as read, unknown fields included: what a write-back edits (a copy of).
    document: dict = field(default_factory=dict, compare=False, repr=False)


@data_class
class ReleaseModel:
    """Everything known about one release name, joined from every source in the cluster."""

    release_name: str
    namespace: str
    releases: list[Release]  # newest first
    workloads: dict[WorkloadRef, WorkloadState]
    history_store: HistoryStore | None = None
    notes: list[str] = field(default_factory=list)  # what the readers noticed, for the user
    services: list[ServiceState] = field(default_factory=list)  # blue/green: Services selecting a color
    # The current release's `-canary` objects that are not workloads (HPA, PDB, ConfigMap, Secret),
    # with the delete precondition that proves each is still the object that was read.
    canary_objects: dict[WorkloadRef, dict[str, str]] = field(default_factory=dict)
    # Declarative rollback-to release: each object of its manifest as the cluster has it now, by
    # (API group, kind, name); None where it does not exist. None: not read (nothing is compared).
    live_objects: dict[tuple[str, str, str], dict | None] | None = None
    # --prune: what the failed release applied that may be pruned, as read (prune_live.read): a
    # prune.PruneObject, or why it is not pruned; keyed by (kind, name).
    prune_objects: dict[tuple[str, str], object] = field(default_factory=dict)
    # Blue/green: the failed release's HPAs and PDBs named after a color, with the UID that guards
    # their delete under --scale-down-stage (traffic.read_stage_objects).
    stage_objects: dict[WorkloadRef, dict[str, str]] = field(default_factory=dict)

    @property
    def current(self) -> Release | None:
        return self.releases[0] if self.releases else None

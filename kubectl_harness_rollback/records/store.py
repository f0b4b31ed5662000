"""The ReleaseStore protocol every record format implements: reads, parse, edits and rights, as data.

A record format (the legacy history, declarative release Secrets, annotations on revisions) is one
module with one store object. The store says which requests read it, how what was read becomes
Releases, which edits a plan implies and which rights those edits need. The edits are plain data:
the dry run lists them, the executor sends them (bookkeeping.send), and the re-run check asks
whether any is still to be made, so the three cannot disagree. Pure: no request is made here.
"""

from __future__ import annotations

from dataclasses import field
from typing import Callable, Protocol

from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.model import Release, ReleaseModel, Source, WorkloadRef, WorkloadState


class Plan(Protocol):
    """What a store reads of a plan (planner.Plan; records sit below the planner)."""

    current: Release | None  # the release rolled back from
    target: Release | None  # the release rolled back to
    traffic: object | None  # blue/green: its `environments`, [(release, "primary" | "stage")]
    rolls_forward: bool  # returning to the newest release: nothing is marked Failed
    new_release: int | None  # a roll forward: the number the target is recorded again under


@data_class
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
    parsed_releases: list[Release] | None = None  # `decoded_history`'s releases, already parsed: not again
    found: dict[str, object] = field(default_factory=dict)  # what any other store read, by its name

    def found_any(self) -> bool:
        """Whether any store found a record of the release."""
        return self.history is not None or bool(self.release_secrets) or any(self.found.values())


@data_class(frozen=True)
class Read:
    """One request that reads a store: `get` of one object by name, or `list` by selector."""

    verb: str  # get | list
    kind: str  # ConfigMap | Secret
    name: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None


@data_class(frozen=True)
class Edit:
    """One write to a record object: the object, the strategic merge patch (or, for a create, the
    whole new object), and the outcome item that reports it (what a dry run lists and a real run
    records)."""

    kind: str  # ConfigMap | Secret
    name: str
    namespace: str
    # None only in a plan made before any write: the history's new revision numbers are the
    # controller's to give, so the document is edited once they are known.
    patch: dict | None
    item: dict
    guarded: bool = False  # carries the resourceVersion read (or is a create): a 409 means someone wrote since
    verb: str = "patch"  # patch | create (a record object of its own, such as a new release Secret)

    @property
    def where(self) -> str:
        return f"{self.kind.lower()}/{self.name}"


@data_class(frozen=True)
class Right:
    """A right (RBAC verb on a kind) an edit needs, and why, for the check before the first write."""

    verb: str
    kind: str
    why: str


class ReleaseStore(Protocol):
    """A record format. Stores are registered in precedence order (records/registry.py)."""

    source: Source  # the name its releases carry (Release.source), declared by the store: Source("legacy")
    # Read only when no store before it found a release (Kubernetes' own revisions).
    fallback: bool

    def read(self, fetch: Callable[[Read], dict | list[dict] | None], release_name: str,
             objects: ClusterObjects) -> None:
        """Read this store's objects of one release name into `objects`, each request through
        `fetch` (the reader's: a get answers the object or None, a list the objects; None where
        the objects may not be read, which the reader has noted)."""

    def releases(self, objects: ClusterObjects, model: ReleaseModel) -> list[Release]:
        """The releases this store records. May add notes to `model`, and keep on it what its edits
        need later (the legacy history keeps the document it will write back)."""

    def edits(self, model: ReleaseModel, plan: Plan, revisions: dict[WorkloadRef, int] | None) -> list[Edit]:
        """The writes that record `plan` in this store, in order. `revisions`: the numbers the
        controller gave the restored revisions; None before any write (the dry run's plan)."""

    def rights(self, model: ReleaseModel, plan: Plan) -> list[Right]:
        """The rights the edits of `plan` may need, asked before the first write."""

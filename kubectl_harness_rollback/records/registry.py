"""The record formats in precedence order, and what they read, parse, edit and need, together. Pure.

The first store that records a release number decides it (its status, its revisions); a later
store adds the numbers no earlier one records. A fallback store is read only when no store
before it found any release. Adding a format: one module with a STORE, one line here.
"""

from __future__ import annotations

from kubectl_harness_rollback.model import Release, ReleaseModel, WorkloadRef
from kubectl_harness_rollback.records import annotations, declarative, legacy
from kubectl_harness_rollback.records.store import ClusterObjects, Edit, Plan, ReleaseStore, Right

STORES: tuple[ReleaseStore, ...] = (
    legacy.STORE,  # the legacy history ConfigMap or Secret
    declarative.STORE,  # declarative release Secrets, one per release
    annotations.STORE,  # Kubernetes' own revisions, with the identity annotations
)


def releases(objects: ClusterObjects, model: ReleaseModel) -> list[Release]:
    """Every release the stores record, each number from the first store that records it, newest first."""
    found: list[Release] = []
    for store in STORES:
        if store.fallback and found:
            continue
        known = {r.number for r in found}
        found += [r for r in store.releases(objects, model) if r.number not in known]
    return sorted(found, key=lambda r: r.number, reverse=True)


def edits(model: ReleaseModel, plan: Plan, revisions: dict[WorkloadRef, int] | None) -> list[Edit]:
    """The writes that record `plan`, in the order they are sent: what the dry run lists
    (`revisions` None) and what the bookkeeping step sends (the numbers the controller gave)."""
    return [edit for store in STORES for edit in store.edits(model, plan, revisions)]


def rights(model: ReleaseModel, plan: Plan) -> list[Right]:
    """The rights recording `plan` may need, store by store."""
    return [right for store in STORES for right in store.rights(model, plan)]

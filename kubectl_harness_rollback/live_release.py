"""What is live: the release each workload runs now, since when, and the last rollback.

What is live: the release whose revision each workload runs now, since when, and the last
rollback that put it there (pure: model in, plain data out).

A workload runs one revision; the release that recorded that revision is live on it. Several
releases can record it (a later deploy of the same template reuses the ReplicaSet, renumbered):
the `harness.io/last-rollback` annotation decides when it says what was restored, else the
release that records the current number itself, else the newest.
"""

from __future__ import annotations

from kubectl_harness_rollback import audit_record, kinds
from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.model import Release, ReleaseModel, Revision, WorkloadRef, WorkloadState


@data_class(frozen=True)
class LastRollback:
    """The audit record a rollback left on a workload (who, when, from which release to which)."""

    by: str | None
    at: str | None
    from_release: int | None
    to_release: int | None
    restored: dict  # the annotation's entry for this workload: {from, to, images}
    rolled_forward_to: int | None = None  # a roll forward: the release it returned to (to_release records it)
    reason: str | None = None  # rollback --reason

    @property
    def text(self) -> str:
        """"rolled back by alice at 2026-01-02T03:04:05Z, 3 → 2" (rolled_back_text)."""
        return rolled_back_text(self.view())

    def view(self) -> dict:
        return {"by": self.by, "at": self.at, "fromRelease": self.from_release, "toRelease": self.to_release,
                **({"rolledForwardTo": self.rolled_forward_to} if self.rolled_forward_to is not None else {}),
                **({"reason": self.reason} if self.reason else {})}


@data_class(frozen=True)
class LiveWorkload:
    ref: WorkloadRef
    release: int | None  # the release whose revision it runs now; None: no release records it
    revision: int | None  # the revision it runs now (Kubernetes' number)
    images: tuple[str, ...]
    since: str | None  # when it began running that revision (RFC 3339), as far as the cluster tells
    last_rollback: LastRollback | None  # set only while the workload still runs what it restored


def rolled_back_text(record: dict, unknown: str = "?") -> str:
    """"rolled back by alice at 2026-01-02T03:04:05Z, 3 → 2", or for a roll forward to release 2
    recorded as release 3: "rolled forward to release 2 by alice at ..., 1 → 3" (from LastRollback.view)."""
    moved = " → ".join(unknown if record.get(key) is None else str(record[key]) for key in ("fromRelease", "toRelease"))
    forward = record.get("rolledForwardTo")
    verb = "rolled back" if forward is None else f"rolled forward to release {forward}"
    reason = f": {record['reason']}" if record.get("reason") else ""  # rollback --reason
    return f"{verb} by {record.get('by') or 'someone'} at {record.get('at') or 'an unknown time'}, {moved}{reason}"


def last_rollback(state: WorkloadState) -> LastRollback | None:
    """The workload's `harness.io/last-rollback` annotation, if it is readable."""
    record = audit_record.read(state.annotations)
    if record is None:
        return None
    try:
        restored = (record.get("revisions") or {}).get(str(state.ref)) or {}
    except AttributeError:  # `revisions` that is not an object
        return None
    if not isinstance(restored, dict):
        return None
    return LastRollback(audit_record.text(record.get("by")), audit_record.text(record.get("at")),
                        audit_record.number(record.get("fromRelease")), audit_record.number(record.get("toRelease")),
                        restored, audit_record.number(record.get("rolledForwardTo")),
                        audit_record.text(record.get("reason")))


def still_restored(state: WorkloadState, record: LastRollback) -> bool:
    """True while the workload runs what that rollback restored (the revision it named, renumbered
    or not; for a ControllerRevision, renumbered without a trace, the same images)."""
    current = state.revision(state.current_revision) if state.current_revision is not None else None
    if current is None:
        return bool(record.restored) and list(state.images) == record.restored.get("images")
    to = record.restored.get("to")
    to = audit_record.number(to)
    if to is not None and current.answers_to(to):
        return True
    return list(current.images) == record.restored.get("images") and current.number != record.restored.get("from")


def revision_needing_images(state: WorkloadState) -> Revision | None:
    """The current revision, when still_restored must compare its images: the workload's last
    rollback is not confirmed by revision numbers alone. `list` reads only that one in full."""
    record = last_rollback(state)
    current = state.revision(state.current_revision) if state.current_revision is not None else None
    if record is None or current is None:
        return None
    to = record.restored.get("to")
    return None if isinstance(to, int) and current.answers_to(to) else current


def _runs(state: WorkloadState, release: Release) -> tuple[bool, bool]:
    """(runs it, exactly: the release records the current number itself)."""
    for item in release.workloads:
        if item.ref != state.ref:
            continue
        if release.is_declarative:
            return _manifest_images(release, state.ref) == state.images and bool(state.images), False
        if state.ref.kind == kinds.REPLICA_SET.name:
            return bool(state.replicas), True
        if item.revision is None or state.current_revision is None:
            continue
        revision = state.revision(item.revision)
        if revision is not None and revision.number == state.current_revision:
            return True, item.revision == state.current_revision
    return False, False


def _manifest_images(release: Release, ref: WorkloadRef) -> tuple[str, ...]:
    from kubectl_harness_rollback.records.declarative import images_of

    for manifest in release.manifests:
        if manifest.get("kind") == ref.kind and (manifest.get("metadata") or {}).get("name") == ref.name:
            return images_of(manifest)
    return ()


def live_release(model: ReleaseModel, state: WorkloadState) -> tuple[Release | None, LastRollback | None]:
    """(the release live on the workload, the last rollback if the workload still runs what it restored)."""
    record = last_rollback(state)
    if record is not None and not still_restored(state, record):
        record = None
    matches = [(release, exact) for release in model.releases for runs, exact in [_runs(state, release)]
               if runs]  # newest first, as model.releases
    if record is not None:
        named = [release for release, _ in matches if release.number == record.to_release]
        if named:
            return named[0], record
    exact = [release for release, is_exact in matches if is_exact]
    chosen = exact[0] if exact else (matches[0][0] if matches else None)
    return chosen, record


def _created(obj: dict) -> str | None:
    return (obj.get("metadata") or {}).get("creationTimestamp") or None


def live_workloads(model: ReleaseModel) -> list[LiveWorkload]:
    """What each workload of the release runs now, sorted by workload."""
    rows = []
    for ref, state in sorted(model.workloads.items()):
        release, record = live_release(model, state)
        current = state.revision(state.current_revision) if state.current_revision is not None else None
        since = record.at if record is not None else (_created(current.raw) if current else _created(state.raw))
        rows.append(LiveWorkload(ref, release.number if release else None, state.current_revision, state.images,
                                 since, record))
    return rows


def release_updated(model: ReleaseModel, release: Release) -> str | None:
    """When the release was deployed, as the cluster remembers it: the newest creation time of the
    ReplicaSets or ControllerRevisions it recorded (kept when a rollback renumbers them)."""
    times = []
    for item in release.workloads:
        state = model.workloads.get(item.ref)
        if state is None:
            continue
        revision = state.revision(item.revision) if item.revision is not None else None
        created = _created(revision.raw) if revision is not None else None
        if created is None and state.ref.kind == kinds.REPLICA_SET.name:
            created = _created(state.raw)
        if created:
            times.append(created)
    return max(times) if times else None  # RFC 3339 in UTC sorts as text


def live_numbers(live: list[LiveWorkload]) -> list[int]:
    """The distinct releases live on any workload, newest first."""
    return sorted({row.release for row in live if row.release is not None}, reverse=True)


def latest_rollback(live: list[LiveWorkload]) -> LastRollback | None:
    """The most recent rollback still in effect on any workload."""
    records = [row.last_rollback for row in live if row.last_rollback is not None]
    return max(records, key=lambda r: r.at or "") if records else None

"""The rollback-to decision (PRODUCT.md §4): a pure function of the release model.

No I/O and no printing: `plan` renders the Plan this returns, and `rollback` carries out the
very same object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubectl_harness_rollback import bluegreen, pod_template
from kubectl_harness_rollback.bluegreen import TrafficPlan
from kubectl_harness_rollback.declarative import images_of
from kubectl_harness_rollback.errors import PluginError, UsageError
from kubectl_harness_rollback.model import (
    Identity, Release, ReleaseModel, ReleaseWorkload, Revision, Status, WorkloadRef,
)

MATCH_WORKFLOW = "workflow"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MATCH_INFRA = "infra"


class PrunedRevision(PluginError):
    """The revision to roll back to is no longer kept by Kubernetes."""


class UnknownRelease(PluginError):
    """--to-release names a release the history does not have."""


@dataclass(frozen=True)
class PlanOptions:
    match: str = MATCH_WORKFLOW
    workflow_id: str | None = None  # overrides the current release's workflow for matching
    to_release: int | None = None
    to_revision: int | None = None
    mode: str = "auto"


@dataclass
class WorkloadChange:
    """What rollback does to one workload: from the revision it runs to the rollback-to one."""

    ref: WorkloadRef
    from_revision: int | None
    to_revision: int | None  # the number Kubernetes knows the revision by now
    recorded_revision: int | None  # the number the release record stored
    from_images: tuple[str, ...]
    to_images: tuple[str, ...]
    source: Revision | None  # the ReplicaSet/ControllerRevision that holds the template
    unchanged: bool = False  # the workload already runs the rollback-to revision
    differences: list[str] = field(default_factory=list)  # what restoring changes, in words


@dataclass
class Plan:
    release_name: str
    namespace: str
    mode: str
    match: str
    current: Release | None
    target: Release | None
    workloads: list[WorkloadChange]
    reason: str  # why this target, or why nothing is done
    notes: list[str] = field(default_factory=list)
    eligible: bool = True  # False: there is no release to roll back to (exit 3)
    deletions: list[WorkloadRef] = field(default_factory=list)  # canary workloads of the failed release
    traffic: TrafficPlan | None = None  # blue/green: how the Services swap back

    @property
    def has_changes(self) -> bool:
        if self.target is None:
            return False
        if self.traffic is not None:
            return bool(self.traffic.swaps)
        return bool(self.deletions) or any(not w.unchanged for w in self.workloads)


CANARY_TRACK = ("harness.io/track", "canary")


def canary_workloads(model: ReleaseModel) -> list[WorkloadRef]:
    """The `<name>-canary` workloads a canary release leaves, labelled harness.io/track=canary."""
    key, value = CANARY_TRACK
    return sorted(ref for ref, state in model.workloads.items() if state.labels.get(key) == value)


def detect_mode(model: ReleaseModel, requested: str) -> str:
    if requested != "auto":
        return requested
    if any(r.bg_environment or r.color for r in model.releases):
        return "blue-green"
    if canary_workloads(model):
        return "canary"
    return "rolling"


def _identity_text(identity: Identity | None, match: str) -> str:
    if identity is None:
        return "an unrecorded identity"
    infra = identity.infra
    mapping = f"infra mapping {infra.service_id}/{infra.infra_id}/{infra.cluster_name}/{infra.namespace}"
    return mapping if match == MATCH_INFRA else f"workflow {identity.workflow_id} on {mapping}"


def identity_matches(current: Identity | None, candidate: Identity | None, match: str,
                     workflow_id: str | None = None) -> bool:
    """Harness's rule: same Workflow Id and Infrastructure Mapping (or the mapping alone)."""
    if current is None or candidate is None:
        # Nothing to compare (no annotations, or the revision that carried them is gone):
        # the release name alone ties them, as in Harness's own history. Noted by the caller.
        return True
    if current.infra != candidate.infra:
        return False
    if match == MATCH_INFRA:
        return True
    return candidate.workflow_id == (workflow_id or current.workflow_id)


def _choose_default(model: ReleaseModel, options: PlanOptions, notes: list[str]) -> tuple[Release | None, str, bool]:
    """(rollback-to, why, eligible) when the user did not name a release or revision."""
    current = model.current
    assert current is not None
    if all(r.status is None for r in model.releases):
        older = model.releases[1:]
        notes.append("no release records a status: falling back to kubectl's rule, the previous revision")
        if not older:
            return None, f"release {current.number} is the only one; there is no previous revision", False
        return older[0], f"previous revision (release {older[0].number}); no status is recorded", True
    if current.status == Status.SUCCEEDED:
        return None, (f"no failed release found: the latest release {current.number} succeeded "
                      "(use --to-release N to roll back a succeeded release)"), True
    if current.identity is None:
        notes.append(f"release {current.number} has no recorded identity: matching by release name only")
    wanted = _identity_text(current.identity, options.match)
    if options.workflow_id and current.identity is not None:
        wanted = _identity_text(Identity(options.workflow_id, current.identity.infra), options.match)
    skipped: list[int] = []

    def note_skipped() -> None:
        if skipped:
            notes.append("succeeded releases deployed by another identity were passed over: "
                         + ", ".join(map(str, skipped))
                         + ("" if options.match == MATCH_INFRA else " (--match infra would consider them)"))

    for release in model.releases[1:]:
        if release.status != Status.SUCCEEDED:
            continue
        if identity_matches(current.identity, release.identity, options.match, options.workflow_id):
            note_skipped()
            if release.identity is None and current.identity is not None:
                notes.append(f"release {release.number} has no recorded identity (its revision carries none, or "
                             "is gone): matched by release name only")
            how = "infrastructure mapping" if options.match == MATCH_INFRA else "workflow and infrastructure mapping"
            return release, (f"release {release.number} is the newest succeeded release before "
                             f"{current.number} with the same {how} ({wanted})"), True
        skipped.append(release.number)
    note_skipped()
    return None, (f"no succeeded release before release {current.number} deployed by {wanted}; "
                  "nothing to roll back to"), False


def _choose_by_revision(model: ReleaseModel, revision: int) -> tuple[Release | None, str]:
    refs = {w.ref for r in model.releases for w in r.workloads} or set(model.workloads)
    if len(refs) != 1:
        raise UsageError("--to-revision needs a release with a single workload; name one as KIND/NAME "
                         "or use --to-release")
    ref, = refs
    for release in model.releases:
        for workload in release.workloads:
            state = model.workloads.get(workload.ref)
            found = state.revision(workload.revision) if state and workload.revision is not None else None
            if found is not None and found.answers_to(revision):
                return release, f"revision {revision} of {ref} was deployed by release {release.number}"
    # No release records it (e.g. a revision made by `kubectl rollout`): roll back to the revision
    # itself, as kubectl would; the history then records no rollback-to release.
    unrecorded = Release(None, None, [ReleaseWorkload(ref, revision)], "revisions")  # type: ignore[arg-type]
    return unrecorded, f"revision {revision} of {ref}, as asked (no release records it)"


def _manifest_images(release: Release, ref: WorkloadRef) -> tuple[str, ...]:
    for manifest in release.manifests:
        if manifest.get("kind") == ref.kind and (manifest.get("metadata") or {}).get("name") == ref.name:
            return images_of(manifest)
    return ()


def _change(model: ReleaseModel, ref: WorkloadRef, recorded: int | None, release: Release | None) -> WorkloadChange:
    state = model.workloads.get(ref)
    label = f"release {release.number}" if release else "the rollback"
    if release is not None and release.source == "declarative":
        # Restored by re-applying the release's stored manifest (which recreates a deleted
        # workload), not from a revision. Re-applying is a no-op where the images already match.
        images = _manifest_images(release, ref)
        now = state.images if state else ()
        return WorkloadChange(ref, state.current_revision if state else None, None, None, now, images, None,
                              unchanged=bool(state) and now == images)
    if state is None:
        raise PluginError(f"{ref} of {label} no longer exists in namespace {model.namespace}; "
                          "nothing can restore it from the cluster")
    if ref.kind == "ReplicaSet":
        # A bare ReplicaSet has no revisions: the release's own ReplicaSet is scaled back up.
        return WorkloadChange(ref, None, None, recorded, state.images, state.images, None,
                              unchanged=bool(state.replicas))
    if recorded is None:
        raise PluginError(f"{label} recorded no revision for {ref}; name one with --to-revision")
    revision = state.revision(recorded)
    if revision is None:
        kept = ", ".join(str(r.number) for r in state.revisions) or "none"
        hint = ("; its stored manifest can be re-applied instead" if release is not None
                and release.source == "declarative" else "")
        raise PrunedRevision(
            f"revision {recorded} of {ref} ({label}) is no longer in the cluster: revisionHistoryLimit is "
            f"{state.revision_history_limit} and the revisions kept are {kept}{hint}")
    differences = pod_template.describe_changes((state.raw.get("spec") or {}).get("template") or {}, revision.template)
    if state.replicas is not None:
        differences.append(f"replicas: {state.replicas}, kept (a rollback restores the template, not the scale)")
    return WorkloadChange(ref, state.current_revision, revision.number, recorded, state.images, revision.images,
                          revision, unchanged=state.current_revision == revision.number, differences=differences)


def plan(model: ReleaseModel, options: PlanOptions) -> Plan:
    """Decide what to roll back to. Raises for bad input; returns a Plan otherwise."""
    if options.to_release is not None and options.to_revision is not None:
        raise UsageError("--to-release and --to-revision cannot be used together")
    notes: list[str] = list(model.notes)
    mode = detect_mode(model, options.mode)
    current = model.current
    result = Plan(model.release_name, model.namespace, mode, options.match, current, None, [], "", notes)
    if current is None:
        result.reason, result.eligible = f"release {model.release_name} has no releases recorded", False
        return result

    if options.to_revision is not None:
        target, result.reason = _choose_by_revision(model, options.to_revision)
        ref = next(iter({w.ref for r in model.releases for w in r.workloads} or model.workloads))
        result.target = target
        result.workloads = [_change(model, ref, options.to_revision, None)]
        return result
    if options.to_release is not None:
        target = next((r for r in model.releases if r.number == options.to_release), None)
        if target is None:
            known = ", ".join(str(r.number) for r in model.releases)
            raise UnknownRelease(f"release {options.to_release} is not in the history of {model.release_name} "
                                 f"(releases: {known})")
        if target.status == Status.FAILED:
            notes.append(f"release {target.number} failed; rolling back to it because --to-release asked for it")
        result.reason = f"release {target.number}, as asked"
    else:
        target, result.reason, result.eligible = _choose_default(model, options, notes)
    result.target = target
    if target is None:
        return result
    if mode == "blue-green":
        # Traffic goes back by swapping Service selectors; no template is restored.
        result.traffic = bluegreen.traffic_plan(model, current, target, notes)
        return result
    canaries = canary_workloads(model)
    result.workloads = [_change(model, w.ref, w.revision, target) for w in target.workloads if w.ref not in canaries]
    if canaries and current.status != Status.SUCCEEDED:
        result.deletions = canaries
        notes.append("the failed canary workloads are deleted first: " + ", ".join(map(str, canaries)))
    targets = {w.ref for w in target.workloads}
    failed_still_up = any((model.workloads[w.ref].replicas or 0) > 0 for w in current.workloads
                          if w.ref.kind == "ReplicaSet" and w.ref not in targets and w.ref in model.workloads)
    for change in result.workloads:
        if change.ref.kind == "ReplicaSet" and failed_still_up:
            change.unchanged = False
    stale = [str(c.ref) for c in result.workloads if not c.unchanged and c.source is not None
             and LAST_APPLIED in model.workloads[c.ref].annotations]
    if stale:
        notes.append(f"{', '.join(stale)} keep kubectl's last-applied-configuration, which still describes the "
                     "failed release: a later `kubectl apply` diffs against it (apply the good manifest to refresh it)")
    left = sorted({w.ref for w in current.workloads} - {w.ref for w in target.workloads} - set(canaries))
    for ref in left:
        notes.append(f"{ref} was deployed by release {current.number} but not by release {target.number}; "
                     "it is left as it is")
    return result

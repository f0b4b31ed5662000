"""The rollback-to decision: a pure function of the release model.

No I/O and no printing: `plan` renders the Plan this returns, and `rollback` carries out the
very same object.
"""

from __future__ import annotations

import json
from dataclasses import field

from kubectl_harness_rollback import kinds, roll_forward
from kubectl_harness_rollback.apply import last_applied, object_diff, prune
from kubectl_harness_rollback.apply.reapply_scope import OutsideReapplyScope, ReapplyObject, Refused, split_scope
from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.errors import PluginError, UsageError
from kubectl_harness_rollback.harness_names import (
    CANARY_SUFFIX,
    CANARY_TRACK_LABEL,
    CANARY_TRACK_VALUE,
    LAST_ROLLBACK_ANNOTATION,
    MANAGED_WORKLOAD_ANNOTATION,
    RELEASE_NAME_LABEL,
)
from kubectl_harness_rollback.model import (
    RESTORABLE_KINDS,
    Identity,
    Release,
    ReleaseModel,
    Revision,
    Status,
    UnrecordedRevision,
    WorkloadRef,
    WorkloadState,
)
from kubectl_harness_rollback.modes import Match, Mode, PlanOptions
from kubectl_harness_rollback.records.assemble import release_name_of
from kubectl_harness_rollback.records.declarative import images_of
from kubectl_harness_rollback.strategies import bluegreen, swap_record
from kubectl_harness_rollback.strategies.bluegreen import TrafficPlan
from kubectl_harness_rollback.workloads import owners


class PrunedRevision(PluginError):
    """The revision to roll back to is no longer kept by Kubernetes."""


class UnknownRelease(PluginError):
    """--to-release names a release the history does not have."""


class RecordDisagrees(PluginError):
    """The latest release is recorded Succeeded, but a workload runs another revision than it
    recorded: "nothing to do" would be a guess, so it says so and names both ways out (exit 1)."""


@data_class
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
    # A workload without revisions (a bare ReplicaSet) is restored by its scale: the replicas it
    # gets (None for every other workload).
    to_replicas: int | None = None


@data_class
class Plan:
    release_name: str
    namespace: str
    mode: Mode
    match: Match
    current: Release | None
    target: Release | None
    workloads: list[WorkloadChange]
    reason: str  # why this target, or why nothing is done
    notes: list[str] = field(default_factory=list)
    eligible: bool = True  # False: there is no release to roll back to (exit 3)
    deletions: list[WorkloadRef] = field(default_factory=list)  # canary workloads of the failed release
    traffic: TrafficPlan | None = None  # blue/green: how the Services swap back
    # Declarative target: every object of its stored manifest the rollback re-applies (those that
    # differ from it), and what re-applying changes in each, as field paths.
    reapply: list[ReapplyObject] = field(default_factory=list)
    reapply_differences: dict[ReapplyObject, list[str]] = field(default_factory=dict)
    # Declarative target: the objects of its stored manifest the safety filter refuses; while any
    # is, the rollback writes nothing (preflight.check_reapply_scope).
    refused: list[Refused] = field(default_factory=list)
    # The failed release's workloads without revisions (bare ReplicaSets) the rollback-to release
    # does not run: scaled to zero after the rollback-to ones are scaled up.
    scale_down: list[WorkloadChange] = field(default_factory=list)
    # (workload, owner) for every workload Argo CD, Flux or Helm owns too (owners.py).
    owners: list[tuple[WorkloadRef, owners.Owner]] = field(default_factory=list)
    # --prune: deleted before the re-apply, in this order (prune.PruneObject).
    prune: list = field(default_factory=list)
    # The succeeded releases the identity rule passed over, newest first (way_back).
    passed_over: list[Release] = field(default_factory=list)
    # Returning to the newest release after a rollback (roll_forward.py): `current` is the release
    # live now, nothing is marked Failed, and the target is recorded again as `new_release`.
    rolls_forward: bool = False
    new_release: int | None = None

    @property
    def has_changes(self) -> bool:
        if self.target is None:
            return False
        if self.traffic is not None:
            return bool(self.traffic.swaps)
        return (bool(self.deletions) or bool(self.reapply) or bool(self.prune)
                or any(not w.unchanged for w in self.workloads))


CANARY_TRACK = (CANARY_TRACK_LABEL, CANARY_TRACK_VALUE)


def canary_workloads(model: ReleaseModel) -> list[WorkloadRef]:
    """What a failed canary leaves: workloads labelled harness.io/track=canary, and (as Harness's
    canary delete picks them) the current release's resources named `-canary` that still exist —
    the canary workload, its HPA/PDB and, for declarative releases, its ConfigMaps/Secrets."""
    key, value = CANARY_TRACK
    found = {ref for ref, state in model.workloads.items() if state.labels.get(key) == value}
    for ref in model.current.resources if model.current else []:
        if ref.name.endswith(CANARY_SUFFIX) and ref.namespace == model.namespace and (
                ref in model.workloads or ref in model.canary_objects):
            found.add(ref)
    return sorted(found)


def detect_mode(model: ReleaseModel, requested: Mode) -> Mode:
    if requested is not Mode.AUTO:
        return requested
    if bluegreen.is_blue_green(model):
        return Mode.BLUE_GREEN
    if canary_workloads(model):
        return Mode.CANARY
    return Mode.ROLLING


def _identity_text(identity: Identity | None, match: Match) -> str:
    if identity is None:
        return "an unrecorded identity"
    infra = identity.infra
    mapping = f"infra mapping {infra.service_id}/{infra.infra_id}/{infra.cluster_name}/{infra.namespace}"
    return mapping if match == Match.INFRA else f"workflow {identity.workflow_id} on {mapping}"


def _same(known: str | None, other: str | None) -> bool:
    """Equal, or unknown on one side: a declarative release records no Workflow Id and no
    cluster name (NextGen has neither), so it cannot disagree on them."""
    return known is None or other is None or known == other


def identity_matches(current: Identity | None, candidate: Identity | None, match: Match,
                     workflow_id: str | None = None) -> bool:
    """Harness's rule: same Workflow Id and Infrastructure Mapping (or the mapping alone)."""
    if current is None or candidate is None:
        # Nothing to compare (no annotations, or the revision that carried them is gone):
        # the release name alone ties them, as in Harness's own history. Noted by the caller.
        return True
    mine, theirs = current.infra, candidate.infra
    if mine.namespace != theirs.namespace or not all(
            _same(a, b) for a, b in ((mine.service_id, theirs.service_id), (mine.infra_id, theirs.infra_id),
                                     (mine.cluster_name, theirs.cluster_name))):
        return False
    if match == Match.INFRA:
        return True
    return _same(candidate.workflow_id, workflow_id or current.workflow_id)


def _rollback_hint(model: ReleaseModel, number: int) -> str:
    return (f"kubectl harness-rollback rollback {model.release_name} -n {model.namespace} "
            f"--from-release {number}")


def _rolled_back_already(model: ReleaseModel) -> str | None:
    """Why nothing is to be done, when every workload still runs what the last rollback restored
    (its `harness.io/last-rollback` annotation); None otherwise."""
    found = []
    for ref, state in sorted(model.workloads.items()):
        try:
            record = json.loads(state.annotations.get(LAST_ROLLBACK_ANNOTATION, ""))
            restored = record["revisions"][str(ref)]
        except (ValueError, KeyError, TypeError):
            return None
        current = state.revision(state.current_revision) if state.current_revision is not None else None
        if not isinstance(restored, dict) or current is None:
            return None
        same_revision = isinstance(restored.get("to"), int) and current.answers_to(restored["to"])
        # A StatefulSet's ControllerRevision is renumbered without a trace: its images tell.
        same_images = list(current.images) == restored.get("images") and current.number != restored.get("from")
        if not (same_revision or same_images):
            return None
        found.append(f"{ref} still runs revision {restored.get('to')}, restored by {record.get('by')} at "
                     f"{record.get('at')} (from revision {restored.get('from')})")
    if not found:
        return None
    return ("already rolled back: " + "; ".join(found) + "; nothing to do (name a revision with --to-revision to "
            "go elsewhere)")


def _not_running(model: ReleaseModel, release: Release) -> list[str]:
    """The workloads of `release` that run another revision than it recorded, in words ("deployment/web
    runs revision 5 (release 2's), not release 4's revision 4"). Workloads without revisions, gone,
    or without a recorded revision say nothing either way."""
    found = []
    for item in release.workloads:
        state = model.workloads.get(item.ref)
        if state is None or not state.has_revisions or item.revision is None or state.current_revision is None:
            continue
        recorded = state.revision(item.revision)
        if recorded is None or recorded.number == state.current_revision:
            continue
        running = state.revision(state.current_revision)
        recording = [r.number for r in model.releases for w in r.workloads
                             if w.ref == item.ref and w.revision is not None and running is not None
                             and state.revision(w.revision) is running]
        whose = f" (release {recording[0]}'s)" if recording else " (no release records it)"
        found.append(f"{item.ref} runs revision {state.current_revision}{whose}, not release {release.number}'s "
                     f"revision {recorded.number}")
    return found


def _check_runs_recorded(model: ReleaseModel, current: Release) -> None:
    """A succeeded latest release whose workloads run something else is not "nothing to do": a
    rollback that raced its deploy, or a change by hand, left the record and the cluster apart."""
    apart = _not_running(model, current)
    if apart:
        raise RecordDisagrees(
            f"the latest release {current.number} is recorded Succeeded, but {'; '.join(apart)}: the record and "
            f"the cluster disagree (a rollback or a change by hand overtook release {current.number}'s deploy); "
            f"nothing was changed: to roll release {current.number} back and record it Failed, run: "
            f"{_rollback_hint(model, current.number)}; to run release {current.number}, deploy it again")


def _choose_default(model: ReleaseModel, current: Release, options: PlanOptions, notes: list[str],
                    skipped: list[Release]) -> tuple[Release | None, str, bool]:
    """(rollback-to, why, eligible) when the user did not name a release or revision; `skipped`
    gets the succeeded releases another identity deployed that it passed over."""
    older = [r for r in model.releases if r.number < current.number]
    if all(r.status is None for r in model.releases):
        done = _rolled_back_already(model)
        if done:
            # kubectl's "previous revision" of a rolled-back workload is the bad one again: the
            # rollback fixes its own target, so running it twice never undoes the first run.
            return None, done, True
        notes.append("no release records a status: falling back to kubectl's rule, the previous revision")
        if not older:
            return None, f"release {current.number} is the only one; there is no previous revision", False
        return older[0], f"previous revision (release {older[0].number}); no status is recorded", True
    if current.status == Status.SUCCEEDED and options.from_release is None:
        swapped = bluegreen.swap_back_in_effect(model) if bluegreen.is_blue_green(model) else None
        if swapped is not None:
            # A blue/green rollback leaves the release Succeeded, as Harness's swap does: the
            # primary Service's record says it was rolled back.
            return None, swap_record.already_done(swapped), True
        _check_runs_recorded(model, current)
        # Harness: "Latest release was successful. Skipping rollback" — unless the forward step
        # handed over this release number because a later step of its pipeline failed.
        return None, (f"no failed release found: the latest release {current.number} succeeded; if a later step "
                      f"of the pipeline that deployed it failed, roll it back with: "
                      f"{_rollback_hint(model, current.number)}"), True
    if current.identity is None:
        notes.append(f"release {current.number} has no recorded identity: matching by release name only")
    wanted = _identity_text(current.identity, options.match)
    if options.workflow_id and current.identity is not None:
        wanted = _identity_text(Identity(options.workflow_id, current.identity.infra), options.match)
    def note_skipped() -> None:
        if skipped:
            notes.append(_passed_over_note(current, skipped, options.match))

    for release in older:
        if release.status != Status.SUCCEEDED:
            continue
        if identity_matches(current.identity, release.identity, options.match, options.workflow_id):
            note_skipped()
            if release.identity is None and current.identity is not None:
                notes.append(f"release {release.number} has no recorded identity (its revision carries none, or "
                             "is gone): matched by release name only")
            how = "infrastructure mapping" if options.match == Match.INFRA else "workflow and infrastructure mapping"
            return release, (f"release {release.number} is the newest succeeded release before "
                             f"{current.number} with the same {how} ({wanted})"), True
        skipped.append(release)
    note_skipped()
    return None, (f"no succeeded release before release {current.number} deployed by {wanted}; "
                  "nothing to roll back to"), False


def _by_mapping(current: Release, skipped: list[Release], match: Match) -> tuple[list[int], list[int]]:
    """The passed-over releases (newest first) that `--match infra` would consider (another workflow on
    the same infrastructure mapping) and those only `--to-release N` reaches (another mapping)."""
    same = [r.number for r in skipped
            if match != Match.INFRA and identity_matches(current.identity, r.identity, Match.INFRA)]
    return same, [r.number for r in skipped if r.number not in same]


def _passed_over_note(current: Release, skipped: list[Release], match: Match) -> str:
    """Which succeeded releases the identity rule passed over, and which option reaches each: `--match
    infra` only helps where the mapping is the same."""
    same, other = _by_mapping(current, skipped, match)
    parts = []
    if same:
        parts.append(f"{', '.join(map(str, same))} (another workflow on the same infrastructure mapping: "
                     f"--match infra would consider {'it' if len(same) == 1 else 'them'})")
    if other:
        parts.append(f"{', '.join(map(str, other))} (another infrastructure mapping: only --to-release "
                     f"{other[0]} rolls back to {'it' if len(other) == 1 else 'one of them'})")
    return "succeeded releases deployed by another identity were passed over: " + "; ".join(parts)


def way_back(plan: Plan) -> str:
    """The options that would give a plan with nothing to roll back to the newest succeeded release
    its identity rule passed over ("" when none was): `--match infra` where only the workflow
    differs, else `--to-release N`."""
    if plan.eligible or plan.current is None or not plan.passed_over:
        return ""
    same, other = _by_mapping(plan.current, plan.passed_over, plan.match)
    if same and (not other or same[0] > other[0]):
        return "--match infra"
    return f"--to-release {other[0]}" if other else ""


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
    return UnrecordedRevision(ref, revision), f"revision {revision} of {ref}, as asked (no release records it)"


def manifest_of(release: Release, ref: WorkloadRef) -> dict | None:
    """The stored manifest of `ref` in a declarative release."""
    return next((m for m in release.manifests
                 if m.get("kind") == ref.kind and (m.get("metadata") or {}).get("name") == ref.name), None)


def _object_differences(model: ReleaseModel, obj: ReapplyObject, manifest: dict) -> list[str]:
    """What re-applying `manifest` changes on the live object, as field paths (never a Secret's
    values); one line saying so where the object could not be read."""
    live = model.live_objects if model.live_objects is not None else {}
    key = (obj.group, obj.kind, obj.name)
    if key not in live:
        return ["not compared (it could not be read): re-applied"]
    hide = obj.kind == kinds.SECRET.name
    return [d.text(hide_values=hide) for d in object_diff.apply_differences(manifest, live[key], model.namespace)]


class UnrestorableWorkload(PluginError):
    """A release manages a kind this plugin cannot restore (Harness custom workloads, OpenShift)."""


MANAGED_WORKLOAD = MANAGED_WORKLOAD_ANNOTATION


def _refuse_unrestorable(releases: list[Release]) -> None:
    """Refuse, before any write, a release that manages a kind a rollback here cannot restore:
    restoring only the rest would leave that one at the failed version."""
    for release in releases:
        refs = [w.ref for w in release.workloads if w.ref.kind not in RESTORABLE_KINDS]
        refs += [WorkloadRef(m.get("kind") or "?", (m.get("metadata") or {}).get("name") or "?", "")
                 for m in release.manifests if isinstance(m, dict) and m.get("kind") not in RESTORABLE_KINDS
                 and str(((m.get("metadata") or {}).get("annotations") or {}).get(MANAGED_WORKLOAD, "")).lower()
                 == "true"]
        if refs:
            ref = refs[0]
            raise UnrestorableWorkload(
                f"release {release.number} manages {ref.kind} {ref.name}, a kind kubectl harness-rollback cannot "
                f"restore (it restores {', '.join(RESTORABLE_KINDS)}); nothing was changed: roll it back with "
                "that kind's own tooling")


class MissingWorkload(PluginError):
    """A workload of a legacy rollback-to release was deleted: no manifest is kept to recreate it."""


def _refuse_missing_legacy(model: ReleaseModel, target: Release, canaries: list[WorkloadRef]) -> None:
    """Refuse, before any write, a legacy rollback-to release with a workload that is gone, naming
    what could be restored: only its revisions were kept, and they went with it. (A declarative
    release is recreated from its stored manifest, as Harness's re-apply does.)"""
    if target.is_declarative:
        return
    refs = [w.ref for w in target.workloads if w.ref not in canaries and w.ref.namespace == model.namespace]
    gone = [ref for ref in refs if ref not in model.workloads]
    if not gone:
        return
    there = [str(ref) for ref in refs if ref in model.workloads]
    restorable = (f"{', '.join(there)} could be restored, but not alone (the release would be half rolled back)"
                  if there else "none of its workloads is left to restore")
    raise MissingWorkload(
        f"{', '.join(map(str, gone))} of release {target.number} no longer {'exists' if len(gone) == 1 else 'exist'} "
        f"in namespace {model.namespace}, and a legacy release keeps no manifest to recreate "
        f"{'it' if len(gone) == 1 else 'them'}: {restorable}; nothing was changed: recreate "
        f"{'it' if len(gone) == 1 else 'them'} (or roll back with the pipeline that deployed release {target.number})")


def _previous_revision(state: WorkloadState) -> Revision | None:
    """kubectl's `rollout undo` without --to-revision: the second-highest revision."""
    return state.revisions[-2] if len(state.revisions) >= 2 else None


def _foreign(model: ReleaseModel, target: Release, obj: ReapplyObject, live: dict) -> str | None:
    """Why an object that exists is not this release's to re-apply; None when it is.

    A release Secret is anyone's to write who may create Secrets here, and the apply runs with the
    rights of whoever rolls back: it must not re-point another team's objects. Labels decide
    first; then, for what Harness does not label, whether this release name ever deployed it."""
    owner = release_name_of(live)
    if owner and owner != model.release_name:
        return f"it belongs to release {owner} (its {RELEASE_NAME_LABEL} label)"
    if owner == model.release_name:
        return None
    if obj.kind in RESTORABLE_KINDS:
        return (f"it has no {RELEASE_NAME_LABEL}={model.release_name} label, which Harness puts on every workload "
                "it deploys: it is not this release's")
    if any(manifest_of(release, WorkloadRef(obj.kind, obj.name, model.namespace)) is not None
           for release in model.releases if release.is_declarative and release is not target):
        return None
    mine = manifest_of(target, WorkloadRef(obj.kind, obj.name, model.namespace))
    if mine is not None and last_applied.records(
            ((live.get("metadata") or {}).get("annotations") or {}).get(last_applied.ANNOTATION), mine):
        return None
    return f"no other release of {model.release_name} deployed it, and it exists: it may be someone else's"


def _refuse_foreign(model: ReleaseModel, target: Release, scope: list[ReapplyObject]) -> None:
    """Refuse, before any write, a release that would re-apply an object that is not its own."""
    if model.live_objects is None:
        return
    foreign = [(obj, why) for obj in scope
               if (live := model.live_objects.get((obj.group, obj.kind, obj.name))) is not None
               and (why := _foreign(model, target, obj, live)) is not None]
    if foreign:
        obj, why = foreign[0]
        more = f" ({len(foreign) - 1} more object(s) of it are refused too)" if len(foreign) > 1 else ""
        raise OutsideReapplyScope(
            f"release {target.number} would re-apply {obj}, which a rollback does not touch: {why}{more}; nothing "
            "was changed: check who wrote that release Secret")


def _change(model: ReleaseModel, ref: WorkloadRef, recorded: int | None, release: Release | None,
            notes: list[str]) -> WorkloadChange:
    state = model.workloads.get(ref)
    label = f"release {release.number}" if release else "the rollback"
    if release is not None and release.is_declarative:
        # Restored by re-applying the release's stored manifest (which recreates a deleted
        # workload), not from a revision: unchanged when re-applying it would change no field.
        manifest = manifest_of(release, ref) or {}
        obj = ReapplyObject(ref.kind, ref.name, str(manifest.get("apiVersion") or ""))
        differences = _object_differences(model, obj, manifest)
        return WorkloadChange(ref, state.current_revision if state else None, None, None,
                              state.images if state else (), images_of(manifest), None,
                              unchanged=bool(state) and not differences, differences=differences)
    if state is None and ref.namespace != model.namespace:
        # A history is anyone's to write who may write it: a rollback asked about one namespace
        # never reaches into another.
        raise PluginError(f"{label} records {ref} in namespace {ref.namespace}, not in {model.namespace}: a rollback "
                          f"of {model.release_name} only touches namespace {model.namespace}; fix the history")
    if state is None:
        raise PluginError(f"{ref} of {label} no longer exists in namespace {model.namespace}; "
                          "nothing can restore it from the cluster")
    if not state.has_revisions:
        # A bare ReplicaSet has no revisions: the release's own ReplicaSet is scaled back up.
        return WorkloadChange(ref, None, None, recorded, state.images, state.images, None,
                              unchanged=bool(state.replicas))
    if recorded is None:
        # Harness writes an empty revision when it could not read `kubectl rollout history`, and
        # old single-workload records have none; it then runs a plain `kubectl rollout undo`.
        revision = _previous_revision(state)
        if revision is None:
            raise PluginError(f"{label} recorded no revision for {ref}, and {ref} has no previous revision to "
                              "restore; name one with --to-revision")
        notes.append(f"{label} recorded no revision for {ref}: restoring the previous revision "
                     f"({revision.number}), as Harness does")
    else:
        revision = state.revision(recorded)
    if revision is None:
        kept = ", ".join(str(r.number) for r in state.revisions) or "none"
        raise PrunedRevision(
            f"revision {recorded} of {ref} ({label}) is no longer in the cluster: revisionHistoryLimit is "
            f"{state.revision_history_limit} and the revisions kept are {kept}")
    # The whole pod template decides, as kubectl's EqualIgnoreHash does: a failure that changed
    # only an env var or a command is as real as a new image.
    live_template = (state.raw.get("spec") or {}).get("template") or {}
    differences = [d.text() for d in object_diff.template_differences(live_template, revision.template)]
    unchanged = state.current_revision == revision.number and not differences
    if state.replicas is not None and not unchanged:
        differences.append(f"spec.replicas: {state.replicas}, kept (a rollback restores the template, not the scale)")
    return WorkloadChange(ref, state.current_revision, revision.number, recorded, state.images, revision.images,
                          revision, unchanged=unchanged, differences=differences)


def _by_scale(model: ReleaseModel, ref: WorkloadRef) -> bool:
    return ref in model.workloads and not model.workloads[ref].has_revisions


def _plan_scales(model: ReleaseModel, result: Plan, mark_changed: bool) -> None:
    """Workloads without revisions (bare ReplicaSets) are rolled back by scale: the rollback-to
    release's up to the replicas of the failed release's (when none is up: their own, else 1),
    the failed release's own to zero. `mark_changed`: a rollback-to ReplicaSet that is already up still
    counts as a change while a failed one is up too."""
    targets = {w.ref for w in result.target.workloads}
    if not any(_by_scale(model, ref) for ref in targets):
        return
    failed = [w.ref for w in result.current.workloads if w.ref not in targets and _by_scale(model, w.ref)]
    failed_up = max([model.workloads[ref].replicas or 0 for ref in failed], default=0)
    for change in result.workloads:
        if _by_scale(model, change.ref):
            # With no failed one up, a rollback-to ReplicaSet keeps its own scale (never scaled to zero).
            change.to_replicas = failed_up or model.workloads[change.ref].replicas or 1
            if mark_changed and failed_up:
                change.unchanged = False
    result.scale_down = []
    for ref in failed:
        images = model.workloads[ref].images
        result.scale_down.append(WorkloadChange(ref, None, None, None, images, images, None, to_replicas=0))


def _current(model: ReleaseModel, options: PlanOptions) -> Release | None:
    """The release being rolled back: the newest, or the one --from-release names."""
    if options.from_release is None:
        return model.current
    known = ", ".join(str(r.number) for r in model.releases) or "none"
    named = next((r for r in model.releases if r.number == options.from_release), None)
    if named is None:
        raise UnknownRelease(f"release {options.from_release} is not in the history of {model.release_name} "
                             f"(releases: {known})")
    if named is not model.current:
        # What runs now was deployed by the newer release: rolling back "from" an older one
        # would restore a target chosen against the wrong state.
        raise UsageError(f"--from-release {named.number} is not the latest release of {model.release_name} "
                         f"(release {model.current.number} is); name the release the failed pipeline deployed")
    return named


def plan(model: ReleaseModel, options: PlanOptions) -> Plan:
    """Decide what to roll back to. Raises for bad input; returns a Plan otherwise."""
    result = _decide(model, options)
    result.owners = owners.owned_workloads(model.workloads.values())
    return result


def _decide(model: ReleaseModel, options: PlanOptions) -> Plan:
    notes: list[str] = list(model.notes)
    mode = detect_mode(model, options.mode)
    current = _current(model, options)
    result = Plan(model.release_name, model.namespace, mode, options.match, current, None, [], "", notes)
    if current is None:
        result.reason, result.eligible = f"release {model.release_name} has no releases recorded", False
        return result
    store = model.history_store
    if store is not None and options.to_revision is None and not any(r.is_legacy or r.is_declarative
                                                                      for r in model.releases):
        # An empty (or emptied) history is no licence to fall back to the previous revision:
        # Harness finds no release in it and skips the rollback, and so do we.
        result.reason, result.eligible = (
            f"the release history {store.kind.lower()}/{store.name} holds no releases: nothing to roll back to "
            "(delete it to judge the workloads by their own revisions, or name one with --to-revision)"), False
        return result

    if options.to_revision is not None:
        target, result.reason = _choose_by_revision(model, options.to_revision)
        ref = next(iter({w.ref for r in model.releases for w in r.workloads} or model.workloads))
        result.target = target
        result.workloads = [_change(model, ref, options.to_revision, None, notes)]
        _plan_scales(model, result, mark_changed=False)
        if _rolls_forward(model, options, mode, target):
            _plan_roll_forward(model, result, target)
            _finish_roll_forward(model, result, target)
        return result
    if options.to_release is not None:
        target = next((r for r in model.releases if r.number == options.to_release), None)
        if target is None:
            known = ", ".join(str(r.number) for r in model.releases)
            raise UnknownRelease(f"release {options.to_release} is not in the history of {model.release_name} "
                                 f"(releases: {known})")
        if _rolls_forward(model, options, mode, target):
            current = _plan_roll_forward(model, result, target)
        else:
            if target.status == Status.FAILED:
                notes.append(f"release {target.number} failed; rolling back to it because --to-release asked for it")
            result.reason = f"release {target.number}, as asked"
    else:
        target, result.reason, result.eligible = _choose_default(model, current, options, notes,
                                                                 result.passed_over)
    result.target = target
    if target is None:
        return result
    _refuse_unrestorable([current, target])
    if mode is Mode.BLUE_GREEN:
        # Traffic goes back by swapping Service selectors; no template is restored.
        result.traffic = bluegreen.traffic_plan(model, current, target, notes)
        if result.traffic.swapped_back is not None:
            result.reason = swap_record.already_done(result.traffic.swapped_back)
        if options.prune:
            # Harness prunes a blue/green release in its stage deploy (K8sBGBaseHandler.pruneForBg), never
            # when it swaps back.
            notes.append("--prune: a blue/green rollback swaps the Services back and deletes nothing, as Harness's")
        return result
    scope: list[tuple[ReapplyObject, dict]] = []
    if target.is_declarative:
        # What re-applying the stored manifest writes, and what the safety filter refuses (a release
        # Secret is anyone's to write who may create Secrets here): listed by `plan`, and refused by
        # `rollback` before any write.
        scope, result.refused = split_scope(target.manifests, model.namespace)
    canaries = canary_workloads(model)
    _refuse_missing_legacy(model, target, canaries)
    result.workloads = [_change(model, w.ref, w.revision, target, notes) for w in target.workloads
                        if w.ref not in canaries]
    if canaries and (current.status != Status.SUCCEEDED or options.from_release is not None):
        result.deletions = canaries
        notes.append("the failed canary workloads are deleted first: " + ", ".join(map(str, canaries)))
    _plan_scales(model, result, mark_changed=True)
    _refuse_foreign(model, target, [obj for obj, _ in scope])
    for obj, manifest in scope:
        differences = _object_differences(model, obj, manifest)
        if differences:
            # Only what differs is written: re-applying an equal object would change nothing.
            result.reapply.append(obj)
            result.reapply_differences[obj] = differences
    stale = [str(c.ref) for c in result.workloads if not c.unchanged and c.source is not None
             and last_applied.ANNOTATION in model.workloads[c.ref].annotations]
    if stale:
        notes.append(f"{', '.join(stale)} {'keeps' if len(stale) == 1 else 'keep'} kubectl's "
                     "last-applied-configuration, which still describes the failed release: a later `kubectl apply` "
                     "diffs against it (apply the good manifest to refresh it)")
    result.prune, pruning_notes = prune.decide(model, current, target, options.prune)
    notes += pruning_notes
    left = sorted({w.ref for w in current.workloads} - {w.ref for w in target.workloads} - set(canaries))
    for ref in [] if current.is_declarative and target.is_declarative else left:  # prune.decide noted them
        notes.append(f"{ref} was deployed by release {current.number} but not by release {target.number}; "
                     "it is left as it is")
    _finish_roll_forward(model, result, target)
    return result


def _rolls_forward(model: ReleaseModel, options: PlanOptions, mode: Mode, target: Release) -> bool:
    """Whether the release asked for returns to the newest release (roll_forward.py). Blue/green goes
    back and forth by swapping Services, and its bookkeeping marks nothing Failed either way."""
    return (options.from_release is None and mode is not Mode.BLUE_GREEN
            and roll_forward.returns_to_latest(model, target))


def _plan_roll_forward(model: ReleaseModel, result: Plan, target: Release) -> Release:
    """Make `result` a roll forward to `target`; the release live now (what it supersedes) becomes
    its current release, and is returned."""
    result.current = roll_forward.live(model) or result.current
    result.rolls_forward, result.new_release = True, roll_forward.new_release_number(model)
    result.reason = roll_forward.reason(target, result.current, result.new_release)
    return result.current


def _finish_roll_forward(model: ReleaseModel, result: Plan, target: Release | None) -> None:
    """A roll forward with nothing to restore and nothing to record is "nothing to do"."""
    if result.rolls_forward and not roll_forward.needs_record(model, result.has_changes):
        result.reason = roll_forward.already_there(model, target)
        result.target, result.rolls_forward, result.new_release = None, False, None

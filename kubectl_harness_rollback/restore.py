"""A rolling rollback carried out: restore each template (or re-apply the release), wait, record.

Called by executor.carry_out once every check passed. Templates first (re-applied from a declarative
release's manifest, else restored from the revisions Kubernetes keeps), then the scales; the history,
audit annotation and Event are written once the controller observed the restored templates, and only
then does the wait for steady state begin.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Callable

from kubectl_harness_rollback import kinds, overtaken
from kubectl_harness_rollback import outcome as outcome_items
from kubectl_harness_rollback import workloads as adapters
from kubectl_harness_rollback.apply import manifests, prune_live
from kubectl_harness_rollback.apply.object_diff import (
    STATUS_ONLY_RETRIES,
    apply_differences,
    only_status_moved,
    template_differences,
)
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.errors import ChangedDuringWait, Conflict, NotSteady, PluginError
from kubectl_harness_rollback.execution import (
    Clock,
    RollbackOptions,
    grace,
    poll,
)
from kubectl_harness_rollback.harness_names import LAST_ROLLBACK_ANNOTATION
from kubectl_harness_rollback.model import ReleaseModel, UnrecordedRevision, WorkloadRef
from kubectl_harness_rollback.outcome import Outcome, outcome_item_text
from kubectl_harness_rollback.planner import Plan, WorkloadChange, manifest_of
from kubectl_harness_rollback.records import bookkeeping, registry
from kubectl_harness_rollback.strategies import canary
from kubectl_harness_rollback.workloads.common import template_images


def _write(kube, change: WorkloadChange, model: ReleaseModel, audit: dict[str, str], dry_run: DryRun,
           written: dict[WorkloadRef, dict]) -> list[dict]:
    """Carry out one planned change through its kind's adapter (the object as written goes into
    `written`: the wait starts from it); [] when there is nothing to write."""
    state = model.workloads.get(change.ref)
    adapter = adapters.adapter_for(change.ref.kind)
    for attempt in range(STATUS_ONLY_RETRIES + 1):
        body = adapter.restore(state, change, audit) if state is not None else None
        if body is None:
            return []
        try:
            written[change.ref] = adapters.patch_guarded(kube, change.ref, body, dry_run.api_kwargs())
            break
        except Conflict:
            now = _reread(kube, adapter, change.ref) if attempt < STATUS_ONLY_RETRIES else None
            # A restored template leaves spec.replicas as it is now: an autoscaler's (HPA, KEDA) scale
            # in between changes nothing the restore was planned from. A planned scale it does.
            if now is None or not only_status_moved(state.raw, now, replicas_may_move=change.to_replicas is None):
                raise  # someone else changed what the plan was made from: re-plan (exit 5)
            state = dataclasses.replace(state, resource_version=now["metadata"]["resourceVersion"], raw=now)
    if change.to_replicas is not None:
        return [outcome_items.scaled(change.ref, change.to_replicas)]
    return [outcome_items.restored(change.ref, change.to_revision, change.to_images)]


def restore(kube, model: ReleaseModel, plan: Plan, options: RollbackOptions, progress: Callable[[str], None],
             clock: Clock, outcome: Outcome, user: str) -> None:
    """Rolling, canary and declarative: write the workloads, record once the controller has seen
    them, then wait — and check that what became steady is what was restored."""
    changes = [w for w in plan.workloads if not w.unchanged]
    at = bookkeeping.now_iso(clock.now)
    audit = bookkeeping.audit_annotations(plan, user, at, options.reason)
    # A restored template also says why in kubectl's change-cause (`kubectl rollout history`, k9s).
    restoring = {**audit, **bookkeeping.change_cause(plan, user, options.reason)}
    written: dict[WorkloadRef, dict] = {}

    def wrote(items: list[dict]) -> None:
        for item in items:
            outcome.written.append(item)
            progress(outcome_item_text(item) + (" (server dry run)" if options.dry_run is DryRun.SERVER else ""))

    for ref in canary.in_order(plan.deletions):
        wrote([canary.delete(kube, model, ref, options.dry_run)])
    _prune(kube, model, plan, options.dry_run, wrote, progress)
    # Templates first (by re-applying a declarative release's manifest, else from revisions), then
    # the scales: the rollback-to workloads up before the failed ones go to zero.
    restored = [] if plan.target.is_declarative else [c for c in changes if c.to_replicas is None]
    if plan.reapply:
        manifests.reapply(kube, plan.target.manifests, model.namespace, options.dry_run, model.live_objects,
                          plan.reapply, applied=lambda item: wrote([item]))
    scaled = [c for c in plan.workloads if c.to_replicas is not None] + plan.scale_down
    for change in restored + scaled:
        wrote(_write(kube, change, model, restoring if change.to_replicas is None else audit, options.dry_run,
                     written))
    if options.dry_run is DryRun.SERVER:
        return

    deadline = options.deadline
    refs = [c.ref for c in changes if c.ref in model.workloads or adapters.adapter_for(c.ref.kind).has_revisions]
    try:
        seen = poll(kube, refs, lambda adapter, obj: (adapter.observed(obj), ""), deadline, clock, progress,
                     meanwhile=NOT_OBSERVED, start=written)
    except NotSteady:
        _record_unobserved(kube, model, plan, outcome, refs, written, at, options.dry_run, options.reason)
        raise
    for ref, obj in seen.items():
        number = adapters.adapter_for(ref.kind).current_revision(kube, ref.namespace, obj)
        if number is not None:
            outcome.new_revisions[ref] = number
    _record(kube, model, plan, outcome, seen, at, options.dry_run, reason=options.reason)
    if options.wait:
        steady = poll(kube, refs, _rollout_status_of(plan), deadline, clock, progress, start=seen)
        _check_still_restored(kube, plan, outcome, steady)
        outcome.steady = True


def _prune(kube, model: ReleaseModel, plan: Plan, dry_run: DryRun, wrote: Callable[[list[dict]], None],
           progress: Callable[[str], None]) -> None:
    """--prune, before the re-apply as in Harness (K8sRollingRollbackRequestHandler): an object
    replaced since it was read, or already gone, is passed over, as Harness passes over a delete
    that fails (K8sTaskHelperBase.executeDeleteHandlingPartialExecution)."""
    for obj in plan.prune:
        item = prune_live.delete(kube, obj, model.namespace, dry_run)
        if item is not None:
            wrote([item])
        else:
            progress(f"{obj}: not pruned (gone, or replaced by another object since it was read)")


NOT_OBSERVED = ("the controller has not observed the restored template yet; the rollback is written and recorded "
                "(the next run records the revision number the controller gives it): watch it with 'kubectl "
                "rollout status' or run again with a longer --timeout")


def _record_unobserved(kube, model: ReleaseModel, plan: Plan, outcome: Outcome, refs: list[WorkloadRef],
                       written: dict[WorkloadRef, dict], at: str, dry_run: DryRun, reason: str | None = None) -> None:
    """The controller did not observe the restored template within --timeout (stopped, or the API
    server stalled): record the rollback anyway, so that exit 4 always means "recorded". Only the
    renumbered revision is unknown yet; the history keeps the one it has, which the
    ReplicaSet's revision-history still finds, and the next run records the new number."""
    seen = {ref: written.get(ref) or model.workloads[ref].raw for ref in refs
            if written.get(ref) or (ref in model.workloads and model.workloads[ref].raw)}
    _record(kube, model, plan, outcome, seen, at, dry_run, revisions={}, reason=reason)


def _check_still_restored(kube, plan: Plan, outcome: Outcome, steady: dict[WorkloadRef, dict]) -> None:
    """What became steady must be what was restored: someone else's `kubectl set image` during
    the wait is not a successful rollback, whatever the controller says."""
    for change in plan.workloads:
        obj = steady.get(change.ref)
        if obj is None or change.to_replicas is not None:
            continue
        images = template_images((obj.get("spec") or {}).get("template"))
        revision = adapters.adapter_for(change.ref.kind).current_revision(kube, change.ref.namespace, obj)
        expected = outcome.new_revisions.get(change.ref)
        # The same whole-template rule that planned the change (EqualIgnoreHash), not the images alone.
        template_moved = change.source is not None and template_differences(
            (obj.get("spec") or {}).get("template") or {}, change.source.template)
        if plan.target.is_declarative:
            template_moved = any(d.path.startswith("spec.template") for d in apply_differences(
                manifest_of(plan.target, change.ref) or {}, obj, change.ref.namespace))
        if images != tuple(change.to_images) or (expected is not None and revision != expected) or template_moved:
            raise ChangedDuringWait(
                f"{change.ref} was changed by someone else during the wait: it runs {', '.join(images) or 'no image'}"
                f" (revision {revision}), not the restored {', '.join(change.to_images)} (revision {expected}); "
                "the rollback itself is recorded — find out who changed it before running anything again")


def converge(kube, model: ReleaseModel, plan: Plan, options: RollbackOptions, progress: Callable[[str], None],
              clock: Clock, outcome: Outcome) -> None:
    """Every workload already runs the rollback-to release (an earlier run, or someone by hand):
    finish whatever records do not say so yet, then wait until it is steady — a retry after a
    timeout must not report success on a rollout that is still going on."""
    revisions = {c.ref: c.to_revision for c in plan.workloads if c.to_revision is not None}
    lagging = bookkeeping.pending_records(model, plan, revisions)
    if lagging:
        progress(f"every workload already runs release {plan.target.number}{_restored_by(model, plan)}, but "
                 f"{', '.join(lagging)} did not record it yet: recording it now")
        # The run that restored the workloads left no Event either (it stopped before, or lost a
        # race for the history to this run): this one leaves the audit trail.
        seen = {c.ref: model.workloads[c.ref].raw for c in plan.workloads if c.ref in model.workloads}
        _record(kube, model, plan, outcome, seen, bookkeeping.now_iso(clock.now), options.dry_run, revisions,
                options.reason)
    refs = [c.ref for c in plan.workloads if c.ref in model.workloads and model.workloads[c.ref].has_revisions]
    if options.wait and refs and options.dry_run is not DryRun.SERVER:
        progress("already rolled back: waiting until every workload is steady")
        poll(kube, refs, _rollout_status_of(plan), options.deadline, clock, progress)
        outcome.steady = True


def _restored_by(model: ReleaseModel, plan: Plan) -> str:
    """Who restored the workloads and when ("(restored by X at T)"), from the audit annotation the
    cut-short run left; empty when there is none."""
    for change in plan.workloads:
        state = model.workloads.get(change.ref)
        try:
            record = json.loads((state.annotations if state else {}).get(LAST_ROLLBACK_ANNOTATION, ""))
            return f" (restored by {record['by']} at {record['at']})"
        except (ValueError, KeyError, TypeError):
            continue
    return ""


def _record(kube, model: ReleaseModel, plan: Plan, outcome: Outcome, seen: dict[WorkloadRef, dict],
            at: str | None, dry_run: DryRun, revisions: dict[WorkloadRef, int] | None = None,
            reason: str | None = None) -> None:
    """Harness's bookkeeping, each release in the store it lives in (legacy history and
    declarative release Secrets can both exist: the Secrets continue the legacy numbering), and
    an Event on each workload that was written."""
    with grace(kube):
        # A deploy that overtook the rollback stops it before anything is recorded; one saved in
        # the legacy history makes its guarded write a 409, which is then explained.
        overtaken.check(kube, model, plan, seen, history=False)
        try:
            _record_now(kube, model, plan, outcome, seen, at, dry_run,
                        outcome.new_revisions if revisions is None else revisions, reason)
        except Conflict:
            overtaken.check(kube, model, plan, {})
            raise


def _record_now(kube, model: ReleaseModel, plan: Plan, outcome: Outcome, seen: dict[WorkloadRef, dict],
                at: str | None, dry_run: DryRun, revisions: dict[WorkloadRef, int], reason: str | None = None) -> None:
    bookkeeping.send(kube, registry.edits(model, plan, revisions), dry_run, "the rollback was done", outcome.recorded)
    for ref, obj in seen.items():
        change = next(c for c in plan.workloads if c.ref == ref)
        new = outcome.new_revisions.get(ref)
        to = (f"revision {change.to_revision}" if isinstance(plan.target, UnrecordedRevision)
              else f"release {plan.target.number}")
        moved = f"Rolled back {plan.release_name} from release {plan.current.number} to {to}"
        if plan.rolls_forward:  # never "from release 2 to release 2": the release live before, if another
            origin = "" if plan.current.number == plan.target.number else f" from release {plan.current.number}"
            recorded = f" (recorded as release {plan.new_release})" if plan.new_release is not None else ""
            moved = f"Rolled forward {plan.release_name}{origin} to {to}{recorded}"
        message = (f"{moved}: "
                   f"{ref} revision {change.from_revision} -> {change.to_revision}"
                   + (f" (now {new})" if new is not None and new != change.to_revision else "")
                   + f", images {', '.join(change.to_images)}")
        bookkeeping.record_event(kube, model.namespace, ref.name, ref.kind, kinds.BY_NAME[ref.kind].api_version,
                                 obj["metadata"]["uid"],
                                 bookkeeping.with_reason(message, reason), at, dry_run)
        outcome.recorded.append(outcome_items.event(ref.kind, ref.name))


def _reread(kube, adapter, ref: WorkloadRef) -> dict | None:
    try:
        return adapter.read(kube, ref.namespace, ref.name)
    except PluginError:
        return None  # gone or unreadable: the conflict stands


def _rollout_status_of(plan: Plan) -> Callable[[object, dict], tuple[bool, str]]:
    """The `until` of execution.poll for a restore: each workload's rollout status, told which ReplicaSet or
    ControllerRevision its template came back from (a progress-deadline condition the controller
    still keeps for the rolled-back-from ReplicaSet is not this rollout's failure)."""
    restored = {(c.ref.kind, c.ref.namespace, c.ref.name): c.source.object_name
                for c in plan.workloads if c.source is not None}

    def until(adapter, obj: dict) -> tuple[bool, str]:
        meta = obj.get("metadata") or {}
        return adapter.rollout_status(obj, restored.get((adapter.kind, meta.get("namespace"), meta.get("name"))))
    return until

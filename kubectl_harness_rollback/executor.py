"""Carry out a Plan: checks, writes, wait, bookkeeping.

The order matters to a user at 3 a.m.:
1. every check that can stop the rollback runs before the first write;
2. each write is guarded by the resourceVersion read when planning (a change made by someone
   else in between stops the rollback; nothing is overwritten blindly);
3. once the controller has observed the restored template, the history is updated, the audit
   annotation and Event are left — even if the wait that follows times out, and also when the
   controller does not observe it within --timeout (exit 4 always means "recorded");
4. then wait for steady state, with `kubectl rollout status`-style progress.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterator

from kubectl_harness_rollback import outcome as outcome_items
from kubectl_harness_rollback import overtaken, permissions, preflight
from kubectl_harness_rollback import workloads as adapters
from kubectl_harness_rollback.apply import manifests, prune_live
from kubectl_harness_rollback.apply.object_diff import apply_differences, only_status_moved, template_differences
from kubectl_harness_rollback.cluster.apierrors import translate
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.errors import (
    ChangedDuringWait,
    Conflict,
    Interrupted,
    NotSteady,
    PluginError,
    RolloutFailed,
    reworded,
)
from kubectl_harness_rollback.harness_names import LAST_ROLLBACK_ANNOTATION
from kubectl_harness_rollback.model import ReleaseModel, UnrecordedRevision, WorkloadRef
from kubectl_harness_rollback.outcome import Outcome, outcome_item_text
from kubectl_harness_rollback.planner import Plan, WorkloadChange, manifest_of
from kubectl_harness_rollback.records import bookkeeping, registry
from kubectl_harness_rollback.strategies import canary
from kubectl_harness_rollback.strategies import traffic as _traffic
from kubectl_harness_rollback.workloads import owners, waiting
from kubectl_harness_rollback.workloads.common import template_images


@dataclass(frozen=True)
class RollbackOptions:
    dry_run: DryRun = DryRun.NONE
    wait: bool = True
    timeout: float = 300.0
    scale_down_stage: bool = False
    # time.monotonic() by which the whole rollback ends (the CLI starts it before reading, so
    # --timeout bounds the whole command); None: `timeout` from the start of carry_out.
    deadline: float | None = None
    # Roll back a workload Argo CD or Flux reconciles all the same (README: "Other owners").
    ignore_owner: bool = False


@dataclass
class Clock:
    """The outside world's time, injected so tests can pass their own."""

    now: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic  # the wait's deadline (waits watch: nothing sleeps here)


# A controller writes its workloads' status all the time (a ReplicaSet counting pods that stop, a
# Deployment's conditions): that moves the resourceVersion a write is guarded by without changing
# anything the plan was made from. After a 409, a workload whose spec, labels, annotations, owners
# and generation are still as read is written again with its new version, this many times at most.
STATUS_ONLY_RETRIES = 3


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


def _reread(kube, adapter, ref: WorkloadRef) -> dict | None:
    try:
        return adapter.read(kube, ref.namespace, ref.name)
    except PluginError:
        return None  # gone or unreadable: the conflict stands


def _poll(kube, refs: list[WorkloadRef], until: Callable[[object, dict], tuple[bool, str]], deadline: float,
          clock: Clock, progress: Callable[[str], None], meanwhile: str = waiting.WRITTEN_STILL_ROLLING,
          start: dict[WorkloadRef, dict] | None = None) -> dict[WorkloadRef, dict]:
    """Watch each workload until `until(adapter, obj)` says done or the deadline passes (NotSteady,
    ending with `meanwhile`: where that leaves the user); from `start`'s versions where given."""
    return waiting.wait_for(kube, refs, until, deadline, progress, clock.monotonic, meanwhile, start)


def _rollout_status(plan: Plan) -> Callable[[object, dict], tuple[bool, str]]:
    """The `until` of _poll for a restore: each workload's rollout status, told which ReplicaSet or
    ControllerRevision its template came back from (a progress-deadline condition the controller
    still keeps for the rolled-back-from ReplicaSet is not this rollout's failure)."""
    restored = {(c.ref.kind, c.ref.namespace, c.ref.name): c.source.object_name
                for c in plan.workloads if c.source is not None}

    def until(adapter, obj: dict) -> tuple[bool, str]:
        meta = obj.get("metadata") or {}
        return adapter.rollout_status(obj, restored.get((adapter.kind, meta.get("namespace"), meta.get("name"))))
    return until


def carry_out(kube, model: ReleaseModel, plan: Plan, options: RollbackOptions,
              progress: Callable[[str], None], clock: Clock | None = None,
              warn: Callable[[str], None] | None = None) -> Outcome:
    """Roll back as planned. Raises before any write when a check fails; an error after the
    first write says what was written (and carries the outcome so far as `.outcome`). `warn`
    takes what a check found that does not stop the rollback (default: `progress`)."""
    clock = clock or Clock()
    outcome = Outcome()
    preflight.check_reapply_scope(plan)
    preflight.check_not_paused(model, plan)
    preflight.check_not_deleting(model, plan)
    _check_owners(plan, options, progress)
    if plan.has_changes:
        preflight.check_namespace_active(kube, model.namespace)
    preflight.check_references(kube, model.namespace, plan, warn or progress)
    if plan.target is None or options.dry_run is DryRun.CLIENT:
        return outcome
    user = ""  # who the audit annotation names: asked only when something will be written
    if plan.has_changes:
        with ThreadPoolExecutor(max_workers=1) as pool:  # who the audit names, asked meanwhile
            asked = pool.submit(bookkeeping.whoami, kube)
            permissions.check(kube, model, plan)
            user = asked.result()
    if options.deadline is None:
        options = dataclasses.replace(options, deadline=clock.monotonic() + options.timeout)
    try:
        if plan.traffic is not None:
            if plan.has_changes:
                _carry_out_traffic(kube, model, plan, options, progress, clock, outcome, user)
            else:
                _converge_traffic(kube, model, plan, options, progress, outcome)
        elif plan.has_changes:
            _restore(kube, model, plan, options, progress, clock, outcome, user)
        else:
            _converge(kube, model, plan, options, progress, clock, outcome)
    except KeyboardInterrupt:
        if not outcome.written:
            raise
        raise _with_outcome(Interrupted(f"interrupted: the rollback is written and still rolling out; watch it "
                                        f"with: {_watch_command(plan)}"), outcome) from None
    except Exception as exc:
        raise _after_first_write(exc, outcome) from None
    return outcome


def _check_owners(plan: Plan, options: RollbackOptions, progress: Callable[[str], None]) -> None:
    """A workload Argo CD or Flux reconciles is theirs to roll back: refused before any write,
    unless --ignore-owner (then said once on stderr). Recording alone (nothing to change) is not."""
    if not plan.has_changes:
        return
    reason = owners.refusal(plan.owners)
    if reason is None:
        return
    if not options.ignore_owner:
        raise owners.OwnedElsewhere(reason)
    for ref, owner in owners.gitops_owned(plan.owners):
        progress(f"warning: {ref} is managed by {owner.title}: {owner.consequence} (rolling back anyway: "
                 "--ignore-owner)")


def _watch_command(plan: Plan) -> str:
    # `kubectl rollout status` knows no kind without revisions (a bare ReplicaSet).
    refs = [c.ref for c in plan.workloads if adapters.adapter_for(c.ref.kind).has_revisions] or [
        w.ref for w in plan.target.workloads]
    return " && ".join(f"kubectl rollout status {ref} -n {ref.namespace}" for ref in refs) or "kubectl get all"


def _with_outcome(error: PluginError, outcome: Outcome) -> PluginError:
    error.outcome = outcome  # rendered by the CLI in the requested format before the error
    return error


def _after_first_write(exc: Exception, outcome: Outcome) -> PluginError:
    """The error, saying what was already written, what was recorded, and how to finish when
    anything was written. Keeps the error's type (and so its exit code) whatever its constructor."""
    error = translate(exc)
    if outcome.written and not isinstance(error, (NotSteady, RolloutFailed, ChangedDuringWait)):
        done = "; ".join(map(outcome_item_text, outcome.written))
        recorded = "; ".join(map(outcome_item_text, outcome.recorded)) or "nothing"
        error = reworded(error, f"{error}; already written before it failed: {done}; recorded: {recorded}; run the "
                                 "same command again to finish (it completes what is missing)")
    return _with_outcome(error, outcome)


def _restore(kube, model: ReleaseModel, plan: Plan, options: RollbackOptions, progress: Callable[[str], None],
             clock: Clock, outcome: Outcome, user: str) -> None:
    """Rolling, canary and declarative: write the workloads, record once the controller has seen
    them, then wait — and check that what became steady is what was restored."""
    changes = [w for w in plan.workloads if not w.unchanged]
    at = bookkeeping.now_iso(clock.now)
    audit = bookkeeping.audit_annotations(plan, user, at)
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
        wrote(_write(kube, change, model, audit, options.dry_run, written))
    if options.dry_run is DryRun.SERVER:
        return

    deadline = options.deadline
    refs = [c.ref for c in changes if c.ref in model.workloads or adapters.adapter_for(c.ref.kind).has_revisions]
    try:
        seen = _poll(kube, refs, lambda adapter, obj: (adapter.observed(obj), ""), deadline, clock, progress,
                     meanwhile=NOT_OBSERVED, start=written)
    except NotSteady:
        _record_unobserved(kube, model, plan, outcome, refs, written, at, options.dry_run)
        raise
    for ref, obj in seen.items():
        number = adapters.adapter_for(ref.kind).current_revision(kube, ref.namespace, obj)
        if number is not None:
            outcome.new_revisions[ref] = number
    _record(kube, model, plan, outcome, seen, at, options.dry_run)
    if options.wait:
        steady = _poll(kube, refs, _rollout_status(plan), deadline, clock, progress, start=seen)
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
                       written: dict[WorkloadRef, dict], at: str, dry_run: DryRun) -> None:
    """The controller did not observe the restored template within --timeout (stopped, or the API
    server stalled): record the rollback anyway, so that exit 4 always means "recorded". Only the
    renumbered revision is unknown yet; the history keeps the one it has, which the
    ReplicaSet's revision-history still finds, and the next run records the new number."""
    seen = {ref: written.get(ref) or model.workloads[ref].raw for ref in refs
            if written.get(ref) or (ref in model.workloads and model.workloads[ref].raw)}
    _record(kube, model, plan, outcome, seen, at, dry_run, revisions={})


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


def _converge(kube, model: ReleaseModel, plan: Plan, options: RollbackOptions, progress: Callable[[str], None],
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
        _record(kube, model, plan, outcome, seen, bookkeeping.now_iso(clock.now), options.dry_run, revisions)
    refs = [c.ref for c in plan.workloads if c.ref in model.workloads and model.workloads[c.ref].has_revisions]
    if options.wait and refs and options.dry_run is not DryRun.SERVER:
        progress("already rolled back: waiting until every workload is steady")
        _poll(kube, refs, _rollout_status(plan), options.deadline, clock, progress)
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


def _converge_traffic(kube, model: ReleaseModel, plan: Plan, options: RollbackOptions,
                      progress: Callable[[str], None], outcome: Outcome) -> None:
    """Traffic is already back: finish the swap bookkeeping a cut-short run left undone."""
    lagging = bookkeeping.pending_records(model, plan, {})
    if not lagging:
        return
    progress(f"traffic is already back on {plan.traffic.back_color}, but {', '.join(lagging)} did not record it "
             "yet: recording it now")
    _record_swap(kube, model, plan, outcome, options.dry_run)


def _record_swap(kube, model: ReleaseModel, plan: Plan, outcome: Outcome, dry_run: DryRun) -> None:
    """Harness's swap bookkeeping: bgEnvironment in the legacy history, the label on release Secrets."""
    with _grace(kube):
        overtaken.check(kube, model, plan, {}, history=False)
        try:
            bookkeeping.send(kube, registry.edits(model, plan, {}), dry_run, "the rollback was done", outcome.recorded)
        except Conflict:
            overtaken.check(kube, model, plan, {})
            raise


def _carry_out_traffic(kube, model: ReleaseModel, plan: Plan, options: RollbackOptions,
                       progress: Callable[[str], None], clock: Clock, outcome: Outcome, user: str) -> None:
    """Blue/green: the color going back must be ready before any Service moves to it."""
    at = bookkeeping.now_iso(clock.now)
    audit = bookkeeping.audit_annotations(plan, user, at)
    traffic = plan.traffic
    deadline = options.deadline
    scaled_up = None
    if traffic.scale_up_to:
        scaled_up = _traffic.scale(kube, model, traffic.back_workload, traffic.scale_up_to, options.dry_run)
        outcome.written.append(scaled_up)
        progress(outcome_item_text(scaled_up))
    unmoved = (f"no Service was moved: service/{traffic.primary.name} still routes "
               f"{traffic.failed_color or 'where it did'}")
    try:
        if options.dry_run is not DryRun.SERVER:
            _poll(kube, [traffic.back_workload], lambda adapter, obj: adapter.rollout_status(obj), deadline, clock,
                  progress, meanwhile=unmoved)
        outcome.written += _traffic.swap_services(kube, model, traffic, audit, options.dry_run, progress)
    except (_traffic.SwapFailed, NotSteady, RolloutFailed) as exc:
        if scaled_up and options.dry_run is DryRun.NONE:
            # Traffic never reached it (its pods never became ready, or the Services could not
            # move): the color goes back to zero, as it was, and the command leaves nothing behind.
            with _grace(kube):  # the deadline that ended the wait must not cut the undo short
                progress(_traffic.scale_back_to_zero(kube, traffic.back_workload))
            outcome.written.remove(scaled_up)
        if isinstance(exc, RolloutFailed):
            raise RolloutFailed(f"{exc}; {unmoved}") from None
        raise
    if options.scale_down_stage:
        # Harness's stage scale down: the stage color's HPAs and PDBs are deleted, then its
        # workload is scaled to zero (an HPA would otherwise fight the scale, a PDB block drains).
        for ref in traffic.stage_objects:
            item = _traffic.delete_stage_object(kube, model, ref, options.dry_run)
            if item is not None:
                outcome.written.append(item)
                progress(outcome_item_text(item))
    if options.scale_down_stage and traffic.failed_workload is not None:
        outcome.written.append(_traffic.scale(kube, model, traffic.failed_workload, 0, options.dry_run))
        progress(outcome_item_text(outcome.written[-1]))
    if options.dry_run is DryRun.SERVER:
        return
    _record_swap(kube, model, plan, outcome, options.dry_run)
    message = (f"Rolled back {plan.release_name} from release {plan.current.number} to release "
               f"{plan.target.number}: service/{traffic.primary.name} routes {traffic.back_color} again")
    with _grace(kube):
        bookkeeping.record_event(kube, model.namespace, traffic.primary.name, "Service", "v1", traffic.primary.uid,
                                 message, at, options.dry_run)
    outcome.recorded.append(outcome_items.event("Service", traffic.primary.name))
    outcome.steady = True


# Once the workloads are written, recording it (or undoing a scale-up) must not be cut short by a
# --timeout that ran out meanwhile: a history left InProgress is worse than a command that ends a
# few seconds late. Each request stays bounded by --request-timeout.
GRACE_SECONDS = 10.0


@contextlib.contextmanager
def _grace(kube) -> Iterator[None]:
    """Give the requests inside at least GRACE_SECONDS, whatever is left of the command's deadline."""
    saved = getattr(kube, "deadline", None)
    if saved is not None:
        kube.deadline = max(saved, time.monotonic() + GRACE_SECONDS)
    try:
        yield
    finally:
        if saved is not None:
            kube.deadline = saved


def _record(kube, model: ReleaseModel, plan: Plan, outcome: Outcome, seen: dict[WorkloadRef, dict],
            at: str | None, dry_run: DryRun, revisions: dict[WorkloadRef, int] | None = None) -> None:
    """Harness's bookkeeping, each release in the store it lives in (legacy history and
    declarative release Secrets can both exist: the Secrets continue the legacy numbering), and
    an Event on each workload that was written."""
    with _grace(kube):
        # A deploy that overtook the rollback stops it before anything is recorded; one saved in
        # the legacy history makes its guarded write a 409, which is then explained.
        overtaken.check(kube, model, plan, seen, history=False)
        try:
            _record_now(kube, model, plan, outcome, seen, at, dry_run,
                        outcome.new_revisions if revisions is None else revisions)
        except Conflict:
            overtaken.check(kube, model, plan, {})
            raise


def _record_now(kube, model: ReleaseModel, plan: Plan, outcome: Outcome, seen: dict[WorkloadRef, dict],
                at: str | None, dry_run: DryRun, revisions: dict[WorkloadRef, int]) -> None:
    bookkeeping.send(kube, registry.edits(model, plan, revisions), dry_run, "the rollback was done", outcome.recorded)
    for ref, obj in seen.items():
        change = next(c for c in plan.workloads if c.ref == ref)
        new = outcome.new_revisions.get(ref)
        to = (f"revision {change.to_revision}" if isinstance(plan.target, UnrecordedRevision)
              else f"release {plan.target.number}")
        message = (f"Rolled back {plan.release_name} from release {plan.current.number} to {to}: "
                   f"{ref} revision {change.from_revision} -> {change.to_revision}"
                   + (f" (now {new})" if new is not None and new != change.to_revision else "")
                   + f", images {', '.join(change.to_images)}")
        bookkeeping.record_event(kube, model.namespace, ref.name, ref.kind, "apps/v1", obj["metadata"]["uid"],
                                 message, at, dry_run)
        outcome.recorded.append(outcome_items.event(ref.kind, ref.name))

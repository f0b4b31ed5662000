"""A blue/green rollback carried out: ready the color going back, swap the Services, record.

Called by executor.carry_out once every check passed; strategies/traffic.py makes each write.
"""

from __future__ import annotations

from typing import Callable

from kubectl_harness_rollback import kinds, overtaken
from kubectl_harness_rollback import outcome as outcome_items
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.errors import Conflict, NotSteady, RolloutFailed
from kubectl_harness_rollback.execution import Clock, RollbackOptions, grace, poll
from kubectl_harness_rollback.model import ReleaseModel
from kubectl_harness_rollback.outcome import Outcome, outcome_item_text
from kubectl_harness_rollback.planner import Plan
from kubectl_harness_rollback.records import bookkeeping, registry
from kubectl_harness_rollback.strategies import traffic as _traffic


def converge(kube, model: ReleaseModel, plan: Plan, options: RollbackOptions,
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
    with grace(kube):
        overtaken.check(kube, model, plan, {}, history=False)
        try:
            bookkeeping.send(kube, registry.edits(model, plan, {}), dry_run, "the rollback was done", outcome.recorded)
        except Conflict:
            overtaken.check(kube, model, plan, {})
            raise


def swap_back(kube, model: ReleaseModel, plan: Plan, options: RollbackOptions,
                       progress: Callable[[str], None], clock: Clock, outcome: Outcome, user: str) -> None:
    """Blue/green: the color going back must be ready before any Service moves to it."""
    at = bookkeeping.now_iso(clock.now)
    audit = bookkeeping.audit_annotations(plan, user, at, options.reason)
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
            poll(kube, [traffic.back_workload], lambda adapter, obj: adapter.rollout_status(obj), deadline, clock,
                  progress, meanwhile=unmoved)
        outcome.written += _traffic.swap_services(kube, model, traffic, audit, options.dry_run, progress)
    except (_traffic.SwapFailed, NotSteady, RolloutFailed) as exc:
        if scaled_up and options.dry_run is DryRun.NONE:
            # Traffic never reached it (its pods never became ready, or the Services could not
            # move): the color goes back to zero, as it was, and the command leaves nothing behind.
            with grace(kube):  # the deadline that ended the wait must not cut the undo short
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
    with grace(kube):
        bookkeeping.record_event(kube, model.namespace, traffic.primary.name, kinds.SERVICE.name, kinds.SERVICE.api_version,
                                 traffic.primary.uid,
                                 bookkeeping.with_reason(message, options.reason), at, options.dry_run)
    outcome.recorded.append(outcome_items.event(kinds.SERVICE.name, traffic.primary.name))
    outcome.steady = True

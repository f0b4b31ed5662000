"""Carry out a Plan: every check first, then the strategy's writes, wait and bookkeeping.

The strategies are restore.py (rolling: templates or a declarative re-apply) and swap_back.py
(blue/green: the Services); what they share is execution.py. The order matters to a user at 3 a.m.:
1. every check that can stop the rollback runs before the first write;
2. each write is guarded by the resourceVersion read when planning (a change made by someone
   else in between stops the rollback; nothing is overwritten blindly);
3. once the controller has observed the restored template, the history is updated, the audit
   annotation and Event are left — even if the wait that follows times out, and also when the
   controller does not observe it within --timeout (exit 4 always means "recorded");
4. then wait for steady state, with `kubectl rollout status`-style progress.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from kubectl_harness_rollback import permissions, preflight, restore, swap_back
from kubectl_harness_rollback import workloads as adapters
from kubectl_harness_rollback.cluster.apierrors import translate
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.errors import (
    ChangedDuringWait,
    Interrupted,
    NotSteady,
    PluginError,
    RolloutFailed,
    reworded,
)
from kubectl_harness_rollback.execution import Clock, RollbackOptions
from kubectl_harness_rollback.model import ReleaseModel
from kubectl_harness_rollback.outcome import Outcome, outcome_item_text
from kubectl_harness_rollback.planner import Plan
from kubectl_harness_rollback.records import bookkeeping
from kubectl_harness_rollback.workloads import owners


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
    if plan.has_changes:  # who the audit names, asked beside the rights (Rest.together)
        user, _ = kube.together([lambda: bookkeeping.whoami(kube), lambda: permissions.check(kube, model, plan)],
                                at_most=2)
    if options.deadline is None:
        options = dataclasses.replace(options, deadline=clock.monotonic() + options.timeout)
    try:
        if plan.traffic is not None:
            if plan.has_changes:
                swap_back.swap_back(kube, model, plan, options, progress, clock, outcome, user)
            else:
                swap_back.converge(kube, model, plan, options, progress, outcome)
        elif plan.has_changes:
            restore.restore(kube, model, plan, options, progress, clock, outcome, user)
        else:
            restore.converge(kube, model, plan, options, progress, clock, outcome)
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



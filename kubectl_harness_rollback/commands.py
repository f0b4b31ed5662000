"""The commands as library calls: a connection and options in, a result out.

The commands as library calls, without click: each takes a cluster connection (`kube`, from
client.connect) and options already validated, and returns a result object. cli/app.py parses the
command line, calls one of these, renders the result and turns errors into exit codes.

The order inside each is the program's: read the cluster → build the model → decide (pure) →
carry out → describe the outcome (views: plain dicts, for render.py).
"""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING, Callable

from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.model import ReleaseModel
from kubectl_harness_rollback.outcome import Outcome

if TYPE_CHECKING:  # reads need no planner: run_plan loads it when a command plans
    from kubectl_harness_rollback.planner import Plan, PlanOptions


@data_class
class ListResult:
    rows: list[dict]  # views: {namespace, release, latest, status, workloads, source}
    warnings: list[str]
    namespace: str | None  # None: every namespace


@data_class
class Planned:
    """A plan and what it was decided on: `plan` renders it, `rollback` carries it out."""

    model: ReleaseModel
    plan: Plan
    view: dict  # views.plan_view(plan)

    @property
    def eligible(self) -> bool:
        return self.plan.eligible


@data_class
class RollbackResult:
    """What `rollback` did. `error` is what stopped it after its checks (a timeout, someone else's
    change, a failed write): the outcome so far is still there to print before the error."""

    planned: Planned
    outcome: Outcome | None = None
    view: dict | None = None  # views.outcome_view(plan, outcome, dry_run)
    error: PluginError | None = field(default=None)


def run_list(kube, all_namespaces: bool, selector=None) -> ListResult:
    """`list`: the release names of the namespace (or of every namespace); `selector`
    (label_selector.Selector): of the workloads it selects only."""
    from kubectl_harness_rollback.listing import read_catalog

    namespace = None if all_namespaces else kube.namespace
    rows, warnings = read_catalog(kube, namespace, selector=selector)
    return ListResult(rows, warnings, namespace)


def read_history(kube, target, max_releases: int | None = None) -> tuple[list[dict], list[str]]:
    """`history`'s rows, the newest `max_releases` (Helm's `history --max`), and what reading
    noticed (model notes, e.g. an ignored Secret; how many releases --max left out)."""
    from kubectl_harness_rollback.reader import read_release
    from kubectl_harness_rollback.views import history_view

    model = read_release(kube, kube.namespace, target)
    notes = list(model.notes)
    if max_releases is not None and len(model.releases) > max_releases:
        notes.append(f"showing the newest {max_releases} of {len(model.releases)} releases (--max N shows more)")
    return history_view(model, max_releases), notes


def run_plan(kube, target, options: PlanOptions, deadline: float | None = None) -> Planned:
    """`plan`, and the first half of `rollback`: read TARGET, decide. `deadline` (time.monotonic())
    bounds every request from here on, so rollback's --timeout covers its reads too."""
    from kubectl_harness_rollback.planner import plan
    from kubectl_harness_rollback.reader import read_release
    from kubectl_harness_rollback.views import plan_view

    if deadline is not None:
        kube.deadline = deadline
    model = read_release(kube, kube.namespace, target)
    if options.prune:
        from kubectl_harness_rollback.apply import prune_live

        model.prune_objects = prune_live.read(kube, model)  # what may be pruned, as it is live
    if model.services:
        from kubectl_harness_rollback.strategies import traffic

        # Blue/green: the failed color's HPAs and PDBs, which --scale-down-stage deletes.
        model.stage_objects = traffic.read_stage_objects(kube, model)
    decided = plan(model, options)
    if decided.target is not None and decided.target.is_declarative and decided.traffic is None:
        # What re-applying changes is decided object by object: read the rollback-to release's
        # objects as they are now (one GET each), then decide again with them.
        from kubectl_harness_rollback.apply.manifests import read_live

        model.live_objects = read_live(kube, decided.target.manifests, model.namespace, model.notes)
        decided = plan(model, options)
    return Planned(model, decided, {**plan_view(decided), "lastRollback": _last_rollback(model)})


def _last_rollback(model: ReleaseModel) -> dict | None:
    """The rollback still in effect on the release's workloads (who, when, from which release to
    which): a plan with nothing to do says it was rolled back already."""
    from kubectl_harness_rollback import live_release

    record = live_release.latest_rollback(live_release.live_workloads(model))
    return record.view() if record is not None else None


def run_rollback(kube, planned: Planned, options, progress: Callable[[str], None],
                 warn: Callable[[str], None] | None = None) -> RollbackResult:
    """`rollback`, after its plan was shown: carry it out (`options`: executor.RollbackOptions).

    An error before the first write (a check) is raised; one after it comes back in
    `.error`, with the outcome so far. `warn` takes what the checks warn about (a missing image
    pull Secret), dry run or not."""
    from kubectl_harness_rollback.dryrun import DryRun
    from kubectl_harness_rollback.executor import carry_out
    from kubectl_harness_rollback.views import outcome_view

    result = RollbackResult(planned)
    try:
        result.outcome = carry_out(kube, planned.model, planned.plan, options, progress, warn=warn)
    except PluginError as exc:
        if getattr(exc, "outcome", None) is None:
            raise
        result.outcome, result.error = exc.outcome, exc
        result.error = _explained(kube, planned, result.error)
    would = None
    if options.dry_run is not DryRun.NONE:
        from kubectl_harness_rollback import planned_writes
        from kubectl_harness_rollback import workloads as adapters

        would = planned_writes.would_write(planned.model, planned.plan, options.scale_down_stage,
                                     lambda kind: adapters.adapter_for(kind).has_revisions)
    result.view = outcome_view(planned.plan, result.outcome, options.dry_run.value, would)
    return result


# How long the reads that explain an exit 4 (the workload, its pods, its events) may take after the
# --timeout ran out: ample for an API server that answers, and a bounded cost when it does not.
EXPLAIN_SECONDS = 1.5


def _explained(kube, planned: Planned, error: PluginError) -> PluginError:
    """Exit 4 of a restore says why (the pods' reasons) and what to run next (diagnosis.py)."""
    from kubectl_harness_rollback.errors import NotSteady, RolloutFailed

    if not isinstance(error, (NotSteady, RolloutFailed)) or getattr(planned.plan, "traffic", None) is not None:
        return error
    from kubectl_harness_rollback import diagnosis
    from kubectl_harness_rollback.execution import grace

    restored = {c.ref: (None, c.source) for c in getattr(planned.plan, "workloads", []) if c.source is not None}
    if not restored:
        return error  # nothing restored, nothing to explain
    # The --timeout that ended the wait must not cut the reasons short, but they are only words:
    # an API server that does not answer gets EXPLAIN_SECONDS, not the grace a record gets.
    with grace(kube, EXPLAIN_SECONDS):
        return diagnosis.explain_exit_4(kube, error, planned.view["release"], planned.view["namespace"], restored)


def run_record(kube, target, request, release_name: str | None, timeout: float, dry_run):
    """`record`: the deploy step that just ran against TARGET becomes a Harness release
    (recorder.Recorded). Without `release_name` (and no label), a workload's release is named
    release-<infra id>, else after the workload."""
    from kubectl_harness_rollback import recorder

    default_name = release_name or (f"release-{request.infra_id}" if request.infra_id else target.name)
    return recorder.record(kube, target, request, default_name, timeout, dry_run)

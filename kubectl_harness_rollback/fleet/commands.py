"""list, status, history, plan and rollback, in one cluster or many: the same jobs, one table.

Each command runs the same job per context (fleet.run: a `One` cluster in this thread, or a
`Fleet` of contexts in parallel) through the same commands.py calls, and prints the same column
tables (output/columns.py); how one cluster and many say the rest differs in voices.py alone.

Without click: cli/app.py parses the flags and passes `echo(text, err)` in, as it passes its output.
"""

from __future__ import annotations

from typing import Any, Callable

from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.fleet.voices import voice

Echo = Callable[..., None]  # echo(text, err=False, nl=True): cli/app.py's click.echo


def _echo_names(echo: Echo, runs, names_of: Callable[[Any], list[str]]) -> None:
    """-o name: the names of every context's result, in the contexts' order (output/names.py)."""
    from kubectl_harness_rollback.output import names

    echo(names.text([name for run in runs if run.value is not None for name in names_of(run.value)]), nl=False)


def list_releases(fl, echo: Echo, all_namespaces: bool, output: str, not_steady: bool = False,
                  no_headers: bool = False, selector=None) -> None:
    _releases(fl, echo, all_namespaces, output, not_steady, error_of=lambda result: None, no_headers=no_headers,
              selector=selector)


def status_releases(fl, echo: Echo, all_namespaces: bool, output: str, not_steady: bool = False,
                    no_headers: bool = False, selector=None) -> None:
    """`status` without TARGET: one row per release, read as `list` reads them (a fixed number of
    lists, not a read per release); exit 4 when any is not steady."""
    from kubectl_harness_rollback import status as release_status

    _releases(fl, echo, all_namespaces, output, not_steady, error_of=release_status.releases_not_steady,
              no_headers=no_headers, selector=selector)


def _releases(fl, echo: Echo, all_namespaces: bool, output: str, not_steady: bool, error_of,
              no_headers: bool = False, selector=None) -> None:
    """`selector` (label_selector.Selector): the releases with a workload it selects."""
    from kubectl_harness_rollback import action, commands
    from kubectl_harness_rollback.fleet import render as fleet_render
    from kubectl_harness_rollback.output import columns

    say = voice(fl, echo, output)
    connect = fl.connector()

    def job(name: str):
        result = commands.run_list(connect(name), all_namespaces, selector)
        if not_steady:
            result.rows = action.not_steady_only(result.rows)
        return result

    runs = fl.run(job, error_of=error_of)
    for run in runs:
        for warning in run.value.warnings if run.value is not None else []:
            say.warning(run, warning)
    rows = fleet_render.rows(runs, lambda result: result.rows)
    if say.structured:
        say.data(runs, lambda result: result.rows, "releases")
    elif output == "name" and rows:
        from kubectl_harness_rollback.output import names

        _echo_names(echo, runs, lambda result: names.releases(result.rows))
    else:
        if rows:
            echo(columns.table(columns.LIST, rows, columns.Shape(many=fl.many, wide=output == "wide",
                                                                 all_namespaces=all_namespaces,
                                                                 headers=not no_headers)), nl=False)
        else:
            say.nothing_listed(runs, runs[0].value.namespace if runs[0].value is not None else None,
                               "releases that are not steady" if not_steady else "releases")
    say.finish(runs)


def history(fl, echo: Echo, target, output: str, timeline: bool = False, no_headers: bool = False,
            max_releases: int | None = None) -> None:
    from kubectl_harness_rollback import commands
    from kubectl_harness_rollback.fleet import render as fleet_render
    from kubectl_harness_rollback.output import columns

    say = voice(fl, echo, output)
    connect = fl.connector()
    runs = fl.run(lambda name: commands.read_history(connect(name), target, max_releases))  # (rows, notes)
    for run in runs:
        if run.value is not None:
            say.notes(run, run.value[1])
    if say.structured:
        say.data(runs, lambda value: value[0], "releases")
    elif output == "name":
        from kubectl_harness_rollback.output import names

        _echo_names(echo, runs, lambda value: names.release_numbers(value[0]))
    elif timeline and runs[0].value is not None:
        from kubectl_harness_rollback.output.timeline import timeline_text

        echo(timeline_text(runs[0].value[0]), nl=False)
    else:
        colored = any(row.get("color") for run in runs if run.value is not None for row in run.value[0])
        echo(columns.table(columns.HISTORY, fleet_render.rows(runs, lambda value: columns.history_items(value[0])),
                           columns.Shape(many=fl.many, wide=output == "wide", colored=colored,
                                         headers=not no_headers)), nl=False)
    say.finish(runs)


def status(fl, echo: Echo, target, seconds: float | None, watch: bool, output: str, timeline: bool = False,
           no_headers: bool = False, selector=None) -> None:
    """Each context read once (or until steady within --timeout, or --watch in one cluster).
    `timeline`: the release timeline under the text (one context). `selector`
    (label_selector.Selector): of the release's workloads, those it selects."""
    import sys

    from kubectl_harness_rollback import status as release_status
    from kubectl_harness_rollback.fleet import live
    from kubectl_harness_rollback.reader import read_release
    from kubectl_harness_rollback.status_watch import Changes
    from kubectl_harness_rollback.views import history_view

    say = voice(fl, echo, output, no_headers)
    connect = fl.connector()
    # --watch on a terminal: the block redrawn in place; on a pipe, every block in turn.
    screen = (live.LiveStatus(sys.stdout, say.status_text, seconds)
              if watch and not fl.many and not say.structured and output not in ("name",) and not no_headers
              and live.is_live(sys.stdout) else None)

    def add_timeline(model, view: dict) -> None:
        if timeline:
            view["timeline"] = history_view(model)

    def explain(kube, model, view) -> None:
        from kubectl_harness_rollback import diagnosis  # a release that ends not steady alone

        diagnosis.explain_status(kube, model, view)

    def read(kube):
        model = read_release(kube, kube.namespace, target)
        if selector is None:
            return model
        from kubectl_harness_rollback.label_selector import select_workloads  # -l alone

        return select_workloads(model, selector)

    def job(name: str) -> dict:
        kube = connect(name)
        changes = Changes(kube)
        fl.wake_on_interrupt(changes.woken)
        try:
            return release_status.watch(lambda: read(kube),
                                        seconds, screen.show if screen else lambda view: say.status(view, watch),
                                        every=watch, changed=changes.wait,
                                        explain=lambda model, view: explain(kube, model, view),
                                        extend=add_timeline)
        finally:
            changes.close()
            if screen is not None:
                screen.close()

    runs = fl.run(job, error_of=lambda view: None if view["steady"] else release_status.not_steady(view))
    say.status_table(runs)
    say.finish(runs)


def _not_eligible(planned) -> PluginError | None:
    """Why a context's plan is an error: a release the safety filter refuses, or none to roll back to."""
    from kubectl_harness_rollback import preflight

    try:
        preflight.check_reapply_scope(planned.plan)
    except PluginError as refused:
        return refused
    return _no_release(planned)


def _no_release(planned) -> PluginError | None:
    from kubectl_harness_rollback import diagnosis
    from kubectl_harness_rollback.planner import way_back

    return None if planned.eligible else diagnosis.no_eligible(planned.plan.reason, planned.view["release"],
                                                                 planned.view["namespace"], way_back(planned.plan))


def plan(fl, echo: Echo, target, options, output: str, show: Callable | None = None) -> None:
    """`show(planned)`: what one cluster prints after its plan (plan --diff)."""
    from kubectl_harness_rollback import commands

    say = voice(fl, echo, output)
    connect = fl.connector()
    runs = fl.run(lambda name: commands.run_plan(connect(name), target, options), error_of=_not_eligible)
    if say.structured:
        say.data(runs, lambda planned: planned.view, "plan")
    elif output == "name":
        from kubectl_harness_rollback.output import names

        _echo_names(echo, runs, lambda planned: names.changed_objects(planned.view))
    else:
        say.plan(runs)
        if show is not None and not fl.many and runs[0].value is not None:
            show(runs[0].value)
    say.finish(runs)


def rollback(fl, echo: Echo, target, options, rollback_options, output: str, consent=None) -> None:
    """The plan, then each context's rollback (commands.run_rollback, with its checks, bookkeeping
    and guarded writes), then the summary. `rollback_options`: executor.RollbackOptions, whose
    deadline bounds every context. `consent` (fleet.consent.Consent): across contexts, a run that
    rolls back a succeeded release asks first, or needs --yes."""
    from kubectl_harness_rollback import commands
    from kubectl_harness_rollback.dryrun import DryRun
    from kubectl_harness_rollback.fleet import consent as asking
    from kubectl_harness_rollback.fleet import render as fleet_render

    say = voice(fl, echo, output)
    connect = fl.connector()
    kubes: dict[str, Any] = {}

    def plan_job(name: str):
        kubes[name] = connect(name)
        return commands.run_plan(kubes[name], target, options, rollback_options.deadline)

    # Across contexts a release the safety filter refuses is an error of its plan; in one cluster
    # the rollback's own checks refuse it.
    plans = fl.run(plan_job, error_of=_not_eligible if fl.many else _no_release)
    planned = {run.context: run.value for run in plans if run.value is not None}
    if not say.structured:
        say.plan(plans)

    def rollback_job(name: str):
        def progress(line: str) -> None:
            if rollback_options.dry_run is DryRun.NONE:  # a dry run lists its writes once, at its end
                say.progress(name, line)

        shown = _live_wait(fl, kubes[name], planned[name], rollback_options) or progress
        try:
            result = commands.run_rollback(kubes[name], planned[name], rollback_options, shown,
                                           say.rollback_warnings(name))
        finally:
            if shown is not progress:
                shown.close()
        # After the first write (a timeout, someone else's change, an error), what was done is
        # still printed in the requested format: a pipeline parsing -o json needs it most then.
        if not say.structured:
            say.outcome(name, result.view)
        return result

    ready = [run.context for run in plans if run.value is not None and run.error is None]
    if fl.many and rollback_options.dry_run is DryRun.NONE and not fl.stop.is_set():  # --fail-fast: none starts
        # With -o json|yaml the plan is data for later: the question needs it in view, on stderr.
        show = (lambda: echo(fleet_render.plan_table(plans), err=True, nl=False)) if say.structured else None
        asking.confirm(consent or asking.Consent(), plans, ready, show)
    if not say.structured:
        say.rolling_back(ready)
    rolled = {run.context: run for run in fl.run(rollback_job, error_of=lambda result: result.error, contexts=ready,
                                                   writes=True)}
    runs = [rolled.get(run.context, run) for run in plans]
    if say.structured:
        say.data(runs, fleet_render.rollback_shape, None)
    else:
        say.summary(runs, planned)
    say.finish(runs)


def _live_wait(fl, kube, planned, rollback_options):
    """A rollback's wait drawn live on a terminal (fleet/live.py), or None: one context, a real
    run, stderr a terminal."""
    import sys

    from kubectl_harness_rollback import diagnosis
    from kubectl_harness_rollback.dryrun import DryRun
    from kubectl_harness_rollback.fleet import live

    if fl.many or rollback_options.dry_run is not DryRun.NONE or rollback_options.deadline is None \
            or not live.is_live(sys.stderr):
        return None
    # The pods worth a reason are those of the revision restored (a Deployment's ReplicaSet).
    sources = {change.ref: change.source for change in planned.plan.workloads}
    return live.LiveWait(sys.stderr, rollback_options.deadline, rollback_options.timeout,
                         lambda ref, obj: diagnosis.read_reasons(kube, ref, obj, sources.get(ref)))

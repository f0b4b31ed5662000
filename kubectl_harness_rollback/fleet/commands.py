"""list, status, history, plan and rollback run per context, through commands.py.

`--contexts`/`--all-contexts` on list, status, history, plan and rollback: each command run per
context (fleet_run) through the same commands.py calls as in one cluster, its results rendered with
a CONTEXT column (fleet_render), the worst exit code raised (fleet.FleetFailed).

Without click: cli/app.py parses the flags and passes `echo(text, err)` in, as it passes its output.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Any, Callable

from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags
from kubectl_harness_rollback.errors import NoEligibleRelease, PluginError, UsageError
from kubectl_harness_rollback.fleet import contexts as fleet
from kubectl_harness_rollback.fleet.contexts import DEFAULT_MAX_PARALLEL

Echo = Callable[..., None]  # echo(text, err=False, nl=True): cli/app.py's click.echo

def chosen(flags: ConnectionFlags, contexts: tuple[str, ...], all_contexts: bool, max_parallel: int | None,
           fail_fast: bool):
    """The contexts to run in (a fleet.run.Fleet; None: one cluster, as without these flags), from
    the kubeconfig's files alone: an unknown name is a usage error before any request."""
    if not contexts and not all_contexts:
        if max_parallel is not None or fail_fast:
            raise UsageError("--max-parallel and --fail-fast need --contexts or --all-contexts")
        return None
    from kubectl_harness_rollback.cluster import kubeconfig
    from kubectl_harness_rollback.cluster.client import _read_yaml_file
    from kubectl_harness_rollback.fleet.run import Fleet

    if flags.context:
        raise UsageError("--context names one context, --contexts/--all-contexts several: give one of them")
    known = kubeconfig.context_names(flags, os.environ, os.path.expanduser("~"), _read_yaml_file)
    names = fleet.expand(contexts, all_contexts, known)
    return Fleet(names, max_parallel or DEFAULT_MAX_PARALLEL, fail_fast)


def _connector(flags: ConnectionFlags, fl) -> Callable[[str], Any]:
    """connect(context): each context its own connection, with the same flags (-n included),
    interrupted with the run (its `cancel`). The kubeconfig files are parsed once for all
    contexts (kubeconfig.load copies what it changes)."""
    from kubectl_harness_rollback.cluster.client import _read_yaml_file, connect, import_client

    import_client()
    read_yaml = functools.lru_cache(maxsize=None)(_read_yaml_file)

    def connected(name: str):
        kube = connect(dataclasses.replace(flags, context=name), read_yaml=read_yaml)
        kube.cancel = fl.interrupted
        return kube
    return connected


def _finish(runs) -> None:
    from kubectl_harness_rollback.fleet.run import exit_code

    if exit_code(runs) != 0:
        raise fleet.FleetFailed({run.context: run.exit_code for run in runs})


def _errors_to_stderr(runs, echo: Echo) -> None:
    """With -o json|yaml, the failed contexts are in the data; people still get a line each."""
    for run in runs:
        if run.message:
            echo(f"error: [{run.context}] {run.message}", err=True)


def list_releases(flags: ConnectionFlags, fl, echo: Echo, all_namespaces: bool, output: str) -> None:
    from kubectl_harness_rollback import commands
    from kubectl_harness_rollback.fleet import render as fleet_render
    from kubectl_harness_rollback.output import render

    connect = _connector(flags, fl)
    runs = fl.run(lambda name: commands.run_list(connect(name), all_namespaces))
    for run in runs:
        for warning in run.value.warnings if run.value is not None else []:
            echo(f"warning: [{run.context}] {warning}", err=True)
    if output != "table":
        echo(render.structured(fleet_render.entries(runs, lambda result: {"releases": result.rows}), output),
             nl=False)
        _errors_to_stderr(runs, echo)
    else:
        rows = fleet_render.flat_rows(runs, lambda result: result.rows)
        if rows:
            echo(render.list_table(rows, all_namespaces, contexts=True), nl=False)
        else:
            echo(f"No releases found in {len(runs)} contexts.", err=True)
    _finish(runs)


def history(flags: ConnectionFlags, fl, echo: Echo, target, output: str) -> None:
    from kubectl_harness_rollback import commands
    from kubectl_harness_rollback.fleet import render as fleet_render
    from kubectl_harness_rollback.output import render

    connect = _connector(flags, fl)
    runs = fl.run(lambda name: commands.run_history(connect(name), target))
    if output in ("json", "yaml"):
        echo(render.structured(fleet_render.entries(runs, lambda rows: {"releases": rows}), output), nl=False)
        _errors_to_stderr(runs, echo)
    else:
        rows = fleet_render.flat_rows(runs, lambda rows: rows)
        echo(render.history_table(rows, wide=output == "wide", contexts=True), nl=False)
    _finish(runs)


def status(flags: ConnectionFlags, fl, echo: Echo, target, seconds: float | None, output: str) -> None:
    """Each context read once (or until steady within --timeout), in parallel."""
    from kubectl_harness_rollback import status as release_status
    from kubectl_harness_rollback.fleet import render as fleet_render
    from kubectl_harness_rollback.output import render
    from kubectl_harness_rollback.reader import read_release
    from kubectl_harness_rollback.status_watch import Changes

    connect = _connector(flags, fl)

    def job(name: str) -> dict:
        kube = connect(name)
        changes = Changes(kube)
        fl.wake_on_interrupt(changes.woken)
        try:
            return release_status.watch(lambda: read_release(kube, kube.namespace, target), seconds,
                                        lambda view: None, every=False, changed=changes.wait)
        finally:
            changes.close()

    runs = fl.run(job, error_of=lambda view: None if view["steady"] else release_status.not_steady(view))
    if output != "table":
        echo(render.structured(fleet_render.entries(runs, lambda view: {"status": view}), output), nl=False)
        _errors_to_stderr(runs, echo)
    else:
        echo(fleet_render.status_table(runs), nl=False)
    _finish(runs)


def _not_eligible(planned) -> PluginError | None:
    """Why a context's plan is an error: a release the safety filter refuses, or none to roll back to."""
    from kubectl_harness_rollback import preflight

    try:
        preflight.check_reapply_scope(planned.plan)
    except PluginError as refused:
        return refused
    return None if planned.eligible else NoEligibleRelease(planned.plan.reason)


def plan(flags: ConnectionFlags, fl, echo: Echo, target, options, output: str) -> None:
    from kubectl_harness_rollback import commands
    from kubectl_harness_rollback.fleet import render as fleet_render
    from kubectl_harness_rollback.output import render

    connect = _connector(flags, fl)
    runs = fl.run(lambda name: commands.run_plan(connect(name), target, options), error_of=_not_eligible)
    if output != "table":
        echo(render.structured(fleet_render.entries(runs, lambda planned: {"plan": planned.view}), output),
             nl=False)
        _errors_to_stderr(runs, echo)
    else:
        echo(fleet_render.plan_table(runs), nl=False)
    _finish(runs)


def rollback(flags: ConnectionFlags, fl, echo: Echo, target, options, rollback_options, output: str) -> None:
    """The combined plan, then each context's single-cluster rollback (commands.run_rollback, with
    its checks, bookkeeping and guarded writes), then the summary. `rollback_options`:
    executor.RollbackOptions, whose deadline bounds every context."""
    from kubectl_harness_rollback import commands
    from kubectl_harness_rollback.dryrun import DryRun
    from kubectl_harness_rollback.fleet import render as fleet_render
    from kubectl_harness_rollback.output import render

    connect = _connector(flags, fl)
    kubes: dict[str, Any] = {}

    def plan_job(name: str):
        kubes[name] = connect(name)
        return commands.run_plan(kubes[name], target, options, rollback_options.deadline)

    plans = fl.run(plan_job, error_of=_not_eligible)
    planned = {run.context: run.value for run in plans if run.value is not None}
    if output == "table":
        echo(fleet_render.plan_table(plans), nl=False)

    def rollback_job(name: str):
        def progress(line: str) -> None:
            if rollback_options.dry_run is DryRun.NONE:  # a dry run lists its writes once, at its end
                fl.say(name, line, lambda text: echo(text, err=True))

        result = commands.run_rollback(kubes[name], planned[name], rollback_options, progress)
        if output == "table":
            with fl.output_lock:
                for line in render.outcome_text(result.view).splitlines():
                    if line:
                        echo(f"[{name}] {line}")
        return result

    ready = [run.context for run in plans if run.value is not None and run.error is None]
    if output == "table" and ready:
        echo("")
    rolled = {run.context: run for run in fl.run(rollback_job, error_of=lambda result: result.error, contexts=ready,
                                                   writes=True)}
    runs = [rolled.get(run.context, run) for run in plans]
    if output != "table":
        echo(render.structured(fleet_render.entries(runs, fleet_render.rollback_shape), output), nl=False)
        _errors_to_stderr(runs, echo)
    else:
        echo("\n" + fleet_render.summary_table(runs, planned), nl=False)
    _finish(runs)

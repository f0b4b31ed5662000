"""The bodies of the commands the short route runs (the reads list, history, plan, status; and rollback), without click.

cli/app.py's click commands and the short route (cli/read_flags.py, cli/fast_path.py) call
the same functions here: each gets the collected connection flags (a dict by ConnectionFlags
field), an `echo(text, err=False, nl=True)` and the command's parsed options, validates them
without I/O, and calls fleet/commands.py. Nothing here imports click, so a read that needs no
click reaches its first request without loading it.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable, Mapping

from kubectl_harness_rollback.cli.connection_values import validated
from kubectl_harness_rollback.errors import UsageError

Echo = Callable[..., None]
SELECTION = ("match", "workflow_id", "from_release", "to_release", "to_revision", "mode", "prune")
FLEET = ("contexts", "all_contexts", "max_parallel", "fail_fast")


def cluster(connection: Mapping[str, Any]):
    """The cluster connection for this invocation (imports the kubernetes client now)."""
    from kubectl_harness_rollback.cluster.client import connect

    return connect(validated(connection))


def runner(connection: Mapping[str, Any], given: dict[str, Any]):
    """Where the command runs (fleet.run.chosen): the contexts of --contexts/--all-contexts, or
    the one cluster of the connection flags. Called after the options are validated."""
    from kubectl_harness_rollback.fleet.run import chosen

    return chosen(validated(connection), *(given.pop(key) for key in FLEET), connect_one=lambda: cluster(connection))


def read_first(where, connection: Mapping[str, Any], target, deadline: float | None = None) -> None:
    """In one cluster, connect now and start reading TARGET (reader.read_ahead): the code the
    command runs next loads while the API server answers. Called once every option is validated,
    so that a usage error never follows a request. Across contexts, each context reads in its run.
    `deadline`: rollback's, which bounds its reads too."""
    if where.many:
        return
    # Before the read's thread starts: output/cells.py imports tabulate with a stand-in for
    # importlib.metadata in sys.modules, which no other thread may meet (or an import of its own see).
    from kubectl_harness_rollback.output import cells  # noqa: F401
    from kubectl_harness_rollback.reader import read_ahead

    kube = cluster(connection)
    if deadline is not None:
        kube.deadline = deadline
    read_ahead(kube, target)
    where.connected(kube)


def selector(text: str | None):
    """-l's selector, parsed before any request; None without -l (label_selector is not loaded)."""
    if text is None:
        return None
    from kubectl_harness_rollback.label_selector import parse

    return parse(text)


def timeout(text: str) -> float:
    from kubectl_harness_rollback.cli.durations import parse_duration  # durationpy: only when given

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--timeout: {exc}") from None


def plan_options(selection: dict[str, Any]):
    """PlanOptions validates the selection (once, for `plan` and `rollback`)."""
    from kubectl_harness_rollback.modes import PlanOptions

    return PlanOptions(**selection)


def target(text: str):
    """TARGET, validated before any request."""
    from kubectl_harness_rollback.reader import Target

    return Target.parse(text)


def check_timeline(timeline: bool, output: str, many: bool) -> None:
    """--timeline is text for one context; the data has its fields already (history -o json)."""
    if timeline and (output not in ("table", "wide") or many):
        raise UsageError("--timeline is text for one context; for data use history -o json")


def check_releases_status(watch: bool, timeout: str | None, timeline: bool = False) -> None:
    """`status` without TARGET looks once at every release; following one is for TARGET."""
    if watch or timeout is not None or timeline:
        raise UsageError("--watch, --timeout and --timeline follow one release: give its name as TARGET")


def check_release_status(all_namespaces: bool, not_steady: bool) -> None:
    """`status TARGET` is about one release, in the namespace of -n."""
    if all_namespaces:
        raise UsageError("-A shows every release: give no TARGET with it, or -n NAMESPACE TARGET")
    if not_steady:
        raise UsageError("--not-steady filters the releases of `status` without TARGET; with TARGET, "
                         "status exits 4 when it is not steady")


def diff_module():
    from kubectl_harness_rollback.output import diff

    return diff


def check_diff(show_diff: bool, output: str, many: bool) -> None:
    if show_diff and output != "table":
        raise UsageError("--diff prints text for people: it cannot be used with -o " + output)
    if show_diff and many:
        raise UsageError("--diff shows one context: it cannot be used with --contexts or --all-contexts")


def echo_diff(echo: Echo, lines: list[str]) -> None:
    """A diff on stdout: coloured on a terminal unless NO_COLOR is set (no-color.org), plain otherwise."""
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    echo(diff_module().colored(lines, color) if lines else "No differences.\n", nl=False, color=color)


def list_releases(connection: Mapping[str, Any], echo: Echo, all_namespaces: bool, selector: str | None,
                  not_steady: bool, output: str, no_headers: bool, **given: Any) -> None:
    from kubectl_harness_rollback.fleet import commands as run_in

    chosen = _selector(selector)
    run_in.list_releases(runner(connection, given), echo, all_namespaces, output, not_steady, no_headers, chosen)


def history(connection: Mapping[str, Any], echo: Echo, target: str, max_releases: int, output: str,
            no_headers: bool, timeline: bool = False, **given: Any) -> None:
    parsed = _target(target)
    where = runner(connection, given)
    check_timeline(timeline, output, where.many)
    read_first(where, connection, parsed)
    from kubectl_harness_rollback.fleet import commands as run_in

    run_in.history(where, echo, parsed, output, timeline=timeline, no_headers=no_headers, max_releases=max_releases)


def plan(connection: Mapping[str, Any], echo: Echo, target: str, output: str, show_diff: bool = False,
         **given: Any) -> None:
    selection = {key: given.pop(key) for key in SELECTION}
    options, parsed = plan_options(selection), _target(target)
    where = runner(connection, given)
    check_diff(show_diff, output, where.many)
    read_first(where, connection, parsed)
    from kubectl_harness_rollback.fleet import commands as run_in

    run_in.plan(where, echo, parsed, options, output,
                show=(lambda planned: echo_diff(echo, diff_module().plan_diff(planned.model, planned.plan)))
                if show_diff else None)


def status(connection: Mapping[str, Any], echo: Echo, target: str | None, watch: bool, timeout: str | None,
           all_namespaces: bool, not_steady: bool, selector: str | None, no_headers: bool, output: str,
           timeline: bool = False, **given: Any) -> None:
    chosen = _selector(selector)
    if target is None:  # one row per release, as `list` reads them
        check_releases_status(watch, timeout, timeline)
        from kubectl_harness_rollback.fleet import commands as run_in

        run_in.status_releases(runner(connection, given), echo, all_namespaces, output, not_steady, no_headers,
                               chosen)
        return
    check_release_status(all_namespaces, not_steady)
    seconds = _timeout(timeout) if timeout is not None else (None if watch else 0.0)
    parsed = _target(target)
    where = runner(connection, given)
    if watch and where.many:
        raise UsageError("--watch follows one context; with --contexts, use --timeout to wait until steady")
    check_timeline(timeline, output, where.many)
    read_first(where, connection, parsed)
    from kubectl_harness_rollback.fleet import commands as run_in

    run_in.status(where, echo, parsed, seconds, watch, output, timeline=timeline, no_headers=no_headers,
                  selector=chosen)


def rollback(connection: Mapping[str, Any], echo: Echo, target: str, dry_run: str, wait: bool, timeout: str,
             scale_down_stage: bool, ignore_owner: bool, yes: bool, reason: str | None, output: str,
             **given: Any) -> None:
    selection = {key: given.pop(key) for key in SELECTION}
    from kubectl_harness_rollback.dryrun import DryRun
    from kubectl_harness_rollback.execution import RollbackOptions
    from kubectl_harness_rollback.fleet.consent import Consent

    mode, seconds = DryRun.parse(dry_run), _timeout(timeout)
    options, parsed = plan_options(selection), _target(target)
    why = checked_reason(reason)
    where = runner(connection, given)
    # --timeout bounds the whole command, reads and writes included: no request waits past it.
    deadline = time.monotonic() + seconds
    read_first(where, connection, parsed, deadline)
    from kubectl_harness_rollback import executor  # noqa: F401 (what runs once the plan is made: loaded meanwhile)
    from kubectl_harness_rollback.fleet import commands as run_in

    run_in.rollback(where, echo, parsed, options, RollbackOptions(
        mode, wait, seconds, scale_down_stage, deadline, ignore_owner=ignore_owner, reason=why),
        output, Consent(yes, sys.stdin.isatty(), ask))


def ask(question: str) -> bool:
    """y/N on stderr, click's prompt (a rollback across contexts that click's route runs asks it);
    end of input (Ctrl-D) is no."""
    import click

    try:
        return click.confirm(question, default=False, err=True)
    except click.exceptions.Abort as exc:
        click.echo("", err=True)  # the answer's line was not ended
        if isinstance(exc.__context__, EOFError):
            return False
        raise


REASON_LIMIT = 512  # characters: an Event's message and an annotation stay readable in one line


def checked_reason(text: str | None) -> str | None:
    """--reason, checked before any request: one line of printable text."""
    if text is None:
        return None
    if not text.strip() or len(text) > REASON_LIMIT or not text.isprintable():
        raise UsageError(f"--reason must be one line of printable text, 1 to {REASON_LIMIT} characters")
    return text.strip()


# The bodies' parameters shadow these names.
_selector, _target, _timeout = selector, target, timeout

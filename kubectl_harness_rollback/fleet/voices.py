"""How a run speaks: one cluster in its own words, many with a CONTEXT column and [context] tags.

The commands (fleet/commands.py) run the same jobs and print the same column tables for one
cluster and for many; what differs is said here, once: one cluster prints its data as it is,
its plan and status as text, and raises its error; many clusters wrap each context's data in
`{context, ..., exitCode}`, tag lines with `[context]`, print a table per phase, and end with
the worst exit code (fleet.contexts.FleetFailed). `echo(text, err=False, nl=True)` is click.echo.
"""

from __future__ import annotations

from typing import Callable, Sequence

from kubectl_harness_rollback.display import shown_lines
from kubectl_harness_rollback.fleet import contexts as fleet
from kubectl_harness_rollback.fleet import render as fleet_render
from kubectl_harness_rollback.output import render


class OneVoice:
    """One cluster: the command's own output, its error raised for main() to print."""

    def __init__(self, fl, echo: Callable[..., None], output: str, no_headers: bool = False):
        self.fl, self.echo, self.output, self.headers = fl, echo, output, not no_headers
        self.structured = render.is_structured(output)

    def data(self, runs: Sequence, shape: Callable[[object], object], key: str | None) -> None:
        self.echo(render.structured(shape(runs[0].value), self.output), nl=False)

    def warning(self, run, text: str) -> None:
        self.echo(shown_lines(f"warning: {text}"), err=True)

    def notes(self, run, notes: list[str]) -> None:
        for note in notes:
            self.echo(f"note: {note}", err=True)

    def nothing_listed(self, runs: Sequence, namespace: str | None, what: str = "releases") -> None:
        where = "any namespace" if namespace is None else f"namespace {namespace}"
        self.echo(f"No {what} found in {where}.", err=True)

    def plan(self, runs: Sequence) -> None:
        self.echo(shown_lines(render.plan_text(runs[0].value.view)), nl=False)

    def status(self, view: dict, watch: bool) -> None:
        """Each view as it comes (--watch: every change; else the last, once)."""
        if watch and self.output == "yaml":
            self.echo("---")  # one YAML document per change
        if self.output == "name":
            from kubectl_harness_rollback.output import names  # -o name alone

            self.echo(names.text(names.workloads(view)), nl=False)
        elif not self.headers:  # the heading lines are headers too: the workloads' rows alone
            self.echo(render.status_rows(view, wide=self.output == "wide"), nl=False)
        else:
            self.echo(render.structured(view, self.output) if self.structured else self.status_text(view), nl=False)

    def status_text(self, view: dict) -> str:
        """`status` as text (-o wide: the rollout's words too), and the release timeline under it
        where asked for (--timeline)."""
        text = shown_lines(render.status_text(view, wide=self.output == "wide"))
        if view.get("timeline") is not None:
            from kubectl_harness_rollback.output.timeline import timeline_text

            text += "\n" + timeline_text(view["timeline"])
        return text

    def status_table(self, runs: Sequence) -> None:
        """Shown as it came (status)."""

    def progress(self, context: str, line: str) -> None:
        self.echo(shown_lines(line), err=True)

    def rollback_warnings(self, context: str) -> Callable[[str], None] | None:
        return lambda line: self.echo(f"warning: {line}", err=True)

    def outcome(self, context: str, view: dict) -> None:
        self.echo(shown_lines(render.outcome_text(view)), nl=False)

    def rolling_back(self, ready: Sequence[str]) -> None:
        """The plan above leads straight into the rollback."""

    def summary(self, runs: Sequence, planned: dict) -> None:
        """The outcome above is the summary."""

    def finish(self, runs: Sequence) -> None:
        if runs[0].error is not None:
            raise runs[0].error


class ManyVoice:
    """Many clusters: a CONTEXT column, `[context] ` tags, the worst exit code."""

    def __init__(self, fl, echo: Callable[..., None], output: str, no_headers: bool = False):
        self.fl, self.echo, self.output, self.headers = fl, echo, output, not no_headers
        self.structured = render.is_structured(output)

    def data(self, runs: Sequence, shape: Callable[[object], object], key: str | None) -> None:
        wrapped = (lambda value: {key: shape(value)}) if key else shape
        self.echo(render.structured(fleet_render.entries(runs, wrapped), self.output), nl=False)

    def warning(self, run, text: str) -> None:
        self.echo(f"warning: [{run.context}] {text}", err=True)

    def notes(self, run, notes: list[str]) -> None:
        """Not said across contexts."""

    def nothing_listed(self, runs: Sequence, namespace: str | None, what: str = "releases") -> None:
        self.echo(f"No {what} found in {len(runs)} contexts.", err=True)

    def plan(self, runs: Sequence) -> None:
        self.echo(fleet_render.plan_table(runs), nl=False)

    def status(self, view: dict, watch: bool) -> None:
        """Each context's view goes into the table at the end."""

    def status_table(self, runs: Sequence) -> None:
        if self.structured:
            self.data(runs, lambda view: view, "status")
        elif self.output == "name":
            from kubectl_harness_rollback.output import names  # -o name alone

            self.echo(names.text([name for run in runs if run.value is not None for name in names.workloads(run.value)]),
                      nl=False)
        else:
            self.echo(fleet_render.status_table(runs, wide=self.output == "wide", headers=self.headers), nl=False)

    def progress(self, context: str, line: str) -> None:
        self.fl.say(context, line, lambda text: self.echo(text, err=True))

    def rollback_warnings(self, context: str) -> Callable[[str], None] | None:
        return None

    def outcome(self, context: str, view: dict) -> None:
        with self.fl.output_lock:
            for line in render.outcome_text(view).splitlines():
                if line:
                    self.echo(f"[{context}] {line}")

    def rolling_back(self, ready: Sequence[str]) -> None:
        if ready:
            self.echo("")

    def summary(self, runs: Sequence, planned: dict) -> None:
        self.echo("\n" + fleet_render.summary_table(runs, planned), nl=False)

    def finish(self, runs: Sequence) -> None:
        from kubectl_harness_rollback.fleet.run import exit_code

        if self.structured or self.output == "name":  # the failed contexts are in the data, or have no name
            for run in runs:
                if run.message:
                    self.echo(f"error: [{run.context}] {run.message}", err=True)
        if exit_code(runs) != 0:
            raise fleet.FleetFailed({run.context: run.exit_code for run in runs})


def voice(fl, echo: Callable[..., None], output: str, no_headers: bool = False):
    """How the run of `fl` (fleet.run.One or Fleet) speaks, in the -o `output` format."""
    return (ManyVoice if fl.many else OneVoice)(fl, echo, output, no_headers)

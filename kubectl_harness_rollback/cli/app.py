"""The click commands: parse options, call commands.py, render, exit.

The command line: thin click commands that parse their options, call commands.py, render
the result (render.py) and leave the exit code to main().

Nothing here imports the kubernetes package at module level: `--help` and `version` must
answer instantly, so the client is imported the first time a command asks for the cluster.
"""

from __future__ import annotations

from typing import Any, Callable

import click

from kubectl_harness_rollback import version_line
from kubectl_harness_rollback.cli import completion as _completion
from kubectl_harness_rollback.cli import exits, reads
from kubectl_harness_rollback.cli.completion import (
    COMPLETE_VAR,
    complete_context_list,
    complete_contexts,
    complete_dry_run,
    complete_from_release,
    complete_namespaces,
    complete_release_names,
)
from kubectl_harness_rollback.cli.connection_flags import (
    Count,
    connection_flags,
    format_global_options,
    format_grouped_options,
    format_pointers,
)
from kubectl_harness_rollback.cli.connection_flags import collect as _collect_connection
from kubectl_harness_rollback.cli.connection_flags import collected as _collected
from kubectl_harness_rollback.cli.connection_flags import connection_options as _connection_options
from kubectl_harness_rollback.did_you_mean import suggestion
from kubectl_harness_rollback.display import shown_lines
from kubectl_harness_rollback.errors import PluginError, UsageError
from kubectl_harness_rollback.fleet.contexts import DEFAULT_MAX_PARALLEL
from kubectl_harness_rollback.modes import Match, Mode

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
connection_options = _connection_options({"namespace": complete_namespaces, "context": complete_contexts})


def cluster(ctx: click.Context):
    """The cluster connection for this invocation (imports the kubernetes client now)."""
    return reads.cluster(_collected(ctx))


class _Command(click.Command):
    """A command whose own usage errors (UsageError, from validating its options and TARGET
    before any request) are reported as click's are: one line with the command's --help; its
    help lists its own flags, and ends pointing at `options` for the connection flags."""

    format_options = format_grouped_options

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        format_pointers(formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        """The help's first paragraph, whole: in the list of commands and in completion
        descriptions (click cuts it at `limit` characters: "change...")."""
        return " ".join(click.unstyle(self.help or "").split("\n\n")[0].split())

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click.UsageError(str(exc), ctx=ctx) from None


# Words other tools use for a command: `kubectl rollout undo`, `helm ls`, `kubectl get`.
ALSO_KNOWN_AS = {"undo": "rollback", "revert": "rollback", "ls": "list", "get": "list"}


class _Group(click.Group):
    """The root command (bare, `cli` prints its help); a mistyped command gets a did-you-mean."""

    command_class = _Command

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if self.get_command(ctx, name) is None and not ctx.resilient_parsing and not name.startswith("-"):
            raise click.UsageError(f"no such command '{name}'{unknown_command_hint(self, name)}", ctx)
        return super().resolve_command(ctx, args)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        format_grouped_options(self, ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        format_pointers(formatter, f'Use "{ctx.command_path} <command> --help" for more information about a '
                                   "given command.")


def unknown_command_hint(group: click.Group, name: str) -> str:
    """"; did you mean X?" for a mistyped command name, or ""."""
    if name in ALSO_KNOWN_AS:
        return f"; did you mean {ALSO_KNOWN_AS[name]}?"
    return suggestion(name, group.commands)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_line())
        ctx.exit()


@click.group(cls=_Group, context_settings=CONTEXT_SETTINGS, invoke_without_command=True,
             subcommand_metavar="COMMAND [ARGS]...")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Print the plugin's version (as the version command) and exit.")
@connection_options
@click.pass_context
def cli(ctx: click.Context, **given: Any) -> None:
    """Roll a Harness-style release back to the last version that worked.

    Reads Harness release records, labels, annotations and the revisions Kubernetes keeps,
    from the cluster alone; decides the release to roll back to; restores it.

    \b
    On call, a release is failing:
      # 1. Is it steady? Which release does each workload run, and why not?
      kubectl harness-rollback status release-infra-prod -n shop
      # 2. What would a rollback do, and why? (changes nothing)
      kubectl harness-rollback plan release-infra-prod -n shop
      # 3. Roll back, wait until steady, and record it as Harness does
      kubectl harness-rollback rollback release-infra-prod -n shop
      # 4. Steady again? Who rolled back, and when
      kubectl harness-rollback status release-infra-prod -n shop

    \b
    Examples:
      # Every release name in every namespace
      kubectl harness-rollback list -A
      # The releases of a workload's release, newest first
      kubectl harness-rollback history deployment/web -n shop
      # What a rollback would send, without sending it
      kubectl harness-rollback rollback release-infra-prod -n shop --dry-run=client
      # The same release in several clusters at once
      kubectl harness-rollback status release-infra-prod -n shop --contexts 'prod-*'
    """
    _collect_connection(ctx, given)
    if ctx.invoked_subcommand is None:  # `kubectl harness-rollback [-n NS]`: its help, as bare kubectl
        click.echo(ctx.get_help())
        ctx.exit(0)


@cli.command(context_settings=CONTEXT_SETTINGS)
@connection_options
@click.pass_context
def version(ctx: click.Context, **given: Any) -> None:
    """Print the plugin's version (never contacts the cluster).

    \b
    Example:
      kubectl harness-rollback version
    """
    _collect_connection(ctx, given)
    click.echo(version_line())


def _complete_command_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """`help COMMAND` candidates: the commands, with their descriptions, as after the plugin's name."""
    from click.shell_completion import CompletionItem

    return [CompletionItem(name, help=command.get_short_help_str())
            for name, command in sorted(cli.commands.items()) if name.startswith(incomplete)]


@cli.command(name="help", context_settings=CONTEXT_SETTINGS)
@click.argument("command_name", metavar="[COMMAND]", required=False, shell_complete=_complete_command_names)
@connection_options
@click.pass_context
def help_command(ctx: click.Context, command_name: str | None, **given: Any) -> None:
    """Print the help of COMMAND, or of the plugin.

    \b
    Examples:
      kubectl harness-rollback help
      kubectl harness-rollback help rollback
    """
    _collect_connection(ctx, given)
    root = ctx.parent or ctx
    if command_name is None:
        click.echo(root.get_help())
        return
    command = cli.get_command(root, command_name)
    if command is None:
        # The root's --help lists the commands: the error points there.
        raise click.UsageError(f"no such command '{command_name}'{unknown_command_hint(cli, command_name)}", root)
    with click.Context(command, info_name=command_name, parent=root) as asked:
        click.echo(asked.get_help())


@cli.command(context_settings=CONTEXT_SETTINGS)
@connection_options
@click.pass_context
def options(ctx: click.Context, **given: Any) -> None:
    """Print the global command-line options, which every command accepts.

    They choose the cluster, the namespace and the identity, as kubectl's own options do, and
    may stand before or after the command's name.

    \b
    Examples:
      kubectl harness-rollback options
      kubectl harness-rollback --context prod -n shop status release-infra-prod
      kubectl harness-rollback status release-infra-prod --context prod -n shop
    """
    _collect_connection(ctx, given)
    formatter = ctx.make_formatter()
    format_global_options(cli, ctx.parent or ctx, formatter)
    click.echo(formatter.getvalue(), nl=False)


def _selection_options(command: Callable) -> Callable:
    """The options that choose the rollback-to release (README: Use, "Selection")."""
    for declarations, extra in reversed([
        (("--match",), {"type": click.Choice([m.value for m in Match]), "default": Match.WORKFLOW.value,
                        "show_default": True,
                        "help": "Match the same Workflow Id + Infrastructure Mapping, or the mapping alone."}),
        (("--workflow-id",), {"metavar": "ID", "help": "Match this Workflow Id instead of the failed release's."}),
        (("--from-release",), {"type": Count(min=1), "metavar": "N", "shell_complete": complete_from_release,
                                "help": "The release the failed pipeline deployed (Harness's release number from "
                                        "the deploy step): roll it back whatever its status."}),
        (("--to-release",), {"type": Count(min=1), "metavar": "N", "help": "Roll back to release N."}),
        (("--to-revision",), {"type": Count(min=0), "metavar": "N",
                              "help": "Roll back to Kubernetes revision N of the workload."}),
        (("--mode",), {"type": click.Choice([m.value for m in Mode]), "default": Mode.AUTO.value,
                       "show_default": True, "help": "Deployment strategy of the release (auto detects it)."}),
        (("--prune",), {"is_flag": True,
                        "help": "Declarative releases: delete what the failed release applied and the rollback-to "
                                "release does not hold (Harness's pruning; harness.io/skipPruning is kept)."}),
    ]):
        command = click.option(*declarations, **extra)(command)
    return command


TABLE_OR_DATA = "Output format: a table for people, json or yaml for scripts."
MAX_RELEASES = 256  # helm history --max's default
NO_HEADERS = click.option("--no-headers", is_flag=True, help="Print the table's rows without its header row.")


def selector_option(help: str) -> Callable[[Callable], Callable]:
    """-l/--selector: a label selector, parsed (label_selector.parse) before any request."""
    return click.option("-l", "--selector", metavar="SELECTOR", help=help + " (=, ==, !=, in, notin, !key; "
                        "e.g. -l app=web,tier!=cache).")


class OutputFormat(click.Choice):
    """-o: one of the formats, or (where json is one) kubectl's jsonpath=TEMPLATE, whose template is
    checked here, before any request."""

    def __init__(self, formats: list[str]):
        super().__init__(formats)
        self.jsonpath = "json" in formats

    def get_metavar(self, *args, **kwargs) -> str:
        shown = super().get_metavar(*args, **kwargs)
        return shown[:-1] + "|jsonpath=TEMPLATE]" if self.jsonpath and shown.endswith("]") else shown

    def convert(self, value, param, ctx):
        if self.jsonpath and isinstance(value, str) and value.startswith("jsonpath="):
            from kubectl_harness_rollback.output import jsonpath_template

            try:
                jsonpath_template.parse(value[len("jsonpath="):])
            except UsageError as exc:
                raise click.UsageError(str(exc), ctx=ctx) from None
            return value
        return super().convert(value, param, ctx)


def output_option(*formats: str, help: str = TABLE_OR_DATA) -> Callable[[Callable], Callable]:
    """-o/--output: one of `formats`, the first the default (and jsonpath=TEMPLATE with json)."""
    return click.option("-o", "--output", type=OutputFormat(list(formats)), default=formats[0], show_default=True,
                        help=help)


def across_contexts(*formats: str, help: str = TABLE_OR_DATA) -> Callable[[Callable], Callable]:
    """A command that runs in one cluster or many: its -o (`formats`, the first the default), the
    flags that choose the contexts (README: Many clusters) and the connection flags, declared once
    for all such commands; the command gets `ctx` and `output`, and `_runner` says where it runs."""
    def decorate(command: Callable) -> Callable:
        command = connection_options(click.pass_context(command))
        for declarations, extra in reversed([
            (("--contexts",), {"metavar": "NAMES", "multiple": True, "shell_complete": complete_context_list,
                               "help": "Run in these kubeconfig contexts, in parallel: a comma list, repeatable; "
                                       "shell globs such as 'prod-*' match context names."}),
            (("--all-contexts",), {"is_flag": True, "help": "Run in every context of the kubeconfig, in parallel."}),
            (("--max-parallel",), {"type": Count(min=1), "metavar": "N",
                                   "help": f"With --contexts: at most N contexts at once "
                                           f"(default {DEFAULT_MAX_PARALLEL})."}),
            (("--fail-fast",), {"is_flag": True,
                                "help": "With --contexts: start no other context after the first one fails."}),
        ]):
            command = click.option(*declarations, **extra)(command)
        return output_option(*formats, help=help)(command)
    return decorate


_timeout, _target = reads.timeout, reads.target


NOT_STEADY = click.option("--not-steady", is_flag=True,
                          help="Show only the releases whose workloads are not steady (or cannot be told).")
WIDE_TABLE = "Output format: wide adds the workloads, the record and the rollout's words; json or yaml for scripts."
WIDE_NAMES_OR_DATA = ("Output format: wide adds the workloads, the record and the rollout's words; name (kubectl's "
                      "TYPE/NAME, one a line), json or yaml for scripts.")


@cli.command(name="list", context_settings=CONTEXT_SETTINGS)
@click.option("-A", "--all-namespaces", is_flag=True, help="List releases in every namespace.")
@selector_option("Only the releases with a workload whose labels match")
@NOT_STEADY
@NO_HEADERS
@across_contexts("table", "wide", "name", "json", "yaml", help=WIDE_NAMES_OR_DATA)
def list_releases(ctx: click.Context, all_namespaces: bool, selector: str | None, not_steady: bool, output: str,
                  no_headers: bool, **given: Any) -> None:
    """List the release names found in the cluster.

    A release is found through its release history (ConfigMap or Secret), its declarative
    release Secrets, or workloads labelled harness.io/release-name.

    \b
    Examples:
      kubectl harness-rollback list -n shop
      kubectl harness-rollback list -A -o json
      kubectl harness-rollback list --contexts 'prod-*' -n shop
      kubectl harness-rollback list -A --not-steady
      kubectl harness-rollback list -o name | xargs -n1 kubectl harness-rollback status
      kubectl harness-rollback list -A -l team=payments
    """
    _collect_connection(ctx, given)
    reads.list_releases(_collected(ctx), click.echo, all_namespaces, selector, not_steady, output, no_headers, **given)


TIMELINE_HELP = "One line per release, newest first, the live one and the last rollback marked."


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("target", shell_complete=complete_release_names)
@click.option("--timeline", is_flag=True, help=TIMELINE_HELP + " Printed instead of the table.")
@click.option("--max", "max_releases", type=Count(min=1), default=MAX_RELEASES, show_default=True, metavar="N",
              help="Show at most the newest N releases (as helm history --max).")
@NO_HEADERS
@across_contexts("table", "wide", "name", "json", "yaml",
                 help="Output format: wide adds images and identities; name prints the release numbers; json or "
                      "yaml for scripts.")
def history(ctx: click.Context, target: str, max_releases: int, output: str, no_headers: bool, timeline: bool = False,
            **given: Any) -> None:
    """Show the releases of TARGET, newest first.

    TARGET is a release name, or KIND/NAME of a workload. `-o wide` adds the images of
    each revision and the identity that deployed it.

    \b
    Examples:
      kubectl harness-rollback history release-infra-prod -n shop
      kubectl harness-rollback history deployment/web -n shop -o wide
      kubectl harness-rollback history release-infra-prod --all-contexts
      kubectl harness-rollback history release-infra-prod --timeline
      kubectl harness-rollback history release-infra-prod --max 5
    """
    _collect_connection(ctx, given)
    reads.history(_collected(ctx), click.echo, target, max_releases, output, no_headers, timeline, **given)


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("target", shell_complete=complete_release_names)
@_selection_options
@click.option("--diff", "show_diff", is_flag=True, help="Also print a unified diff of every object the rollback changes.")
@across_contexts("table", "name", "json", "yaml",
                 help="Output format: a table for people; name (each object the rollback would write, as "
                      "TYPE/NAME), json or yaml for scripts.")
def plan(ctx: click.Context, target: str, output: str, show_diff: bool = False, **given: Any) -> None:
    """Show what a rollback of TARGET would do, and why; change nothing.

    Exits 3 when there is no release to roll back to.

    \b
    Examples:
      kubectl harness-rollback plan release-infra-prod -n shop
      kubectl harness-rollback plan deployment/web --match infra -o json
      kubectl harness-rollback plan release-infra-prod --contexts 'prod-*'
      kubectl harness-rollback plan release-infra-prod --to-release 1 --diff
    """
    _collect_connection(ctx, given)
    reads.plan(_collected(ctx), click.echo, target, output, show_diff, **given)


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("target", shell_complete=complete_release_names)
@_selection_options
@click.option("--dry-run", "dry_run", default="none", show_default=True, is_flag=False, flag_value="client",
              metavar="none|client|server", shell_complete=complete_dry_run,
              help="client: print what would change, send nothing; server: send the writes with dryRun=All.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until the workloads are steady (--no-wait: return once the writes are made).")
@click.option("--timeout", default="5m", show_default=True, metavar="DURATION",
              help="How long the rollback may take, its wait for steady state included (exit 4 when it "
                   "passes); recording what was already written gets up to 10s more.")
@click.option("--scale-down-stage", is_flag=True, help="Blue/green: scale the failed color to zero afterwards.")
@click.option("--ignore-owner", is_flag=True,
              help="Roll back a workload Argo CD or Flux manages all the same (refused otherwise: its next sync "
                   "would put the failed version back).")
@click.option("-y", "--yes", is_flag=True,
              help="Across contexts: roll back a release that succeeded without asking first (needed off a "
                   "terminal).")
@click.option("--reason", metavar="TEXT",
              help="Why: kept in the audit annotation, the Event and kubectl's change-cause (kubectl rollout "
                   "history shows it).")
@across_contexts("table", "json", "yaml")
def rollback(ctx: click.Context, target: str, dry_run: str, wait: bool, timeout: str, scale_down_stage: bool,
             ignore_owner: bool, yes: bool, reason: str | None, output: str, **given: Any) -> None:
    """Roll TARGET back to the last release that worked, wait, and record it.

    The rollback-to release is the one `plan` shows. Every check runs before the first
    write; a change made by someone else in between stops the rollback.

    \b
    Examples:
      kubectl harness-rollback rollback release-infra-prod -n shop
      kubectl harness-rollback rollback deployment/web --dry-run=client
      kubectl harness-rollback rollback release-infra-prod --match infra --timeout 10m
      kubectl harness-rollback rollback release-infra-prod --all-contexts
      kubectl harness-rollback rollback release-infra-prod --contexts 'prod-*' --to-release 2 --yes
      kubectl harness-rollback rollback release-infra-prod --reason "INC-123: 5xx after 3.2.0"
    """
    _collect_connection(ctx, given)
    reads.rollback(_collected(ctx), click.echo, target, dry_run, wait, timeout, scale_down_stage, ignore_owner, yes,
                   reason, output, **given)


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("target", required=False, shell_complete=complete_release_names)
@click.option("-w", "--watch", is_flag=True,
              help="Print the status each time it changes, until it is steady (on a terminal: redrawn in place).")
@click.option("--timeline", is_flag=True, help=TIMELINE_HELP + " Printed under the status.")
@click.option("--timeout", metavar="DURATION",
              help="Wait up to this long for steady state (exit 4 when it passes); default: look once, or with "
                   "--watch wait until steady.")
@click.option("-A", "--all-namespaces", is_flag=True, help="Without TARGET: every release of every namespace.")
@NOT_STEADY
@selector_option("With TARGET, only its workloads whose labels match; without, the releases with such a workload")
@click.option("--no-headers", is_flag=True, help="Print the rows alone, without the heading or header row.")
@across_contexts("table", "wide", "name", "json", "yaml", help=WIDE_NAMES_OR_DATA)
def status(ctx: click.Context, target: str | None, watch: bool, timeout: str | None, all_namespaces: bool,
           not_steady: bool, selector: str | None, no_headers: bool, output: str, timeline: bool = False,
           **given: Any) -> None:
    """Show whether TARGET is steady, which release each workload runs and since when.

    For blue/green, also which release the primary Service routes to; and the last rollback
    (who, when, from which release to which). Exits 0 when steady, 4 when not (within --timeout).
    Without TARGET, one row per release of the namespace (-A: of every namespace), with what
    each needs (ACTION); exits 4 when any is not steady.

    \b
    Examples:
      kubectl harness-rollback status release-infra-prod -n shop
      kubectl harness-rollback status deployment/web --timeout 5m
      kubectl harness-rollback status release-infra-prod -l app=web --no-headers
      kubectl harness-rollback status release-infra-prod --watch -o json
      kubectl harness-rollback status release-infra-prod --all-contexts --timeout 5m
      kubectl harness-rollback status -A --not-steady
    """
    _collect_connection(ctx, given)
    reads.status(_collected(ctx), click.echo, target, watch, timeout, all_namespaces, not_steady, selector,
                 no_headers, output, timeline, **given)


diff_module = reads.diff_module


def _echo_diff(lines: list[str]) -> None:
    """A diff on stdout: coloured on a terminal unless NO_COLOR is set (no-color.org), plain otherwise."""
    reads.echo_diff(click.echo, lines)


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("target", shell_complete=complete_release_names)
@click.argument("from_release", metavar="A", type=Count(min=1))
@click.argument("to_release", metavar="B", type=Count(min=1))
@connection_options
@click.pass_context
def diff(ctx: click.Context, target: str, from_release: int, to_release: int, **given: Any) -> None:
    """Compare releases A and B of TARGET: a unified diff.

    It compares the pod templates the releases' revisions keep (legacy releases) or their stored
    manifests (declarative releases).

    Secret values are never shown. Coloured on a terminal, unless NO_COLOR is set.

    \b
    Examples:
      kubectl harness-rollback diff release-infra-prod 2 3 -n shop
    """
    _collect_connection(ctx, given)
    from kubectl_harness_rollback.reader import Target, read_release

    parsed = Target.parse(target)
    kube = cluster(ctx)
    model = read_release(kube, kube.namespace, parsed)
    by_number = {release.number: release for release in model.releases}
    for number in (from_release, to_release):
        if number not in by_number:
            known = ", ".join(str(n) for n in sorted(n for n in by_number if n is not None)) or "none"
            raise PluginError(f"release {number} of {model.release_name} not found in namespace {model.namespace} "
                              f"(its releases: {known}; see 'kubectl harness-rollback history {target} -n "
                              f"{model.namespace}')")
    _echo_diff(diff_module().releases_diff(model, by_number[from_release], by_number[to_release]))


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("target", shell_complete=complete_release_names)
@click.option("--status", "status", required=True, type=click.Choice(["Succeeded", "Failed", "InProgress"]),
              help="The outcome of the deploy step being recorded.")
@click.option("--workflow-id", metavar="ID", help="Workflow Id (identity annotation harness.io/workflow-id).")
@click.option("--service-id", metavar="ID", help="Service Id (harness.io/service).")
@click.option("--infra-id", metavar="ID", help="Infrastructure Id (harness.io/infra).")
@click.option("--cluster-name", metavar="NAME", help="Cluster Name (harness.io/cluster-name).")
@click.option("--release-name", metavar="NAME",
              help="Release name for a workload without a harness.io/release-name label "
                   "(default: release-<infra id>, else the workload's name).")
@click.option("--timeout", default="1m", show_default=True, metavar="DURATION",
              help="How long to wait for the controller to observe the deploy.")
@click.option("--dry-run", "dry_run", default="none", show_default=True, is_flag=False, flag_value="client",
              metavar="none|client|server", shell_complete=complete_dry_run,
              help="client: print what would be recorded, send nothing; server: send the writes with dryRun=All.")
@connection_options
@click.pass_context
def record(ctx: click.Context, target: str, status: str, workflow_id: str | None, service_id: str | None,
           infra_id: str | None, cluster_name: str | None, release_name: str | None, timeout: str, dry_run: str,
           **given: Any) -> None:
    """Record a deploy step as a Harness release, for pipelines that are not Harness.

    Run it after each deploy: it adds (or updates) the release in Harness's legacy
    history, with the workloads' current revisions, and stamps the identity annotations,
    so that `rollback` works on a cluster Harness never touched.

    \b
    Examples:
      kubectl apply -f web.yaml && kubectl rollout status deployment/web
      kubectl harness-rollback record deployment/web --status Succeeded \\
          --workflow-id deploy-web --service-id web --infra-id prod --cluster-name eu-1
    """
    _collect_connection(ctx, given)
    from kubectl_harness_rollback import commands
    from kubectl_harness_rollback.dryrun import DryRun
    from kubectl_harness_rollback.model import Status
    from kubectl_harness_rollback.output import render
    from kubectl_harness_rollback.recorder import RecordRequest, check_release_name

    mode, seconds = DryRun.parse(dry_run), _timeout(timeout)
    parsed = _target(target)
    # The names that become the history's name and a label value, checked before any request.
    if release_name is not None:
        check_release_name(release_name, "--release-name")
    elif infra_id is not None and parsed.release_name is None:
        check_release_name(f"release-{infra_id}", f"derived from --infra-id {infra_id!r}")
    request = RecordRequest(Status.parse(status), workflow_id, service_id, infra_id, cluster_name)
    result = commands.run_record(cluster(ctx), parsed, request, release_name, seconds, mode)
    if parsed.release_name is None and release_name is None and not result.labelled:
        # Never silently: the name decides where the history lives and what `rollback` is given.
        source = f"--infra-id {infra_id}" if infra_id else "the workload's name"
        click.echo(f"release name {result.release_name} derived from {source} ({target} has no "
                   "harness.io/release-name label); pass --release-name to choose it", err=True)
    click.echo(shown_lines(render.recorded_text(result, status, mode.value)), nl=False)
    if mode is not DryRun.CLIENT:
        click.echo(f"identity annotations set on {', '.join(result.annotated)}", err=True)


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@connection_options
@click.pass_context
def completion(ctx: click.Context, shell: str, **given: Any) -> None:
    """Print the shell completion script for bash, zsh or fish.

    It completes `kubectl-harness_rollback ...`; for `kubectl harness-rollback ...`, kubectl's
    own completion runs kubectl_complete-harness_rollback (installed alongside).

    \b
    Examples:
      source <(kubectl harness-rollback completion bash)
      kubectl harness-rollback completion zsh > "${fpath[1]}/_kubectl-harness_rollback"
      kubectl harness-rollback completion fish > ~/.config/fish/completions/kubectl-harness_rollback.fish
    """
    _collect_connection(ctx, given)
    click.echo(_completion.completion_script(cli, shell), nl=False)


def _offline_namespace(ctx: click.Context) -> str:
    """-n, else the kubeconfig context's namespace, else default: as kubectl, but with no request."""
    import os

    from kubectl_harness_rollback.cluster import kubeconfig
    from kubectl_harness_rollback.cluster.client import _read_yaml_file

    flags = connection_flags(ctx)
    if flags.namespace:
        return flags.namespace
    try:
        return kubeconfig.load(flags, os.environ, os.path.expanduser("~"), _read_yaml_file).namespace
    except PluginError as exc:
        raise PluginError(f"{exc}; or name the namespace with -n") from None


@cli.command(context_settings=CONTEXT_SETTINGS)
@click.option("-A", "--all-namespaces", is_flag=True,
              help="Also print the ClusterRole that `list -A` needs (the output is then a List).")
@output_option("yaml", "json", help="Output format of the manifest.")
@connection_options
@click.pass_context
def rbac(ctx: click.Context, all_namespaces: bool, output: str, **given: Any) -> None:
    """Print the least Role a pipeline needs to record and roll back in a namespace.

    The Role (named kubectl-harness-rollback) grants what every command calls in the namespace
    (list, status, history, plan, diff, rollback, record), and nothing else. Never contacts the
    cluster.

    \b
    Examples:
      kubectl harness-rollback rbac -n shop | kubectl apply -f -
      kubectl create rolebinding harness-rollback -n shop --role kubectl-harness-rollback \\
          --serviceaccount shop:deployer
      kubectl harness-rollback rbac -n shop -A -o json
    """
    _collect_connection(ctx, given)
    from kubectl_harness_rollback.output import render
    from kubectl_harness_rollback.rbac import manifest

    click.echo(render.structured(manifest(_offline_namespace(ctx), all_namespaces), output), nl=False)


def kubectl_complete_main(argv: list[str] | None = None) -> None:
    """Entry point `kubectl_complete-harness_rollback`, run by kubectl's plugin completion."""
    _completion.kubectl_complete(cli, argv)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every error into one line on stderr and an exit code."""
    exits.main(argv, _run)


_say_error, _kubectl_verbosity, _usage_message = exits.say_error, exits.kubectl_verbosity, exits.usage_message


def _run(argv: list[str], said) -> int:
    """Run the command line; its exit code (the README's table)."""
    return exits.guarded(lambda: _click_run(argv), said)


def _click_run(argv: list[str]) -> int:
    """Run the command line through click; click's own errors become one line and an exit code."""
    try:
        try:
            cli.main(args=argv, prog_name="kubectl harness-rollback", complete_var=COMPLETE_VAR,
                     standalone_mode=False)
        except click.exceptions.Abort as exc:
            if isinstance(exc.__context__, KeyboardInterrupt):  # click's word for Ctrl-C (status --watch)
                raise KeyboardInterrupt from None
            click.echo("aborted", err=True)
            return 1
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        # kubectl's shape, one line: click's own is three to six ("Usage:", "Try ...", "Error:").
        where = exc.ctx.command_path if exc.ctx is not None else "kubectl harness-rollback"
        _say_error(f"{_usage_message(exc.format_message())} (see '{where} --help')")
        return UsageError.exit_code
    except click.ClickException as exc:
        _say_error(_usage_message(exc.format_message()))
        return exc.exit_code
    return 0

"""kubectl's connection flags, before or after the command, validated without I/O.

kubectl's connection flags: declared once, accepted before or after the subcommand, gathered
into one ConnectionFlags and validated without any I/O. Used by cli/app.py and completion.py."""

from __future__ import annotations

from typing import Any, Callable

import click

from kubectl_harness_rollback.cli.connection_values import validated, with_request_timeout
from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags


class Count(click.IntRange):
    """A whole number with a minimum, whose help does not show click's `[x>=0]`."""

    def _describe_range(self) -> str:
        return ""

    def convert(self, value, param, ctx):
        number = click.INT.convert(value, param, ctx)
        if self.min is not None and number < self.min:
            self.fail(f"{number} is less than {self.min}", param, ctx)
        return number


# Each entry: (flag declarations, ConnectionFlags field, click options).
CONNECTION_OPTIONS: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
    (("--kubeconfig",), "kubeconfig", {"metavar": "PATH", "help": "Path to the kubeconfig file (else KUBECONFIG, else ~/.kube/config)."}),
    (("--context",), "context", {"metavar": "NAME", "help": "The kubeconfig context to use."}),
    (("--cluster",), "cluster", {"metavar": "NAME", "help": "The kubeconfig cluster to use."}),
    (("--user",), "user", {"metavar": "NAME", "help": "The kubeconfig user to use."}),
    (("-n", "--namespace"), "namespace", {"metavar": "NS", "help": "The namespace (else the context's, else default)."}),
    (("-s", "--server"), "server", {"metavar": "URL", "help": "The address of the API server."}),
    (("--token",), "token", {"metavar": "TOKEN", "help": "Bearer token for the API server."}),
    (("--certificate-authority",), "certificate_authority", {"metavar": "PATH", "help": "A CA certificate file."}),
    (("--insecure-skip-tls-verify",), "insecure_skip_tls_verify", {"is_flag": True, "default": None, "help": "Do not verify the server's certificate."}),
    (("--as",), "impersonate", {"metavar": "USER", "help": "Username to impersonate."}),
    (("--as-group",), "impersonate_groups", {"metavar": "GROUP", "multiple": True, "help": "Group to impersonate (repeatable)."}),
    (("-v", "--v"), "verbosity", {"type": Count(min=0), "metavar": "N",
                                  "help": "Log level, as kubectl's: 6 and above log each request (method, path, status, "
                                          "milliseconds) on stderr."}),
    (("--request-timeout",), "request_timeout", {"metavar": "DURATION", "help": "Timeout of one API request, e.g. 1m (default 30s; 0: none)."}),
]


CONNECTION_FIELDS = frozenset(field_name for _, field_name, _ in CONNECTION_OPTIONS)


OPTIONS_POINTER = ('Use "kubectl harness-rollback options" for a list of global command-line options '
                   "(applies to all commands).")


def format_grouped_options(command: click.Command, ctx: click.Context, formatter: click.HelpFormatter) -> None:
    """kubectl's help layout: the command's own flags under "Options"; the connection flags, the
    same for every command, are listed once, by the `options` command (format_global_options)."""
    own = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
        if record is not None and param.name not in CONNECTION_FIELDS:
            own.append(record)
    if own:
        with formatter.section("Options"):
            formatter.write_dl(own)


def format_global_options(command: click.Command, ctx: click.Context, formatter: click.HelpFormatter) -> None:
    """The connection flags `command` declares, as `kubectl options` lists kubectl's."""
    formatter.write_text("The following options can be passed to any command, before or after its name:")
    formatter.write_paragraph()
    with formatter.indentation():
        formatter.write_dl([param.get_help_record(ctx) for param in command.get_params(ctx)
                            if param.name in CONNECTION_FIELDS and isinstance(param, click.Option)])


def format_pointers(formatter: click.HelpFormatter, more: str | None = None) -> None:
    """The closing lines of a help, unwrapped as kubectl's: `more` (if any), then where the global
    options are."""
    formatter.write_paragraph()
    for line in ([more] if more else []) + [OPTIONS_POINTER]:
        formatter.write(line + "\n")


def connection_options(completers: dict[str, Callable]) -> Callable[[Callable], Callable]:
    """A decorator adding kubectl's connection flags to a command or group; `completers`: the
    shell_complete= of some of them, by field (completion.py's, passed in: it imports this module)."""
    def add(command: Callable) -> Callable:
        for declarations, field_name, extra in reversed(CONNECTION_OPTIONS):
            complete = {"shell_complete": completers[field_name]} if field_name in completers else {}
            command = click.option(*declarations, field_name, **extra, **complete)(command)
        return command

    return add


def collect(ctx: click.Context, given: dict[str, Any]) -> None:
    """Keep connection flags in ctx.obj; a flag after the subcommand overrides one before it."""
    store = ctx.ensure_object(dict).setdefault("connection", {})
    for _, field_name, _ in CONNECTION_OPTIONS:
        value = given.pop(field_name, None)
        if value not in (None, ()):
            store[field_name] = value


def collected(ctx: click.Context) -> dict[str, Any]:
    """The connection flags collect() gathered, by ConnectionFlags field."""
    return ctx.ensure_object(dict).get("connection", {})


def connection_flags(ctx: click.Context) -> ConnectionFlags:
    """Validate the collected connection flags without any I/O."""
    return validated(collected(ctx))


def flags_on_the_line(ctx: click.Context, default_request_timeout: float | None = None) -> ConnectionFlags:
    """The connection flags typed so far, wherever they stand on the line.

    While completing, click parses the line without running any command callback, so the
    flags were never gathered into ctx.obj: gather them here the way the commands do,
    outermost first (a flag after the subcommand overrides one before it).
    """
    chain = []
    node: click.Context | None = ctx
    while node is not None:
        chain.append(node)
        node = node.parent
    for node in reversed(chain):
        collect(node, dict(node.params))
    return with_request_timeout(connection_flags(ctx), default_request_timeout)

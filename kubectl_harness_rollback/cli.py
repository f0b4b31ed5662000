"""The command line: thin click commands that resolve options, call the library, render.

Nothing here imports the kubernetes package at module level: `--help` and `version` must
answer instantly, so the client is imported the first time a command asks for the cluster.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

import click

from kubectl_harness_rollback import __version__
from kubectl_harness_rollback.durations import parse_duration
from kubectl_harness_rollback.errors import PluginError, UsageError
from kubectl_harness_rollback.kubeconfig import ConnectionFlags

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

# kubectl accepts its connection flags before or after the subcommand; so do we. Each entry:
# (flag declarations, ConnectionFlags field, click options).
_CONNECTION_OPTIONS: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
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
    (("--request-timeout",), "request_timeout", {"metavar": "DURATION", "help": "Timeout of one API request, e.g. 30s; 0 means none."}),
]


def connection_options(command: Callable) -> Callable:
    """Add kubectl's connection flags to a command or group."""
    for declarations, field_name, extra in reversed(_CONNECTION_OPTIONS):
        command = click.option(*declarations, field_name, **extra)(command)
    return command


def _collect_connection(ctx: click.Context, given: dict[str, Any]) -> None:
    """Keep connection flags in ctx.obj; a flag after the subcommand overrides one before it."""
    store = ctx.ensure_object(dict).setdefault("connection", {})
    for _, field_name, _ in _CONNECTION_OPTIONS:
        value = given.pop(field_name, None)
        if value not in (None, ()):
            store[field_name] = value


def connection_flags(ctx: click.Context) -> ConnectionFlags:
    """Validate the collected connection flags without any I/O."""
    given = dict(ctx.ensure_object(dict).get("connection", {}))
    if given.get("impersonate_groups") and not given.get("impersonate"):
        raise UsageError("--as-group needs --as: name the user to impersonate too")
    if "request_timeout" in given:
        try:
            given["request_timeout"] = parse_duration(given["request_timeout"]) or None
        except ValueError as exc:
            raise UsageError(f"--request-timeout: {exc}") from None
    given["insecure_skip_tls_verify"] = bool(given.get("insecure_skip_tls_verify"))
    given["impersonate_groups"] = tuple(given.get("impersonate_groups", ()))
    return ConnectionFlags(**given)


def cluster(ctx: click.Context):
    """The cluster connection for this invocation (imports the kubernetes client now)."""
    from kubectl_harness_rollback.client import connect

    return connect(connection_flags(ctx))


@click.group(context_settings=CONTEXT_SETTINGS)
@connection_options
@click.pass_context
def cli(ctx: click.Context, **given: Any) -> None:
    """Roll a Harness-style release back to the last version that worked.

    Reads Harness release records, labels, annotations and the revisions Kubernetes keeps,
    from the cluster alone; decides the release to roll back to; restores it.

    \b
    Examples:
      kubectl harness-rollback version
      kubectl harness-rollback --context prod -n shop version
    """
    _collect_connection(ctx, given)


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
    click.echo(f"kubectl-harness_rollback v{__version__} (python {sys.version.split()[0]})")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every error into a message and an exit code."""
    try:
        cli.main(args=argv, prog_name="kubectl harness-rollback", standalone_mode=False)
    except PluginError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the one place unexpected errors become a line
        from kubectl_harness_rollback.apierrors import translate

        error = translate(exc)
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    sys.exit(0)

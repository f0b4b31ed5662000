"""Shell completion: release names for TARGET, click's scripts, and kubectl's plugin completion.

Two ways in, one click machinery behind them:

- `kubectl-harness_rollback <TAB>` in bash, zsh or fish: click's own script (printed by
  `kubectl harness-rollback completion SHELL`) calls the program back with
  _KUBECTL_HARNESS_ROLLBACK_COMPLETE set.
- `kubectl harness-rollback <TAB>`: kubectl (1.26+) runs `kubectl_complete-harness_rollback
  ARGS... INCOMPLETE` and reads Cobra's format: one candidate per line (`value<TAB>description`),
  then `:<directive>`.

Completion runs on every key press, so it never prints a traceback, and a cluster that does not
answer yields no candidates after a short timeout rather than a hung shell. Nothing heavy is
imported at module level: cli/app.py imports this module for `shell_complete=`. The root command
comes in as a parameter (`root`), so this module never imports cli/app.py.
"""

from __future__ import annotations

import sys
import warnings

import click
from click.shell_completion import CompletionItem

from kubectl_harness_rollback.cli.connection_flags import flags_on_the_line
from kubectl_harness_rollback.errors import UsageError

PROG_NAME = "kubectl-harness_rollback"
# click derives "_KUBECTL HARNESS_ROLLBACK_COMPLETE" from the prog name the CLI shows ("kubectl
# harness-rollback"), which no shell can set: cli.main passes this name explicitly.
COMPLETE_VAR = "_KUBECTL_HARNESS_ROLLBACK_COMPLETE"
SHELLS = ("bash", "zsh", "fish")
# Seconds per API request while completing, unless --request-timeout says otherwise.
REQUEST_TIMEOUT = 5.0

# Cobra's ShellCompDirective values (spf13/cobra completions.go).
DIRECTIVE_DEFAULT = 0  # let the shell complete file names
DIRECTIVE_ERROR = 1
DIRECTIVE_NO_SPACE = 2
DIRECTIVE_NO_FILE_COMP = 4
DIRECTIVE_FILTER_DIRS = 16
# Options whose value is a file; click sees plain strings, the shell should offer paths.
FILE_PARAMS = {"kubeconfig", "certificate_authority"}


def complete_release_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """TARGET candidates: release names in the namespace, or KIND/NAME once a '/' is typed.

    Used as click's `shell_complete=`; any error (no kubeconfig, cluster down, forbidden)
    means no candidates.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. urllib3's InsecureRequestWarning on stderr
            return _targets(ctx, incomplete)
    except Exception:
        return []


def _targets(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    kinds = [] if "/" in incomplete else kind_prefixes(incomplete)
    try:
        if "/" in incomplete:
            from kubectl_harness_rollback.cluster import client

            return _workloads(client.connect(flags_on_the_line(ctx, REQUEST_TIMEOUT)), incomplete)

        def releases(kube) -> list[tuple[str, str]]:
            from kubectl_harness_rollback import listing  # what reading needs, on a miss only

            rows, _ = listing.read_catalog(kube, kube.namespace, live=False)  # names and statuses only
            return [(row["release"], _release_help(row)) for row in rows]

        candidates = _remembered(ctx, "releases", incomplete, releases)
    except Exception:
        return kinds
    return [CompletionItem(value, help=help_) for value, help_ in candidates if value.startswith(incomplete)] + kinds


def _remembered(ctx: click.Context, what: str, incomplete: str, read) -> list[tuple[str, str]]:
    """`read(kube)`'s candidates (value, description), from an entry of completion_cache a few
    seconds old when it has one for `incomplete`; else read now, and remembered. With -v 6 the
    requests are what was asked for: no entry is used."""
    import os

    from kubectl_harness_rollback.cli import completion_cache
    from kubectl_harness_rollback.cluster import client, kubeconfig
    from kubectl_harness_rollback.cluster.rest import REQUEST_LOG_LEVEL

    flags = flags_on_the_line(ctx, REQUEST_TIMEOUT)
    folder = name = None
    if flags.verbosity < REQUEST_LOG_LEVEL:
        try:
            resolved = kubeconfig.load(flags, os.environ, os.path.expanduser("~"), client._read_yaml_file)
        except Exception:
            resolved = None  # no kubeconfig (in a pod, say): connect() says what to do
        if resolved is not None:
            folder = completion_cache.directory(os.environ)
            name = completion_cache.key(what, _identity(resolved, flags, what))
            found = completion_cache.load(folder, name)
            if found is not None and any(value.startswith(incomplete) for value, _ in found):
                return found
    candidates = read(client.connect(flags))
    if name is not None:
        completion_cache.store(folder, name, candidates)
    return candidates


def _identity(resolved, flags, what: str) -> list:
    """Whom completion asks, and where: the context's cluster and user entries (the server, the
    credentials), the impersonation, and for releases the namespace."""
    from kubectl_harness_rollback.cluster import kubeconfig

    context = (kubeconfig.named(resolved.config, "contexts", resolved.context) or {}).get("context") or {}
    return [kubeconfig.named(resolved.config, "clusters", str(context.get("cluster", ""))),
            kubeconfig.named(resolved.config, "users", str(context.get("user", ""))),
            flags.impersonate, list(flags.impersonate_groups),
            resolved.namespace if what == "releases" else None]


def kind_prefixes(incomplete: str) -> list[CompletionItem]:
    """`KIND/` for the workload kinds TARGET accepts ("d" -> daemonset/, deployment/); an alias
    typed in full ("sts") gets its own slash."""
    from kubectl_harness_rollback.workloads import ADAPTERS, KIND_ALIASES

    names = sorted(kind.lower() for kind in ADAPTERS)
    if incomplete in KIND_ALIASES and incomplete not in names:
        names.append(incomplete)
    return [CompletionItem(f"{name}/", help="a workload of this kind") for name in names
            if name.startswith(incomplete.lower())]


def complete_namespaces(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """-n candidates: one metadata-only list of the namespaces, within REQUEST_TIMEOUT."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from kubectl_harness_rollback.cluster.rest import NAMESPACES

            def namespaces(kube) -> list[tuple[str, str]]:
                return [(obj["metadata"]["name"], "") for obj in kube.list(NAMESPACES, metadata_only=True)]

            names = sorted(value for value, _ in _remembered(ctx, "namespaces", incomplete, namespaces))
    except Exception:
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def complete_contexts(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """--context candidates: the kubeconfig's contexts, read from the files; no request."""
    import os

    try:
        from kubectl_harness_rollback.cluster import kubeconfig
        from kubectl_harness_rollback.cluster.client import _read_yaml_file

        names = kubeconfig.context_names(flags_on_the_line(ctx), os.environ, os.path.expanduser("~"), _read_yaml_file)
    except Exception:
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def complete_context_list(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """--contexts candidates: context names, also after a comma (`prod-a,pr<TAB>`), without the
    ones already in the list."""
    head, _, last = incomplete.rpartition(",")
    listed = set(head.split(",")) if head else set()
    prefix = f"{head}," if head else ""
    return [CompletionItem(prefix + item.value) for item in complete_contexts(ctx, param, last)
            if item.value not in listed]


def complete_dry_run(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """--dry-run= values."""
    from kubectl_harness_rollback.dryrun import DryRun

    return [CompletionItem(mode.value) for mode in DryRun if mode.value.startswith(incomplete)]


def complete_from_release(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """--from-release candidates: the latest release of TARGET (the only one it accepts)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from kubectl_harness_rollback.cluster import client
            from kubectl_harness_rollback.reader import Target, read_release

            # An option still waiting for its value stops click's parse before TARGET is bound:
            # TARGET is then the first argument left over.
            target = ctx.params.get("target") or next(iter(ctx.args), None)
            kube = client.connect(flags_on_the_line(ctx, REQUEST_TIMEOUT))
            current = read_release(kube, kube.namespace, Target.parse(target)).current
    except Exception:
        return []
    if current is None or not str(current.number).startswith(incomplete):
        return []
    status = current.status.value if current.status else "no status"
    return [CompletionItem(str(current.number), help=f"latest release, {status}")]


def _release_help(row: dict) -> str:
    if row.get("latest") is None:
        return "release"
    return f"release {row['latest']}" + (f", {row['status']}" if row.get("status") else "")


def _workloads(kube, incomplete: str) -> list[CompletionItem]:
    from kubectl_harness_rollback.workloads import adapter_for

    kind, _, prefix = incomplete.partition("/")
    adapter = adapter_for(kind)  # an unknown kind raises: no candidates
    names = sorted(obj["metadata"]["name"] for obj in adapter.list_workloads(kube, kube.namespace))
    return [CompletionItem(f"{kind}/{name}") for name in names if name.startswith(prefix)]


def completion_script(root: click.Command, shell: str) -> str:
    """click's completion script for `kubectl-harness_rollback` (the command `root`) in bash, zsh or fish."""
    from click.shell_completion import get_completion_class

    completer = get_completion_class(shell) if shell in SHELLS else None
    if completer is None:
        raise UsageError(f"unsupported shell '{shell}': use one of {', '.join(SHELLS)}")
    script = completer(root, {}, PROG_NAME, COMPLETE_VAR).source()
    if shell == "bash":
        # As kubectl's (cobra's "no space" directive): after `deployment/` the name is typed on.
        script = script.replace("COMPREPLY+=($value)",
                                "COMPREPLY+=($value)\n            [[ $value == */ ]] && compopt -o nospace", 1)
    return script


def complete(root: click.Command, args: list[str], incomplete: str) -> tuple[list[CompletionItem], int]:
    """Candidates and Cobra directive for a command line of `root` (without the program name)."""
    # The two private helpers are what click's own ShellComplete.get_completions calls (8.0+);
    # we need the object being completed as well as its candidates, to choose the directive.
    from click.shell_completion import _resolve_context, _resolve_incomplete

    ctx = _resolve_context(root, {}, PROG_NAME, list(args))
    target, incomplete = _resolve_incomplete(ctx, list(args), incomplete)
    items = target.shell_complete(ctx, incomplete)
    return items, _directive(target, items)


def _directive(target, items: list[CompletionItem]) -> int:
    if getattr(target, "name", None) in FILE_PARAMS or any(item.type == "file" for item in items):
        return DIRECTIVE_DEFAULT
    if any(item.type == "dir" for item in items):
        return DIRECTIVE_FILTER_DIRS
    if any(str(item.value).endswith("/") for item in items):
        return DIRECTIVE_NO_FILE_COMP | DIRECTIVE_NO_SPACE  # `deployment/` goes on with the name
    return DIRECTIVE_NO_FILE_COMP


def cobra_output(items: list[CompletionItem], directive: int) -> str:
    """Cobra's __complete format: `value[<TAB>description]` per line, then `:<directive>`."""
    lines = []
    for item in items:
        if item.type != "plain":  # file/dir items only ask the shell to complete paths
            continue
        description = " ".join(str(item.help or "").split())
        lines.append(f"{item.value}\t{description}" if description else str(item.value))
    lines.append(f":{directive}")
    return "\n".join(lines) + "\n"


def kubectl_complete(root: click.Command, argv: list[str] | None = None) -> None:
    """What `kubectl_complete-harness_rollback` (cli.kubectl_complete_main) does for kubectl's
    plugin completion.

    kubectl passes the words after `kubectl harness-rollback`, the last one being the word
    under completion (empty when a new word starts). A leading `__complete`, as a Cobra
    program would receive it, is accepted too.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["__complete"]:
        args = args[1:]
    words, incomplete = (args[:-1], args[-1]) if args else ([], "")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            items, directive = complete(root, words, incomplete)
    except Exception:
        items, directive = [], DIRECTIVE_ERROR
    sys.stdout.write(cobra_output(items, directive))
    sys.stdout.flush()

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
imported at module level, click included: cli/app.py imports this module for `shell_complete=`,
and the short route (cli/short_completion.py) answers a read's TARGET and -n from the same
candidate functions without loading click or the command tree; any other line is click's. The root command comes in as a parameter (`root`),
so this module never imports cli/app.py.
"""

from __future__ import annotations

import sys
import warnings
from typing import TYPE_CHECKING, Callable

from kubectl_harness_rollback.errors import UsageError

if TYPE_CHECKING:
    import click
    from click.shell_completion import CompletionItem

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

Pairs = list[tuple[str, str]]


def _item(value: str, help: str | None = None) -> CompletionItem:
    from click.shell_completion import CompletionItem

    return CompletionItem(value, help=help)


def flags_on_the_line(ctx: click.Context, default_request_timeout: float | None = None):
    """connection_flags.flags_on_the_line (which imports click: the short route never calls this)."""
    from kubectl_harness_rollback.cli.connection_flags import flags_on_the_line as on_the_line

    return on_the_line(ctx, default_request_timeout)


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
    return _items(targets(lambda: flags_on_the_line(ctx, REQUEST_TIMEOUT), incomplete))


def _items(pairs: list[tuple[str, str]]) -> list[CompletionItem]:
    return [_item(value, help=help_ or None) for value, help_ in pairs]


def kind_prefixes(incomplete: str) -> list[CompletionItem]:
    """`KIND/` for the workload kinds TARGET accepts ("d" -> daemonset/, deployment/)."""
    return _items(_kind_pairs(incomplete))


def complete_namespaces(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """-n candidates: one metadata-only list of the namespaces, within REQUEST_TIMEOUT."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            names = namespaces(lambda: flags_on_the_line(ctx, REQUEST_TIMEOUT), incomplete)
    except Exception:
        return []
    return [_item(name) for name in names]


def complete_contexts(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """--context candidates: the kubeconfig's contexts, read from the files; no request."""
    import os

    try:
        from kubectl_harness_rollback.cluster import kubeconfig
        from kubectl_harness_rollback.cluster.client import _read_yaml_file

        names = kubeconfig.context_names(flags_on_the_line(ctx), os.environ, os.path.expanduser("~"), _read_yaml_file)
    except Exception:
        return []
    return [_item(name) for name in names if name.startswith(incomplete)]


def complete_context_list(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """--contexts candidates: context names, also after a comma (`prod-a,pr<TAB>`), without the
    ones already in the list."""
    head, _, last = incomplete.rpartition(",")
    listed = set(head.split(",")) if head else set()
    prefix = f"{head}," if head else ""
    return [_item(prefix + item.value) for item in complete_contexts(ctx, param, last)
            if item.value not in listed]


def complete_dry_run(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """--dry-run= values."""
    from kubectl_harness_rollback.dryrun import DryRun

    return [_item(mode.value) for mode in DryRun if mode.value.startswith(incomplete)]


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
    return [_item(str(current.number), help=f"latest release, {status}")]


def targets(flags: Callable, incomplete: str) -> Pairs:
    """TARGET candidates: release names in the namespace, or KIND/NAME once a '/' is typed; the
    kinds as `KIND/` whatever the cluster says."""
    kinds = [] if "/" in incomplete else _kind_pairs(incomplete)
    try:
        if "/" in incomplete:
            from kubectl_harness_rollback.cluster import client

            return workloads(client.connect(flags()), incomplete)

        def releases(kube) -> Pairs:
            from kubectl_harness_rollback import listing  # what reading needs, on a miss only

            rows, _ = listing.read_catalog(kube, kube.namespace, live=False)  # names and statuses only
            return [(row["release"], _release_help(row)) for row in rows]

        candidates = remembered(flags, "releases", incomplete, releases)
    except Exception:
        return kinds
    return [(value, help_) for value, help_ in candidates if value.startswith(incomplete)] + kinds


def namespaces(flags: Callable, incomplete: str) -> list[str]:
    """-n candidates: one metadata-only list of the namespaces, within REQUEST_TIMEOUT."""
    from kubectl_harness_rollback.cluster.rest import NAMESPACES

    def listed(kube) -> Pairs:
        return [(obj["metadata"]["name"], "") for obj in kube.list(NAMESPACES, metadata_only=True)]

    names = sorted(value for value, _ in remembered(flags, "namespaces", incomplete, listed))
    return [name for name in names if name.startswith(incomplete)]


def remembered(flags: Callable, what: str, incomplete: str, read) -> Pairs:
    """`read(kube)`'s candidates (value, description), from an entry of completion_cache a few
    seconds old when it has one for `incomplete`; else read now, and remembered. With -v 6 the
    requests are what was asked for: no entry is used."""
    import os

    from kubectl_harness_rollback.cli import completion_cache
    from kubectl_harness_rollback.cluster.rest import REQUEST_LOG_LEVEL

    given = flags()
    folder = name = None
    if given.verbosity < REQUEST_LOG_LEVEL:
        identity = _identity(given, what)
        if identity is not None:  # None: no kubeconfig (in a pod, say): connect() says what to do
            folder = completion_cache.directory(os.environ)
            name = completion_cache.key(what, identity)
            found = completion_cache.load(folder, name)
            if found is not None and any(value.startswith(incomplete) for value, _ in found):
                return found
    from kubectl_harness_rollback.cluster import client

    candidates = read(client.connect(given))
    if name is not None:
        completion_cache.store(folder, name, candidates)
    return candidates


def _identity(flags, what: str) -> list | None:
    """Whom completion asks, and where, without parsing the kubeconfig: the digest of each
    kubeconfig file kubectl would read (its servers, users, credentials, contexts and current
    context: any change is another entry), and the connection flags on the line (for namespaces,
    all but -n). None when no kubeconfig file can be read."""
    import dataclasses
    import hashlib
    import os

    from kubectl_harness_rollback.cluster.kubeconfig import kubeconfig_paths

    files = []
    for path in kubeconfig_paths(flags.kubeconfig, os.environ, os.path.expanduser("~")):
        try:
            with open(path, "rb") as handle:
                files.append([os.path.abspath(path), hashlib.sha256(handle.read()).hexdigest()])
        except OSError:
            continue
    if not files:
        return None
    line = {key: value for key, value in dataclasses.asdict(flags).items()
            if key not in ("request_timeout", "verbosity") and (what == "releases" or key != "namespace")}
    return [files, line]


def _kind_pairs(incomplete: str) -> Pairs:
    """`KIND/` for the workload kinds TARGET accepts ("d" -> daemonset/, deployment/); an alias
    typed in full ("sts") gets its own slash. From the kinds table, as workloads.ADAPTERS and
    KIND_ALIASES are, without importing the adapters."""
    from kubectl_harness_rollback import kinds

    names = sorted(kind.name.lower() for kind in kinds.WORKLOADS)
    if incomplete in {alias for kind in kinds.WORKLOADS for alias in kind.aliases} and incomplete not in names:
        names.append(incomplete)
    return [(f"{name}/", "a workload of this kind") for name in names if name.startswith(incomplete.lower())]


def _release_help(row: dict) -> str:
    if row.get("latest") is None:
        return "release"
    return f"release {row['latest']}" + (f", {row['status']}" if row.get("status") else "")


def workloads(kube, incomplete: str) -> Pairs:
    from kubectl_harness_rollback.workloads import adapter_for

    kind, _, prefix = incomplete.partition("/")
    adapter = adapter_for(kind)  # an unknown kind raises: no candidates
    names = sorted(obj["metadata"]["name"] for obj in adapter.list_workloads(kube, kube.namespace))
    return [(f"{kind}/{name}", "") for name in names if name.startswith(prefix)]


def directive(param_name: str | None, values: list[str]) -> int:
    """Cobra's directive for plain candidates `values` of the parameter `param_name`."""
    if param_name in FILE_PARAMS:
        return DIRECTIVE_DEFAULT
    if any(str(value).endswith("/") for value in values):
        return DIRECTIVE_NO_FILE_COMP | DIRECTIVE_NO_SPACE  # `deployment/` goes on with the name
    return DIRECTIVE_NO_FILE_COMP


def cobra_text(pairs: list[tuple[object, object]], directive: int) -> str:
    """Cobra's __complete format: `value[<TAB>description]` per line, then `:<directive>`."""
    lines = []
    for value, help_ in pairs:
        description = " ".join(str(help_ or "").split())
        lines.append(f"{value}\t{description}" if description else str(value))
    lines.append(f":{directive}")
    return "\n".join(lines) + "\n"


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
    if any(item.type == "file" for item in items):
        return DIRECTIVE_DEFAULT
    if any(item.type == "dir" for item in items):
        return DIRECTIVE_FILTER_DIRS
    return directive(getattr(target, "name", None), [item.value for item in items])


def cobra_output(items: list[CompletionItem], directive: int) -> str:
    """Cobra's __complete format: `value[<TAB>description]` per line, then `:<directive>`; file
    and dir items only ask the shell to complete paths."""
    return cobra_text([(item.value, item.help) for item in items if item.type == "plain"], directive)


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

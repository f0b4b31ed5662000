"""The console script's entry point: `version` and `--help` without importing click.

The console script's entry point: `version` and the top-level `--help` answered before click,
the command tree and the kubernetes package are imported, so that asking the plugin what it is
costs what `kubectl version --client` costs. Everything else goes to cli.main.

HELP is click's own top-level help at the usual width (tests/unit/test_cli.py checks that it still
is); on a terminal narrower than 80 columns, click renders it.
"""

import os
import sys

from kubectl_harness_rollback import version_line

COMPLETE_VAR = "_KUBECTL_HARNESS_ROLLBACK_COMPLETE"  # completion.COMPLETE_VAR, without importing click
HELP = """\
Usage: kubectl harness-rollback [OPTIONS] COMMAND [ARGS]...

  Roll a Harness-style release back to the last version that worked.

  Reads Harness release records, labels, annotations and the revisions
  Kubernetes keeps, from the cluster alone; decides the release to roll back to;
  restores it.

  Examples:
    kubectl harness-rollback version
    kubectl harness-rollback --context prod -n shop version

Options:
  --version   Print the plugin's version (as the version command) and exit.
  -h, --help  Show this message and exit.

Global options:
  --kubeconfig PATH             Path to the kubeconfig file (else KUBECONFIG,
                                else ~/.kube/config).
  --context NAME                The kubeconfig context to use.
  --cluster NAME                The kubeconfig cluster to use.
  --user NAME                   The kubeconfig user to use.
  -n, --namespace NS            The namespace (else the context's, else
                                default).
  -s, --server URL              The address of the API server.
  --token TOKEN                 Bearer token for the API server.
  --certificate-authority PATH  A CA certificate file.
  --insecure-skip-tls-verify    Do not verify the server's certificate.
  --as USER                     Username to impersonate.
  --as-group GROUP              Group to impersonate (repeatable).
  -v, --v N                     Log level, as kubectl's: 6 and above log each
                                request (method, path, status, milliseconds) on
                                stderr.
  --request-timeout DURATION    Timeout of one API request, e.g. 1m (default
                                30s; 0: none).

Commands:
  completion  Print the shell completion script for bash, zsh or fish.
  diff        Compare releases A and B of TARGET: a unified diff.
  history     Show the releases of TARGET, newest first.
  list        List the release names found in the cluster.
  plan        Show what a rollback of TARGET would do, and why; change...
  rbac        Print the least Role a pipeline needs to record and roll back...
  record      Record a deploy step as a Harness release, for pipelines that...
  rollback    Roll TARGET back to the last release that worked, wait, and...
  status      Show whether TARGET is steady, which release each workload...
  version     Print the plugin's version (never contacts the cluster).
"""




def _columns() -> int:
    """The terminal's width as click measures it (shutil.get_terminal_size, without importing shutil)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 80


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    if COMPLETE_VAR not in os.environ:
        if args in (["version"], ["--version"]):
            sys.stdout.write(version_line() + "\n")
            return
        if args in (["--help"], ["-h"]) and _columns() >= 80:
            sys.stdout.write(HELP)
            return
    from kubectl_harness_rollback.cli.app import main as full

    full(argv)

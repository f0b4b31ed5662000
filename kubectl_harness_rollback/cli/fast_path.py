"""The console scripts' entry points: `version`, the top-level help, and the reads and their completion without importing click.

The console script's entry point: `version` and the top-level help (`--help`, `help`, or the
bare command, which prints it and exits 0 as a bare `kubectl` does) answered before click, the
command tree and the kubernetes package are imported, so that asking the plugin what it is
costs what `kubectl version --client` costs. A read (list, history, plan, status) or a rollback
whose line cli/read_flags.py fully understands runs its body (cli/reads.py) without click, and so does
completion of its TARGET or -n, through kubectl or click's bash script (cli/short_completion.py). Everything else goes to
cli/app.py, click's route.

HELP is click's own top-level help at the usual width (tests/unit/test_cli.py checks that it still
is); on a terminal narrower than 80 columns, click renders it.
"""

import os
import sys

from kubectl_harness_rollback import version_line
from kubectl_harness_rollback.stand_ins import import_dataclasses  # without inspect: see stand_ins.py

COMPLETE_VAR = "_KUBECTL_HARNESS_ROLLBACK_COMPLETE"  # completion.COMPLETE_VAR, without importing click
HELP = """\
Usage: kubectl harness-rollback [OPTIONS] COMMAND [ARGS]...

  Roll a Harness-style release back to the last version that worked.

  Reads Harness release records, labels, annotations and the revisions
  Kubernetes keeps, from the cluster alone; decides the release to roll back to;
  restores it.

  On call, a release is failing:
    # 1. Is it steady? Which release does each workload run, and why not?
    kubectl harness-rollback status release-infra-prod -n shop
    # 2. What would a rollback do, and why? (changes nothing)
    kubectl harness-rollback plan release-infra-prod -n shop
    # 3. Roll back, wait until steady, and record it as Harness does
    kubectl harness-rollback rollback release-infra-prod -n shop
    # 4. Steady again? Who rolled back, and when
    kubectl harness-rollback status release-infra-prod -n shop

  Examples:
    # Every release name in every namespace
    kubectl harness-rollback list -A
    # The releases of a workload's release, newest first
    kubectl harness-rollback history deployment/web -n shop
    # What a rollback would send, without sending it
    kubectl harness-rollback rollback release-infra-prod -n shop --dry-run=client
    # The same release in several clusters at once
    kubectl harness-rollback status release-infra-prod -n shop --contexts 'prod-*'

Options:
  --version   Print the plugin's version (as the version command) and exit.
  -h, --help  Show this message and exit.

Commands:
  completion  Print the shell completion script for bash, zsh or fish.
  diff        Compare releases A and B of TARGET: a unified diff.
  help        Print the help of COMMAND, or of the plugin.
  history     Show the releases of TARGET, newest first.
  list        List the release names found in the cluster.
  options     Print the global command-line options, which every command
              accepts.
  plan        Show what a rollback of TARGET would do, and why; change nothing.
  rbac        Print the least Role a pipeline needs to record and roll back in a
              namespace.
  record      Record a deploy step as a Harness release, for pipelines that are
              not Harness.
  rollback    Roll TARGET back to the last release that worked, wait, and record
              it.
  status      Show whether TARGET is steady, which release each workload runs
              and since when.
  version     Print the plugin's version (never contacts the cluster).

Use "kubectl harness-rollback <command> --help" for more information about a given command.
Use "kubectl harness-rollback options" for a list of global command-line options (applies to all commands).
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
    if os.environ.get(COMPLETE_VAR) == "bash_complete":  # click's bash script, at a TAB
        import_dataclasses()
        from kubectl_harness_rollback.cli import short_completion

        answer = short_completion.bash_answer(os.environ)
        if answer is not None:
            sys.stdout.write(answer)
            sys.stdout.flush()
            _left_to_exit(argv)
            sys.exit(0)
    if COMPLETE_VAR not in os.environ:
        if args in (["version"], ["--version"]):
            sys.stdout.write(version_line() + "\n")
            return
        if args in ([], ["--help"], ["-h"], ["help"]) and _columns() >= 80:
            sys.stdout.write(HELP)
            return
        import_dataclasses()
        from kubectl_harness_rollback.cli import exits, read_flags

        line = read_flags.parse(exits.kubectl_verbosity(args))
        if line is not None:
            exits.main(argv, lambda _argv, said: exits.guarded(lambda: _read(line), said))
            return
    from kubectl_harness_rollback.cli.app import main as full

    full(argv)


def _read(line) -> int:
    """Run a command the short route parsed; its exit code. Errors end as click's route ends them:
    a usage error names the command's --help, Ctrl-C gets click's blank line first."""
    import errno

    from kubectl_harness_rollback.cli import exits, reads
    from kubectl_harness_rollback.cli.plain_echo import echo
    from kubectl_harness_rollback.errors import UsageError

    body = {"list": reads.list_releases, "history": reads.history, "plan": reads.plan, "status": reads.status,
            "rollback": reads.rollback}
    try:
        body[line.command](line.connection, echo, **line.params)
        return 0
    except UsageError as exc:
        usage = exc
    except (EOFError, KeyboardInterrupt) as exc:
        exits.write_err("\n")  # click: the blank line closes the terminal's ^C
        if isinstance(exc, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        exits.write_err("aborted\n")
        return 1
    except OSError as exc:  # click's main: a closed pipe ends the run with 1, quietly
        if exc.errno != errno.EPIPE:
            raise
        from click.utils import _PacifyFlushWrapper

        sys.stdout, sys.stderr = _PacifyFlushWrapper(sys.stdout), _PacifyFlushWrapper(sys.stderr)
        sys.exit(1)
    exits.say_error(f"{exits.usage_message(str(usage))} (see 'kubectl harness-rollback {line.command} --help')")
    return UsageError.exit_code


def kubectl_complete_main(argv: list[str] | None = None) -> None:
    """Entry point `kubectl_complete-harness_rollback`, run by kubectl's plugin completion: a
    read's TARGET or an -n value answered without click (cli/short_completion.py), the rest by
    click's route (cli/app.py)."""
    import_dataclasses()
    from kubectl_harness_rollback.cli import short_completion

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["__complete"]:
        args = args[1:]
    words, incomplete = (args[:-1], args[-1]) if args else ([], "")
    answer = short_completion.kubectl_answer(words, incomplete)
    if answer is None:
        from kubectl_harness_rollback.cli.app import kubectl_complete_main as full

        full(argv)
        return
    sys.stdout.write(answer)
    sys.stdout.flush()
    _left_to_exit(argv)


def _left_to_exit(argv: list[str] | None) -> None:
    """A TAB answered, the console script ends as a command does (exits.finish: about 10 ms of a
    first TAB, which the shell waits for). A caller in the same process (argv given) goes on."""
    if argv is None:
        from kubectl_harness_rollback.cli import exits

        exits.finish(0)

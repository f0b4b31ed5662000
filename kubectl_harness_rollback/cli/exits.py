"""The process around a command: warnings and library logs kept off stderr, signals as Ctrl-C, errors as one line and an exit code.

Shared by click's route (cli/app.py) and the reads' short route (cli/fast_path.py), and free of
click, so that both end a run the same way: the same `error: ...` line, the same exit code.
"""

from __future__ import annotations

import os
import sys
from typing import Callable

from kubectl_harness_rollback.errors import PluginError


def main(argv: list[str] | None, run: Callable[[list[str], Callable[[str], str]], int]) -> None:
    """Run `run(argv, said)` and exit with its code; every error becomes one line on stderr."""
    import warnings

    from kubectl_harness_rollback.cli.interrupts import as_interrupts

    console = argv is None
    argv = kubectl_verbosity(sys.argv[1:] if argv is None else list(argv))
    # No Python warning or library log line reaches stderr (urllib3's, the kubernetes client's):
    # what the user must know is said by the plugin, in one line.
    quiet_library_logs()
    with warnings.catch_warnings(), as_interrupts() as received:
        warnings.simplefilter("ignore")
        try:
            code = run(argv, received.said)
        except KeyboardInterrupt:  # a second one, while the first was being reported
            code = 130
    if console:  # a caller in the same process (argv given) keeps its collector and goes on
        finish(received.exit_code(code))
    sys.exit(received.exit_code(code))


def quiet_library_logs() -> None:
    """A NullHandler on the root logger, so that no library's log line reaches stderr (logging
    prints a warning of a logger without handlers, and logging.error() installs a handler that
    prints). logging itself (with traceback, linecache and tokenize: about 6 ms) is imported only
    by a library that logs (urllib3, the kubernetes client, concurrent.futures): the handler is
    added as soon as it is, by a finder first in sys.meta_path."""
    if "logging" in sys.modules:
        _quiet(sys.modules["logging"])
    elif _QuietLogging not in sys.meta_path:
        sys.meta_path.insert(0, _QuietLogging)


def _quiet(logging) -> None:
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())


class _QuietLogging:
    """Finds `logging` as the standard path finder does, with a loader that quiets it once run."""

    @staticmethod
    def find_spec(name: str, path=None, target=None):
        if name != "logging":
            return None
        sys.meta_path.remove(_QuietLogging)
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenQuiet(spec.loader)
        return spec


class _ThenQuiet:
    """A loader that runs another, then quiets the module it made (logging)."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        _quiet(module)

    def __getattr__(self, name: str):  # get_source for tracebacks, is_package...
        return getattr(self.loader, name)


def finish(code: int) -> None:
    """The console script's last step, its output written (a command's, or a TAB's answer): its
    objects frozen, then leave(code). The interpreter's last garbage collection walks every
    object the run made (the kubernetes package, click, the release read): 30-100 ms after the
    last line is printed, for memory the process hands back anyway; frozen objects are left out
    of it, also when leave() returns and the interpreter's own exit runs."""
    import gc

    gc.freeze()
    leave(code)


def leave(code: int) -> None:
    """End the console script's process now, with `code`, as the interpreter would end it after
    the last line: stdout and stderr flushed, the atexit handlers run (the kubernetes client
    removes its temporary certificate files there, logging flushes its handlers). What is skipped
    is the teardown of every module and object of the run, 4-5 ms after the last line (a read
    takes about 100 ms). Returns, for the interpreter's own exit, while a thread that is not a
    daemon still runs (the interpreter waits for it), under a profiler or tracer (`python -m
    cProfile` writes its figures once the script returns; coverage, a debugger) and when the
    output cannot be flushed (the interpreter reports that itself)."""
    import threading

    main_thread = threading.main_thread()
    if any(not thread.daemon for thread in threading.enumerate() if thread is not main_thread):
        return
    import atexit

    run_exit_functions = getattr(atexit, "_run_exitfuncs", None)  # CPython's and PyPy's
    if run_exit_functions is None or sys.getprofile() is not None or sys.gettrace() is not None:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    run_exit_functions()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)


def guarded(call: Callable[[], int], said: Callable[[str], str]) -> int:
    """`call()`'s exit code; the plugin's errors, an interrupt and any other exception become
    one line on stderr and the README's exit code."""
    try:
        return call()
    except PluginError as exc:
        say_error(exc, said)
        return exc.exit_code
    except KeyboardInterrupt:
        write_err(said("interrupted") + "\n")
        return 130
    except Exception as exc:
        from kubectl_harness_rollback.cluster.apierrors import translate

        error = translate(exc)
        say_error(error, said)
        return error.exit_code


def write_err(text: str) -> None:
    """`text` on stderr, as click.echo(text, err=True, nl=False) writes it (no ANSI code is ever
    in these lines: display.shown escapes them)."""
    from kubectl_harness_rollback.cli.plain_echo import echo

    echo(text, nl=False, err=True)


def say_error(text, said=lambda text: text) -> None:
    """`error: ...` on stderr, on one line: look-alike and control characters escaped (display.shown),
    a newline included."""
    from kubectl_harness_rollback.display import shown

    write_err(f"error: {shown(said(str(text)))}\n")


def kubectl_verbosity(argv: list[str]) -> list[str]:
    """kubectl spells the log level `-v=6` too (pflag); click reads `-v 6` and `--v=6`."""
    return [f"--v={arg[3:]}" if arg.startswith("-v=") else arg for arg in argv]


def usage_message(text: str) -> str:
    """One line, in kubectl's lower case, without a closing period: "missing argument 'TARGET'"."""
    line = " ".join(text.split())
    if len(line) > 1 and line[0].isupper() and line[1].islower():
        line = line[0].lower() + line[1:]
    return line[:-1] if line.endswith(".") else line

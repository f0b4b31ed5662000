"""The plugin run inside the test process, through the console script's own entry point.

A new interpreter per call costs about half a second (Python, click, the kubernetes client), and
tells the test nothing that the call in-process does not: the same entry point
(`cli.fast_path.main`), the environment given, stdout and stderr captured as text, the exit code
as the process would have it. The console script itself (its entry point, signals, krew,
completion) is tested as a real process by the tests that need one (test_bounds_and_usage,
test_signals, test_interrupted, test_krew, test_completion).
"""

from __future__ import annotations

import io
import os
import subprocess
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import Iterator, Mapping

from kubectl_harness_rollback.cli import fast_path

CONSOLE_SCRIPT = "kubectl-harness_rollback"


@contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """os.environ is `env` within the block (the plugin reads KUBECONFIG, HOME, NO_COLOR there)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_plugin(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess:
    """Run `kubectl-harness_rollback ARGS` in this process; what a subprocess.run would return."""
    out, err = io.StringIO(), io.StringIO()
    # A pipe has no terminal size: a process whose stdout is captured renders for 80 columns
    # unless COLUMNS says otherwise, and so does this run (pytest's own stdout may be a terminal).
    env = {"COLUMNS": "80", **env}
    code: int | str | None = 0
    with environment(env), redirect_stdout(out), redirect_stderr(err):
        try:
            fast_path.main(list(args))
        except SystemExit as exited:
            code = exited.code
    if isinstance(code, str):  # as the interpreter reports sys.exit("message")
        err.write(code + "\n")
        code = 1
    return subprocess.CompletedProcess([CONSOLE_SCRIPT, *args], code or 0, out.getvalue(), err.getvalue())

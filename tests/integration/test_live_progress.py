"""Live on a terminal, plain on a pipe: a slow rollback and `status --watch` under a pseudo-terminal.

The console script runs as a process whose stdout and stderr are a pseudo-terminal (the pty
module); what it writes is fed to tests/support/terminal.py, which keeps what a person would see
at the end. The same commands on a pipe, and under TERM=dumb, print the plain lines.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shutil
import struct
import subprocess
import termios
import time

from tests.integration.test_failure_stages import slow_release_then_failed_one
from tests.support.harness import Identity
from tests.support.pod_behavior import READY_AFTER_DELAY, BehaviorDeployer
from tests.support.terminal import Terminal

RELEASE = "release-infra-prod"
CURSOR_UP = re.compile(r"\x1b\[\d+A")


def _console_script() -> str:
    executable = shutil.which("kubectl-harness_rollback")
    assert executable, "the console script kubectl-harness_rollback is not installed (pip install -e .)"
    return executable


def under_a_terminal(env: dict, *args: str, columns: int = 200, timeout: float = 120) -> tuple[int, str]:
    """(exit code, every byte written) of the console script with a pseudo-terminal for its
    stdin, stdout and stderr, `columns` wide."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    process = subprocess.Popen([_console_script(), *args], stdin=slave, stdout=slave, stderr=slave,
                               env=env, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the process and its children closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = process.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    return code, b"".join(chunks).decode()


def test_a_slow_rollback_on_a_terminal_redraws_a_line_per_workload(apps, core, namespace, test_cluster, plugin):
    slow_release_then_failed_one(apps, core, namespace)
    env = {**test_cluster.env(), "TERM": "xterm-256color"}
    code, written = under_a_terminal(env, "rollback", RELEASE, "-n", namespace, "--timeout", "2m")
    screen = Terminal().feed(written).screen()
    assert code == 0, written
    assert CURSOR_UP.search(written), "nothing was redrawn"
    assert "rolling out" in written and "elapsed" in written and "left" in written
    # While the restored pods start (Ready 5s after), their reason is shown; gone once rolled out.
    assert "1× Running, not ready" in written, written
    # What stays on the screen: the final state, once; not kubectl's lines, one per change.
    assert "Waiting for deployment" not in screen, screen
    [line] = [line for line in screen.splitlines() if line.startswith("deployment/web ") and " ready " in line]
    assert re.fullmatch(r"deployment/web\s+2/2 ready\s+rolled out\s+took \d+s", line), line
    assert screen.rstrip().endswith("Rollback complete: every workload is steady."), screen

    # The timeline: release 1 live and rolled back to, release 2 rolled back from.
    timeline = plugin("history", RELEASE, "-n", namespace, "--timeline", check_exit=0).stdout.splitlines()
    assert timeline[0].split() == ["RELEASE", "STATUS", "AGE", "CHANGE"], timeline
    assert timeline[1].split()[:2] == ["2", "Failed"] and "rolled back from, by " in timeline[1], timeline
    assert timeline[2].split()[:3] == ["*", "1", "Succeeded"] and "live: rolled back to, by " in timeline[2]


def test_a_slow_rollback_on_a_pipe_prints_the_plain_lines(apps, core, namespace, test_cluster):
    slow_release_then_failed_one(apps, core, namespace)
    done = subprocess.run([_console_script(), "rollback", RELEASE, "-n", namespace, "--timeout", "2m"],
                          capture_output=True, text=True, timeout=120,
                          env={**test_cluster.env(), "TERM": "xterm-256color"})
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout + done.stderr
    assert 'Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...' \
        in done.stderr
    assert 'deployment "web" successfully rolled out' in done.stderr
    assert "elapsed" not in done.stderr


def test_status_watch_on_a_terminal_redraws_its_block_and_dumb_terminals_get_lines(
        apps, core, namespace, test_cluster):
    deployer = BehaviorDeployer(apps, core, namespace, ready_after=5)
    deployer.deploy_version("1")
    deployer.apply(deployer.body("2", READY_AFTER_DELAY, Identity(), 2))
    env = {**test_cluster.env(), "TERM": "xterm-256color"}
    code, written = under_a_terminal(env, "status", RELEASE, "-n", namespace, "--watch", "--timeout", "90s")
    screen = Terminal().feed(written).screen()
    assert code == 0, written
    assert CURSOR_UP.search(written) and "Watching:  " in written, written
    assert screen.count("Release:   ") == 1, screen  # one block, redrawn, not one per change
    assert "Watching:" not in screen, screen
    assert screen.rstrip().splitlines()[-1].split()[5] == "yes", screen  # the STEADY column, last

    # TERM=dumb (Emacs' shell, some CI logs): every block in turn, as on a pipe.
    deployer.apply(deployer.body("3", READY_AFTER_DELAY, Identity(), 3))
    code, written = under_a_terminal({**env, "TERM": "dumb"}, "status", RELEASE, "-n", namespace, "--watch",
                                     "--timeout", "90s")
    assert code == 0, written
    assert "\x1b" not in written and "Watching:" not in written
    assert written.count("Release:   ") >= 2, written

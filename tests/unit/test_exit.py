"""The console script leaves without the interpreter's last garbage collection (it walked every
object of the run, 30-100 ms, for memory the process hands back anyway) nor its teardown of every
module (4-5 ms); a caller in the same process (the tests, another program) keeps its collector as
it was and goes on. No library's log line reaches stderr, though logging is imported only by a
library that logs."""

import gc
import subprocess
import sys

import pytest

from kubectl_harness_rollback.cli import app, exits
from tests.unit.test_startup_imports import KUBECONFIG  # a token for a server that is not there


@pytest.fixture
def frozen(monkeypatch):
    calls = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(exits, "leave", lambda code: calls.append(f"leave {code}"))  # not this test process
    return calls


def test_the_console_script_freezes_what_it_made_before_it_exits(frozen, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["kubectl-harness_rollback", "version"])
    with pytest.raises(SystemExit) as exited:
        app.main()
    assert exited.value.code == 0 and frozen == ["freeze", "leave 0"]
    assert capsys.readouterr().out.startswith("kubectl-harness_rollback")


def test_a_caller_in_the_same_process_keeps_its_collector(frozen, capsys):
    with pytest.raises(SystemExit):
        app.main(["version"])
    assert frozen == []


# -- the console script's last step: leave() ------------------------------------------------------

PROBE = """
import atexit, os, sys, threading, time
marks = sys.argv.pop(1)

shutdown = threading._shutdown

def finalizing(open=open, path=os.path.join(marks, "finalized")):  # the interpreter's own exit calls it first
    open(path, "w").close()
    shutdown()

threading._shutdown = finalizing
atexit.register(lambda: open(os.path.join(marks, "atexit"), "w").close())
if sys.argv[1] == "--with-a-thread":
    del sys.argv[1]
    def late():
        time.sleep(0.3)
        open(os.path.join(marks, "thread"), "w").close()
    threading.Thread(target=late).start()
sys.argv = ["kubectl-harness_rollback"] + sys.argv[1:]
from kubectl_harness_rollback.cli.fast_path import main
main()
"""



def _console(tmp_path, *argv: str):
    import subprocess
    import sys

    marks = tmp_path / "marks"
    marks.mkdir()
    (tmp_path / "config").write_text(KUBECONFIG)
    env = {"KUBECONFIG": str(tmp_path / "config"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", PROBE, str(marks), *argv], capture_output=True, text=True, env=env,
                          timeout=60)
    return done, {path.name for path in marks.iterdir()}


def test_the_console_script_leaves_after_its_atexit_handlers_without_the_interpreters_finalization(tmp_path):
    done, marks = _console(tmp_path, "history", "release-x", "--request-timeout", "2s")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1  # the whole line, flushed
    assert marks == {"atexit"}


def test_the_console_script_waits_for_a_thread_that_is_not_a_daemon(tmp_path):
    done, marks = _console(tmp_path, "--with-a-thread", "history", "release-x", "--request-timeout", "2s")
    assert done.returncode == 1
    assert marks == {"finalized", "thread", "atexit"}  # the interpreter's own exit: it joined the thread


def test_a_caller_in_the_same_process_is_not_ended(capsys):
    with pytest.raises(SystemExit) as exited:
        app.main(["history", "release-x", "--server", "https://127.0.0.1:1", "--request-timeout", "1s"])
    assert exited.value.code == 1


def test_a_profiled_run_still_writes_its_profile(tmp_path):
    import subprocess
    import sys

    (tmp_path / "config").write_text(KUBECONFIG)
    env = {"KUBECONFIG": str(tmp_path / "config"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    profile = tmp_path / "run.prof"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "kubectl_harness_rollback",
                           "history", "release-x", "--request-timeout", "2s"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.stderr.startswith("error: ") and profile.stat().st_size > 0  # cProfile exits 0 itself


@pytest.mark.parametrize("argv, env", [
    (["kubectl_complete-harness_rollback", "plan", "d"], {}),  # kubectl's plugin completion
    (["kubectl-harness_rollback"], {"_KUBECTL_HARNESS_ROLLBACK_COMPLETE": "bash_complete",  # click's bash script
                                    "COMP_WORDS": "kubectl-harness_rollback plan d", "COMP_CWORD": "2"}),
], ids=["kubectl", "bash"])
def test_a_tab_answered_without_click_leaves_as_a_command_does(frozen, monkeypatch, capsys, tmp_path, argv, env):
    from kubectl_harness_rollback.cli import fast_path

    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))  # no cluster: the kinds alone
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.argv", argv)
    try:
        (fast_path.kubectl_complete_main if argv[0].startswith("kubectl_complete") else fast_path.main)()
    except SystemExit as exited:
        assert exited.code == 0
    assert "deployment/" in capsys.readouterr().out and frozen == ["freeze", "leave 0"]
    fast_path.kubectl_complete_main(["plan", "d"])  # argv given: a caller in the same process
    assert frozen == ["freeze", "leave 0"]


QUIET = """
import sys
{before}
from kubectl_harness_rollback.cli import exits
exits.quiet_library_logs()
print("logging" in sys.modules)
import logging
logging.getLogger("urllib3.connectionpool").warning("a library's warning")
logging.error("a library's error")
print(bool(logging.__loader__.get_source("logging")), logging.__spec__.loader.is_package("logging"))
"""


@pytest.mark.parametrize("before", ["", "import logging"], ids=["imported later", "imported before"])
def test_no_library_log_line_reaches_stderr_whenever_logging_is_imported(before):
    done = subprocess.run([sys.executable, "-c", QUIET.format(before=before)], capture_output=True, text=True,
                          timeout=60)
    assert done.stderr == ""
    assert done.stdout == f"{bool(before)}\nTrue True\n"  # logging itself untouched (its source, its package)

"""The console script leaves without the interpreter's last garbage collection (it walked every
object of the run, 30-100 ms, for memory the process hands back anyway); a caller in the same
process (the tests, another program) keeps its collector as it was."""

import gc

import pytest

from kubectl_harness_rollback.cli import app


@pytest.fixture
def frozen(monkeypatch):
    calls = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    return calls


def test_the_console_script_freezes_what_it_made_before_it_exits(frozen, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["kubectl-harness_rollback", "version"])
    with pytest.raises(SystemExit) as exited:
        app.main()
    assert exited.value.code == 0 and frozen == ["freeze"]
    assert capsys.readouterr().out.startswith("kubectl-harness_rollback")


def test_a_caller_in_the_same_process_keeps_its_collector(frozen, capsys):
    with pytest.raises(SystemExit):
        app.main(["version"])
    assert frozen == []

"""Fleet writes ask first: which contexts of a rollback across contexts need confirmation (pure),
and the y/N question on a terminal, answered through a pseudo-terminal in-process (pty), over the
fixed per-context results of the golden tests. Off a terminal: tests/unit/golden/rollback.txt."""

import os
import pty
import sys

import pytest

from kubectl_harness_rollback import commands
from kubectl_harness_rollback.cli.app import main
from kubectl_harness_rollback.errors import ClusterUnreachable, NotConfirmed, UsageError
from kubectl_harness_rollback.fleet import consent
from kubectl_harness_rollback.fleet.run import ContextRun
from tests.unit.test_golden_output import FLEET_ONE_AT_A_TIME, fake_cluster  # noqa: F401 (a fixture)


def _planned(status, changes=True, eligible=True, target=2):
    view = {"current": None if status is None else {"number": 3, "status": status},
            "target": None if target is None else {"number": target, "status": "Succeeded"},
            "changes": changes, "eligible": eligible}
    return commands.Planned(model=None, plan=None, view=view)


# (the context's plan, or an error; does rolling it back need confirmation?)
DECISIONS = {
    "a failed release rolled back: the repair, no question": (_planned("Failed"), False),
    "a succeeded release rolled back (--to-release, --from-release)": (_planned("Succeeded"), True),
    "a succeeded release, nothing to change": (_planned("Succeeded", changes=False), False),
    "a succeeded release, nothing to roll back to": (_planned("Succeeded", False, False, None), False),
    "an in-progress release (a dead deploy) rolled back": (_planned("InProgress"), False),
    "no status recorded (kubectl's previous revision)": (_planned(None), False),
    "a context whose plan failed writes nothing": (ClusterUnreachable("down"), False),
}


@pytest.mark.parametrize("planned, asks", DECISIONS.values(), ids=DECISIONS.keys())
def test_which_contexts_need_confirmation(planned, asks):
    run = (ContextRun("prod-eu", error=planned, exit_code=1) if isinstance(planned, Exception)
           else ContextRun("prod-eu", planned))
    assert consent.needing_confirmation([run]) == (["prod-eu"] if asks else [])


PLANS = [ContextRun("prod-ap", _planned("Succeeded")), ContextRun("prod-eu", _planned("Failed")),
         ContextRun("prod-us", _planned("Succeeded"))]
READY = ["prod-ap", "prod-eu", "prod-us"]


def _never(question):
    pytest.fail("asked")


def test_yes_or_nothing_to_confirm_asks_nothing():
    consent.confirm(consent.Consent(yes=True, interactive=False, ask=_never), PLANS, READY)
    consent.confirm(consent.Consent(interactive=True, ask=_never), PLANS[1:2], READY[1:2])
    # Only the contexts that will run count: a succeeded one whose plan is not carried out is not asked about.
    consent.confirm(consent.Consent(interactive=True, ask=_never), PLANS, ["prod-eu"])


def test_off_a_terminal_without_yes_is_a_usage_error_naming_the_contexts():
    with pytest.raises(UsageError) as refused:
        consent.confirm(consent.Consent(), PLANS, READY)
    assert str(refused.value) == (
        "the latest release succeeded in 2 contexts and would be rolled back there (prod-ap: 3 → 2, prod-us: 3 → 2): "
        "confirm with --yes (stdin is not a terminal to ask on); nothing was written")


def test_on_a_terminal_the_combined_question_is_asked_once_and_no_stops_everything():
    asked, shown = [], []
    with pytest.raises(NotConfirmed, match="^not confirmed: nothing was written in any context$"):
        consent.confirm(consent.Consent(interactive=True, ask=lambda q: asked.append(q) or False), PLANS, READY,
                        lambda: shown.append("plan"))
    assert asked == ["The latest release succeeded in 2 contexts and would be rolled back there "
                     "(prod-ap: 3 → 2, prod-us: 3 → 2). Roll back in 3 contexts?"]
    assert shown == ["plan"]
    consent.confirm(consent.Consent(interactive=True, ask=lambda q: True), PLANS, READY)


# ---- the question on a pseudo-terminal --------------------------------------------------------------

TO_RELEASE_2 = ["rollback", "r", "--to-release", "2"] + FLEET_ONE_AT_A_TIME
QUESTION = ("The latest release succeeded in 1 context and would be rolled back there (ctx-b: 3 → 2). "
            "Roll back in 2 contexts? [y/N]: ")  # ctx-c is rolled back already


@pytest.fixture
def terminal(monkeypatch):
    """stdin on a pseudo-terminal; `answer(bytes)` types on it."""
    master, slave = pty.openpty()
    stdin = os.fdopen(slave, "r")
    monkeypatch.setattr(sys, "stdin", stdin)
    yield lambda typed: os.write(master, typed)
    stdin.close()
    os.close(master)


@pytest.fixture
def rollbacks(fake_cluster, monkeypatch):  # noqa: F811 (the imported fixture)
    """The contexts that were rolled back (the fake run_rollback's calls)."""
    done, fake = [], commands.run_rollback

    def run_rollback(kube, *args, **kwargs):
        done.append(kube.context)
        return fake(kube, *args, **kwargs)
    monkeypatch.setattr(commands, "run_rollback", run_rollback)
    return done


def _run(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    return exited.value.code, out, err


def test_answer_no_on_a_terminal_writes_in_no_context(terminal, rollbacks, capsys):
    terminal(b"n\n")
    code, out, err = _run(TO_RELEASE_2, capsys)
    assert (code, rollbacks) == (1, [])
    assert out.splitlines()[2].split()[:7] == ["ctx-b", "shop", "release-infra-prod", "3", "(Succeeded)", "2",
                                               "(Succeeded)"]  # the combined plan came first
    assert err == QUESTION + "error: not confirmed: nothing was written in any context\n"


@pytest.mark.parametrize("typed", [b"\x04", b"\n", b"no\n"], ids=["Ctrl-D", "Enter", "no"])
def test_end_of_input_and_the_default_are_no(terminal, rollbacks, capsys, typed):
    terminal(typed)
    code, _, err = _run(TO_RELEASE_2, capsys)
    assert (code, rollbacks) == (1, [])
    assert err.endswith("error: not confirmed: nothing was written in any context\n")


def test_another_answer_is_asked_again(terminal, rollbacks, capsys):
    terminal(b"maybe\nyes\n")
    code, _, err = _run(TO_RELEASE_2, capsys)
    assert err.startswith(QUESTION + "Error: invalid input\n" + QUESTION)
    assert rollbacks == ["ctx-a", "ctx-b", "ctx-c"]


def test_answer_yes_rolls_back_every_context_that_was_planned(terminal, rollbacks, capsys):
    terminal(b"y\n")
    code, out, err = _run(TO_RELEASE_2, capsys)
    assert rollbacks == ["ctx-a", "ctx-b", "ctx-c"]
    assert err.startswith(QUESTION)
    assert code == 1  # ctx-down cannot be reached, and the fake ctx-b loses a race (exit 5)


def test_json_on_a_terminal_shows_the_plan_on_stderr_before_asking(terminal, rollbacks, capsys):
    terminal(b"n\n")
    code, out, err = _run(TO_RELEASE_2 + ["-o", "json"], capsys)
    assert (code, out, rollbacks) == (1, "", [])
    assert err.startswith("CONTEXT    NAMESPACE   RELEASE")
    assert QUESTION in err


def test_failed_releases_across_contexts_are_rolled_back_without_a_question(terminal, rollbacks, capsys):
    code, _, err = _run(["rollback", "r"] + FLEET_ONE_AT_A_TIME, capsys)
    assert "[y/N]" not in err
    assert rollbacks == ["ctx-a", "ctx-c"]  # ctx-b has nothing to roll back to

"""commands.py without click, and how cli/app.py renders what it returns: after the first write, the
outcome so far is printed in the requested format before the error (exit 4 on a timeout)."""

import json
from types import SimpleNamespace

import pytest

from kubectl_harness_rollback import commands, executor, outcome
from kubectl_harness_rollback.cli import app as cli
from kubectl_harness_rollback.cli import reads
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.errors import NotSteady, PluginError, UsageError
from kubectl_harness_rollback.model import WorkloadRef
from kubectl_harness_rollback.planner import PlanOptions

WEB = WorkloadRef("Deployment", "web", "shop")
VIEW = {"release": "r", "namespace": "shop", "mode": "rolling", "match": "workflow", "current": None,
        "target": None, "eligible": True, "changes": True, "reason": "because", "workloads": [], "notes": []}


def planned() -> commands.Planned:
    return commands.Planned(model=None, plan=SimpleNamespace(eligible=True, has_changes=True, reason="because"),
                            view=VIEW)


def timed_out(*args, **kwargs):
    done = outcome.Outcome(written=[outcome.restored(WEB, 2, ["web:2"])],
                           recorded=[outcome.event("Deployment", "web")])
    error = NotSteady("deployment/web not steady within the timeout; the rollback was written")
    error.outcome = done
    raise error


@pytest.fixture
def rollback_times_out(monkeypatch):
    monkeypatch.setattr(reads, "cluster", lambda connection: SimpleNamespace(namespace="shop"))
    monkeypatch.setattr(commands, "run_plan", lambda kube, target, options, deadline=None: planned())
    monkeypatch.setattr(executor, "carry_out", timed_out)


def test_run_rollback_returns_the_outcome_so_far_with_the_error(rollback_times_out):
    result = commands.run_rollback(None, planned(), executor.RollbackOptions(), lambda line: None)
    assert isinstance(result.error, NotSteady)
    assert result.view["written"] == [{"action": "restored", "kind": "Deployment", "name": "web", "revision": 2,
                                       "images": ["web:2"]}]


def test_an_error_before_any_write_is_raised(monkeypatch):
    def refused(*args, **kwargs):
        raise PluginError("deployment/web is paused")

    monkeypatch.setattr(executor, "carry_out", refused)
    with pytest.raises(PluginError, match="paused"):
        commands.run_rollback(None, planned(), executor.RollbackOptions(DryRun.NONE), lambda line: None)


@pytest.mark.parametrize("output", ["json", "yaml", "table"])
def test_a_timeout_still_prints_the_outcome_in_the_requested_format(rollback_times_out, capsys, output):
    with pytest.raises(SystemExit) as exited:
        cli.main(["rollback", "r", "-o", output])
    out, err = capsys.readouterr()
    assert exited.value.code == 4
    assert err == "error: deployment/web not steady within the timeout; the rollback was written\n"
    if output == "json":
        printed = json.loads(out)
        assert printed["plan"] == VIEW
        assert printed["outcome"]["written"][0]["action"] == "restored"
        assert printed["outcome"]["recorded"] == [
            {"action": "eventRecorded", "kind": "Deployment", "name": "web", "reason": "RolledBack"}]
    elif output == "table":
        assert out.endswith("\nRecorded: event on deployment/web: RolledBack\n")
    else:
        assert "action: eventRecorded" in out


def test_plan_options_are_validated_once_when_built():
    with pytest.raises(UsageError, match="cannot be used together"):
        PlanOptions(to_release=1, to_revision=2)
    with pytest.raises(UsageError):
        PlanOptions(mode="sideways")
    assert PlanOptions(match="infra", mode="blue-green").mode.value == "blue-green"

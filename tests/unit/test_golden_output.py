"""Golden output of every reading command and `rollback`, one cluster and many: fixed results in,
the exact stdout, stderr and exit code out (tests/unit/golden/<command>.txt; no color is ever written).

The command line runs in-process (cli.app.main) over a fake connection: the library calls that
read the cluster are replaced by fixed results per context, so what is checked is everything
between them and the terminal. `KHR_UPDATE_GOLDEN=1` rewrites the files (then read the diff).
"""

from __future__ import annotations

import os
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from kubectl_harness_rollback import commands, reader, status_watch
from kubectl_harness_rollback import status as release_status
from kubectl_harness_rollback.cli.app import main
from kubectl_harness_rollback.cluster import client
from kubectl_harness_rollback.errors import ClusterUnreachable, Conflict
from kubectl_harness_rollback.output import render

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 1, 2, 12, 0, 0, tzinfo=timezone.utc)
SINGLE = "<single>"  # the fake connection's context when no --contexts is given
DOWN = "ctx-down"  # a context whose API server cannot be reached
ROLLED_BACK = {"by": "alice", "at": "2026-01-02T11:55:00Z", "fromRelease": 3, "toRelease": 1}


class _Now(datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW


# ---- fixed results, per context -------------------------------------------------------------------

# A blue/green rollback: the primary Service swapped back (strategies/swap_record.py).
SWAPPED_BACK = {"service": "web", "by": "alice", "at": "2026-01-02T11:50:00Z", "fromRelease": 3, "toRelease": 2,
                "fromColor": "blue", "toColor": "green"}


def _list_rows(context: str) -> list[dict]:
    if context == "ctx-b":
        return []
    rows = [{"namespace": "shop", "release": "release-infra-prod", "latest": 3, "status": "Failed",
             "workloads": ["deployment/web", "statefulset/db"], "source": "configmap/release-infra-prod",
             "liveReleases": [2], "liveSince": "2026-01-02T11:55:00Z", "lastRollback": {**ROLLED_BACK, "toRelease": 2},
             "steady": True, "action": "rolled back"},
            {"namespace": "shop", "release": "release-pay", "latest": 7, "status": "Failed",
             "workloads": ["deployment/pay"], "source": "secret/harness.release.release-pay.v7",
             "liveReleases": [7], "liveSince": "2026-01-02T11:40:00Z", "lastRollback": None,
             "steady": False, "action": "needs rollback"},
            {"namespace": "shop", "release": "s", "latest": None, "status": None, "workloads": [],
             "source": "annotations", "liveReleases": [], "liveSince": None, "lastRollback": None,
             "steady": True, "action": "ok"}]
    if context == "ctx-a":
        rows.append({"namespace": "web", "release": "release-web", "latest": 12, "status": "InProgress",
                     "workloads": ["daemonset/agent"], "source": "secret/harness.release.release-web.v12",
                     "liveReleases": [11, 12], "liveSince": "2026-01-02T11:58:00Z", "lastRollback": None,
                     "steady": False, "action": "deploying"})
    return rows


def _history(context: str) -> list[dict]:
    rows = [
        {"number": 3, "status": "Failed", "workflowId": "w1",
         "infraMapping": {"serviceId": "svc", "infraId": "infra", "clusterName": "prod", "namespace": "shop"},
         "workloads": [{"kind": "Deployment", "name": "web", "revision": 3, "currentRevision": 3,
                        "images": ["web:3"], "live": False}], "source": "configmap/r",
         "updated": "2026-01-02T11:30:00Z", "live": False},
        {"number": 1, "status": "Succeeded", "workflowId": "w1", "infraMapping": None,
         "workloads": [{"kind": "Deployment", "name": "web", "revision": 1, "currentRevision": 4,
                        "images": ["web:1", "sidecar:2"], "live": True},
                       {"kind": "StatefulSet", "name": "db", "revision": 2, "currentRevision": 2,
                        "images": ["db:2"], "live": True}], "source": "configmap/r",
         "updated": "2025-12-30T09:00:00Z", "live": True, "rolledBack": ROLLED_BACK},
        {"number": 0, "status": None, "workflowId": None, "infraMapping": None, "workloads": [],
         "source": "revisions", "updated": None, "live": False},
    ]
    if context == "ctx-b":
        rows[0] = {**rows[0], "bgEnvironment": "primary", "color": "blue", "role": "stage",
                   "swappedBack": SWAPPED_BACK}
    return rows


def _summary(number, status, workflow="w1"):
    return None if number is None and status is None else {"number": number, "status": status,
                                                           "workflowId": workflow}


def _plan_view(context: str, to_release: int | None = None) -> dict:
    view = {"release": "release-infra-prod", "namespace": "shop", "mode": "rolling", "match": "workflow",
            "current": _summary(3, "Failed"), "target": _summary(2, "Succeeded"), "eligible": True, "changes": True,
            "reason": "the last release that succeeded with the same Workflow Id and Infrastructure Mapping; "
                      "release 3 failed",
            "workloads": [{"kind": "Deployment", "name": "web", "fromRevision": 3, "toRevision": 2,
                           "recordedRevision": 2, "fromImages": ["web:3"], "toImages": ["web:2"], "source": None,
                           "unchanged": False, "differences": []},
                          {"kind": "StatefulSet", "name": "db", "fromRevision": 5, "toRevision": 5,
                           "recordedRevision": 5, "fromImages": ["db:1"], "toImages": ["db:1"], "source": None,
                           "unchanged": True, "differences": []}],
            "reapply": [], "refused": [], "delete": [], "prune": [], "notes": ["a note about the history"],
            "owners": []}
    if context == "ctx-b" and to_release == 2:  # a succeeded release rolled back, as asked
        view.update(current=_summary(3, "Succeeded"), reason="release 2, as asked", notes=[])
    elif context == "ctx-b":  # nothing to roll back to
        view.update(current=_summary(3, "Succeeded"), target=None, eligible=False, changes=False,
                    reason="no failed release found: the latest release 3 succeeded; if a later deploy failed "
                           "before recording, pass --from-release", workloads=[], notes=[])
    if context == "ctx-c":  # already rolled back
        view.update(changes=False, workloads=[{**w, "fromRevision": w["toRevision"], "fromImages": w["toImages"],
                                               "unchanged": True} for w in view["workloads"]],
                    services=[{"name": "web", "role": "primary", "fromColor": "blue", "toColor": "green"},
                              {"name": "web-stage", "role": "stage", "fromColor": "green", "toColor": "blue"}],
                    lastRollback={**ROLLED_BACK, "toRelease": 2})
    return view


def _planned(context: str, to_release: int | None = None) -> commands.Planned:
    view = _plan_view(context, to_release)
    plan = SimpleNamespace(eligible=view["eligible"], has_changes=view["changes"], reason=view["reason"],
                           refused=[], target=None, current=None, passed_over=[])
    return commands.Planned(model=None, plan=plan, view=view)


def _outcome_view(context: str, dry_run: str) -> dict:
    view = {"dryRun": dry_run, "changed": True,
            "written": [{"action": "restored", "kind": "Deployment", "name": "web", "revision": 2, "images": ["web:2"]}],
            "newRevisions": [{"kind": "Deployment", "name": "web", "revision": 4}],
            "recorded": [{"action": "eventRecorded", "kind": "Deployment", "name": "web", "reason": "RolledBack"}],
            "steady": context != "ctx-c", "nothingToDo": context == "ctx-c"}
    if dry_run != "none":
        view.update(changed=False, written=[], newRevisions=[], recorded=[], steady=False,
                    wouldWrite=[{"action": "restored", "kind": "Deployment", "name": "web", "revision": 2,
                                 "images": ["web:2"]},
                                {"action": "eventRecorded", "kind": "Deployment", "name": "web",
                                 "reason": "RolledBack"}])
    return view


def _status_view(context: str) -> dict:
    steady = context != "ctx-b"
    workloads = [{"kind": "Deployment", "name": "web-green", "release": 2, "revision": 4, "images": ["web:2"],
                  "since": "2026-01-02T11:55:00Z", "color": "green", "lastRollback": ROLLED_BACK, "steady": steady,
                  "message": "successfully rolled out" if steady else
                  'Waiting for deployment "web-green" rollout to finish: 1 of 2 updated replicas are available...'}]
    view = {"release": "release-infra-prod", "namespace": "shop", "steady": steady, "action": "rolled back",
            "liveReleases": [2],
            "workloads": workloads, "primary": {"service": "web", "stage": "web-stage", "color": "green", "release": 2},
            "lastRollback": ROLLED_BACK, "swapBack": SWAPPED_BACK, "owners": [], "notes": ["a note"]}
    if context == "ctx-c":  # nothing deployed
        view.update(action="ok", liveReleases=[], workloads=[], primary=None, lastRollback=None, swapBack=None,
                    notes=["no workload of release-infra-prod found"])
    return view


# ---- the fake connection and library calls ----------------------------------------------------------

@pytest.fixture
def fake_cluster(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("".join(f"- name: {name}\n  context: {{cluster: c, namespace: shop}}\n"
                              for name in ("ctx-a", "ctx-b", "ctx-c", DOWN)).join(["contexts:\n", ""])
                      + "current-context: ctx-a\n")
    monkeypatch.setenv("KUBECONFIG", str(config))
    monkeypatch.setattr(sys.modules[render.age.__module__], "datetime", _Now)  # where ages are computed

    def connect(flags, env=None, read_yaml=None):
        if flags.context == DOWN:
            raise ClusterUnreachable("cannot reach the API server at https://127.0.0.1:1: connection refused")
        return SimpleNamespace(namespace=flags.namespace or "shop", context=flags.context or SINGLE)

    monkeypatch.setattr(client, "connect", connect)
    monkeypatch.setattr(client, "import_client", lambda: None)

    def run_list(kube, all_namespaces, selector=None):
        rows = _list_rows(kube.context)
        if not all_namespaces:
            rows = [row for row in rows if row["namespace"] == kube.namespace]
        warnings = ["cannot list secrets in namespace web: forbidden"] if kube.context == "ctx-a" else []
        return commands.ListResult(rows, warnings, None if all_namespaces else kube.namespace)

    def read_history(kube, target, max_releases=None):
        rows = _history(kube.context)
        notes = ["ignored secret/x: not a release"]
        if max_releases is not None and len(rows) > max_releases:
            notes.append(f"showing the newest {max_releases} of {len(rows)} releases (--max N shows more)")
        return rows[:max_releases], notes

    def run_plan(kube, target, options, deadline=None):
        return _planned(kube.context, options.to_release)

    def run_rollback(kube, planned, options, progress, warn=None):
        if warn is not None:
            warn("secret/pull is missing (imagePullSecrets of deployment/web)")
        progress("deployment/web: restoring revision 2")
        result = commands.RollbackResult(planned, view=_outcome_view(kube.context, options.dry_run.value))
        if kube.context == "ctx-b" and options.dry_run.value == "none":
            result.error = Conflict("deployment/web changed while rolling back; run again to re-plan")
        return result

    class Changes:
        def __init__(self, kube):
            self.woken = threading.Event()

        def wait(self, model, seconds):
            pytest.fail("a steady-or-not status was waited for")

        def close(self):
            pass

    monkeypatch.setattr(commands, "run_list", run_list)
    monkeypatch.setattr(commands, "read_history", read_history)
    monkeypatch.setattr(commands, "run_plan", run_plan)
    monkeypatch.setattr(commands, "run_rollback", run_rollback)
    monkeypatch.setattr(reader, "read_release", lambda kube, namespace, target: kube.context)
    monkeypatch.setattr(release_status, "status_view", _status_view)
    monkeypatch.setattr(status_watch, "Changes", Changes)
    return config


FLEET = ["--contexts", "ctx-a,ctx-b,ctx-c," + DOWN]
FLEET_ONE_AT_A_TIME = FLEET + ["--max-parallel", "1"]  # rollback's per-context lines in a fixed order

CASES = {
    "list": [
        ["list"], ["list", "-A"], ["list", "-o", "json"], ["list", "-A", "-o", "yaml"], ["list", "-n", "empty"],
        ["list", "-A", "--contexts", "ctx-a,ctx-b"], ["list"] + FLEET, ["list", "-o", "json"] + FLEET,
        ["list", "-o", "yaml", "--contexts", "ctx-b"], ["list", "--contexts", "ctx-b"],
        ["list", "--contexts", "ctx-a", "--context", "ctx-b"],
        ["list", "-o", "wide"], ["list", "-A", "--not-steady"], ["list", "--not-steady", "-o", "json"],
        ["list", "--not-steady", "--contexts", "ctx-b,ctx-c"],
    ],
    "history": [
        ["history", "r"], ["history", "r", "-o", "wide"], ["history", "r", "-o", "json"],
        ["history", "r", "-o", "yaml"], ["history", "r"] + FLEET, ["history", "r", "-o", "wide"] + FLEET,
        ["history", "r", "-o", "json"] + FLEET, ["history", "r", "--contexts", "ctx-a"],
        ["history", "deployment/"], ["history", "r", "--fail-fast"],
    ],
    "plan": [
        ["plan", "r"], ["plan", "r", "-o", "json"], ["plan", "r", "-o", "yaml", "--context", "ctx-c"],
        ["plan", "r", "--context", "ctx-c"], ["plan", "r", "--context", "ctx-b"],
        ["plan", "r", "--context", "ctx-b", "-o", "json"], ["plan", "r", "--context", DOWN],
        ["plan", "r"] + FLEET, ["plan", "r", "-o", "json"] + FLEET, ["plan", "r", "-o", "yaml", "--contexts", "ctx-a"],
        ["plan", "r", "--to-release", "1", "--to-revision", "2"], ["plan", "r", "--contexts", "nowhere"],
        ["plan", "r", "--to-release", "2"] + FLEET,
    ],
    "status": [
        ["status", "r"], ["status", "r", "-o", "json"], ["status", "r", "-o", "yaml", "--watch"],
        ["status", "r", "--context", "ctx-b"], ["status", "r", "--context", "ctx-c"],
        ["status", "r", "--context", "ctx-b", "-o", "json"],
        ["status", "r"] + FLEET, ["status", "r", "-o", "json"] + FLEET, ["status", "r", "-o", "yaml", "--all-contexts"],
        ["status", "r", "--watch"] + FLEET, ["status", "r", "--timeout", "soon"],
        ["status", "r", "-o", "wide"], ["status", "r", "-o", "wide"] + FLEET,
        ["status", "-A"], ["status", "-A", "-o", "wide"], ["status", "-A", "--not-steady", "-o", "json"],
        ["status", "--context", "ctx-c"], ["status", "-A"] + FLEET, ["status", "--contexts", "ctx-b"],
        ["status", "-A", "r"], ["status", "r", "--not-steady"], ["status", "-A", "--watch"],
    ],
    "rollback": [
        ["rollback", "r"], ["rollback", "r", "-o", "json"], ["rollback", "r", "-o", "yaml", "--context", "ctx-b"],
        ["rollback", "r", "--context", "ctx-b"], ["rollback", "r", "--context", "ctx-c"],
        ["rollback", "r", "--dry-run"], ["rollback", "r", "--dry-run=server", "-o", "json"],
        ["rollback", "r"] + FLEET_ONE_AT_A_TIME, ["rollback", "r", "-o", "json"] + FLEET_ONE_AT_A_TIME,
        ["rollback", "r", "--dry-run"] + FLEET_ONE_AT_A_TIME, ["rollback", "r", "--timeout", "soon"],
        ["rollback", "r", "--dry-run=maybe"],
        # A succeeded release rolled back in ctx-b: off a terminal, --yes or nothing is written.
        ["rollback", "r", "--to-release", "2"] + FLEET, ["rollback", "r", "--to-release", "2", "-o", "json"] + FLEET,
        ["rollback", "r", "--to-release", "2", "--yes"] + FLEET_ONE_AT_A_TIME,
        ["rollback", "r", "--to-release", "2", "--dry-run"] + FLEET_ONE_AT_A_TIME,
    ],
    "help": [[name, "--help"] for name in ("list", "history", "plan", "rollback", "status")],
    # What a first run meets: the bare command (help, exit 0, as a bare `kubectl`), `help`, the
    # global options listed once, and mistyped commands.
    "first_contact": [[], ["help", "plan"], ["options"], ["stauts", "r"], ["help", "rolback"]],
    # kubectl's conventions for scripts: -o name (TYPE/NAME, one a line) and --no-headers.
    "names": [
        ["list", "-o", "name"], ["list", "-A", "--no-headers"], ["list", "-o", "name"] + FLEET,
        ["list", "--no-headers"] + FLEET, ["list", "-n", "empty", "-o", "name"],
        ["history", "release/r", "-o", "name"], ["history", "r", "--no-headers"],
        ["history", "r", "-o", "wide", "--no-headers"], ["history", "r", "-o", "name"] + FLEET,
        ["status", "r", "-o", "name"], ["status", "r", "--no-headers"], ["status", "r", "--no-headers"] + FLEET,
        ["status", "r", "-o", "name"] + FLEET,
        ["plan", "r", "-o", "name"], ["plan", "r", "-o", "name", "--context", "ctx-c"],
        ["plan", "r", "-o", "name", "--context", "ctx-b"], ["plan", "r", "-o", "name", "--diff"],
        # -l/--selector: checked before any request (exit 2, one line).
        ["list", "-l", "app=web,tier in (a,b)", "-o", "name"], ["list", "-l", "app=web tier=a"],
        ["status", "r", "-l", "tier in (web"], ["status", "r", "--selector", "x>y"],
        # history --max N: the newest N releases (Helm's default, 256, passed when not given).
        ["history", "r", "--max", "1"], ["history", "r", "--max", "2", "-o", "name"], ["history", "r", "--max", "0"],
        ["history", "r", "--max", "many"],
        # -o jsonpath=TEMPLATE: the -o json data through kubectl's template (a list seen as a List).
        ["list", "-o", "jsonpath={.items[*].release}"],
        ["list", "-o", r'jsonpath={range .items[*]}{.release}{"\t"}{.latest}{"\t"}{.lastRollback.by}{"\n"}{end}'],
        ["history", "r", "-o", "jsonpath={.items[?(@.live==true)].number}"],
        ["status", "r", "-o", "jsonpath={.workloads[0].images}"],
        ["plan", "r", "-o", "jsonpath={.target.number}"],
        ["list", "-o", "jsonpath={range .items[*]}{.context}={.exitCode}{' '}{end}"] + FLEET,
        ["list", "-o", "jsonpath={range .items[*]}"], ["status", "r", "-o", "jsonpath={.workloads[}"],
        # status without TARGET: the releases, as list shows them.
        ["status", "-o", "name"], ["status", "-A", "--no-headers", "-l", "app=web"],
    ],
}


def _run(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    return (f"$ kubectl harness-rollback {' '.join(argv)}\nexit: {exited.value.code}\n"
            f"--- stdout\n{out}--- stderr\n{err}\n")


@pytest.mark.parametrize("command", sorted(CASES))
def test_output_is_the_golden_text(fake_cluster, capsys, monkeypatch, command):
    monkeypatch.setenv("COLUMNS", "100")
    text = "".join(_run(argv, capsys) for argv in CASES[command])
    path = GOLDEN / f"{command}.txt"
    if os.environ.get("KHR_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()

"""What a dry run lists: every write the real rollback makes, from the plan alone."""

import dataclasses
from types import SimpleNamespace

from kubectl_harness_rollback.output import render
from kubectl_harness_rollback.planned_writes import would_write
from kubectl_harness_rollback.planner import PlanOptions, plan
from kubectl_harness_rollback.views import outcome_view
from tests.unit.test_planner import F, S, model


def rolled_back_release():
    found = model([(1, S, "w1", 1), (2, S, "w1", 2), (3, F, "w1", 3)])
    found = dataclasses.replace(found, history_store=SimpleNamespace(kind="ConfigMap", name="release-x"))
    return found, plan(found, PlanOptions())


def test_a_rolling_rollback_would_patch_annotate_write_the_history_and_record_an_event():
    found, decided = rolled_back_release()
    assert would_write(found, decided) == [
        {"action": "restored", "kind": "Deployment", "name": "web", "revision": 2, "images": ["web:2"]},
        {"action": "annotated", "kind": "Deployment", "name": "web", "annotation": "harness.io/last-rollback"},
        {"action": "historyUpdated", "kind": "ConfigMap", "name": "release-x",
         "changes": [{"release": 3, "status": "Failed"}]},
        {"action": "eventRecorded", "kind": "Deployment", "name": "web", "reason": "RolledBack"},
    ]


def test_nothing_to_change_would_write_nothing():
    found = model([(1, S, "w1", 1), (2, S, "w1", 2)])
    assert would_write(found, plan(found, PlanOptions())) == []


def test_dry_run_text_says_would_once_for_each_write():
    found, decided = rolled_back_release()
    view = outcome_view(decided, SimpleNamespace(written=[], new_revisions={}, recorded=[], steady=None), "client",
                        would_write(found, decided))
    assert render.outcome_text(view) == (
        "\n"
        "Dry run (client): nothing was sent to the cluster.\n"
        "The rollback would:\n"
        "  deployment/web: would restore the template of revision 2 (web:2)\n"
        "  deployment/web: would annotate harness.io/last-rollback (who, when, from which release to which)\n"
        "  configmap/release-x: would record the rollback in the release history; release 3 marked Failed\n"
        "  deployment/web: would record a RolledBack Event on it\n"
    )

"""Golden output of a rollback's outcome: the same structured items become fixed words (rollback's
text, progress lines, errors) and fixed JSON (`rollback -o json`)."""

import json
from types import SimpleNamespace

from kubectl_harness_rollback import outcome
from kubectl_harness_rollback.model import WorkloadRef
from kubectl_harness_rollback.output import render
from kubectl_harness_rollback.views import outcome_view

WEB = WorkloadRef("Deployment", "web", "shop")
RS = WorkloadRef("ReplicaSet", "web-2", "shop")


def rolled_back() -> outcome.Outcome:
    done = outcome.Outcome()
    done.written = [outcome.deleted(WorkloadRef("Deployment", "web-canary", "shop")),
                    outcome.restored(WEB, 2, ["web:2", "sidecar:1"]),
                    outcome.scaled(RS, 3)]
    done.new_revisions = {WEB: 4}
    done.recorded = [
        outcome.history_updated("ConfigMap", "release-prod", [
            {"release": 3, "status": "Failed"},
            {"release": 2, "kind": "Deployment", "name": "web", "revision": 4},
            {"release": 2, "kind": "StatefulSet", "name": "db", "revision": 7}]),
        outcome.labelled("Secret", "harness.release.release-prod.3", {"status": "Failed"}),
        outcome.event("Deployment", "web"),
    ]
    done.steady = True
    return done


def test_rollback_text():
    view = outcome_view(SimpleNamespace(has_changes=True), rolled_back(), "none")
    assert render.outcome_text(view) == (
        "\n"
        "deployment/web is now at revision 4\n"
        "Recorded: configmap/release-prod: release 3 marked Failed; release 2 now records deployment/web "
        "revision 4, statefulset/db revision 7\n"
        "Recorded: secret/harness.release.release-prod.3: status Failed\n"
        "Recorded: event on deployment/web: RolledBack\n"
        "Rollback complete: every workload is steady.\n"
    )


def test_each_write_in_words():
    assert [render.outcome_item_text(item) for item in rolled_back().written] == [
        "deployment/web-canary: deleted (canary of the failed release)",
        "deployment/web: restored the template of revision 2 (web:2, sidecar:1)",
        "replicaset/web-2: scaled to 3",
    ]
    assert [render.outcome_item_text(item) for item in [
        outcome.reapplied("ConfigMap", "settings"), outcome.routed("shop", "blue", "green"),
        outcome.history_updated("Secret", "rel", [{"release": 8, "bgEnvironment": "stage"},
                                                  {"release": 7, "bgEnvironment": "primary"}])]] == [
        "configmap/settings: re-applied from the stored manifest",
        "service/shop: routes blue (was green)",
        "secret/rel: release 8 bgEnvironment stage; release 7 bgEnvironment primary",
    ]


def test_server_dry_run_text_lists_the_writes_once_in_the_conditional():
    done = outcome.Outcome(written=[outcome.restored(WEB, 2, ["web:2"])])
    view = outcome_view(SimpleNamespace(has_changes=True), done, "server", [outcome.restored(WEB, 2, ["web:2"])])
    assert render.outcome_text(view) == (
        "\n"
        "Dry run (server): the API server accepted the workload and Service writes; nothing was stored (the "
        "records are not sent: they need the rollout).\n"
        "The rollback would:\n"
        "  deployment/web: would restore the template of revision 2 (web:2)\n"
    )


def test_rollback_json_carries_the_structure():
    view = outcome_view(SimpleNamespace(has_changes=True), rolled_back(), "none")
    assert json.loads(render.structured(view, "json")) == {
        "dryRun": "none",
        "changed": True,
        "written": [
            {"action": "deleted", "kind": "Deployment", "name": "web-canary"},
            {"action": "restored", "kind": "Deployment", "name": "web", "revision": 2,
             "images": ["web:2", "sidecar:1"]},
            {"action": "scaled", "kind": "ReplicaSet", "name": "web-2", "replicas": 3},
        ],
        "newRevisions": [{"kind": "Deployment", "name": "web", "revision": 4}],
        "recorded": [
            {"action": "historyUpdated", "kind": "ConfigMap", "name": "release-prod", "changes": [
                {"release": 3, "status": "Failed"},
                {"release": 2, "kind": "Deployment", "name": "web", "revision": 4},
                {"release": 2, "kind": "StatefulSet", "name": "db", "revision": 7}]},
            {"action": "labelled", "kind": "Secret", "name": "harness.release.release-prod.3",
             "labels": {"status": "Failed"}},
            {"action": "eventRecorded", "kind": "Deployment", "name": "web", "reason": "RolledBack"},
        ],
        "steady": True,
        "nothingToDo": False,
    }
    # YAML too: plain data, no Python objects.
    assert "!!python" not in render.structured(view, "yaml")

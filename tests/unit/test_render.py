"""Golden output of the renderer: fixed text for fixed views (no color is ever written)."""

from datetime import datetime, timezone

import pytest

from kubectl_harness_rollback.output import render

NOW = datetime(2026, 1, 2, 12, 0, 0, tzinfo=timezone.utc)
ROLLED_BACK = {"by": "alice", "at": "2026-01-02T11:55:00Z", "fromRelease": 3, "toRelease": 1}

HISTORY = [
    {"number": 3, "status": "Failed", "workflowId": "w1",
     "infraMapping": {"serviceId": "svc", "infraId": "infra", "clusterName": "prod", "namespace": "shop"},
     "workloads": [{"kind": "Deployment", "name": "web", "revision": 3, "currentRevision": 3,
                    "images": ["web:3"], "live": False}], "source": "configmap/r",
     "updated": "2026-01-02T11:30:00Z", "live": False},
    {"number": 1, "status": "Succeeded", "workflowId": "w1", "infraMapping": None,
     "workloads": [{"kind": "Deployment", "name": "web", "revision": 1, "currentRevision": 4,
                    "images": ["web:1", "sidecar:2"], "live": True}], "source": "configmap/r",
     "updated": "2025-12-30T09:00:00Z", "live": True, "rolledBack": ROLLED_BACK},
    {"number": 0, "status": None, "workflowId": None, "infraMapping": None,
     "workloads": [{"kind": "Deployment", "name": "web", "revision": 7, "currentRevision": None, "images": [],
                    "live": False}],
     "source": "revisions", "updated": None, "live": False},
]


def test_history_table_marks_what_is_live_and_when():
    assert render.history_table(HISTORY, wide=False, now=NOW) == (
        "RELEASE   STATUS      WORKLOAD         REVISION    WORKFLOW   AGE      LIVE\n"
        "3         Failed      deployment/web   3           w1         30m\n"
        "1         Succeeded   deployment/web   1 (now 4)   w1         3d3h     * (rolled back by alice at "
        "2026-01-02T11:55:00Z, 3 → 1)\n"
        "0         <none>      deployment/web   7 (gone)    <none>     <none>\n"
    )


def test_history_table_wide():
    assert render.history_table(HISTORY[:2], wide=True, now=NOW) == (
        "RELEASE   STATUS      WORKLOAD         REVISION    WORKFLOW   IMAGES            SERVICE   INFRA    CLUSTER   "
        "SOURCE        AGE    LIVE\n"
        "3         Failed      deployment/web   3           w1         web:3             svc       infra    prod      "
        "configmap/r   30m\n"
        "1         Succeeded   deployment/web   1 (now 4)   w1         web:1,sidecar:2   <none>    <none>   <none>    "
        "configmap/r   3d3h   * (rolled back by alice at 2026-01-02T11:55:00Z, 3 → 1)\n"
    )


@pytest.mark.parametrize("timestamp, shown", [
    ("2026-01-02T11:59:15Z", "45s"), ("2026-01-02T11:52:30Z", "7m30s"), ("2026-01-02T11:35:00Z", "25m"),
    ("2026-01-02T06:50:00Z", "5h10m"), ("2026-01-01T00:00:00Z", "36h"), ("2025-12-29T08:00:00Z", "4d4h"),
    ("2025-11-01T12:00:00Z", "62d"), ("2026-01-02T12:00:05Z", "0s"), (None, "<none>"), ("yesterday", "<none>"),
])
def test_age_is_kubectls(timestamp, shown):
    assert render.age(timestamp, NOW) == shown


def test_plan_text():
    view = {
        "release": "r", "namespace": "shop", "mode": "rolling", "match": "workflow",
        "current": {"number": 3, "status": "Failed", "workflowId": "w1"},
        "target": {"number": 2, "status": "Succeeded", "workflowId": "w1"},
        "eligible": True, "changes": True, "reason": "because",
        "workloads": [{"kind": "Deployment", "name": "web", "fromRevision": 3, "toRevision": 2,
                       "fromImages": ["web:3"], "toImages": ["web:2"]}],
        "notes": ["a note"],
    }
    assert render.plan_text(view) == (
        "Release:      r in namespace shop (mode rolling, match by workflow)\n"
        "Current:      release 3 (Failed, workflow w1)\n"
        "Rollback to:  release 2 (Succeeded, workflow w1)\n"
        "Why:          because\n"
        "\n"
        "WORKLOAD         FROM REVISION   TO REVISION   IMAGES NOW   IMAGES AFTER\n"
        "deployment/web   3               2             web:3        web:2\n"
        "Note: a note\n"
    )


def test_list_table_all_namespaces():
    rows = [{"namespace": "shop", "release": "r", "latest": 3, "status": "Failed",
             "workloads": ["deployment/web"], "source": "configmap/r", "liveReleases": [2],
             "liveSince": "2026-01-02T11:55:00Z", "lastRollback": {**ROLLED_BACK, "toRelease": 2},
             "steady": True, "action": "rolled back"},
            {"namespace": "shop", "release": "s", "latest": None, "status": None, "workloads": [],
             "source": "annotations", "liveReleases": [], "liveSince": None, "lastRollback": None,
             "steady": None, "action": None}]
    assert render.list_table(rows, all_namespaces=True, now=NOW) == (
        "NAMESPACE   RELEASE   LATEST   STATUS   LIVE     SINCE    STEADY      ACTION\n"
        "shop        r         3        Failed   2        5m       yes         rolled back by alice 5m ago\n"
        "shop        s         <none>   <none>   <none>   <none>   <unknown>   <unknown>\n"
    )


def test_list_table_wide_adds_the_workloads_the_record_and_the_rollback():
    rows = [{"namespace": "shop", "release": "r", "latest": 3, "status": "Failed",
             "workloads": ["deployment/web"], "source": "configmap/r", "liveReleases": [2],
             "liveSince": "2026-01-02T11:55:00Z", "lastRollback": {**ROLLED_BACK, "toRelease": 2},
             "steady": True, "action": "rolled back"}]
    assert render.list_table(rows, all_namespaces=False, now=NOW, wide=True) == (
        "RELEASE   LATEST   STATUS   WORKLOADS        SOURCE        LIVE"
        "                                                      SINCE   STEADY   ACTION\n"
        "r         3        Failed   deployment/web   configmap/r   2 (rolled back by alice at "
        "2026-01-02T11:55:00Z, 3 → 2)   5m      yes      rolled back by alice 5m ago\n"
    )


def test_status_text():
    view = {"release": "r", "namespace": "shop", "steady": False, "action": "rolled back", "liveReleases": [2],
            "workloads": [{"kind": "Deployment", "name": "web-green", "release": 2, "revision": 4,
                           "images": ["web:2"], "since": "2026-01-02T11:55:00Z", "color": "green",
                           "lastRollback": None, "steady": False,
                           "message": 'Waiting for deployment "web-green" rollout to finish: 1 of 2 updated '
                                      "replicas are available..."}],
            "primary": {"service": "web", "stage": "web-stage", "color": "green", "release": 2},
            "lastRollback": ROLLED_BACK, "notes": ["a note"]}
    head = ("Release:   r in namespace shop\n"
            "Live:      release 2\n"
            "Primary:   service/web routes green: release 2\n"
            "Rollback:  rolled back by alice at 2026-01-02T11:55:00Z, 3 → 1\n"
            "Action:    rolled back by alice 5m ago\n"
            "\n")
    assert render.status_text(view, NOW) == head + (
        "WORKLOAD               COLOR   RELEASE   REVISION   IMAGES   SINCE   STEADY\n"
        "deployment/web-green   green   2         4          web:2    5m      no\n"
        "Note: a note\n"
    )
    # -o wide: the rollout's words, which the exit-4 error line says too.
    assert render.status_text(view, NOW, wide=True) == head + (
        "WORKLOAD               COLOR   RELEASE   REVISION   IMAGES   SINCE   STEADY   ROLLOUT\n"
        'deployment/web-green   green   2         4          web:2    5m      no       Waiting for deployment '
        '"web-green" rollout to finish: 1 of 2 updated replicas are available...\n'
        "Note: a note\n"
    )


def test_structured_json_keeps_view_order():
    assert render.structured({"b": 1, "a": [1]}, "json") == '{\n  "b": 1,\n  "a": [\n    1\n  ]\n}\n'
    assert render.structured({"b": 1, "a": None}, "yaml") == "b: 1\na: null\n"


def test_list_table_names_who_swapped_a_blue_green_release_back():
    swapped = {"service": "web", "by": "bob", "at": "2026-01-02T11:50:00Z", "fromRelease": 3, "toRelease": 2,
               "fromColor": "green", "toColor": "blue"}
    rows = [{"namespace": "shop", "release": "bg", "latest": 3, "status": "Failed", "workloads": ["deployment/web-blue"],
             "source": "configmap/bg", "liveReleases": [3, 2], "liveSince": None, "lastRollback": None,
             "swapBack": swapped, "steady": True, "action": "rolled back"}]
    assert render.list_table(rows, all_namespaces=False, now=NOW).splitlines()[1] == (
        "bg        3        Failed   3,2    <none>   yes      rolled back by bob 10m ago")
    assert " 3,2 (swapped back by bob at 2026-01-02T11:50:00Z, 3 → 2 (service/web: green → blue)) " in \
        render.list_table(rows, all_namespaces=False, now=NOW, wide=True)

"""Golden output of the renderer: fixed text for fixed views (no color is ever written)."""

from kubectl_harness_rollback import render

HISTORY = [
    {"number": 3, "status": "Failed", "workflowId": "w1",
     "infraMapping": {"serviceId": "svc", "infraId": "infra", "clusterName": "prod", "namespace": "shop"},
     "workloads": [{"kind": "Deployment", "name": "web", "revision": 3, "currentRevision": 3,
                    "images": ["web:3"]}], "source": "configmap/r"},
    {"number": 1, "status": "Succeeded", "workflowId": "w1", "infraMapping": None,
     "workloads": [{"kind": "Deployment", "name": "web", "revision": 1, "currentRevision": 4,
                    "images": ["web:1", "sidecar:2"]}], "source": "configmap/r"},
    {"number": 0, "status": None, "workflowId": None, "infraMapping": None,
     "workloads": [{"kind": "Deployment", "name": "web", "revision": 7, "currentRevision": None, "images": []}],
     "source": "revisions"},
]


def test_history_table():
    assert render.history_table(HISTORY, wide=False) == (
        "RELEASE   STATUS      WORKLOAD         REVISION    WORKFLOW\n"
        "3         Failed      deployment/web   3           w1\n"
        "1         Succeeded   deployment/web   1 (now 4)   w1\n"
        "0         <none>      deployment/web   7 (gone)    <none>\n"
    )


def test_history_table_wide():
    assert render.history_table(HISTORY[:2], wide=True) == (
        "RELEASE   STATUS      WORKLOAD         REVISION    WORKFLOW   IMAGES            SERVICE   INFRA    CLUSTER   SOURCE\n"
        "3         Failed      deployment/web   3           w1         web:3             svc       infra    prod      configmap/r\n"
        "1         Succeeded   deployment/web   1 (now 4)   w1         web:1,sidecar:2   <none>    <none>   <none>    configmap/r\n"
    )


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
             "workloads": ["deployment/web"], "source": "configmap/r"}]
    assert render.list_table(rows, all_namespaces=True) == (
        "NAMESPACE   RELEASE   LATEST   STATUS   WORKLOADS        SOURCE\n"
        "shop        r         3        Failed   deployment/web   configmap/r\n"
    )


def test_structured_json_keeps_view_order():
    assert render.structured({"b": 1, "a": [1]}, "json") == '{\n  "b": 1,\n  "a": [\n    1\n  ]\n}\n'
    assert render.structured({"b": 1, "a": None}, "yaml") == "b: 1\na: null\n"

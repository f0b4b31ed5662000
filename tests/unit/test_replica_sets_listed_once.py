"""A release's Deployment finds its ReplicaSets in the namespace's list of ReplicaSets that reading
the release already made (reader.ReplicaSetsListedOnce): one request less, the same model. A
selector other than labels alone is still the API server's to test."""

import json
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from kubectl_harness_rollback import reader
from kubectl_harness_rollback.cluster.rest import Rest
from kubectl_harness_rollback.reader import Target, label_equalities, read_release
from kubectl_harness_rollback.records.history_codec import encode_history

NS = "shop"
UID = "uid-web"


def history_config_map():
    doc = {"version": "v1", "releases": [
        {"number": n, "status": status, "managedWorkloads": [
            {"workload": {"kind": "Deployment", "name": "web", "namespace": NS}, "revision": str(n)}]}
        for n, status in ((1, "Succeeded"), (2, "Failed"))]}
    return {"metadata": {"name": "r", "namespace": NS, "resourceVersion": "5"},
            "data": encode_history(doc, "ConfigMap", False)}


def deployment(selector: dict) -> dict:
    return {"metadata": {"name": "web", "namespace": NS, "uid": UID, "resourceVersion": "9", "generation": 2,
                         "labels": {"harness.io/release-name": "r"},
                         "annotations": {"deployment.kubernetes.io/revision": "2"}},
            "spec": {"replicas": 2, "selector": selector,
                     "template": {"metadata": {"labels": {"app": "web", "tier": "front"}},
                                  "spec": {"containers": [{"name": "web", "image": "web:2"}]}}},
            "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
                       "availableReplicas": 2}}


def replica_set(name: str, revision: int, image: str, labels: dict, owned: bool = True) -> dict:
    owners = [{"kind": "Deployment", "name": "web", "uid": UID, "controller": True}] if owned else []
    return {"metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}", "labels": labels,
                         "ownerReferences": owners,
                         "annotations": {"deployment.kubernetes.io/revision": str(revision)}},
            "spec": {"replicas": 2 if revision == 2 else 0,
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "web", "image": image}]}}},
            "status": {"replicas": 2 if revision == 2 else 0}}


REPLICA_SETS = [replica_set("web-1", 1, "web:1", {"app": "web", "tier": "front", "pod-template-hash": "1"}),
                replica_set("web-2", 2, "web:2", {"app": "web", "tier": "front", "pod-template-hash": "2"}),
                replica_set("other", 1, "other:1", {"app": "other"}, owned=False),
                replica_set("web-back", 1, "web:0", {"app": "web", "tier": "back"}, owned=False)]


def matching(selector_text: str | None) -> list[dict]:
    """The API server's answer to a list of ReplicaSets by a selector of the forms used here."""
    if not selector_text:
        return REPLICA_SETS
    chosen = []
    for obj in REPLICA_SETS:
        labels, ok = obj["metadata"]["labels"], True
        for term in selector_text.split(","):
            if " in (" in term:
                key, values = term.split(" in (")
                ok &= labels.get(key) in values.rstrip(")").split(",")
            else:
                key, value = term.split("=")
                ok &= labels.get(key) == value
        if ok:
            chosen.append(obj)
    return chosen


def FakeKube(selector: dict) -> tuple[Rest, list[str]]:
    """The request layer over a transport that answers like the API server; the paths and
    label selectors it was asked for."""
    asked = []

    def transport(method, url, body, headers, timeout, stream):
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        asked.append(parts.path + (f"?labelSelector={query['labelSelector'][0]}" if "labelSelector" in query else ""))

        def answer(status, body):
            return SimpleNamespace(status=status, data=json.dumps(body).encode())

        path = parts.path
        if path.endswith("/secrets"):
            return answer(200, {"metadata": {}, "items": []})
        if "/secrets/" in path:
            return answer(404, {"kind": "Status", "code": 404})
        if "/configmaps/" in path:
            return answer(200, history_config_map())
        if path.endswith("/deployments"):
            return answer(200, {"metadata": {}, "items": [deployment(selector)]})
        if path.endswith("/replicasets"):
            return answer(200, {"metadata": {}, "items": matching(query.get("labelSelector", [None])[0])})
        return answer(200, {"metadata": {}, "items": []})

    return Rest("https://127.0.0.1:1", transport), asked


LABELS_ALONE = {"matchLabels": {"app": "web", "tier": "front"}}
WITH_AN_EXPRESSION = {"matchLabels": {"app": "web"}, "matchExpressions": [
    {"key": "tier", "operator": "In", "values": ["front"]}]}


@pytest.mark.parametrize("selector, replica_set_lists", [(LABELS_ALONE, 1), (WITH_AN_EXPRESSION, 2)],
                         ids=["labels alone", "an expression"])
def test_a_deployment_finds_its_replica_sets_in_the_list_already_made(selector, replica_set_lists):
    kube, asked = FakeKube(selector)
    model = read_release(kube, NS, Target(release_name="r"))
    [state] = model.workloads.values()
    assert [(r.number, list(r.images)) for r in state.revisions] == [(1, ["web:1"]), (2, ["web:2"])]
    assert len([path for path in asked if "/replicasets" in path]) == replica_set_lists
    assert all("labelSelector" not in path for path in asked if "/replicasets" in path) == (replica_set_lists == 1)


@pytest.mark.parametrize("selector", [LABELS_ALONE, WITH_AN_EXPRESSION], ids=["labels alone", "an expression"])
def test_the_model_is_the_one_the_api_servers_own_selection_gives(selector, monkeypatch):
    kube, _ = FakeKube(selector)
    once = read_release(kube, NS, Target(release_name="r"))
    monkeypatch.setattr(reader, "ReplicaSetsListedOnce", lambda kube: kube)  # every list sent as asked
    kube, asked = FakeKube(selector)
    sent = read_release(kube, NS, Target(release_name="r"))
    assert any("labelSelector" in path for path in asked if "/replicasets" in path)
    assert once == sent


@pytest.mark.parametrize("text, pairs", [
    ("app=web", [("app", "web")]), ("app=web,tier=front", [("app", "web"), ("tier", "front")]),
    ("example.com/part-of=shop,empty=", [("example.com/part-of", "shop"), ("empty", "")]), ("", []),
    ("tier in (front,back)", None), ("app=web,tier notin (back)", None), ("app!=web", None), ("app", None),
    ("!app", None), ("app==web", None), ("a=b=c", None),
])
def test_label_equalities_reads_labels_alone(text, pairs):
    assert label_equalities(text) == pairs

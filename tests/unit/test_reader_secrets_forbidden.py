"""A 403 on Secrets (the built-in `view` role) is a note, not an error; any other 403 still stops."""

import json
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from kubectl_harness_rollback.cluster.rest import Rest
from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.reader import Target, read_release
from kubectl_harness_rollback.records.history_codec import encode_history

NS = "shop"
NOTE = f"cannot read secrets in {NS}: releases kept in Secrets are not considered"


def history_config_map():
    doc = {"version": "v1", "releases": [
        {"number": 1, "status": "Succeeded", "managedWorkloads": [
            {"workload": {"kind": "Deployment", "name": "web", "namespace": NS}, "revision": "1"}]}]}
    return {"metadata": {"name": "r", "namespace": NS, "resourceVersion": "5"},
            "data": encode_history(doc, "ConfigMap", False)}


def answer(status: int, body: dict) -> SimpleNamespace:
    return SimpleNamespace(status=status, data=json.dumps(body).encode())


def FakeKube(secrets_forbidden=True, config_maps_forbidden=False) -> Rest:
    """The request layer over a transport that answers like the API server."""
    def transport(method, url, body, headers, timeout, stream):
        path = urlsplit(url).path
        denied = answer(403, {"kind": "Status", "code": 403, "message": "forbidden by the test"})
        if "/secrets" in path:
            return denied if secrets_forbidden else (answer(200, {"items": []}) if path.endswith("/secrets")
                                                     else answer(404, {"code": 404}))
        if "/configmaps" in path:
            return denied if config_maps_forbidden else answer(200, history_config_map())
        return answer(404, {"code": 404})

    return Rest("https://127.0.0.1:1", transport)


@pytest.fixture(autouse=True)
def no_workloads(monkeypatch):
    from kubectl_harness_rollback import reader

    monkeypatch.setattr(reader, "_release_workloads", lambda kube, namespace, name, others=None: [])


def test_unreadable_secrets_become_one_note_and_the_config_map_history_is_read():
    model = read_release(FakeKube(), NS, Target(release_name="r"))
    assert [r.number for r in model.releases] == [1]
    assert model.history_store.kind == "ConfigMap"
    assert model.notes == [NOTE]


def test_readable_secrets_add_no_note():
    model = read_release(FakeKube(secrets_forbidden=False), NS, Target(release_name="r"))
    assert model.notes == []


def test_other_forbidden_reads_still_stop_with_a_sentence():
    with pytest.raises(PluginError, match="^forbidden: cannot get configmaps in namespace shop"):
        read_release(FakeKube(config_maps_forbidden=True), NS, Target(release_name="r"))

"""A 403 on Secrets (the built-in `view` role) is a note, not an error; any other 403 still stops."""

import pytest
from kubernetes.client.exceptions import ApiException

from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.history_codec import encode_history
from kubectl_harness_rollback.reader import Target, read_release

NS = "shop"
NOTE = f"cannot read secrets in {NS}: releases kept in Secrets are not considered"


def forbidden(*args, **kwargs):
    raise ApiException(status=403, reason="Forbidden")


def history_config_map():
    doc = {"version": "v1", "releases": [
        {"number": 1, "status": "Succeeded", "managedWorkloads": [
            {"workload": {"kind": "Deployment", "name": "web", "namespace": NS}, "revision": "1"}]}]}
    return {"metadata": {"name": "r", "namespace": NS, "resourceVersion": "5"},
            "data": encode_history(doc, "ConfigMap", False)}


class FakeCore:
    def __init__(self, secrets_forbidden=True, config_maps_forbidden=False):
        self.read_namespaced_secret = forbidden if secrets_forbidden else self.missing
        self.list_namespaced_secret = forbidden if secrets_forbidden else self.empty
        self.read_namespaced_config_map = forbidden if config_maps_forbidden else self.config_map

    @staticmethod
    def missing(*args, **kwargs):
        raise ApiException(status=404, reason="Not Found")

    @staticmethod
    def empty(*args, **kwargs):
        return {"items": []}

    @staticmethod
    def config_map(name, namespace, **kwargs):
        return history_config_map()


class FakeKube:
    """Answers like the client: call() returns dicts; workloads list as empty."""

    def __init__(self, core):
        self.core = core

    def call(self, method, *args, **kwargs):
        return method(*args, **kwargs)

    def get_or_none(self, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def list_all(self, method, *args, **kwargs):
        return method(*args, **kwargs)["items"]


@pytest.fixture(autouse=True)
def no_workloads(monkeypatch):
    from kubectl_harness_rollback import reader

    monkeypatch.setattr(reader, "_release_workloads", lambda kube, namespace, name: [])


def test_unreadable_secrets_become_one_note_and_the_config_map_history_is_read():
    model = read_release(FakeKube(FakeCore()), NS, Target(release_name="r"))
    assert [r.number for r in model.releases] == [1]
    assert model.history_store.kind == "ConfigMap"
    assert model.notes == [NOTE]


def test_readable_secrets_add_no_note():
    model = read_release(FakeKube(FakeCore(secrets_forbidden=False)), NS, Target(release_name="r"))
    assert model.notes == []


def test_other_forbidden_reads_still_stop_with_a_sentence():
    with pytest.raises(PluginError, match="^forbidden: cannot get configmaps in namespace shop"):
        read_release(FakeKube(FakeCore(config_maps_forbidden=True)), NS, Target(release_name="r"))

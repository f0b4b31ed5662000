"""The in-memory API server (tests/support/fake_rest.py) answers as the API server does where the
product's tests rely on it: through the real request layer, with the real error types."""

import pytest

from kubectl_harness_rollback.cluster import apierrors
from kubectl_harness_rollback.cluster.rest import CONFIGMAPS, DEPLOYMENTS, NAMESPACES, REPLICASETS, SECRETS
from tests.support.fake_harness import FakeRollingDeployer, deployment, deployment_controller
from tests.support.fake_rest import FakeCluster, Unfaithful


def config_map(name="settings", **labels):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "shop",
                                                                  "labels": labels}, "data": {"a": "1"}}


def test_objects_get_identity_and_versions_and_a_stale_version_is_a_conflict():
    cluster = FakeCluster()
    kube = cluster.kube()
    created = kube.create(CONFIGMAPS, "shop", config_map())
    assert created["metadata"]["uid"] and created["metadata"]["creationTimestamp"]
    stale = created["metadata"]["resourceVersion"]

    patched = kube.patch(CONFIGMAPS, "settings", "shop", {"metadata": {"resourceVersion": stale}, "data": {"a": "2"}})
    assert int(patched["metadata"]["resourceVersion"]) > int(stale)
    with pytest.raises(apierrors.Conflict):
        kube.patch(CONFIGMAPS, "settings", "shop", [{"op": "replace", "path": "/metadata/resourceVersion",
                                                     "value": stale}], "json")
    with pytest.raises(apierrors.Conflict):  # AlreadyExists
        kube.create(CONFIGMAPS, "shop", config_map())
    with pytest.raises(apierrors.NotFound):
        kube.get(CONFIGMAPS, "other", "shop")
    assert kube.get_or_none(SECRETS, "other", "shop") is None
    assert kube.get(NAMESPACES, "shop")["status"]["phase"] == "Active"


def test_dry_runs_answer_as_writes_and_change_nothing():
    cluster = FakeCluster()
    kube = cluster.kube()
    kube.create(CONFIGMAPS, "shop", config_map())
    before = cluster.find("ConfigMap", "settings")

    answer = kube.patch(CONFIGMAPS, "settings", "shop", {"data": {"a": "2"}}, "merge", dry_run=True)
    kube.create(CONFIGMAPS, "shop", config_map("new"), dry_run=True)
    kube.delete(CONFIGMAPS, "settings", "shop", body={"preconditions": {"uid": before["metadata"]["uid"]}},
                dry_run=True)

    assert answer["data"] == {"a": "2"}
    assert cluster.find("ConfigMap", "settings") == before and cluster.find("ConfigMap", "new") is None
    assert [r.dry_run for r in cluster.writes()] == [False, True, True, True]


def test_delete_preconditions_and_cascade():
    cluster = FakeCluster(controllers=[deployment_controller])
    FakeRollingDeployer(cluster).deploy("registry.example/web:1")
    kube = cluster.kube()
    live = cluster.find("Deployment", "web")

    with pytest.raises(apierrors.Conflict):
        kube.delete(DEPLOYMENTS, "web", "shop", body={"preconditions": {"resourceVersion": "1"}})
    kube.delete(DEPLOYMENTS, "web", "shop", body={"preconditions": {"uid": live["metadata"]["uid"]},
                                                   "propagationPolicy": "Background"})
    assert cluster.all("Deployment") == [] and cluster.all("ReplicaSet") == []


def test_json_patch_is_rfc_6902_and_a_failed_test_op_is_refused():
    cluster = FakeCluster()
    kube = cluster.kube()
    kube.create(CONFIGMAPS, "shop", config_map())
    kube.patch(CONFIGMAPS, "settings", "shop", [{"op": "add", "path": "/data/b", "value": "2"},
                                                {"op": "remove", "path": "/data/a"}], "json")
    assert cluster.find("ConfigMap", "settings")["data"] == {"b": "2"}
    with pytest.raises(apierrors.ApiError) as refused:
        kube.patch(CONFIGMAPS, "settings", "shop", [{"op": "test", "path": "/data/b", "value": "3"}], "json")
    assert refused.value.status == 422


def test_strategic_patches_the_fake_cannot_merge_faithfully_are_refused_loudly():
    cluster = FakeCluster(controllers=[deployment_controller])
    FakeRollingDeployer(cluster).deploy("registry.example/web:1")
    with pytest.raises(Unfaithful):
        cluster.kube().patch(DEPLOYMENTS, "web", "shop", {"spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "registry.example/web:2"}]}}}})


def test_lists_select_by_labels_and_fields_page_and_give_metadata_only():
    cluster = FakeCluster()
    for name, labels in (("a", {"release": "x", "owner": "harness"}), ("b", {"release": "y"}), ("c", {})):
        cluster.put(config_map(name, **labels))
    kube = cluster.kube()

    def names(**query):
        return [o["metadata"]["name"] for o in kube.list(CONFIGMAPS, "shop", **query)]
    assert names(label_selector="release=x,owner=harness") == ["a"]
    assert names(label_selector="release in (x,y)") == ["a", "b"]
    assert names(label_selector="!release") == ["c"]
    assert names(label_selector="release!=x") == ["b", "c"]
    assert names(field_selector="metadata.name=b") == ["b"]
    partial = kube.list(CONFIGMAPS, "shop", metadata_only=True)
    assert [o["kind"] for o in partial] == ["PartialObjectMetadata"] * 3 and "data" not in partial[0]

    cluster.requests.clear()
    import kubectl_harness_rollback.cluster.rest as rest
    saved, rest.PAGE_SIZE = rest.PAGE_SIZE, 2
    try:
        assert names() == ["a", "b", "c"]
    finally:
        rest.PAGE_SIZE = saved
    assert [r.query.get("continue") for r in cluster.requests] == [None, "2"]


def test_a_watch_reports_what_changed_after_its_version_and_otherwise_lasts_its_timeout():
    cluster = FakeCluster(controllers=[deployment_controller])
    cluster.put(deployment("web", "release-infra-prod", "registry.example/web:1"))
    kube = cluster.kube()
    version = cluster.find("Deployment", "web")["metadata"]["resourceVersion"]

    events = list(kube.watch(DEPLOYMENTS, "shop", version, "metadata.name=web", timeout_seconds=5))
    assert [kind for kind, _ in events] == ["MODIFIED"]
    steady = events[-1][1]
    assert steady["status"]["observedGeneration"] == steady["metadata"]["generation"] == 1
    assert steady["status"]["availableReplicas"] == 2
    assert len(kube.list(REPLICASETS, "shop")) == 1

    started = cluster.clock.monotonic()
    assert list(kube.watch(DEPLOYMENTS, "shop", steady["metadata"]["resourceVersion"], "metadata.name=web", 5)) == []
    assert cluster.clock.monotonic() - started == 5


def test_the_controller_numbers_revisions_as_the_deployment_controller_does():
    cluster = FakeCluster(controllers=[deployment_controller])
    deployer = FakeRollingDeployer(cluster)
    for tag in (1, 2, 1):
        deployer.deploy(f"registry.example/web:{tag}")
    by_image = {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs["metadata"]["annotations"]
                for rs in cluster.all("ReplicaSet")}
    # The template of revision 1 came back: its ReplicaSet is reused, renumbered 3, and remembers 1.
    assert by_image["registry.example/web:1"]["deployment.kubernetes.io/revision"] == "3"
    assert by_image["registry.example/web:1"]["deployment.kubernetes.io/revision-history"] == "1"
    assert by_image["registry.example/web:2"]["deployment.kubernetes.io/revision"] == "2"
    assert cluster.find("Deployment", "web")["metadata"]["generation"] == 3


def test_injected_faults_raise_the_real_error_types():
    cluster = FakeCluster()
    cluster.fail(lambda r: r.method == "POST", 403)
    with pytest.raises(apierrors.Forbidden):
        cluster.kube().create(CONFIGMAPS, "shop", config_map())
    cluster.kube().create(CONFIGMAPS, "shop", config_map())  # once only
    assert [r.short for r in cluster.writes()] == ["POST configmaps", "POST configmaps"]

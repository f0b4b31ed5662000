"""The record stores (records/registry.py): what each reads, which releases it decides, which
edits a plan implies and which rights they need, as data."""

from __future__ import annotations

import yaml

from kubectl_harness_rollback.model import Release, ReleaseModel, ReleaseWorkload, Source, Status, WorkloadRef
from kubectl_harness_rollback.modes import Match, Mode
from kubectl_harness_rollback.planner import Plan
from kubectl_harness_rollback.reader import Target, read_release
from kubectl_harness_rollback.records import annotations, declarative, legacy, registry
from kubectl_harness_rollback.records.store import ClusterObjects, Read, Right
from tests.support.fake_harness import FakeRollingDeployer, declarative_release, deployment, deployment_controller
from tests.support.fake_rest import FakeCluster

NS = "shop"
WEB = WorkloadRef("Deployment", "web", NS)


def test_the_stores_in_precedence_order():
    """Harness's own formats first, the legacy history before the release Secrets; Kubernetes'
    revisions last, and only as the fallback."""
    assert registry.STORES[:2] == (legacy.STORE, declarative.STORE)
    assert registry.STORES[-1] is annotations.STORE
    assert [store.fallback for store in registry.STORES] == [False] * (len(registry.STORES) - 1) + [True]


def record_reads(cluster: FakeCluster, release_name: str) -> list[str]:
    first = len(cluster.requests)
    read_release(cluster.kube(), NS, Target(release_name=release_name))
    """The requests for Harness's records: the history named like the release, its release Secrets."""
    named = (f"configmaps/{release_name}", f"secrets/{release_name}")
    return [r.short for r in cluster.requests[first:] if r.short.split(" ")[1] in named
            or (r.short == "GET secrets" and r.query.get("labelSelector", "").startswith("owner=harness"))]


def test_each_store_reads_what_it_keeps_and_no_more():
    cluster = FakeCluster(controllers=[deployment_controller])
    in_secret = FakeRollingDeployer(cluster, release_name="kept-in-secret", store="secret")
    in_secret.deploy("web:1")
    assert record_reads(cluster, "kept-in-secret") == ["GET secrets/kept-in-secret", "GET secrets"]
    in_config_map = FakeRollingDeployer(cluster, name="api", release_name="kept-in-configmap")
    in_config_map.deploy("api:1")
    assert record_reads(cluster, "kept-in-configmap") == [
        "GET secrets/kept-in-configmap", "GET configmaps/kept-in-configmap", "GET secrets"]


def test_a_secret_named_like_the_release_without_a_history_is_noted_and_the_config_map_read():
    cluster = FakeCluster(controllers=[deployment_controller])
    FakeRollingDeployer(cluster).deploy("web:1")
    cluster.put({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "release-infra-prod", "namespace": NS},
                 "data": {"token": "c2VjcmV0"}})
    model = read_release(cluster.kube(), NS, Target(release_name="release-infra-prod"))
    assert model.history_store.kind == "ConfigMap"
    assert model.notes == ["secret/release-infra-prod is named like the release but holds no releaseHistory: it is "
                           "not the release history (Harness reads the ConfigMap release-infra-prod instead, as this "
                           "plugin does)"]


def test_the_first_store_that_records_a_number_decides_it():
    cluster = FakeCluster(controllers=[deployment_controller])
    deployer = FakeRollingDeployer(cluster)
    deployer.deploy("web:1")
    deployer.deploy("web:2", "Failed")
    manifest = deployment("web", deployer.release_name, "web:2")
    for number, status in ((2, "Succeeded"), (3, "InProgress")):  # 2: the legacy history's; 3: only here
        cluster.put(declarative_release(deployer.release_name, number, status, [manifest]))
    model = read_release(cluster.kube(), NS, Target(release_name=deployer.release_name))
    assert [(r.number, r.status.value, r.source) for r in model.releases] == [
        (3, "InProgress", Source.DECLARATIVE), (2, "Failed", Source.LEGACY), (1, "Succeeded", Source.LEGACY)]


def legacy_model_and_plan(current_status=Status.FAILED):
    cluster = FakeCluster(controllers=[deployment_controller])
    deployer = FakeRollingDeployer(cluster)
    deployer.deploy("web:1")
    deployer.deploy("web:2", current_status.value)
    model = read_release(cluster.kube(), NS, Target(release_name=deployer.release_name))
    current, target = model.releases
    return model, Plan(deployer.release_name, NS, Mode.ROLLING, Match.WORKFLOW, current, target, [], "why")


def test_a_plan_made_before_any_write_lists_the_history_edit_without_its_body():
    model, plan = legacy_model_and_plan(Status.IN_PROGRESS)
    [planned] = registry.edits(model, plan, None)
    assert (planned.where, planned.patch, planned.item["changes"]) == (
        "configmap/release-infra-prod", None, [{"release": 2, "status": "Failed"}])


def test_the_history_edit_carries_the_new_revision_and_the_version_read():
    model, plan = legacy_model_and_plan(Status.IN_PROGRESS)
    [edit] = registry.edits(model, plan, {WEB: 3})
    assert edit.guarded and edit.patch["metadata"] == {"resourceVersion": model.history_store.resource_version}
    assert edit.item["changes"] == [{"release": 2, "status": "Failed"},
                                    {"release": 1, "kind": "Deployment", "name": "web", "revision": 3}]


def test_nothing_left_to_record_is_no_edit():
    model, plan = legacy_model_and_plan(Status.FAILED)
    assert registry.edits(model, plan, {WEB: 1}) == []  # already Failed, and revision 1 as recorded


def test_a_declarative_release_is_labelled_in_the_secret_it_was_read_from():
    current = Release(3, Status.IN_PROGRESS, [ReleaseWorkload(WEB, None)], Source.DECLARATIVE, secret="custom.name")
    target = Release(2, Status.SUCCEEDED, [ReleaseWorkload(WEB, None)], Source.DECLARATIVE, secret="other")
    model = ReleaseModel("r", NS, [current, target], {})
    plan = Plan("r", NS, Mode.ROLLING, Match.WORKFLOW, current, target, [], "why")
    [edit] = registry.edits(model, plan, None)
    assert (edit.kind, edit.name, edit.patch, edit.guarded) == (
        "Secret", "custom.name", {"metadata": {"labels": {"status": "Failed"}}}, False)
    assert registry.edits(model, plan, None) == registry.edits(model, plan, {WEB: 4})  # no revision in it
    assert registry.rights(model, plan) == [Right("patch", "Secret", "to record the rollback on the release Secrets")]


def test_revisions_alone_need_no_edit_and_no_right():
    release = Release(2, None, [ReleaseWorkload(WEB, 2)], Source.REVISIONS)
    older = Release(1, None, [ReleaseWorkload(WEB, 1)], Source.REVISIONS)
    model = ReleaseModel("r", NS, [release, older], {})
    plan = Plan("r", NS, Mode.ROLLING, Match.WORKFLOW, release, older, [], "why")
    assert (registry.edits(model, plan, {WEB: 3}), registry.rights(model, plan)) == ([], [])


def test_the_reads_are_data_the_reader_makes():
    asked = []

    def fetch(read):
        asked.append(read)
        return None

    objects = ClusterObjects("r", NS)
    for store in (legacy.STORE, declarative.STORE, annotations.STORE):
        store.read(fetch, "r", objects)
    assert asked == [Read("get", "Secret", "r"), Read("get", "ConfigMap", "r"),
                     Read("list", "Secret", label_selector="owner=harness,release=r")]
    assert not objects.found_any()



def test_a_store_names_its_own_source_and_it_shows_as_plain_text():
    """A new format declares its Source (no member added to model.py); -o yaml and json show it as text."""
    sources = [store.source for store in registry.STORES]
    assert all(isinstance(source, Source) for source in sources) and len(set(sources)) == len(sources)
    release = Release(1, Status.SUCCEEDED, [ReleaseWorkload(WEB, 1)], Source("example-format"))
    assert (release.where, type(release.where), release.is_legacy, release.is_declarative) == (
        "example-format", str, False, False)
    assert yaml.safe_dump({"source": release.where}) == "source: example-format\n"
    assert Release(1, None, [], Source("legacy")).is_legacy

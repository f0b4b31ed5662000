"""Joining the sources into one model: history decides status and revisions, annotations add identity."""

import base64
import gzip

import yaml

from kubectl_harness_rollback.model import Revision, Status, WorkloadRef, WorkloadState
from kubectl_harness_rollback.records.assemble import ClusterObjects, assemble, release_name_of

NS = "shop"
WEB = WorkloadRef("Deployment", "web", NS)


def revision(number, workflow=None, previous=(), **extra):
    notes = dict(extra)
    if workflow:
        notes.update({"harness.io/workflow-id": workflow, "harness.io/service": "svc", "harness.io/infra": "inf",
                      "harness.io/cluster-name": "prod"})
    return Revision(WEB, number, previous, "ReplicaSet", f"web-{number}", (f"web:{number}",), notes)


def web(*revisions):
    return WorkloadState(WEB, "7", revisions[-1].number, revisions[-1].images, list(revisions))


def legacy_config_map(releases):
    text = yaml.safe_dump({"version": "v1", "releases": releases})
    return {"metadata": {"name": "rel", "namespace": NS, "resourceVersion": "42"},
            "data": {"releaseHistory": base64.b64encode(gzip.compress(text.encode())).decode(),
                     "isReleaseHistoryCompressed": "true"}}


def managed(number, status, rev):
    return {"number": number, "status": status, "managedWorkloads": [
        {"workload": {"kind": "Deployment", "name": "web", "namespace": NS}, "revision": str(rev)}]}


def test_history_decides_status_and_annotations_add_identity():
    objects = ClusterObjects("rel", NS, legacy_config_map([managed(2, "Failed", 2), managed(1, "Succeeded", 1)]),
                             "ConfigMap", workloads=[web(revision(1, "w1"), revision(2, "w2"))])
    model = assemble(objects)
    assert [(r.number, r.status, r.identity.workflow_id) for r in model.releases] == [
        (2, Status.FAILED, "w2"), (1, Status.SUCCEEDED, "w1")]
    assert model.releases[0].identity.infra.namespace == NS
    assert model.history_store.kind == "ConfigMap" and model.history_store.compressed
    assert model.history_store.resource_version == "42"


def test_identity_found_through_a_renumbered_revision():
    objects = ClusterObjects("rel", NS, legacy_config_map([managed(2, "Failed", 2), managed(1, "Succeeded", 1)]),
                             "ConfigMap", workloads=[web(revision(2, "w2"), revision(3, "w1", previous=(1,)))])
    assert assemble(objects).releases[1].identity.workflow_id == "w1"


def test_without_history_releases_come_from_annotations():
    objects = ClusterObjects("rel", NS, workloads=[web(
        revision(1, "w1", **{"harness.io/release-number": "5", "harness.io/release-status": "Succeeded"}),
        revision(2, "w1", **{"harness.io/release-number": "6", "harness.io/release-status": "Failed"}))])
    model = assemble(objects)
    assert [(r.number, r.status, r.source, r.workloads[0].revision) for r in model.releases] == [
        (6, Status.FAILED, "annotations", 2), (5, Status.SUCCEEDED, "annotations", 1)]


def test_without_any_harness_record_revisions_have_no_status():
    model = assemble(ClusterObjects("deployment/web", NS, workloads=[web(revision(1), revision(2))]))
    assert [(r.number, r.status, r.source) for r in model.releases] == [(2, None, "revisions"), (1, None, "revisions")]


def test_release_name_from_template_label_or_own_label():
    assert release_name_of({"spec": {"template": {"metadata": {"labels": {"harness.io/release-name": "a"}}}},
                            "metadata": {}}) == "a"
    assert release_name_of({"metadata": {"labels": {"harness.io/release-name": "b"}}, "spec": {}}) == "b"
    assert release_name_of({"metadata": {}, "spec": {}}) is None

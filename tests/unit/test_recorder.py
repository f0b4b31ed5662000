"""`record`'s pure part: how a deploy step lands in the legacy history."""

from kubectl_harness_rollback.model import (
    HistoryStore,
    Release,
    ReleaseModel,
    ReleaseWorkload,
    Source,
    Status,
    WorkloadRef,
)
from kubectl_harness_rollback.recorder import RecordRequest, identity_annotations, recorded_history

WEB = WorkloadRef("Deployment", "web", "shop")


def model_with(releases, store=True):
    return ReleaseModel("rel", "shop", releases, {},
                        HistoryStore("ConfigMap", "rel", "shop", True, "1") if store else None)


def test_first_record_creates_release_1_in_harness_shape():
    doc, number, created = recorded_history(None, model_with([], store=False), {WEB: 3}, Status.SUCCEEDED)
    assert (number, created) == (1, True)
    assert doc == {"version": "v1", "releases": [{
        "number": 1, "status": "Succeeded",
        "resources": [{"kind": "Deployment", "name": "web", "namespace": "shop", "versioned": False}],
        "managedWorkloads": [{"workload": {"kind": "Deployment", "name": "web", "namespace": "shop",
                                           "versioned": False}, "revision": "3"}]}]}


def test_revisions_derived_without_a_history_do_not_number_the_release():
    derived = [Release(7, None, [ReleaseWorkload(WEB, 7)], Source.REVISIONS)]
    _, number, _ = recorded_history(None, model_with(derived, store=False), {WEB: 7}, Status.SUCCEEDED)
    assert number == 1


def test_a_new_revision_goes_on_top_newest_first():
    existing = {"version": "v1", "releases": [{"number": 1, "status": "Succeeded", "extra": "kept"}]}
    model = model_with([Release(1, Status.SUCCEEDED, [ReleaseWorkload(WEB, 1)], Source.LEGACY, store="configmap/rel")])
    doc, number, created = recorded_history(existing, model, {WEB: 2}, Status.FAILED)
    assert (number, created) == (2, True)
    assert [(r["number"], r["status"]) for r in doc["releases"]] == [(2, "Failed"), (1, "Succeeded")]
    assert doc["releases"][1]["extra"] == "kept"


def test_the_same_revisions_update_the_newest_release_in_place():
    existing = {"version": "v1", "releases": [{"number": 4, "status": "InProgress"}]}
    model = model_with([Release(4, Status.IN_PROGRESS, [ReleaseWorkload(WEB, 9)], Source.LEGACY, store="configmap/rel")])
    doc, number, created = recorded_history(existing, model, {WEB: 9}, Status.SUCCEEDED)
    assert (number, created, doc["releases"][0]["status"]) == (4, False, "Succeeded")


def test_identity_annotations_leave_out_what_was_not_given():
    assert identity_annotations(RecordRequest(Status.FAILED, workflow_id="w1"), 3) == {
        "harness.io/workflow-id": "w1", "harness.io/release-number": "3", "harness.io/release-status": "Failed"}

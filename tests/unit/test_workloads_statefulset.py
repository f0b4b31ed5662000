"""The StatefulSet adapter: ControllerRevisions, status.updateRevision, and the exact restore patch."""

from kubectl_harness_rollback.planner import WorkloadChange
from kubectl_harness_rollback.workloads import statefulset

UID = "s-uid"
AUDIT = {"harness.io/last-rollback": "{}"}


def controller_revision(number: int, image: str) -> dict:
    return {"metadata": {"name": f"db-{number}", "namespace": "shop",
                         "ownerReferences": [{"uid": UID, "controller": True}]},
            "revision": number,
            "data": {"spec": {"template": {"$patch": "replace", "metadata": {"labels": {"app": "db"}},
                                           "spec": {"containers": [{"name": "db", "image": image}]}}}}}


STATEFUL_SET = {
    "metadata": {"name": "db", "namespace": "shop", "uid": UID, "resourceVersion": "7"},
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "db"}},
             "template": {"spec": {"containers": [{"name": "db", "image": "db:2"}]}}},
    "status": {"updateRevision": "db-2"},
}


def test_state_takes_the_current_revision_from_update_revision():
    state = statefulset.state(STATEFUL_SET, [controller_revision(2, "db:2"), controller_revision(1, "db:1"),
                                             controller_revision(3, "db:3")])
    assert [r.number for r in state.revisions] == [1, 2, 3]
    assert state.current_revision == 2  # updateRevision names it, not the highest number


def test_restore_is_the_controller_revision_data_guarded_by_resource_version():
    state = statefulset.state(STATEFUL_SET, [controller_revision(1, "db:1"), controller_revision(2, "db:2")])
    change = WorkloadChange(state.ref, 2, 1, 1, ("db:2",), ("db:1",), state.revision(1))
    assert statefulset.restore(state, change, AUDIT) == {
        "spec": {"template": {"$patch": "replace", "metadata": {"labels": {"app": "db"}},
                              "spec": {"containers": [{"name": "db", "image": "db:1"}]}}},
        "metadata": {"resourceVersion": "7", "annotations": {"harness.io/last-rollback": "{}"}},
    }

"""The DaemonSet adapter: ControllerRevisions (the highest is current) and the exact restore patch."""

from kubectl_harness_rollback.planner import WorkloadChange
from kubectl_harness_rollback.workloads import daemonset

UID = "ds-uid"


def controller_revision(number: int, image: str) -> dict:
    return {"metadata": {"name": f"agent-{number}", "namespace": "ops",
                         "ownerReferences": [{"uid": UID, "controller": True}],
                         "annotations": {"harness.io/release-number": str(number)}},
            "revision": number,
            "data": {"spec": {"template": {"$patch": "replace",
                                           "spec": {"containers": [{"name": "agent", "image": image}]}}}}}


DAEMON_SET = {
    "metadata": {"name": "agent", "namespace": "ops", "uid": UID, "resourceVersion": "11"},
    "spec": {"selector": {"matchLabels": {"app": "agent"}},
             "template": {"spec": {"containers": [{"name": "agent", "image": "agent:5"}]}}},
}


def test_state_takes_the_highest_revision_as_current():
    state = daemonset.state(DAEMON_SET, [controller_revision(5, "agent:5"), controller_revision(4, "agent:4")])
    assert (state.current_revision, [r.images for r in state.revisions]) == (5, [("agent:4",), ("agent:5",)])
    assert state.revision(4).annotations == {"harness.io/release-number": "4"}


def test_restore_is_the_controller_revision_data_guarded_by_resource_version():
    state = daemonset.state(DAEMON_SET, [controller_revision(4, "agent:4"), controller_revision(5, "agent:5")])
    change = WorkloadChange(state.ref, 5, 4, 4, ("agent:5",), ("agent:4",), state.revision(4))
    body = daemonset.restore(state, change, {"harness.io/last-rollback": "x"})
    assert body == {
        "spec": {"template": {"$patch": "replace", "spec": {"containers": [{"name": "agent", "image": "agent:4"}]}}},
        "metadata": {"resourceVersion": "11", "annotations": {"harness.io/last-rollback": "x"}},
    }
    body["spec"]["template"]["spec"] = {}  # a copy: the revision read stays as it was
    assert state.revision(4).template["spec"] == {"containers": [{"name": "agent", "image": "agent:4"}]}

"""The Deployment adapter: its revisions, and the exact patch that restores one (as kubectl's
rollback_test.go checks getDeploymentPatch byte for byte)."""

import pytest

from kubectl_harness_rollback.errors import RolloutFailed
from kubectl_harness_rollback.planner import WorkloadChange
from kubectl_harness_rollback.workloads import deployment

UID = "d-uid"
AUDIT = {"harness.io/last-rollback": '{"by":"ops"}'}


def replica_set(revision: str, image: str, **annotations: str) -> dict:
    return {
        "metadata": {"name": f"web-{revision}", "namespace": "shop",
                     "annotations": {"deployment.kubernetes.io/revision": revision, **annotations},
                     "ownerReferences": [{"uid": UID, "controller": True}]},
        "spec": {"replicas": 0, "template": {
            "metadata": {"labels": {"app": "web", "pod-template-hash": f"h{revision}"}},
            "spec": {"containers": [{"name": "web", "image": image}]}}},
        "status": {"readyReplicas": 0},
    }


DEPLOYMENT = {
    "metadata": {"name": "web", "namespace": "shop", "uid": UID, "resourceVersion": "42",
                 "annotations": {"deployment.kubernetes.io/revision": "3", "harness.io/release-number": "3",
                                 "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
    "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "web", "image": "web:3"}]}}},
}
CHILDREN = [replica_set("2", "web:2", **{"harness.io/release-number": "2", "harness.io/workflow-id": "wf"}),
            replica_set("3", "web:3"),
            {**replica_set("9", "other:9"), "metadata": {**replica_set("9", "other:9")["metadata"],
                                                        "ownerReferences": [{"uid": "someone-else"}]}}]


def test_state_keeps_the_revisions_it_controls_in_order():
    state = deployment.state(DEPLOYMENT, CHILDREN)
    assert [(r.number, r.images, r.object_name) for r in state.revisions] == [
        (2, ("web:2",), "web-2"), (3, ("web:3",), "web-3")]
    assert (state.current_revision, state.resource_version, state.replicas, state.has_revisions) == (3, "42", 4, True)


def test_restore_replaces_template_and_annotations_keeping_the_live_bookkeeping():
    state = deployment.state(DEPLOYMENT, CHILDREN)
    revision = state.revision(2)
    change = WorkloadChange(state.ref, 3, 2, 2, ("web:3",), ("web:2",), revision)
    assert deployment.restore(state, change, AUDIT) == [
        {"op": "replace", "path": "/metadata/resourceVersion", "value": "42"},
        {"op": "replace", "path": "/spec/template", "value": {
            "metadata": {"labels": {"app": "web"}},  # without the controller's pod-template-hash
            "spec": {"containers": [{"name": "web", "image": "web:2"}]}}},
        {"op": "replace", "path": "/metadata/annotations", "value": {
            "harness.io/release-number": "2", "harness.io/workflow-id": "wf",
            "kubectl.kubernetes.io/last-applied-configuration": "{}", "deployment.kubernetes.io/revision": "3",
            "harness.io/last-rollback": '{"by":"ops"}'}},
    ]
    # The revision read is left as it was: the patch is built from a copy.
    assert revision.raw["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == "h2"


def test_rollout_status_speaks_like_kubectl():
    obj = {**DEPLOYMENT, "metadata": {**DEPLOYMENT["metadata"], "generation": 5},
           "status": {"observedGeneration": 5, "updatedReplicas": 2, "replicas": 4, "availableReplicas": 2}}
    assert deployment.rollout_status(obj) == (
        False, 'Waiting for deployment "web" rollout to finish: 2 out of 4 new replicas have been updated...')
    obj["status"].update(updatedReplicas=4, availableReplicas=4)
    assert deployment.rollout_status(obj) == (True, 'deployment "web" successfully rolled out')


# After a rollback of a stalled rollout: the condition the controller keeps from before.
def stalled(message: str, updated: int = 0) -> dict:
    """Status as the controller writes it in its first sync after a rollback: new generation
    observed, and the Progressing condition it keeps from before."""
    return {
        "metadata": {"name": "web", "namespace": "shop", "generation": 4},
        "spec": {"replicas": 2},
        "status": {"observedGeneration": 4, "replicas": 2, "updatedReplicas": updated, "availableReplicas": 0,
                   "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                   "message": message}]},
    }


def test_a_deadline_condition_left_over_from_the_failed_replicaset_keeps_the_wait_going():
    done, message = deployment.rollout_status(stalled('ReplicaSet "web-bad" has timed out progressing.'),
                                              restored_from="web-good")
    assert not done
    assert message == 'Waiting for deployment "web" rollout to finish: 0 out of 2 new replicas have been updated...'


@pytest.mark.parametrize("message, restored_from", [
    ('ReplicaSet "web-good" has timed out progressing.', "web-good"),  # the restored one stalls too
    ('Deployment "web" has timed out progressing.', "web-good"),       # names no ReplicaSet
    ('ReplicaSet "web-bad" has timed out progressing.', None),         # not after a rollback
])
def test_a_deadline_condition_about_this_rollout_fails_it(message, restored_from):
    with pytest.raises(RolloutFailed, match='deployment "web" exceeded its progress deadline'):
        deployment.rollout_status(stalled(message, updated=2), restored_from=restored_from)

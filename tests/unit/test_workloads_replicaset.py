"""The bare ReplicaSet adapter: no revisions; a rollback restores it by its scale."""

from kubectl_harness_rollback.planner import WorkloadChange
from kubectl_harness_rollback.workloads import replicaset

REPLICA_SET = {
    "metadata": {"name": "web-2", "namespace": "shop", "resourceVersion": "5",
                 "labels": {"harness.io/release-name": "rel"}},
    "spec": {"replicas": 0, "template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}}},
}


def change(state, replicas):
    return WorkloadChange(state.ref, None, None, 2, state.images, state.images, None, to_replicas=replicas)


def test_state_has_no_revisions():
    state = replicaset.state(REPLICA_SET, [])
    assert (state.has_revisions, state.revisions, state.current_revision, state.replicas) == (False, [], None, 0)


def test_restore_scales_it_guarded_by_resource_version():
    state = replicaset.state(REPLICA_SET, [])
    assert replicaset.restore(state, change(state, 3), {"harness.io/last-rollback": "{}"}) == {
        "metadata": {"resourceVersion": "5", "annotations": {"harness.io/last-rollback": "{}"}},
        "spec": {"replicas": 3},
    }


def test_restore_writes_nothing_when_the_scale_is_already_right():
    state = replicaset.state(REPLICA_SET, [])
    assert replicaset.restore(state, change(state, 0), {}) is None


def test_list_workloads_leaves_out_replica_sets_a_deployment_controls(monkeypatch):
    owned = {"metadata": {"name": "web-abc", "ownerReferences": [{"controller": True, "uid": "d"}]}}
    monkeypatch.setattr(replicaset._api, "list", lambda kube, namespace: [owned, REPLICA_SET])
    assert replicaset.list_workloads(None, "shop") == [REPLICA_SET]

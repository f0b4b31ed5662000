"""A 409 caused by a controller's status write is not someone else's change (apply/object_diff.only_status_moved)."""

import copy

import pytest

from kubectl_harness_rollback.apply.object_diff import only_status_moved

READ = {"metadata": {"name": "web", "uid": "u1", "generation": 4, "resourceVersion": "100",
                     "labels": {"app": "web"}, "annotations": {"deployment.kubernetes.io/revision": "3"},
                     "managedFields": [{"manager": "kubectl"}]},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "web", "image": "web:3"}]}}},
        "status": {"replicas": 3, "readyReplicas": 1}}


def changed(**edits):
    obj = copy.deepcopy(READ)
    for path, value in edits.items():
        *parents, leaf = path.split("__")
        node = obj
        for key in parents:
            node = node[key]
        node[leaf] = value
    return obj


def test_status_resource_version_and_managed_fields_may_move():
    now = changed(metadata__resourceVersion="101", status__replicas=2, metadata__managedFields=[])
    assert only_status_moved(READ, now)


@pytest.mark.parametrize("edit", [
    {"spec__replicas": 3},
    {"metadata__generation": 5},
    {"metadata__uid": "u2"},  # deleted and created again
    {"metadata__labels": {"app": "web", "tier": "x"}},
    {"metadata__annotations": {"deployment.kubernetes.io/revision": "4"}},
    {"metadata__ownerReferences": [{"kind": "Deployment", "name": "web"}]},
    {"metadata__deletionTimestamp": "2026-11-29T13:00:00Z"},
])
def test_anything_the_plan_was_made_from_is_a_real_change(edit):
    assert not only_status_moved(READ, changed(metadata__resourceVersion="101", **edit))


def test_an_object_read_without_its_spec_is_never_retried():
    assert not only_status_moved({"metadata": READ["metadata"]}, READ)

"""The kinds table says what the API server's discovery says: plural, scope and short names."""

import pytest

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.cluster.apierrors import NotFound
from kubectl_harness_rollback.cluster.client import connect
from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags


def test_every_kind_the_cluster_serves_is_mapped_as_its_discovery_maps_it(test_cluster):
    kube = connect(ConnectionFlags(), env={"KUBECONFIG": test_cluster.kubeconfig})
    served: dict[str, list[dict]] = {}
    checked = []
    for kind in kinds.TABLE:
        if kind.api_version not in served:
            try:
                served[kind.api_version] = kube.api_resources(kind.api_version)
            except NotFound:  # a group or version this API server does not serve (OpenShift, a beta off)
                served[kind.api_version] = []
        found = [r for r in served[kind.api_version] if r.get("kind") == kind.name and "/" not in r["name"]]
        if not found:
            continue
        resource = found[0]
        assert (resource["name"], resource["namespaced"], tuple(resource.get("shortNames") or ())) == (
            kind.plural, kind.namespaced, kind.short_names), kind.name
        checked.append(kind.name)
    # The kinds a rollback reads and writes are all served by a plain control plane.
    assert {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ControllerRevision", "ConfigMap", "Secret",
            "Service", "Event", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Namespace"} <= set(checked)
    if len(checked) < len(kinds.TABLE) - 5:
        pytest.fail(f"only {len(checked)} of {len(kinds.TABLE)} kinds are served: {sorted(checked)}")

"""`list` over a fleet of releases on the real control plane: twice the releases, the same
requests (their histories are read by one list of their namespace, not one read each)."""

from __future__ import annotations

from kubectl_harness_rollback.cluster.client import connect
from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags
from kubectl_harness_rollback.listing import read_catalog
from tests.support import request_log
from tests.support.harness import HarnessRollingDeployer


def test_list_makes_as_many_requests_for_twice_the_releases(apps, core, namespace, test_cluster):
    made = 0

    def releases(upto: int) -> None:
        nonlocal made
        for n in range(made, upto):
            deployer = HarnessRollingDeployer(apps, core, namespace, name=f"web{n}", release_name=f"rel-{n}")
            deployer.deploy("registry.example/web:1")
            deployer.deploy("registry.example/web:2", status="Failed")
        made = upto

    def requests(all_namespaces: bool) -> list:
        kube = connect(ConnectionFlags(namespace=namespace), env={"KUBECONFIG": test_cluster.kubeconfig})
        rows, _ = read_catalog(kube, None if all_namespaces else namespace)
        mine = [r for r in rows if r["namespace"] == namespace]
        assert [(r["release"], r["latest"], r["status"], r["liveReleases"]) for r in mine] == sorted(
            (f"rel-{n}", 2, "Failed", [2]) for n in range(made))
        return request_log.about(kube.requests, namespace)

    releases(6)
    few = {scope: requests(scope) for scope in (False, True)}
    releases(12)
    many = {scope: requests(scope) for scope in (False, True)}
    assert many == few
    # The lists of each kind, then one list of the namespace's ConfigMaps for its histories; across
    # namespaces, that list is of every namespace when the other namespaces' releases are listed
    # whole too and little else is held elsewhere (listing.plan_reads: other tests' namespaces decide).
    assert len(few[False]) == 7 + 1 and len(few[True]) == 7 + 1
    for scope, paths in ((False, [f"/api/v1/namespaces/{namespace}/configmaps"]),
                         (True, [f"/api/v1/namespaces/{namespace}/configmaps", "/api/v1/configmaps"])):
        histories = [sent for sent in few[scope] if sent[1] in paths and not sent.metadata_only]
        assert len(histories) == 1 and "fieldSelector" not in histories[0].query

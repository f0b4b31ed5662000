"""Bare ReplicaSets (no revisions of their own) are rolled back by their scale: the planner says
how many replicas each gets, table-driven."""

import pytest

from kubectl_harness_rollback.model import (
    Release,
    ReleaseModel,
    ReleaseWorkload,
    Source,
    Status,
    WorkloadRef,
    WorkloadState,
)
from kubectl_harness_rollback.planner import PlanOptions, plan

NS = "shop"


def rs(name: str) -> WorkloadRef:
    return WorkloadRef("ReplicaSet", name, NS)


def model(replicas: dict[str, int]) -> ReleaseModel:
    """Release 2 (Failed) ran web-2, release 1 (Succeeded) web-1; `replicas` is what each runs now."""
    releases = [Release(2, Status.FAILED, [ReleaseWorkload(rs("web-2"), None)], Source.LEGACY, store="configmap/r"),
                Release(1, Status.SUCCEEDED, [ReleaseWorkload(rs("web-1"), None)], Source.LEGACY, store="configmap/r")]
    states = {rs(name): WorkloadState(rs(name), "7", None, (f"web:{name[-1]}",), [], replicas=count,
                                      has_revisions=False) for name, count in replicas.items()}
    return ReleaseModel("r", NS, releases, states)


# replicas now -> (web-1 gets, web-1 unchanged, what is scaled down)
CASES = {
    "failed one up, good one at zero": ({"web-1": 0, "web-2": 3}, (3, False, [("web-2", 0)])),
    "both up (a cut-short run)": ({"web-1": 3, "web-2": 3}, (3, False, [("web-2", 0)])),
    "already rolled back": ({"web-1": 3, "web-2": 0}, (3, True, [("web-2", 0)])),
    "failed one gone": ({"web-1": 0}, (1, False, [])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_replicas_each_replica_set_gets(name):
    replicas, (up_to, unchanged, down) = CASES[name]
    result = plan(model(replicas), PlanOptions())
    change, = result.workloads
    assert (change.ref.name, change.to_replicas, change.unchanged) == ("web-1", up_to, unchanged)
    assert [(c.ref.name, c.to_replicas) for c in result.scale_down] == down

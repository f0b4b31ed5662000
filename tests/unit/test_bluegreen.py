"""Blue/green decisions without a cluster: which Services are primary and stage, and whether to swap."""

import pytest

from kubectl_harness_rollback.model import (
    Release,
    ReleaseModel,
    ReleaseWorkload,
    ServiceState,
    Source,
    Status,
    WorkloadRef,
    WorkloadState,
)
from kubectl_harness_rollback.strategies.bluegreen import BlueGreenError, belongs, find_services, traffic_plan

NS = "shop"
BLUE, GREEN = WorkloadRef("Deployment", "web-blue", NS), WorkloadRef("Deployment", "web-green", NS)


def service(name, color, role=None):
    selector = {"app": "web", **({"harness.io/color": color} if color else {})}
    annotations = {f"harness.io/{role}-service": "true"} if role else {}
    return ServiceState(name, NS, selector, annotations, "1")


def model(services, blue_replicas=2):
    states = {
        BLUE: WorkloadState(BLUE, "1", 1, ("web:1",), [], replicas=blue_replicas, labels={"harness.io/color": "blue"}),
        GREEN: WorkloadState(GREEN, "1", 1, ("web:2",), [], replicas=2, labels={"harness.io/color": "green"}),
    }
    releases = [Release(2, Status.FAILED, [ReleaseWorkload(GREEN, 1)], Source.LEGACY, store="configmap/r"),
                Release(1, Status.SUCCEEDED, [ReleaseWorkload(BLUE, 1)], Source.LEGACY, store="configmap/r")]
    return ReleaseModel("r", NS, releases, states, services=services)


@pytest.mark.parametrize("services, expected", [
    ([service("web", "green", "primary"), service("web-stage", "blue", "stage")], ("web", "web-stage")),
    ([service("web", "green"), service("web-stage", "blue")], ("web", "web-stage")),  # no annotations
    ([service("front", "green", "primary"), service("back", "blue", "stage")], ("front", "back")),
])
def test_find_services(services, expected):
    primary, stage = find_services(model(services))
    assert (primary.name, stage.name) == expected


@pytest.mark.parametrize("services, message", [
    ([service("web", "green")], "no stage Service for primary service/web"),
    ([service("web", "green"), service("web-stage", "green")], "both route to green"),
    ([service("web", None), service("web-stage", "blue")], "service/web selects no harness.io/color"),
    ([service("a", "green", "primary"), service("b", "blue", "primary")], "conflicting"),
    ([service("a", "green"), service("b", "blue")], "cannot tell the primary Service"),
])
def test_bad_services(services, message):
    with pytest.raises(BlueGreenError, match=message):
        find_services(model(services))


def test_swap_back_when_the_failed_color_is_primary():
    m = model([service("web", "green", "primary"), service("web-stage", "blue", "stage")])
    notes = []
    plan = traffic_plan(m, m.releases[0], m.releases[1], notes)
    assert [(s.name, s.from_color, s.to_color) for s in plan.swaps] == [("web", "green", "blue"),
                                                                      ("web-stage", "blue", "green")]
    assert plan.swaps[0].to_selector == {"app": "web", "harness.io/color": "blue"}
    assert (plan.back_workload, plan.scale_up_to, plan.failed_workload) == (BLUE, None, GREEN)


def test_no_swap_when_traffic_never_moved():
    m = model([service("web", "blue", "primary"), service("web-stage", "green", "stage")])
    notes = []
    plan = traffic_plan(m, m.releases[0], m.releases[1], notes)
    assert plan.swaps == [] and "traffic never moved" in notes[0]


def test_scaled_to_zero_color_is_scaled_up_to_the_failed_colors_replicas():
    m = model([service("web", "green", "primary"), service("web-stage", "blue", "stage")], blue_replicas=0)
    plan = traffic_plan(m, m.releases[0], m.releases[1], [])
    assert plan.scale_up_to == 2


def test_service_belongs_by_selector_minus_color():
    assert belongs({"app": "web", "harness.io/color": "blue"}, [{"app": "web", "harness.io/color": "green"}])
    assert not belongs({"app": "other", "harness.io/color": "blue"}, [{"app": "web"}])
    assert not belongs({"harness.io/color": "blue"}, [{"harness.io/color": "blue"}])


def test_blue_green_is_told_from_the_cluster_when_the_history_records_no_environment():
    """FirstGen histories (and NextGen ones before mid-2023) have no bgEnvironment."""
    from kubectl_harness_rollback.strategies.bluegreen import is_blue_green

    m = model([service("web", "green", "primary"), service("web-stage", "blue", "stage")])
    assert all(r.bg_environment is None and r.color is None for r in m.releases)
    assert is_blue_green(m)  # harness.io/color on the workloads
    for state in m.workloads.values():
        state.labels = {}
    assert is_blue_green(m)  # -blue/-green workloads behind Services that select a color
    m.services = []
    assert not is_blue_green(m)


def test_rolling_back_the_swap_moves_bg_environment_like_harness_and_no_status():
    m = model([service("web", "green", "primary"), service("web-stage", "blue", "stage")])
    m.releases[0].status, m.releases[0].bg_environment = Status.SUCCEEDED, "primary"  # green, swapped in
    m.releases[1].bg_environment = "stage"  # blue
    plan = traffic_plan(m, m.releases[0], m.releases[1], [])
    assert [(r.number, env) for r, env in plan.environments] == [(2, "stage"), (1, "primary")]


def test_releases_without_bg_environment_are_left_as_they_are():
    m = model([service("web", "green", "primary"), service("web-stage", "blue", "stage")])
    m.releases[0].status = Status.SUCCEEDED
    assert traffic_plan(m, m.releases[0], m.releases[1], []).environments == []

"""Blue/green `rollback` through the in-memory API server: the color going back is ready before
any Service moves, the two Services swap back, Harness's swap bookkeeping follows; a failed
second swap puts the first Service back; re-runs and dry runs write nothing."""

import pytest

from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.planner import PlanOptions
from tests.support.fake_harness import FakeBlueGreenDeployer, deployment_controller, read_history, rollback
from tests.support.fake_rest import FakeCluster, nth_write
from tests.support.harness import COLOR

RELEASE = "release-bg"
FROM_2 = PlanOptions(from_release=2)


def blue_then_green() -> tuple[FakeCluster, FakeBlueGreenDeployer]:
    """Harness's flow: blue staged and swapped to primary (release 1), then green (release 2)."""
    cluster = FakeCluster(controllers=[deployment_controller])
    deployer = FakeBlueGreenDeployer(cluster)
    deployer.create_services()
    for color, tag in (("blue", 1), ("green", 2)):
        deployer.deploy_stage(color, f"registry.example/shop:{tag}")
        deployer.swap_step()
    return cluster, deployer


def colors(deployer: FakeBlueGreenDeployer) -> list[str]:
    return [selector[COLOR] for selector in deployer.selectors()]


def environments(cluster: FakeCluster) -> list[tuple[int, str, str]]:
    return [(r["number"], r["status"], r.get("bgEnvironment")) for r in read_history(cluster, RELEASE)]


def test_services_swap_back_then_the_history_and_an_event_say_so():
    cluster, deployer = blue_then_green()
    assert colors(deployer) == ["green", "blue"]
    assert environments(cluster) == [(2, "Succeeded", "primary"), (1, "Succeeded", "stage")]

    ran = rollback(cluster, RELEASE, FROM_2)

    assert ran.error is None
    assert ran.writes == ["PATCH services/shop", "PATCH services/shop-stage", f"PATCH configmaps/{RELEASE}",
                          "POST events"]
    primary, stage = [r for r in ran.requests if "/services/" in r.path]
    assert {"op": "replace", "path": "/spec/selector", "value": {"app": "shop", COLOR: "blue"}} in primary.body
    assert any(op["path"] == "/metadata/resourceVersion" for op in primary.body)  # guarded
    # The color going back was seen ready (its rollout status) before the first Service moved.
    ready = next(i for i, r in enumerate(ran.requests) if r.method == "GET" and r.path.endswith("/shop-blue"))
    assert ready < ran.requests.index(primary)
    assert colors(deployer) == ["blue", "green"]
    assert environments(cluster) == [(2, "Succeeded", "stage"), (1, "Succeeded", "primary")]
    event, = cluster.all("Event")
    assert event["involvedObject"]["kind"] == "Service" and event["involvedObject"]["name"] == "shop"

    again = rollback(cluster, RELEASE, FROM_2)
    assert again.error is None and again.writes == []
    assert colors(deployer) == ["blue", "green"]


def test_a_failed_second_swap_puts_the_first_service_back():
    cluster, deployer = blue_then_green()
    cluster.fail(nth_write(2), 500)

    ran = rollback(cluster, RELEASE, FROM_2)

    assert ran.error is not None
    assert ran.writes == ["PATCH services/shop", "PATCH services/shop-stage", "PATCH services/shop"]
    assert colors(deployer) == ["green", "blue"]
    assert environments(cluster) == [(2, "Succeeded", "primary"), (1, "Succeeded", "stage")]
    assert cluster.all("Event") == []


def test_a_color_at_zero_is_scaled_up_and_ready_before_traffic_moves():
    cluster, deployer = blue_then_green()
    blue = cluster.find("Deployment", "shop-blue")
    blue["spec"]["replicas"] = 0
    cluster.update(blue)
    cluster.settle()

    ran = rollback(cluster, RELEASE, FROM_2)

    assert ran.error is None
    assert ran.writes[:3] == ["PATCH deployments/shop-blue", "PATCH services/shop", "PATCH services/shop-stage"]
    scale = ran.requests.index(next(r for r in ran.requests if r.is_write))
    watch = next(i for i, r in enumerate(ran.requests) if r.query.get("watch"))
    assert scale < watch < ran.requests.index(next(r for r in ran.requests if "/services/" in r.path))
    assert cluster.find("Deployment", "shop-blue")["spec"]["replicas"] == 2
    assert colors(deployer) == ["blue", "green"]


@pytest.mark.parametrize("dry_run", [DryRun.SERVER, DryRun.CLIENT])
def test_dry_runs_move_no_traffic(dry_run):
    cluster, deployer = blue_then_green()
    before = {key: obj["metadata"]["resourceVersion"] for key, obj in cluster.objects.items()}

    ran = rollback(cluster, RELEASE, FROM_2, dry_run=dry_run)

    assert ran.error is None
    expected = ["PATCH services/shop (dry run)", "PATCH services/shop-stage (dry run)"]
    assert ran.writes == (expected if dry_run is DryRun.SERVER else [])
    assert {key: obj["metadata"]["resourceVersion"] for key, obj in cluster.objects.items()} == before
    assert colors(deployer) == ["green", "blue"]

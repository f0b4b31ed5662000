"""Blue/green rollback on the real control plane: Service selectors swap back, and the primary
Service's EndpointSlice ends up listing the pods of the color that worked."""

import json

import pytest
from kubernetes import client as k8s

from tests.support.admission import denying_service_updates
from tests.support.harness import COLOR, HarnessBlueGreenDeployer
from tests.support.waiting import eventually

RELEASE = "release-bg"


def colors(deployer):
    primary, stage = deployer.selectors()
    return primary[COLOR], stage[COLOR]


def blue_then_failed_green(apps, core, namespace, swap_green=True):
    deployer = HarnessBlueGreenDeployer(apps, core, namespace)
    deployer.create_services()
    deployer.deploy("blue", "registry.example/shop:1")  # primary routes blue
    deployer.deploy("green", "registry.example/shop:2", status="Failed", swap=swap_green)
    return deployer


def endpoint_ips(core, namespace, service):
    slices = k8s.DiscoveryV1Api(core.api_client).list_namespaced_endpoint_slice(
        namespace, label_selector=f"kubernetes.io/service-name={service}").items
    return {a for s in slices for e in (s.endpoints or []) if e.conditions.ready for a in e.addresses}


def pod_ips(core, namespace, color):
    pods = core.list_namespaced_pod(namespace, label_selector=f"app=shop,{COLOR}={color}").items
    return {p.status.pod_ip for p in pods if p.status.pod_ip and p.metadata.deletion_timestamp is None}


def test_swapped_failure_routes_primary_back_to_blue(apps, core, namespace, plugin):
    deployer = blue_then_failed_green(apps, core, namespace)
    assert colors(deployer) == ("green", "blue")

    view = json.loads(plugin("plan", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert view["mode"] == "blue-green"
    assert view["services"] == [{"name": "shop", "role": "primary", "fromColor": "green", "toColor": "blue"},
                                {"name": "shop-stage", "role": "stage", "fromColor": "blue", "toColor": "green"}]

    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert colors(deployer) == ("blue", "green")
    assert deployer.selectors() == ({"app": "shop", COLOR: "blue"}, {"app": "shop", COLOR: "green"})
    blue = pod_ips(core, namespace, "blue")
    assert len(blue) == 2
    eventually(lambda: endpoint_ips(core, namespace, "shop") == blue)
    rows = json.loads(plugin("history", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(r["number"], r["status"], r["color"]) for r in rows] == [(2, "Failed", "green"), (1, "Succeeded", "blue")]

    again = plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert "already rolled back: " in again.stdout and "traffic never moved" not in again.stdout
    assert colors(deployer) == ("blue", "green")


def test_never_swapped_failure_changes_nothing(apps, core, namespace, plugin):
    deployer = blue_then_failed_green(apps, core, namespace, swap_green=False)
    before = deployer.selectors()
    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert "traffic never moved" in done.stdout
    assert deployer.selectors() == before


def test_color_scaled_to_zero_is_scaled_up_and_ready_before_traffic_moves(apps, core, namespace, plugin):
    deployer = blue_then_failed_green(apps, core, namespace)
    apps.patch_namespaced_deployment("shop-blue", namespace, {"spec": {"replicas": 0}})  # Harness's stage scale down
    eventually(lambda: not pod_ips(core, namespace, "blue"))

    done = plugin("rollback", RELEASE, "-n", namespace, "--scale-down-stage", check_exit=0)
    assert "deployment/shop-blue: scaled to 2" in done.stderr
    assert done.stderr.index("successfully rolled out") < done.stderr.index("service/shop: switched")
    assert colors(deployer) == ("blue", "green")
    assert apps.read_namespaced_deployment("shop-green", namespace).spec.replicas == 0
    eventually(lambda: endpoint_ips(core, namespace, "shop") == pod_ips(core, namespace, "blue") and
               len(pod_ips(core, namespace, "blue")) == 2)


def test_failure_on_the_second_service_write_leaves_both_as_they_were(apps, core, namespace, plugin):
    deployer = blue_then_failed_green(apps, core, namespace)
    before = deployer.selectors()
    with denying_service_updates(core, namespace):
        done = plugin("rollback", RELEASE, "-n", namespace, check_exit=1)
    assert "service/shop was restored" in done.stderr
    assert deployer.selectors() == before


@pytest.mark.parametrize("mode", ["client", "server"])
def test_dry_run_moves_no_traffic(apps, core, namespace, plugin, mode):
    deployer = blue_then_failed_green(apps, core, namespace)
    before = deployer.selectors()
    done = plugin("rollback", RELEASE, "-n", namespace, f"--dry-run={mode}", check_exit=0)
    assert deployer.selectors() == before
    assert "service/shop: would route blue (routes green now)" in done.stdout, done.stdout
    assert "service/shop: would record a RolledBack Event on it" in done.stdout
    assert "switched" not in done.stdout + done.stderr


def break_services(core, namespace, how):
    if how == "no stage Service":
        core.delete_namespaced_service("shop-stage", namespace)
    elif how == "both on one color":
        core.patch_namespaced_service("shop-stage", namespace, [
            {"op": "replace", "path": "/spec/selector", "value": {"app": "shop", COLOR: "green"}}])
    elif how == "selector without color":
        core.patch_namespaced_service("shop-stage", namespace, [
            {"op": "replace", "path": "/spec/selector", "value": {"app": "shop"}}])


@pytest.mark.parametrize("how, message", [
    ("no stage Service", "no stage Service for primary service/shop"),
    ("both on one color", "both route to green"),
    ("selector without color", "service/shop-stage selects no harness.io/color"),
    ("target workload missing", "no workload of color blue"),
])
def test_bad_blue_green_setups_are_refused_before_any_write(apps, core, namespace, plugin, how, message):
    blue_then_failed_green(apps, core, namespace)
    if how == "target workload missing":
        apps.delete_namespaced_deployment("shop-blue", namespace)
        eventually(lambda: not [d for d in apps.list_namespaced_deployment(namespace).items
                                if d.metadata.name == "shop-blue"])
    else:
        break_services(core, namespace, how)
    primary_before = core.read_namespaced_service("shop", namespace).spec.selector
    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=1)
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert core.read_namespaced_service("shop", namespace).spec.selector == primary_before

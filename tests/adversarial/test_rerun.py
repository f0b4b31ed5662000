"""A tired admin runs every command twice; a pipeline retries after a timeout.

Property for every kind of rollback: the second run changes nothing the first one restored —
no object's resourceVersion moves, and no second RolledBack Event is written.
"""

import json

import pytest
from kubernetes import client as k8s

from tests.adversarial.state import changed, versions
from tests.support.harness import (
    HarnessBlueGreenDeployer,
    HarnessRollingDeployer,
    Identity,
    deployment_body,
    wait_for_rollout,
    write_declarative_release,
)

RELEASE = "release-infra-prod"


def image(apps, namespace, name="web"):
    return apps.read_namespaced_deployment(name, namespace).spec.template.spec.containers[0].image


def rolling(apps, core, namespace):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    for tag, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
        deployer.deploy(f"registry.example/web:{tag}", status=status)
    return RELEASE, lambda: image(apps, namespace) == "registry.example/web:2"


def without_history(apps, core, namespace):
    """A Deployment no pipeline recorded: kubectl's rule, the previous revision."""
    apps.create_namespaced_deployment(namespace, k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name="web"),
        spec=k8s.V1DeploymentSpec(
            replicas=2, selector=k8s.V1LabelSelector(match_labels={"app": "web"}),
            template=k8s.V1PodTemplateSpec(
                metadata=k8s.V1ObjectMeta(labels={"app": "web"}),
                spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="web", image="registry.example/web:1")])))))
    wait_for_rollout(apps, namespace, "web")
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "registry.example/web:2-BAD"}]}}}})
    wait_for_rollout(apps, namespace, "web")
    return "deployment/web", lambda: image(apps, namespace) == "registry.example/web:1"


def declarative(apps, core, namespace, latest_status="Failed"):
    manifests = {}
    for number, status in ((1, "Succeeded"), (2, latest_status)):
        body = deployment_body("web", RELEASE, f"registry.example/web:{number}", Identity(), number)
        manifest = apps.api_client.sanitize_for_serialization(body)
        manifest.update({"apiVersion": "apps/v1", "kind": "Deployment"})
        manifests[number] = manifest
        if number == 1:
            apps.create_namespaced_deployment(namespace, body)
        else:
            apps.patch_namespaced_deployment("web", namespace, {"spec": {"template": manifest["spec"]["template"]}})
        wait_for_rollout(apps, namespace, "web")
        write_declarative_release(core, namespace, RELEASE, number, status, [manifest])
    return RELEASE, lambda: image(apps, namespace) == "registry.example/web:1"


def statefulset(apps, core, namespace):
    from tests.integration.test_rollback_kinds import deploy_controller_revisions

    name = deploy_controller_revisions(apps, core, namespace, "StatefulSet")
    return RELEASE, lambda: apps.read_namespaced_stateful_set(name, namespace).spec.template.spec.containers[0].image \
        == f"registry.example/{name}:2"


def blue_green(apps, core, namespace):
    deployer = HarnessBlueGreenDeployer(apps, core, namespace)
    deployer.create_services()
    for color, tag in (("blue", 1), ("green", 2)):
        deployer.deploy_stage(color, f"registry.example/shop:{tag}")
        deployer.swap_step()
    return deployer.release_name, lambda: deployer.selectors()[0]["harness.io/color"] == "blue"


KINDS = {"rolling": (rolling, []), "no history": (without_history, []), "declarative": (declarative, []),
         "statefulset": (statefulset, []), "blue/green after the swap": (blue_green, ["--from-release", "2"])}


@pytest.mark.parametrize("setup, flags", KINDS.values(), ids=KINDS.keys())
def test_a_second_run_changes_nothing(apps, core, api_client, namespace, plugin, setup, flags):
    target, restored = setup(apps, core, namespace)

    plugin("rollback", target, "-n", namespace, *flags, check_exit=0)
    assert restored()
    after_first = versions(api_client, namespace)

    for _ in range(2):
        again = plugin("rollback", target, "-n", namespace, *flags, check_exit=0)
        assert restored()
        assert not changed(after_first, versions(api_client, namespace)), again.stdout + again.stderr


def test_no_history_says_it_is_already_rolled_back(apps, core, namespace, plugin):
    target, _ = without_history(apps, core, namespace)
    plugin("rollback", target, "-n", namespace, check_exit=0)
    view = json.loads(plugin("plan", target, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert view["target"] is None and view["reason"].startswith("already rolled back: deployment/web still runs "
                                                                "revision 1")


def test_a_retry_after_a_timeout_waits_until_steady(apps, core, namespace, plugin):
    """`rollback --timeout` exits 4; the same command again must not say "done" before it is."""
    rolling(apps, core, namespace)
    core.create_namespaced_resource_quota(namespace, k8s.V1ResourceQuota(  # no surge pod: it cannot finish
        metadata=k8s.V1ObjectMeta(name="two-pods"), spec=k8s.V1ResourceQuotaSpec(hard={"pods": "2"})))
    plugin("rollback", RELEASE, "-n", namespace, "--timeout", "3s", check_exit=4)

    retry = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "3s", check_exit=4)
    assert "already rolled back: waiting until every workload is steady" in retry.stderr

    core.delete_namespaced_resource_quota("two-pods", namespace)
    done = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "60s", check_exit=0)
    assert "Already rolled back: every workload is steady." in done.stdout

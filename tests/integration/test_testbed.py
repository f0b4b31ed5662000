"""Proof that the test bed is real Kubernetes: the behaviour the plugin relies on happens.

(a) image updates give ReplicaSet revisions 1, 2, 3, and KWOK makes the pods Ready;
(b) the real `kubectl rollout undo --to-revision=1` renumbers that ReplicaSet to 4 and
    writes deployment.kubernetes.io/revision-history;
(c) a Service's EndpointSlice follows a change of its selector.
"""

import base64
import gzip
import subprocess

import yaml
from kubernetes import client as k8s

from tests.support.harness import HarnessRollingDeployer, Identity, owned_replicasets, wait_for_rollout
from tests.support.waiting import eventually

REVISION = "deployment.kubernetes.io/revision"


def ready_pods(core, namespace, selector):
    pods = core.list_namespaced_pod(namespace, label_selector=selector).items
    return [p for p in pods
            if p.metadata.deletion_timestamp is None and p.status.pod_ip
            and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])]


def test_image_updates_give_revisions_and_ready_pods(apps, core, namespace):
    deployer = HarnessRollingDeployer(apps, core, namespace, replicas=2)
    for tag in ("1.0", "1.1", "1.2"):
        deployer.deploy(f"registry.example/web:{tag}")

    deployment = apps.read_namespaced_deployment("web", namespace)
    sets = owned_replicasets(apps, namespace, deployment)
    assert [(rs.metadata.annotations[REVISION], rs.spec.template.spec.containers[0].image, rs.spec.replicas)
            for rs in sets] == [
        ("1", "registry.example/web:1.0", 0),
        ("2", "registry.example/web:1.1", 0),
        ("3", "registry.example/web:1.2", 2),
    ]
    # The controller copied the identity annotations onto each ReplicaSet it created.
    assert all(rs.metadata.annotations["harness.io/workflow-id"] == Identity().workflow_id for rs in sets)
    assert [rs.metadata.annotations["harness.io/release-number"] for rs in sets] == ["1", "2", "3"]

    def two_ready_pods_of_the_new_image():
        pods = ready_pods(core, namespace, "app=web")
        return len(pods) == 2 and {p.spec.containers[0].image for p in pods} == {"registry.example/web:1.2"} \
            and all(p.spec.node_name for p in pods)
    eventually(two_ready_pods_of_the_new_image)


def test_history_is_written_in_harness_encoding(apps, core, namespace):
    deployer = HarnessRollingDeployer(apps, core, namespace, store="secret", compressed=True)
    deployer.deploy("registry.example/web:1.0")
    deployer.deploy("registry.example/web:1.1", status="Failed")

    secret = core.read_namespaced_secret("release-infra-prod", namespace)
    assert base64.b64decode(secret.data["isReleaseHistoryCompressed"]) == b"\x01"
    history = yaml.safe_load(gzip.decompress(base64.b64decode(secret.data["releaseHistory"])))
    assert [(r["number"], r["status"], r["managedWorkloads"][0]["revision"]) for r in history["releases"]] == [
        (2, "Failed", "2"), (1, "Succeeded", "1"),
    ]


def test_kubectl_rollout_undo_renumbers_the_restored_revision(apps, core, namespace, test_cluster):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    for tag in ("1.0", "1.1", "1.2"):
        deployer.deploy(f"registry.example/web:{tag}")

    subprocess.run(["kubectl", "rollout", "undo", "deployment/web", "--to-revision=1", "-n", namespace],
                   check=True, capture_output=True, env=test_cluster.env())
    deployment = wait_for_rollout(apps, namespace, "web")

    assert deployment.spec.template.spec.containers[0].image == "registry.example/web:1.0"
    by_image = {rs.spec.template.spec.containers[0].image: rs for rs in owned_replicasets(apps, namespace, deployment)}
    restored = by_image["registry.example/web:1.0"]
    assert restored.metadata.annotations[REVISION] == "4"
    assert restored.metadata.annotations["deployment.kubernetes.io/revision-history"] == "1"
    assert restored.spec.replicas == 2
    assert by_image["registry.example/web:1.2"].spec.replicas == 0


def test_endpointslice_follows_a_service_selector_change(apps, core, namespace):
    for color in ("blue", "green"):
        labels = {"app": "shop", "harness.io/color": color}
        apps.create_namespaced_deployment(namespace, k8s.V1Deployment(
            metadata=k8s.V1ObjectMeta(name=f"shop-{color}"),
            spec=k8s.V1DeploymentSpec(
                replicas=2,
                selector=k8s.V1LabelSelector(match_labels=labels),
                template=k8s.V1PodTemplateSpec(
                    metadata=k8s.V1ObjectMeta(labels=labels),
                    spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="shop", image=f"registry.example/shop:{color}")]),
                ),
            ),
        ))
        wait_for_rollout(apps, namespace, f"shop-{color}")
    core.create_namespaced_service(namespace, k8s.V1Service(
        metadata=k8s.V1ObjectMeta(name="shop"),
        spec=k8s.V1ServiceSpec(selector={"app": "shop", "harness.io/color": "blue"},
                               ports=[k8s.V1ServicePort(port=80, target_port=8080)]),
    ))
    discovery = k8s.DiscoveryV1Api(core.api_client)

    def endpoint_addresses():
        slices = discovery.list_namespaced_endpoint_slice(
            namespace, label_selector="kubernetes.io/service-name=shop").items
        return {address for s in slices for e in (s.endpoints or [])
                if e.conditions.ready for address in e.addresses}

    def pod_ips(color):
        return {p.status.pod_ip for p in ready_pods(core, namespace, f"harness.io/color={color}")}

    blue = eventually(lambda: pod_ips("blue") if len(pod_ips("blue")) == 2 else None)
    green = eventually(lambda: pod_ips("green") if len(pod_ips("green")) == 2 else None)
    assert blue.isdisjoint(green)
    eventually(lambda: endpoint_addresses() == blue)

    core.patch_namespaced_service("shop", namespace, {"spec": {"selector": {"harness.io/color": "green"}}})
    eventually(lambda: endpoint_addresses() == green)

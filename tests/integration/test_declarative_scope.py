"""Issue 10, declarative releases: re-applying a release Secret must not borrow the operator's rights.

Anyone who may create a Secret in the namespace can write a `harness.release.<name>.<N>` Secret.
A rollback re-applies only the release's own kinds, into the release's namespace; a release holding
anything else is refused before any write — by `plan` and by `rollback` alike.
"""

import json
import time
import uuid

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from tests.support.harness import wait_for_rollout, write_declarative_release

RELEASE = "release-infra-prod"
LABEL = {"harness.io/release-name": RELEASE}


def deployment(tag, namespace=None):
    meta = {"name": "api", **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
                     "template": {"metadata": {"labels": {"app": "api", **LABEL}},
                                  "spec": {"containers": [{"name": "api", "image": f"registry.example/api:{tag}"}]}}}}


def run_image(apps, namespace, tag):
    """Deploy registry.example/api:TAG as a Harness pipeline would, and wait for it."""
    body = deployment(tag)
    try:
        apps.create_namespaced_deployment(namespace, body)
    except ApiException as exc:
        assert exc.status == 409
        apps.patch_namespaced_deployment("api", namespace, {"spec": body["spec"]})
    wait_for_rollout(apps, namespace, "api")


def versions(api_client, namespace):
    """Every object a rollback could write in the namespace, with its resourceVersion. Pods are
    left out: the kubelet stand-in updates their status on its own."""
    core, apps = k8s.CoreV1Api(api_client), k8s.AppsV1Api(api_client)
    listed = {
        "Deployment": apps.list_namespaced_deployment, "ReplicaSet": apps.list_namespaced_replica_set,
        "StatefulSet": apps.list_namespaced_stateful_set, "DaemonSet": apps.list_namespaced_daemon_set,
        "ConfigMap": core.list_namespaced_config_map, "Secret": core.list_namespaced_secret,
        "Service": core.list_namespaced_service, "ServiceAccount": core.list_namespaced_service_account,
        "Event": core.list_namespaced_event,
    }
    return {(kind, o.metadata.name): o.metadata.resource_version
            for kind, method in listed.items() for o in method(namespace).items}


def settled_versions(api_client, namespace, timeout=30):
    """versions(), once the controllers have stopped writing status (two equal reads in a row)."""
    deadline, last = time.monotonic() + timeout, None
    while True:
        now = versions(api_client, namespace)
        if now == last:
            return now
        assert time.monotonic() < deadline, "the namespace never settled"
        last = now
        time.sleep(1.5)


@pytest.fixture
def other_namespace(core):
    name = f"khr-other-{uuid.uuid4().hex[:6]}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


def test_hostile_release_secret_is_refused_before_any_write(api_client, apps, core, namespace, other_namespace,
                                                            plugin):
    rbac = k8s.RbacAuthorizationV1Api(api_client)
    takeover = f"{namespace}-takeover"
    hostile = [
        deployment(1),
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": takeover},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
         "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}]},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "planted", "namespace": other_namespace},
         "type": "Opaque", "stringData": {"token": "planted-secret-value"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "planted", "namespace": other_namespace},
         "data": {"mode": "planted"}},
    ]
    run_image(apps, namespace, 1)
    write_declarative_release(core, namespace, RELEASE, 1, "Succeeded", hostile)  # written by a tenant
    run_image(apps, namespace, 2)
    write_declarative_release(core, namespace, RELEASE, 2, "Failed", [deployment(2)])
    before = settled_versions(api_client, namespace)

    try:
        for command in (["plan", RELEASE, "-o", "json"], ["rollback", RELEASE]):
            done = plugin(*command, "-n", namespace, check_exit=1)
            assert done.stderr.count("\n") == 1, done.stderr
            assert done.stderr.startswith(f"error: release 1 (secret/harness.release.{RELEASE}.1) holds "
                                          f"clusterrolebinding/{takeover}, which a rollback does not re-apply: "
                                          "it is an RBAC object"), done.stderr
            assert "nothing was changed" in done.stderr and "planted-secret-value" not in done.stderr + done.stdout

        with pytest.raises(ApiException) as missing:
            rbac.read_cluster_role_binding(takeover)
        assert missing.value.status == 404
        assert [s.metadata.name for s in core.list_namespaced_secret(other_namespace).items
                if s.metadata.name == "planted"] == []
        assert [c.metadata.name for c in core.list_namespaced_config_map(other_namespace).items
                if c.metadata.name == "planted"] == []
        assert versions(api_client, namespace) == before
        assert apps.read_namespaced_deployment("api", namespace).spec.template.spec.containers[0].image == \
            "registry.example/api:2"
    finally:  # before the fix the rollback created it: never leave cluster-admin behind
        try:
            rbac.delete_cluster_role_binding(takeover)
        except ApiException as exc:
            if exc.status != 404:
                raise


def clean_release(namespace, tag):
    """A release as Harness stores it: a Service, a ConfigMap and a Deployment, all of this tag."""
    return [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "annotations": {"release": str(tag)}},
         "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 8000 + tag}]}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-config", "namespace": namespace},
         "data": {"mode": str(tag)}},
        deployment(tag),
    ]


def test_clean_declarative_release_lists_and_reapplies_everything(apps, core, namespace, plugin):
    for number, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
        run_image(apps, namespace, number)
        write_declarative_release(core, namespace, RELEASE, number, status, clean_release(namespace, number))
    # The cluster runs release 3: its Service is there, its ConfigMap is gone (re-applying recreates it).
    core.create_namespaced_service(namespace, clean_release(namespace, 3)[0])

    view = json.loads(plugin("plan", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert view["target"]["number"] == 2
    assert [(item["kind"], item["name"]) for item in view["reapply"]] == [
        ("Service", "api"), ("ConfigMap", "api-config"), ("Deployment", "api")]
    assert view["reapply"][1]["differences"] == ["created from the stored manifest"]
    text = plugin("plan", RELEASE, "-n", namespace, check_exit=0).stdout
    assert "Re-apply from release 2's stored manifest (as kubectl apply):\n  service/api\n" in text
    assert "\n  configmap/api-config\n    created from the stored manifest\n  deployment/api\n" in text

    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert apps.read_namespaced_deployment("api", namespace).spec.template.spec.containers[0].image == \
        "registry.example/api:2"
    assert core.read_namespaced_config_map("api-config", namespace).data == {"mode": "2"}
    service = core.read_namespaced_service("api", namespace)
    assert (service.metadata.annotations["release"], service.spec.ports[0].target_port) == ("2", 8002)
    assert core.read_namespaced_secret(f"harness.release.{RELEASE}.3", namespace).metadata.labels["status"] == "Failed"

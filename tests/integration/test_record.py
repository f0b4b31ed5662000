"""`record` for pipelines that are not Harness: a plain `kubectl apply` pipeline, then `rollback`."""

import json
import subprocess

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  replicas: 2
  selector:
    matchLabels: {{app: shop}}
  template:
    metadata:
      labels: {{app: shop}}
    spec:
      containers:
      - name: shop
        image: registry.example/shop:{tag}
"""
IDENTITY = ["--workflow-id", "deploy-shop", "--service-id", "shop", "--infra-id", "prod", "--cluster-name", "eu-1"]


def kubectl(test_cluster, namespace, *args, stdin=None):
    return subprocess.run(["kubectl", "-n", namespace, *args], input=stdin, capture_output=True, text=True,
                          check=True, env=test_cluster.env())


def test_apply_pipeline_with_record_then_rollback(apps, namespace, plugin, test_cluster):
    for tag, status in (("1", "Succeeded"), ("2", "Succeeded"), ("3", "Failed")):
        kubectl(test_cluster, namespace, "apply", "-f", "-", stdin=DEPLOYMENT.format(tag=tag))
        kubectl(test_cluster, namespace, "rollout", "status", "deployment/shop", "--timeout=60s")
        done = plugin("record", "deployment/shop", "-n", namespace, "--status", status, *IDENTITY, check_exit=0)
        assert f"as {status} in configmap/release-prod" in done.stdout
        if tag == "1":  # the name is derived, and said so; then the workload carries the label
            assert "release name release-prod derived from --infra-id prod (deployment/shop has no " \
                   "harness.io/release-name label); pass --release-name to choose it" in done.stderr
        else:
            assert "derived" not in done.stderr

    rows = json.loads(plugin("history", "release-prod", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(r["number"], r["status"], r["workflowId"], r["workloads"][0]["images"]) for r in rows] == [
        (3, "Failed", "deploy-shop", ["registry.example/shop:3"]),
        (2, "Succeeded", "deploy-shop", ["registry.example/shop:2"]),
        (1, "Succeeded", "deploy-shop", ["registry.example/shop:1"]),
    ]
    assert rows[0]["infraMapping"] == {"serviceId": "shop", "infraId": "prod", "clusterName": "eu-1",
                                       "namespace": namespace}

    plugin("rollback", "deployment/shop", "-n", namespace, check_exit=0)
    assert apps.read_namespaced_deployment("shop", namespace).spec.template.spec.containers[0].image == \
        "registry.example/shop:2"
    # The next deploy of the same pipeline records on top, and a second failure rolls back again.
    kubectl(test_cluster, namespace, "apply", "-f", "-", stdin=DEPLOYMENT.format(tag="4"))
    kubectl(test_cluster, namespace, "rollout", "status", "deployment/shop", "--timeout=60s")
    plugin("record", "deployment/shop", "-n", namespace, "--status", "Failed", *IDENTITY, check_exit=0)
    plugin("rollback", "release-prod", "-n", namespace, check_exit=0)
    assert apps.read_namespaced_deployment("shop", namespace).spec.template.spec.containers[0].image == \
        "registry.example/shop:2"


def test_recording_the_same_revision_twice_updates_it(apps, namespace, plugin, test_cluster):
    kubectl(test_cluster, namespace, "apply", "-f", "-", stdin=DEPLOYMENT.format(tag="1"))
    plugin("record", "deployment/shop", "-n", namespace, "--status", "InProgress", *IDENTITY, check_exit=0)
    done = plugin("record", "deployment/shop", "-n", namespace, "--status", "Succeeded", *IDENTITY, check_exit=0)
    assert done.stdout.startswith("updated release 1 ")
    rows = json.loads(plugin("history", "release-prod", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(r["number"], r["status"]) for r in rows] == [(1, "Succeeded")]


def test_a_release_name_given_is_not_called_derived(apps, namespace, plugin, test_cluster):
    kubectl(test_cluster, namespace, "apply", "-f", "-", stdin=DEPLOYMENT.format(tag="1"))
    done = plugin("record", "deployment/shop", "-n", namespace, "--status", "Succeeded", "--release-name", "shop-eu",
                  check_exit=0)
    assert "in configmap/shop-eu" in done.stdout and "derived" not in done.stderr

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


def _without(api_client, namespace, resource: str, verb: str) -> None:
    """The pipeline's Role (tests/support/accounts.py) less one verb on one resource."""
    from kubernetes import client as k8s

    from tests.support.accounts import answers

    rbac = k8s.RbacAuthorizationV1Api(api_client)
    role = rbac.read_namespaced_role("kubectl-harness-rollback", namespace)
    kept, group = [], None
    for rule in role.rules:
        if resource in rule.resources and verb in rule.verbs:
            group = rule.api_groups[0]
            others = [r for r in rule.resources if r != resource]
            if others:
                kept.append(k8s.V1PolicyRule(api_groups=rule.api_groups, resources=others, verbs=rule.verbs))
            kept.append(k8s.V1PolicyRule(api_groups=rule.api_groups, resources=[resource],
                                         verbs=[v for v in rule.verbs if v != verb]))
        else:
            kept.append(rule)
    role.rules = kept
    rbac.replace_namespaced_role("kubectl-harness-rollback", namespace, role)
    answers(api_client, namespace, "deployer", verb, group, resource, allowed=False)  # once the authorizer saw it


def _no_history(core, namespace) -> bool:
    return not [c for c in core.list_namespaced_config_map(namespace).items if c.metadata.name == "release-prod"]


def test_record_without_a_right_stops_before_any_write_and_within_its_timeout(api_client, apps, core, namespace,
                                                                              plugin, test_cluster):
    """Without `get` on Deployments it sent ~700 forbidden GETs a second and never stopped; without
    `patch` it wrote the history, then failed without saying so. Now an access review before the
    first write names the right, as kubectl's forbidden line does, and nothing is written."""
    import time

    from tests.support.accounts import pipeline_account

    kubectl(test_cluster, namespace, "apply", "-f", "-", stdin=DEPLOYMENT.format(tag="1"))
    kubectl(test_cluster, namespace, "rollout", "status", "deployment/shop", "--timeout=60s")
    account = pipeline_account(api_client, namespace, plugin)
    for verb, needed in (("patch", "to set the identity annotations on deployment/shop"),
                         ("get", "to wait until the controller observed deployment/shop")):
        _without(api_client, namespace, "deployments", verb)
        began = time.monotonic()
        done = plugin("record", "deployment/shop", "-n", namespace, "--status", "Succeeded", *IDENTITY,
                      "--as", account, "--timeout", "5s")
        took = time.monotonic() - began
        assert done.returncode == 1, done.stdout + done.stderr
        [line] = done.stderr.strip().splitlines()
        assert line.startswith(f"error: forbidden: cannot {verb} deployments.apps in namespace {namespace}"), line
        assert needed in line and "nothing was changed" in line
        assert took < 5 + 5, took
        assert _no_history(core, namespace)
        assert "harness.io/workflow-id" not in (apps.read_namespaced_deployment("shop", namespace).metadata
                                                .annotations or {})


def test_a_failure_after_the_history_write_says_it_was_written(api_client, apps, core, namespace, plugin,
                                                               test_cluster, tmp_path):
    """The history is written, then the API server dies before the identity annotations."""
    from tests.support.relay import dies_at, run_through

    kubectl(test_cluster, namespace, "apply", "-f", "-", stdin=DEPLOYMENT.format(tag="1"))
    kubectl(test_cluster, namespace, "rollout", "status", "deployment/shop", "--timeout=60s")
    done = run_through(test_cluster, tmp_path, namespace, dies_at("PATCH", "/deployments/shop"), "record",
                       "deployment/shop", "--status", "Succeeded", *IDENTITY, "--timeout", "10s",
                       "--request-timeout", "3s", timeout=60)
    assert done.returncode == 1, done.stderr
    [line] = done.stderr.strip().splitlines()[-1:]
    assert "already written before it failed: release 1 in configmap/release-prod" in line, line
    assert "run the same command again to finish" in line
    again = plugin("record", "deployment/shop", "-n", namespace, "--status", "Succeeded", *IDENTITY, check_exit=0)
    assert again.stdout.startswith("updated release 1 ")
    rows = json.loads(plugin("history", "release-prod", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(r["number"], r["status"], r["workflowId"]) for r in rows] == [(1, "Succeeded", "deploy-shop")]


def test_names_that_become_labels_are_checked_before_any_request(tmp_path):
    """A 64-character --release-name, or an --infra-id that makes release-<id> longer than 63, was
    accepted: the history ConfigMap was written, then every label write was refused. Checked
    against a server that does not exist: exit 2 and no request."""
    import os
    import shutil

    config = tmp_path / "nowhere"
    config.write_text("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: c, cluster: {server: "
                      "'https://127.0.0.1:9'}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
                      "users: [{name: u, user: {token: t}}]\n")
    cases = [("--release-name", "a" * 64), ("--release-name", "Shop"), ("--release-name", "shop_eu"),
             ("--infra-id", "p" * 60), ("--infra-id", "Prod"), ("--infra-id", "prod/eu")]
    for flag, value in cases:
        done = subprocess.run([shutil.which("kubectl-harness_rollback"), "record", "deployment/shop", "--status",
                               "Succeeded", flag, value], capture_output=True, text=True, timeout=30,
                              env={**os.environ, "KUBECONFIG": str(config)})
        assert done.returncode == 2, (flag, value, done.stderr)
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("error: release name ") and "is not valid" in line, line
        assert "cannot reach" not in line

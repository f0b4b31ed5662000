"""`rbac` prints a Role that is enough: a ServiceAccount bound to exactly that Role records and
rolls back Harness-style releases (rolling, declarative, blue/green) on the real control plane,
and the ClusterRole of `rbac -A` is enough for `list -A`."""

import json
import time
import uuid

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from tests.support.accounts import account_with, bound, pipeline_account
from tests.support.harness import (
    COLOR,
    HarnessBlueGreenDeployer,
    HarnessRollingDeployer,
    Identity,
    deployment_body,
    wait_for_rollout,
    write_declarative_release,
)

RELEASE = "release-infra-prod"


def image(apps, namespace, name):
    return apps.read_namespaced_deployment(name, namespace).spec.template.spec.containers[0].image


def test_rolling_release_rolls_back_as_a_service_account_with_only_the_role(api_client, apps, core, namespace,
                                                                            plugin):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2")
    deployer.deploy("registry.example/web:3", status="Failed")
    account = pipeline_account(api_client, namespace, plugin)

    done = plugin("rollback", RELEASE, "-n", namespace, "--as", account, check_exit=0)
    assert "Rollback complete" in done.stdout
    assert image(apps, namespace, "web") == "registry.example/web:2"
    rows = json.loads(plugin("history", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(r["number"], r["status"]) for r in rows] == [(3, "Failed"), (2, "Succeeded"), (1, "Succeeded")]
    events = core.list_namespaced_event(namespace, field_selector="reason=RolledBack").items
    assert [e.involved_object.name for e in events] == ["web"]
    annotations = apps.read_namespaced_deployment("web", namespace).metadata.annotations
    assert json.loads(annotations["harness.io/last-rollback"])["by"] == account  # as the API server says


def test_failed_canary_is_deleted_as_the_service_account(api_client, apps, core, namespace, plugin):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2")
    canary = deployment_body("web-canary", RELEASE, "registry.example/web:3", Identity(), 3, replicas=1)
    canary.metadata.labels["harness.io/track"] = "canary"
    canary.spec.selector.match_labels = canary.spec.template.metadata.labels = {
        "app": "web-canary", "harness.io/release-name": RELEASE, "harness.io/track": "canary"}
    apps.create_namespaced_deployment(namespace, canary)
    wait_for_rollout(apps, namespace, "web-canary")
    deployer.deploy("registry.example/web:3", status="Failed")
    account = pipeline_account(api_client, namespace, plugin)

    plugin("rollback", RELEASE, "-n", namespace, "--as", account, check_exit=0)
    assert [d.metadata.name for d in apps.list_namespaced_deployment(namespace).items] == ["web"]
    assert image(apps, namespace, "web") == "registry.example/web:2"


def test_record_and_rollback_of_a_plain_pipeline_as_the_service_account(api_client, apps, namespace, plugin):
    account = pipeline_account(api_client, namespace, plugin)
    identity = ["--workflow-id", "deploy-shop", "--service-id", "shop", "--infra-id", "prod"]
    for tag, status in (("1", "Succeeded"), ("2", "Failed")):
        body = deployment_body("shop", "release-prod", f"registry.example/shop:{tag}", Identity(), int(tag))
        body.metadata.labels, body.spec.template.metadata.labels = {}, {"app": "shop"}  # a plain pipeline's
        if tag == "1":
            apps.create_namespaced_deployment(namespace, body)
        else:
            apps.patch_namespaced_deployment("shop", namespace, {"spec": {"template": {"spec": {
                "containers": [{"name": "shop", "image": f"registry.example/shop:{tag}"}]}}}})
        wait_for_rollout(apps, namespace, "shop")
        plugin("record", "deployment/shop", "-n", namespace, "--status", status, *identity, "--as", account,
               check_exit=0)
    plugin("rollback", "release-prod", "-n", namespace, "--as", account, check_exit=0)
    assert image(apps, namespace, "shop") == "registry.example/shop:1"


def test_declarative_release_rolls_back_as_the_service_account(api_client, apps, core, namespace, plugin):
    def release(tag):
        labels = {"app": "api", "harness.io/release-name": RELEASE}
        return [
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
             "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 8000 + tag}]}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-config"}, "data": {"mode": str(tag)}},
            {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "api"},
             "spec": {"maxUnavailable": tag, "selector": {"matchLabels": {"app": "api"}}}},
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
             "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api"}},
                      "template": {"metadata": {"labels": labels},
                                   "spec": {"containers": [{"name": "api", "image": f"registry.example/api:{tag}"}]}}}},
        ]
    write_declarative_release(core, namespace, RELEASE, 1, "Succeeded", release(1))
    apps.create_namespaced_deployment(namespace, release(2)[3])  # release 2 runs; nothing else of it is left
    wait_for_rollout(apps, namespace, "api")
    write_declarative_release(core, namespace, RELEASE, 2, "Failed", release(2))
    account = pipeline_account(api_client, namespace, plugin)

    plugin("rollback", RELEASE, "-n", namespace, "--as", account, check_exit=0)
    assert image(apps, namespace, "api") == "registry.example/api:1"
    # Server-side apply created what was missing, with no `create` in the Role.
    assert core.read_namespaced_service("api", namespace).spec.ports[0].target_port == 8001
    assert core.read_namespaced_config_map("api-config", namespace).data == {"mode": "1"}
    pdb = k8s.PolicyV1Api(api_client).read_namespaced_pod_disruption_budget("api", namespace)
    assert pdb.spec.max_unavailable == 1
    assert core.read_namespaced_secret(f"harness.release.{RELEASE}.2", namespace).metadata.labels["status"] == "Failed"


def test_blue_green_swaps_back_as_the_service_account(api_client, apps, core, namespace, plugin):
    deployer = HarnessBlueGreenDeployer(apps, core, namespace)
    deployer.create_services()
    deployer.deploy("blue", "registry.example/shop:1")
    deployer.deploy("green", "registry.example/shop:2", status="Failed")
    account = pipeline_account(api_client, namespace, plugin)

    plugin("rollback", "release-bg", "-n", namespace, "--as", account, "--scale-down-stage", check_exit=0)
    primary, stage = deployer.selectors()
    assert (primary[COLOR], stage[COLOR]) == ("blue", "green")
    assert apps.read_namespaced_deployment("shop-green", namespace).spec.replicas == 0


def test_list_all_namespaces_with_the_cluster_role(api_client, apps, core, namespace, plugin):
    HarnessRollingDeployer(apps, core, namespace).deploy("registry.example/web:1")
    listed = json.loads(plugin("rbac", "-n", namespace, "-A", "-o", "json", check_exit=0).stdout)
    assert [item["kind"] for item in listed["items"]] == ["Role", "ClusterRole"]
    cluster_role = listed["items"][1]
    name = f"khr-list-{uuid.uuid4().hex[:6]}"
    cluster_role["metadata"]["name"] = name  # its own copy: tests may run side by side
    rbac = k8s.RbacAuthorizationV1Api(api_client)
    core.create_namespaced_service_account(namespace, k8s.V1ServiceAccount(metadata=k8s.V1ObjectMeta(name="lister")))
    rbac.create_cluster_role(cluster_role)
    try:
        rbac.create_cluster_role_binding({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": "lister", "namespace": namespace}]})
        lister = bound(api_client, namespace, "lister", cluster_role["rules"])
        done = plugin("list", "-A", "-o", "json", "--as", lister, check_exit=0)
        assert done.stderr == ""  # Secrets too: no "cannot list secrets" warning
        rows = [r for r in json.loads(done.stdout) if r["namespace"] == namespace]
        assert [(r["release"], r["latest"], r["workloads"]) for r in rows] == [(RELEASE, 1, ["deployment/web"])]
    finally:
        for delete in (rbac.delete_cluster_role_binding, rbac.delete_cluster_role):
            try:
                delete(name)
            except ApiException as exc:
                if exc.status != 404:
                    raise


def test_list_without_the_right_to_list_revisions_warns_once_and_leaves_live_empty(api_client, apps, core,
                                                                                   namespace, plugin):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2")
    lister = account_with(api_client, namespace, "lister", {"kind": "Role", "name": "lister"}, rules=[
        {"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get", "list"]},
        {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "daemonsets"], "verbs": ["list"]}])

    done = plugin("list", "-n", namespace, "--as", lister, check_exit=0)
    assert done.stderr.strip().splitlines() == [
        f"warning: cannot list replicasets or controllerrevisions in {namespace}: the LIVE column is left empty"]
    header, row = done.stdout.splitlines()
    assert header.split() == ["RELEASE", "LATEST", "STATUS", "LIVE", "SINCE", "STEADY", "ACTION"]
    assert row.split() == [RELEASE, "2", "Succeeded", "<none>", "<none>", "<unknown>", "<unknown>"]
    [listed] = json.loads(plugin("list", "-n", namespace, "--as", lister, "-o", "json", check_exit=0).stdout)
    assert listed["liveReleases"] == []
    # With the right, the same user sees what is live.
    assert json.loads(plugin("list", "-n", namespace, "-o", "json", check_exit=0).stdout)[0]["liveReleases"] == [2]


def all_versions(api_client, namespace) -> dict:
    from tests.adversarial.state import versions

    state = versions(api_client, namespace)
    state.update({("ReplicaSet", rs.metadata.name): rs.metadata.resource_version
                  for rs in k8s.AppsV1Api(api_client).list_namespaced_replica_set(namespace).items})
    return state


def test_status_as_a_user_with_only_the_view_cluster_role(api_client, apps, core, namespace, plugin):
    """The built-in `view` ClusterRole (no Secrets, no writes) is enough for `status`, which writes nothing."""
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2")
    viewer = account_with(api_client, namespace, "viewer", {"kind": "ClusterRole", "name": "view"})
    before = all_versions(api_client, namespace)

    steady = json.loads(plugin("status", RELEASE, "-n", namespace, "--as", viewer, "-o", "json", check_exit=0).stdout)
    assert steady["steady"] is True and steady["liveReleases"] == [2]
    plugin("status", RELEASE, "-n", namespace, "--as", viewer, "--watch", "--timeout", "5s", check_exit=0)
    assert all_versions(api_client, namespace) == before  # it writes nothing

    # Paused half way through a new template: not steady, and it stays so (exit 4 at the timeout).
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"paused": True, "template": {"spec": {
        "containers": [{"name": "web", "image": "registry.example/web:3"}]}}}})
    for _ in range(100):  # the controller has seen it (and writes its status no more)
        web = apps.read_namespaced_deployment("web", namespace)
        if web.status.observed_generation == web.metadata.generation:
            break
        time.sleep(0.1)
    time.sleep(1)
    before = all_versions(api_client, namespace)
    done = plugin("status", RELEASE, "-n", namespace, "--as", viewer, "--timeout", "3s", check_exit=4)
    assert "forbidden" not in done.stderr and done.stderr.startswith("error: release release-infra-prod is not steady")
    assert all_versions(api_client, namespace) == before


def test_every_reading_command_runs_as_the_service_account_with_only_the_role(api_client, apps, core, namespace,
                                                                               plugin):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2")
    deployer.deploy("registry.example/web:3", status="Failed")
    apps.patch_namespaced_deployment("web", namespace, {"metadata": {"labels": {"team": "payments"}}})
    account = pipeline_account(api_client, namespace, plugin)

    def run(*args, check_exit=0):
        done = plugin(*args, "-n", namespace, "--as", account, check_exit=check_exit)
        assert "forbidden" not in done.stderr.lower() and "cannot" not in done.stderr, done.stderr
        return done

    # list: its lists of every kind in the namespace, the histories read by name (a list with a
    # field selector), what is live from the ReplicaSets: no warning, LIVE filled in.
    [row] = json.loads(run("list", "-l", "team=payments", "-o", "json").stdout)
    assert (row["release"], row["latest"], row["liveReleases"]) == (RELEASE, 3, [3])
    assert run("list", "-o", "name").stdout == f"release/{RELEASE}\n"
    assert json.loads(run("status", RELEASE, "-o", "json").stdout)["liveReleases"] == [3]
    assert [r["number"] for r in json.loads(run("history", RELEASE, "--max", "2", "-o", "json").stdout)] == [3, 2]
    assert json.loads(run("plan", RELEASE, "-o", "json").stdout)["target"]["number"] == 2
    assert "registry.example/web:2" in run("diff", RELEASE, "3", "2").stdout
    run("rollback", RELEASE, "--reason", "INC-1", "--timeout", "2m")
    view = json.loads(run("status", RELEASE, "-o", "json").stdout)
    assert view["steady"] is True and view["lastRollback"]["reason"] == "INC-1"

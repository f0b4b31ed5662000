"""What Harness's rollback deletes or recreates besides re-applying: `--prune`, workloads of the
rollback-to release that were deleted, and the stage color's HPA and PDB under `--scale-down-stage`.

Harness's code followed (harness-core, commit 1dcec145c507a87fc596b148cc2fc73d47cbc9cc):
- 930-delegate-tasks/src/main/java/io/harness/delegate/k8s/K8sRollingRollbackRequestHandler.java:88-98 —
  with pruning enabled, deleteNewResourcesForCurrentFailedRelease runs before the rollback re-applies;
- 930-delegate-tasks/src/main/java/io/harness/delegate/k8s/K8sRollingRollbackBaseHandler.java:917-934
  (getResourcesTobeDeletedInOrder) — the failed release's resources that are not marked
  harness.io/skipPruning, not in the rollback-to release and not versioned, in deletion order
  (K8sTaskHelperBase.arrangeResourceIdsInDeletionOrder, 930-delegate-tasks/.../k8sbase/K8sTaskHelperBase.java:663:
  the reverse of KubernetesResourceComparer's creation order: workloads before their ConfigMaps);
- K8sRollingRollbackBaseHandler.java:382-384 and :416-426 — declarative rollback re-applies every resource of the
  rollback-to release (`kubectl apply`), which creates a workload that was deleted;
- 930-delegate-tasks/src/main/java/io/harness/delegate/k8s/K8sBlueGreenStageScaleDownRequestHandler.java:125-177
  and 970-api-services-beans/src/main/java/io/harness/k8s/model/Kind.java:56-61 — the stage release's HPAs and
  PDBs named after the stage color are deleted, then its workloads scaled to 0; an object annotated
  harness.io/direct-apply=true, or gone, is left out.
"""

import json
import subprocess

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from tests.support.harness import (
    COLOR,
    HarnessBlueGreenDeployer,
    Identity,
    Release,
    wait_for_rollout,
    write_declarative_release,
    write_history,
)
from tests.support.waiting import eventually

RELEASE = "release-infra-prod"
LABEL = {"harness.io/release-name": RELEASE}


def deployment(name, tag):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name, **LABEL}},
                                  "spec": {"containers": [{"name": name, "image": f"registry.example/{name}:{tag}"}]}}}}


def config_map(name, data, annotations=None):
    meta = {"name": name, **({"annotations": annotations} if annotations else {})}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def kubectl_apply(test_cluster, namespace, manifests):
    """What Harness's deploy step runs (K8sTaskHelperBase.applyManifests): kubectl apply -f."""
    subprocess.run(["kubectl", "apply", "-n", namespace, "-f", "-"], input=yaml.safe_dump_all(manifests), text=True,
                   check=True, capture_output=True, env=test_cluster.env())


def deploy_release(test_cluster, apps, core, namespace, number, status, manifests):
    kubectl_apply(test_cluster, namespace, manifests)
    for manifest in manifests:
        if manifest["kind"] == "Deployment":
            wait_for_rollout(apps, namespace, manifest["metadata"]["name"])
    write_declarative_release(core, namespace, RELEASE, number, status, manifests)


GOOD = [config_map("api-config", {"mode": "safe"}), deployment("api", "1")]
# The failed release adds a worker (and its ConfigMap), and an object marked to be kept.
FAILED = [config_map("api-config", {"mode": "safe"}), deployment("api", "2"),
          config_map("worker-config", {"queue": "orders"}), deployment("worker", "2"),
          config_map("kept", {"x": "1"}, {"harness.io/skipPruning": "true"})]


def exists(read, name, namespace):
    try:
        read(name, namespace)
        return True
    except ApiException as exc:
        assert exc.status == 404
        return False


def objects(apps, core, namespace):
    """Every Deployment and ConfigMap of the test, with its resourceVersion."""
    return ({("Deployment", d.metadata.name): d.metadata.resource_version
             for d in apps.list_namespaced_deployment(namespace).items}
            | {("ConfigMap", c.metadata.name): c.metadata.resource_version
               for c in core.list_namespaced_config_map(namespace).items if c.metadata.name != "kube-root-ca.crt"})


def test_prune_deletes_what_the_failed_release_added(test_cluster, apps, core, namespace, plugin):
    deploy_release(test_cluster, apps, core, namespace, 1, "Succeeded", GOOD)
    deploy_release(test_cluster, apps, core, namespace, 2, "Failed", FAILED)

    # Without --prune: noted, with the flag that deletes them.
    plain = plugin("plan", RELEASE, "-n", namespace, check_exit=0).stdout
    assert "deployment/worker" in plain and "--prune" in plain, plain
    assert json.loads(plugin("plan", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)["prune"] == []

    view = json.loads(plugin("plan", RELEASE, "-n", namespace, "--prune", "-o", "json", check_exit=0).stdout)
    # Workloads first, then their ConfigMaps (Harness's deletion order); the skipPruning one is kept.
    assert view["prune"] == [{"kind": "Deployment", "name": "worker"}, {"kind": "ConfigMap", "name": "worker-config"}]
    table = plugin("plan", RELEASE, "-n", namespace, "--prune", check_exit=0).stdout
    assert "Delete (--prune" in table and "  deployment/worker" in table, table

    before = objects(apps, core, namespace)
    client = plugin("rollback", RELEASE, "-n", namespace, "--prune", "--dry-run=client", "-o", "json", check_exit=0)
    assert {"action": "pruned", "kind": "Deployment", "name": "worker"} in \
        json.loads(client.stdout)["outcome"]["wouldWrite"]
    server = plugin("rollback", RELEASE, "-n", namespace, "--prune", "--dry-run=server", check_exit=0)
    assert "deployment/worker: would delete it" in server.stdout, server.stdout
    assert objects(apps, core, namespace) == before  # neither dry run changed anything

    done = plugin("rollback", RELEASE, "-n", namespace, "--prune", "-o", "json", check_exit=0)
    written = json.loads(done.stdout)["outcome"]["written"]
    assert [w for w in written if w["action"] == "pruned"] == [
        {"action": "pruned", "kind": "Deployment", "name": "worker"},
        {"action": "pruned", "kind": "ConfigMap", "name": "worker-config"}]
    eventually(lambda: not exists(apps.read_namespaced_deployment, "worker", namespace))
    assert not exists(core.read_namespaced_config_map, "worker-config", namespace)
    assert exists(core.read_namespaced_config_map, "kept", namespace)
    assert apps.read_namespaced_deployment("api", namespace).spec.template.spec.containers[0].image == \
        "registry.example/api:1"

    settled = objects(apps, core, namespace)
    again = plugin("rollback", RELEASE, "-n", namespace, "--prune", "-o", "json", check_exit=0)
    assert json.loads(again.stdout)["outcome"]["written"] == []
    assert objects(apps, core, namespace) == settled


@pytest.mark.parametrize("deleted", [["worker"], ["api", "worker"]])
def test_a_deleted_workload_of_a_declarative_release_is_recreated(test_cluster, apps, core, namespace, plugin,
                                                                  deleted):
    good = [deployment("api", "1"), deployment("worker", "1")]
    deploy_release(test_cluster, apps, core, namespace, 1, "Succeeded", good)
    deploy_release(test_cluster, apps, core, namespace, 2, "Failed", [deployment("api", "2"), deployment("worker", "2")])
    for name in deleted:
        apps.delete_namespaced_deployment(name, namespace)
        eventually(lambda: not exists(apps.read_namespaced_deployment, name, namespace))

    view = json.loads(plugin("plan", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert {(o["kind"], o["name"]) for o in view["reapply"]} >= {("Deployment", name) for name in deleted}
    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    for name in ("api", "worker"):
        assert apps.read_namespaced_deployment(name, namespace).spec.template.spec.containers[0].image == \
            f"registry.example/{name}:1"
    assert core.read_namespaced_secret(f"harness.release.{RELEASE}.2", namespace).metadata.labels["status"] == "Failed"


def test_a_deleted_workload_of_a_legacy_release_is_refused_naming_what_could_be_restored(apps, core, namespace,
                                                                                           plugin):
    releases = []
    for number, (tag, status) in enumerate([("1", "Succeeded"), ("2", "Failed")], start=1):
        workloads = []
        for name in ("api", "worker"):
            body = deployment(name, tag)
            body["metadata"]["annotations"] = Identity().annotations()
            try:
                apps.create_namespaced_deployment(namespace, body)
            except ApiException:
                apps.patch_namespaced_deployment(name, namespace, {"spec": body["spec"]})
            wait_for_rollout(apps, namespace, name)
            workloads.append(("Deployment", name, str(number)))
        releases.append(Release(number, status, workloads, namespace))
        write_history(core, namespace, RELEASE, releases)
    apps.delete_namespaced_deployment("worker", namespace)
    eventually(lambda: not exists(apps.read_namespaced_deployment, "worker", namespace))
    before = objects(apps, core, namespace)

    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=1)
    message = done.stderr.strip().splitlines()[-1]
    assert "deployment/worker" in message and "no longer exists" in message, message
    assert "deployment/api" in message and "could be restored" in message, message
    assert objects(apps, core, namespace) == before


def test_scale_down_stage_deletes_the_stage_colors_hpa_and_pdb(apps, core, namespace, plugin):
    deployer = HarnessBlueGreenDeployer(apps, core, namespace)
    deployer.create_services()
    deployer.deploy("blue", "registry.example/shop:1")
    deployer.deploy("green", "registry.example/shop:2", status="Failed")
    autoscaling, policy = k8s.AutoscalingV2Api(core.api_client), k8s.PolicyV1Api(core.api_client)
    for color in ("blue", "green"):
        autoscaling.create_namespaced_horizontal_pod_autoscaler(namespace, {
            "metadata": {"name": f"shop-hpa-{color}"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"shop-{color}"},
                     "minReplicas": 2, "maxReplicas": 4}})
        policy.create_namespaced_pod_disruption_budget(namespace, {
            "metadata": {"name": f"shop-pdb-{color}"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "shop", COLOR: color}}}})
    # An HPA Harness applies directly is not the stage's to delete.
    autoscaling.create_namespaced_horizontal_pod_autoscaler(namespace, {
        "metadata": {"name": "shared-hpa-green", "annotations": {"harness.io/direct-apply": "true"}},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop-green"},
                 "maxReplicas": 4}})
    # The history names each release's resources, as Harness records them.
    for release, color in zip(deployer.releases, ("blue", "green")):
        release.extra["resources"] = [
            {"kind": kind, "name": name, "namespace": namespace, "versioned": False}
            for kind, name in (("Deployment", f"shop-{color}"), ("HorizontalPodAutoscaler", f"shop-hpa-{color}"),
                               ("PodDisruptionBudget", f"shop-pdb-{color}"),
                               ("HorizontalPodAutoscaler", f"shared-hpa-{color}"))]
    write_history(core, namespace, deployer.release_name, deployer.releases, style="managedWorkload")

    planned = plugin("plan", deployer.release_name, "-n", namespace, check_exit=0).stdout
    assert "--scale-down-stage deletes horizontalpodautoscaler/shop-hpa-green, poddisruptionbudget/shop-pdb-green" \
        in planned, planned
    dry = plugin("rollback", deployer.release_name, "-n", namespace, "--scale-down-stage", "--dry-run=client",
                 check_exit=0)
    assert "horizontalpodautoscaler/shop-hpa-green: would delete it" in dry.stdout, dry.stdout
    assert "poddisruptionbudget/shop-pdb-green: would delete it" in dry.stdout, dry.stdout

    done = plugin("rollback", deployer.release_name, "-n", namespace, "--scale-down-stage", "-o", "json",
                  check_exit=0)
    written = json.loads(done.stdout)["outcome"]["written"]
    assert [(w["action"], w["kind"], w["name"]) for w in written if w["action"] in ("deleted", "scaled")][-3:] == [
        ("deleted", "HorizontalPodAutoscaler", "shop-hpa-green"), ("deleted", "PodDisruptionBudget", "shop-pdb-green"),
        ("scaled", "Deployment", "shop-green")]
    assert not exists(autoscaling.read_namespaced_horizontal_pod_autoscaler, "shop-hpa-green", namespace)
    assert not exists(policy.read_namespaced_pod_disruption_budget, "shop-pdb-green", namespace)
    for kept in ("shop-hpa-blue", "shared-hpa-green"):
        assert exists(autoscaling.read_namespaced_horizontal_pod_autoscaler, kept, namespace)
    assert exists(policy.read_namespaced_pod_disruption_budget, "shop-pdb-blue", namespace)
    assert apps.read_namespaced_deployment("shop-green", namespace).spec.replicas == 0


def test_a_server_dry_run_deletes_nothing(apps, core, namespace, plugin):
    """--dry-run=server sends each delete with dryRun=All in its DeleteOptions body: the API server
    reads the options from the body when there is one (the preconditions travel there) and then
    ignores the dryRun query parameter. Shown with Harness's canary delete, whose deletes carry
    preconditions as the prune's do."""
    from tests.support.harness import HarnessRollingDeployer

    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2")
    apps.create_namespaced_deployment(namespace, k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name="web-canary", labels={"harness.io/track": "canary"}),
        spec=k8s.V1DeploymentSpec(replicas=1, selector=k8s.V1LabelSelector(match_labels={"app": "web-canary"}),
                                  template=k8s.V1PodTemplateSpec(
                                      metadata=k8s.V1ObjectMeta(labels={"app": "web-canary", **LABEL,
                                                                        "harness.io/track": "canary"}),
                                      spec=k8s.V1PodSpec(containers=[k8s.V1Container(
                                          name="web", image="registry.example/web:3")])))))
    wait_for_rollout(apps, namespace, "web-canary")
    deployer.deploy("registry.example/web:3", status="Failed")

    done = plugin("rollback", RELEASE, "-n", namespace, "--dry-run=server", check_exit=0)
    assert "deployment/web-canary: would delete it" in done.stdout, done.stdout
    assert exists(apps.read_namespaced_deployment, "web-canary", namespace)


def test_prune_as_a_service_account_with_the_rbac_role_and_without_delete(api_client, test_cluster, apps, core,
                                                                          namespace, plugin):
    """The Role `rbac` prints is enough for --prune; a Role without `delete` on a pruned kind is
    refused by the rights check, before any write."""
    from tests.support.accounts import account_with, pipeline_account

    deploy_release(test_cluster, apps, core, namespace, 1, "Succeeded", GOOD)
    deploy_release(test_cluster, apps, core, namespace, 2, "Failed", FAILED)
    role = json.loads(plugin("rbac", "-n", namespace, "-o", "json", check_exit=0).stdout)
    no_delete = [{**rule, "verbs": [v for v in rule["verbs"] if v != "delete"]} if "configmaps" in rule["resources"]
                 else rule for rule in role["rules"]]
    limited = account_with(api_client, namespace, "limited", {"kind": "Role", "name": "no-delete"}, no_delete)
    before = objects(apps, core, namespace)
    refused = plugin("rollback", RELEASE, "-n", namespace, "--prune", "--as", limited, check_exit=1)
    assert "cannot delete configmaps" in refused.stderr and "to prune configmap/worker-config" in refused.stderr, \
        refused.stderr
    assert objects(apps, core, namespace) == before

    account = pipeline_account(api_client, namespace, plugin)
    plugin("rollback", RELEASE, "-n", namespace, "--prune", "--as", account, check_exit=0)
    eventually(lambda: not exists(apps.read_namespaced_deployment, "worker", namespace))
    assert not exists(core.read_namespaced_config_map, "worker-config", namespace)

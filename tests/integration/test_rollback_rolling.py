"""`rollback` end to end on the real control plane, through the installed console script.

Each test deploys Harness-style (good, good, bad), rolls back, and asserts the live state a user
cares about: the template's image, which ReplicaSet holds the replicas, Ready pods, and what the
history says afterwards.
"""

import base64
import gzip
import json

import pytest
import yaml
from kubernetes import client as k8s

from kubectl_harness_rollback.cluster.client import connect
from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.errors import Conflict
from kubectl_harness_rollback.executor import RollbackOptions, carry_out
from kubectl_harness_rollback.planner import PlanOptions, plan
from kubectl_harness_rollback.reader import Target, read_release
from tests.support.harness import HarnessRollingDeployer, Identity, owned_replicasets, wait_for_rollout

RELEASE = "release-infra-prod"
REVISION = "deployment.kubernetes.io/revision"


def template_image(apps, namespace, name="web"):
    return apps.read_namespaced_deployment(name, namespace).spec.template.spec.containers[0].image


def replicas_by_image(apps, namespace, name="web"):
    deployment = apps.read_namespaced_deployment(name, namespace)
    return {rs.spec.template.spec.containers[0].image: rs.spec.replicas
            for rs in owned_replicasets(apps, namespace, deployment)}


def ready_images(core, namespace, selector="app=web"):
    pods = core.list_namespaced_pod(namespace, label_selector=selector).items
    return sorted(p.spec.containers[0].image for p in pods if p.metadata.deletion_timestamp is None
                  and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or []))


def written_state(apps, namespace, name="web"):
    """What only a write changes: the controller keeps updating status (and resourceVersion)."""
    deployment = apps.read_namespaced_deployment(name, namespace)
    return deployment.metadata.generation, deployment.metadata.annotations, deployment.spec.template.to_dict()


def history(plugin, namespace, target=RELEASE):
    rows = json.loads(plugin("history", target, "-n", namespace, "-o", "json", check_exit=0).stdout)
    return [(r["number"], r["status"], r["workloads"][0]["revision"]) for r in rows]


def good_good_bad(apps, core, namespace, **deployer_options):
    deployer = HarnessRollingDeployer(apps, core, namespace, **deployer_options)
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2")
    deployer.deploy("registry.example/web:3", status="Failed")
    return deployer


@pytest.mark.parametrize("store, compressed", [("configmap", True), ("secret", False)])
def test_deployment_rolls_back_to_the_last_good_release(apps, core, namespace, plugin, store, compressed):
    good_good_bad(apps, core, namespace, store=store, compressed=compressed)

    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=0)

    assert template_image(apps, namespace) == "registry.example/web:2"
    assert replicas_by_image(apps, namespace) == {"registry.example/web:1": 0, "registry.example/web:2": 2,
                                                  "registry.example/web:3": 0}
    assert ready_images(core, namespace) == ["registry.example/web:2"] * 2
    # Harness's bookkeeping: release 3 Failed, release 2 now at the number Kubernetes gave it.
    assert history(plugin, namespace) == [(3, "Failed", 3), (2, "Succeeded", 4), (1, "Succeeded", 1)]
    assert 'deployment "web" successfully rolled out' in done.stderr
    # The history was written back in the encoding it was read in.
    if store == "secret":
        data = core.read_namespaced_secret(RELEASE, namespace).data
        assert "isReleaseHistoryCompressed" not in data
        assert yaml.safe_load(base64.b64decode(data["releaseHistory"]))["releases"][1]["managedWorkloads"][0][
            "revision"] == "4"
    else:
        data = core.read_namespaced_config_map(RELEASE, namespace).data
        assert data["isReleaseHistoryCompressed"] == "true"
        assert yaml.safe_load(gzip.decompress(base64.b64decode(data["releaseHistory"])))["releases"][0][
            "status"] == "Failed"
    # The audit trail: an annotation on the workload and an Event.
    audit = json.loads(apps.read_namespaced_deployment("web", namespace).metadata.annotations[
        "harness.io/last-rollback"])
    assert (audit["fromRelease"], audit["toRelease"], audit["by"]) == (3, 2, audit["by"] or "?")
    events = core.list_namespaced_event(namespace, field_selector="reason=RolledBack").items
    assert [e.involved_object.name for e in events] == ["web"]


def test_second_run_changes_nothing_and_says_so(apps, core, namespace, plugin):
    good_good_bad(apps, core, namespace)
    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    version = written_state(apps, namespace)

    again = plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert "Nothing to change" in again.stdout
    assert written_state(apps, namespace) == version


def test_a_second_failure_after_a_rollback_rolls_back_again(apps, core, namespace, plugin):
    deployer = good_good_bad(apps, core, namespace)
    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    deployer.releases = [type(r)(r.number, s, r.workloads, r.namespace) for r, s in
                         zip(deployer.releases, ("Succeeded", "Succeeded", "Failed"))]
    deployer.releases[1].workloads = [("Deployment", "web", "4")]  # as the bookkeeping recorded it
    deployer.deploy("registry.example/web:4", status="Failed")  # release 4, revision 5

    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert template_image(apps, namespace) == "registry.example/web:2"
    assert history(plugin, namespace)[:2] == [(4, "Failed", 5), (3, "Failed", 3)]
    assert history(plugin, namespace)[2] == (2, "Succeeded", 6)


def test_w1_w2_by_workflow_and_by_infra(apps, core, namespace, plugin):
    def setup(ns_suffix):
        deployer = HarnessRollingDeployer(apps, core, namespace, name=f"web{ns_suffix}", release_name=f"rel{ns_suffix}")
        deployer.deploy("registry.example/web:w1-good", identity=Identity(workflow_id="w1"))
        deployer.deploy("registry.example/web:w2-good", identity=Identity(workflow_id="w2"))
        deployer.deploy("registry.example/web:w1-bad", status="Failed", identity=Identity(workflow_id="w1"))

    setup("a")
    setup("b")
    plugin("rollback", "rela", "-n", namespace, check_exit=0)
    plugin("rollback", "relb", "-n", namespace, "--match", "infra", check_exit=0)
    assert template_image(apps, namespace, "weba") == "registry.example/web:w1-good"
    assert template_image(apps, namespace, "webb") == "registry.example/web:w2-good"


def test_first_deployment_failed_exits_3_and_changes_nothing(apps, core, namespace, plugin):
    HarnessRollingDeployer(apps, core, namespace).deploy("registry.example/web:1", status="Failed")
    version = written_state(apps, namespace)
    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=3)
    assert "nothing to roll back to" in done.stderr
    assert written_state(apps, namespace) == version


def test_renumbered_revision_is_restored(apps, core, namespace, plugin, test_cluster):
    import subprocess

    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2", status="Failed")
    subprocess.run(["kubectl", "rollout", "undo", "deployment/web", "--to-revision=1", "-n", namespace],
                   check=True, capture_output=True, env=test_cluster.env())  # web:1 is now revision 3
    deployer.deploy("registry.example/web:3", status="Failed")  # revision 4

    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert template_image(apps, namespace) == "registry.example/web:1"
    assert history(plugin, namespace)[-1] == (1, "Succeeded", 5)


def test_pruned_revision_stops_with_the_limit(apps, core, namespace, plugin):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"revisionHistoryLimit": 1}})
    deployer.deploy("registry.example/web:2", status="Failed")
    deployer.deploy("registry.example/web:3", status="Failed")
    import time
    deadline = time.monotonic() + 30
    while len(owned_replicasets(apps, namespace, apps.read_namespaced_deployment("web", namespace))) > 2:
        assert time.monotonic() < deadline, "the controller did not prune old ReplicaSets"
        time.sleep(0.2)

    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=1)
    assert "revision 1 of deployment/web" in done.stderr and "revisionHistoryLimit is 1" in done.stderr
    assert template_image(apps, namespace) == "registry.example/web:3"


def test_paused_deployment_is_refused_before_any_write(apps, core, namespace, plugin):
    good_good_bad(apps, core, namespace)
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"paused": True}})
    version = written_state(apps, namespace)
    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=1)
    assert "kubectl rollout resume deployment/web" in done.stderr
    assert written_state(apps, namespace) == version


def test_missing_versioned_config_map_stops_before_any_write(apps, core, namespace, plugin):
    core.create_namespaced_config_map(namespace, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="web-config-1")))
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"template": {"spec": {"volumes": [
        {"name": "config", "configMap": {"name": "web-config-1"}}]}}}})
    wait_for_rollout(apps, namespace, "web")
    deployer.releases[-1].workloads = [("Deployment", "web", "2")]
    deployer.deploy("registry.example/web:2", status="Failed")
    core.delete_namespaced_config_map("web-config-1", namespace)
    version = written_state(apps, namespace)

    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=1)
    assert "configmap/web-config-1" in done.stderr and "nothing was changed" in done.stderr
    assert written_state(apps, namespace) == version


@pytest.mark.parametrize("mode", ["client", "server"])
def test_dry_run_changes_nothing(apps, core, namespace, plugin, mode):
    good_good_bad(apps, core, namespace)
    before = (written_state(apps, namespace), core.read_namespaced_config_map(RELEASE, namespace).metadata.resource_version)
    done = plugin("rollback", RELEASE, "-n", namespace, f"--dry-run={mode}", check_exit=0)
    assert "spec.template.spec.containers[web].image: registry.example/web:3 → registry.example/web:2" in done.stdout
    assert (written_state(apps, namespace),
            core.read_namespaced_config_map(RELEASE, namespace).metadata.resource_version) == before
    assert core.list_namespaced_event(namespace, field_selector="reason=RolledBack").items == []
    # Said once, on stdout, in the conditional, with every write the real run makes.
    assert "restored" not in done.stdout + done.stderr and done.stdout.count("would restore") == 1
    for write in ("deployment/web: would restore the template of revision 2",
                  "deployment/web: would annotate harness.io/last-rollback",
                  f"configmap/{RELEASE}: would record the rollback in the release history",
                  "deployment/web: would record a RolledBack Event on it"):
        assert write in done.stdout, done.stdout
    as_json = json.loads(plugin("rollback", RELEASE, "-n", namespace, f"--dry-run={mode}", "-o", "json",
                                check_exit=0).stdout)
    assert [item["action"] for item in as_json["outcome"]["wouldWrite"]] == [
        "restored", "annotated", "historyUpdated", "eventRecorded"]


def test_a_change_made_in_between_is_never_overwritten(apps, core, namespace, test_cluster):
    good_good_bad(apps, core, namespace)
    kube = connect(ConnectionFlags(namespace=namespace), env={"KUBECONFIG": test_cluster.kubeconfig})
    model = read_release(kube, namespace, Target(release_name=RELEASE))
    decided = plan(model, PlanOptions())
    # Someone changes the Deployment after we planned and before we write: more than spec.replicas,
    # which alone (an autoscaler's) does not stop a template restore (test_after_first_write.py).
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 3, "minReadySeconds": 1}})

    with pytest.raises(Conflict, match="changed by someone else"):
        carry_out(kube, model, decided, RollbackOptions(DryRun.NONE, wait=False, timeout=30), progress=lambda _: None)
    deployment = apps.read_namespaced_deployment("web", namespace)
    assert (deployment.spec.replicas, deployment.spec.template.spec.containers[0].image) == (3, "registry.example/web:3")


def test_not_steady_within_timeout_exits_4_after_recording(apps, core, namespace, plugin):
    good_good_bad(apps, core, namespace)
    # A quota of two pods: the rollback's surge pod can never be created, so it cannot finish.
    core.create_namespaced_resource_quota(namespace, k8s.V1ResourceQuota(
        metadata=k8s.V1ObjectMeta(name="two-pods"), spec=k8s.V1ResourceQuotaSpec(hard={"pods": "2"})))
    done = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "4s", check_exit=4)
    assert "not steady within the timeout" in done.stderr
    assert template_image(apps, namespace) == "registry.example/web:2"
    assert history(plugin, namespace)[0] == (3, "Failed", 3)
    assert history(plugin, namespace)[1] == (2, "Succeeded", 4)


def test_no_wait_returns_once_observed_and_still_records(apps, core, namespace, plugin):
    good_good_bad(apps, core, namespace)
    done = plugin("rollback", RELEASE, "-n", namespace, "--no-wait", check_exit=0)
    assert "Rollback complete" not in done.stdout and "successfully rolled out" not in done.stderr
    assert template_image(apps, namespace) == "registry.example/web:2"
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 4)]
    # Not a terminal: plain text only, no color or cursor escapes.
    assert "\x1b" not in done.stdout + done.stderr


def test_to_revision_made_outside_harness(apps, core, namespace, plugin):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "registry.example/web:hotfix"}]}}}})  # revision 2, by hand
    wait_for_rollout(apps, namespace, "web")
    deployer.deploy("registry.example/web:3", status="Failed")  # revision 3

    plugin("rollback", RELEASE, "-n", namespace, "--to-revision", "2", check_exit=0)
    assert template_image(apps, namespace) == "registry.example/web:hotfix"
    assert history(plugin, namespace) == [(2, "Failed", 3), (1, "Succeeded", 1)]


def test_a_release_of_two_deployments_rolls_both_back(apps, core, namespace, plugin):
    from tests.support.harness import Release, current_revision, deployment_body, write_history

    releases = []
    for number, (tag, status) in enumerate([("1", "Succeeded"), ("2", "Failed")], start=1):
        workloads = []
        for name in ("web", "worker"):
            body = deployment_body(name, RELEASE, f"registry.example/{name}:{tag}", Identity(), number)
            if number == 1:
                apps.create_namespaced_deployment(namespace, body)
            else:
                apps.patch_namespaced_deployment(name, namespace, {
                    "metadata": {"annotations": body.metadata.annotations},
                    "spec": {"template": {"spec": {"containers": [
                        {"name": name, "image": f"registry.example/{name}:{tag}"}]}}}})
            deployment = wait_for_rollout(apps, namespace, name)
            workloads.append(("Deployment", name, current_revision(apps, namespace, deployment)))
        releases.append(Release(number, status, workloads, namespace))
        write_history(core, namespace, RELEASE, releases)

    view = json.loads(plugin("plan", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(w["name"], w["fromRevision"], w["toRevision"]) for w in view["workloads"]] == [
        ("web", 2, 1), ("worker", 2, 1)]
    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert (template_image(apps, namespace, "web"), template_image(apps, namespace, "worker")) == (
        "registry.example/web:1", "registry.example/worker:1")
    rows = json.loads(plugin("history", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(w["name"], w["revision"]) for w in rows[1]["workloads"]] == [("web", 3), ("worker", 3)]


def test_a_history_written_in_between_is_not_overwritten(apps, core, namespace, test_cluster):
    good_good_bad(apps, core, namespace)
    kube = connect(ConnectionFlags(namespace=namespace), env={"KUBECONFIG": test_cluster.kubeconfig})
    model = read_release(kube, namespace, Target(release_name=RELEASE))
    decided = plan(model, PlanOptions())
    core.patch_namespaced_config_map(RELEASE, namespace, {"metadata": {"labels": {"touched": "yes"}}})
    written = core.read_namespaced_config_map(RELEASE, namespace).data

    with pytest.raises(Conflict, match="the rollback was done but its history was not updated"):
        carry_out(kube, model, decided, RollbackOptions(DryRun.NONE, wait=False, timeout=30), progress=lambda _: None)
    assert template_image(apps, namespace) == "registry.example/web:2"
    assert core.read_namespaced_config_map(RELEASE, namespace).data == written

"""What Harness's delegate actually leaves in a cluster, rolled back on the real control plane.

Every state here is written by the test helpers in Harness's own encoding (tests/support/harness.py),
not by the plugin: a succeeded release whose pipeline failed later (`--from-release`), legacy
history and declarative release Secrets side by side, a release-named Secret that is not the
history, releases that recorded no revision, and kinds the plugin cannot restore.
"""

import json

import pytest
from kubernetes import client as k8s

from tests.integration.test_bluegreen import endpoint_ips, eventually, pod_ips
from tests.support.harness import (
    COLOR,
    HarnessBlueGreenDeployer,
    HarnessRollingDeployer,
    Identity,
    Release,
    deployment_body,
    wait_for_rollout,
    write_declarative_release,
    write_history,
)

RELEASE = "release-infra-prod"
BG_RELEASE = "release-bg"


def image(apps, namespace, name="web"):
    return apps.read_namespaced_deployment(name, namespace).spec.template.spec.containers[0].image


def history(plugin, namespace):
    rows = json.loads(plugin("history", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    return [(r["number"], r["status"], r["source"], r["workloads"][0]["revision"] if r["workloads"] else None)
            for r in rows]


def versions(apps, core, namespace):
    """resourceVersion of every object a rollback could write: nothing may change on a refusal."""
    objects = (apps.list_namespaced_deployment(namespace).items + core.list_namespaced_config_map(namespace).items
               + core.list_namespaced_secret(namespace).items + core.list_namespaced_service(namespace).items)
    return {(o.kind if hasattr(o, "kind") and o.kind else type(o).__name__, o.metadata.name): o.metadata.resource_version
            for o in objects}


def good_good_verified_bad(apps, core, namespace):
    """Release 3 deployed fine (Succeeded); a verification step after it failed."""
    deployer = HarnessRollingDeployer(apps, core, namespace)
    for tag in (1, 2, 3):
        deployer.deploy(f"registry.example/web:{tag}")
    return deployer


def test_a_succeeded_latest_release_is_left_alone_with_the_command_to_roll_it_back(apps, core, namespace, plugin):
    good_good_verified_bad(apps, core, namespace)
    before = versions(apps, core, namespace)

    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=0)

    assert "no failed release found" in done.stdout
    assert f"kubectl harness-rollback rollback {RELEASE} -n {namespace} --from-release 3" in done.stdout
    assert image(apps, namespace) == "registry.example/web:3"
    assert versions(apps, core, namespace) == before


def test_from_release_rolls_back_a_succeeded_release(apps, core, namespace, plugin):
    good_good_verified_bad(apps, core, namespace)

    view = json.loads(plugin("plan", RELEASE, "-n", namespace, "--from-release", "3", "-o", "json",
                             check_exit=0).stdout)
    assert (view["current"]["number"], view["target"]["number"]) == (3, 2)

    plugin("rollback", RELEASE, "-n", namespace, "--from-release", "3", check_exit=0)
    assert image(apps, namespace) == "registry.example/web:2"
    assert history(plugin, namespace) == [(3, "Failed", f"configmap/{RELEASE}", 3),
                                          (2, "Succeeded", f"configmap/{RELEASE}", 4),
                                          (1, "Succeeded", f"configmap/{RELEASE}", 1)]
    # The same command again (a pipeline retry) restores nothing else.
    plugin("rollback", RELEASE, "-n", namespace, "--from-release", "3", check_exit=0)
    assert image(apps, namespace) == "registry.example/web:2"


@pytest.mark.parametrize("number, message", [(2, "is not the latest release"), (9, "is not in the history")])
def test_from_release_must_name_the_latest_release(apps, core, namespace, plugin, number, message):
    good_good_verified_bad(apps, core, namespace)
    before = versions(apps, core, namespace)
    done = plugin("rollback", RELEASE, "-n", namespace, "--from-release", str(number))
    assert done.returncode != 0 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert versions(apps, core, namespace) == before


def deployment_manifest(api_client, namespace, tag, number):
    body = deployment_body("web", RELEASE, f"registry.example/web:{tag}", Identity(), number)
    manifest = api_client.sanitize_for_serialization(body)
    manifest.update({"apiVersion": "apps/v1", "kind": "Deployment"})
    manifest["metadata"]["namespace"] = namespace
    return manifest


def deploy_declarative(apps, core, namespace, number, status):
    """Harness with declarative rollback switched on: apply, then one release Secret per release."""
    manifest = deployment_manifest(apps.api_client, namespace, number, number)
    apps.patch_namespaced_deployment("web", namespace, {
        "metadata": {"annotations": manifest["metadata"]["annotations"]},
        "spec": {"template": manifest["spec"]["template"]}})
    wait_for_rollout(apps, namespace, "web")
    write_declarative_release(core, namespace, RELEASE, number, status, [manifest])


def test_mixed_stores_roll_back_to_the_last_succeeded_declarative_release(apps, core, namespace, plugin):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2")
    deploy_declarative(apps, core, namespace, 3, "Succeeded")  # the Secrets continue the legacy numbering
    deploy_declarative(apps, core, namespace, 4, "Failed")
    legacy_before = core.read_namespaced_config_map(RELEASE, namespace).data

    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)

    assert image(apps, namespace) == "registry.example/web:3"
    assert core.read_namespaced_secret(f"harness.release.{RELEASE}.4", namespace).metadata.labels["status"] == "Failed"
    assert core.read_namespaced_config_map(RELEASE, namespace).data == legacy_before  # no legacy release moved


def test_mixed_stores_without_a_succeeded_declarative_release_undo_to_the_legacy_one(apps, core, namespace, plugin):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2")
    deploy_declarative(apps, core, namespace, 3, "InProgress")

    view = json.loads(plugin("plan", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert (view["current"]["number"], view["target"]["number"]) == (3, 2)
    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)

    assert image(apps, namespace) == "registry.example/web:2"
    labels = core.read_namespaced_secret(f"harness.release.{RELEASE}.3", namespace).metadata.labels
    assert labels["status"] == "Failed"
    # Each release is recorded in its own store: release 2 keeps the new revision in the legacy history.
    assert history(plugin, namespace) == [(3, "Failed", "declarative", None),
                                          (2, "Succeeded", f"configmap/{RELEASE}", 4),
                                          (1, "Succeeded", f"configmap/{RELEASE}", 1)]


def test_a_release_named_secret_without_release_history_is_not_the_history(apps, core, namespace, plugin):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    for tag, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
        deployer.deploy(f"registry.example/web:{tag}", status=status)
    core.create_namespaced_secret(namespace, k8s.V1Secret(
        metadata=k8s.V1ObjectMeta(name=RELEASE), string_data={"password": "s3cr3t-value"}))

    shown = plugin("plan", RELEASE, "-n", namespace, check_exit=0)
    assert "secret/release-infra-prod is named like the release but holds no releaseHistory" in shown.stdout
    assert "Rollback to:  release 2" in shown.stdout
    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert "s3cr3t" not in shown.stdout + shown.stderr + done.stdout + done.stderr
    assert image(apps, namespace) == "registry.example/web:2"
    assert history(plugin, namespace)[0][:3] == (3, "Failed", f"configmap/{RELEASE}")


@pytest.mark.parametrize("style", ["empty revision", "missing revision"])
def test_a_release_without_a_revision_is_restored_by_plain_undo(apps, core, namespace, plugin, style):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    for tag, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
        deployer.deploy(f"registry.example/web:{tag}", status=status)
    # Harness writes `revision: ''` when `kubectl rollout history` failed; old records have none.
    releases = [Release(r.number, r.status, [(k, n, "" if r.number == 2 else rev) for k, n, rev in r.workloads],
                        namespace) for r in deployer.releases]
    if style == "empty revision":
        write_history(core, namespace, RELEASE, releases)
    else:
        write_history(core, namespace, RELEASE, releases, style="managedWorkload", omit_empty_revision=True)

    shown = plugin("plan", RELEASE, "-n", namespace, check_exit=0)
    assert "release 2 recorded no revision for deployment/web: restoring the previous revision (2)" in shown.stdout
    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert image(apps, namespace) == "registry.example/web:2"
    assert history(plugin, namespace)[:2] == [(3, "Failed", f"configmap/{RELEASE}", 3),
                                              (2, "Succeeded", f"configmap/{RELEASE}", 4)]
    # Run twice: the history now records where release 2 is, so nothing flips back.
    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert image(apps, namespace) == "registry.example/web:2"


@pytest.mark.parametrize("field, entry, kind", [
    # Harness stores a custom workload as a whole KubernetesResource: its id and its manifest.
    ("customWorkloads", [{"resourceId": {"kind": "Rollout", "name": "web", "namespace": None, "versioned": False},
                          "value": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                                    "metadata": {"name": "web", "annotations": {"harness.io/managed-workload": "true"}}}}],
     "Rollout"),
    ("managedWorkload", {"kind": "DeploymentConfig", "name": "web", "namespace": None, "versioned": False},
     "DeploymentConfig"),
])
def test_kinds_the_plugin_cannot_restore_are_refused_before_any_write(apps, core, namespace, plugin, field, entry,
                                                                      kind):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    for tag, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
        deployer.deploy(f"registry.example/web:{tag}", status=status)
    entry = json.loads(json.dumps(entry).replace("null", json.dumps(namespace)))
    deployer.releases[-1].extra[field] = entry
    write_history(core, namespace, RELEASE, deployer.releases)
    before = versions(apps, core, namespace)

    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=1)

    assert f"manages {kind} web, a kind kubectl harness-rollback cannot restore" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert versions(apps, core, namespace) == before


def harness_blue_green(apps, core, namespace, first_gen=False):
    """Harness's blue/green flow: stage deploy (Succeeded, before the swap), then the swap step;
    blue is release 1, green release 2, and green now serves primary."""
    deployer = HarnessBlueGreenDeployer(apps, core, namespace)
    deployer.create_services()
    for color, tag in (("blue", 1), ("green", 2)):
        deployer.deploy_stage(color, f"registry.example/shop:{tag}", first_gen=first_gen)
        deployer.swap_step()
    assert deployer.selectors()[0][COLOR] == "green"
    return deployer


def bg_history(plugin, namespace):
    rows = json.loads(plugin("history", BG_RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    return [(r["number"], r["status"], r.get("bgEnvironment")) for r in rows]


@pytest.mark.parametrize("first_gen", [False, True], ids=["nextgen", "firstgen"])
def test_blue_green_after_the_swap_is_rolled_back_with_from_release(apps, core, namespace, plugin, first_gen):
    deployer = harness_blue_green(apps, core, namespace, first_gen)
    environments = [None, None] if first_gen else ["primary", "stage"]
    assert bg_history(plugin, namespace) == [(2, "Succeeded", environments[0]), (1, "Succeeded", environments[1])]
    before = versions(apps, core, namespace)

    nothing = plugin("rollback", BG_RELEASE, "-n", namespace, check_exit=0)
    assert "--from-release 2" in nothing.stdout
    assert versions(apps, core, namespace) == before

    view = json.loads(plugin("plan", BG_RELEASE, "-n", namespace, "--from-release", "2", "-o", "json",
                             check_exit=0).stdout)
    assert view["mode"] == "blue-green"
    assert [(s["name"], s["fromColor"], s["toColor"]) for s in view["services"]] == [
        ("shop", "green", "blue"), ("shop-stage", "blue", "green")]

    plugin("rollback", BG_RELEASE, "-n", namespace, "--from-release", "2", check_exit=0)

    assert [s[COLOR] for s in deployer.selectors()] == ["blue", "green"]
    blue = pod_ips(core, namespace, "blue")
    assert len(blue) == 2
    eventually(lambda: endpoint_ips(core, namespace, "shop") == blue)
    # Harness's swap bookkeeping: bgEnvironment moves back, no status changes (FirstGen: no field at all).
    environments = [None, None] if first_gen else ["stage", "primary"]
    assert bg_history(plugin, namespace) == [(2, "Succeeded", environments[0]), (1, "Succeeded", environments[1])]

    after = versions(apps, core, namespace)
    again = plugin("rollback", BG_RELEASE, "-n", namespace, "--from-release", "2", check_exit=0)
    assert "already rolled back: " in again.stdout and "traffic never moved" not in again.stdout
    assert versions(apps, core, namespace) == after


def test_declarative_blue_green_swap_bookkeeping_moves_the_environment_labels(apps, core, namespace, plugin):
    deployer = HarnessBlueGreenDeployer(apps, core, namespace)
    deployer.create_services(primary_color="green", stage_color="blue")
    for number, color, environment in ((1, "green", "primary"), (2, "blue", "stage")):
        deployer.deploy(color, f"registry.example/shop:{number}", swap=False)
        manifest = apps.api_client.sanitize_for_serialization(
            apps.read_namespaced_deployment(f"shop-{color}", namespace))
        manifest = {"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": f"shop-{color}", "namespace": namespace}, "spec": manifest["spec"]}
        write_declarative_release(core, namespace, BG_RELEASE, number, "Succeeded", [manifest], color=color,
                                  bg_environment=environment)
    core.delete_namespaced_config_map(BG_RELEASE, namespace)  # declarative only: no legacy history
    # The swap step: blue (release 2) goes primary, green (release 1) stage.
    deployer.swap()
    for number, environment in ((1, "stage"), (2, "primary")):
        core.patch_namespaced_secret(f"harness.release.{BG_RELEASE}.{number}", namespace,
                                     {"metadata": {"labels": {"harness.io/bg-environment": environment}}})

    plugin("rollback", BG_RELEASE, "-n", namespace, "--from-release", "2", check_exit=0)

    assert [s[COLOR] for s in deployer.selectors()] == ["green", "blue"]
    labels = {n: core.read_namespaced_secret(f"harness.release.{BG_RELEASE}.{n}", namespace).metadata.labels
              for n in (1, 2)}
    assert {n: (l["harness.io/bg-environment"], l["status"]) for n, l in labels.items()} == {
        1: ("primary", "Succeeded"), 2: ("stage", "Succeeded")}


def test_canary_delete_removes_what_harness_deletes_and_nothing_else(apps, core, namespace, plugin):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2")
    # Harness's canary step: a `web-canary` Deployment with its HPA and PDB, named in the release.
    canary = deployment_body("web-canary", RELEASE, "registry.example/web:3", Identity(), 3, replicas=1)
    canary.spec.selector.match_labels = {"app": "web-canary"}
    canary.spec.template.metadata.labels["app"] = "web-canary"
    apps.create_namespaced_deployment(namespace, canary)
    k8s.AutoscalingV2Api(apps.api_client).create_namespaced_horizontal_pod_autoscaler(namespace, {
        "metadata": {"name": "web-canary"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web-canary"},
                 "minReplicas": 1, "maxReplicas": 2}})
    policy = k8s.PolicyV1Api(apps.api_client)
    policy.create_namespaced_pod_disruption_budget(namespace, {
        "metadata": {"name": "web-canary"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web-canary"}}}})
    # The disruption controller writes the PDB's status soon after: read it once that has settled.
    eventually(lambda: (policy.read_namespaced_pod_disruption_budget("web-canary", namespace).status.observed_generation
                        or 0) >= 1)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "other-canary"}})  # not the release's
    wait_for_rollout(apps, namespace, "web-canary")
    release = deployer.deploy("registry.example/web:3", status="Failed")
    release.extra["resources"] = [{"kind": kind, "name": name, "namespace": namespace, "versioned": False}
                                  for kind, name in (("Deployment", "web"), ("Deployment", "web-canary"),
                                                     ("HorizontalPodAutoscaler", "web-canary"),
                                                     ("PodDisruptionBudget", "web-canary"))]
    write_history(core, namespace, RELEASE, deployer.releases)

    view = json.loads(plugin("plan", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert view["mode"] == "canary"
    assert view["delete"] == [{"kind": "Deployment", "name": "web-canary"},
                              {"kind": "HorizontalPodAutoscaler", "name": "web-canary"},
                              {"kind": "PodDisruptionBudget", "name": "web-canary"}]
    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)

    assert [d.metadata.name for d in apps.list_namespaced_deployment(namespace).items] == ["web"]
    assert not k8s.AutoscalingV2Api(apps.api_client).list_namespaced_horizontal_pod_autoscaler(namespace).items
    assert not k8s.PolicyV1Api(apps.api_client).list_namespaced_pod_disruption_budget(namespace).items
    assert core.read_namespaced_config_map("other-canary", namespace)
    assert image(apps, namespace) == "registry.example/web:2"

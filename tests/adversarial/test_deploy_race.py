"""A Harness deploy that lands while a rollback runs, on the real control plane.

Harness's rolling deploy applies the manifests, then saves the new release InProgress, then
Succeeded once the workload is steady (K8sRollingRequestHandler.executeTaskInternal, harness-core
930-delegate-tasks/src/main/java/io/harness/delegate/k8s/K8sRollingRequestHandler.java, lines
~115-150 at commit 088916d: applyManifests, setManagedWorkloadsInRelease +
saveReleaseHistoryInConfigMap, doStatusCheckForAllResources, setReleaseStatus(Succeeded)), with no
guard on either write. Here release 4 (web:4) is applied just before the rollback reads the
Deployment, and saved InProgress just after the rollback restored web:2 and before it records:
- the rollback records nothing and exits 5, saying release 4 appeared and what it wrote;
- the next run decides from release 4: InProgress, it is rolled back (web:2 already runs, so the
  run records it); recorded Succeeded by Harness's status check (which saw web:2 steady), it is an
  error naming the disagreement — never "nothing to do" — and `--from-release 4` records it.
"""

from __future__ import annotations

import json
import time

from tests.adversarial.state import changed, versions
from tests.support.harness import HarnessRollingDeployer, Release, wait_for_rollout, write_history
from tests.support.relay import RELAY, run_through

RELEASE = "release-infra-prod"


def good_good_bad(apps, core, namespace) -> HarnessRollingDeployer:
    deployer = HarnessRollingDeployer(apps, core, namespace)
    for tag, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
        deployer.deploy(f"registry.example/web:{tag}", status=status)
    return deployer


def history(plugin, namespace):
    rows = json.loads(plugin("history", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    return [(r["number"], r["status"], r["workloads"][0]["revision"]) for r in rows]


def image(apps, namespace):
    return apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].image


def harness_applies(apps, namespace, tag: str) -> str:
    """Harness's applyManifests: the new template, unguarded; then (setManagedWorkloadsInRelease)
    the revision the controller gave it."""
    apps.patch_namespaced_deployment("web", namespace, {
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": f"registry.example/web:{tag}"}]}}}})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = apps.read_namespaced_deployment("web", namespace)
        if (found.status.observed_generation or 0) >= found.metadata.generation:
            return found.metadata.annotations["deployment.kubernetes.io/revision"]
        time.sleep(0.1)
    raise AssertionError("the Deployment controller did not observe release 4's template")


def harness_deploy_races_the_rollback(apps, core, namespace, deployer: HarnessRollingDeployer):
    """A relay hook: release 4 is applied as the rollback lists the Deployments (after it read the
    history), and saved InProgress at the rollback's first request for the history after its
    PATCH of the Deployment (before it records)."""
    state = {"applied": None, "restored": False, "saved": False}

    def before(method: str, path: str) -> str:
        if method == "GET" and path.endswith(f"/namespaces/{namespace}/deployments") and state["applied"] is None:
            state["applied"] = harness_applies(apps, namespace, "4")
        elif method == "PATCH" and path.endswith(f"/namespaces/{namespace}/deployments/web"):
            state["restored"] = True
        elif state["restored"] and not state["saved"] and path.endswith(f"/configmaps/{RELEASE}"):
            state["saved"] = True
            deployer.releases.append(Release(4, "InProgress", [("Deployment", "web", state["applied"])], namespace))
            write_history(core, namespace, RELEASE, deployer.releases)
        return RELAY

    return before, state


def raced_rollback(apps, core, namespace, test_cluster, tmp_path):
    deployer = good_good_bad(apps, core, namespace)
    before, state = harness_deploy_races_the_rollback(apps, core, namespace, deployer)
    done = run_through(test_cluster, tmp_path, namespace, before, "rollback", RELEASE, "--timeout", "60s")
    assert state["applied"] == "4" and state["saved"], state
    return deployer, done


def assert_stopped_before_recording(done, apps, namespace, plugin):
    assert done.returncode == 5, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: release 4 of {RELEASE} appeared in configmap/{RELEASE} while this rollback ran "
                           "(a deploy started meanwhile): the rollback from release 3 was not recorded"), done.stderr
    assert "the next run decides afresh from what is there now" in line
    assert "already written before it failed: deployment/web: restored the template of revision 2 " \
           "(registry.example/web:2)" in line
    assert "Traceback" not in done.stderr
    assert image(apps, namespace) == "registry.example/web:2"  # the rollback's write came after release 4's
    # Nothing recorded: release 4 as Harness saved it, release 3 and 2 as before.
    assert history(plugin, namespace)[:3] == [(4, "InProgress", 4), (3, "Failed", 3), (2, "Succeeded", 2)]


def test_a_deploy_saved_during_the_rollback_stops_it_and_the_rerun_rolls_release_4_back(
        api_client, apps, core, namespace, plugin, test_cluster, tmp_path):
    _, done = raced_rollback(apps, core, namespace, test_cluster, tmp_path)
    assert_stopped_before_recording(done, apps, namespace, plugin)

    again = plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert "Current:      release 4 (InProgress" in again.stdout
    assert "every workload already runs release 2" in again.stderr and "recording it now" in again.stderr
    assert history(plugin, namespace)[:3] == [(4, "Failed", 4), (3, "Failed", 3), (2, "Succeeded", 5)]
    assert image(apps, namespace) == "registry.example/web:2"


def test_a_raced_release_recorded_succeeded_is_never_nothing_to_do(api_client, apps, core, namespace, plugin,
                                                                    test_cluster, tmp_path):
    deployer, done = raced_rollback(apps, core, namespace, test_cluster, tmp_path)
    assert_stopped_before_recording(done, apps, namespace, plugin)
    # Harness's status check sees the Deployment steady (running web:2) and saves release 4 Succeeded.
    wait_for_rollout(apps, namespace, "web")
    deployer.releases[-1].status = "Succeeded"
    write_history(core, namespace, RELEASE, deployer.releases)

    before = versions(api_client, namespace)
    refused = plugin("rollback", RELEASE, "-n", namespace, check_exit=1)
    line = refused.stderr.strip().splitlines()[-1]
    assert line.startswith("error: the latest release 4 is recorded Succeeded, but deployment/web runs revision 5 "
                           "(release 2's), not release 4's revision 4: the record and the cluster disagree"), line
    assert f"kubectl harness-rollback rollback {RELEASE} -n {namespace} --from-release 4" in line
    assert changed(before, versions(api_client, namespace)) == []
    plugin("plan", RELEASE, "-n", namespace, check_exit=1)

    recorded = plugin("rollback", RELEASE, "-n", namespace, "--from-release", "4", check_exit=0)
    assert "recording it now" in recorded.stderr
    assert history(plugin, namespace)[:3] == [(4, "Failed", 4), (3, "Failed", 3), (2, "Succeeded", 5)]
    assert image(apps, namespace) == "registry.example/web:2"
    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)  # and now it agrees: nothing to do


def test_a_declarative_release_saved_during_the_rollback_stops_it_before_recording(apps, core, namespace, plugin,
                                                                                    test_cluster, tmp_path):
    """Harness saves release 3's Secret while the rollback waits for the controller: the check before
    recording lists the release Secrets at least as new as the plan read them (answered from the API
    server's watch cache, overtaken.py), and finds it there."""
    from tests.adversarial.test_rerun import declarative
    from tests.support.harness import write_declarative_release

    target, restored = declarative(apps, core, namespace)
    manifest = apps.api_client.sanitize_for_serialization(apps.read_namespaced_deployment("web", namespace))
    state = {"restored": False, "saved": False, "checked": []}

    def before(method: str, path_and_query: str) -> str:
        path = path_and_query.split("?")[0]
        if method == "PATCH" and path.endswith(f"/namespaces/{namespace}/deployments/web"):
            state["restored"] = True
        elif state["saved"] and method == "GET" and path.endswith(f"/namespaces/{namespace}/secrets"):
            state["checked"].append(path_and_query)
        elif state["restored"] and not state["saved"]:  # the wait's watch, the first request after the write
            state["saved"] = True
            write_declarative_release(core, namespace, RELEASE, 3, "InProgress",
                                      [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                                        "spec": manifest["spec"]}])
        return RELAY

    release_2 = core.read_namespaced_secret(f"harness.release.{RELEASE}.2", namespace).metadata.resource_version
    done = run_through(test_cluster, tmp_path, namespace, before, "rollback", target, "--timeout", "60s",
                       with_query=True)

    assert state["saved"], state
    [check] = state["checked"]
    assert "resourceVersionMatch=NotOlderThan" in check and "resourceVersion=" in check, check
    assert done.returncode == 5, done.stderr
    assert f"release 3 of {RELEASE} appeared in secret/harness.release.{RELEASE}.3 while this rollback ran" \
        in done.stderr, done.stderr
    assert "was not recorded" in done.stderr and "Traceback" not in done.stderr
    assert restored()  # written before the deploy was seen: the next run decides from release 3
    assert core.read_namespaced_secret(f"harness.release.{RELEASE}.2", namespace).metadata.resource_version \
        == release_2  # nothing recorded
    assert sorted(s.metadata.name for s in core.list_namespaced_secret(namespace).items
                  if s.type == "harness.io/release/v2") == [f"harness.release.{RELEASE}.{n}" for n in (1, 2, 3)]

"""Rollbacks of releases that fail the way real ones do.

The pods of these releases never become Ready, crash-loop, cannot pull their image, or become
Ready only after a delay (hack/kwok-stages.yaml on KWOK; the real causes on a real kubelet). Their
Deployments have a progress deadline, so the real Deployment controller itself declares a stalled
rollout failed (Progressing=False, ProgressDeadlineExceeded) — the state an on-call engineer
finds — and the plugin's wait, its progress lines, its exit 4 and its check of what became steady
are exercised against rollouts that really do not finish.
"""

import json
import subprocess
import threading
import time

import pytest
from kubernetes import client as k8s

from tests.support.harness import COLOR
from tests.support.pod_behavior import (
    CRASH_LOOP,
    IMAGE_PULL_ERROR,
    NEVER_READY,
    READY_AFTER_DELAY,
    REVISION,
    BehaviorBlueGreenDeployer,
    BehaviorDeployer,
    image,
    pod_states,
    progressing,
    wait_for_stall,
)
from tests.support.waiting import eventually

RELEASE = "release-infra-prod"


# Every test here fails at once, with the fix, on a cluster without the failure stages.
pytestmark = pytest.mark.usefixtures("failure_stages")


def history(plugin, namespace, release=RELEASE):
    rows = json.loads(plugin("history", release, "-n", namespace, "-o", "json", check_exit=0).stdout)
    return [(r["number"], r["status"], r["workloads"][0]["revision"]) for r in rows]


def rollout_status(test_cluster, namespace, name="web"):
    """kubectl's own verdict, from the kubectl of the cluster's version."""
    return subprocess.run(["kubectl", "rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout", "5s"],
                          capture_output=True, text=True, env=test_cluster.env(), timeout=60)


def steady_on_good_pods(apps, core, namespace, replicas=2):
    """Every replica available, every pod Ready and of a template without a failure behavior."""
    deployment = apps.read_namespaced_deployment("web", namespace)
    states = pod_states(core, namespace, "app=web")
    return ((deployment.status.available_replicas or 0) == replicas
            and states == [("", True, "Running", 0)] * replicas)


def assert_stalled_like_a_real_rollout(apps, test_cluster, namespace):
    """What the on-call engineer sees: the controller gave up, and kubectl says so."""
    condition = progressing(apps.read_namespaced_deployment("web", namespace))
    assert (condition.status, condition.reason) == ("False", "ProgressDeadlineExceeded")
    kubectl = rollout_status(test_cluster, namespace)
    assert kubectl.returncode == 1 and 'deployment "web" exceeded its progress deadline' in kubectl.stderr, kubectl


@pytest.mark.parametrize("behavior, pod_state", [
    (CRASH_LOOP, {"CrashLoopBackOff"}),
    (IMAGE_PULL_ERROR, {"ErrImagePull", "ImagePullBackOff"}),
], ids=["crash-loop", "image-pull-error"])
def test_rollback_of_a_stalled_rollout_reaches_steady(apps, core, namespace, plugin, test_cluster, behavior,
                                                      pod_state):
    deployer = BehaviorDeployer(apps, core, namespace)
    deployer.deploy_version("1")
    deployer.deploy_version("2")
    deployer.deploy_version("3", behavior, status="Failed")
    assert deployer.recorded[-2:] == ["release 3 recorded InProgress", "release 3 recorded Failed"]
    assert_stalled_like_a_real_rollout(apps, test_cluster, namespace)

    def new_pod_failing():
        failing = [s for s in pod_states(core, namespace, "app=web") if s[0] == behavior]
        return len(failing) == 1 and not failing[0][1] and failing[0][2] in pod_state \
            and (behavior != CRASH_LOOP or failing[0][3] >= 1)
    eventually(new_pod_failing, timeout=90)
    # maxUnavailable rounds down to 0 of 2: the old pods still serve while the new one fails.
    assert [s[:3] for s in pod_states(core, namespace, "app=web") if s[0] == ""] == [("", True, "Running")] * 2

    done = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "2m", check_exit=0)
    assert f"restored the template of revision 2 ({image('web', '2')})" in done.stderr
    assert 'deployment "web" successfully rolled out' in done.stderr
    assert "Rollback complete: every workload is steady." in done.stdout
    eventually(lambda: steady_on_good_pods(apps, core, namespace), timeout=90)
    condition = progressing(apps.read_namespaced_deployment("web", namespace))
    assert (condition.status, condition.reason) == ("True", "NewReplicaSetAvailable")
    assert rollout_status(test_cluster, namespace).returncode == 0
    assert history(plugin, namespace) == [(3, "Failed", 3), (2, "Succeeded", 4), (1, "Succeeded", 1)]


def test_rollback_to_a_release_that_is_itself_unready_exits_4_with_the_controllers_reason(
        apps, core, namespace, plugin, test_cluster):
    deployer = BehaviorDeployer(apps, core, namespace)
    deployer.deploy_version("1")
    # Harness marked it Succeeded although its pods never became Ready (its steady-state check was
    # skipped); then release 3 crash-looped.
    deployer.deploy_version("2", NEVER_READY, status="Succeeded")
    deployer.deploy_version("3", CRASH_LOOP, status="Failed")
    assert_stalled_like_a_real_rollout(apps, test_cluster, namespace)

    started = time.monotonic()
    done = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "5m", check_exit=4)
    elapsed = time.monotonic() - started
    # The controller's verdict ends the wait, long before the plugin's own --timeout.
    assert elapsed < deployer.progress_deadline_seconds + 60, elapsed
    assert 'error: deployment "web" exceeded its progress deadline' in done.stderr
    assert "not steady within the timeout" not in done.stderr
    assert f"restored the template of revision 2 ({image('web', '2')})" in done.stderr
    assert "updated replicas are available" in done.stderr or "new replicas have been updated" in done.stderr

    # It is the verdict on the restored template (now revision 4), not the one left by release 3.
    deployment = apps.read_namespaced_deployment("web", namespace)
    assert deployment.metadata.annotations[REVISION] == "4"
    restored = [rs.metadata.name for rs in apps.list_namespaced_replica_set(namespace).items
                if rs.metadata.annotations[REVISION] == "4"]
    condition = progressing(deployment)
    assert (condition.reason, condition.message) == (
        "ProgressDeadlineExceeded", f'ReplicaSet "{restored[0]}" has timed out progressing.')
    assert [s[:2] for s in pod_states(core, namespace, "app=web") if s[0] == NEVER_READY] == [(NEVER_READY, False)]
    # Exit 4 comes after the bookkeeping: the rollback is recorded.
    assert history(plugin, namespace) == [(3, "Failed", 3), (2, "Succeeded", 4), (1, "Succeeded", 1)]


def slow_release_then_failed_one(apps, core, namespace):
    """Release 1's pods are Ready only 5s after they start; release 2 rolled out, then Harness
    marked it Failed (a verification step): release 1's ReplicaSet is at zero."""
    deployer = BehaviorDeployer(apps, core, namespace, ready_after=5, progress_deadline_seconds=120)
    deployer.deploy_version("1", READY_AFTER_DELAY)
    deployer.deploy_version("2", status="Failed")
    return deployer


def test_rollback_waits_for_pods_that_become_ready_late(apps, core, namespace, plugin):
    slow_release_then_failed_one(apps, core, namespace)
    started = time.monotonic()
    done = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "2m", check_exit=0)
    assert time.monotonic() - started >= 5
    # kubectl's words, while the slow pods start one at a time (maxSurge 1, maxUnavailable 0).
    assert 'Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...' \
        in done.stderr
    assert 'deployment "web" successfully rolled out' in done.stderr
    states = pod_states(core, namespace, "app=web")
    assert [s[:2] for s in states if s[0] == READY_AFTER_DELAY] == [(READY_AFTER_DELAY, True)] * 2
    assert history(plugin, namespace) == [(2, "Failed", 2), (1, "Succeeded", 3)]


def test_timeout_before_slow_pods_are_ready_exits_4_and_a_rerun_finishes(apps, core, namespace, plugin):
    slow_release_then_failed_one(apps, core, namespace)
    first = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "3s", check_exit=4)
    assert "deployment/web not steady within the timeout; the rollback was written" in first.stderr
    assert "progress deadline" not in first.stderr  # the rollout is slow, not stalled
    assert history(plugin, namespace) == [(2, "Failed", 2), (1, "Succeeded", 3)]

    again = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "2m", check_exit=0)
    assert "already rolled back: waiting until every workload is steady" in again.stderr
    assert 'deployment "web" successfully rolled out' in again.stderr
    states = pod_states(core, namespace, "app=web")
    assert [s[:2] for s in states] == [(READY_AFTER_DELAY, True)] * 2
    assert history(plugin, namespace) == [(2, "Failed", 2), (1, "Succeeded", 3)]


def test_someone_elses_change_while_slow_pods_start_is_not_a_successful_rollback(
        apps, core, namespace, plugin, test_cluster):
    slow_release_then_failed_one(apps, core, namespace)
    hotfix = image("web", "hotfix")

    def set_image_once_the_rollback_is_written():
        def restored():
            template = apps.read_namespaced_deployment("web", namespace).spec.template
            return (template.metadata.labels or {}).get("khr.test/pod-behavior") == READY_AFTER_DELAY
        eventually(restored, timeout=60, interval=0.05)
        time.sleep(1)  # the plugin records, then waits: the slow pods keep it waiting
        # A new image; with KHR_TEST_IMAGE every revision has the same image: a new env then.
        change = (["set", "image", "deployment/web", f"web={hotfix}"] if hotfix != image("web", "1")
                  else ["set", "env", "deployment/web", "HOTFIX=1"])
        subprocess.run(["kubectl", *change, "-n", namespace], check=True, capture_output=True,
                       env=test_cluster.env(), timeout=30)

    helper = threading.Thread(target=set_image_once_the_rollback_is_written)
    helper.start()
    done = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "2m")
    helper.join()
    assert done.returncode == 6, done.stderr
    assert "was changed by someone else during the wait" in done.stderr
    assert history(plugin, namespace) == [(2, "Failed", 2), (1, "Succeeded", 3)]


def green_failed_after_the_swap(apps, core, namespace):
    deployer = BehaviorBlueGreenDeployer(apps, core, namespace)
    deployer.create_services()
    deployer.deploy_version("blue", "1")  # primary routes blue
    deployer.deploy_version("green", "2", status="Failed")  # swapped: primary routes green
    assert deployer.selectors()[0][COLOR] == "green"
    return deployer


def primary_endpoints(core, namespace):
    slices = k8s.DiscoveryV1Api(core.api_client).list_namespaced_endpoint_slice(
        namespace, label_selector="kubernetes.io/service-name=shop").items
    return {(a, bool(e.conditions.ready)) for s in slices for e in (s.endpoints or []) for a in e.addresses}


def green_pod_ips(core, namespace):
    pods = core.list_namespaced_pod(namespace, label_selector=f"app=shop,{COLOR}=green").items
    return {(p.status.pod_ip, True) for p in pods if p.status.pod_ip and p.metadata.deletion_timestamp is None}


def test_bluegreen_refuses_to_route_to_a_color_whose_pods_never_become_ready(
        apps, core, namespace, plugin):
    deployer = green_failed_after_the_swap(apps, core, namespace)
    # Someone changed the idle blue color outside Harness: its new pods never become Ready.
    deployer.break_color("blue", "1", NEVER_READY)
    wait_for_stall(apps, namespace, "shop-blue")
    before = (deployer.selectors(), history(plugin, namespace, "release-bg"))

    done = plugin("rollback", "release-bg", "-n", namespace, "--timeout", "5m", check_exit=4)
    assert 'error: deployment "shop-blue" exceeded its progress deadline' in done.stderr
    assert "switched" not in done.stderr
    assert (deployer.selectors(), history(plugin, namespace, "release-bg")) == before
    eventually(lambda: primary_endpoints(core, namespace) == green_pod_ips(core, namespace), timeout=90)


def test_bluegreen_scaled_up_color_that_never_becomes_ready_gets_no_traffic(apps, core, namespace, plugin):
    deployer = green_failed_after_the_swap(apps, core, namespace)
    # Harness scaled the idle color down after the swap; since then its template was changed.
    apps.patch_namespaced_deployment("shop-blue", namespace, {"spec": {"replicas": 0}})
    deployer.break_color("blue", "1", NEVER_READY)

    def blue_rolled_out():
        """the changed template of shop-blue (at zero replicas) rolled out"""
        blue = apps.read_namespaced_deployment("shop-blue", namespace)
        return blue.status.observed_generation == blue.metadata.generation and \
            progressing(blue).reason == "NewReplicaSetAvailable"
    eventually(blue_rolled_out)  # on a busy control plane the controller may not have got to it yet
    before = (deployer.selectors(), history(plugin, namespace, "release-bg"))

    done = plugin("rollback", "release-bg", "-n", namespace, "--timeout", "10s", check_exit=4)
    assert "deployment/shop-blue: scaled to 2" in done.stderr
    assert "deployment/shop-blue not steady within the timeout; no Service was moved" in done.stderr
    # Kubernetes does not apply the progress deadline to scaling a finished rollout: the plugin's
    # own --timeout is what ends the wait here.
    blue = apps.read_namespaced_deployment("shop-blue", namespace)
    assert progressing(blue).reason == "NewReplicaSetAvailable"
    # Nothing is left behind by a rollback that failed: the color is back at zero, as it was.
    assert "deployment/shop-blue: scaled back to 0 (traffic never moved to it)" in done.stderr
    assert blue.spec.replicas == 0
    assert (deployer.selectors(), history(plugin, namespace, "release-bg")) == before
    eventually(lambda: primary_endpoints(core, namespace) == green_pod_ips(core, namespace), timeout=90)

"""Why a release is not steady, and what to run next: the pods' reasons as `kubectl get pods` shows
them, a logs hint, and an exit 4 that tells a controller that gave up from a --timeout too short."""

import json

import pytest

from tests.support.pod_behavior import CRASH_LOOP, IMAGE_PULL_ERROR, READY_AFTER_DELAY, BehaviorDeployer

RELEASE = "release-infra-prod"

pytestmark = pytest.mark.usefixtures("failure_stages")


def test_a_rollback_to_a_crash_looping_release_says_why_and_what_next(apps, core, namespace, plugin):
    deployer = BehaviorDeployer(apps, core, namespace)
    deployer.deploy_version("1")
    # Harness marked it Succeeded although it crash-loops (its steady-state check was skipped).
    deployer.deploy_version("2", CRASH_LOOP, status="Succeeded")
    deployer.deploy_version("3", IMAGE_PULL_ERROR, status="Failed")

    before = plugin("status", RELEASE, "-n", namespace, check_exit=4)
    assert "ErrImagePull" in before.stdout or "ImagePullBackOff" in before.stdout, before.stdout
    assert f"Next:      kubectl harness-rollback plan {RELEASE} -n {namespace}\n" in before.stdout

    done = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "5m", check_exit=4)
    error = done.stderr.splitlines()[-1]
    assert error.startswith('error: deployment "web" exceeded its progress deadline'), error
    assert "longer --timeout" not in error  # more time does not help a rollout the controller gave up on
    assert "× CrashLoopBackOff" in error and " restart" in error and "last exit 1 (Error)" in error, error
    assert f"logs: kubectl logs -n {namespace} web-" in error and "--previous" in error, error
    assert error.endswith(f"next: kubectl harness-rollback plan {RELEASE} -n {namespace}"), error

    after = plugin("status", RELEASE, "-n", namespace, check_exit=4)
    # The controller's sentence once, in the error line; the wide table names the condition.
    assert "exceeded its progress deadline" not in after.stdout, after.stdout
    assert after.stderr.count("exceeded its progress deadline") == 1, after.stderr
    wide = plugin("status", RELEASE, "-n", namespace, "-o", "wide", check_exit=4).stdout
    assert "gave up: ProgressDeadlineExceeded" in wide and "exceeded its progress deadline" not in wide, wide
    # Why, and what next: in the header, above the table.
    [pods] = [line for line in after.stdout.splitlines() if line.startswith("Pods:")]
    assert "deployment/web: " in pods and "× CrashLoopBackOff" in pods and "last exit 1 (Error)" in pods, pods
    assert f"Logs:      kubectl logs -n {namespace} web-" in after.stdout
    assert after.stdout.index("Next:") < after.stdout.index("WORKLOAD")
    assert after.stderr.splitlines()[-1].startswith("error: release release-infra-prod is not steady")
    view = json.loads(plugin("status", RELEASE, "-n", namespace, "-o", "json", check_exit=4).stdout)
    [web] = view["workloads"]
    assert web["pods"]["reasons"][0]["reason"] == "CrashLoopBackOff" and web["pods"]["restarts"] > 0
    assert view["next"] == [f"kubectl harness-rollback plan {RELEASE} -n {namespace}"]


def test_our_timeout_while_the_controller_still_rolls_out_advises_watching(apps, core, namespace, plugin):
    deployer = BehaviorDeployer(apps, core, namespace, ready_after=30, progress_deadline_seconds=300)
    deployer.deploy_version("1", READY_AFTER_DELAY)
    deployer.deploy_version("2", status="Failed")

    done = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "3s", check_exit=4)
    error = done.stderr.splitlines()[-1]
    assert "not steady within the timeout" in error and "the controller is still rolling out" in error, error
    assert "progress deadline" not in error and "gave up" not in error
    assert "Running, not ready" in error, error
    assert error.endswith(f"next: kubectl harness-rollback status {RELEASE} -n {namespace} --watch"), error


def test_a_steady_release_reads_no_pods_or_events(apps, core, namespace, plugin):
    deployer = BehaviorDeployer(apps, core, namespace)
    deployer.deploy_version("1")
    done = plugin("status", RELEASE, "-n", namespace, "-v", "6", check_exit=0)
    assert "/pods" not in done.stderr and "/events" not in done.stderr
    assert "Pods:" not in done.stdout + done.stderr and "Next:" not in done.stdout + done.stderr

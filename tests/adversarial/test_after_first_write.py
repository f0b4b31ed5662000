"""An honest outcome after the first write, whatever stops the rollback, on the real control plane.

- an admission policy (ValidatingAdmissionPolicy) denies the second write, the history's: the
  outcome says the Deployment was written and nothing recorded (`-o json` on stdout), exit 1, and
  a re-run once the policy is gone finishes the records;
- the controller-manager is stopped: the restored template is never observed; `--timeout 10s`
  still records the rollback before exit 4 (README: 4 means recorded), and the next run, with the
  controller back, records the renumbered revision;
- a watch cut mid-stream (a proxy, an API server restart) is watched again, not exit 1;
- an autoscaler's replicas write between plan and PATCH is not "changed by someone else".

Harness records the rollback after `kubectl rollout undo` regardless of steady state
(930-delegate-tasks/.../k8s/K8sRollingRollbackDeployTaskHandler: undo, then status check, then
the release history saved in a finally block); the observed wait here is ours.
"""

import json
import os
import signal
import subprocess
import time

import pytest

from tests.adversarial.test_interrupted import good_good_bad, history, image
from tests.support.admission import denying_configmap_updates
from tests.support.relay import CUT, RELAY, run_through

RELEASE = "release-infra-prod"


def events(core, namespace):
    return [e for e in core.list_namespaced_event(namespace).items if e.reason == "RolledBack"]


def test_a_denied_history_write_says_what_was_written_and_a_rerun_finishes(apps, core, namespace, plugin):
    good_good_bad(apps, core, namespace)
    with denying_configmap_updates(core, namespace, RELEASE):
        denied = plugin("rollback", RELEASE, "-n", namespace, "-o", "json")
    assert denied.returncode == 1, denied.stdout + denied.stderr
    [line] = denied.stderr.strip().splitlines()[-1:]
    assert line.startswith("error: ") and "unexpected" not in denied.stderr and "Traceback" not in denied.stderr
    assert "the release history is frozen by the test" in line
    assert "already written before it failed: deployment/web: restored the template of revision 2" in line
    assert "recorded: nothing" in line and "run the same command again" in line
    shown = json.loads(denied.stdout)
    assert [(i["action"], i["kind"], i["name"]) for i in shown["outcome"]["written"]] == [
        ("restored", "Deployment", "web")]
    assert shown["outcome"]["recorded"] == []
    assert image(apps, namespace) == "registry.example/web:2"
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 2)]  # not recorded

    done = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "90s", check_exit=0)
    assert "did not record it yet: recording it now" in done.stderr
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 4)]
    assert len(events(core, namespace)) == 1


def controller_manager_pid(test_cluster) -> int:
    cluster_dir = os.path.dirname(test_cluster.kubeconfig)
    found = subprocess.run(["pgrep", "-f", f"{cluster_dir}/bin/kube-controller-manager"], capture_output=True,
                           text=True)
    pids = [int(p) for p in found.stdout.split()]
    if len(pids) != 1:
        pytest.skip(f"no local kube-controller-manager process to stop under {cluster_dir}")
    return pids[0]


@pytest.mark.exclusive  # it stops the controller manager that every other test relies on
def test_exit_4_with_the_controller_stopped_means_recorded(apps, core, namespace, plugin, test_cluster):
    good_good_bad(apps, core, namespace)
    pid = controller_manager_pid(test_cluster)
    os.kill(pid, signal.SIGSTOP)
    try:
        began = time.monotonic()
        stalled = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "10s", "-o", "json")
        took = time.monotonic() - began
    finally:
        os.kill(pid, signal.SIGCONT)
    assert stalled.returncode == 4, stalled.stdout + stalled.stderr
    assert "Traceback" not in stalled.stderr and took < 10 + 15, took
    outcome = json.loads(stalled.stdout)["outcome"]
    assert [i["kind"] for i in outcome["written"]] == ["Deployment"]
    # Release 3 was recorded Failed already; the number the controller gives revision 2 is not known
    # before it observes the template: the history keeps 2 (revision-history still finds it).
    recorded = [(i["action"], i["kind"], i["name"]) for i in outcome["recorded"]]
    assert recorded == [("eventRecorded", "Deployment", "web")]
    assert "the controller has not observed the restored template yet; the rollback is written and recorded" \
        in stalled.stderr
    assert image(apps, namespace) == "registry.example/web:2"
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 2)]
    assert len(events(core, namespace)) == 1

    done = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "90s", check_exit=0)
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 4)], done.stderr
    assert image(apps, namespace) == "registry.example/web:2"


def test_a_watch_cut_mid_stream_is_watched_again(apps, core, namespace, test_cluster, tmp_path, plugin):
    """client-go's RetryWatcher (staging/src/k8s.io/client-go/tools/watch/retrywatcher.go) goes on
    from the last resourceVersion after a broken watch; so does the rollback's wait."""
    good_good_bad(apps, core, namespace)
    cuts = {"left": 3}

    def before(method: str, path: str) -> str:
        if method == "GET" and "/deployments?" in path and "watch=1" in path and cuts["left"]:
            cuts["left"] -= 1
            return CUT
        return RELAY

    done = run_through(test_cluster, tmp_path, namespace, before, "rollback", RELEASE, "--timeout", "90s",
                       with_query=True, timeout=150)
    assert done.returncode == 0, done.stderr
    assert cuts["left"] == 0, "the wait was never cut"
    assert "Rollback complete" in done.stdout
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 4)]


def test_an_autoscaler_scaling_between_plan_and_patch_is_not_someone_elses_change(apps, core, namespace, plugin,
                                                                                  test_cluster, tmp_path):
    """An HPA (or KEDA) writes spec.replicas just before the rollback's guarded PATCH: the 409 is
    retried, the rollback goes on, and the replica count the autoscaler chose stays."""
    good_good_bad(apps, core, namespace)
    scaled = {"done": False}

    def before(method: str, path: str) -> str:
        if method == "PATCH" and path.endswith("/deployments/web") and not scaled["done"]:
            scaled["done"] = True
            apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 3}})
        return RELAY

    done = run_through(test_cluster, tmp_path, namespace, before, "rollback", RELEASE, "--timeout", "90s",
                       timeout=150)
    assert scaled["done"]
    assert done.returncode == 0, done.stderr
    assert image(apps, namespace) == "registry.example/web:2"
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 3
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 4)]


def test_an_api_server_stalled_just_after_the_patch_still_records_before_exit_4(apps, core, namespace, plugin,
                                                                                 test_cluster, tmp_path):
    """Every request after the Deployment's PATCH hangs for 14 s (a stalled API server, as seen
    through a relay): `--timeout 10s` ends the wait, the records are written within the grace
    once it answers again, and exit 4 comes with them (it came with `recorded: []`)."""
    good_good_bad(apps, core, namespace)
    stall = {"until": None}

    def before(method: str, path: str) -> str:
        if stall["until"] is not None:
            time.sleep(max(0.0, stall["until"] - time.monotonic()))
        elif method == "PATCH" and path.endswith("/deployments/web"):
            stall["until"] = time.monotonic() + 14  # from the next request on
        return RELAY

    done = run_through(test_cluster, tmp_path, namespace, before, "rollback", RELEASE, "--timeout", "10s", "-o", "json")
    assert stall["until"] is not None
    assert done.returncode == 4, done.stderr
    outcome = json.loads(done.stdout)["outcome"]
    assert [(i["action"], i["kind"]) for i in outcome["written"]] == [("restored", "Deployment")]
    assert ("eventRecorded", "Deployment", "web") in [(i["action"], i["kind"], i["name"]) for i in outcome["recorded"]]
    assert len(events(core, namespace)) == 1
    plugin("rollback", RELEASE, "-n", namespace, "--timeout", "90s", check_exit=0)
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 4)]

"""Rollbacks cut short, raced and overtaken, on the real control plane.

- a rollback that could write the workload but not the history says what it wrote, and the next
  run (with the rights it lacked) finishes the records instead of saying "nothing to change";
- someone else's `kubectl set image` during the wait is not reported as success (exit 6);
- Ctrl-C during the wait says the rollback is written and how to watch it (exit 130); during
  `status --watch`, it ends the watch in one line (exit 130); while the release is still being read
  (in its own thread, reader.read_ahead), it ends the rollback before any write (exit 130);
- two rollbacks at once: exactly one rollback happens and is recorded;
- the API server dies between the workload write and the history write: the next run finishes it.
"""

import json
import shutil
import signal
import subprocess
import threading
import time

from kubernetes import client as k8s

from tests.adversarial.state import versions
from tests.support.accounts import answers, pipeline_account
from tests.support.harness import HarnessRollingDeployer
from tests.support.relay import RELAY, Relay, dies_after, dies_at, run_through

RELEASE = "release-infra-prod"


def good_good_bad(apps, core, namespace):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    for tag, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
        deployer.deploy(f"registry.example/web:{tag}", status=status)
    return deployer


def image(apps, namespace):
    return apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].image


def history(plugin, namespace):
    rows = json.loads(plugin("history", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    return [(r["number"], r["status"], r["workloads"][0]["revision"]) for r in rows]


def block_pods(core, namespace):
    """A quota of two pods: the rollback's surge pod cannot be created, so the wait goes on."""
    core.create_namespaced_resource_quota(namespace, k8s.V1ResourceQuota(
        metadata=k8s.V1ObjectMeta(name="two-pods"), spec=k8s.V1ResourceQuotaSpec(hard={"pods": "2"})))


def start(plugin_env, *args):
    # SIGINT as a terminal gives it, even when the tests run as a background job (which ignores it).
    return subprocess.Popen([shutil.which("kubectl-harness_rollback"), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=plugin_env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for_line(process, text, timeout=60):
    """Read stderr until `text` shows up (the rollback has reached that point)."""
    deadline, seen = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(f"{text!r} not seen in {timeout}s: {''.join(seen)}")


def cut_short(test_cluster, tmp_path, namespace, before, *args):
    """Run the plugin through a relay whose `before` hook drops requests, as a dying server would."""
    return run_through(test_cluster, tmp_path, namespace, before, *args, "--timeout", "30s")


def test_a_missing_right_is_refused_before_any_write(api_client, apps, core, namespace, plugin):
    good_good_bad(apps, core, namespace)
    account = pipeline_account(api_client, namespace, plugin)
    rbac = k8s.RbacAuthorizationV1Api(api_client)
    role = rbac.read_namespaced_role("kubectl-harness-rollback", namespace)
    for rule in role.rules:  # the workload may be patched, the history may not
        if "configmaps" in rule.resources:
            rule.verbs = [v for v in rule.verbs if v != "patch"]
    rbac.replace_namespaced_role("kubectl-harness-rollback", namespace, role)
    answers(api_client, namespace, "deployer", "patch", "", "configmaps", allowed=False)
    before = versions(api_client, namespace)

    refused = plugin("rollback", RELEASE, "-n", namespace, "--as", account, check_exit=1)
    assert refused.stderr.startswith("error: forbidden: cannot patch configmaps in namespace "), refused.stderr
    assert "(needed to record the rollback in configmap/release-infra-prod); nothing was changed" in refused.stderr
    assert versions(api_client, namespace) == before


def test_a_history_write_that_died_is_finished_by_the_next_run(apps, core, namespace, plugin, test_cluster, tmp_path,
                                                               api_client):
    good_good_bad(apps, core, namespace)
    cut = cut_short(test_cluster, tmp_path, namespace, dies_at("PATCH", f"/configmaps/{RELEASE}"), "rollback",
                    RELEASE)
    assert cut.returncode == 1, cut.stderr
    assert "already written before it failed: deployment/web: restored the template of revision 2" in cut.stderr
    assert "run the same command again to finish" in cut.stderr
    assert image(apps, namespace) == "registry.example/web:2"
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 2)]  # not recorded yet

    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert "did not record it yet: recording it now" in done.stderr
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 4)]
    assert image(apps, namespace) == "registry.example/web:2"
    again = versions(api_client, namespace)
    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert versions(api_client, namespace) == again


def test_someone_elses_change_during_the_wait_is_not_success(apps, core, namespace, plugin, test_cluster):
    good_good_bad(apps, core, namespace)
    block_pods(core, namespace)
    rollback = start(test_cluster.env(), "rollback", RELEASE, "-n", namespace, "--timeout", "90s", "-o", "json")
    wait_for_line(rollback, "Waiting for deployment")
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "registry.example/web:hotfix"}]}}}})  # an operator's hotfix
    core.delete_namespaced_resource_quota("two-pods", namespace)
    stdout, stderr = rollback.communicate(timeout=120)

    assert rollback.returncode == 6, stderr
    assert "was changed by someone else during the wait: it runs registry.example/web:hotfix" in stderr
    assert json.loads(stdout)["outcome"]["steady"] is None  # the outcome is still printed, not steady
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 4)]  # the rollback is recorded


def test_ctrl_c_during_the_wait_says_the_rollback_is_written(apps, core, namespace, plugin, test_cluster):
    good_good_bad(apps, core, namespace)
    block_pods(core, namespace)
    rollback = start(test_cluster.env(), "rollback", RELEASE, "-n", namespace, "--timeout", "90s")
    wait_for_line(rollback, "Waiting for deployment")
    rollback.send_signal(signal.SIGINT)
    _, stderr = rollback.communicate(timeout=30)

    assert rollback.returncode == 130
    assert "the rollback is written and still rolling out; watch it with: kubectl rollout status deployment/web " \
           f"-n {namespace}" in stderr
    assert "Traceback" not in stderr
    assert image(apps, namespace) == "registry.example/web:2"


def test_two_rollbacks_at_once_roll_back_once(apps, core, namespace, plugin, test_cluster):
    good_good_bad(apps, core, namespace)
    both = [start(test_cluster.env(), "rollback", RELEASE, "-n", namespace, "--timeout", "60s") for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in both]

    codes = sorted(code for code, _ in results)
    assert codes[0] == 0 and codes[1] in (0, 5), results  # the loser re-plans (0) or is told it lost (5)
    assert image(apps, namespace) == "registry.example/web:2"
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 4)]
    events = core.list_namespaced_event(namespace, field_selector="reason=RolledBack").items
    assert len(events) == 1, (results, [e.message for e in events])


def test_the_api_server_dying_between_the_workload_write_and_the_history_write(apps, core, namespace, plugin,
                                                                               test_cluster, tmp_path):
    """The Deployment's PATCH goes through, then the server answers nothing more: the error says
    what was written; the next run finishes it."""
    good_good_bad(apps, core, namespace)
    cut = cut_short(test_cluster, tmp_path, namespace, dies_after("PATCH", "/deployments/web"), "rollback", RELEASE)
    assert cut.returncode == 1, cut.stderr
    error = cut.stderr.strip().splitlines()[-1]
    assert "cannot reach the API server" in error and "already written before it failed: deployment/web: restored " \
           "the template of revision 2" in error and "Traceback" not in cut.stderr
    assert image(apps, namespace) == "registry.example/web:2"
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 2)]  # not recorded

    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert "did not record it yet: recording it now" in done.stderr
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 4)]
    events = core.list_namespaced_event(namespace, field_selector="reason=RolledBack").items
    assert len(events) == 1


def test_ctrl_c_during_status_watch_exits_130_in_one_line(api_client, apps, core, namespace, test_cluster):
    good_good_bad(apps, core, namespace)
    # Paused half way through a new template: not steady, and it stays so.
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"paused": True, "template": {"spec": {
        "containers": [{"name": "web", "image": "registry.example/web:4"}]}}}})
    watching = start(test_cluster.env(), "status", RELEASE, "-n", namespace, "--watch")
    deadline = time.monotonic() + 60
    while "STEADY" not in watching.stdout.readline():  # the first status is shown: it is watching
        assert time.monotonic() < deadline and watching.poll() is None, watching.stderr.read()
    time.sleep(1)
    before = versions(api_client, namespace)
    watching.send_signal(signal.SIGINT)
    _, stderr = watching.communicate(timeout=30)

    assert watching.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["interrupted"]
    assert versions(api_client, namespace) == before


def test_ctrl_c_while_the_release_is_read_ahead_ends_the_rollback_before_any_write(api_client, apps, core, namespace,
                                                                                test_cluster, tmp_path):
    good_good_bad(apps, core, namespace)
    reading = threading.Event()

    def slow_workload_lists(method: str, path: str) -> str:
        if method == "GET" and path.endswith("/deployments"):  # the read's thread is at the workloads
            reading.set()
            time.sleep(5)
        return RELAY

    before = versions(api_client, namespace)
    relay = Relay(test_cluster.kubeconfig, slow_workload_lists)
    try:
        env = {**test_cluster.env(), "KUBECONFIG": relay.kubeconfig(tmp_path / "via-relay", namespace)}
        rolling = start(env, "rollback", RELEASE, "-n", namespace)
        assert reading.wait(60), rolling.stderr.read()
        rolling.send_signal(signal.SIGINT)
        _, stderr = rolling.communicate(timeout=30)
    finally:
        relay.close()

    assert rolling.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["interrupted"]
    assert versions(api_client, namespace) == before
    assert image(apps, namespace) == "registry.example/web:3"

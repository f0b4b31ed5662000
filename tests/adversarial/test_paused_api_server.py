"""The API server stops answering in the middle of a rollback (SIGSTOP of the test cluster's own
kube-apiserver): `--timeout` still bounds the whole command, and a re-run once it answers again
finishes the job.

The pause is short (a real stall), and the test clusters' controller-manager elects no leader
(hack/local-cluster), so it carries on afterwards instead of exiting on a lease it could not renew.
"""

import os
import signal
import subprocess
import time

import pytest

from tests.adversarial.test_interrupted import block_pods, good_good_bad, history, image, start, wait_for_line

# It stops the API server that every other test talks to.
pytestmark = pytest.mark.exclusive

RELEASE = "release-infra-prod"
PAUSE_SECONDS = 7


def api_server_pid(test_cluster) -> int:
    """The kube-apiserver process of the local test cluster (its binaries live beside the kubeconfig)."""
    cluster_dir = os.path.dirname(test_cluster.kubeconfig)
    found = subprocess.run(["pgrep", "-f", f"{cluster_dir}/bin/kube-apiserver"], capture_output=True, text=True)
    pids = [int(p) for p in found.stdout.split()]
    if len(pids) != 1:
        pytest.skip(f"no local kube-apiserver process to pause under {cluster_dir} (a cluster of another backend)")
    return pids[0]


def test_a_paused_api_server_during_the_wait_is_bounded_by_timeout_then_a_rerun_converges(
        apps, core, namespace, plugin, test_cluster):
    good_good_bad(apps, core, namespace)
    block_pods(core, namespace)
    pid = api_server_pid(test_cluster)

    began = time.monotonic()
    rollback = start(test_cluster.env(), "rollback", RELEASE, "-n", namespace, "--timeout", "5s")
    wait_for_line(rollback, "Waiting for deployment")
    os.kill(pid, signal.SIGSTOP)
    try:
        _, stderr = rollback.communicate(timeout=PAUSE_SECONDS + 5)
        ended = time.monotonic() - began
    finally:
        time.sleep(max(0.0, began + PAUSE_SECONDS - time.monotonic()))
        os.kill(pid, signal.SIGCONT)

    assert rollback.returncode == 4, stderr
    assert "not steady within the timeout" in stderr and "Traceback" not in stderr
    assert ended < 5 + 3, f"--timeout 5s, but the rollback took {ended:.1f}s with the API server paused"

    core.delete_namespaced_resource_quota("two-pods", namespace)
    done = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "90s", check_exit=0)
    assert "Already rolled back: every workload is steady." in done.stdout
    assert image(apps, namespace) == "registry.example/web:2"
    assert history(plugin, namespace)[:2] == [(3, "Failed", 3), (2, "Succeeded", 4)]

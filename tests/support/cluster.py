"""The test cluster: reuse KHR_TEST_KUBECONFIG, or start the local control plane.

The local control plane is hack/local-cluster: real etcd, kube-apiserver,
kube-controller-manager and kube-scheduler, with KWOK standing in for kubelets.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOCAL_CLUSTER = REPO / "hack" / "local-cluster"
# A cold build of Kubernetes from Go modules takes 10-25 minutes on 2 cores.
START_TIMEOUT = 45 * 60


class ClusterUnavailable(RuntimeError):
    pass


@dataclass
class TestCluster:
    kubeconfig: str
    bin_dir: str | None  # where kubectl of the cluster's own version lives, if we built it
    started_here: bool
    name: str | None = None  # hack/local-cluster's name (None: KHR_CLUSTER_NAME's)

    def env(self) -> dict[str, str]:
        """The environment for a subprocess (kubectl, the plugin) that talks to this cluster."""
        env = dict(os.environ, KUBECONFIG=self.kubeconfig)
        if self.bin_dir:
            env["PATH"] = self.bin_dir + os.pathsep + env.get("PATH", "")
        return env


def _local(command: str, timeout: float = 120, name: str | None = None) -> str:
    """hack/local-cluster COMMAND, for the cluster KHR_CLUSTER_NAME names (or `name`)."""
    env = dict(os.environ, KHR_CLUSTER_NAME=name) if name else None
    done = subprocess.run([str(LOCAL_CLUSTER), command], capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-25:])
        raise ClusterUnavailable(f"hack/local-cluster {command} failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def _exports(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            values[key] = shlex.split(value)[0] if value else ""
    return values


def start() -> TestCluster:
    """Reuse the cluster named by KHR_TEST_KUBECONFIG, else bring the local one up."""
    given = os.environ.get("KHR_TEST_KUBECONFIG")
    if given:
        if not os.path.exists(given):
            raise ClusterUnavailable(f"KHR_TEST_KUBECONFIG={given} does not exist")
        return TestCluster(given, None, started_here=False)
    # pytest-xdist's workers each start their session: one brings the cluster up, the others wait
    # for it and reuse it. hack/test starts it before the workers and stops it after them.
    name = os.environ.get("KHR_CLUSTER_NAME") or "khr"
    with open(os.path.join(tempfile.gettempdir(), f"khr-test-cluster-{name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        already_up = subprocess.run([str(LOCAL_CLUSTER), "status"], capture_output=True, text=True).returncode == 0
        if not already_up:
            try:
                _local("up", timeout=START_TIMEOUT)
            except subprocess.TimeoutExpired as exc:
                raise ClusterUnavailable(f"hack/local-cluster up did not finish in {START_TIMEOUT}s") from exc
    exports = _exports(_local("env"))
    bin_dir = _local("bin").strip()
    return TestCluster(exports["KUBECONFIG"], bin_dir, started_here=not already_up)


def stop(cluster: TestCluster) -> None:
    # A worker of pytest-xdist leaves the session's cluster up: the other workers may still be using
    # it. The extra clusters (named) serve the tests of one worker (their xdist_group).
    shared = cluster.name is None and os.environ.get("PYTEST_XDIST_WORKER")
    if cluster.started_here and not os.environ.get("KHR_KEEP_CLUSTER") and not shared:
        _local("down", name=cluster.name)


# The many-clusters tests add two clusters to the session's: KHR_CLUSTER_NAME with these suffixes
# (khr-b, khr-c; CI's khr-ci-b, khr-ci-c), started only when those tests run. .ci/run stops them too.
EXTRA_SUFFIXES = ("-b", "-c")


def extra_names() -> list[str]:
    base = os.environ.get("KHR_CLUSTER_NAME") or "khr"
    return [base + suffix for suffix in EXTRA_SUFFIXES]


def start_extra() -> list[TestCluster]:
    """The extra clusters of the many-clusters tests, started (or reused) with hack/local-cluster."""
    started = []
    for name in extra_names():
        already_up = subprocess.run([str(LOCAL_CLUSTER), "status"], capture_output=True, text=True,
                                    env=dict(os.environ, KHR_CLUSTER_NAME=name)).returncode == 0
        if not already_up:
            try:
                _local("up", timeout=START_TIMEOUT, name=name)
            except subprocess.TimeoutExpired as exc:
                raise ClusterUnavailable(f"hack/local-cluster up ({name}) did not finish in {START_TIMEOUT}s") from exc
        exports = _exports(_local("env", name=name))
        started.append(TestCluster(exports["KUBECONFIG"], _local("bin", name=name).strip(), not already_up, name))
    return started


# Tests that stop a process of the shared control plane (SIGSTOP of its API server or controller
# manager) are marked `exclusive`: while one runs, no other test may talk to the cluster. The other
# integration tests share it. Under pytest-xdist the workers agree through two lock files, a
# readers-writer lock that prefers the writer: an exclusive test first takes the turnstile, so no
# new test starts, then waits for the running ones to end.
@contextmanager
def sharing(lock_dir: str, exclusive: bool):
    """Hold the cluster, shared or alone, across processes, for the block."""
    os.makedirs(lock_dir, exist_ok=True)
    with open(os.path.join(lock_dir, "turnstile"), "a") as turnstile, \
            open(os.path.join(lock_dir, "cluster"), "a") as held:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        if not exclusive:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        fcntl.flock(held, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
            if exclusive:
                fcntl.flock(turnstile, fcntl.LOCK_UN)

"""One bad release, three clusters (`--contexts`/`--all-contexts`), on three real control planes:
the session's cluster and two more (conftest.three_clusters). The release failed in two clusters
and succeeded in the third; each context's default namespace is the test's (no -n).
"""

import json
import os
import re
import signal
import threading
import uuid

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from tests.adversarial.test_interrupted import block_pods, start, wait_for_line
from tests.adversarial.test_paused_api_server import api_server_pid
from tests.integration.test_declarative_scope import settled_versions
from tests.support.fleet import fleet_kubeconfig
from tests.support.harness import HarnessRollingDeployer

# One worker: it starts the two extra clusters for the session of the worker.
pytestmark = pytest.mark.xdist_group("many-clusters")

RELEASE = "release-infra-prod"
CONTEXTS = ["fleet-a", "fleet-b", "fleet-c"]
PAUSE_SECONDS = 7  # a stall, not an outage (the test clusters' controllers elect no leader: they carry on)


class Cluster:
    def __init__(self, test_cluster):
        self.api = k8s_config.new_client_from_config(config_file=test_cluster.kubeconfig)
        self.test_cluster, self.core, self.apps = test_cluster, k8s.CoreV1Api(self.api), k8s.AppsV1Api(self.api)

    def image(self, namespace):
        return self.apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].image

    def written(self, namespace):
        """What only a write changes: the Deployment's spec and annotations, the history's version."""
        deployment = self.apps.read_namespaced_deployment("web", namespace)
        history = self.core.read_namespaced_config_map(RELEASE, namespace)
        return (deployment.metadata.generation, deployment.metadata.annotations,
                deployment.spec.template.to_dict(), history.metadata.resource_version)


@pytest.fixture
def fleet(three_clusters, tmp_path):
    """{context: Cluster}, the namespace (in all three), and the kubeconfig (the three contexts,
    plus spare-a, another context of the first cluster, for globs to leave out)."""
    namespace = f"khr-fleet-{uuid.uuid4().hex[:6]}"
    clusters = [Cluster(c) for c in three_clusters]
    for cluster in clusters:
        cluster.core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)))
    three = fleet_kubeconfig(str(tmp_path / "three"), three_clusters, {name: n for n, name in enumerate(CONTEXTS)},
                             namespace)
    spare = fleet_kubeconfig(str(tmp_path / "spare"), three_clusters,
                             {**{name: n for n, name in enumerate(CONTEXTS)}, "spare-a": 0}, namespace)
    yield dict(zip(CONTEXTS, clusters)), namespace, three, spare
    for cluster in clusters:
        cluster.core.delete_namespace(namespace)


def deploy(fleet):
    """Releases 1 and 2 succeeded everywhere; release 3 failed in fleet-a and fleet-b only."""
    clusters, namespace, _, _ = fleet
    for name, cluster in clusters.items():
        deployer = HarnessRollingDeployer(cluster.apps, cluster.core, namespace)
        deployer.deploy("registry.example/web:1")
        deployer.deploy("registry.example/web:2")
        deployer.deploy("registry.example/web:3", status="Succeeded" if name == "fleet-c" else "Failed")


def history(plugin, kubeconfig, context):
    rows = json.loads(plugin("history", RELEASE, "--kubeconfig", kubeconfig, "--context", context, "-o", "json",
                             check_exit=0).stdout)
    return [(r["number"], r["status"], r["workloads"][0]["revision"]) for r in rows]


def rows(text):
    return [re.split(r"\s{3,}", line.strip()) for line in text.splitlines() if line.strip()]


def test_plan_then_rollback_across_three_clusters_restores_the_two_that_failed(fleet, plugin):
    clusters, namespace, three, spare = fleet
    deploy(fleet)
    untouched = clusters["fleet-c"].written(namespace)
    listed = json.loads(plugin("list", "--kubeconfig", three, "--contexts", "fleet-a", "--contexts", "fleet-b,fleet-c",
                               "-o", "json", check_exit=0).stdout)
    assert [(e["context"], [(r["release"], r["status"]) for r in e["releases"]]) for e in listed] == [
        ("fleet-a", [(RELEASE, "Failed")]), ("fleet-b", [(RELEASE, "Failed")]), ("fleet-c", [(RELEASE, "Succeeded")])]
    table = rows(plugin("list", "--kubeconfig", three, "--all-contexts", check_exit=0).stdout)
    assert [row[:4] for row in table] == [["CONTEXT", "RELEASE", "LATEST", "STATUS"],
                                          ["fleet-a", RELEASE, "3", "Failed"], ["fleet-b", RELEASE, "3", "Failed"],
                                          ["fleet-c", RELEASE, "3", "Succeeded"]]

    planned = plugin("plan", RELEASE, "--kubeconfig", three, "--all-contexts", check_exit=0)
    table = rows(planned.stdout)
    assert table[0][:6] == ["CONTEXT", "NAMESPACE", "RELEASE", "CURRENT", "ROLLBACK TO", "ACTION"]
    assert [row[:6] for row in table[1:]] == [
        ["fleet-a", namespace, RELEASE, "3 (Failed)", "2 (Succeeded)", "roll back"],
        ["fleet-b", namespace, RELEASE, "3 (Failed)", "2 (Succeeded)", "roll back"],
        ["fleet-c", namespace, RELEASE, "3 (Succeeded)", "<none>", "nothing to do"]]
    assert "no failed release found" in table[3][-1]
    # A glob leaves spare-a (the first cluster again) out; -o json: the single-cluster plan inside.
    as_json = json.loads(plugin("plan", RELEASE, "--kubeconfig", spare, "--contexts", "fleet-*", "-o", "json",
                                check_exit=0).stdout)
    assert [(e["context"], e["plan"]["target"] and e["plan"]["target"]["number"], e["exitCode"]) for e in as_json] \
        == [("fleet-a", 2, 0), ("fleet-b", 2, 0), ("fleet-c", None, 0)]

    done = plugin("rollback", RELEASE, "--kubeconfig", three, "--all-contexts", check_exit=0)

    for name in ("fleet-a", "fleet-b"):
        assert clusters[name].image(namespace) == "registry.example/web:2"
        assert history(plugin, three, name) == [(3, "Failed", 3), (2, "Succeeded", 4), (1, "Succeeded", 1)]
        assert f'[{name}] deployment "web" successfully rolled out' in done.stderr
    assert clusters["fleet-c"].image(namespace) == "registry.example/web:3"
    assert clusters["fleet-c"].written(namespace) == untouched
    summary = rows(done.stdout.split("\n\n")[-1])
    assert summary == [["CONTEXT", "RELEASE", "FROM → TO", "RESULT", "EXIT CODE"],
                       ["fleet-a", RELEASE, "3 (Failed) → 2 (Succeeded)", "rolled back, steady", "0"],
                       ["fleet-b", RELEASE, "3 (Failed) → 2 (Succeeded)", "rolled back, steady", "0"],
                       ["fleet-c", RELEASE, "3 (Succeeded) → <none>", "nothing to do", "0"]]

    # status across the fleet (waiting until steady, as the single-cluster --timeout does): release
    # 2 is live where it was rolled back, 3 in fleet-c, every context steady.
    statuses = json.loads(plugin("status", RELEASE, "--kubeconfig", three, "--all-contexts", "--timeout", "60s",
                                 "-o", "json", check_exit=0).stdout)
    assert [(e["context"], e["status"]["liveReleases"], e["status"]["steady"], e["exitCode"]) for e in statuses] \
        == [("fleet-a", [2], True, 0), ("fleet-b", [2], True, 0), ("fleet-c", [3], True, 0)]

    # Run again: every context is already where it should be; nothing is written anywhere.
    before = {name: cluster.written(namespace) for name, cluster in clusters.items()}
    again = plugin("rollback", RELEASE, "--kubeconfig", three, "--all-contexts", "-o", "json", check_exit=0)
    assert {name: cluster.written(namespace) for name, cluster in clusters.items()} == before
    assert [(e["context"], e["outcome"]["changed"], e["exitCode"]) for e in json.loads(again.stdout)] == [
        ("fleet-a", False, 0), ("fleet-b", False, 0), ("fleet-c", False, 0)]


def test_a_stopped_cluster_is_its_own_row_and_the_others_roll_back(fleet, plugin):
    clusters, namespace, three, _ = fleet
    deploy(fleet)
    before = {name: cluster.written(namespace) for name, cluster in clusters.items()}
    pid = api_server_pid(clusters["fleet-c"].test_cluster)

    def paused(*args):
        """Run the plugin with fleet-c's API server stopped (for PAUSE_SECONDS at most)."""
        os.kill(pid, signal.SIGSTOP)
        resume = threading.Timer(PAUSE_SECONDS, os.kill, (pid, signal.SIGCONT))
        resume.start()
        try:
            return plugin(*args)
        finally:
            resume.join()

    # --fail-fast, one at a time, the stopped cluster first: nothing else is started.
    failed_fast = paused("rollback", RELEASE, "--kubeconfig", three, "--contexts", "fleet-c,fleet-a,fleet-b",
                         "--max-parallel", "1", "--fail-fast", "--request-timeout", "2s")
    assert failed_fast.returncode == 1, failed_fast.stderr
    table = rows(failed_fast.stdout)
    assert table[1][0] == "fleet-c" and "timed out" in table[1][-1]
    assert table[2] == ["fleet-a", "not started: --fail-fast, after an earlier context failed"]
    assert {name: cluster.written(namespace) for name, cluster in clusters.items()} == before

    done = paused("rollback", RELEASE, "--kubeconfig", three, "--all-contexts", "--request-timeout", "2s")
    assert done.returncode == 1, done.stderr
    summary = rows(done.stdout.split("\n\n")[-1])
    assert summary[1:3] == [["fleet-a", RELEASE, "3 (Failed) → 2 (Succeeded)", "rolled back, steady", "0"],
                            ["fleet-b", RELEASE, "3 (Failed) → 2 (Succeeded)", "rolled back, steady", "0"]]
    assert summary[3][0] == "fleet-c" and "timed out" in summary[3][-2] and summary[3][-1] == "1"
    assert "1 of 3 contexts did not end with exit 0: fleet-c (1)" in done.stderr
    assert [clusters[name].image(namespace) for name in CONTEXTS] == [
        "registry.example/web:2", "registry.example/web:2", "registry.example/web:3"]
    assert clusters["fleet-c"].written(namespace) == before["fleet-c"]


def test_ctrl_c_interrupts_every_context_and_a_second_run_finishes(fleet, plugin, test_cluster):
    clusters, namespace, three, _ = fleet
    deploy(fleet)
    for name in ("fleet-a", "fleet-b"):
        block_pods(clusters[name].core, namespace)  # their rollouts cannot finish: both wait
    rollback = start({**test_cluster.env(), "KUBECONFIG": three}, "rollback", RELEASE, "--all-contexts",
                     "--timeout", "120s")
    waiting = set()
    while waiting != {"fleet-a", "fleet-b"}:
        line = wait_for_line(rollback, "] Waiting for deployment")
        waiting |= {name for name in ("fleet-a", "fleet-b") if f"[{name}] Waiting for deployment" in line}
    rollback.send_signal(signal.SIGINT)
    stdout, stderr = rollback.communicate(timeout=30)  # not the 120 s of --timeout

    assert rollback.returncode == 130, stderr
    assert "Traceback" not in stderr
    summary = rows(stdout.split("\n\n")[-1])
    for row, name in zip(summary[1:3], ("fleet-a", "fleet-b")):
        assert row[0] == name and row[-1] == "130", summary
        assert "the rollback is written and still rolling out; watch it with: kubectl rollout status " \
               f"deployment/web -n {namespace}" in row[-2]
    assert summary[3][0] == "fleet-c" and summary[3][-1] == "0"
    assert [clusters[name].image(namespace) for name in CONTEXTS] == [
        "registry.example/web:2", "registry.example/web:2", "registry.example/web:3"]

    for name in ("fleet-a", "fleet-b"):
        clusters[name].core.delete_namespaced_resource_quota("two-pods", namespace)
    plugin("rollback", RELEASE, "--kubeconfig", three, "--all-contexts", check_exit=0)
    for name in ("fleet-a", "fleet-b"):
        assert history(plugin, three, name) == [(3, "Failed", 3), (2, "Succeeded", 4), (1, "Succeeded", 1)]


def everything(clusters, namespace):
    """{context: {(kind, name): resourceVersion}} of every object of the namespace a rollback could
    touch, in every cluster, once its controllers are done: what an answer "n" must leave exactly as it was."""
    return {name: settled_versions(cluster.api, namespace) for name, cluster in clusters.items()}


def on_a_terminal(env, args, answer, timeout=60):
    """Run the console script with stdin, stdout and stderr on a pseudo-terminal; type `answer`
    once the y/N question shows; (exit code, everything the terminal showed)."""
    import pty
    import select
    import shutil
    import subprocess
    import time

    master, slave = pty.openpty()
    process = subprocess.Popen([shutil.which("kubectl-harness_rollback"), *args], stdin=slave, stdout=slave,
                               stderr=slave, env={**env, "COLUMNS": "200"}, close_fds=True)
    os.close(slave)
    shown, answered, deadline = b"", False, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the process closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
            if not answered and b"[y/N]: " in shown:
                os.write(master, answer)
                answered = True
        return process.wait(timeout=30), shown.decode().replace("\r\n", "\n")
    finally:
        process.kill() if process.poll() is None else None
        os.close(master)


def test_to_release_across_contexts_asks_before_rolling_back_the_release_that_succeeded(fleet, plugin, test_cluster):
    clusters, namespace, three, _ = fleet
    deploy(fleet)  # release 3 failed in fleet-a and fleet-b, succeeded in fleet-c
    before = everything(clusters, namespace)

    # A pipeline (no terminal) without --yes: one line, exit 2, nothing written anywhere.
    piped = plugin("rollback", RELEASE, "--kubeconfig", three, "--all-contexts", "--to-release", "2")
    assert piped.returncode == 2, piped.stderr
    assert piped.stderr.splitlines() == [
        "error: the latest release succeeded in 1 context and would be rolled back there (fleet-c: 3 → 2): confirm "
        "with --yes (stdin is not a terminal to ask on); nothing was written "
        "(see 'kubectl harness-rollback rollback --help')"]
    assert everything(clusters, namespace) == before

    # On a terminal: the combined plan, the question; "n" leaves every object of every context as it was.
    env = {**test_cluster.env(), "KUBECONFIG": three}
    code, shown = on_a_terminal(env, ["rollback", RELEASE, "--all-contexts", "--to-release", "2"], b"n\n")
    assert code == 1, shown
    plan_rows = rows(shown.split("\n\n")[0])
    assert [row[:6] for row in plan_rows[1:4]] == [
        ["fleet-a", namespace, RELEASE, "3 (Failed)", "2 (Succeeded)", "roll back"],
        ["fleet-b", namespace, RELEASE, "3 (Failed)", "2 (Succeeded)", "roll back"],
        ["fleet-c", namespace, RELEASE, "3 (Succeeded)", "2 (Succeeded)", "roll back"]]
    assert ("The latest release succeeded in 1 context and would be rolled back there (fleet-c: 3 → 2). "
            "Roll back in 3 contexts? [y/N]: n\nerror: not confirmed: nothing was written in any context") in shown
    assert everything(clusters, namespace) == before

    # "y": every context rolled back, the one that succeeded too.
    code, shown = on_a_terminal(env, ["rollback", RELEASE, "--all-contexts", "--to-release", "2"], b"y\n")
    assert code == 0, shown
    assert [clusters[name].image(namespace) for name in CONTEXTS] == ["registry.example/web:2"] * 3

    # Each context now says it was rolled back already, by whom and when.
    again = rows(plugin("plan", RELEASE, "--kubeconfig", three, "--all-contexts", "--to-release", "2",
                        check_exit=0).stdout)
    for row, name in zip(again[1:], CONTEXTS):
        assert row[0] == name and row[5] == "already rolled back", again
        assert re.fullmatch(r"rolled back by \S+ at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, 3 → 2", row[-1]), again


def test_failed_releases_across_contexts_roll_back_on_a_terminal_without_a_question(fleet, test_cluster):
    clusters, namespace, three, _ = fleet
    deploy(fleet)
    env = {**test_cluster.env(), "KUBECONFIG": three}
    code, shown = on_a_terminal(env, ["rollback", RELEASE, "--all-contexts"], b"n\n", timeout=90)
    assert code == 0, shown
    assert "[y/N]" not in shown
    assert [clusters[name].image(namespace) for name in CONTEXTS] == [
        "registry.example/web:2", "registry.example/web:2", "registry.example/web:3"]

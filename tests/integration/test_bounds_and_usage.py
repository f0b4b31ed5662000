"""A rollback must never make things worse (issue 10): bounded time, credentials that fail stop
the command, usage errors are one line; through the installed console script."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from tests.support.relay import RELAY, TRICKLE, Relay


def console_script() -> str:
    found = shutil.which("kubectl-harness_rollback") or shutil.which(
        "kubectl-harness_rollback", path=os.path.dirname(sys.executable))
    assert found, "the console script kubectl-harness_rollback is not installed (pip install -e .)"
    return found


def run(*args: str, kubeconfig: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
    env["KUBECONFIG"] = kubeconfig
    return subprocess.run([console_script(), *args], capture_output=True, text=True, timeout=timeout, env=env)


def one_line(done: subprocess.CompletedProcess) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


# -- A. bounded time ---------------------------------------------------------------------------

@pytest.fixture
def silent_server():
    """A TCP server on 127.0.0.1 that accepts every connection and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def kubeconfig_for(path: Path, server: str, user: dict) -> str:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "shop"}}],
        "users": [{"name": "u", "user": user}],
    }))
    return str(path)


@pytest.mark.parametrize("flags, seconds", [(["--request-timeout", "2s"], 2), ([], 30)],
                         ids=["given", "default"])
def test_a_server_that_never_answers_times_out_with_one_line(silent_server, tmp_path, flags, seconds):
    config = kubeconfig_for(tmp_path / "config", f"https://127.0.0.1:{silent_server}", {"token": "t"})
    started = time.monotonic()
    # Without a default timeout this would wait forever (here: until subprocess's timeout fails the test).
    done = run("plan", "release-x", *flags, kubeconfig=config, timeout=3 * seconds + 15)
    elapsed = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    line = one_line(done)
    assert line.startswith("error: timed out: ") and f"within {seconds}s" in line, line
    assert done.stdout == ""
    assert elapsed >= seconds * 0.9, elapsed  # it did wait for the timeout, not fail for another reason


def test_request_timeout_bounds_the_whole_answer_not_each_read(test_cluster, apps, core, namespace, tmp_path):
    """A server that trickles its answers (a byte every 50 ms: each read well within any socket
    timeout) is cut off by --request-timeout, as kubectl's is, before anything is written."""
    from tests.support.harness import HarnessRollingDeployer

    deployer = HarnessRollingDeployer(apps, core, namespace)
    for image, status in (("registry.example/web:1", "Succeeded"), ("registry.example/web:2", "Failed")):
        deployer.deploy(image, status=status)
    history_before = core.read_namespaced_config_map(deployer.release_name, namespace).data
    version_before = apps.read_namespaced_deployment("web", namespace).metadata.resource_version
    methods: list[str] = []

    def before(method: str, path: str) -> str:
        methods.append(method)
        return TRICKLE

    proxy = Relay(test_cluster.kubeconfig, before)
    try:
        config = kubeconfig_for(tmp_path / "via-proxy", proxy.url, {})
        started = time.monotonic()
        # Trickled, any one answer of the cluster takes well over a minute.
        done = run("rollback", deployer.release_name, "-n", namespace, "--request-timeout", "1s",
                   kubeconfig=config, timeout=60)
        elapsed = time.monotonic() - started
    finally:
        proxy.close()
    assert done.returncode == 1, done.stderr
    line = one_line(done)
    assert line.startswith("error: timed out: GET /") and "did not complete within 1s (--request-timeout)" in line
    assert elapsed < 15, elapsed
    assert methods and set(methods) == {"GET"}  # the first answer never completed: nothing else was sent
    assert apps.read_namespaced_deployment("web", namespace).metadata.resource_version == version_before
    assert core.read_namespaced_config_map(deployer.release_name, namespace).data == history_before


def test_a_one_millisecond_request_timeout_fails_as_kubectls_does(test_cluster, namespace, tmp_path):
    """kubectl get --request-timeout 1ms: 'Unable to connect to the server: context deadline
    exceeded', exit 1. No request of the plugin completes in 1 ms either."""
    done = run("list", "-n", namespace, "--request-timeout", "1ms", kubeconfig=test_cluster.kubeconfig)
    assert done.returncode == 1, done.stderr
    assert "did not complete within 1ms (--request-timeout)" in one_line(done)
    assert done.stdout == ""


# -- C1. a failing exec credential plugin ------------------------------------------------------

def exec_user(tmp_path: Path, script: str) -> dict:
    plugin = tmp_path / "credential-plugin"
    plugin.write_text("#!/bin/sh\n" + script)
    plugin.chmod(0o755)
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
                     "interactiveMode": "Never"}}


def cluster_kubeconfig_with_user(test_cluster, tmp_path: Path, user: dict) -> str:
    with open(test_cluster.kubeconfig, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    context = next(c for c in config["contexts"] if c["name"] == config["current-context"])
    for entry in config["users"]:
        if entry["name"] == context["context"]["user"]:
            entry["user"] = user
    path = tmp_path / "exec-config"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_a_failing_exec_credential_plugin_stops_like_kubectl(test_cluster, namespace, tmp_path):
    user = exec_user(tmp_path, "echo 'token expired, run sso login' >&2\nexit 1\n")
    config = cluster_kubeconfig_with_user(test_cluster, tmp_path, user)
    done = run("list", "-n", namespace, kubeconfig=config)
    assert done.returncode == 1, done.stderr
    line = one_line(done)
    assert line.startswith(f"error: getting credentials: exec: executable {tmp_path}/credential-plugin failed "
                           "with exit code 1"), line
    assert "token expired, run sso login" in line
    assert "anonymous" not in done.stderr and "forbidden" not in done.stderr


def test_a_missing_exec_credential_plugin_stops(test_cluster, namespace, tmp_path):
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(tmp_path / "absent")}}
    config = cluster_kubeconfig_with_user(test_cluster, tmp_path, user)
    done = run("list", "-n", namespace, kubeconfig=config)
    assert done.returncode == 1, done.stderr
    assert "getting credentials: exec: executable" in one_line(done) and "not found" in done.stderr


def test_an_exec_credential_plugin_that_works_is_used(test_cluster, namespace, tmp_path):
    # The plugin hands out the cluster's own admin client certificate, as ExecCredential status.
    with open(test_cluster.kubeconfig, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    context = next(c for c in config["contexts"] if c["name"] == config["current-context"])
    original = next(u for u in config["users"] if u["name"] == context["context"]["user"])["user"]
    if "client-certificate" not in original:
        pytest.skip("the test cluster's user has no client certificate file to hand out")
    credential = tmp_path / "credential.json"
    import json
    credential.write_text(json.dumps({
        "apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
        "status": {"clientCertificateData": Path(original["client-certificate"]).read_text(),
                   "clientKeyData": Path(original["client-key"]).read_text()}}))
    user = exec_user(tmp_path, f"cat '{credential}'\n")
    done = run("list", "-n", namespace, kubeconfig=cluster_kubeconfig_with_user(test_cluster, tmp_path, user))
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == f"No releases found in namespace {namespace}."


# -- C2. a race lost exits 5 -------------------------------------------------------------------

def racing(path_suffix: str, someone_else):
    """Before the plugin's first PATCH of `path_suffix`, someone else writes: a race, lost for sure."""
    state = {"raced": False}

    def before(method: str, path: str) -> str:
        if method == "PATCH" and path.endswith(path_suffix) and not state["raced"]:
            state["raced"] = True
            someone_else()
        return RELAY

    return before, state


def test_a_change_made_between_read_and_write_exits_5_and_is_kept(test_cluster, apps, core, namespace, tmp_path):
    from tests.support.harness import HarnessRollingDeployer

    deployer = HarnessRollingDeployer(apps, core, namespace)
    for image, status in (("registry.example/web:1", "Succeeded"), ("registry.example/web:2", "Succeeded"),
                          ("registry.example/web:3", "Failed")):
        deployer.deploy(image, status=status)
    history_before = core.read_namespaced_config_map(deployer.release_name, namespace).data

    def someone_changes_the_deployment():
        # More than spec.replicas: an autoscaler's replicas alone do not stop a template restore
        # (tests/adversarial/test_after_first_write.py).
        apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 3, "minReadySeconds": 1}})

    before, state = racing(f"/namespaces/{namespace}/deployments/web", someone_changes_the_deployment)
    proxy = Relay(test_cluster.kubeconfig, before)
    try:
        config = kubeconfig_for(tmp_path / "via-proxy", proxy.url, {})
        done = run("rollback", deployer.release_name, "-n", namespace, kubeconfig=config)
    finally:
        proxy.close()
    assert state["raced"]
    assert done.returncode == 5, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("error: deployment/web was changed by someone else after it was read"), done.stderr
    assert "run the command again to re-plan" in line
    deployment = apps.read_namespaced_deployment("web", namespace)
    assert deployment.spec.replicas == 3  # their change is kept
    assert deployment.spec.template.spec.containers[0].image == "registry.example/web:3"  # nothing written
    assert core.read_namespaced_config_map(deployer.release_name, namespace).data == history_before


def test_a_controllers_status_write_between_read_and_write_is_not_a_lost_race(test_cluster, apps, core, namespace,
                                                                              tmp_path):
    """Controllers write status all the time; only a change to what the plan was made from stops it."""
    from tests.support.harness import HarnessRollingDeployer

    deployer = HarnessRollingDeployer(apps, core, namespace)
    for image, status in (("registry.example/web:1", "Succeeded"), ("registry.example/web:2", "Succeeded"),
                          ("registry.example/web:3", "Failed")):
        deployer.deploy(image, status=status)
    moved = {}

    def a_status_write():
        before = apps.read_namespaced_deployment("web", namespace).metadata.resource_version
        after = apps.patch_namespaced_deployment_status("web", namespace, {"status": {"conditions": [
            {"type": "KhrStatusOnly", "status": "True", "reason": "Test"}]}}).metadata.resource_version
        moved.update(before=before, after=after)

    before, state = racing(f"/namespaces/{namespace}/deployments/web", a_status_write)
    proxy = Relay(test_cluster.kubeconfig, before)
    try:
        done = run("rollback", deployer.release_name, "-n", namespace,
                   kubeconfig=kubeconfig_for(tmp_path / "via-proxy", proxy.url, {}))
    finally:
        proxy.close()
    assert state["raced"] and moved["before"] != moved["after"]
    assert done.returncode == 0, done.stderr
    deployment = apps.read_namespaced_deployment("web", namespace)
    assert deployment.spec.template.spec.containers[0].image == "registry.example/web:2"


# -- C3-C5. usage errors: one line, exit 2, nothing sent ------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["plan", "release-x", "--bogus"], "error: no such option '--bogus'"),
    (["plan", "release-x", "--match", "nope"], "error: invalid value for '--match': 'nope' is not one of"),
    (["plan"], "error: missing argument 'TARGET'"),
    (["plan", "release infra"], "error: 'release infra' is not a valid release name"),
    (["plan", "Release-X"], "error: 'Release-X' is not a valid release name"),
    (["plan", "deployment.example.com/web"], "error: unsupported workload kind 'deployment.example.com'"),
    (["rollback", "deploy/Web"], "error: 'Web' is not a valid Deployment name"),
])
def test_usage_errors_are_one_line_exit_2_and_send_nothing(silent_server, tmp_path, argv, message):
    # Any request would reach the silent server and end in a timeout (exit 1), not exit 2.
    config = kubeconfig_for(tmp_path / "config", f"https://127.0.0.1:{silent_server}", {"token": "t"})
    done = run(*argv, "--request-timeout", "5s", kubeconfig=config, timeout=60)
    assert done.returncode == 2, done.stderr
    line = one_line(done)
    assert line.startswith(message), line
    assert line.endswith(f"(see 'kubectl harness-rollback {argv[0]} --help')"), line
    assert done.stdout == ""


@pytest.fixture(scope="module")
def one_release(api_client, module_namespace):
    """One release, deployed once for the tests that only read it."""
    from kubernetes import client as k8s

    from tests.support.harness import HarnessRollingDeployer

    HarnessRollingDeployer(k8s.AppsV1Api(api_client), k8s.CoreV1Api(api_client), module_namespace).deploy(
        "registry.example/web:1")
    return module_namespace


@pytest.mark.xdist_group("kind-spellings")  # one worker: the release is deployed once for them all
@pytest.mark.parametrize("kind", ["deployment", "Deployments", "deploy", "deployment.apps", "deployments.apps",
                                  "deployment.v1.apps", "DEPLOY"])
def test_every_kind_spelling_kubectl_accepts_finds_the_deployment(one_release, plugin, kind):
    done = plugin("history", f"{kind}/web", "-n", one_release, "-o", "json", check_exit=0)
    assert '"registry.example/web:1"' in done.stdout

"""Completion offers what is in the cluster, through the installed entry points.

Three ways a user reaches it: kubectl's plugin completion (`kubectl harness-rollback <TAB>`
runs kubectl_complete-harness_rollback), that executable called directly, and the bash script
of `kubectl harness-rollback completion bash` (for `kubectl-harness_rollback <TAB>`).
"""

import shutil
import subprocess

import pytest
from kubernetes import client as k8s

from tests.support.harness import HarnessRollingDeployer

# One worker: the module's release is deployed once, for its tests.
pytestmark = pytest.mark.xdist_group("completion")

RELEASE = "release-infra-prod"


@pytest.fixture
def complete_exe():
    found = shutil.which("kubectl_complete-harness_rollback")
    assert found, "the console script kubectl_complete-harness_rollback is not installed (pip install -e .)"
    return found


@pytest.fixture(scope="module")
def released(api_client, module_namespace):
    """One release for the whole module: completion only reads it."""
    HarnessRollingDeployer(k8s.AppsV1Api(api_client), k8s.CoreV1Api(api_client), module_namespace).deploy(
        "registry.example/web:1")
    return module_namespace


def run(args, env, timeout=60):
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return done


def candidates(stdout):
    *lines, directive = stdout.splitlines()
    return [line.split("\t")[0] for line in lines], directive


KINDS = ["daemonset/", "deployment/", "replicaset/", "statefulset/"]


def test_the_completion_executable_offers_release_names(complete_exe, released, test_cluster):
    done = run([complete_exe, "history", "-n", released, ""], test_cluster.env())
    assert candidates(done.stdout) == ([RELEASE] + KINDS, ":6")  # 2: no space after `deployment/`


def test_release_names_cost_no_list_of_revisions(complete_exe, released, test_cluster):
    """What is live (list's LIVE column) is not completion's business: one list per workload kind
    (ReplicaSets as metadata: a bare one is a workload of its own), Secrets as metadata, then the
    release's history; no ControllerRevision, no ReplicaSet read in full."""
    done = run([complete_exe, "history", "-v", "6", "-n", released, ""], test_cluster.env())
    assert candidates(done.stdout)[0][0] == RELEASE
    lines = done.stderr.splitlines()
    paths = [line.split()[1].split("?")[0].rsplit("/", 1)[-1] for line in lines]
    assert "controllerrevisions" not in paths and paths.count("replicasets") == 1, done.stderr
    assert all("metadata.name" not in line for line in lines if "/replicasets" in line), done.stderr


def test_a_first_tab_of_a_release_name_sends_six_requests(complete_exe, released, test_cluster, tmp_path):
    """A first TAB (no entry in completion's cache) of a release name, in a namespace of one
    release: one list per workload kind, the ReplicaSets and Secrets as metadata, then the
    release's history by name, one after another; no list of the ConfigMaps to find it (kubectl
    completes a Deployment name in one request)."""
    env = {**test_cluster.env(), "XDG_CACHE_HOME": str(tmp_path)}
    done = run([complete_exe, "history", "-v", "6", "-n", released, ""], env)
    assert candidates(done.stdout)[0][0] == RELEASE
    requests = [line.split()[1].split(f"/namespaces/{released}/", 1)[-1] for line in done.stderr.splitlines()]
    assert [path.split("?")[0] for path in requests] == [
        "deployments", "statefulsets", "daemonsets", "replicasets", "secrets", "configmaps"], done.stderr
    assert f"fieldSelector=metadata.name%3D{RELEASE}" in requests[-1], done.stderr


def test_namespaces_for_n_in_one_list_request(complete_exe, released, test_cluster):
    done = run([complete_exe, "history", "-v", "6", "-n", released[:-2]], test_cluster.env(), timeout=30)
    assert candidates(done.stdout) == ([released], ":4")
    assert len(done.stderr.splitlines()) == 1 and "/api/v1/namespaces?limit=" in done.stderr, done.stderr


def test_contexts_for_context_from_the_kubeconfig(test_cluster):
    import yaml

    with open(test_cluster.kubeconfig, encoding="utf-8") as handle:
        names = sorted(c["name"] for c in yaml.safe_load(handle)["contexts"])
    done = run(["kubectl", "__complete", "harness-rollback", "history", "--context", ""], test_cluster.env())
    assert candidates(done.stdout) == (names, ":4")


def test_kind_slash_offers_the_workloads(complete_exe, released, test_cluster):
    done = run([complete_exe, "plan", "-n", released, "deploy/"], test_cluster.env())
    assert candidates(done.stdout) == (["deploy/web"], ":4")


def test_from_release_offers_the_latest_release(complete_exe, released, test_cluster):
    done = run([complete_exe, "rollback", RELEASE, "-n", released, "--from-release", ""], test_cluster.env())
    assert candidates(done.stdout) == (["1"], ":4")
    assert "latest release, Succeeded" in done.stdout


def test_kubectl_plugin_completion(released, test_cluster):
    # kubectl finds kubectl-harness_rollback and kubectl_complete-harness_rollback on PATH.
    done = run(["kubectl", "__complete", "harness-rollback", "rollback", "-n", released, "rel"], test_cluster.env())
    assert candidates(done.stdout) == ([RELEASE], ":4")


def test_the_bash_script_completes_release_names(released, test_cluster):
    script = (
        "source <(kubectl-harness_rollback completion bash)\n"
        f"COMP_WORDS=(kubectl-harness_rollback history -n {released} ''); COMP_CWORD=4\n"
        "_kubectl_harness_rollback_completion kubectl-harness_rollback\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = run(["bash", "-c", script], test_cluster.env())
    assert done.stdout.splitlines() == [RELEASE] + KINDS


def test_an_unreachable_cluster_gives_no_candidates_quickly(complete_exe, tmp_path, test_cluster):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\n"
        "clusters: [{name: gone, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "contexts: [{name: gone, context: {cluster: gone, user: me}}]\n"
        "users: [{name: me, user: {token: t}}]\n"
    )
    done = run([complete_exe, "history", "rel"], {**test_cluster.env(), "KUBECONFIG": str(kubeconfig)}, timeout=30)
    assert (done.stdout, done.stderr) == (":4\n", "")
    done = run([complete_exe, "history", "d"], {**test_cluster.env(), "KUBECONFIG": str(kubeconfig)}, timeout=30)
    assert candidates(done.stdout) == (["daemonset/", "deployment/"], ":6")  # the kinds need no cluster


class Terminal:
    """An interactive bash in a pseudo-terminal: keys in, the screen's text out."""

    def __init__(self, env):
        import os
        import pty

        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: an interactive bash without the user's rc files
            os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"],
                       {**env, "PS1": "$ ", "TERM": "dumb", "INPUTRC": "/dev/null"})
        self.screen = ""

    def keys(self, text: str) -> None:
        import os

        os.write(self.fd, text.encode())

    def wait_for(self, pattern: str, timeout: float = 30):
        """The first match of the regular expression `pattern` in what the screen shows from now on."""
        import os
        import re
        import select
        import time

        start, deadline = len(self.screen), time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.screen[start:], re.MULTILINE)
            if found:
                self.screen = self.screen[:start] + self.screen[start:][found.end():]  # consumed
                return found
            if select.select([self.fd], [], [], 0.2)[0]:
                self.screen += os.read(self.fd, 65536).decode(errors="replace").replace("\r", "")
        raise AssertionError(f"{pattern!r} not on the screen in {timeout}s: {self.screen[start:]!r}")

    def completed_line(self, typed: str) -> str:
        """The command line bash shows after typing `typed` (TABs included); the line is then echoed
        between brackets (Ctrl-A `echo [` Ctrl-E `]`) rather than run."""
        self.keys(typed + "\x01echo [\x05]\n")
        return self.wait_for(r"^\[(kubectl-harness_rollback[^\]\n]*)\]$").group(1)

    def close(self) -> None:
        import os
        import signal

        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def test_bash_completes_namespaces_contexts_dry_run_kinds_and_workloads_in_a_terminal(released, test_cluster):
    import yaml

    with open(test_cluster.kubeconfig, encoding="utf-8") as handle:
        contexts = sorted(c["name"] for c in yaml.safe_load(handle)["contexts"])
    terminal = Terminal(test_cluster.env())
    try:
        terminal.keys("source <(kubectl-harness_rollback completion bash) && echo ready\n")
        terminal.wait_for("^ready$")
        command = "kubectl-harness_rollback history"
        assert terminal.completed_line(f"{command} -n {released[:-2]}\t") == f"{command} -n {released} "
        if len(contexts) == 1:
            assert terminal.completed_line(f"{command} --context \t") == f"{command} --context {contexts[0]} "
        terminal.keys("kubectl-harness_rollback rollback x --dry-run=\t\t")
        terminal.wait_for(r"none\s+client\s+server")
        terminal.keys("\x15\n")  # Ctrl-U: the line is dropped
        # A kind goes on with its name: no space after `deployment/` (as kubectl's own completion).
        assert terminal.completed_line(f"{command} -n {released} dep\t") == f"{command} -n {released} deployment/"
        assert terminal.completed_line(f"{command} -n {released} deployment/\t") == \
            f"{command} -n {released} deployment/web "
    finally:
        terminal.close()

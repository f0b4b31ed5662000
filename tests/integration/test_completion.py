"""Completion offers what is in the cluster, through the installed entry points.

Three ways a user reaches it: kubectl's plugin completion (`kubectl harness-rollback <TAB>`
runs kubectl_complete-harness_rollback), that executable called directly, and the bash script
of `kubectl harness-rollback completion bash` (for `kubectl-harness_rollback <TAB>`).
"""

import shutil
import subprocess

import pytest

from tests.support.harness import HarnessRollingDeployer

RELEASE = "release-infra-prod"


@pytest.fixture
def complete_exe():
    found = shutil.which("kubectl_complete-harness_rollback")
    assert found, "the console script kubectl_complete-harness_rollback is not installed (pip install -e .)"
    return found


@pytest.fixture
def released(apps, core, namespace):
    HarnessRollingDeployer(apps, core, namespace).deploy("registry.example/web:1")
    return namespace


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

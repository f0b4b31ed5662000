"""What a read loads before its first request: the start-up every `plan`, `history`, `status` and
`list` pays. Each command runs in a fresh interpreter whose first socket connect records
sys.modules and exits, so nothing after the first request is counted and no cluster is needed."""

import json
import subprocess
import sys

import pytest

PROBE = """
import json, os, socket, sys

def first_request(sock, address):
    print(json.dumps(sorted(sys.modules)))
    sys.stdout.flush()
    os._exit(0)

socket.socket.connect = first_request
sys.argv = ["kubectl-harness_rollback"] + sys.argv[1:]
from kubectl_harness_rollback.cli.fast_path import main
main()
"""

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: not-a-secret}
contexts:
- name: c
  context: {cluster: c, user: u, namespace: shop}
current-context: c
"""

READS = [["history", "release-infra-prod"], ["status", "release-infra-prod"], ["list", "-n", "shop"]]


def loaded_before_first_request(tmp_path, argv: list[str]) -> set[str]:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(KUBECONFIG)
    env = {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("["), (done.stdout, done.stderr)
    return set(json.loads(done.stdout))


@pytest.mark.parametrize("argv", READS, ids=lambda argv: argv[0])
def test_a_read_loads_no_planner_before_its_first_request(tmp_path, argv):
    loaded = loaded_before_first_request(tmp_path, argv)
    plugin = "kubectl_harness_rollback."
    assert {m for m in loaded if m.startswith(plugin)} & {
        plugin + "planner", plugin + "roll_forward", plugin + "apply", plugin + "executor"} == set()


@pytest.mark.parametrize("argv", READS + [["plan", "release-infra-prod"]], ids=lambda argv: argv[0])
def test_a_read_loads_neither_importlib_metadata_nor_the_kubernetes_client_before_its_first_request(tmp_path, argv):
    # importlib.metadata scans every installed distribution (tabulate asks it for its own version);
    # the kubernetes client and urllib3 are for the kubeconfig forms the stdlib path does not take.
    loaded = loaded_before_first_request(tmp_path, argv)
    assert {"importlib.metadata", "kubernetes", "urllib3"} & loaded == set()


def test_the_console_script_loads_no_click_for_a_read(tmp_path):
    """A read's line takes the short route (cli/read_flags.py): no click, no command tree."""
    for argv in (["history", "r", "-n", "shop"], ["list"], ["status", "r"], ["plan", "r", "-o", "json"]):
        loaded = loaded_before_first_request(tmp_path, argv)
        assert {"click", "kubectl_harness_rollback.cli.app"} & loaded == set(), argv

"""SIGTERM and SIGHUP (`timeout`, a cancelled CI job, a pod eviction, a closed terminal) during a
rollback's wait, on the real control plane: handled as Ctrl-C. The outcome is printed in the
format asked for (-o json), the error says the rollback is written and how to watch it, the exit
code is 128 + the signal's number, and the client key the kubeconfig gave as data is on no disk.
"""

import base64
import json
import shutil
import signal
import subprocess

import pytest
import yaml

from tests.adversarial.test_interrupted import RELEASE, block_pods, good_good_bad, image, wait_for_line


def inline_credentials(kubeconfig: str, directory) -> str:
    """The test cluster's kubeconfig with its CA, client certificate and key given as data, which
    the client must load from files: where it writes them is what this test watches."""
    config = yaml.safe_load(open(kubeconfig, encoding="utf-8"))
    for section, inner, keys in (("clusters", "cluster", ("certificate-authority",)),
                                 ("users", "user", ("client-certificate", "client-key"))):
        for entry in config[section]:
            for key in keys:
                path = entry[inner].pop(key, None)
                if path:
                    entry[inner][f"{key}-data"] = base64.b64encode(open(path, "rb").read()).decode()
    path = directory / "inline-kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return str(path)


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_during_the_wait_prints_the_outcome_and_leaves_no_key(apps, core, namespace, test_cluster, tmp_path,
                                                                        signum, code):
    good_good_bad(apps, core, namespace)
    block_pods(core, namespace)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**test_cluster.env(), "KUBECONFIG": inline_credentials(test_cluster.kubeconfig, tmp_path),
           "TMPDIR": str(scratch)}
    rollback = subprocess.Popen([shutil.which("kubectl-harness_rollback"), "rollback", RELEASE, "-n", namespace,
                                 "--timeout", "90s", "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
    wait_for_line(rollback, "Waiting for deployment")
    assert list(scratch.iterdir()) == []  # the key was loaded, and its file removed, before any request
    rollback.send_signal(signum)
    stdout, stderr = rollback.communicate(timeout=30)

    assert rollback.returncode == code, stderr
    name = signal.Signals(signum).name
    assert f"error: interrupted by {name}: the rollback is written and still rolling out; watch it with: kubectl " \
           f"rollout status deployment/web -n {namespace}" in stderr
    assert "Traceback" not in stderr and "Warning" not in stderr
    outcome = json.loads(stdout)["outcome"]
    assert [(item["action"], item["name"]) for item in outcome["written"]][:1] == [("restored", "web")]
    assert list(scratch.iterdir()) == []
    assert image(apps, namespace) == "registry.example/web:2"

"""The plugin's connection honours kubectl's kubeconfig rules and flags on a real API server."""

import re

import pytest
import yaml

from kubectl_harness_rollback.cluster.apierrors import Forbidden
from kubectl_harness_rollback.cluster.client import connect
from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags
from kubectl_harness_rollback.cluster.rest import CONFIGMAPS, NAMESPACES


def test_current_context_comes_from_a_later_kubeconfig_file(test_cluster, namespace, tmp_path):
    # The first file defines a context but no current-context; kubectl takes the second
    # file's current-context. The Python client alone would find no context at all.
    first = tmp_path / "first.yaml"
    first.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "elsewhere", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": "elsewhere", "context": {"cluster": "elsewhere", "user": "nobody"}}],
        "users": [{"name": "nobody", "user": {}}],
    }))
    kube = connect(ConnectionFlags(namespace=namespace),
                   env={"KUBECONFIG": f"{first}:{test_cluster.kubeconfig}"})
    names = {ns["metadata"]["name"] for ns in kube.list(NAMESPACES)}
    assert namespace in names
    assert kube.requests == [("GET", "/api/v1/namespaces")]


def test_impersonation_sends_every_group(test_cluster, namespace):
    env = {"KUBECONFIG": test_cluster.kubeconfig}
    nobody = connect(ConnectionFlags(impersonate="nobody", impersonate_groups=("team-x",)), env=env)
    with pytest.raises(Forbidden) as denied:
        nobody.list(CONFIGMAPS, namespace)
    assert str(denied.value).startswith(f"forbidden: cannot list configmaps in namespace {namespace} (")
    assert 'User "nobody" cannot list resource "configmaps"' in denied.value.server

    # Allowed only if the second group reaches the server as a header of its own.
    admin = connect(ConnectionFlags(impersonate="nobody", impersonate_groups=("team-x", "system:masters")), env=env)
    assert admin.list(CONFIGMAPS, namespace) is not None


@pytest.mark.parametrize("flag", [["-v", "6"], ["-v=6"], ["--v=7"]])
def test_v6_logs_each_request_on_stderr_as_kubectl_does(plugin, namespace, test_cluster, flag):
    done = plugin("list", "-n", namespace, *flag, check_exit=0)
    *lines, message = done.stderr.splitlines()
    assert message == f"No releases found in namespace {namespace}."
    assert lines and all(re.fullmatch(r"GET https://127\.0\.0\.1:\d+/\S+ 200 OK in \d+ milliseconds", line)
                         for line in lines), done.stderr
    assert any(f"/namespaces/{namespace}/configmaps" in line for line in lines)
    assert "milliseconds" not in done.stdout
    quiet = plugin("list", "-n", namespace, check_exit=0)
    assert "milliseconds" not in quiet.stderr

"""Bad input on the read side: one line naming the object, exit code, no write."""

import base64
import gzip

import pytest
from kubernetes import client as k8s

from tests.support.harness import HarnessRollingDeployer, Release, release_history_yaml


def history_config_map(core, namespace, data):
    core.create_namespaced_config_map(namespace, k8s.V1ConfigMap(
        metadata=k8s.V1ObjectMeta(name="release-x"), data=data))


def one_line_error(done, *fragments):
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def valid_yaml(namespace, status="Failed", revision="2"):
    return release_history_yaml([Release(1, "Succeeded", [("Deployment", "web", "1")], namespace),
                                 Release(2, status, [("Deployment", "web", revision)], namespace)])


CORRUPT = {
    "bad base64": lambda ns: {"releaseHistory": "%%% not base64 %%%", "isReleaseHistoryCompressed": "true"},
    "bad gzip": lambda ns: {"releaseHistory": base64.b64encode(b"not gzip at all").decode(),
                            "isReleaseHistoryCompressed": "true"},
    "bad yaml": lambda ns: {"releaseHistory": "releases: [unclosed"},
    "unknown status": lambda ns: {"releaseHistory": valid_yaml(ns, status="Exploded")},
    "non-numeric revision": lambda ns: {"releaseHistory": base64.b64encode(gzip.compress(
        valid_yaml(ns, revision="two").encode())).decode(), "isReleaseHistoryCompressed": "true"},
}


@pytest.mark.parametrize("corruption", CORRUPT.values(), ids=CORRUPT.keys())
@pytest.mark.parametrize("command", ["history", "plan"])
def test_corrupt_history_is_one_line_naming_the_object(core, namespace, plugin, corruption, command):
    history_config_map(core, namespace, corruption(namespace))
    before = core.read_namespaced_config_map("release-x", namespace).metadata.resource_version
    done = plugin(command, "release-x", "-n", namespace, check_exit=1)
    one_line_error(done, "configmap/release-x", namespace)
    assert done.stdout == ""
    assert core.read_namespaced_config_map("release-x", namespace).metadata.resource_version == before


def test_corrupt_secret_history_never_prints_its_content(core, namespace, plugin):
    secret_text = "releases: [{number: 1, status: TOPSECRET-VALUE}]"
    core.create_namespaced_secret(namespace, k8s.V1Secret(
        metadata=k8s.V1ObjectMeta(name="release-x"),
        data={"releaseHistory": base64.b64encode(secret_text.encode()).decode()}))
    done = plugin("history", "release-x", "-n", namespace, check_exit=1)
    one_line_error(done, "secret/release-x")
    assert "TOPSECRET" not in done.stderr + done.stdout


def test_unknown_release(namespace, plugin):
    done = plugin("history", "release-nope", "-n", namespace, check_exit=1)
    one_line_error(done, "release 'release-nope' not found", namespace)


def test_a_mistyped_release_name_gets_a_did_you_mean_at_no_extra_request(apps, core, namespace, plugin):
    HarnessRollingDeployer(apps, core, namespace).deploy("registry.example/web:1")
    typo = plugin("history", "release-infra-prd", "-n", namespace, check_exit=1)
    line = one_line_error(typo, "did you mean release-infra-prod?")
    assert line.startswith(f"error: release 'release-infra-prd' not found in namespace {namespace}; did you mean "
                           "release-infra-prod? (")
    assert "did you mean" not in plugin("history", "zzz", "-n", namespace, check_exit=1).stderr

    # The suggestion comes from what the read had listed anyway: as many requests as for a name
    # nothing resembles (-v 6 logs each one).
    def requests(name):
        done = plugin("history", name, "-n", namespace, "-v", "6", check_exit=1)
        return [line.split()[:2] for line in done.stderr.splitlines() if line.endswith(" milliseconds")]
    assert len(requests("release-infra-prd")) == len(requests("zzz")) > 0


def test_unknown_workload(namespace, plugin):
    done = plugin("plan", "deployment/nope", "-n", namespace, check_exit=1)
    one_line_error(done, "deployment/nope not found", namespace)


def test_missing_namespace(plugin):
    done = plugin("history", "release-x", "-n", "no-such-namespace", check_exit=1)
    one_line_error(done, "namespace 'no-such-namespace' not found")


def test_forbidden_names_the_verb_and_resource(apps, core, namespace, plugin):
    HarnessRollingDeployer(apps, core, namespace).deploy("registry.example/web:1")
    done = plugin("history", "release-infra-prod", "-n", namespace, "--as", "nobody", check_exit=1)
    # Secrets unreadable is a note (a view-only user may still plan); the history ConfigMap is not.
    line = one_line_error(done, "forbidden: cannot get configmaps", namespace, "for nobody (--as)")
    assert "use --as" not in line  # --as was given


def test_unsupported_kind_is_a_usage_error(namespace, plugin):
    done = plugin("plan", "cronjob/nightly", "-n", namespace, check_exit=2)
    one_line_error(done, "unsupported workload kind 'cronjob'")


def test_cluster_unreachable(plugin, tmp_path):
    config = tmp_path / "config"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: t}}]\n")
    done = plugin("history", "release-x", "--kubeconfig", str(config), "--request-timeout", "5s", check_exit=1)
    one_line_error(done, "cannot reach the API server")


def test_list_in_a_missing_namespace_says_so(plugin):
    done = plugin("list", "-n", "no-such-namespace", check_exit=1)
    one_line_error(done, "namespace 'no-such-namespace' not found")

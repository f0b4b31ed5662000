"""`plan --diff` and `diff REL A B` on the real control plane: a legacy and a declarative release."""

import base64

from tests.integration.test_declarative_scope import clean_release, run_image
from tests.support.harness import HarnessRollingDeployer, write_declarative_release

RELEASE = "release-infra-prod"


def changed(text, before, after):
    """The diff removes a line reading `before` and adds one reading `after` (whatever the indent)."""
    lines = text.splitlines()
    return any(line.startswith("-") and line[1:].strip() == before for line in lines) and \
        any(line.startswith("+") and line[1:].strip() == after for line in lines)


def test_legacy_release_diff_is_the_pod_template_and_two_releases_compare(apps, core, namespace, plugin):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2", status="Failed")

    done = plugin("plan", RELEASE, "-n", namespace, "--diff", check_exit=0)
    assert "--- live/deployment/web/spec.template\n+++ release-1/deployment/web/spec.template\n" in done.stdout
    assert changed(done.stdout, "- image: registry.example/web:2", "- image: registry.example/web:1"), done.stdout
    assert "\x1b[" not in done.stdout  # a pipe: plain
    assert "pod-template-hash" not in done.stdout

    between = plugin("diff", RELEASE, "1", "2", "-n", namespace, check_exit=0).stdout
    assert between.startswith("--- release-1/deployment/web/spec.template\n+++ release-2/deployment/web/spec.template\n")
    assert changed(between, "- image: registry.example/web:1", "- image: registry.example/web:2"), between
    same = plugin("plan", RELEASE, "-n", namespace, "--to-release", "2", "--diff", check_exit=0).stdout
    assert same.endswith("No differences.\n")
    missing = plugin("diff", RELEASE, "1", "9", "-n", namespace, check_exit=1)
    assert "release 9 of release-infra-prod not found" in missing.stderr and "(its releases: 1, 2;" in missing.stderr


def secret(namespace, password):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api-creds", "namespace": namespace},
            "type": "Opaque", "data": {"password": base64.b64encode(password.encode()).decode()}}


def test_declarative_release_diff_is_every_reapplied_object_with_secret_values_masked(apps, core, namespace, plugin):
    for number, status in ((1, "Succeeded"), (2, "Failed")):
        run_image(apps, namespace, number)
        write_declarative_release(core, namespace, RELEASE, number, status,
                                  clean_release(namespace, number) + [secret(namespace, f"hunter{number}")])
    # The cluster holds release 2's objects.
    service, config, _ = clean_release(namespace, 2)
    core.create_namespaced_service(namespace, service)
    core.create_namespaced_config_map(namespace, config)
    core.create_namespaced_secret(namespace, secret(namespace, "hunter2"))

    text = plugin("plan", RELEASE, "-n", namespace, "--diff", check_exit=0).stdout
    for name in ("service/api", "configmap/api-config", "deployment/api", "secret/api-creds"):
        assert f"--- live/{name}\n+++ release-1/{name}\n" in text, text
    assert changed(text, "mode: '2'", "mode: '1'") and changed(text, "targetPort: 8002", "targetPort: 8001"), text
    assert changed(text, "- image: registry.example/api:2", "- image: registry.example/api:1"), text
    assert "-  password: '*** (before)'\n+  password: '*** (after)'\n" in text
    for shown in ("hunter", base64.b64encode(b"hunter1").decode(), base64.b64encode(b"hunter2").decode()):
        assert shown not in text

    between = plugin("diff", RELEASE, "1", "2", "-n", namespace, check_exit=0).stdout
    assert "--- release-1/secret/api-creds\n+++ release-2/secret/api-creds\n" in between
    assert "hunter" not in between and base64.b64encode(b"hunter2").decode() not in between

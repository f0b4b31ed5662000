"""Issue 10, read-only users: the built-in `view` role cannot read Secrets, yet `plan` and `history`
of a release kept in a ConfigMap work for it, with a note that Secrets were not considered."""

import json

from tests.support.accounts import account_with
from tests.support.harness import HarnessRollingDeployer

RELEASE = "release-infra-prod"


def test_view_role_can_plan_and_show_history_of_a_configmap_release(api_client, apps, core, namespace, plugin):
    deployer = HarnessRollingDeployer(apps, core, namespace, store="configmap")
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2")
    deployer.deploy("registry.example/web:3", status="Failed")
    viewer = account_with(api_client, namespace, "viewer", {"kind": "ClusterRole", "name": "view"})
    note = f"cannot read secrets in {namespace}: releases kept in Secrets are not considered"

    view = json.loads(plugin("plan", RELEASE, "-n", namespace, "-o", "json", "--as", viewer, check_exit=0).stdout)
    assert (view["current"]["number"], view["target"]["number"]) == (3, 2)
    assert [w["toImages"] for w in view["workloads"]] == [["registry.example/web:2"]]
    assert view["notes"].count(note) == 1
    assert f"Note: {note}\n" in plugin("plan", RELEASE, "-n", namespace, "--as", viewer, check_exit=0).stdout

    rows = json.loads(plugin("history", RELEASE, "-n", namespace, "-o", "json", "--as", viewer,
                             check_exit=0).stdout)
    assert [(r["number"], r["status"], r["source"]) for r in rows] == [
        (3, "Failed", f"configmap/{RELEASE}"), (2, "Succeeded", f"configmap/{RELEASE}"),
        (1, "Succeeded", f"configmap/{RELEASE}")]

    # The same user may still not write: a rollback stops at its first write, with a sentence.
    done = plugin("rollback", RELEASE, "-n", namespace, "--as", viewer, check_exit=1)
    assert "forbidden" in done.stderr and "cannot patch" in done.stderr, done.stderr
    assert apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].image == \
        "registry.example/web:3"

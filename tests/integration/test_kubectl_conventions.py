"""kubectl's conventions on the real control plane: `-l` selects as the API server does, `-o name`
names what TARGET takes back, `rollback --reason` reaches kubectl's CHANGE-CAUSE, the audit record
and the Event."""

import json
import subprocess

from tests.support.harness import HarnessRollingDeployer, Identity, deployment_body, wait_for_rollout


def _label(apps, namespace, name, **labels):
    apps.patch_namespaced_deployment(name, namespace, {"metadata": {"labels": labels}})


def test_selector_on_list_and_status(apps, core, namespace, plugin):
    HarnessRollingDeployer(apps, core, namespace, name="web", release_name="release-web").deploy("nginx:1")
    HarnessRollingDeployer(apps, core, namespace, name="api", release_name="release-api").deploy("nginx:1")
    # A second workload of release-web, without a record of its own: status shows both.
    apps.create_namespaced_deployment(namespace, deployment_body("worker", "release-web", "nginx:1", Identity(), 1))
    wait_for_rollout(apps, namespace, "worker")
    _label(apps, namespace, "web", team="payments", tier="front")
    _label(apps, namespace, "worker", team="payments", tier="back")
    _label(apps, namespace, "api", team="search", tier="front")

    listed = plugin("list", "-n", namespace, "-o", "name", check_exit=0).stdout.split()
    assert listed == ["release/release-api", "release/release-web"]
    assert plugin("list", "-n", namespace, "-l", "team=payments", "-o", "name", check_exit=0).stdout.split() == [
        "release/release-web"]
    assert plugin("list", "-n", namespace, "-l", "tier in (front),team!=payments", "-o", "name",
                  check_exit=0).stdout.split() == ["release/release-api"]
    rows = plugin("list", "-A", "-l", "team=payments", "--no-headers", check_exit=0).stdout.splitlines()
    assert [row.split()[:3] for row in rows if row.startswith(namespace + " ")] == [
        [namespace, "release-web", "1"]]
    none = plugin("list", "-n", namespace, "-l", "team=nobody", check_exit=0)
    assert none.stdout == "" and "No releases found" in none.stderr

    # status: the release's workloads whose own labels match; the name TARGET takes from list -o name.
    assert plugin("status", "release/release-web", "-n", namespace, "-o", "name", check_exit=0).stdout.split() == [
        "deployment.apps/web", "deployment.apps/worker"]
    view = json.loads(plugin("status", "release-web", "-n", namespace, "-l", "tier=back", "-o", "json",
                             check_exit=0).stdout)
    assert [w["name"] for w in view["workloads"]] == ["worker"] and view["steady"] is True
    rows = plugin("status", "release-web", "-n", namespace, "-l", "!tier", "--no-headers", check_exit=0)
    assert rows.stdout == ""
    text = plugin("status", "release-web", "-n", namespace, "-l", "team=nobody", check_exit=0).stdout
    assert "-l team=nobody selects none of the release's 2 workloads" in text
    bad = plugin("list", "-n", namespace, "-l", "team=a b", check_exit=2)
    assert bad.stderr.startswith("error: -l 'team=a b' is not a label selector")


def test_rollback_reason_and_change_cause_in_rollout_history(apps, core, namespace, plugin, test_cluster):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("nginx:1")
    deployer.deploy("nginx:2")
    deployer.deploy("nginx:3", status="Failed")
    reason = "INC-42: 5xx after nginx:3"

    plugin("rollback", "release-infra-prod", "-n", namespace, "--reason", reason, "--timeout", "2m", check_exit=0)

    # kubectl's CHANGE-CAUSE of the new revision (release 2's ReplicaSet, renumbered 4): the
    # Deployment controller copied it from the Deployment onto the restored ReplicaSet.
    shown = subprocess.run(["kubectl", "rollout", "history", "deployment/web", "-n", namespace], capture_output=True,
                           text=True, check=True, env=test_cluster.env()).stdout.splitlines()
    rows = {line.split(None, 1)[0]: line.split(None, 1)[1].strip() for line in shown[2:] if line.strip()}
    assert rows["4"].startswith("kubectl harness-rollback: release-infra-prod rolled back from release 3 to "
                                "release 2 by ")
    assert rows["4"].endswith(f": {reason}")
    assert rows["3"] == "<none>"
    # The audit record and the Event say it too; status and history show it.
    view = json.loads(plugin("status", "release-infra-prod", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert view["lastRollback"]["reason"] == reason
    assert f"3 → 2: {reason}" in plugin("status", "release-infra-prod", "-n", namespace, check_exit=0).stdout
    events = core.list_namespaced_event(namespace, field_selector="reason=RolledBack").items
    assert [event.message.endswith(f"; reason: {reason}") for event in events] == [True]
    # A --reason that is not one line is refused before any request.
    bad = plugin("rollback", "release-infra-prod", "-n", namespace, "--reason", "a\nb", check_exit=2)
    assert bad.stderr.startswith("error: --reason must be one line of printable text")

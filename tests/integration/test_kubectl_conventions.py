"""kubectl's conventions on the real control plane: `-l` selects as the API server does, `-o name`
names what TARGET takes back."""

import json

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

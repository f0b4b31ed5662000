"""A blue/green rollback stays visible afterwards, on the real control plane: `status`, `history` and
`list -o json` show the swap-back with who and when, and a re-run says "already rolled back",
exits 0 and changes no object."""

import json

from kubernetes import client as k8s

from tests.support.harness import COLOR, HarnessBlueGreenDeployer

RELEASE = "release-bg"


def stage_deployed_and_swapped(apps, core, namespace) -> HarnessBlueGreenDeployer:
    """Harness's pipeline: release 1 blue is primary; release 2 green is stage-deployed (Succeeded,
    bgEnvironment stage) and swapped into primary; then a later step of that pipeline fails."""
    deployer = HarnessBlueGreenDeployer(apps, core, namespace)
    deployer.create_services(primary_color="blue", stage_color="green")
    first = deployer.deploy("blue", "registry.example/shop:1", swap=False)
    first.bg_environment = "primary"
    deployer.deploy_stage("green", "registry.example/shop:2")
    deployer.swap_step()
    assert deployer.selectors()[0][COLOR] == "green"
    return deployer


def versions(apps, core, namespace) -> dict[str, str]:
    """The resourceVersion of every object a rollback could write, and how many Events there are."""
    found = {}
    for kind, items in (("service", core.list_namespaced_service(namespace).items),
                        ("deployment", apps.list_namespaced_deployment(namespace).items),
                        ("replicaset", apps.list_namespaced_replica_set(namespace).items),
                        ("configmap", core.list_namespaced_config_map(namespace).items),
                        ("secret", core.list_namespaced_secret(namespace).items)):
        found.update({f"{kind}/{item.metadata.name}": item.metadata.resource_version for item in items})
    found["events"] = str(len(k8s.CoreV1Api(core.api_client).list_namespaced_event(namespace).items))
    return found


def test_swap_back_is_shown_by_status_history_and_list_and_a_rerun_changes_nothing(apps, core, namespace, plugin):
    deployer = stage_deployed_and_swapped(apps, core, namespace)
    plugin("rollback", RELEASE, "-n", namespace, "--from-release", "2", check_exit=0)
    assert deployer.selectors()[0][COLOR] == "blue"

    status = json.loads(plugin("status", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    swap = status["swapBack"]
    assert (swap["service"], swap["fromRelease"], swap["toRelease"], swap["fromColor"], swap["toColor"]) == (
        "shop", 2, 1, "green", "blue")
    assert swap["by"] and swap["at"]
    text = plugin("status", RELEASE, "-n", namespace, check_exit=0).stdout
    assert (f"Rollback:  swapped back by {swap['by']} at {swap['at']}, 2 → 1 (service/shop: green → blue)"
            in text), text

    rows = json.loads(plugin("history", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    # Release 2 stays Succeeded, as after Harness's own swap: the role and the mark tell.
    assert [(r["number"], r["status"], r["color"], r["role"]) for r in rows] == [
        (2, "Succeeded", "green", "stage"), (1, "Succeeded", "blue", "primary")]
    assert rows[0]["swappedBack"] == swap and "swappedBack" not in rows[1]
    table = plugin("history", RELEASE, "-n", namespace, check_exit=0).stdout.splitlines()
    assert "PRIMARY/STAGE" in table[0]
    assert f"stage (swapped back by {swap['by']} " in table[1] and " primary " in table[2], table

    listed = json.loads(plugin("list", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [row["swapBack"] for row in listed] == [swap]

    before = versions(apps, core, namespace)
    for args in (["--from-release", "2"], []):  # as the pipeline re-runs it, and as on call would
        again = plugin("rollback", RELEASE, "-n", namespace, *args, check_exit=0)
        assert (f"already rolled back: {swap['by']} swapped service/shop back from green to blue at {swap['at']} "
                "(release 2 → 1)") in again.stdout, again.stdout
        assert "traffic never moved" not in again.stdout
    assert versions(apps, core, namespace) == before


def test_a_later_deploy_ends_the_swap_back(apps, core, namespace, plugin):
    deployer = stage_deployed_and_swapped(apps, core, namespace)
    plugin("rollback", RELEASE, "-n", namespace, "--from-release", "2", check_exit=0)
    # The deployer writes the history from its own list: it learns the swap-back's bookkeeping.
    deployer.releases[1].bg_environment, deployer.releases[0].bg_environment = "stage", "primary"
    deployer.deploy_stage("green", "registry.example/shop:3")  # the fix, stage-deployed and swapped in
    deployer.swap_step()

    status = json.loads(plugin("status", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert status["swapBack"] is None
    listed = json.loads(plugin("list", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [row["swapBack"] for row in listed] == [None]
    rows = json.loads(plugin("history", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(r["number"], r["role"]) for r in rows if r["number"] != 2] == [(3, "primary"), (1, "stage")]

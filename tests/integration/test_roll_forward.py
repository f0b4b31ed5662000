"""Rolling forward on the real control plane: release 1 succeeded, release 2 failed, a rollback put 1
back; then `rollback --to-release 2` returns to release 2. It is recorded as `helm rollback REL 2`
records it (a new release 3, Succeeded, "Rollback to 2"), never as "2 → 2" with release 2 marked
Failed; a plain `rollback` afterwards does not flip back to 1, and a second roll forward changes
nothing. Asserted on the live cluster and on what `history` and `status` say.
"""

import json

from tests.integration.test_declarative_scope import deployment, run_image, settled_versions
from tests.integration.test_rollback_rolling import history, ready_images, template_image, written_state
from tests.support.harness import HarnessRollingDeployer, wait_for_rollout, write_declarative_release

RELEASE = "release-infra-prod"
ONE, TWO = "registry.example/web:1", "registry.example/web:2"


def events(core, namespace) -> list[str]:
    return sorted(e.message for e in core.list_namespaced_event(namespace, field_selector="reason=RolledBack").items)


def test_roll_forward_after_a_rollback(apps, core, namespace, plugin):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy(ONE)
    deployer.deploy(TWO, status="Failed")
    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert template_image(apps, namespace) == ONE
    assert history(plugin, namespace) == [(2, "Failed", 2), (1, "Succeeded", 3)]

    planned = plugin("plan", RELEASE, "-n", namespace, "--to-release", "2", check_exit=0)
    assert "rolling forward to the newest release (release 1 runs now); recorded as release 3" in planned.stdout
    forward = plugin("rollback", RELEASE, "-n", namespace, "--to-release", "2", check_exit=0)

    # The image of release 2 runs, on every pod.
    assert template_image(apps, namespace) == TWO
    assert ready_images(core, namespace) == [TWO, TWO]
    # Helm's bookkeeping: a new release, Succeeded, at the revision Kubernetes gave the restored
    # ReplicaSet; release 2 keeps its status and its record (not marked Failed again, no "2 → 2").
    assert history(plugin, namespace) == [(3, "Succeeded", 4), (2, "Failed", 2), (1, "Succeeded", 3)]
    assert "configmap/release-infra-prod: release 3 recorded Succeeded (Rollback to 2)" in forward.stdout
    shown = plugin("history", RELEASE, "-n", namespace, check_exit=0).stdout
    audit = json.loads(apps.read_namespaced_deployment("web", namespace).metadata.annotations[
        "harness.io/last-rollback"])
    moved = f"rolled forward to release 2 by {audit['by']} at {audit['at']}, 1 → 3"
    assert "2 → 2" not in shown and f"* ({moved})" in shown
    status_text = plugin("status", RELEASE, "-n", namespace, check_exit=0).stdout
    assert "Live:      release 3\n" in status_text and f"Rollback:  {moved}\n" in status_text
    rows = json.loads(plugin("history", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(r["number"], r["live"]) for r in rows] == [(3, True), (2, False), (1, False)]
    assert (rows[0]["rolledBack"]["fromRelease"], rows[0]["rolledBack"]["toRelease"],
            rows[0]["rolledBack"]["rolledForwardTo"]) == (1, 3, 2)
    status = json.loads(plugin("status", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [w["release"] for w in status["workloads"]] == [3]
    assert any(m.startswith(f"Rolled forward {RELEASE} from release 1 to release 2 (recorded as release 3)")
               for m in events(core, namespace))

    # A plain rollback afterwards: the latest release (3) succeeded, so there is no failed release to
    # roll back (Harness's "Latest release was successful. Skipping rollback"); nothing is written.
    state, recorded = written_state(apps, namespace), events(core, namespace)
    plain = plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert "no failed release found: the latest release 3 succeeded" in plain.stdout + plain.stderr
    assert template_image(apps, namespace) == TWO
    assert written_state(apps, namespace) == state

    # A second roll forward, by either number, changes nothing and records nothing.
    for number in ("2", "3"):
        again = plugin("rollback", RELEASE, "-n", namespace, "--to-release", number, check_exit=0)
        assert "already runs and is recorded Succeeded; nothing to do" in again.stdout + again.stderr
    assert written_state(apps, namespace) == state
    assert events(core, namespace) == recorded
    assert history(plugin, namespace) == [(3, "Succeeded", 4), (2, "Failed", 2), (1, "Succeeded", 3)]


def api_image(apps, namespace) -> str:
    return apps.read_namespaced_deployment("api", namespace).spec.template.spec.containers[0].image


def release_secrets(core, namespace) -> list[tuple[int, str, str, str]]:
    """(number, status label, name, type) of each release Secret of RELEASE, newest first."""
    found = core.list_namespaced_secret(namespace, label_selector=f"owner=harness,release={RELEASE}").items
    return sorted(((int(s.metadata.labels["release-number"]), s.metadata.labels["status"], s.metadata.name, s.type)
                   for s in found), reverse=True)


def test_roll_forward_of_a_declarative_release(api_client, apps, core, namespace, plugin):
    """Declarative releases 1 ok, 2 failed, a rollback put 1 back; `--to-release 2` re-applies release 2's
    stored manifest and creates release Secret 3, Succeeded, as Harness names and labels its own."""
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-config"}, "data": {"mode": "2"}}
    for number, status in ((1, "Succeeded"), (2, "Failed")):
        run_image(apps, namespace, number)
        write_declarative_release(core, namespace, RELEASE, number, status,
                                  [{**config, "data": {"mode": str(number)}}, deployment(number)])
    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert api_image(apps, namespace) == "registry.example/api:1"

    planned = plugin("plan", RELEASE, "-n", namespace, "--to-release", "2", check_exit=0)
    assert "rolling forward to the newest release (release 1 runs now); recorded as release 3" in planned.stdout
    forward = plugin("rollback", RELEASE, "-n", namespace, "--to-release", "2", check_exit=0)
    wait_for_rollout(apps, namespace, "api")

    assert api_image(apps, namespace) == "registry.example/api:2"
    assert core.read_namespaced_config_map("api-config", namespace).data == {"mode": "2"}
    assert release_secrets(core, namespace) == [
        (3, "Succeeded", f"harness.release.{RELEASE}.3", "harness.io/release/v2"),
        (2, "Failed", f"harness.release.{RELEASE}.2", "harness.io/release/v2"),
        (1, "Succeeded", f"harness.release.{RELEASE}.1", "harness.io/release/v2")]
    assert f"secret/harness.release.{RELEASE}.3: release 3 recorded Succeeded (Rollback to 2)" in forward.stdout
    rows = json.loads(plugin("history", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(r["number"], r["status"]) for r in rows] == [(3, "Succeeded"), (2, "Failed"), (1, "Succeeded")]
    shown = plugin("history", RELEASE, "-n", namespace, check_exit=0).stdout
    assert "2 → 2" not in shown, shown
    # Release 3's Secret holds release 2's manifests: the plan of a roll forward to 3 finds nothing to do.
    third = plugin("plan", RELEASE, "-n", namespace, "--to-release", "3", check_exit=0)
    assert "already runs and is recorded Succeeded; nothing to do" in third.stdout + third.stderr

    # A plain rollback afterwards does nothing (the latest release succeeded), and neither does a second
    # roll forward: no object's resourceVersion moves.
    before = settled_versions(api_client, namespace)
    plain = plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert "no failed release found: the latest release 3 succeeded" in plain.stdout + plain.stderr
    again = plugin("rollback", RELEASE, "-n", namespace, "--to-release", "2", check_exit=0)
    assert "already runs and is recorded Succeeded; nothing to do" in again.stdout + again.stderr
    assert settled_versions(api_client, namespace) == before
    assert api_image(apps, namespace) == "registry.example/api:2"

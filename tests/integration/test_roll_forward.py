"""Rolling forward on the real control plane: release 1 succeeded, release 2 failed, a rollback put 1
back; then `rollback --to-release 2` returns to release 2. It is recorded as `helm rollback REL 2`
records it (a new release 3, Succeeded, "Rollback to 2"), never as "2 → 2" with release 2 marked
Failed; a plain `rollback` afterwards does not flip back to 1, and a second roll forward changes
nothing. Asserted on the live cluster and on what `history` and `status` say.
"""

import json

from tests.integration.test_rollback_rolling import history, ready_images, template_image, written_state
from tests.support.harness import HarnessRollingDeployer

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

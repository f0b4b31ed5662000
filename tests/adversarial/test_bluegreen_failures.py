"""Blue/green writes denied half-way, on the real control plane (a ValidatingAdmissionPolicy
stands in for whatever refuses the write: a webhook, a quota, a policy engine)."""

import shlex
import subprocess

from tests.integration.test_bluegreen import RELEASE, blue_then_failed_green, colors, eventually, pod_ips
from tests.support.admission import denying_service_updates

# Deny every write to the stage Service, and writes that point the primary back at green.
DENY_STAGE_AND_UNDO = ("object.metadata.name != 'shop-stage' && !(object.metadata.name == 'shop' && "
                       "object.spec.selector['harness.io/color'] == 'green')")


def test_a_half_swap_that_cannot_be_undone_is_said_plainly(apps, core, namespace, plugin, test_cluster):
    deployer = blue_then_failed_green(apps, core, namespace)
    assert colors(deployer) == ("green", "blue")
    with denying_service_updates(core, namespace, DENY_STAGE_AND_UNDO):
        done = plugin("rollback", RELEASE, "-n", namespace, check_exit=1)
    assert colors(deployer) == ("blue", "blue")  # what the message must own up to
    line, = [text for text in done.stderr.splitlines() if text.startswith("error: ")]  # after the progress lines
    assert "traffic is half-swapped: service/shop and service/shop-stage both route blue" in line
    assert f"kubectl patch service shop-stage -n {namespace} --type json" in line

    # The command it names finishes the swap.
    fix = line.split("finish the swap with: ", 1)[1]
    # (once the policy that denied the writes is gone: its removal takes a moment to reach the server)
    eventually(lambda: subprocess.run(shlex.split(fix), capture_output=True, env=test_cluster.env()).returncode == 0)
    assert colors(deployer) == ("blue", "green")


def test_a_color_scaled_up_for_a_swap_that_failed_goes_back_to_zero(apps, core, namespace, plugin):
    deployer = blue_then_failed_green(apps, core, namespace)
    apps.patch_namespaced_deployment("shop-blue", namespace, {"spec": {"replicas": 0}})
    eventually(lambda: not pod_ips(core, namespace, "blue"))
    before = deployer.selectors()
    with denying_service_updates(core, namespace):
        done = plugin("rollback", RELEASE, "-n", namespace, check_exit=1)
    assert "deployment/shop-blue: scaled back to 0" in done.stderr
    assert apps.read_namespaced_deployment("shop-blue", namespace).spec.replicas == 0
    assert deployer.selectors() == before


def test_a_server_dry_run_that_is_denied_says_nothing_was_changed(apps, core, namespace, plugin):
    deployer = blue_then_failed_green(apps, core, namespace)
    before = deployer.selectors()
    with denying_service_updates(core, namespace):
        done = plugin("rollback", RELEASE, "-n", namespace, "--dry-run=server", check_exit=1)
    # What the rollback would write is said once, on stdout; nothing in the past tense.
    assert "service/shop: would route blue" in done.stdout and "restored" not in done.stdout + done.stderr
    assert "server dry run: nothing was changed" in done.stderr
    assert deployer.selectors() == before

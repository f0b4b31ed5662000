"""Rolling forward a release kept in declarative release Secrets, through the in-memory API server:
after a rollback from release 2 to 1, `rollback --to-release 2` re-applies release 2's stored
manifests and creates release Secret 3 (Harness's name, labels and type; release 2's manifests;
Succeeded), so Harness's next deploy numbers after it and a plain `rollback` finds nothing to do."""

import pytest

from kubectl_harness_rollback import commands, executor, planned_writes
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.errors import Conflict
from kubectl_harness_rollback.output.render import would_text
from kubectl_harness_rollback.planner import PlanOptions
from kubectl_harness_rollback.reader import Target
from kubectl_harness_rollback.records import bookkeeping, declarative, registry
from tests.support.fake_harness import (
    FakeRollingDeployer,
    declarative_release,
    deployment,
    deployment_controller,
    image_of,
    rollback,
    set_template,
)
from tests.support.fake_rest import FakeCluster
from tests.unit.test_executor_reapply import deployed, manifests

RELEASE = "release-infra-prod"
SECRET = "harness.release.release-infra-prod.{}"
TO_2 = PlanOptions(to_release=2)


def rolled_back() -> FakeCluster:
    """Release 1 succeeded, release 2 failed, and a rollback put release 1 back."""
    cluster = deployed("Succeeded", "Failed")
    assert rollback(cluster, RELEASE).error is None
    assert image_of(cluster, "api") == "registry.example/api:1"
    return cluster


def releases(cluster: FakeCluster) -> list[tuple[int, str]]:
    secrets = [s for s in cluster.all("Secret") if declarative.release_of(s) == RELEASE]
    return sorted(((int(s["metadata"]["labels"]["release-number"]), s["metadata"]["labels"]["status"])
                   for s in secrets), reverse=True)


def test_rolling_forward_re_applies_release_2_and_creates_release_secret_3():
    cluster = rolled_back()

    ran = rollback(cluster, RELEASE, TO_2)

    assert ran.error is None
    assert image_of(cluster, "api") == "registry.example/api:2"
    assert cluster.find("ConfigMap", "api-config")["data"] == {"mode": "2"}
    assert [w for w in ran.writes if "secrets" in w] == ["POST secrets"]  # release 2's Secret is not labelled
    assert releases(cluster) == [(3, "Succeeded"), (2, "Failed"), (1, "Succeeded")]
    new = cluster.find("Secret", SECRET.format(3))
    assert new["type"] == "harness.io/release/v2"
    assert new["metadata"]["labels"] == {"owner": "harness", "release": RELEASE, "release-number": "3",
                                         "status": "Succeeded"}
    parsed = declarative.parse_release_secret(new["metadata"]["name"], "shop", new["metadata"]["labels"],
                                              new["metadata"].get("annotations"), new["data"])
    assert parsed.manifests == manifests(2)
    event = next(r for r in ran.requests if r.short == "POST events")
    assert event.body["message"].startswith(f"Rolled forward {RELEASE} from release 1 to release 2 (recorded as "
                                            "release 3)")
    created = next(i for i in ran.outcome.recorded if i["action"] == "releaseCreated")
    assert created == {"action": "releaseCreated", "kind": "Secret", "name": SECRET.format(3), "release": 3,
                       "status": "Succeeded", "description": "Rollback to 2"}
    assert all("data" not in item for item in ran.outcome.recorded)  # no Secret content in the outcome


def test_a_plain_rollback_afterwards_and_a_second_run_change_nothing():
    cluster = rolled_back()
    rollback(cluster, RELEASE, TO_2)
    before = {key: obj["metadata"]["resourceVersion"] for key, obj in cluster.objects.items()}

    for options in (PlanOptions(), TO_2, PlanOptions(to_release=3)):
        again = rollback(cluster, RELEASE, options)
        assert again.error is None and again.writes == [], options

    assert {key: obj["metadata"]["resourceVersion"] for key, obj in cluster.objects.items()} == before
    assert releases(cluster) == [(3, "Succeeded"), (2, "Failed"), (1, "Succeeded")]


def test_the_plan_says_a_new_release_secret_is_created_and_asks_for_the_right():
    cluster = rolled_back()
    planned = commands.run_plan(cluster.kube(), Target(release_name=RELEASE), TO_2)

    assert (planned.plan.current.number, planned.plan.rolls_forward, planned.plan.new_release) == (1, True, 3)
    assert "recorded as release 3, Succeeded" in planned.plan.reason
    listed = planned_writes.would_write(planned.model, planned.plan)
    assert {"action": "releaseCreated", "kind": "Secret", "name": SECRET.format(3), "release": 3,
            "status": "Succeeded", "description": "Rollback to 2"} in listed
    assert [(r.verb, r.kind) for r in registry.rights(planned.model, planned.plan)] == [("create", "Secret")]
    dry = commands.run_rollback(cluster.kube(), planned, executor.RollbackOptions(DryRun.CLIENT), lambda _: None)
    assert (f"  secret/{SECRET.format(3)}: would create it: release 3, Succeeded (Rollback to 2)\n"
            in would_text(dry.view))


def test_a_roll_forward_cut_short_before_its_record_is_finished_by_the_same_command():
    """Release 2's manifests run again, the Secret's create failed: release 2 is still the newest,
    Failed, so the same command writes only the Secret (and the Event)."""
    cluster = rolled_back()
    cluster.fail(lambda request: request.is_write and not request.dry_run and request.short == "POST secrets", 500)

    ran = rollback(cluster, RELEASE, TO_2)

    assert ran.error is not None and ran.writes[-1] == "POST secrets"
    assert image_of(cluster, "api") == "registry.example/api:2"
    assert releases(cluster) == [(2, "Failed"), (1, "Succeeded")]

    again = rollback(cluster, RELEASE, TO_2)

    assert again.error is None
    assert again.writes == ["POST secrets", "POST events"]
    assert "did not record it yet: recording it now" in again.progress[0]
    assert releases(cluster) == [(3, "Succeeded"), (2, "Failed"), (1, "Succeeded")]
    assert rollback(cluster, RELEASE).writes == []  # and a plain rollback does not flip back


def test_a_release_secret_made_meanwhile_is_not_overwritten():
    cluster = rolled_back()
    planned = commands.run_plan(cluster.kube(), Target(release_name=RELEASE), TO_2)
    cluster.put(declarative_release(RELEASE, 3, "InProgress", manifests(3)))  # a deploy got there first

    with pytest.raises(Conflict, match=f"secret/{SECRET.format(3)} was created by someone else since the releases "
                                       "were read"):
        bookkeeping.send(cluster.kube(), registry.edits(planned.model, planned.plan, {}), DryRun.NONE,
                         "the rollback was done", [])
    assert cluster.find("Secret", SECRET.format(3))["metadata"]["labels"]["status"] == "InProgress"


def test_a_declarative_release_on_top_of_a_legacy_history_is_recorded_in_a_secret_only():
    """Legacy release 1 succeeded, declarative release 2 failed and was rolled back: the roll forward
    creates release Secret 3 and leaves the legacy history as it is; the dry run lists just that."""
    cluster = FakeCluster(controllers=[deployment_controller])
    deployer = FakeRollingDeployer(cluster, release_name=RELEASE)
    deployer.deploy("registry.example/web:1")
    set_template(cluster, "web", "registry.example/web:2")
    cluster.settle()
    manifest = deployment("web", RELEASE, "registry.example/web:2", release_number=2)
    cluster.put(declarative_release(RELEASE, 2, "Failed", [manifest]))
    assert rollback(cluster, RELEASE).error is None
    assert image_of(cluster, "web") == "registry.example/web:1"
    history = cluster.find("ConfigMap", RELEASE)["metadata"]["resourceVersion"]

    planned = commands.run_plan(cluster.kube(), Target(release_name=RELEASE), TO_2)
    listed = planned_writes.would_write(planned.model, planned.plan)
    ran = rollback(cluster, RELEASE, TO_2)

    assert ran.error is None
    assert image_of(cluster, "web") == "registry.example/web:2"
    assert [w for w in ran.writes if "configmaps" in w or "secrets" in w] == ["POST secrets"]
    assert [i["action"] for i in listed if i["kind"] in ("ConfigMap", "Secret")] == ["releaseCreated"]
    assert cluster.find("ConfigMap", RELEASE)["metadata"]["resourceVersion"] == history
    assert releases(cluster) == [(3, "Succeeded"), (2, "Failed")]
    assert rollback(cluster, RELEASE, TO_2).writes == []

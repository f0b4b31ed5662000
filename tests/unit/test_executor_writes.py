"""`rollback` of a rolling (and canary) release through the in-memory API server: the order of
its writes, what it records afterwards, re-runs, failures half-way, dry runs and timeouts —
asserted on the requests the cluster received and on the objects it ends with."""

import json

import pytest

from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.errors import Conflict, NotSteady
from kubectl_harness_rollback.harness_names import CHANGE_CAUSE_ANNOTATION, LAST_ROLLBACK_ANNOTATION
from tests.support.fake_harness import (
    FakeRollingDeployer,
    deployment,
    deployment_controller,
    image_of,
    read_history,
    rollback,
    set_template,
)
from tests.support.fake_rest import FakeCluster, nth_write

RELEASE = "release-infra-prod"
WEB = "registry.example/web:{}"


def good_good_bad(store: str = "configmap", canary: bool = False) -> FakeCluster:
    """web:1 and web:2 succeeded, web:3 failed (with a web-canary Deployment when `canary`)."""
    cluster = FakeCluster(controllers=[deployment_controller])
    deployer = FakeRollingDeployer(cluster, store=store)
    deployer.deploy(WEB.format(1))
    deployer.deploy(WEB.format(2))
    if canary:
        body = deployment("web-canary", RELEASE, WEB.format(3), release_number=3, replicas=1)
        body["metadata"]["labels"]["harness.io/track"] = "canary"
        body["spec"]["selector"]["matchLabels"] = {"app": "web-canary"}
        body["spec"]["template"]["metadata"]["labels"].update({"app": "web-canary", "harness.io/track": "canary"})
        cluster.put(body)
        cluster.settle()
    deployer.deploy(WEB.format(3), status="Failed")
    return cluster


def history(cluster: FakeCluster) -> list[tuple[int, str, str]]:
    return [(r["number"], r["status"], r["managedWorkloads"][0]["revision"]) for r in read_history(cluster, RELEASE)]


def versions(cluster: FakeCluster) -> dict:
    return {key: obj["metadata"]["resourceVersion"] for key, obj in cluster.objects.items()}


@pytest.mark.parametrize("store", ["configmap", "secret"])
def test_rolling_rollback_writes_the_template_then_the_history_then_an_event(store):
    cluster = good_good_bad(store)
    deployment_before = cluster.find("Deployment", "web")

    ran = rollback(cluster, RELEASE)

    assert ran.error is None
    assert ran.writes == ["PATCH deployments/web", f"PATCH {store}s/{RELEASE}", "POST events"]
    template, history_write, event = [r for r in ran.requests if r.is_write]
    # kubectl's undo as one JSON patch, guarded by the version read when planning.
    assert template.patch_type == "json"
    assert template.body[0] == {"op": "replace", "path": "/metadata/resourceVersion",
                                "value": deployment_before["metadata"]["resourceVersion"]}
    assert history_write.patch_type == "strategic" and "resourceVersion" in history_write.body["metadata"]
    assert event.body["reason"] == "RolledBack" and event.body["involvedObject"]["uid"] == \
        deployment_before["metadata"]["uid"]
    assert "from release 3 to release 2" in event.body["message"]
    # The controller observed the template (one watch) before anything was recorded.
    watch = next(i for i, r in enumerate(ran.requests) if r.query.get("watch"))
    assert ran.requests.index(template) < watch < ran.requests.index(history_write)

    assert image_of(cluster, "web") == WEB.format(2)
    live = cluster.find("Deployment", "web")
    assert live["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "4"
    audit = json.loads(live["metadata"]["annotations"][LAST_ROLLBACK_ANNOTATION])
    assert (audit["by"], audit["fromRelease"], audit["toRelease"]) == ("alice@example.com", 3, 2)
    # Harness's bookkeeping: the rolled-back-from release Failed, the restored one renumbered.
    assert history(cluster) == [(3, "Failed", "3"), (2, "Succeeded", "4"), (1, "Succeeded", "1")]
    assert [e["reason"] for e in cluster.all("Event")] == ["RolledBack"]
    assert ran.outcome.steady and ran.outcome.new_revisions


def test_the_restored_template_carries_kubectls_change_cause_and_the_reason_goes_everywhere():
    cluster = good_good_bad()

    ran = rollback(cluster, RELEASE, reason="INC-7: 5xx after web:3")

    assert ran.error is None
    template, _, event = [r for r in ran.requests if r.is_write]
    [annotations] = [op["value"] for op in template.body if op["path"] == "/metadata/annotations"]
    assert annotations[CHANGE_CAUSE_ANNOTATION] == ("kubectl harness-rollback: release-infra-prod rolled back from "
                                                    "release 3 to release 2 by alice@example.com: INC-7: 5xx after web:3")
    assert json.loads(annotations[LAST_ROLLBACK_ANNOTATION])["reason"] == "INC-7: 5xx after web:3"
    assert event.body["message"].endswith("; reason: INC-7: 5xx after web:3")
    # Without --reason: the change-cause says what was done, the audit record has no reason.
    cluster = good_good_bad()
    template = [r for r in rollback(cluster, RELEASE).requests if r.is_write][0]
    [annotations] = [op["value"] for op in template.body if op["path"] == "/metadata/annotations"]
    assert annotations[CHANGE_CAUSE_ANNOTATION].endswith("to release 2 by alice@example.com")
    assert "reason" not in json.loads(annotations[LAST_ROLLBACK_ANNOTATION])


def test_a_second_run_sends_no_write():
    cluster = good_good_bad()
    rollback(cluster, RELEASE)
    before = versions(cluster)

    again = rollback(cluster, RELEASE)

    assert again.error is None
    assert again.writes == []
    assert "already rolled back" in again.progress[0]
    assert versions(cluster) == before


def test_a_failure_after_the_first_write_says_what_was_written_and_records_nothing_more():
    cluster = good_good_bad()
    cluster.fail(nth_write(2), 500)  # the history write

    ran = rollback(cluster, RELEASE)

    assert ran.writes == ["PATCH deployments/web", f"PATCH configmaps/{RELEASE}"]  # no Event after it
    assert ran.error.exit_code != 0
    message = str(ran.error)
    assert "already written before it failed: deployment/web: restored the template of revision 2" in message
    assert "recorded: nothing" in message and "run the same command again" in message
    assert image_of(cluster, "web") == WEB.format(2)
    assert history(cluster) == [(3, "Failed", "3"), (2, "Succeeded", "2"), (1, "Succeeded", "1")]
    assert cluster.all("Event") == []

    # The same command again finishes what is missing, and only that.
    again = rollback(cluster, RELEASE)
    assert again.error is None
    assert again.writes == [f"PATCH configmaps/{RELEASE}", "POST events"]
    assert "did not record it yet: recording it now" in again.progress[0]
    assert history(cluster) == [(3, "Failed", "3"), (2, "Succeeded", "4"), (1, "Succeeded", "1")]


def test_someone_elses_change_after_planning_stops_the_first_write():
    cluster = good_good_bad()
    cluster.before(nth_write(1), lambda c: set_template(c, "web", WEB.format("hotfix")))

    ran = rollback(cluster, RELEASE)

    assert isinstance(ran.error, Conflict) and ran.error.exit_code == 5
    assert ran.writes == ["PATCH deployments/web"]
    assert image_of(cluster, "web") == WEB.format("hotfix")
    assert history(cluster) == [(3, "Failed", "3"), (2, "Succeeded", "2"), (1, "Succeeded", "1")]


def test_server_dry_run_sends_the_same_workload_write_with_dry_run_and_changes_nothing():
    real, dry = good_good_bad(), good_good_bad()
    before = versions(dry)

    done = rollback(real, RELEASE)
    would = rollback(dry, RELEASE, dry_run=DryRun.SERVER)

    assert would.error is None
    assert would.writes == ["PATCH deployments/web (dry run)"]
    sent = next(r for r in would.requests if r.is_write)
    assert sent.query == {"dryRun": "All"}
    written = next(r for r in done.requests if r.is_write)
    assert [op for op in sent.body if op["path"] != "/metadata/annotations"] == \
        [op for op in written.body if op["path"] != "/metadata/annotations"]
    assert versions(dry) == before
    assert image_of(dry, "web") == WEB.format(3)


def test_client_dry_run_sends_no_write():
    cluster = good_good_bad()
    before = versions(cluster)

    ran = rollback(cluster, RELEASE, dry_run=DryRun.CLIENT)

    assert ran.error is None
    assert [r for r in ran.requests if r.method != "GET"] == []
    assert versions(cluster) == before


def test_a_template_the_controller_never_observes_is_recorded_and_times_out_on_the_fake_clock():
    cluster = good_good_bad()
    cluster.controllers.clear()  # the controller is stopped
    started = cluster.clock.monotonic()

    ran = rollback(cluster, RELEASE, timeout=30)

    assert isinstance(ran.error, NotSteady) and ran.error.exit_code == 4
    assert "the rollback is written and recorded" in str(ran.error)
    assert ran.writes == ["PATCH deployments/web", "POST events"]  # release 3 already says Failed
    assert image_of(cluster, "web") == WEB.format(2)
    assert cluster.clock.monotonic() - started >= 30  # the watches lasted their timeouts, on the fake clock


def test_canary_objects_are_deleted_before_the_stable_workload_is_restored():
    cluster = good_good_bad(canary=True)
    canary = cluster.find("Deployment", "web-canary")

    ran = rollback(cluster, RELEASE)

    assert ran.error is None
    assert ran.writes == ["DELETE deployments/web-canary", "PATCH deployments/web", f"PATCH configmaps/{RELEASE}",
                          "POST events"]
    delete = next(r for r in ran.requests if r.method == "DELETE")
    assert delete.body["preconditions"] == {"resourceVersion": canary["metadata"]["resourceVersion"]}
    assert [d["metadata"]["name"] for d in cluster.all("Deployment")] == ["web"]
    assert not [rs for rs in cluster.all("ReplicaSet") if rs["metadata"]["name"].startswith("web-canary")]
    assert image_of(cluster, "web") == WEB.format(2)


def test_a_missing_right_to_record_stops_the_rollback_before_any_write():
    cluster = good_good_bad()
    cluster.denied = {("patch", "configmaps")}
    before = versions(cluster)

    ran = rollback(cluster, RELEASE)

    assert "cannot patch configmaps in namespace shop (needed to record the rollback" in str(ran.error)
    assert ran.writes == []
    assert versions(cluster) == before


def test_a_deploy_saved_meanwhile_is_not_overwritten_by_the_bookkeeping():
    cluster = FakeCluster(controllers=[deployment_controller])
    deployer = FakeRollingDeployer(cluster)
    for tag, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
        deployer.deploy(WEB.format(tag), status)
    # A pipeline deploys web:4 and saves release 4 while the rollback waits for the controller.
    cluster.before(lambda r: r.is_write and "/configmaps/" in r.path, lambda c: deployer.deploy(WEB.format(4)))

    ran = rollback(cluster, RELEASE)

    assert ran.error.exit_code == 5
    assert "release 4 of release-infra-prod appeared in configmap/release-infra-prod while this rollback ran" in \
        str(ran.error)
    assert ran.writes == ["PATCH deployments/web", f"PATCH configmaps/{RELEASE}"]  # refused: 409, no Event
    assert [n for n, _, _ in history(cluster)] == [4, 3, 2, 1]
    assert history(cluster)[1] == (3, "Failed", "3")
    assert cluster.all("Event") == []


def test_a_broken_watch_is_started_again_after_a_back_off_on_the_fake_clock():
    cluster = good_good_bad()
    cluster.fail(lambda r: bool(r.query.get("watch")), 503)
    started = cluster.clock.monotonic()

    ran = rollback(cluster, RELEASE)

    assert ran.error is None
    assert ran.writes == ["PATCH deployments/web", f"PATCH configmaps/{RELEASE}", "POST events"]
    assert sum(1 for r in ran.requests if r.query.get("watch")) == 2
    assert cluster.clock.monotonic() - started == pytest.approx(0.1)  # client-go's first back-off

"""Rolling forward: after a rollback from release 2 to 1, `rollback --to-release 2` returns to the newest
release. Planned and recorded as `helm rollback REL 2` records it (a new release, "Rollback to 2",
Succeeded) and as Harness reads its history (the newest Succeeded release below a failed one is the
rollback-to release): nothing is marked Failed, no "2 → 2", and a plain `rollback` afterwards does not
flip back. Through the in-memory API server with a Deployment controller, and as a pure decision."""

import json

import pytest

from kubectl_harness_rollback import commands, planned_writes
from kubectl_harness_rollback import model as m
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.harness_names import LAST_ROLLBACK_ANNOTATION
from kubectl_harness_rollback.model import (
    HistoryStore,
    ReleaseModel,
    ReleaseWorkload,
    Revision,
    Source,
    Status,
    WorkloadRef,
    WorkloadState,
)
from kubectl_harness_rollback.outcome import outcome_item_text
from kubectl_harness_rollback.output.cells import rolled_back_text
from kubectl_harness_rollback.planner import PlanOptions, plan
from kubectl_harness_rollback.reader import Target
from kubectl_harness_rollback.records import history_codec
from tests.support.fake_harness import (
    FakeRollingDeployer,
    deployment_controller,
    image_of,
    read_history,
    rollback,
)
from tests.support.fake_rest import FakeCluster, nth_write
from tests.support.harness import Release

RELEASE = "release-infra-prod"
WEB = "registry.example/web:{}"
S, F = Status.SUCCEEDED, Status.FAILED


def good_bad_rolled_back(store: str = "configmap") -> FakeCluster:
    """web:1 succeeded, web:2 failed, and a rollback put web:1 back (release 2 Failed)."""
    cluster = FakeCluster(controllers=[deployment_controller])
    deployer = FakeRollingDeployer(cluster, store=store)
    deployer.deploy(WEB.format(1))
    deployer.deploy(WEB.format(2), status="Failed")
    assert rollback(cluster, RELEASE).error is None
    return cluster


def history(cluster: FakeCluster) -> list[tuple[int, str, str]]:
    return [(r["number"], r["status"], r["managedWorkloads"][0]["revision"]) for r in read_history(cluster, RELEASE)]


def audit(cluster: FakeCluster) -> dict:
    return json.loads(cluster.find("Deployment", "web")["metadata"]["annotations"][LAST_ROLLBACK_ANNOTATION])


@pytest.mark.parametrize("store", ["configmap", "secret"])
def test_rolling_forward_records_a_new_succeeded_release_and_marks_nothing_failed(store):
    cluster = good_bad_rolled_back(store)
    assert history(cluster) == [(2, "Failed", "2"), (1, "Succeeded", "3")]

    ran = rollback(cluster, RELEASE, PlanOptions(to_release=2))

    assert ran.error is None
    assert ran.writes == ["PATCH deployments/web", f"PATCH {store}s/{RELEASE}", "POST events"]
    assert image_of(cluster, "web") == WEB.format(2)
    # Helm's `rollback REL 2`: a new release, the newest, Succeeded, at the revision the controller
    # gave the restored ReplicaSet; release 2 keeps its Failed and its record, release 1 its Succeeded.
    assert history(cluster) == [(3, "Succeeded", "4"), (2, "Failed", "2"), (1, "Succeeded", "3")]
    record = audit(cluster)
    assert (record["fromRelease"], record["toRelease"], record["rolledForwardTo"]) == (1, 3, 2)
    event = next(r for r in ran.requests if r.short == "POST events")
    assert event.body["message"].startswith(f"Rolled forward {RELEASE} from release 1 to release 2 (recorded as "
                                            "release 3)")
    recorded = next(i for i in ran.outcome.recorded if i["action"] == "historyUpdated")
    assert recorded["changes"][0] == {"release": 3, "status": "Succeeded", "description": "Rollback to 2"}


def test_a_plain_rollback_after_a_roll_forward_does_not_flip_back():
    cluster = good_bad_rolled_back()
    rollback(cluster, RELEASE, PlanOptions(to_release=2))

    again = rollback(cluster, RELEASE)

    # The latest release (3) succeeded: Harness's "Latest release was successful. Skipping rollback".
    assert again.error is None and again.writes == []
    assert image_of(cluster, "web") == WEB.format(2)
    assert history(cluster)[0] == (3, "Succeeded", "4")


def test_a_second_roll_forward_changes_nothing():
    cluster = good_bad_rolled_back()
    rollback(cluster, RELEASE, PlanOptions(to_release=2))
    before = {key: obj["metadata"]["resourceVersion"] for key, obj in cluster.objects.items()}

    for options in (PlanOptions(to_release=2), PlanOptions(to_release=3)):
        again = rollback(cluster, RELEASE, options)
        assert again.error is None and again.writes == [], options

    assert {key: obj["metadata"]["resourceVersion"] for key, obj in cluster.objects.items()} == before


def test_a_later_failed_deploy_rolls_back_to_the_roll_forward():
    """What Harness's next deploy and rollback make of it: release 4 (the newest number + 1) fails, and
    the newest Succeeded release below it is 3 (web:2), not 1."""
    cluster = good_bad_rolled_back()
    rollback(cluster, RELEASE, PlanOptions(to_release=2))
    deployer = FakeRollingDeployer(cluster)  # as Harness, it continues the history it reads
    deployer.releases = [Release(r["number"], r["status"], [("Deployment", "web", r["managedWorkloads"][0]["revision"])],
                                 "shop") for r in reversed(read_history(cluster, RELEASE))]
    deployer.deploy(WEB.format(5), status="Failed")
    assert [r["number"] for r in read_history(cluster, RELEASE)] == [4, 3, 2, 1]

    ran = rollback(cluster, RELEASE)

    assert ran.error is None
    assert image_of(cluster, "web") == WEB.format(2)
    assert (audit(cluster)["fromRelease"], audit(cluster)["toRelease"]) == (4, 3)


# The decision alone: a model of one Deployment, its revisions and a legacy history.
NS = "shop"
REF = WorkloadRef("Deployment", "web", NS)


def model(history: list[tuple[int, Status | None, int]], revisions: list[tuple[int, tuple[int, ...]]],
          current: int, source: Source = Source.LEGACY, annotation: dict | None = None) -> ReleaseModel:
    """history: [(number, status, recorded revision)]; revisions: [(number, numbers before a renumbering)]."""
    releases = sorted((m.Release(n, s, [ReleaseWorkload(REF, rev)], source, store="configmap/r")
                       for n, s, rev in history),
                      key=lambda r: r.number, reverse=True)
    kept = [Revision(REF, n, prev, "ReplicaSet", f"web-{n}", (f"web:{min((n,) + prev)}",)) for n, prev in revisions]
    images = next(r.images for r in kept if r.number == current)
    annotations = {LAST_ROLLBACK_ANNOTATION: json.dumps(annotation)} if annotation else {}
    state = WorkloadState(REF, "100", current, images, kept, annotations=annotations)
    return ReleaseModel("r", NS, releases, {REF: state}, history_store=HistoryStore("ConfigMap", "r", NS, False, "1", {}))


ROLLED_BACK = {"by": "alice", "at": "2026-01-01T00:00:00Z", "fromRelease": 2, "toRelease": 1,
               "revisions": {"Deployment/web": {"from": 2, "to": 3, "images": ["web:1"]}}}


@pytest.mark.parametrize("name, history, revisions, current, to_release, expected", [
    # (current, target, rolls forward, new release) or the reason's start when nothing is to be done
    ("back to the newest release after a rollback",
     [(1, S, 3), (2, F, 2)], [(2, ()), (3, (1,))], 3, 2, (1, 2, True, 3)),
    ("the newest release failed and still runs: recorded again, Succeeded",
     [(1, S, 1), (2, F, 2)], [(1, ()), (2, ())], 2, 2, (2, 2, True, 3)),
    ("after a roll forward, the same --to-release does nothing",
     [(1, S, 3), (2, F, 2), (3, S, 4)], [(3, (1,)), (4, (2,))], 4, 2, "release 3, a roll forward to release 2,"),
    ("after a roll forward, --to-release of the new release does nothing",
     [(1, S, 3), (2, F, 2), (3, S, 4)], [(3, (1,)), (4, (2,))], 4, 3, "release 3 already runs"),
    ("a succeeded newest release that runs: nothing to do",
     [(1, S, 1), (2, S, 2)], [(1, ()), (2, ())], 2, 2, "release 2 already runs"),
    ("an older release is a rollback, not a roll forward",
     [(1, S, 1), (2, S, 2), (3, F, 3)], [(1, ()), (2, ()), (3, ())], 3, 1, (3, 1, False, None)),
    ("a roll forward that was rolled back: forward again, as a new release",
     [(1, S, 5), (2, F, 2), (3, F, 4)], [(4, (2,)), (5, (3, 1))], 5, 2, (1, 2, True, 4)),
])
def test_the_roll_forward_decision(name, history, revisions, current, to_release, expected):
    result = plan(model(history, revisions, current, annotation=ROLLED_BACK if current != 2 else None),
                  PlanOptions(to_release=to_release))
    if isinstance(expected, str):
        assert result.target is None and result.reason.startswith(expected), result.reason
        assert not result.rolls_forward and result.eligible
        return
    assert (result.current.number, result.target.number, result.rolls_forward, result.new_release) == expected
    if result.rolls_forward:
        assert "nothing is marked Failed" in result.reason


def test_to_revision_of_the_newest_release_rolls_forward_too():
    """`--to-revision 2` names release 2's revision: the same move, recorded the same way."""
    result = plan(model([(1, S, 3), (2, F, 2)], [(2, ()), (3, (1,))], 3, annotation=ROLLED_BACK),
                  PlanOptions(to_revision=2))
    assert (result.current.number, result.target.number, result.rolls_forward, result.new_release) == (1, 2, True, 3)
    after = plan(model([(1, S, 3), (2, F, 2), (3, S, 4)], [(3, (1,)), (4, (2,))], 4), PlanOptions(to_revision=4))
    assert after.target is None and "already runs" in after.reason


def test_a_roll_forward_without_a_legacy_history_records_no_release():
    """Releases read from the revisions alone (no history): the restored revision is the record."""
    revisions_only = model([(1, None, 3), (2, None, 2)], [(2, ()), (3, (1,))], 3, source=Source.ANNOTATIONS,
                           annotation=ROLLED_BACK)
    revisions_only.history_store = None
    result = plan(revisions_only, PlanOptions(to_release=2))
    assert (result.current.number, result.target.number, result.rolls_forward, result.new_release) == (1, 2, True, None)


def test_the_history_document_gets_the_new_release_first():
    doc = {"version": "v1", "releases": [
        {"number": 2, "status": "Failed", "managedWorkloads": [
            {"workload": {"kind": "Deployment", "name": "web", "namespace": NS}, "revision": "2"}]},
        {"number": 1, "status": "Succeeded", "managedWorkloads": [
            {"workload": {"kind": "Deployment", "name": "web", "namespace": NS}, "revision": "3"}]}]}

    history_codec.add_release_copy(doc, 2, 3, Status.SUCCEEDED)
    history_codec.set_workload_revision(doc, 3, REF, 4)

    assert [(r["number"], r["status"], r["managedWorkloads"][0]["revision"]) for r in doc["releases"]] == [
        (3, "Succeeded", "4"), (2, "Failed", "2"), (1, "Succeeded", "3")]


def test_a_roll_forward_cut_short_before_its_record_is_finished_by_the_same_command():
    cluster = good_bad_rolled_back()
    cluster.fail(nth_write(2), 500)  # the history write

    ran = rollback(cluster, RELEASE, PlanOptions(to_release=2))

    assert ran.error is not None and ran.writes == ["PATCH deployments/web", f"PATCH configmaps/{RELEASE}"]
    assert image_of(cluster, "web") == WEB.format(2)
    assert history(cluster) == [(2, "Failed", "2"), (1, "Succeeded", "3")]

    again = rollback(cluster, RELEASE, PlanOptions(to_release=2))

    assert again.error is None
    assert again.writes == [f"PATCH configmaps/{RELEASE}", "POST events"]
    assert "did not record it yet: recording it now" in again.progress[0]
    assert history(cluster) == [(3, "Succeeded", "4"), (2, "Failed", "2"), (1, "Succeeded", "3")]
    assert rollback(cluster, RELEASE).writes == []  # and a plain rollback does not flip back


def test_the_dry_run_lists_the_new_release_and_writes_nothing():
    cluster = good_bad_rolled_back()
    before = {key: obj["metadata"]["resourceVersion"] for key, obj in cluster.objects.items()}

    dry = rollback(cluster, RELEASE, PlanOptions(to_release=2), dry_run=DryRun.CLIENT)

    assert dry.error is None and dry.writes == []
    assert {key: obj["metadata"]["resourceVersion"] for key, obj in cluster.objects.items()} == before
    planned = commands.run_plan(cluster.kube(), Target.parse(RELEASE), PlanOptions(to_release=2))
    written = [outcome_item_text(item) for item in planned_writes.would_write(planned.model, planned.plan)
               if item["action"] == "historyUpdated"]
    assert f"configmap/{RELEASE}: release 3 recorded Succeeded (Rollback to 2)" in written


def test_a_roll_forward_is_undone_with_from_release():
    """The way back the `no failed release found` message names: release 3 Failed, release 1 back."""
    cluster = good_bad_rolled_back()
    rollback(cluster, RELEASE, PlanOptions(to_release=2))

    back = rollback(cluster, RELEASE, PlanOptions(from_release=3))

    assert back.error is None
    assert image_of(cluster, "web") == WEB.format(1)
    assert history(cluster) == [(3, "Failed", "4"), (2, "Failed", "2"), (1, "Succeeded", "5")]


@pytest.mark.parametrize("record, text", [
    ({"by": "alice", "at": "T", "fromRelease": 3, "toRelease": 2}, "rolled back by alice at T, 3 → 2"),
    ({"by": "alice", "at": "T", "fromRelease": 1, "toRelease": 3, "rolledForwardTo": 2},
     "rolled forward to release 2 by alice at T, 1 → 3"),
    ({"by": None, "at": None, "fromRelease": 1, "toRelease": None, "rolledForwardTo": 2},
     "rolled forward to release 2 by someone at an unknown time, 1 → <none>"),
])
def test_the_last_rollback_in_words(record, text):
    """status's "Rollback:" line, and history's and list's LIVE notes."""
    assert rolled_back_text(record) == text


def test_a_failed_newest_release_that_still_runs_is_recorded_again_without_a_workload_write():
    """Never rolled back, and good after all: the record alone, Succeeded, and no "2 → 2" anywhere."""
    cluster = FakeCluster(controllers=[deployment_controller])
    deployer = FakeRollingDeployer(cluster)
    deployer.deploy(WEB.format(1))
    deployer.deploy(WEB.format(2), status="Failed")

    ran = rollback(cluster, RELEASE, PlanOptions(to_release=2))

    assert ran.error is None and ran.writes == [f"PATCH configmaps/{RELEASE}", "POST events"]
    assert history(cluster) == [(3, "Succeeded", "2"), (2, "Failed", "2"), (1, "Succeeded", "1")]
    event = next(r for r in ran.requests if r.short == "POST events")
    assert event.body["message"].startswith(f"Rolled forward {RELEASE} to release 2 (recorded as release 3): ")
    assert rollback(cluster, RELEASE).writes == []

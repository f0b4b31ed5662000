"""ACTION: what a release needs from the on-call admin, decided from what the cluster says of it
(action.decide, pure): one case per branch, then the cell each value is shown as."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from kubectl_harness_rollback import action
from kubectl_harness_rollback.action import DEPLOYING, INVESTIGATE, NEEDS_ROLLBACK, OK, ROLLED_BACK, ReleaseState
from kubectl_harness_rollback.output.cells import action_text, steady_text

NOW = datetime(2026, 1, 2, 12, 0, 0, tzinfo=timezone.utc)
JUST_NOW = "2026-01-02T11:58:00Z"  # 2 minutes ago: within the progress deadline
LONG_AGO = "2026-01-02T11:30:00Z"  # 30 minutes ago: nothing moved for longer than 10 minutes
ROLLBACK = {"by": "alice", "at": "2026-01-02T11:55:00Z", "fromRelease": 3, "toRelease": 2}


def state(status="Failed", latest=3, live=(3,), steady=True, **rest) -> ReleaseState:
    return ReleaseState(latest=latest, status=status, live=live, steady=steady, **rest)


CASES = {
    # Failed: its change is live (steady or not), or rolled back by us, or undone otherwise.
    "failed and live, steady": (state(), NEEDS_ROLLBACK),
    "failed and live, not steady": (state(steady=False, last_change=JUST_NOW), NEEDS_ROLLBACK),
    "failed, live on one workload of two": (state(live=(3, 2)), NEEDS_ROLLBACK),
    "failed, rolled back by us": (state(live=(2,), last_rollback=ROLLBACK), ROLLED_BACK),
    "failed, rolled back, rollout of the restored revision not done": (
        state(live=(2,), steady=False, last_rollback=ROLLBACK), ROLLED_BACK),
    "failed, not live, not steady, no rollback": (state(live=(), steady=False), NEEDS_ROLLBACK),
    "failed, a rollback of an older release": (
        state(latest=4, live=(2,), steady=False, last_rollback=ROLLBACK), NEEDS_ROLLBACK),
    "failed, undone by other means (rollout undo), steady": (state(live=(2,)), OK),
    # InProgress: a deploy in flight, or a dead one.
    "in progress, moving": (state("InProgress", steady=False, last_change=JUST_NOW), DEPLOYING),
    "in progress, no time known": (state("InProgress", steady=False), DEPLOYING),
    "in progress, the controller gave up": (
        state("InProgress", steady=False, gave_up=True, last_change=JUST_NOW), NEEDS_ROLLBACK),
    "in progress, nothing moved for long": (state("InProgress", steady=False, last_change=LONG_AGO), NEEDS_ROLLBACK),
    "in progress, workloads done": (state("InProgress"), OK),
    # Succeeded, or no record: fine, moving, or stuck with nothing to roll back to.
    "succeeded, steady": (state("Succeeded"), OK),
    "succeeded, moving": (state("Succeeded", steady=False, last_change=JUST_NOW), DEPLOYING),
    "succeeded, the controller gave up": (state("Succeeded", steady=False, gave_up=True), INVESTIGATE),
    "succeeded, nothing moved for long": (state("Succeeded", steady=False, last_change=LONG_AGO), INVESTIGATE),
    "no record, steady": (state(None, latest=None, live=()), OK),
    "no record, stuck": (state(None, latest=None, live=(), steady=False, gave_up=True), INVESTIGATE),
    # What the cluster could not tell.
    "revisions not readable": (state(live=None), None),
    "steadiness not readable": (state(steady=None), None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_decide(name):
    given, expected = CASES[name]
    assert action.decide(given, NOW) == expected


def test_every_action_is_reached():
    assert {expected for _, expected in CASES.values()} - {None} == set(action.ACTIONS)


def test_stale_is_past_the_default_progress_deadline():
    edge = "2026-01-02T11:50:00Z"  # exactly 600 s ago: not yet stale
    assert action.decide(state("InProgress", steady=False, last_change=edge), NOW) == DEPLOYING
    assert action.decide(state("InProgress", steady=False, last_change="2026-01-02T11:49:59Z"), NOW) == NEEDS_ROLLBACK


def test_not_steady_only_keeps_the_unknown():
    rows = [{"release": "a", "steady": True}, {"release": "b", "steady": False}, {"release": "c", "steady": None}]
    assert [row["release"] for row in action.not_steady_only(rows)] == ["b", "c"]


@pytest.mark.parametrize("value, record, cell", [
    (ROLLED_BACK, ROLLBACK, "rolled back by alice 5m ago"),
    (ROLLED_BACK, {**ROLLBACK, "by": None}, "rolled back by someone 5m ago"),
    (ROLLED_BACK, {**ROLLBACK, "at": None}, "rolled back by alice"),
    (NEEDS_ROLLBACK, None, "needs rollback"),
    (DEPLOYING, None, "deploying"),
    (OK, ROLLBACK, "ok"),
    (None, None, "<unknown>"),
])
def test_action_cell(value, record, cell):
    assert action_text(value, record, NOW) == cell


def test_steady_cell():
    assert [steady_text(value) for value in (True, False, None)] == ["yes", "no", "<unknown>"]


# ---- from the release model: status_view's action, as `list` computes it too -----------------------

def _model(current, releases, annotations=None, status_=None):
    from tests.unit.test_live import model, revision, web

    return model(web(current, [revision(2, "2", created="2026-01-02T11:00:00Z"),
                               revision(3, "3", created="2026-01-02T11:20:00Z")], annotations, status_), *releases)


def test_status_view_needs_rollback_while_the_failed_release_is_live():
    from kubectl_harness_rollback import status
    from tests.unit.test_live import release

    view = status.status_view(_model(3, [release(3, "Failed", 3), release(2, "Succeeded", 2)]), NOW)
    assert (view["steady"], view["action"]) == (True, NEEDS_ROLLBACK)


def test_status_view_rolled_back_once_the_rollback_restored_the_last_good_release():
    from kubectl_harness_rollback import status
    from tests.unit.test_live import audit, release

    rolled = _model(2, [release(3, "Failed", 3), release(2, "Succeeded", 2)], audit(2, 2, "2"))
    view = status.status_view(rolled, NOW)
    assert view["action"] == ROLLED_BACK and view["lastRollback"]["by"] == "alice"


def test_a_deployment_that_gave_up_is_not_deploying():
    from kubectl_harness_rollback import status
    from tests.unit.test_live import release

    moving = {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1, "availableReplicas": 1,
              "conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
                              "lastUpdateTime": JUST_NOW}]}
    gave_up = {**moving, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                         "lastUpdateTime": JUST_NOW, "message": 'ReplicaSet "web-3" has timed out '
                                                                                "progressing."}]}
    releases = [release(3, "InProgress", 3), release(2, "Succeeded", 2)]
    assert status.status_view(_model(3, releases, status_=moving), NOW)["action"] == DEPLOYING
    assert status.status_view(_model(3, releases, status_=gave_up), NOW)["action"] == NEEDS_ROLLBACK
    # No progress for long (the Progressing condition's last update, else the revision's creation).
    stale = {**moving, "conditions": [{**moving["conditions"][0], "lastUpdateTime": LONG_AGO}]}
    assert status.status_view(_model(3, releases, status_=stale), NOW)["action"] == NEEDS_ROLLBACK


def _blue_green(primary_color: str, green_steady: bool):
    from kubectl_harness_rollback.model import (
        Release,
        ReleaseModel,
        ReleaseWorkload,
        Revision,
        ServiceState,
        Source,
        Status,
        WorkloadRef,
        WorkloadState,
    )

    def deployment(color: str, image: str, steady: bool) -> WorkloadState:
        ref = WorkloadRef("Deployment", f"web-{color}", "shop")
        raw = {"metadata": {"name": ref.name, "namespace": "shop", "generation": 1},
               "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web", "harness.io/color": color}}},
               "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
                          "availableReplicas": 2 if steady else 0}}
        revision = Revision(ref, 1, (), "ReplicaSet", f"{ref.name}-1", (image,),
                            raw={"metadata": {"name": f"{ref.name}-1", "creationTimestamp": LONG_AGO}})
        return WorkloadState(ref, "1", 1, (image,), [revision], labels={"harness.io/color": color}, raw=raw)

    blue, green = deployment("blue", "web:1", True), deployment("green", "web:2", green_steady)
    releases = [Release(2, Status.FAILED, [ReleaseWorkload(green.ref, 1)], Source.LEGACY, store="configmap/r"),
                Release(1, Status.SUCCEEDED, [ReleaseWorkload(blue.ref, 1)], Source.LEGACY, store="configmap/r")]
    stage_color = "blue" if primary_color == "green" else "green"
    services = [ServiceState("web", "shop", {"app": "web", "harness.io/color": primary_color},
                             {"harness.io/primary-service": "true"}, "1"),
                ServiceState("web-stage", "shop", {"app": "web", "harness.io/color": stage_color},
                             {"harness.io/stage-service": "true"}, "1")]
    return ReleaseModel("r", "shop", releases, {blue.ref: blue, green.ref: green}, services=services)


def test_blue_green_what_the_primary_routes_is_live():
    """Both colors keep running: the failed release's color is live only while the primary
    Service routes it, and a crash-looping stage color left behind a swap-back needs no rollback."""
    from kubectl_harness_rollback import status

    before = status.status_view(_blue_green("green", green_steady=False), NOW)
    assert (before["liveReleases"], before["steady"], before["action"]) == ([2, 1], False, NEEDS_ROLLBACK)
    swapped_back = status.status_view(_blue_green("blue", green_steady=False), NOW)
    assert (swapped_back["steady"], swapped_back["action"]) == (False, OK)


def _strptime_time(timestamp):
    try:
        return datetime.strptime(timestamp or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


@pytest.mark.parametrize("timestamp", [
    "2026-12-04T21:52:30Z", "1999-01-31T00:00:00Z", "2024-02-29T23:59:59Z", "2023-02-29T10:00:00Z",
    "2026-00-04T10:00:00Z", "2026-13-04T10:00:00Z", "2026-12-00T10:00:00Z", "2026-12-32T10:00:00Z",
    "2026-12-04T24:00:00Z", "2026-12-04T10:60:00Z", "2026-12-04T10:00:60Z", "2026-12-04T10:00:61Z",
    "0000-12-04T10:00:00Z", "2026-1-4T1:2:3Z", "2026-12-04T10:00:00.5Z", "2026-12-04T10:00:00+00:00",
    "2026-12-04 10:00:00Z", "2026-12-04T10:00:00z", "٢٠٢٦-12-04T10:00:00Z", "2026-12-04T10:00:00Z\n", "", None])
def test_parse_time_reads_what_strptime_reads(timestamp):
    # The API server's form is read without strptime (its import is start-up time); every string
    # gives the datetime, or the None, that strptime's "%Y-%m-%dT%H:%M:%SZ" gives.
    assert action.parse_time(timestamp) == _strptime_time(timestamp)

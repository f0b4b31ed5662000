"""A blue/green rollback stays visible, without a cluster: the swap-back the primary Service records
is read back, judged still in effect or not, shown by `status`, `history` and `list`, and a re-run
says "already rolled back"."""

import json

import pytest

from kubectl_harness_rollback import listing, status, views
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
from kubectl_harness_rollback.planner import PlanOptions, plan
from kubectl_harness_rollback.records.bookkeeping import audit_annotations
from kubectl_harness_rollback.strategies import swap_record

NS = "shop"
BLUE, GREEN = WorkloadRef("Deployment", "web-blue", NS), WorkloadRef("Deployment", "web-green", NS)
RECORD = {"by": "alice", "at": "2026-01-02T03:04:05Z", "release": "r", "fromRelease": 2, "toRelease": 1,
          "revisions": {}, "fromColor": "green", "toColor": "blue"}


def annotation(**changes) -> dict:
    return {"harness.io/last-rollback": json.dumps({**RECORD, **changes})}


def state(ref, color):
    revision = Revision(ref, 1, (), "ReplicaSet", f"{ref.name}-1", (f"{color}:1",))
    raw = {"metadata": {"name": ref.name, "generation": 1}, "spec": {"replicas": 2},
           "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}}
    return WorkloadState(ref, "1", 1, (f"{color}:1",), [revision], replicas=2, labels={"harness.io/color": color},
                         raw=raw)


def model(primary_color="blue", record=None, status_2=Status.SUCCEEDED, environments=(None, None)):
    stage_color = "green" if primary_color == "blue" else "blue"
    primary_annotations = {"harness.io/primary-service": "true", **(record or {})}
    services = [ServiceState("web", NS, {"app": "web", "harness.io/color": primary_color}, primary_annotations, "7"),
                ServiceState("web-stage", NS, {"app": "web", "harness.io/color": stage_color},
                             {"harness.io/stage-service": "true"}, "8")]
    releases = [Release(2, status_2, [ReleaseWorkload(GREEN, 1)], Source.LEGACY, store="configmap/r",
                        bg_environment=environments[0]),
                Release(1, Status.SUCCEEDED, [ReleaseWorkload(BLUE, 1)], Source.LEGACY, store="configmap/r",
                        bg_environment=environments[1])]
    return ReleaseModel("r", NS, releases, {BLUE: state(BLUE, "blue"), GREEN: state(GREEN, "green")},
                        services=services)


@pytest.mark.parametrize("value, expected", [
    (json.dumps(RECORD), swap_record.SwapBack("r", "web", "alice", "2026-01-02T03:04:05Z", 2, 1, "green", "blue")),
    # Written before colors were recorded: the colors are unknown, the rest is read.
    (json.dumps({"by": "bob", "fromRelease": 4, "toRelease": 3}),
     swap_record.SwapBack(None, "web", "bob", None, 4, 3, None, None)),
    (json.dumps({**RECORD, "fromRelease": "2", "toRelease": True, "by": 7}),
     swap_record.SwapBack("r", "web", None, "2026-01-02T03:04:05Z", None, None, "green", "blue")),
    ("not json", None), ("[1, 2]", None), ("", None),
])
def test_the_record_is_read_from_the_annotation(value, expected):
    assert swap_record.read("web", {"harness.io/last-rollback": value}) == expected


def test_no_annotation_no_record():
    assert swap_record.read("web", None) is None and swap_record.read("web", {}) is None


@pytest.mark.parametrize("primary_color, latest, record, expected", [
    ("blue", 2, RECORD, True),
    ("green", 2, RECORD, False),  # swapped again since (by Harness, or by hand)
    ("blue", 3, RECORD, False),  # a release was deployed since
    ("green", 2, {**RECORD, "fromColor": None, "toColor": None}, True),  # no colors: judged by the release
    ("blue", 2, {**RECORD, "fromRelease": None}, False),
])
def test_a_swap_back_is_in_effect_until_something_moves(primary_color, latest, record, expected):
    read = swap_record.read("web", {"harness.io/last-rollback": json.dumps(record)})
    assert swap_record.in_effect(read, primary_color, latest) is expected


def test_the_swap_back_writes_its_colors_on_the_primary_service():
    m = model(primary_color="green")
    decided = plan(m, PlanOptions(from_release=2))
    record = json.loads(audit_annotations(decided, "alice", "2026-01-02T03:04:05Z")["harness.io/last-rollback"])
    assert (record["fromRelease"], record["toRelease"], record["fromColor"], record["toColor"]) == (2, 1, "green", "blue")


@pytest.mark.parametrize("options", [PlanOptions(from_release=2), PlanOptions()], ids=["from-release", "plain"])
def test_a_rerun_says_already_rolled_back_with_who_and_when(options):
    decided = plan(model(record=annotation()), options)
    assert not decided.has_changes and decided.eligible
    assert decided.reason == ("already rolled back: alice swapped service/web back from green to blue at "
                              "2026-01-02T03:04:05Z (release 2 → 1); nothing to do")
    assert not any("traffic never moved" in note for note in decided.notes)


def test_a_failed_release_swapped_back_says_so_too():
    decided = plan(model(record=annotation(), status_2=Status.FAILED), PlanOptions())
    assert decided.reason.startswith("already rolled back: alice swapped service/web back")


def test_a_swap_back_no_longer_in_effect_is_not_already_rolled_back():
    decided = plan(model(record=annotation(fromRelease=1, toRelease=0), status_2=Status.FAILED), PlanOptions())
    assert "already rolled back" not in decided.reason
    assert any("traffic never moved" in note for note in decided.notes)


def test_status_shows_the_swap_back_in_effect_only():
    assert status.status_view(model(record=annotation()))["swapBack"] == {
        "service": "web", "by": "alice", "at": "2026-01-02T03:04:05Z", "fromRelease": 2, "toRelease": 1,
        "fromColor": "green", "toColor": "blue"}
    assert status.status_view(model(primary_color="green", record=annotation()))["swapBack"] is None
    assert status.status_view(model())["swapBack"] is None


def test_history_tells_primary_and_stage_and_marks_the_release_swapped_out():
    rows = views.history_view(model(record=annotation()))
    assert [(r["number"], r["color"], r["role"]) for r in rows] == [(2, "green", "stage"), (1, "blue", "primary")]
    assert rows[0]["swappedBack"]["by"] == "alice" and "swappedBack" not in rows[1]


def test_history_falls_back_to_the_recorded_environment_for_a_release_no_workload_runs():
    m = model(environments=("stage", "primary"))
    m.workloads[GREEN].revisions[0] = Revision(GREEN, 2, (), "ReplicaSet", "web-green-2", ("green:2",))
    m.workloads[GREEN].current_revision = 2  # a later deploy runs now; release 2's revision does not
    rows = views.history_view(m)
    assert [(r["number"], r["role"]) for r in rows] == [(2, "stage"), (1, "primary")]


def service_dict(name, color, record=None, namespace=NS):
    return {"metadata": {"name": name, "namespace": namespace, "annotations": record or {}},
            "spec": {"selector": {"app": "web", "harness.io/color": color}}}


@pytest.mark.parametrize("color, latest, expected", [("blue", 2, True), ("green", 2, False), ("blue", 3, False)])
def test_list_adds_the_swap_back_in_effect(color, latest, expected):
    rows = [{"namespace": NS, "release": "r", "latest": latest}, {"namespace": NS, "release": "other", "latest": 2}]
    listing.add_swap_backs(rows, [service_dict("web", color, annotation()), service_dict("web-stage", "green")])
    assert (rows[0]["swapBack"] is not None) is expected and rows[1]["swapBack"] is None
    if expected:
        assert (rows[0]["swapBack"]["by"], rows[0]["swapBack"]["toColor"]) == ("alice", "blue")


def test_list_reads_services_only_in_namespaces_with_a_blue_green_workload():
    colored = {"metadata": {"namespace": "a"}, "spec": {"template": {"metadata": {"labels": {"harness.io/color": "blue"}}}}}
    plain = {"metadata": {"namespace": "b"}, "spec": {"template": {"metadata": {"labels": {"app": "x"}}}}}
    assert listing.blue_green_namespaces([("Deployment", colored), ("Deployment", plain)]) == {"a"}


def test_list_sends_one_more_request_only_where_a_workload_is_blue_green():
    from kubectl_harness_rollback.cluster.rest import Rest
    from tests.unit.test_list_at_scale import fleet

    counts = {}
    for blue_green in (False, True):
        cluster = fleet(namespaces=3, releases_each=4)
        if blue_green:
            deployment = cluster.objects["deployments"][0]
            deployment["spec"]["template"]["metadata"]["labels"]["harness.io/color"] = "blue"
            cluster.add("services", service_dict("web", "blue", annotation(release="rel-0-0", fromRelease=2),
                                                 namespace="team-0"))
        rows, warnings = listing.read_catalog(Rest("https://127.0.0.1:1", cluster), None)
        assert warnings == []
        counts[blue_green] = len(cluster.sent)
        assert [row["release"] for row in rows if row["swapBack"]] == (["rel-0-0"] if blue_green else [])
    assert counts[True] == counts[False] + 1  # one list of Services, across every namespace


def test_a_record_of_another_release_on_the_same_service_is_not_this_ones():
    other = model(record=annotation(release="someone-else"))
    assert status.status_view(other)["swapBack"] is None
    assert "already rolled back" not in plan(other, PlanOptions(from_release=2)).reason

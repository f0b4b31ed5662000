"""What is live: the release whose revision each workload runs now, since when, and the last rollback."""

import json

import pytest

from kubectl_harness_rollback import live_release, status, views
from kubectl_harness_rollback.harness_names import LAST_ROLLBACK_ANNOTATION
from kubectl_harness_rollback.model import (
    Release,
    ReleaseModel,
    ReleaseWorkload,
    Revision,
    Source,
    Status,
    WorkloadRef,
    WorkloadState,
)

NS = "shop"
WEB = WorkloadRef("Deployment", "web", NS)
CREATED = {1: "2026-01-01T10:00:00Z", 2: "2026-01-01T11:00:00Z", 3: "2026-01-01T12:00:00Z"}


def revision(number, image, previous=(), created=None):
    raw = {"metadata": {"name": f"web-{image}", "creationTimestamp": created}}
    return Revision(WEB, number, previous, "ReplicaSet", f"web-{image}", (f"web:{image}",), raw=raw)


def release(number, status, recorded, **extra):
    return Release(number, Status(status), [ReleaseWorkload(WEB, recorded)], Source.LEGACY, store="configmap/r", **extra)


def web(current, revisions, annotations=None, status_=None):
    raw = {"metadata": {"name": "web", "namespace": NS, "generation": 2},
           "spec": {"replicas": 2}, "status": status_ or {"observedGeneration": 2, "replicas": 2,
                                                          "updatedReplicas": 2, "availableReplicas": 2}}
    images = next(r.images for r in revisions if r.number == current)
    return WorkloadState(WEB, "1", current, images, revisions, annotations=dict(annotations or {}), raw=raw)


def model(state, *releases):
    return ReleaseModel("r", NS, list(releases), {WEB: state})


def audit(to_release, to_revision, image, by="alice", at="2026-01-01T13:00:00Z"):
    return {LAST_ROLLBACK_ANNOTATION: json.dumps({
        "by": by, "at": at, "release": "r", "fromRelease": 3, "toRelease": to_release,
        "revisions": {"deployment/web": {"from": 3, "to": to_revision, "images": [f"web:{image}"]}}})}


# After kubectl's undo to revision 2 the ReplicaSet is revision 4 (revision-history "2").
ROLLED_BACK = [revision(1, "1", created=CREATED[1]), revision(3, "3", created=CREATED[3]),
               revision(4, "2", previous=(2,), created=CREATED[2])]


@pytest.mark.parametrize("state, releases, expected", [
    # A failed rollout still runs the failed release's template: it is what is live.
    (web(3, [revision(2, "2"), revision(3, "3")]), [release(3, "Failed", 3), release(2, "Succeeded", 2)], 3),
    # Rolled back, the history not written back yet: the renumbered revision still answers to 2.
    (web(4, ROLLED_BACK), [release(3, "Failed", 3), release(2, "Succeeded", 2)], 2),
    # Rolled back and recorded: release 2 now records revision 4.
    (web(4, ROLLED_BACK), [release(3, "Failed", 3), release(2, "Succeeded", 4)], 2),
    # A later release deployed the same template again (the ReplicaSet is reused, renumbered):
    # the release that records the current number itself is the one live.
    (web(4, ROLLED_BACK), [release(4, "Succeeded", 4), release(3, "Failed", 3), release(2, "Succeeded", 2)], 4),
    # No release records what runs (someone ran `kubectl set image`).
    (web(3, [revision(2, "2"), revision(3, "3")]), [release(2, "Succeeded", 2)], None),
], ids=["failed-rollout", "rolled-back-unrecorded", "rolled-back-recorded", "redeployed-template", "unrecorded"])
def test_the_release_live_on_a_workload(state, releases, expected):
    chosen, _ = live_release.live_release(model(state, *releases), state)
    assert (chosen.number if chosen else None) == expected


def test_the_last_rollback_names_the_live_release_and_since_when():
    state = web(4, ROLLED_BACK, audit(2, 2, "2"))
    # Releases 4 and 2 both answer to revision 4; the rollback says which one it restored.
    releases = [release(4, "Succeeded", 2), release(3, "Failed", 3), release(2, "Succeeded", 4)]
    [row] = live_release.live_workloads(model(state, *releases))
    assert (row.release, row.revision, row.images, row.since) == (2, 4, ("web:2",), "2026-01-01T13:00:00Z")
    assert row.last_rollback.text == "rolled back by alice at 2026-01-01T13:00:00Z, 3 → 2"
    assert row.last_rollback.view() == {"by": "alice", "at": "2026-01-01T13:00:00Z", "fromRelease": 3,
                                        "toRelease": 2}


def test_a_rollback_no_longer_in_effect_is_not_shown():
    # Rolled back to 2, then release 5 deployed revision 5: the annotation stays on the object.
    revisions = ROLLED_BACK + [revision(5, "5", created="2026-01-01T14:00:00Z")]
    state = web(5, revisions, audit(2, 2, "2"))
    [row] = live_release.live_workloads(model(state, release(5, "Succeeded", 5), release(2, "Succeeded", 4)))
    assert (row.release, row.last_rollback, row.since) == (5, None, "2026-01-01T14:00:00Z")


@pytest.mark.parametrize("value", ["", "not json", "[]", '{"revisions": "x"}', '{"by": 3}'])
def test_an_unreadable_audit_annotation_is_ignored(value):
    state = web(4, ROLLED_BACK, {LAST_ROLLBACK_ANNOTATION: value})
    [row] = live_release.live_workloads(model(state, release(3, "Failed", 3), release(2, "Succeeded", 4)))
    assert row.release == 2 and row.since == CREATED[2]


def test_history_view_marks_the_live_release_and_when_each_was_deployed():
    state = web(4, ROLLED_BACK, audit(2, 2, "2"))
    rows = views.history_view(model(state, release(3, "Failed", 3), release(2, "Succeeded", 4),
                                    release(1, "Succeeded", 1)))
    assert [(r["number"], r["live"], [w["live"] for w in r["workloads"]], r["updated"]) for r in rows] == [
        (3, False, [False], CREATED[3]), (2, True, [True], CREATED[2]), (1, False, [False], CREATED[1])]
    assert rows[1]["rolledBack"]["toRelease"] == 2 and "rolledBack" not in rows[0]


def test_declarative_release_is_live_where_its_manifest_images_run():
    manifest = {"kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}}}}
    state = web(4, ROLLED_BACK)
    releases = [Release(3, Status.FAILED, [ReleaseWorkload(WEB, None)], Source.DECLARATIVE, manifests=[]),
                Release(2, Status.SUCCEEDED, [ReleaseWorkload(WEB, None)], Source.DECLARATIVE, manifests=[manifest])]
    assert live_release.live_release(model(state, *releases), state)[0].number == 2


def test_status_is_not_steady_while_the_rollout_goes_on_or_has_stalled():
    going = web(4, ROLLED_BACK, status_={"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1,
                                         "availableReplicas": 2})
    view = status.status_view(model(going, release(2, "Succeeded", 4)))
    assert view["steady"] is False and view["liveReleases"] == [2]
    assert view["workloads"][0]["message"] == ('Waiting for deployment "web" rollout to finish: 1 out of 2 new '
                                               "replicas have been updated...")
    stalled = web(3, [revision(2, "2"), revision(3, "3")], status_={
        "observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 2,
        "conditions": [{"type": "Progressing", "reason": "ProgressDeadlineExceeded",
                        "message": 'ReplicaSet "web-3" has timed out progressing.'}]})
    view = status.status_view(model(stalled, release(3, "Failed", 3)))
    assert view["workloads"][0]["message"] == 'deployment "web" exceeded its progress deadline'
    assert str(status.not_steady(view)) == ('release r is not steady: deployment/web: deployment "web" exceeded '
                                            "its progress deadline")


def test_a_deadline_left_over_from_a_replica_set_no_longer_run_is_not_this_rollout():
    steady = web(4, ROLLED_BACK, status_={"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
                                          "availableReplicas": 2, "conditions": [{
                                              "type": "Progressing", "reason": "ProgressDeadlineExceeded",
                                              "message": 'ReplicaSet "web-3" has timed out progressing.'}]})
    assert status.status_view(model(steady, release(2, "Succeeded", 4)))["steady"] is True


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds

    def changed_after(self, every):
        """A `changed` for status.watch: something changes each `every` seconds."""
        def changed(model, seconds):
            self.sleep(every if seconds is None else min(every, seconds))
        return changed


def test_watch_reads_until_steady_and_shows_each_change():
    going = web(4, ROLLED_BACK, status_={"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1,
                                         "availableReplicas": 2})
    models = iter([model(going, release(2, "Succeeded", 4))] * 3 + [model(web(4, ROLLED_BACK),
                                                                          release(2, "Succeeded", 4))])
    shown, clock = [], FakeClock()
    view = status.watch(lambda: next(models), None, shown.append, every=True, changed=clock.changed_after(1.0),
                        clock=clock.monotonic)
    assert view["steady"] and [v["steady"] for v in shown] == [False, True] and clock.now == 3.0


def test_watch_gives_up_at_the_timeout_and_shows_the_last_view_once():
    going = web(4, ROLLED_BACK, status_={"observedGeneration": 1})
    shown, clock, reads = [], FakeClock(), []

    def read():
        reads.append(clock.now)
        return model(going, release(2, "Succeeded", 4))
    view = status.watch(read, 2.5, shown.append, every=False, changed=clock.changed_after(1.0), clock=clock.monotonic)
    assert not view["steady"] and len(shown) == 1 and reads == [0.0, 1.0, 2.0, 2.5]


def test_status_of_a_release_whose_workloads_are_gone_says_so():
    view = status.status_view(ReleaseModel("r", NS, [release(2, "Succeeded", 2)], {}))
    assert (view["steady"], view["workloads"], view["liveReleases"]) == (True, [], [])
    assert view["notes"] == ["no workload of release r exists in namespace shop"]


def test_status_watch_follows_the_kinds_it_shows_and_wakes_only_for_the_release():
    from kubectl_harness_rollback.status_watch import Changes, collections

    state = web(4, ROLLED_BACK)
    state.raw["metadata"]["uid"] = "uid-web"
    shown = model(state, release(2, "Succeeded", 4))
    assert [r.plural for r in collections(shown)] == ["deployments", "replicasets"]
    changes = Changes(kube=None)
    changes.release, changes.names, changes.uids = "r", frozenset({("deployments", "web")}), frozenset({"uid-web"})
    assert changes._shown("deployments", {"metadata": {"name": "web"}})
    assert changes._shown("replicasets", {"metadata": {"name": "web-5", "ownerReferences": [{"uid": "uid-web"}]}})
    assert changes._shown("deployments", {"metadata": {"name": "api"},  # joins the release
                                          "spec": {"template": {"metadata": {"labels": {
                                              "harness.io/release-name": "r"}}}}})
    assert not changes._shown("deployments", {"metadata": {"name": "other"}})
    assert not changes._shown("replicasets", {"metadata": {"name": "other-1", "ownerReferences": [{"uid": "x"}]}})


def test_only_a_rollback_its_numbers_do_not_confirm_needs_the_current_revisions_images():
    assert live_release.revision_needing_images(web(4, ROLLED_BACK)) is None  # no rollback recorded
    assert live_release.revision_needing_images(web(4, ROLLED_BACK, audit(2, 2, "2"))) is None  # 4 answers to 2
    later = ROLLED_BACK + [revision(5, "5")]
    assert live_release.revision_needing_images(web(5, later, audit(2, 2, "2"))).number == 5


def _replica_set(number, image, history=""):
    return {"metadata": {"name": f"web-{number}", "namespace": NS, "creationTimestamp": f"2026-01-0{number}T00:00:00Z",
                         "ownerReferences": [{"uid": "u-web", "controller": True}],
                         "annotations": {"deployment.kubernetes.io/revision": str(number),
                                         "deployment.kubernetes.io/revision-history": history}},
            "spec": {"replicas": 0, "template": {"spec": {"containers": [{"name": "web", "image": image}]}}}}


@pytest.mark.parametrize("current, restored, read", [
    (4, {"from": 3, "to": 2, "images": ["web:2"]}, set()),  # revision 4 answers to 2: numbers suffice
    (5, {"from": 3, "to": 2, "images": ["web:2"]}, {(NS, "web-5")}),  # images decide: read web-5 in full
])
def test_list_reads_the_replica_sets_as_metadata_and_says_the_same(current, restored, read):
    """`list` joins metadata-only ReplicaSets (plus the few it reads in full) and shows exactly
    what the whole objects would show."""
    from kubectl_harness_rollback import listing

    sets = [_replica_set(1, "web:1"), _replica_set(3, "web:3"), _replica_set(4, "web:2", "2"),
            _replica_set(5, "web:2")]
    record = {"by": "alice", "at": "2026-01-09T00:00:00Z", "fromRelease": 3, "toRelease": 2,
              "revisions": {"deployment/web": restored}}
    deployment = {"metadata": {"name": "web", "namespace": NS, "uid": "u-web", "labels": {"harness.io/release-name": "r"},
                               "annotations": {"deployment.kubernetes.io/revision": str(current),
                                               LAST_ROLLBACK_ANNOTATION: json.dumps(record)}},
                  "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}}}}
    workloads = [("Deployment", deployment)]
    metadata = [{"metadata": rs["metadata"]} for rs in sets]
    assert listing.bare_replica_sets(metadata) == set()
    assert listing.current_revisions_to_read(workloads, metadata) == read
    partly = [rs if (NS, rs["metadata"]["name"]) in read else {"metadata": rs["metadata"]} for rs in sets]
    rows = {}
    for name, children in (("whole", sets), ("metadata", partly)):
        rows[name] = listing.catalog(workloads, [], [])
        listing.add_live(rows[name], workloads, children, [], [])
    assert rows["metadata"] == rows["whole"] and rows["whole"][0]["lastRollback"]["toRelease"] == 2


def test_list_decodes_each_history_once(monkeypatch):
    """`list` showed the latest release from one decoding of a history and what is live from a
    second one: an expensive history cost twice."""
    import base64 as base64_module
    import gzip as gzip_module

    from kubectl_harness_rollback import listing as catalog_module
    from kubectl_harness_rollback.records import history_codec

    text = "version: v1\nreleases:\n- number: 1\n  status: Succeeded\n"
    config_map = {"metadata": {"name": "rel", "namespace": "shop", "resourceVersion": "1"},
                  "data": {"releaseHistory": base64_module.b64encode(gzip_module.compress(text.encode())).decode(),
                           "isReleaseHistoryCompressed": "true"}}
    web = {"metadata": {"name": "web", "namespace": "shop", "uid": "d1", "labels": {"harness.io/release-name": "rel"},
                        "annotations": {"deployment.kubernetes.io/revision": "1"}},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "web", "image": "web:1"}]}}}}
    objects = {"deployments": [web], "configmaps": [config_map]}

    class Kube:
        def list(self, resource, namespace, **_):
            return objects.get(resource.plural, [])

    calls = []
    real = history_codec.decode_history
    monkeypatch.setattr(history_codec, "decode_history", lambda *args: calls.append(args) or real(*args))
    rows, _ = catalog_module.read_catalog(Kube(), None)
    assert [(r["release"], r["latest"]) for r in rows] == [("rel", 1)] and "live" in rows[0]
    assert len(calls) == 1

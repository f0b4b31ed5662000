"""A deploy that overtook a rollback: what the record step and the next run decide (pure parts).

Harness applies a release's manifests, then saves it InProgress, then Succeeded once steady
(K8sRollingRequestHandler.executeTaskInternal, harness-core 930-delegate-tasks/.../delegate/k8s/
K8sRollingRequestHandler.java, lines ~115-150 at commit 088916d): a rollback racing it can leave
release 4 recorded Succeeded while release 2's revision runs.
"""

import pytest

from kubectl_harness_rollback import overtaken
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
from kubectl_harness_rollback.planner import PlanOptions, RecordDisagrees, WorkloadChange, plan

NS = "shop"
WEB = WorkloadRef("Deployment", "web", NS)
S, F, P = Status.SUCCEEDED, Status.FAILED, Status.IN_PROGRESS


def raced(latest_status, running=5):
    """Releases 1-2 Succeeded, 3 Failed, 4 (the deploy that raced) with `latest_status`; revision 2
    was renumbered 5 by the rollback, which is what runs (`running`)."""
    releases = [Release(n, s, [ReleaseWorkload(WEB, r)], Source.LEGACY, store="configmap/release-x")
                for n, s, r in ((4, latest_status, 4), (3, F, 3), (2, S, 2), (1, S, 1))]
    kept = [Revision(WEB, 1, (), "ReplicaSet", "web-1", ("web:1",)),
            Revision(WEB, 3, (), "ReplicaSet", "web-3", ("web:3",)),
            Revision(WEB, 4, (), "ReplicaSet", "web-4", ("web:4",)),
            Revision(WEB, 5, (2,), "ReplicaSet", "web-2", ("web:2",))]
    images = next(r.images for r in kept if r.number == running)
    state = WorkloadState(WEB, "100", running, images, kept)
    return ReleaseModel("release-x", NS, releases, {WEB: state})


def test_a_succeeded_latest_release_whose_workload_runs_another_release_is_not_nothing_to_do():
    with pytest.raises(RecordDisagrees) as refused:
        plan(raced(S), PlanOptions())
    message = str(refused.value)
    assert message.startswith("the latest release 4 is recorded Succeeded, but deployment/web runs revision 5 "
                              "(release 2's), not release 4's revision 4: the record and the cluster disagree")
    assert "kubectl harness-rollback rollback release-x -n shop --from-release 4" in message
    assert refused.value.exit_code == 1


def test_a_succeeded_latest_release_that_runs_what_it_recorded_is_nothing_to_do():
    result = plan(raced(S, running=4), PlanOptions())
    assert result.target is None and result.eligible and result.reason.startswith("no failed release found")


def test_from_release_of_the_raced_release_records_what_runs():
    result = plan(raced(S), PlanOptions(from_release=4))
    assert result.target.number == 2 and not result.has_changes  # already runs it: the run only records


def test_an_in_progress_raced_release_is_rolled_back_to_what_already_runs():
    result = plan(raced(P), PlanOptions())
    assert result.current.number == 4 and result.target.number == 2 and not result.has_changes


def test_a_revision_no_release_records_is_said_so():
    model = raced(S)
    state = model.workloads[WEB]
    state.revisions.append(Revision(WEB, 6, (), "ReplicaSet", "web-6", ("web:hotfix",)))
    state.current_revision = 6
    with pytest.raises(RecordDisagrees, match="runs revision 6 \\(no release records it\\), not release 4's"):
        plan(model, PlanOptions())


def change(images):
    return WorkloadChange(WEB, 4, 5, 2, ("web:4",), tuple(images), None)


def deployment(image):
    return {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}}


class Plan:
    def __init__(self, workloads):
        self.workloads = workloads


def test_a_workload_that_runs_what_was_restored_is_not_overtaken():
    assert overtaken.not_restored(Plan([change(["web:2"])]), {WEB: deployment("web:2")}) == []
    assert overtaken.not_restored(Plan([change(["web:2"])]), {}) == []


def test_a_workload_changed_after_the_rollbacks_write_is_named():
    assert overtaken.not_restored(Plan([change(["web:2"])]), {WEB: deployment("web:4")}) == [
        "deployment/web runs web:4, not the restored web:2"]


class FakeKube:
    """The two reads newer_release makes: the history object by name, the release Secrets' labels."""

    def __init__(self, history=None, secrets=(), forbidden=False, listed=None):
        self.history, self.secrets, self.forbidden, self.calls = history, list(secrets), forbidden, []
        self.listed = dict(listed or {})  # Rest.listed: the resourceVersion of each path's last list

    def get_or_none(self, resource, name, namespace):
        self.calls.append(("get", resource.plural, name))
        return self.history

    def list(self, resource, namespace, label_selector=None, metadata_only=False, field_selector=None,
             not_older_than=None):
        assert field_selector == "type=harness.io/release/v2"  # only Secrets of the release type are releases
        self.calls.append(("list", resource.plural, label_selector, metadata_only))
        self.not_older_than = not_older_than
        if self.forbidden:
            from kubectl_harness_rollback.cluster.apierrors import Forbidden
            raise Forbidden("forbidden", 403, "", "list", "secrets")
        return self.secrets


def stored(releases, version):
    from kubectl_harness_rollback.model import HistoryStore
    from kubectl_harness_rollback.records import history_codec

    doc = {"version": "v1", "releases": [{"number": n, "status": s, "managedWorkloads": []} for n, s in releases]}
    data = history_codec.encode_history(doc, "ConfigMap", False)
    return HistoryStore("ConfigMap", "release-x", NS, False, version, doc), {
        "metadata": {"name": "release-x", "resourceVersion": version}, "data": data}


def test_a_release_saved_in_the_history_meanwhile_is_found():
    model = raced(P)
    model.history_store, _ = stored([(4, "InProgress"), (3, "Failed")], "7")
    _, now = stored([(5, "InProgress"), (4, "InProgress"), (3, "Failed")], "8")
    kube = FakeKube(history=now)
    assert overtaken.newer_release(kube, model) == (5, "configmap/release-x")
    assert overtaken.newer_release(FakeKube(history=now), model, history=False) is None  # the write's guard does it


def test_an_unchanged_history_is_not_decoded_again():
    model = raced(P)
    model.history_store, same = stored([(4, "InProgress")], "7")
    same["data"] = {"releaseHistory": "not yaml: ["}  # would be corrupt, were it read
    assert overtaken.newer_release(FakeKube(history=same), model) is None


def test_a_newer_declarative_release_secret_is_found_by_its_label_alone():
    model = raced(P)
    secrets = [{"metadata": {"name": f"harness.release.release-x.{n}", "labels": {"release-number": str(n)}}}
               for n in (3, 5)] + [{"metadata": {"name": "odd", "labels": {"release-number": "²"}}}]
    kube = FakeKube(secrets=secrets)
    assert overtaken.newer_release(kube, model) == (5, "secret/harness.release.release-x.5")
    assert kube.calls == [("list", "secrets", "owner=harness,release=release-x", True)]


def test_the_release_secrets_are_asked_at_least_as_new_as_the_plan_listed_them():
    # Answered from the API server's watch cache at once, where a consistent list waits until that
    # cache has caught up with the rollback's own writes; tests/adversarial/test_deploy_race.py
    # checks on the real control plane that a release Secret saved during the wait is still found.
    model = raced(P)
    kube = FakeKube(listed={f"/api/v1/namespaces/{NS}/secrets": "4711"})
    overtaken.newer_release(kube, model)
    assert kube.not_older_than == "4711"
    unlisted = FakeKube()
    overtaken.newer_release(unlisted, model)
    assert unlisted.not_older_than is None  # never listed (forbidden, or no records): as of now


def test_secrets_that_may_not_be_listed_are_left_out():
    assert overtaken.newer_release(FakeKube(forbidden=True), raced(P)) is None

"""The rollback-to decision, table-driven: many histories in, the expected target out."""

import pytest

from kubectl_harness_rollback.errors import UsageError
from kubectl_harness_rollback.model import (
    Identity,
    InfraMapping,
    Release,
    ReleaseModel,
    ReleaseWorkload,
    Revision,
    Source,
    Status,
    WorkloadRef,
    WorkloadState,
)
from kubectl_harness_rollback.planner import (
    PlanOptions,
    PrunedRevision,
    UnknownRelease,
    UnrestorableWorkload,
    plan,
    way_back,
)

NS = "shop"
WEB = WorkloadRef("Deployment", "web", NS)
INFRA = InfraMapping("svc", "infra", "prod", NS)
OTHER_INFRA = InfraMapping("svc", "infra-2", "prod", NS)
S, F, P = Status.SUCCEEDED, Status.FAILED, Status.IN_PROGRESS


def who(workflow, infra=INFRA):
    return Identity(workflow, infra)


def model(history, revisions=None, current_revision=None, limit=10):
    """history: [(number, status, workflow or Identity or None, revision)], any order.
    revisions: [(number, previous numbers)] kept in the cluster; default: one per release."""
    releases = []
    for number, status, identity, revision in history:
        if isinstance(identity, str):
            identity = who(identity)
        releases.append(Release(number, status, [ReleaseWorkload(WEB, revision)], Source.LEGACY, identity,
                                store="configmap/r"))
    releases.sort(key=lambda r: r.number, reverse=True)
    if revisions is None:
        revisions = [(r.workloads[0].revision, ()) for r in releases if r.workloads[0].revision is not None]
    kept = [Revision(WEB, n, tuple(prev), "ReplicaSet", f"web-{n}", (f"web:{n}",)) for n, prev in sorted(set(
        (n, tuple(p)) for n, p in revisions))]
    current = current_revision if current_revision is not None else max((n for n, _ in revisions), default=None)
    state = WorkloadState(WEB, "100", current, (f"web:{current}",), kept, revision_history_limit=limit)
    return ReleaseModel("release-x", NS, releases, {WEB: state})


# (history, options, expected target release, expected eligible)
CASES = {
    "last succeeded before a failure": (
        [(1, S, "w1", 1), (2, S, "w1", 2), (3, F, "w1", 3)], {}, 2, True),
    "skips failed releases": (
        [(1, S, "w1", 1), (2, F, "w1", 2), (3, F, "w1", 3)], {}, 1, True),
    "in-progress current is rolled back": (
        [(1, S, "w1", 1), (2, P, "w1", 2)], {}, 1, True),
    "w1/w2 by workflow": (
        [(3, S, "w1", 3), (4, S, "w2", 4), (5, F, "w1", 5)], {}, 3, True),
    "w1/w2 by infrastructure": (
        [(3, S, "w1", 3), (4, S, "w2", 4), (5, F, "w1", 5)], {"match": "infra"}, 4, True),
    "another infra mapping never matches": (
        [(1, S, who("w1", OTHER_INFRA), 1), (2, F, "w1", 2)], {"match": "infra"}, None, False),
    "--workflow-id overrides the failed release's workflow": (
        [(3, S, "w1", 3), (4, S, "w2", 4), (5, F, "w1", 5)], {"workflow_id": "w2"}, 4, True),
    "first deployment failed": (
        [(1, F, "w1", 1)], {}, None, False),
    "only other workflows succeeded": (
        [(1, S, "w2", 1), (2, F, "w1", 2)], {}, None, False),
    "succeeded latest: nothing to do": (
        [(1, S, "w1", 1), (2, S, "w1", 2)], {}, None, True),
    "succeeded latest with --to-release": (
        [(1, S, "w1", 1), (2, S, "w1", 2)], {"to_release": 1}, 1, True),
    "no identity anywhere: release name ties them": (
        [(1, S, None, 1), (2, F, None, 2)], {}, 1, True),
    "unknown identity on a candidate: the release name ties them": (
        [(1, S, None, 1), (2, F, "w1", 2)], {}, 1, True),
    "no statuses: kubectl's previous revision": (
        [(1, None, None, 1), (2, None, None, 2), (3, None, None, 3)], {}, 2, True),
    "no statuses and a single release": (
        [(1, None, None, 1)], {}, None, False),
}


@pytest.mark.parametrize("history, options, expected, eligible", CASES.values(), ids=CASES.keys())
def test_rollback_to(history, options, expected, eligible):
    result = plan(model(history), PlanOptions(**options))
    assert (result.target.number if result.target else None) == expected
    assert result.eligible is eligible
    assert result.reason  # every outcome is explained in words


def test_w1_w2_plan_names_the_passed_over_release():
    result = plan(model([(3, S, "w1", 3), (4, S, "w2", 4), (5, F, "w1", 5)]), PlanOptions())
    assert any("4" in note and "--match infra" in note for note in result.notes)


PASSED = "succeeded releases deployed by another identity were passed over: "
SAME_MAPPING = "(another workflow on the same infrastructure mapping: --match infra would consider it)"

# (history, options, the note on passed-over releases, the way back when nothing is eligible)
PASSED_OVER = {
    "another workflow, same mapping: --match infra": (
        [(4, S, "w2", 4), (5, F, "w1", 5)], {}, f"{PASSED}4 {SAME_MAPPING}", "--match infra"),
    "another mapping: --match infra would not help, --to-release does": (
        [(4, S, who("w1", OTHER_INFRA), 4), (5, F, "w1", 5)], {},
        f"{PASSED}4 (another infrastructure mapping: only --to-release 4 rolls back to it)", "--to-release 4"),
    "already matching by infra: only --to-release": (
        [(4, S, who("w2", OTHER_INFRA), 4), (5, F, "w1", 5)], {"match": "infra"},
        f"{PASSED}4 (another infrastructure mapping: only --to-release 4 rolls back to it)", "--to-release 4"),
    "both kinds, the newest on another mapping": (
        [(3, S, "w2", 3), (4, S, who("w2", OTHER_INFRA), 4), (5, F, "w1", 5)], {},
        f"{PASSED}3 {SAME_MAPPING}; 4 (another infrastructure mapping: only --to-release 4 rolls back to it)",
        "--to-release 4"),
    "found one: the note, no way back needed": (
        [(3, S, "w1", 3), (4, S, who("w1", OTHER_INFRA), 4), (5, F, "w1", 5)], {},
        f"{PASSED}4 (another infrastructure mapping: only --to-release 4 rolls back to it)", ""),
}


@pytest.mark.parametrize("history, options, note, way", PASSED_OVER.values(), ids=PASSED_OVER.keys())
def test_the_hint_on_passed_over_releases_names_the_option_that_reaches_them(history, options, note, way):
    result = plan(model(history), PlanOptions(**options))
    assert [n for n in result.notes if n.startswith(PASSED)] == [note]
    assert way_back(result) == way


def test_nothing_to_roll_back_to_names_the_plan_that_reaches_a_passed_over_release():
    from kubectl_harness_rollback.diagnosis import no_eligible

    result = plan(model([(4, S, who("w1", OTHER_INFRA), 4), (5, F, "w1", 5)]), PlanOptions())
    error = no_eligible(result.reason, "release-x", NS, way_back(result))
    assert str(error).endswith("; nothing to roll back to; next: kubectl harness-rollback plan release-x -n shop "
                               "--to-release 4")


def test_workload_change_shows_revisions_and_images():
    result = plan(model([(1, S, "w1", 1), (2, S, "w1", 2), (3, F, "w1", 3)]), PlanOptions())
    change, = result.workloads
    assert (change.ref, change.from_revision, change.to_revision) == (WEB, 3, 2)
    assert (change.from_images, change.to_images) == (("web:3",), ("web:2",))
    assert change.source.object_name == "web-2"
    assert result.has_changes


def test_revision_renumbered_by_an_earlier_rollback_is_found_through_its_history():
    # Release 1 recorded revision 1; a later undo renumbered that ReplicaSet to 4 ("1" in its history).
    history = [(1, S, "w1", 1), (2, F, "w1", 2), (3, F, "w1", 3)]
    result = plan(model(history, revisions=[(2, ()), (3, ()), (4, (1,))], current_revision=3), PlanOptions())
    change, = result.workloads
    assert (result.target.number, change.recorded_revision, change.to_revision) == (1, 1, 4)


def test_pruned_revision_names_the_revision_and_the_limit():
    history = [(1, S, "w1", 1), (2, F, "w1", 2)]
    with pytest.raises(PrunedRevision, match=r"revision 1 of deployment/web .* revisionHistoryLimit is 1 .* kept are 2"):
        plan(model(history, revisions=[(2, ())], limit=1), PlanOptions())


def test_current_template_already_matches_is_not_a_change():
    history = [(1, S, "w1", 1), (2, F, "w1", 2)]
    result = plan(model(history, revisions=[(2, ()), (3, (1,))], current_revision=3), PlanOptions())
    assert result.workloads[0].unchanged
    assert not result.has_changes


def test_to_revision_finds_the_release_that_deployed_it():
    result = plan(model([(1, S, "w1", 1), (2, S, "w1", 2), (3, F, "w1", 3)]), PlanOptions(to_revision=1))
    assert result.target.number == 1
    assert result.workloads[0].to_revision == 1


def test_to_release_that_does_not_exist():
    with pytest.raises(UnknownRelease, match="release 9 is not in the history of release-x"):
        plan(model([(1, S, "w1", 1), (2, F, "w1", 2)]), PlanOptions(to_release=9))


def test_to_release_and_to_revision_together_is_a_usage_error():
    with pytest.raises(UsageError):
        plan(model([(1, S, "w1", 1)]), PlanOptions(to_release=1, to_revision=1))


def test_to_release_of_a_failed_release_is_allowed_with_a_note():
    result = plan(model([(1, F, "w1", 1), (2, F, "w1", 2)]), PlanOptions(to_release=1))
    assert result.target.number == 1
    assert any("failed" in note for note in result.notes)


def test_workload_deleted_since_is_an_error_naming_it():
    m = model([(1, S, "w1", 1), (2, F, "w1", 2)])
    m.workloads.clear()
    with pytest.raises(Exception, match="deployment/web of release 1 no longer exists"):
        plan(m, PlanOptions())


def test_to_revision_that_no_release_records_is_still_a_target():
    # Revision 3 was made outside Harness (kubectl rollout); the history knows 1 and 2.
    result = plan(model([(1, S, "w1", 1), (2, F, "w1", 2)], revisions=[(1, ()), (2, ()), (3, ())], current_revision=2),
                  PlanOptions(to_revision=3))
    assert result.target.number is None and "no release records it" in result.reason
    assert (result.workloads[0].from_revision, result.workloads[0].to_revision) == (2, 3)
    assert result.has_changes


def test_stale_last_applied_configuration_is_pointed_out():
    m = model([(1, S, "w1", 1), (2, F, "w1", 2)])
    m.workloads[WEB].annotations["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
    assert any("last-applied-configuration" in note for note in plan(m, PlanOptions()).notes)


# Harness's own states: a succeeded release whose pipeline failed after its deploy step, and
# releases that recorded no revision.
FROM_RELEASE_CASES = {
    "succeeded latest without --from-release: nothing, with the command": (
        [(1, S, "w1", 1), (2, S, "w1", 2)], {}, None, True),
    "--from-release rolls back the succeeded latest release": (
        [(1, S, "w1", 1), (2, S, "w1", 2)], {"from_release": 2}, 1, True),
    "--from-release of a failed release is the default choice": (
        [(1, S, "w1", 1), (2, S, "w1", 2), (3, F, "w1", 3)], {"from_release": 3}, 2, True),
    "--from-release still matches the workflow": (
        [(1, S, "w1", 1), (2, S, "w2", 2), (3, S, "w1", 3)], {"from_release": 3}, 1, True),
    "--from-release of the first release: nothing to roll back to": (
        [(1, S, "w1", 1)], {"from_release": 1}, None, False),
}


@pytest.mark.parametrize("history, options, expected, eligible", FROM_RELEASE_CASES.values(),
                         ids=FROM_RELEASE_CASES.keys())
def test_from_release(history, options, expected, eligible):
    result = plan(model(history), PlanOptions(**options))
    assert (result.target.number if result.target else None) == expected
    assert result.eligible is eligible


def test_a_succeeded_latest_release_names_the_from_release_command():
    result = plan(model([(1, S, "w1", 1), (2, S, "w1", 2)]), PlanOptions())
    assert "kubectl harness-rollback rollback release-x -n shop --from-release 2" in result.reason


@pytest.mark.parametrize("number, error, message", [
    (1, UsageError, "--from-release 1 is not the latest release of release-x"),
    (7, UnknownRelease, "release 7 is not in the history of release-x"),
])
def test_from_release_must_be_the_latest_release(number, error, message):
    with pytest.raises(error, match=message):
        plan(model([(1, S, "w1", 1), (2, S, "w1", 2)]), PlanOptions(from_release=number))


def test_a_release_without_a_revision_restores_the_previous_revision():
    # Release 2 recorded `revision: ''`; Kubernetes keeps revisions 1, 2, 3 and runs 3.
    result = plan(model([(1, S, "w1", 1), (2, S, "w1", None), (3, F, "w1", 3)], revisions=[(1, ()), (2, ()), (3, ())]),
                  PlanOptions())
    change, = result.workloads
    assert (result.target.number, change.recorded_revision, change.to_revision) == (2, None, 2)
    assert any("release 2 recorded no revision for deployment/web: restoring the previous revision (2)" in note
               for note in result.notes)


def test_a_declarative_release_without_a_workflow_matches_a_legacy_one_on_the_same_mapping():
    """A declarative Secret records service and infrastructure, never a Workflow Id or a cluster name."""
    declarative = Identity(None, InfraMapping("svc", "infra", None, NS))
    result = plan(model([(1, S, "w1", 1), (2, F, declarative, 2)]), PlanOptions())
    assert result.target.number == 1


@pytest.mark.parametrize("kind", ["Rollout", "DeploymentConfig"])
def test_a_kind_the_plugin_cannot_restore_is_refused(kind):
    m = model([(1, S, "w1", 1), (2, F, "w1", 2)])
    m.releases[0].workloads.append(ReleaseWorkload(WorkloadRef(kind, "web", NS), None))
    with pytest.raises(UnrestorableWorkload, match=f"release 2 manages {kind} web"):
        plan(m, PlanOptions())


def test_a_workload_recorded_in_another_namespace_is_refused_naming_it():
    m = model([(1, S, "w1", 1), (2, F, "w1", 2)])
    m.releases[1].workloads = [ReleaseWorkload(WorkloadRef("Deployment", "web", "kube-system"), 1)]
    with pytest.raises(Exception, match="release 1 records deployment/web in namespace kube-system, not in shop"):
        plan(m, PlanOptions())

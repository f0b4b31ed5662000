"""Which Secrets are declarative releases, and which Secret a rollback records in (pure parts).

Harness selects release Secrets by label and type (K8sReleaseHandlerImpl.getReleaseHistory,
930-delegate-tasks/src/main/java/io/harness/helpers/k8s/releasehistory/K8sReleaseHandlerImpl.java:61-67).
"""

import pytest

from kubectl_harness_rollback import listing, planned_writes
from kubectl_harness_rollback.errors import CorruptHistory
from kubectl_harness_rollback.modes import Match, Mode
from kubectl_harness_rollback.planner import Plan
from kubectl_harness_rollback.records import bookkeeping
from kubectl_harness_rollback.records.assemble import ClusterObjects, assemble
from tests.unit.test_declarative import RELEASE_NAME, release_secret

NS = "shop"
DEPLOYMENT = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"


def api_secret(number, status, name=None, secret_type="harness.io/release/v2"):
    """A release Secret as the API returns it."""
    fields = release_secret(number, status, DEPLOYMENT)
    return {"metadata": {"name": name or fields["name"], "namespace": NS, "labels": fields["labels"],
                         "annotations": fields["annotations"]},
            "type": secret_type, "data": fields["data"]}


def model_of(*secrets):
    return assemble(ClusterObjects(RELEASE_NAME, NS, release_secrets=list(secrets)))


def test_a_secret_of_another_type_is_no_release_and_is_noted():
    impostor = api_secret(3, "Succeeded", secret_type="Opaque")
    model = model_of(api_secret(1, "Succeeded"), api_secret(2, "Failed"), impostor)
    assert [r.number for r in model.releases] == [2, 1]
    assert model.notes == [f"secret/{impostor['metadata']['name']} carries the labels of a release of {RELEASE_NAME} "
                           "but is not of type harness.io/release/v2: it is not a release, and is ignored (as Harness "
                           "ignores it)"]


def test_each_release_remembers_the_secret_it_was_read_from():
    model = model_of(api_secret(1, "Succeeded"), api_secret(2, "InProgress", name="harness.release.x.7"))
    assert [(r.number, r.secret) for r in model.releases] == [(2, "harness.release.x.7"),
                                                             (1, f"harness.release.{RELEASE_NAME}.1")]


def test_two_secrets_of_one_number_are_corrupt_naming_both():
    with pytest.raises(CorruptHistory) as raised:
        model_of(api_secret(2, "Failed", name="b.release"), api_secret(2, "Succeeded", name="a.release"))
    assert str(raised.value) == (f"declarative release secret/a.release and secret/b.release in namespace {NS} both "
                                 f"say they are release 2 of {RELEASE_NAME}; nothing was changed: delete the one that "
                                 "is not the release")


class Recording:
    def __init__(self):
        self.patched = []

    def patch(self, resource, name, namespace, body, patch_type, **kwargs):
        self.patched.append((resource.plural, name, body))


def test_bookkeeping_and_the_dry_run_name_the_secret_that_was_read():
    model = model_of(api_secret(1, "Succeeded"), api_secret(2, "InProgress", name="harness.release.x.7"))
    current, target = model.releases
    plan = Plan(RELEASE_NAME, NS, Mode.ROLLING, Match.WORKFLOW, current, target, [], "why")
    kube = Recording()
    from kubectl_harness_rollback.dryrun import DryRun

    done = bookkeeping.mark_declarative_failed(kube, model, plan, DryRun.NONE)
    assert kube.patched == [("secrets", "harness.release.x.7", {"metadata": {"labels": {"status": "Failed"}}})]
    assert done["name"] == "harness.release.x.7"
    assert bookkeeping.pending_records(model, plan, {}) == ["secret/harness.release.x.7"]
    assert planned_writes._records(model, plan)[-1]["name"] == "harness.release.x.7"


def test_list_tells_releases_by_their_type():
    """`list` reads Secrets as metadata (no type): one list of the release type marks the releases."""
    real = {"metadata": api_secret(2, "Failed")["metadata"]}
    impostor = {"metadata": {**api_secret(3, "Succeeded")["metadata"], "name": "harness.release.fake.3"}}
    marked = listing.with_release_types([real, impostor], [real])
    assert [listing.declarative_release_of(s) for s in marked] == [RELEASE_NAME, None]
    rows = listing.catalog([], [], marked)
    assert [(r["release"], r["latest"], r["status"]) for r in rows] == [(RELEASE_NAME, 2, "Failed")]

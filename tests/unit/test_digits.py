"""Numbers in the cluster's text are ASCII digits only, read by one helper (digits.natural).

`str.isdigit()` accepts "²" and int() then raises: one such annotation on any ReplicaSet broke
`list -A`, `plan`, `history` and `status` with `unexpected ValueError`. Harness itself parses
revisions with Integer.parseInt / Long.parseLong (ASCII digits with a sign), e.g.
960-api-services/.../k8s/releasehistory/K8sLegacyRelease.java; a sign is no revision here."""

import pytest

from kubectl_harness_rollback import digits, workloads
from kubectl_harness_rollback.listing import catalog
from kubectl_harness_rollback.records.assemble import ClusterObjects, assemble
from kubectl_harness_rollback.workloads.common import parse_revision_number


@pytest.mark.parametrize("text, number", [
    ("12", 12), (" 12 ", 12), (12, 12), ("0", 0),
    ("²", None), ("1²", None), ("٣", None), ("1_0", None), ("-1", None), ("+1", None), ("", None), (" ", None),
    ("1" * 19, None), (True, None), (-3, None), (None, None), (1.5, None), ("１", None),
])
def test_natural_reads_ascii_digits_only(text, number):
    assert digits.natural(text) == number


def test_naturals_skip_what_is_not_a_number():
    assert digits.naturals("1,²,3, 4,٣") == (1, 3, 4)
    assert digits.naturals(None) == ()


def test_kubectl_rule_for_the_revision_annotation():
    assert parse_revision_number(None) == 0 and parse_revision_number("7") == 7
    assert parse_revision_number("²") is None and parse_revision_number("٣") is None


def _deployment():
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "uid": "d1", "resourceVersion": "9",
                         "labels": {"harness.io/release-name": "rel"},
                         "annotations": {"deployment.kubernetes.io/revision": "2"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web", "harness.io/release-name": "rel"}},
                                  "spec": {"containers": [{"name": "web", "image": "web:2"}]}}}}


def _replica_set(number: int, **notes: str):
    return {"metadata": {"name": f"web-{number}", "namespace": "shop", "uid": f"r{number}",
                         "ownerReferences": [{"uid": "d1", "controller": True, "kind": "Deployment", "name": "web"}],
                         "annotations": {"deployment.kubernetes.io/revision": str(number), **notes}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "web", "image": f"web:{number}"}]}}}}


def test_a_unicode_digit_in_revision_history_or_release_number_is_passed_over():
    state = workloads.adapter_for("Deployment").state(_deployment(), [
        _replica_set(1, **{"deployment.kubernetes.io/revision-history": "²",
                           "harness.io/release-number": "²", "harness.io/release-status": "Succeeded"}),
        _replica_set(2, **{"harness.io/release-number": "٣", "harness.io/release-status": "Failed"})])
    assert [r.previous_numbers for r in state.revisions] == [(), ()]
    model = assemble(ClusterObjects("rel", "shop", workloads=[state]))
    # Not a number: the revision's own number stands in for the release's.
    assert [r.number for r in model.releases] == [2, 1]


def test_a_release_secret_labelled_with_a_unicode_digit_is_no_listed_release():
    secret = {"type": "harness.io/release/v2", "metadata": {"name": "harness.release.rel.²", "namespace": "shop",
                           "labels": {"owner": "harness", "release": "rel", "release-number": "²",
                                      "status": "Failed"}}}
    rows = catalog([], [], [secret])
    assert [(r["release"], r["latest"]) for r in rows] == [("rel", None)]

"""The rights a run used, read from its requests (tests/support/rights.py, which the RBAC matrix
trusts to leave rights out of its cluster runs)."""

import json

import pytest

from tests.support.rights import request_right, rights_used

NS = "/namespaces/shop"


@pytest.mark.parametrize("method, path, right", [
    ("GET", f"/apis/apps/v1{NS}/deployments", ("deployments", "list")),
    ("GET", f"/apis/apps/v1{NS}/deployments?labelSelector=a%3Db&limit=500", ("deployments", "list")),
    ("GET", f"/apis/apps/v1{NS}/deployments?fieldSelector=metadata.name%3Dweb&watch=1", ("deployments", "watch")),
    ("GET", f"/apis/apps/v1{NS}/deployments?watch=true", ("deployments", "watch")),
    ("GET", f"/apis/apps/v1{NS}/deployments/web", ("deployments", "get")),
    ("PATCH", f"/apis/apps/v1{NS}/deployments/web", ("deployments", "patch")),
    ("PATCH", f"/apis/apps/v1{NS}/deployments/web/scale", ("deployments/scale", "patch")),
    ("PUT", f"/api/v1{NS}/configmaps/x", ("configmaps", "update")),
    ("POST", f"/api/v1{NS}/events", ("events", "create")),
    ("DELETE", f"/api/v1{NS}/secrets/x", ("secrets", "delete")),
    ("DELETE", f"/api/v1{NS}/secrets", ("secrets", "deletecollection")),
    ("GET", f"/api/v1{NS}", ("namespaces", "get")),
    ("GET", "/api/v1/namespaces", None),  # cluster-scoped: no Role grants it
    ("GET", "/apis", None),
    ("GET", "/version", None),
])
def test_a_request_needs_the_right_rbac_checks(method, path, right):
    assert request_right(method, path) == right


def test_a_review_counts_as_the_right_it_asks_about():
    review = {"kind": "SelfSubjectAccessReview", "spec": {"resourceAttributes": {
        "namespace": "shop", "verb": "patch", "group": "", "resource": "configmaps"}}}
    seen = [("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", json.dumps(review).encode()),
            ("GET", f"/apis/apps/v1{NS}/replicasets", b"")]
    assert rights_used(seen) == {("configmaps", "patch"), ("replicasets", "list")}

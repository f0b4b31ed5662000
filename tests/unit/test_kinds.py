"""The kinds table: one place for what kubectl's RESTMapper knows of a kind, and nothing spelt twice."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import kubectl_harness_rollback
from kubectl_harness_rollback import kinds, workloads
from kubectl_harness_rollback.apply import reapply_scope
from kubectl_harness_rollback.cluster import rest

PACKAGE = Path(kubectl_harness_rollback.__file__).parent
# Where a kind may be named by a string: the table, and the adapters (one module per kind).
ALLOWED = {PACKAGE / "kinds.py"} | set((PACKAGE / "workloads").glob("*.py"))


def _sources(allowed=frozenset()):
    for path in sorted(PACKAGE.rglob("*.py")):
        if path not in allowed:
            yield path, ast.parse(path.read_text())


def _string_constants(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node


def test_no_kind_group_or_api_version_is_spelt_outside_the_table_and_the_adapters():
    # The whole value only: a message naming "a Secret" is prose, and comments are not code.
    spelt = set(kinds.BY_NAME) | {k.group for k in kinds.TABLE if k.group} | {
        k.api_version for k in kinds.TABLE if k.group}
    found = [f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {node.value!r}"
             for path, tree in _sources(ALLOWED) for node in _string_constants(tree) if node.value in spelt]
    assert found == [], "name the kind from kubectl_harness_rollback.kinds instead:\n" + "\n".join(found)


def test_no_plural_is_guessed_and_no_resource_is_spelt_by_hand():
    table = {k.plural for k in kinds.TABLE} | {k.group for k in kinds.TABLE if k.group}
    found = []
    for path, tree in _sources():
        where = path.relative_to(PACKAGE.parent)
        for node in ast.walk(tree):
            # `kind.lower() + "s"`: the table knows the plural (ingresses, networkpolicies).
            if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)
                    and isinstance(node.right, ast.Constant) and node.right.value == "s"):
                found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
            # Resource("apps", "v1", "deployments"): Resource.of(kinds.DEPLOYMENT) instead.
            if (isinstance(node, ast.Call) and ast.unparse(node.func).endswith("Resource")
                    and any(isinstance(arg, ast.Constant) and arg.value in table for arg in node.args)):
                found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    assert found == []


def test_the_table_names_each_kind_plural_and_alias_once():
    assert len(kinds.BY_NAME) == len(kinds.TABLE)
    resources = [(k.group, k.plural) for k in kinds.TABLE]
    assert len(set(resources)) == len(resources)
    aliases = [alias for k in kinds.TABLE for alias in k.aliases]
    assert len(set(aliases)) == len(aliases)
    for kind in kinds.TABLE:
        assert kind.plural == kind.plural.lower() and kind.name[0].isupper()


def test_what_kubectl_accepts_for_a_workload_kind():
    accepted = {"deploy": "Deployment", "deployments.apps": "Deployment", "deployment.v1.apps": "Deployment",
                "sts": "StatefulSet", "statefulsets": "StatefulSet", "ds.apps": "DaemonSet", "rs": "ReplicaSet",
                "replicaset.v1.apps": "ReplicaSet"}
    assert {text: workloads.canonical_kind(text) for text in accepted} == accepted
    assert "deploy.v1" not in workloads.KIND_ALIASES  # a version alone qualifies nothing


def test_every_workload_kind_of_the_table_has_its_adapter_declaring_it():
    assert tuple(workloads.ADAPTERS) == kinds.WORKLOAD_NAMES
    # Those keeping revisions first: the order they are read and named in.
    assert kinds.WORKLOAD_NAMES[:4] == ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
    for kind in kinds.WORKLOADS:
        adapter = importlib.import_module(f"kubectl_harness_rollback.workloads.{kind.singular}")
        assert workloads.adapter_for(kind.name) is adapter and adapter.KIND is kind
        assert adapter.has_revisions == (kind.revisions is not None)
        # A kind without revisions is restored by scaling the release's own object.
        assert (kind.restored_by == kinds.SCALE) == (kind.revisions is None)


@pytest.mark.parametrize("name", ["DEPLOYMENTS", "REPLICASETS", "CONTROLLERREVISIONS",
                                  "CONFIGMAPS", "SECRETS", "SERVICES", "EVENTS", "NAMESPACES", "SERVICEACCOUNTS",
                                  "PERSISTENTVOLUMECLAIMS", "PRIORITYCLASSES", "HORIZONTALPODAUTOSCALERS",
                                  "PODDISRUPTIONBUDGETS", "SELF_SUBJECT_ACCESS_REVIEWS", "SELF_SUBJECT_REVIEWS"])
def test_the_request_layers_resources_come_from_the_table(name):
    resource = getattr(rest, name)
    kind = next(k for k in kinds.TABLE if k.plural == resource.plural)
    assert resource == rest.Resource(kind.group, kind.version, kind.plural, kind.namespaced)


def test_the_resources_as_kubectl_maps_them():
    assert rest.DEPLOYMENTS.path("shop", "web") == "/apis/apps/v1/namespaces/shop/deployments/web"
    assert rest.HORIZONTALPODAUTOSCALERS.path("shop") == "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers"
    assert rest.NAMESPACES.path("shop", "shop") == "/api/v1/namespaces/shop"
    assert rest.Resource.of(kinds.INGRESS).path("shop") == "/apis/networking.k8s.io/v1/namespaces/shop/ingresses"


def test_the_reapplied_and_cluster_scoped_kinds_derive_from_the_table():
    assert reapply_scope.REAPPLIED_KINDS[("networking.k8s.io", "NetworkPolicy")] == "networkpolicies"
    assert {"Namespace", "CustomResourceDefinition", "PriorityClass", "Node"} <= reapply_scope.CLUSTER_SCOPED_KINDS
    # RBAC's cluster-scoped kinds are refused as RBAC; a review is nothing to re-apply.
    assert not {"ClusterRole", "ClusterRoleBinding", "SelfSubjectReview"} & reapply_scope.CLUSTER_SCOPED_KINDS

"""ServiceAccounts bound to a role for a test, returned only once the API server's authorizer
grants them: it learns of a new RoleBinding by a watch, a moment after the create (longer on a
busy control plane), and a plugin run in that moment is refused (stop 29's CI failed on it)."""

import json

from kubernetes import client as k8s

from tests.support.waiting import eventually


def pipeline_account(api_client, namespace, plugin, name="deployer"):
    """A ServiceAccount bound (RoleBinding) to exactly the Role `rbac -n NAMESPACE` prints."""
    role = json.loads(plugin("rbac", "-n", namespace, "-o", "json", check_exit=0).stdout)
    rbac = k8s.RbacAuthorizationV1Api(api_client)
    rbac.create_namespaced_role(namespace, role)
    k8s.CoreV1Api(api_client).create_namespaced_service_account(
        namespace, k8s.V1ServiceAccount(metadata=k8s.V1ObjectMeta(name=name)))
    rbac.create_namespaced_role_binding(namespace, {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role["metadata"]["name"]},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]})
    return bound(api_client, namespace, name, role["rules"])


def answers(api_client, namespace, account, verb, group, resource, allowed: bool) -> None:
    """Wait until the authorizer answers `allowed` for the account's `verb` on `resource`: a
    Role changed after its binding reaches the authorizer by a watch, as the binding did."""
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": {
        "user": f"system:serviceaccount:{namespace}:{account}",
        "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"],
        "resourceAttributes": {"namespace": namespace, "group": group, "resource": resource, "verb": verb}}}
    authorization = k8s.AuthorizationV1Api(api_client)
    eventually(lambda: bool(authorization.create_subject_access_review(review).status.allowed) == allowed,
               timeout=30, interval=0.1)


def bound(api_client, namespace, account, rules) -> str:
    """The account's user name, once the API server's authorizer grants it the first of `rules`
    that names its resources and verbs (none such: at once)."""
    rule = next((r for r in rules if r.get("resources") and r.get("verbs") and not r.get("resourceNames")
                 and not r.get("resource_names") and "*" not in r["resources"] + r["verbs"]), None)
    if rule is not None:
        group = (rule.get("apiGroups") or rule.get("api_groups") or [""])[0]
        answers(api_client, namespace, account, rule["verbs"][0], group, rule["resources"][0], allowed=True)
    return f"system:serviceaccount:{namespace}:{account}"


def account_with(api_client, namespace, name, role_ref: dict, rules: list[dict] | None = None) -> str:
    """A ServiceAccount bound in `namespace` to `role_ref` (a Role made of `rules`, or a ClusterRole)."""
    rbac = k8s.RbacAuthorizationV1Api(api_client)
    if rules is not None:
        rbac.create_namespaced_role(namespace, {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                                                "metadata": {"name": role_ref["name"]}, "rules": rules})
    k8s.CoreV1Api(api_client).create_namespaced_service_account(
        namespace, k8s.V1ServiceAccount(metadata=k8s.V1ObjectMeta(name=name)))
    rbac.create_namespaced_role_binding(namespace, {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", **role_ref},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]})
    if rules is None:
        rules = rbac.read_cluster_role(role_ref["name"]).to_dict()["rules"] if role_ref["kind"] == "ClusterRole" else []
    return bound(api_client, namespace, name, rules)

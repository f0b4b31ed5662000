"""What a declarative rollback may re-apply: the safety filter, table-driven, then through the planner."""

import pytest

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.apply.reapply_scope import (
    REAPPLIED_KINDS,
    OutsideReapplyScope,
    ReapplyObject,
    reapply_scope,
    refusal,
    rule_of,
    split_scope,
)
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
from kubectl_harness_rollback.output.render import plan_text
from kubectl_harness_rollback.planner import PlanOptions, plan
from kubectl_harness_rollback.preflight import check_reapply_scope
from kubectl_harness_rollback.views import plan_view

NS = "shop"


def obj(api_version, kind, name="x", namespace=None, **extra):
    meta = {"name": name, **({"namespace": namespace} if namespace is not None else {})}
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **extra}


ALLOWED = {
    "Deployment": obj("apps/v1", "Deployment"),
    "StatefulSet": obj("apps/v1", "StatefulSet"),
    "DaemonSet": obj("apps/v1", "DaemonSet"),
    "ReplicaSet": obj("apps/v1", "ReplicaSet"),
    "Service": obj("v1", "Service"),
    "ConfigMap": obj("v1", "ConfigMap"),
    "Secret": obj("v1", "Secret", type="Opaque", data={"password": "c2VjcmV0"}),
    "HPA v2": obj("autoscaling/v2", "HorizontalPodAutoscaler"),
    "HPA v1": obj("autoscaling/v1", "HorizontalPodAutoscaler"),
    "PDB": obj("policy/v1", "PodDisruptionBudget"),
    "Ingress": obj("networking.k8s.io/v1", "Ingress"),
    # Every namespaced kind a Harness release carries (K8sRollingRollbackBaseHandler.rollbackReleaseResources
    # applies them all):
    "ServiceAccount": obj("v1", "ServiceAccount"),
    "NetworkPolicy": obj("networking.k8s.io/v1", "NetworkPolicy"),
    "Job": obj("batch/v1", "Job"),
    "CronJob": obj("batch/v1", "CronJob"),
    "PersistentVolumeClaim": obj("v1", "PersistentVolumeClaim"),
    "a custom resource": obj("example.com/v1", "Widget"),
    "Service without externalIPs": obj("v1", "Service", spec={"externalIPs": [], "ports": [{"port": 80}]}),
    "Ingress with other nginx annotations": obj("networking.k8s.io/v1", "Ingress", metadata={
        "name": "x", "annotations": {"nginx.ingress.kubernetes.io/rewrite-target": "/"}}),
    "its own namespace, named": obj("v1", "ConfigMap", namespace=NS),
    "empty namespace is the release's": obj("v1", "ConfigMap", namespace=""),
}


@pytest.mark.parametrize("manifest", ALLOWED.values(), ids=ALLOWED.keys())
def test_allowed(manifest):
    assert refusal(manifest, NS) is None


# manifest -> words the reason must contain
REFUSED = {
    "ClusterRoleBinding": (obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"), "RBAC object"),
    "ClusterRole": (obj("rbac.authorization.k8s.io/v1", "ClusterRole"), "RBAC object"),
    "RoleBinding in the namespace": (obj("rbac.authorization.k8s.io/v1", "RoleBinding", namespace=NS), "RBAC"),
    "Role": (obj("rbac.authorization.k8s.io/v1", "Role"), "RBAC object"),
    "Namespace": (obj("v1", "Namespace"), "cluster-scoped"),
    "CRD": (obj("apiextensions.k8s.io/v1", "CustomResourceDefinition"), "cluster-scoped"),
    "webhook": (obj("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"), "cluster-scoped"),
    "PersistentVolume": (obj("v1", "PersistentVolume"), "cluster-scoped"),
    "StorageClass": (obj("storage.k8s.io/v1", "StorageClass"), "cluster-scoped"),
    "PriorityClass": (obj("scheduling.k8s.io/v1", "PriorityClass"), "cluster-scoped"),
    "ServiceAccount in another namespace": (obj("v1", "ServiceAccount", namespace="kube-system"), "'kube-system'"),
    "Job in another namespace": (obj("batch/v1", "Job", namespace="other"), "'other'"),
    "Service with externalIPs": (obj("v1", "Service", spec={"externalIPs": ["10.0.0.1"]}), "CVE-2020-8554"),
    "Ingress with a configuration-snippet": (obj("networking.k8s.io/v1", "Ingress", metadata={
        "name": "x", "annotations": {"nginx.ingress.kubernetes.io/configuration-snippet": "more"}}),
        "nginx.ingress.kubernetes.io/configuration-snippet"),
    "Ingress with a server-snippet": (obj("networking.k8s.io/v1", "Ingress", metadata={
        "name": "x", "annotations": {"nginx.ingress.kubernetes.io/server-snippet": "more"}}), "server-snippet"),
    "Ingress with an auth-snippet": (obj("networking.k8s.io/v1", "Ingress", metadata={
        "name": "x", "annotations": {"nginx.ingress.kubernetes.io/auth-snippet": "more"}}), "auth-snippet"),
    "Ingress with any other snippet": (obj("networking.k8s.io/v1", "Ingress", metadata={
        "name": "x", "annotations": {"example.com/stream-snippet": "more"}}), "stream-snippet"),
    "a known kind from another group, newly known": (obj("evil.example/v1", "Job"), "API group batch only"),
    "a known kind from another group": (obj("evil.example/v1", "Deployment"), "API group apps only"),
    "a core kind from another group": (obj("evil.example/v1", "Secret"), "API group v1 (core) only"),
    "ConfigMap in another namespace": (obj("v1", "ConfigMap", namespace="kube-system"),
                                       "metadata.namespace is 'kube-system'"),
    "Secret in another namespace": (obj("v1", "Secret", namespace="other"), "not the release's namespace shop"),
    "Deployment in another namespace": (obj("apps/v1", "Deployment", namespace="other"), "'other'"),
    "token Secret": (obj("v1", "Secret", type="kubernetes.io/service-account-token"), "ServiceAccount token"),
    "no kind": ({"apiVersion": "v1", "metadata": {"name": "x"}}, "no kind"),
    "no apiVersion": ({"kind": "ConfigMap", "metadata": {"name": "x"}}, "no apiVersion"),
    "no name": ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "x-"}}, "no metadata.name"),
    "not a mapping": (["a", "list"], "not a Kubernetes object"),
}


@pytest.mark.parametrize("manifest, words", REFUSED.values(), ids=REFUSED.keys())
def test_refused(manifest, words):
    assert words in refusal(manifest, NS)


def test_every_known_kind_is_namespaced_and_grants_nothing():
    assert all(group != "rbac.authorization.k8s.io" for group, _ in REAPPLIED_KINDS)
    assert {kind for _, kind in REAPPLIED_KINDS} == {*kinds.WORKLOAD_NAMES, "Service", "ConfigMap", "Secret",
        "HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress", "ServiceAccount", "PersistentVolumeClaim",
        "Job", "CronJob", "NetworkPolicy"}


RULES = {
    "rbac": obj("rbac.authorization.k8s.io/v1", "RoleBinding"),
    "cluster-scoped": obj("v1", "Namespace"),
    "other-namespace": obj("v1", "ConfigMap", namespace="other"),
    "other-api-group": obj("evil.example/v1", "Deployment"),
    "service-account-token": obj("v1", "Secret", type="kubernetes.io/service-account-token"),
    "service-external-ips": obj("v1", "Service", spec={"externalIPs": ["10.0.0.1"]}),
    "ingress-snippet": obj("networking.k8s.io/v1", "Ingress", metadata={
        "name": "x", "annotations": {"nginx.ingress.kubernetes.io/server-snippet": "x"}}),
    "malformed": {"kind": "ConfigMap"},
}


@pytest.mark.parametrize("rule, manifest", RULES.items(), ids=RULES.keys())
def test_each_refusal_names_its_rule(rule, manifest):
    assert rule_of(manifest, NS)[0] == rule


def test_split_scope_keeps_both_lists_in_manifest_order():
    manifests = [obj("v1", "ServiceAccount", "api"), obj("v1", "Service", "lb", spec={"externalIPs": ["1.2.3.4"]}),
                 obj("batch/v1", "Job", "migrate"), obj("rbac.authorization.k8s.io/v1", "Role", "r")]
    allowed, refused = split_scope(manifests, NS)
    assert [(str(o), m) for o, m in allowed] == [("serviceaccount/api", manifests[0]), ("job/migrate", manifests[2])]
    assert [(str(r), r.kind, r.name, r.rule) for r in refused] == [
        ("service/lb", "Service", "lb", "service-external-ips"), ("role/r", "Role", "r", "rbac")]


def test_scope_is_every_object_in_manifest_order():
    manifests = [obj("v1", "Service", "api"), obj("v1", "ConfigMap", "api-config", namespace=NS),
                 obj("apps/v1", "Deployment", "api")]
    assert reapply_scope(manifests, NS) == [ReapplyObject("Service", "api", "v1"),
                                            ReapplyObject("ConfigMap", "api-config", "v1"),
                                            ReapplyObject("Deployment", "api", "apps/v1")]


def test_refusal_is_one_line_naming_the_first_object_and_counting_the_rest():
    manifests = [obj("apps/v1", "Deployment", "api"), obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "own"),
                 obj("v1", "Secret", "s", namespace="other", data={"token": "dG9wLXNlY3JldA=="}),
                 obj("v1", "ConfigMap", "c", namespace="other")]
    with pytest.raises(OutsideReapplyScope) as raised:
        reapply_scope(manifests, NS, "release 1 (secret/harness.release.r.1)")
    message = str(raised.value)
    assert message.startswith("release 1 (secret/harness.release.r.1) holds clusterrolebinding/own, which a rollback "
                              "does not re-apply: it is an RBAC object")
    assert "(2 more object(s) of it are refused too)" in message
    assert "nothing was changed" in message
    assert "\n" not in message and "dG9wLXNlY3JldA" not in message and "top-secret" not in message


def test_refusal_stays_on_one_line_whatever_the_secret_holds():
    hostile = obj("v1", "ConfigMap", "a\nb" + "x" * 500, namespace="o\nther" * 40)
    with pytest.raises(OutsideReapplyScope) as raised:
        reapply_scope([hostile], NS)
    assert "\n" not in str(raised.value) and len(str(raised.value)) < 700


# The planner: the scope becomes Plan.reapply, what is refused Plan.refused, which the rollback
# refuses before any write (preflight.check_reapply_scope).

API = WorkloadRef("Deployment", "api", NS)


def deployment(tag, namespace=None):
    meta = {"name": "api", **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"template": {"spec": {"containers": [{"name": "api", "image": f"api:{tag}"}]}}}}


def declarative_model(good_manifests, running="api:3"):
    identity = Identity(None, InfraMapping("svc", "infra", None, NS))
    releases = [Release(3, Status.FAILED, [ReleaseWorkload(API, None)], Source.DECLARATIVE, identity,
                        manifests=[deployment(3)], secret="harness.release.r.3"),
                Release(2, Status.SUCCEEDED, [ReleaseWorkload(API, None)], Source.DECLARATIVE, identity,
                        manifests=good_manifests, secret="harness.release.r.2")]
    state = WorkloadState(API, "7", 3, (running,), [])
    return ReleaseModel("r", NS, releases, {API: state})


def test_plan_lists_every_object_the_rollback_applies():
    manifests = [obj("v1", "Service", "api"), obj("v1", "ConfigMap", "api-config"), deployment(2)]
    model = declarative_model(manifests)
    model.live_objects = {("", "Service", "api"): None, ("", "ConfigMap", "api-config"): None,
                          ("apps", "Deployment", "api"): None}  # none of them exists: each is created
    result = plan(model, PlanOptions())
    assert [str(o) for o in result.reapply] == ["service/api", "configmap/api-config", "deployment/api"]
    view = plan_view(result)
    created = ["created from the stored manifest"]
    assert view["reapply"] == [{"kind": "Service", "name": "api", "differences": created},
                               {"kind": "ConfigMap", "name": "api-config", "differences": created},
                               {"kind": "Deployment", "name": "api", "differences": created}]
    assert ("\nRe-apply from release 2's stored manifest (as kubectl apply):\n"
            "  service/api\n    created from the stored manifest\n"
            "  configmap/api-config\n    created from the stored manifest\n"
            "  deployment/api\n    created from the stored manifest\n") in plan_text(view)


def test_an_object_that_could_not_be_read_is_reapplied_and_said_so():
    model = declarative_model([obj("v1", "ConfigMap", "c"), deployment(2)])
    model.live_objects = None
    assert plan_view(plan(model, PlanOptions()))["reapply"][0] == {
        "kind": "ConfigMap", "name": "c", "differences": ["not compared (it could not be read): re-applied"]}


def test_plan_refuses_a_release_reaching_outside_its_namespace():
    manifests = [deployment(2), obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "own")]
    result = plan(declarative_model(manifests), PlanOptions())
    assert [(r.kind, r.name, r.rule) for r in result.refused] == [("ClusterRoleBinding", "own", "rbac")]
    view = plan_view(result)
    assert view["refused"] == [{"kind": "ClusterRoleBinding", "name": "own", "rule": "rbac",
                                "reason": result.refused[0].reason}]
    assert ("\nRefused from release 2's stored manifest (the rollback writes nothing while any object is refused):\n"
            "  clusterrolebinding/own: rbac: it is an RBAC object") in plan_text(view)
    with pytest.raises(OutsideReapplyScope, match=r"^release 2 \(secret/harness\.release\.r\.2\) holds "
                                                  r"clusterrolebinding/own, which a rollback does not re-apply"):
        check_reapply_scope(result)


def test_plan_refuses_a_workload_in_another_namespace():
    result = plan(declarative_model([deployment(2, namespace="other")]), PlanOptions())
    with pytest.raises(OutsideReapplyScope, match="deployment/api.*metadata.namespace is 'other'"):
        check_reapply_scope(result)


def test_plan_lists_a_service_account_and_a_job_as_reapplied():
    manifests = [obj("v1", "ServiceAccount", "api"), obj("batch/v1", "Job", "migrate"), deployment(2)]
    result = plan(declarative_model(manifests), PlanOptions())
    assert [str(o) for o in result.reapply] == ["serviceaccount/api", "job/migrate", "deployment/api"]
    assert result.refused == [] and plan_view(result)["refused"] == []
    check_reapply_scope(result)  # refuses nothing


def applied(manifest):
    """`manifest` as `kubectl apply -n NS` leaves it in the cluster."""
    from kubectl_harness_rollback.apply import last_applied

    live = {**manifest, "metadata": {**manifest["metadata"], "namespace": NS, "uid": "u",
                                     "labels": {"harness.io/release-name": "r"},
                                     "annotations": {last_applied.ANNOTATION: last_applied.value(manifest, NS)}}}
    return live


def test_nothing_is_reapplied_when_every_object_is_as_the_release_applied_it():
    manifests = [obj("v1", "ConfigMap", "c", data={"mode": "safe"}), deployment(2)]
    model = declarative_model(manifests, running="api:2")
    model.live_objects = {(group, m["kind"], m["metadata"]["name"]): applied(m)
                          for group, m in (("", manifests[0]), ("apps", manifests[1]))}
    model.workloads[API].raw = applied(manifests[1])
    result = plan(model, PlanOptions())
    assert result.reapply == [] and not result.has_changes
    assert plan_view(result)["reapply"] == []


def test_a_config_only_failure_is_a_change():
    """Release 3 changed only the ConfigMap's data: the images match, the release does not."""
    manifests = [obj("v1", "ConfigMap", "c", data={"mode": "safe"}), deployment(2)]
    model = declarative_model(manifests, running="api:2")
    broken = applied(obj("v1", "ConfigMap", "c", data={"mode": "BROKEN"}))
    model.live_objects = {("", "ConfigMap", "c"): broken, ("apps", "Deployment", "api"): applied(manifests[1])}
    result = plan(model, PlanOptions())
    assert [str(o) for o in result.reapply] == ["configmap/c"] and result.has_changes
    assert plan_view(result)["reapply"][0]["differences"][0] == "data.mode: BROKEN → safe"


def test_a_release_kept_in_history_reapplies_nothing():
    web = WorkloadRef("Deployment", "web", NS)
    releases = [Release(2, Status.FAILED, [ReleaseWorkload(web, None)], Source.LEGACY, store="configmap/r"),
                Release(1, Status.SUCCEEDED, [ReleaseWorkload(web, None)], Source.LEGACY, store="configmap/r")]
    revisions = [Revision(web, n, (), "ReplicaSet", f"web-{n}", (f"web:{n}",)) for n in (1, 2)]
    model = ReleaseModel("r", NS, releases, {web: WorkloadState(web, "1", 2, ("web:2",), revisions)})
    assert plan_view(plan(model, PlanOptions(to_revision=1)))["reapply"] == []


# manifests.reapply refuses again, before its first write, whatever a caller hands it.

class FakeKube:
    """Stands in for the request layer: discovery answers, applies are recorded."""

    cluster_scoped = {"Widget"}

    def __init__(self):
        self.applied = []

    def api_resources(self, api_version):
        kinds = {"v1": ["ConfigMap", "Secret", "Service"], "apps/v1": ["Deployment", "StatefulSet"]}[api_version]
        return [{"name": kind.lower() + "s", "kind": kind, "namespaced": kind not in self.cluster_scoped}
                for kind in kinds] + [{"name": "deployments/scale", "kind": "Scale", "namespaced": True}]

    def patch(self, resource, name, namespace, body, patch_type, **kwargs):
        assert patch_type == "apply"
        self.applied.append((body["kind"], name, namespace, body["metadata"]["namespace"], kwargs))


def test_reapply_applies_exactly_the_scope_into_the_release_namespace():
    from kubectl_harness_rollback.apply.manifests import FIELD_MANAGER, reapply
    from kubectl_harness_rollback.dryrun import DryRun

    manifests = [obj("v1", "ConfigMap", "c", namespace=NS), deployment(2)]
    fake_dynamic = FakeKube()
    done = reapply(fake_dynamic, manifests, NS, DryRun.SERVER)
    assert done == [{"action": "reapplied", "kind": "ConfigMap", "name": "c"},
                    {"action": "reapplied", "kind": "Deployment", "name": "api"}]
    assert [(kind, name, ns, body_ns) for kind, name, ns, body_ns, _ in fake_dynamic.applied] == [
        ("ConfigMap", "c", NS, NS), ("Deployment", "api", NS, NS)]
    assert fake_dynamic.applied[0][4] == {"field_manager": FIELD_MANAGER, "force": True, "dry_run": True}


def test_reapply_refuses_outside_the_scope_before_any_write():
    from kubectl_harness_rollback.apply.manifests import reapply
    from kubectl_harness_rollback.dryrun import DryRun

    fake_dynamic = FakeKube()
    manifests = [deployment(2), obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "own")]
    with pytest.raises(OutsideReapplyScope, match="clusterrolebinding/own"):
        reapply(fake_dynamic, manifests, NS, DryRun.NONE)
    assert fake_dynamic.applied == []


def test_reapply_refuses_a_kind_the_server_says_is_cluster_scoped():
    from kubectl_harness_rollback.apply.manifests import reapply
    from kubectl_harness_rollback.dryrun import DryRun

    fake_dynamic = FakeKube()
    fake_dynamic.cluster_scoped = {"ConfigMap"}
    with pytest.raises(OutsideReapplyScope, match="configmap/c is not namespaced"):
        reapply(fake_dynamic, [deployment(2), obj("v1", "ConfigMap", "c")], NS, DryRun.NONE)
    assert fake_dynamic.applied == []


def test_reapply_sends_every_object_with_dry_run_before_the_first_write():
    from kubectl_harness_rollback.apply.manifests import reapply
    from kubectl_harness_rollback.dryrun import DryRun

    fake_dynamic = FakeKube()
    reapply(fake_dynamic, [obj("v1", "ConfigMap", "c"), deployment(2)], NS, DryRun.NONE)
    assert [(kind, kwargs.get("dry_run")) for kind, _, _, _, kwargs in fake_dynamic.applied] == [
        ("ConfigMap", True), ("Deployment", True), ("ConfigMap", False), ("Deployment", False)]


def test_a_refused_object_stops_the_reapply_before_any_write():
    from kubectl_harness_rollback.apply.manifests import reapply
    from kubectl_harness_rollback.dryrun import DryRun

    class Refusing(FakeKube):
        def patch(self, resource, name, namespace, body, patch_type, **kwargs):
            if body["kind"] == "Deployment":
                raise RuntimeError("forbidden")
            super().patch(resource, name, namespace, body, patch_type, **kwargs)

    fake_dynamic = Refusing()
    with pytest.raises(RuntimeError):
        reapply(fake_dynamic, [obj("v1", "ConfigMap", "c"), deployment(2)], NS, DryRun.NONE)
    assert [kwargs.get("dry_run") for *_, kwargs in fake_dynamic.applied] == [True]  # nothing stored

"""Preflight: what can never roll out is refused before the first write, reading once per kind."""

import pytest

from kubectl_harness_rollback import preflight
from kubectl_harness_rollback.apply.reapply_scope import ReapplyObject
from kubectl_harness_rollback.cluster.apierrors import Forbidden
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
from kubectl_harness_rollback.modes import Match, Mode
from kubectl_harness_rollback.planner import Plan, WorkloadChange

NS = "shop"
WEB = WorkloadRef("Deployment", "web", NS)


def template(**spec):
    return {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}], **spec}}


def legacy_plan(*templates):
    changes = []
    for number, restored in enumerate(templates, 1):
        ref = WorkloadRef("Deployment", f"web{number}" if number > 1 else "web", NS)
        revision = Revision(ref, 1, (), "ReplicaSet", f"{ref.name}-1", ("web:1",), raw={"spec": {"template": restored}})
        changes.append(WorkloadChange(ref, 2, 1, 1, ("web:2",), ("web:1",), revision))
    target = Release(1, Status.SUCCEEDED, [ReleaseWorkload(c.ref, 1) for c in changes], Source.LEGACY, store="configmap/r")
    current = Release(2, Status.FAILED, [ReleaseWorkload(c.ref, 2) for c in changes], Source.LEGACY, store="configmap/r")
    return Plan("r", NS, Mode.ROLLING, Match.WORKFLOW, current, target, changes, "why")


class FakeKube:
    """The request layer's reads: what exists, per resource plural; every request recorded."""

    def __init__(self, existing=None, forbidden=(), namespace=None):
        self.existing = existing or {}
        self.forbidden = set(forbidden)
        self.namespace_object = namespace if namespace is not None else {"metadata": {"name": NS},
                                                                         "status": {"phase": "Active"}}
        self.requests = []

    def _check(self, resource):
        if resource.plural in self.forbidden:
            raise Forbidden(f"forbidden: {resource.plural}", 403, "https://127.0.0.1", "get", resource.plural)

    def get_or_none(self, resource, name, namespace=None):
        self.requests.append(("get", resource.plural, name, namespace))
        self._check(resource)
        if resource.plural == "namespaces":
            return self.namespace_object
        return {"metadata": {"name": name}} if name in self.existing.get(resource.plural, ()) else None

    def list(self, resource, namespace=None, metadata_only=False, **kwargs):
        self.requests.append(("list", resource.plural, metadata_only, namespace))
        self._check(resource)
        return [{"metadata": {"name": name}} for name in self.existing.get(resource.plural, ())]


def test_missing_service_account_priority_class_or_claim_is_refused():
    restored = template(serviceAccountName="web-sa", priorityClassName="high",
                        volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "web-data"}}])
    everything = {"serviceaccounts": {"web-sa"}, "priorityclasses": {"high"}, "persistentvolumeclaims": {"web-data"}}
    preflight.check_references(FakeKube(everything), NS, legacy_plan(restored))
    for plural, text in (("serviceaccounts", f"serviceaccount/web-sa needed by the template restored to "
                                             f"deployment/web no longer exists in namespace {NS}"),
                         ("priorityclasses", "priorityclass/high needed by the template restored to deployment/web "
                                             "no longer exists in the cluster"),
                         ("persistentvolumeclaims", "persistentvolumeclaim/web-data needed by")):
        with pytest.raises(preflight.MissingReference, match="^" + text):
            preflight.check_references(FakeKube({**everything, plural: set()}), NS, legacy_plan(restored))


def test_built_in_priority_classes_and_the_default_account_need_no_read():
    kube = FakeKube()
    preflight.check_references(kube, NS, legacy_plan(template(priorityClassName="system-node-critical")))
    assert kube.requests == []


def test_one_read_per_kind_a_get_for_one_name_a_list_for_several():
    templates = [template(serviceAccountName="a", volumes=[{"persistentVolumeClaim": {"claimName": f"claim-{n}"}}])
                 for n in range(3)]
    kube = FakeKube({"serviceaccounts": {"a"}, "persistentvolumeclaims": {"claim-0", "claim-1", "claim-2"}})
    preflight.check_references(kube, NS, legacy_plan(*templates))
    assert kube.requests == [("get", "serviceaccounts", "a", NS), ("list", "persistentvolumeclaims", True, NS)]


def test_a_denied_list_falls_back_to_gets_and_a_denied_new_read_is_a_warning():
    templates = [template(serviceAccountName=f"sa-{n}") for n in range(2)]
    warnings = []
    preflight.check_references(FakeKube(forbidden={"serviceaccounts"}), NS, legacy_plan(*templates), warnings.append)
    assert warnings == [f"cannot read serviceaccounts in {NS}: the ServiceAccounts the restored template needs are "
                        "not checked"]
    with pytest.raises(Forbidden):  # ConfigMaps and Secrets were always checked: a denied read stops, as before
        preflight.check_references(FakeKube(forbidden={"configmaps"}), NS, legacy_plan(
            template(volumes=[{"configMap": {"name": "c"}}])))


def test_a_missing_image_pull_secret_is_a_warning_not_a_stop():
    warnings = []
    restored = template(imagePullSecrets=[{"name": "regcred"}], volumes=[{"secret": {"secretName": "tls"}}])
    kube = FakeKube({"secrets": {"tls"}})
    preflight.check_references(kube, NS, legacy_plan(restored), warnings.append)
    assert warnings == [f"image pull secret/regcred of the template restored to deployment/web does not exist in "
                        f"namespace {NS}: its pods pull only images the nodes already have or may pull without it"]
    assert kube.requests == [("list", "secrets", True, NS)]  # two names, one list, metadata only


def test_declarative_templates_are_checked_except_what_the_release_carries():
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"template": template(serviceAccountName="web-sa", volumes=[{"configMap": {"name": "gone"}}])}}
    target = Release(1, Status.SUCCEEDED, [ReleaseWorkload(WEB, None)], Source.DECLARATIVE,
                     manifests=[{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web-sa"}},
                                manifest], secret="harness.release.r.1")
    current = Release(2, Status.FAILED, [ReleaseWorkload(WEB, None)], Source.DECLARATIVE, secret="harness.release.r.2")
    plan = Plan("r", NS, Mode.ROLLING, Match.WORKFLOW, current, target,
                [WorkloadChange(WEB, 2, None, None, ("web:2",), ("web:1",), None)], "why",
                reapply=[ReapplyObject("ServiceAccount", "web-sa", "v1"),
                         ReapplyObject("Deployment", "web", "apps/v1")])
    kube = FakeKube()
    with pytest.raises(preflight.MissingReference, match="^configmap/gone needed by the template restored to "
                                                         "deployment/web"):
        preflight.check_references(kube, NS, plan)
    assert [r[1] for r in kube.requests] == ["configmaps"]  # the ServiceAccount comes with the release


def deleting_model(**meta):
    state = WorkloadState(WEB, "7", 2, ("web:2",), [], raw={"metadata": {"name": "web", **meta}})
    return ReleaseModel("r", NS, [], {WEB: state})


def test_a_workload_being_deleted_is_refused():
    plan = legacy_plan(template())
    preflight.check_not_deleting(deleting_model(), plan)
    with pytest.raises(preflight.GoingAway, match=r"^deployment/web is being deleted \(since 2026-12-04T10:00:00Z, "
                                                  r"held by example.com/hold\): a rollback of it would never roll out"):
        preflight.check_not_deleting(deleting_model(deletionTimestamp="2026-12-04T10:00:00Z",
                                                    finalizers=["example.com/hold"]), plan)
    plan.workloads[0].unchanged = True  # nothing is written to it: nothing to refuse
    preflight.check_not_deleting(deleting_model(deletionTimestamp="2026-12-04T10:00:00Z"), plan)


def test_a_terminating_namespace_is_refused_and_an_unreadable_one_is_not():
    preflight.check_namespace_active(FakeKube(), NS)
    terminating = {"metadata": {"name": NS, "deletionTimestamp": "2026-12-04T10:00:00Z"},
                   "status": {"phase": "Terminating"}}
    with pytest.raises(preflight.GoingAway, match=f"^namespace {NS} is being deleted"):
        preflight.check_namespace_active(FakeKube(namespace=terminating), NS)
    preflight.check_namespace_active(FakeKube(namespace=terminating, forbidden={"namespaces"}), NS)

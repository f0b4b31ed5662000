"""owners.py: who else owns a workload, from its annotations, labels and field managers (table-driven)."""

from __future__ import annotations

import pytest

from kubectl_harness_rollback.model import Revision, WorkloadRef, WorkloadState
from kubectl_harness_rollback.workloads import deployment, owners


def obj(annotations=None, labels=None, managers=(), namespace="shop"):
    return {"metadata": {"name": "web", "namespace": namespace, "annotations": annotations or {},
                         "labels": labels or {},
                         "managedFields": [{"manager": m, "operation": "Apply"} for m in managers]}}


def summary(found):
    return [(o.tool, o.kind, o.name, o.namespace, o.gitops) for o in found]


CASES = [
    # (what, object, expected (tool, kind, name, namespace, gitops))
    ("nothing", obj(), []),
    ("argo tracking annotation", obj({"argocd.argoproj.io/tracking-id": "shop-web:apps/Deployment:shop/web"}),
     [("Argo CD", "Application", "shop-web", None, True)]),
    ("argo apps in any namespace", obj({"argocd.argoproj.io/tracking-id": "team-a_web:apps/Deployment:shop/web"}),
     [("Argo CD", "Application", "web", "team-a", True)]),
    ("argo custom instance label", obj(labels={"argocd.argoproj.io/instance": "shop-web"}),
     [("Argo CD", "Application", "shop-web", None, True)]),
    ("argo field manager", obj(managers=["argocd-controller"]), [("Argo CD", "Application", None, None, True)]),
    ("argo application controller", obj(managers=["argocd-application-controller"]),
     [("Argo CD", "Application", None, None, True)]),
    ("label tracking: the instance label with argo's manager", obj(labels={"app.kubernetes.io/instance": "shop-web"},
                                                                     managers=["argocd-controller"]),
     [("Argo CD", "Application", "shop-web", None, True)]),
    ("label tracking: the instance label with an argo annotation",
     obj({"argocd.argoproj.io/sync-wave": "1"}, {"app.kubernetes.io/instance": "shop-web"}),
     [("Argo CD", "Application", "shop-web", None, True)]),
    ("the instance label alone is no proof", obj(labels={"app.kubernetes.io/instance": "web"}), []),
    ("kubectl's manager is nobody's", obj(managers=["kubectl-client-side-apply", "kube-controller-manager"]), []),
    ("flux kustomization", obj(labels={"kustomize.toolkit.fluxcd.io/name": "apps",
                                       "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}),
     [("Flux", "Kustomization", "apps", "flux-system", True)]),
    ("flux kustomization, reconcile disabled", obj({"kustomize.toolkit.fluxcd.io/reconcile": "disabled"},
                                                   {"kustomize.toolkit.fluxcd.io/name": "apps",
                                                    "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}),
     [("Flux", "Kustomization", "apps", "flux-system", False)]),
    ("flux manager alone", obj(managers=["kustomize-controller"]), [("Flux", "Kustomization", None, None, True)]),
    ("flux helmrelease (helm-controller runs helm)",
     obj({"meta.helm.sh/release-name": "shop-web", "meta.helm.sh/release-namespace": "shop"},
         {"helm.toolkit.fluxcd.io/name": "web", "helm.toolkit.fluxcd.io/namespace": "flux-system",
          "app.kubernetes.io/managed-by": "Helm"}, ["helm-controller"]),
     [("Flux", "HelmRelease", "web", "flux-system", True), ("Helm", "release", "shop-web", "shop", False)]),
    ("helm adoption", obj({"meta.helm.sh/release-name": "web", "meta.helm.sh/release-namespace": "shop"},
                          {"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "web"}, ["helm"]),
     [("Helm", "release", "web", "shop", False)]),
    ("helm without the namespace annotation: the object's", obj({"meta.helm.sh/release-name": "web"}, namespace="x"),
     [("Helm", "release", "web", "x", False)]),
    ("argo deploying a chart", obj({"argocd.argoproj.io/tracking-id": "web:apps/Deployment:shop/web"},
                                   {"app.kubernetes.io/instance": "web", "helm.sh/chart": "web-1.0"}),
     [("Argo CD", "Application", "web", None, True)]),
    ("non-string values are ignored", obj({"meta.helm.sh/release-name": 7}, {"argocd.argoproj.io/instance": None}), []),
]


@pytest.mark.parametrize("what, given, expected", CASES, ids=[c[0] for c in CASES])
def test_owners_of(what, given, expected):
    assert summary(owners.owners_of(given)) == expected


def test_malformed_metadata_finds_no_owner():
    assert owners.owners_of({}) == []
    assert owners.owners_of({"metadata": {"annotations": [], "labels": "x", "managedFields": [None, "x"]}}) == []


@pytest.mark.parametrize("given, command", [
    (obj({"argocd.argoproj.io/tracking-id": "shop-web:apps/Deployment:shop/web"}),
     "argocd app rollback shop-web (Argo CD refuses while auto-sync is on: argocd app set shop-web --sync-policy "
     "none first), or revert the change in Git"),
    (obj({"argocd.argoproj.io/tracking-id": "team-a_web:apps/Deployment:shop/web"}),
     "argocd app rollback team-a/web (Argo CD refuses while auto-sync is on: argocd app set team-a/web --sync-policy "
     "none first), or revert the change in Git"),
    (obj(labels={"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}),
     "flux suspend kustomization apps -n flux-system, then roll back (and revert the change in Git before flux "
     "resume kustomization apps -n flux-system)"),
    (obj({"meta.helm.sh/release-name": "web", "meta.helm.sh/release-namespace": "shop"}), "helm rollback web -n shop"),
])
def test_the_owners_own_command(given, command):
    assert owners.owners_of(given)[0].command == command


def test_refusal_names_the_first_gitops_owner_and_how_many_more():
    ref = WorkloadRef("Deployment", "web", "shop")
    helm = owners.owners_of(obj({"meta.helm.sh/release-name": "web"}))
    assert owners.refusal([(ref, o) for o in helm]) is None
    argo = owners.owners_of(obj(managers=["argocd-controller"]))
    flux = owners.owners_of(obj(labels={"kustomize.toolkit.fluxcd.io/name": "apps"}))
    line = owners.refusal([(ref, argo[0]), (WorkloadRef("Deployment", "api", "shop"), flux[0])])
    assert line.startswith("deployment/web is managed by Argo CD (its Application is not named on the object) "
                           "(and 1 more): ")
    assert line.endswith("; or pass --ignore-owner to roll back here anyway; nothing was changed")
    assert "\n" not in line


@pytest.mark.parametrize("key, owned", [
    ("meta.helm.sh/release-name", True), ("argocd.argoproj.io/tracking-id", True),
    ("kustomize.toolkit.fluxcd.io/name", True), ("helm.toolkit.fluxcd.io/namespace", True),
    ("app.kubernetes.io/instance", False), ("harness.io/workflow-id", False), ("meta.helm.shx/a", False),
])
def test_is_ownership_key(key, owned):
    assert owners.is_ownership_key(key) is owned


def test_a_deployment_restore_keeps_the_live_owner_annotations_and_drops_the_revisions_old_ones():
    """kubectl's undo replaces the annotations with the ReplicaSet's; ownership is not part of a
    revision, so the live owner keys stay and the ReplicaSet's stale ones do not come back."""
    ref = WorkloadRef("Deployment", "web", "shop")
    revision = Revision(ref, 2, (), "ReplicaSet", "web-2", ("web:2",),
                        annotations={"harness.io/workflow-id": "wf", "meta.helm.sh/release-name": "old",
                                     "argocd.argoproj.io/tracking-id": "old:apps/Deployment:shop/web",
                                     "deployment.kubernetes.io/revision": "2"},
                        raw={"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {}}}})
    live = {"harness.io/workflow-id": "wf3", "meta.helm.sh/release-name": "web",
            "meta.helm.sh/release-namespace": "shop", "deployment.kubernetes.io/revision": "3"}
    state = WorkloadState(ref, "42", 3, ("web:3",), [revision], annotations=live)
    patch = deployment.rollback_patch(state, revision, {"harness.io/last-rollback": "{}"})
    annotations = next(op["value"] for op in patch if op["path"] == "/metadata/annotations")
    assert annotations == {"harness.io/workflow-id": "wf", "meta.helm.sh/release-name": "web",
                           "meta.helm.sh/release-namespace": "shop", "deployment.kubernetes.io/revision": "3",
                           "harness.io/last-rollback": "{}"}


def _plan(has_changes, found):
    from types import SimpleNamespace

    return SimpleNamespace(has_changes=has_changes, owners=found)


ARGO = [(WorkloadRef("Deployment", "web", "shop"),
         owners.owners_of(obj({"argocd.argoproj.io/tracking-id": "shop-web:apps/Deployment:shop/web"}))[0])]
HELM = [(WorkloadRef("Deployment", "web", "shop"), owners.owners_of(obj({"meta.helm.sh/release-name": "web"}))[0])]


def test_rollback_refuses_a_gitops_owner_before_any_write():
    from kubectl_harness_rollback import executor

    with pytest.raises(owners.OwnedElsewhere) as refused:
        executor._check_owners(_plan(True, ARGO), executor.RollbackOptions(), progress=pytest.fail)
    assert refused.value.exit_code == 1
    assert str(refused.value).startswith("deployment/web is managed by Argo CD Application shop-web: ")


def test_ignore_owner_rolls_back_with_a_warning_and_helm_or_nothing_to_change_is_not_refused():
    from kubectl_harness_rollback import executor

    said = []
    executor._check_owners(_plan(True, ARGO), executor.RollbackOptions(ignore_owner=True), said.append)
    assert said == ["warning: deployment/web is managed by Argo CD Application shop-web: if the Application syncs "
                    "automatically with self-heal, Argo CD puts the failed version back (rolling back anyway: "
                    "--ignore-owner)"]
    executor._check_owners(_plan(True, HELM), executor.RollbackOptions(), progress=pytest.fail)
    executor._check_owners(_plan(False, ARGO), executor.RollbackOptions(), progress=pytest.fail)

"""Workloads owned by something else too (Argo CD, Flux, Helm), on the real control plane.

The owner marks are what each tool leaves on the objects it manages (owners.py lists them). Each
Deployment is adopted after its failed release 3 was deployed, so the ReplicaSet of release 2 (the
rollback-to revision) has never carried them: a restore that copied the ReplicaSet's annotations
alone, as `kubectl rollout undo` does, would drop them (the twin below shows kubectl doing so).

- Argo CD (tracking annotation, or only its field manager) and Flux (its labels): `plan` and
  `status` name the owner, what it does after a rollback made here, and its own command;
  `rollback` refuses in one line, exit 1, before any write; `--ignore-owner` rolls back and the
  owner's marks are still there.
- Helm: named in `plan`, but not refused (Helm does not reconcile); its `meta.helm.sh/*`
  annotations survive the restore, so the next `helm upgrade` still finds its object.
"""

from __future__ import annotations

import json
import subprocess

from kubernetes import client as k8s

from tests.adversarial.state import changed, versions
from tests.support.harness import HarnessRollingDeployer, wait_for_rollout

RELEASE = "release-infra-prod"
TRACKING = "argocd.argoproj.io/tracking-id"
HELM_ANNOTATIONS = ("meta.helm.sh/release-name", "meta.helm.sh/release-namespace")
FLUX_LABELS = {"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}


def good_good_bad(apps, core, namespace) -> HarnessRollingDeployer:
    deployer = HarnessRollingDeployer(apps, core, namespace)
    for tag, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
        deployer.deploy(f"registry.example/web:{tag}", status=status)
    return deployer


def adopt(apps, namespace, annotations=None, labels=None, field_manager=None, name="web"):
    """The owner marks the Deployment after release 3 (a merge patch, as `kubectl annotate` sends)."""
    body = {"metadata": {"annotations": annotations or {}, "labels": labels or {}}}
    kwargs = {"field_manager": field_manager} if field_manager else {}
    apps.patch_namespaced_deployment(name, namespace, body, **kwargs)
    wait_for_rollout(apps, namespace, name)


def deployment(apps, namespace, name="web"):
    found = apps.read_namespaced_deployment(name, namespace)
    return (found.spec.template.spec.containers[0].image, found.metadata.annotations or {},
            found.metadata.labels or {})


def statuses(plugin, namespace):
    rows = json.loads(plugin("history", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    return [(r["number"], r["status"]) for r in rows]


def assert_refused_without_a_write(plugin, api_client, namespace, owner_words):
    before = versions(api_client, namespace)
    refused = plugin("rollback", RELEASE, "-n", namespace, check_exit=1)
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert lines[0].startswith(f"error: deployment/web is managed by {owner_words}"), refused.stderr
    assert "pass --ignore-owner to roll back here anyway; nothing was changed" in lines[0]
    assert changed(before, versions(api_client, namespace)) == []
    dry = plugin("rollback", RELEASE, "-n", namespace, "--dry-run=server", check_exit=1)
    assert "--ignore-owner" in dry.stderr
    assert changed(before, versions(api_client, namespace)) == []
    return lines[0]


def test_an_argo_cd_tracked_deployment_is_named_refused_and_kept_tracked(api_client, apps, core, namespace, plugin):
    good_good_bad(apps, core, namespace)
    tracking = f"shop-web:apps/Deployment:{namespace}/web"
    adopt(apps, namespace, annotations={TRACKING: tracking})

    planned = plugin("plan", RELEASE, "-n", namespace, check_exit=0)
    assert (f"Owner: deployment/web is managed by Argo CD Application shop-web (annotation {TRACKING}): if the "
            "Application syncs automatically with self-heal, Argo CD puts the failed version back; its own way "
            "back: argocd app rollback shop-web") in planned.stdout
    assert "`rollback` refuses it without --ignore-owner." in planned.stdout
    owners = json.loads(plugin("plan", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)["owners"]
    assert [(o["kind"], o["name"], o["owner"], o["ownerKind"], o["ownerName"], o["gitops"]) for o in owners] == [
        ("Deployment", "web", "Argo CD", "Application", "shop-web", True)]
    status = plugin("status", RELEASE, "-n", namespace, check_exit=0)
    assert "Owner: deployment/web is managed by Argo CD Application shop-web" in status.stdout

    line = assert_refused_without_a_write(plugin, api_client, namespace, "Argo CD Application shop-web")
    assert "roll back with the owner: argocd app rollback shop-web" in line
    assert deployment(apps, namespace)[0] == "registry.example/web:3"

    done = plugin("rollback", RELEASE, "-n", namespace, "--ignore-owner", check_exit=0)
    assert "warning: deployment/web is managed by Argo CD Application shop-web" in done.stderr
    image, annotations, _ = deployment(apps, namespace)
    assert image == "registry.example/web:2"
    assert annotations[TRACKING] == tracking  # Argo CD still knows its object
    assert statuses(plugin, namespace)[:2] == [(3, "Failed"), (2, "Succeeded")]


def test_argo_cd_known_by_its_field_manager_alone_is_refused(api_client, apps, core, namespace, plugin):
    good_good_bad(apps, core, namespace)
    adopt(apps, namespace, labels={"team": "web"}, field_manager="argocd-controller")

    planned = plugin("plan", RELEASE, "-n", namespace, check_exit=0)
    assert ("Owner: deployment/web is managed by Argo CD (field manager argocd-controller): if the Application "
            "syncs automatically") in planned.stdout
    assert_refused_without_a_write(plugin, api_client, namespace, "Argo CD (its Application is not named")
    plugin("rollback", RELEASE, "-n", namespace, "--ignore-owner", check_exit=0)
    assert deployment(apps, namespace)[0] == "registry.example/web:2"


def test_a_flux_kustomization_is_named_refused_and_its_labels_survive(api_client, apps, core, namespace, plugin):
    good_good_bad(apps, core, namespace)
    adopt(apps, namespace, labels=FLUX_LABELS)

    planned = plugin("plan", RELEASE, "-n", namespace, check_exit=0)
    assert ("Owner: deployment/web is managed by Flux Kustomization apps (namespace flux-system) (label "
            "kustomize.toolkit.fluxcd.io/name): Flux puts the failed version back at the Kustomization's next "
            "reconcile; its own way back: flux suspend kustomization apps -n flux-system, then roll back") \
        in planned.stdout

    line = assert_refused_without_a_write(plugin, api_client, namespace, "Flux Kustomization apps")
    assert "flux suspend kustomization apps -n flux-system" in line

    plugin("rollback", RELEASE, "-n", namespace, "--ignore-owner", check_exit=0)
    image, _, labels = deployment(apps, namespace)
    assert image == "registry.example/web:2"
    assert {key: labels.get(key) for key in FLUX_LABELS} == FLUX_LABELS


def test_a_helm_adopted_deployment_is_named_rolled_back_and_stays_helms(api_client, apps, core, namespace, plugin,
                                                                        test_cluster):
    """Helm is a note, not a refusal: it does not put anything back by itself. Its ownership
    annotations survive the restore; `kubectl rollout undo` (the twin) drops them, and the next
    `helm upgrade` would then refuse the Deployment ("invalid ownership metadata")."""
    good_good_bad(apps, core, namespace)
    helm = {"meta.helm.sh/release-name": "web", "meta.helm.sh/release-namespace": namespace}
    adopt(apps, namespace, annotations=helm, labels={"app.kubernetes.io/managed-by": "Helm"})

    planned = plugin("plan", RELEASE, "-n", namespace, check_exit=0)
    assert (f"Owner: deployment/web is managed by Helm release web (namespace {namespace}) (annotation "
            "meta.helm.sh/release-name, label app.kubernetes.io/managed-by: Helm): Helm does not put it back by "
            f"itself") in planned.stdout
    assert f"its own way back: helm rollback web -n {namespace}." in planned.stdout
    assert "refuses it" not in planned.stdout

    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert "warning" not in done.stderr
    image, annotations, labels = deployment(apps, namespace)
    assert image == "registry.example/web:2"
    assert {key: annotations.get(key) for key in HELM_ANNOTATIONS} == helm
    assert labels["app.kubernetes.io/managed-by"] == "Helm"

    # The twin: the same state, rolled back by kubectl, loses Helm's annotations (a deliberate difference).
    twin = f"{namespace}-twin"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=twin)))
    try:
        good_good_bad(apps, core, twin)
        adopt(apps, twin, annotations={**helm, "meta.helm.sh/release-namespace": twin},
              labels={"app.kubernetes.io/managed-by": "Helm"})
        subprocess.run(["kubectl", "rollout", "undo", "deployment/web", "-n", twin, "--to-revision=2"], check=True,
                       capture_output=True, env=test_cluster.env())
        _, twin_annotations, _ = deployment(apps, twin)
        assert not set(HELM_ANNOTATIONS) & set(twin_annotations)
    finally:
        core.delete_namespace(twin)


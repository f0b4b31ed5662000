"""--prune, the pure decision and its guarded delete; the stage color's HPA/PDB; the legacy
refusal of a deleted workload.

Harness's rules followed (harness-core, commit 1dcec145c507a87fc596b148cc2fc73d47cbc9cc):
- 930-delegate-tasks/src/main/java/io/harness/delegate/k8s/K8sRollingRollbackBaseHandler.java:917-934
  getResourcesTobeDeletedInOrder: the failed release's resources, less those marked skipPruning
  (970-api-services-beans/.../k8s/model/KubernetesResource.java:183-185, annotation `harness.io/skipPruning`
  equal to "true" ignoring case: :910-913), less those the rollback-to release holds (kind, name, namespace,
  the namespace filled in: :936-938), less the versioned ones;
- 930-delegate-tasks/src/main/java/io/harness/delegate/task/k8s/k8sbase/K8sTaskHelperBase.java:663-673
  arrangeResourceIdsInDeletionOrder: KubernetesResourceComparer
  (970-api-services-beans/src/main/java/io/harness/k8s/model/KubernetesResourceComparer.java:45-99) reversed;
- K8sTaskHelperBase.java:946-963 executeDeleteHandlingPartialExecution: a delete that fails is passed over;
- 930-delegate-tasks/src/main/java/io/harness/delegate/k8s/K8sBlueGreenStageScaleDownRequestHandler.java:155-177
  and Kind.java:56-61: the stage release's HPAs and PDBs whose name ends in the stage color.
"""

from __future__ import annotations

import json

import pytest

from kubectl_harness_rollback import permissions, planned_writes
from kubectl_harness_rollback.apply import last_applied, prune, prune_live
from kubectl_harness_rollback.cluster import apierrors
from kubectl_harness_rollback.dryrun import DryRun
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
from kubectl_harness_rollback.planner import MissingWorkload, PlanOptions, plan
from kubectl_harness_rollback.strategies import bluegreen

NS = "shop"
RELEASE = "release-x"


def deployment(name, tag="1", **meta):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, **meta},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name, "harness.io/release-name": RELEASE}},
                                  "spec": {"containers": [{"name": name, "image": f"r/{name}:{tag}"}]}}}}


def config_map(name, **meta):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta}, "data": {"k": "v"}}


def declarative(number, status, manifests):
    workloads = [ReleaseWorkload(WorkloadRef(m["kind"], m["metadata"]["name"], NS), None)
                 for m in manifests if m["kind"] == "Deployment"]
    return Release(number, status, workloads, Source.DECLARATIVE, manifests=manifests)


def names(items):
    return [(item.kind, item.name) for item in items]


GOOD = [config_map("api-config"), deployment("api")]
FAILED = [config_map("api-config"), deployment("api", "2"), config_map("worker-config"), deployment("worker", "2"),
          config_map("kept", annotations={"harness.io/skipPruning": "True"})]


def test_candidates_are_what_the_failed_release_adds_less_what_is_marked_to_be_kept():
    found, notes = prune.candidates(declarative(2, Status.FAILED, FAILED), declarative(1, Status.SUCCEEDED, GOOD), NS)
    assert names(found) == [("Deployment", "worker"), ("ConfigMap", "worker-config")]
    assert notes == ["configmap/kept is marked harness.io/skipPruning: never pruned"]


def test_an_object_named_with_the_release_namespace_is_the_same_object():
    good = [config_map("api-config", namespace=NS)]
    found, _ = prune.candidates(declarative(2, Status.FAILED, [config_map("api-config")]),
                                declarative(1, Status.SUCCEEDED, good), NS)
    assert found == []


def test_rbac_cluster_scoped_and_other_namespaces_are_never_candidates():
    failed = [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"}},
              {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}},
              config_map("elsewhere", namespace="other")]
    found, notes = prune.candidates(declarative(2, Status.FAILED, failed), declarative(1, Status.SUCCEEDED, []), NS)
    assert found == []
    assert [note.split(" ")[0] for note in notes] == ["role/r", "namespace/n", "configmap/elsewhere"]


def test_deletion_order_is_harness_creation_order_backwards():
    kinds = ["Secret", "ConfigMap", "ServiceAccount", "Service", "Deployment", "StatefulSet", "Job", "Ingress",
             "HorizontalPodAutoscaler", "PodDisruptionBudget"]
    items = [prune.Candidate(kind, "x", "v1") for kind in kinds]
    items += [prune.Candidate("Deployment", "a", "apps/v1"), prune.Candidate("Deployment", "B", "apps/v1")]
    assert [(c.kind, c.name) for c in prune.deletion_order(items)] == [
        # Kinds the comparer does not know sort after every known one on creation, by kind name.
        ("PodDisruptionBudget", "x"), ("HorizontalPodAutoscaler", "x"),
        ("Ingress", "x"), ("Job", "x"), ("StatefulSet", "x"),
        ("Deployment", "x"), ("Deployment", "B"), ("Deployment", "a"),
        ("Service", "x"), ("ServiceAccount", "x"), ("ConfigMap", "x"), ("Secret", "x")]


def live(kind, name, uid="u-1", version="7", group="", resource="configmaps", api_version="v1"):
    return prune.PruneObject(kind, name, api_version, group, resource, uid, version)


def pruning_model(objects=None):
    api = WorkloadRef("Deployment", "api", NS)
    state = WorkloadState(api, "5", None, ("r/api:2",), [], has_revisions=False)
    model = ReleaseModel(RELEASE, NS, [declarative(2, Status.FAILED, FAILED), declarative(1, Status.SUCCEEDED, GOOD)],
                         {api: state})
    model.prune_objects = objects if objects is not None else {
        ("Deployment", "worker"): live("Deployment", "worker", group="apps", resource="deployments",
                                       api_version="apps/v1"),
        ("ConfigMap", "worker-config"): "configmap/worker-config carries no mark of release 2: not pruned",
    }
    return model


def test_without_prune_nothing_is_deleted_and_the_note_names_the_flag():
    decided = plan(pruning_model(), PlanOptions())
    assert decided.prune == []
    assert any("deployment/worker, configmap/worker-config were applied by release 2 but are not in release 1" in note
               and "--prune" in note for note in decided.notes), decided.notes


def test_with_prune_what_exists_is_deleted_first_and_the_rest_is_noted():
    model = pruning_model()
    decided = plan(model, PlanOptions(prune=True))
    assert names(decided.prune) == [("Deployment", "worker")]
    assert "configmap/worker-config carries no mark of release 2: not pruned" in decided.notes
    assert decided.has_changes
    writes = planned_writes.would_write(model, decided)
    pruned = [w for w in writes if w["action"] == "pruned"]
    assert pruned == [{"action": "pruned", "kind": "Deployment", "name": "worker"}]
    assert writes.index(pruned[0]) < min(i for i, w in enumerate(writes) if w["action"] == "reapplied")
    rights = [(verb, group, resource) for verb, group, resource, _ in permissions.needed(model, decided)]
    assert ("delete", "apps", "deployments") in rights


def test_an_object_already_gone_is_not_listed_and_a_rerun_changes_nothing():
    model = pruning_model(objects={})
    assert plan(model, PlanOptions(prune=True)).prune == []


def test_prune_needs_declarative_releases():
    model = pruning_model()
    legacy = Release(1, Status.SUCCEEDED, [], Source.LEGACY, store="configmap/release-x")
    model.releases = [model.releases[0], legacy]
    found, notes = prune.decide(model, model.releases[0], legacy, True)
    assert found == [] and "not a declarative release" in notes[0]


@pytest.mark.parametrize("obj, marked", [
    ({"metadata": {"labels": {"harness.io/release-name": RELEASE}}}, True),
    (deployment("worker", "2"), True),  # the label on its pod template
    # What kubectl apply leaves: the namespace it applied to and `annotations: {}`.
    ({"metadata": {"annotations": {last_applied.ANNOTATION: json.dumps(
        {**config_map("worker-config"), "metadata": {"name": "worker-config", "namespace": NS, "annotations": {}}})}}},
     True),
    ({"metadata": {"annotations": {last_applied.ANNOTATION: json.dumps(config_map("other"))}}}, False),
    ({"metadata": {"labels": {"harness.io/release-name": "another-release"}}}, False),
    ({"metadata": {}}, False),
])
def test_only_an_object_that_carries_the_failed_release_mark_is_pruned(obj, marked):
    manifest = obj if obj.get("kind") == "Deployment" else config_map("worker-config")
    assert prune.marked(obj, manifest, RELEASE) is marked


class Kube:
    def __init__(self, error=None):
        self.sent, self.error = [], error

    def delete(self, resource, name, namespace, body=None, dry_run=False):
        self.sent.append((resource.group, resource.version, resource.plural, name, namespace, body, dry_run))
        if self.error:
            raise self.error


def test_each_delete_is_guarded_by_uid_and_for_objects_without_status_by_resource_version():
    kube = Kube()
    config = live("ConfigMap", "worker-config")
    worker = live("Deployment", "worker", uid="u-2", group="apps", resource="deployments", api_version="apps/v1")
    assert prune_live.delete(kube, config, NS, DryRun.NONE) == {"action": "pruned", "kind": "ConfigMap",
                                                           "name": "worker-config"}
    prune_live.delete(kube, worker, NS, DryRun.SERVER)
    assert kube.sent == [
        ("", "v1", "configmaps", "worker-config", NS,
         {"preconditions": {"uid": "u-1", "resourceVersion": "7"}, "propagationPolicy": "Background"}, False),
        ("apps", "v1", "deployments", "worker", NS,
         {"preconditions": {"uid": "u-2"}, "propagationPolicy": "Background"}, True)]


@pytest.mark.parametrize("error", [apierrors.Conflict("replaced", 409, "", "delete", "configmaps"),
                                   apierrors.NotFound("gone", 404, "", "delete", "configmaps")])
def test_an_object_replaced_or_gone_since_it_was_read_is_passed_over(error):
    assert prune_live.delete(Kube(error), live("ConfigMap", "worker-config"), NS, DryRun.NONE) is None


def test_the_stage_objects_are_the_failed_releases_hpas_and_pdbs_of_its_color():
    refs = [WorkloadRef(kind, name, NS) for kind, name in (
        ("Deployment", "shop-green"), ("HorizontalPodAutoscaler", "shop-hpa-green"),
        ("PodDisruptionBudget", "shop-pdb-green"), ("HorizontalPodAutoscaler", "shop-hpa-blue"),
        ("ConfigMap", "config-green"))] + [WorkloadRef("PodDisruptionBudget", "x-green", "elsewhere")]
    release = Release(2, Status.FAILED, [], Source.LEGACY, store="configmap/release-bg", color="green", resources=refs)
    model = ReleaseModel("release-bg", NS, [release], {})
    assert names(bluegreen.stage_objects(model, release)) == [("HorizontalPodAutoscaler", "shop-hpa-green"),
                                                               ("PodDisruptionBudget", "shop-pdb-green")]


def test_a_deleted_workload_of_a_legacy_release_is_refused_naming_what_is_left():
    refs = [WorkloadRef("Deployment", name, NS) for name in ("api", "worker")]
    releases = [Release(number, status, [ReleaseWorkload(ref, number) for ref in refs], Source.LEGACY, store="configmap/r")
                for number, status in ((2, Status.FAILED), (1, Status.SUCCEEDED))]
    api = refs[0]
    kept = [Revision(api, n, (), "ReplicaSet", f"api-{n}", (f"r/api:{n}",)) for n in (1, 2)]
    model = ReleaseModel("r", NS, releases, {api: WorkloadState(api, "9", 2, ("r/api:2",), kept)})
    with pytest.raises(MissingWorkload) as raised:
        plan(model, PlanOptions())
    assert str(raised.value).startswith(
        "deployment/worker of release 1 no longer exists in namespace shop, and a legacy release keeps no manifest to "
        "recreate it: deployment/api could be restored")
    assert "nothing was changed" in str(raised.value)


def test_an_api_error_after_the_first_write_says_what_was_written():
    """A refusal after a prune (or any write) is still that refusal, with what was written."""
    from kubectl_harness_rollback.executor import _after_first_write
    from kubectl_harness_rollback.outcome import Outcome, pruned

    outcome = Outcome(written=[pruned("Deployment", "worker")])
    error = _after_first_write(apierrors.Forbidden("forbidden: cannot delete configmaps", 403, "no", "delete",
                                                   "configmaps"), outcome)
    assert isinstance(error, apierrors.Forbidden) and error.exit_code == 1 and error.outcome is outcome
    assert str(error).startswith("forbidden: cannot delete configmaps; already written before it failed: "
                                 "deployment/worker: deleted (--prune")


def test_a_blue_green_rollback_prunes_nothing():
    """Harness prunes a blue/green release in its stage deploy (K8sBGBaseHandler.java:246-295,
    pruneForBg), not when the rollback swaps the Services back."""
    from kubectl_harness_rollback.model import ServiceState

    refs = {color: WorkloadRef("Deployment", f"shop-{color}", NS) for color in ("blue", "green")}
    releases = [declarative(2, Status.FAILED, [deployment("shop-green", "2")]),
                declarative(1, Status.SUCCEEDED, [deployment("shop-blue", "1"), config_map("old")])]
    releases[0].color, releases[1].color = "green", "blue"
    states = {ref: WorkloadState(ref, "1", None, (), [], replicas=2, labels={"harness.io/color": color})
              for color, ref in refs.items()}
    services = [ServiceState("shop", NS, {"app": "shop", "harness.io/color": "green"},
                             {"harness.io/primary-service": "true"}, "1"),
                ServiceState("shop-stage", NS, {"app": "shop", "harness.io/color": "blue"},
                             {"harness.io/stage-service": "true"}, "1")]
    model = ReleaseModel("release-bg", NS, releases, states, services=services)
    decided = plan(model, PlanOptions(prune=True))
    assert decided.traffic is not None and decided.prune == []
    assert any(note.startswith("--prune: a blue/green rollback") for note in decided.notes)

"""Harness's canary delete, carried out: the failed release's `-canary` objects go first.

Harness (K8sCanaryDeleteRequestHandler) deletes the canary workloads its canary step listed —
the `<name>-canary` workload, its HPA and PDB, and for declarative releases its ConfigMaps and
Secrets — or, lacking that list, every resource of the latest InProgress/Failed release whose
name ends in `-canary`. The plan picks them (pure); this module reads the versions that guard
the deletes and deletes each only if it is still the object that was read.
"""

from __future__ import annotations

from kubectl_harness_rollback import kinds, outcome
from kubectl_harness_rollback import workloads as adapters
from kubectl_harness_rollback.cluster import apierrors
from kubectl_harness_rollback.cluster.rest import Resource
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.errors import Conflict
from kubectl_harness_rollback.harness_names import CANARY_SUFFIX
from kubectl_harness_rollback.model import RESTORABLE_KINDS, ReleaseModel, WorkloadRef

# What besides workloads a canary leaves behind, and where it lives in the API.
RESOURCES = {kind.name: Resource.of(kind) for kind in (kinds.HORIZONTAL_POD_AUTOSCALER, kinds.POD_DISRUPTION_BUDGET,
                                                       kinds.CONFIG_MAP, kinds.SECRET)}
COMPANION_KINDS = tuple(RESOURCES)
STATUS_CHURN = (kinds.HORIZONTAL_POD_AUTOSCALER.name, kinds.POD_DISRUPTION_BUDGET.name)


def companions(model: ReleaseModel) -> list[WorkloadRef]:
    """The current release's `-canary` resources that are not workloads, in the release's own
    namespace only: the record naming them is anyone's to write who may write the history, and a
    rollback never deletes beyond the namespace it was asked about."""
    current = model.current
    return sorted({ref for ref in (current.resources if current else [])
                   if ref.name.endswith(CANARY_SUFFIX) and ref.kind in COMPANION_KINDS and ref.namespace == model.namespace})


def read_versions(kube, model: ReleaseModel) -> dict[WorkloadRef, dict[str, str]]:
    """The delete precondition of each companion that still exists (one GET each; a Secret's
    data is read by the API but never kept or shown)."""
    versions = {}
    for ref in companions(model):
        try:
            found = kube.get_or_none(RESOURCES[ref.kind], ref.name, ref.namespace)
        except apierrors.Forbidden:
            # A read-only user may still plan: the object is then not deleted, and plan says so.
            model.notes.append(f"cannot read {ref}: it is not among the canary objects deleted first")
            continue
        if found is not None:
            meta = found.get("metadata") or {}
            # The controllers rewrite an HPA's and a PDB's status all the time (metrics, healthy
            # pods — the canary's own pods going away among them): a resourceVersion guard would
            # fail on every real rollback. Their UID still proves it is the object that was read.
            versions[ref] = ({"uid": meta.get("uid", "")} if ref.kind in STATUS_CHURN
                             else {"resourceVersion": meta.get("resourceVersion", "")})
    return versions


def in_order(refs: list[WorkloadRef]) -> list[WorkloadRef]:
    """Companions first: deleting the canary workload first would change their status (and so
    their version) under the delete that follows."""
    return sorted(refs, key=lambda ref: (ref.kind in RESTORABLE_KINDS, ref))


def delete(kube, model: ReleaseModel, ref: WorkloadRef, dry_run: DryRun) -> dict:
    """Delete one canary object, only if it is still the object that was read."""
    if ref.kind in RESTORABLE_KINDS:
        precondition = {"resourceVersion": model.workloads[ref].resource_version}
    else:
        precondition = model.canary_objects[ref]
    body = {"preconditions": precondition, "propagationPolicy": "Background"}
    try:
        if ref.kind in RESTORABLE_KINDS:
            adapters.adapter_for(ref.kind).delete(kube, ref.namespace, ref.name, body, dry_run.api_kwargs())
        else:
            kube.delete(RESOURCES[ref.kind], ref.name, ref.namespace, body=body, dry_run=dry_run is DryRun.SERVER)
    except apierrors.Conflict:
        raise Conflict(f"{ref} was changed by someone else after it was read; it was not deleted: run the "
                       "command again to re-plan") from None
    except apierrors.NotFound:
        pass
    return outcome.deleted(ref)

"""`--prune` against the live cluster: read the candidates, delete them guarded.

`--prune` against the live cluster: read what may be pruned, and delete it only if it is still
the object that was read. What to prune is decided in prune.py (pure)."""

from __future__ import annotations

from kubectl_harness_rollback import outcome
from kubectl_harness_rollback.apply.prune import NO_STATUS_KINDS, PruneObject, manifest_metadata, marked, possible
from kubectl_harness_rollback.cluster import apierrors
from kubectl_harness_rollback.cluster.rest import Resource
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.harness_names import RELEASE_NAME_LABEL
from kubectl_harness_rollback.model import ReleaseModel


def read(kube, model: ReleaseModel) -> dict[tuple[str, str], PruneObject | str]:
    """Each possible candidate as it is live: a PruneObject, or why it is not pruned (a sentence).
    A candidate that does not exist is left out. One discovery request per API version, one GET
    per candidate."""
    current = model.current
    manifests = {(m.get("kind"), manifest_metadata(m).get("name")): m for m in (current.manifests if current else [])
                 if isinstance(m, dict)}
    served: dict[str, list[dict] | None] = {}
    found: dict[tuple[str, str], PruneObject | str] = {}
    for item in possible(model):
        if item.api_version not in served:
            try:
                served[item.api_version] = kube.api_resources(item.api_version)
            except apierrors.ApiError:
                served[item.api_version] = None
        resource = next((r for r in served[item.api_version] or [] if r.get("kind") == item.kind
                         and "/" not in r.get("name", "")), None)
        if resource is None:
            found[item.key] = f"{item}: its kind is not served by this cluster as {item.api_version}; not pruned"
            continue
        if not resource.get("namespaced"):
            found[item.key] = f"{item} is cluster-scoped in this cluster: never pruned"
            continue
        group, _, version = item.api_version.rpartition("/")
        try:
            obj = kube.get_or_none(Resource(group, version, resource["name"]), item.name, model.namespace)
        except apierrors.Forbidden:
            found[item.key] = f"cannot read {item}: it is not pruned"
            continue
        if obj is None:
            continue
        if not marked(obj, manifests.get(item.key), model.release_name):
            found[item.key] = (f"{item} carries no mark of release {current.number} (no {RELEASE_NAME_LABEL}="
                               f"{model.release_name} label, and it was not last applied from that release's "
                               "manifest): not pruned")
            continue
        meta = obj.get("metadata") or {}
        found[item.key] = PruneObject(item.kind, item.name, item.api_version, group, resource["name"],
                                      meta.get("uid", ""), meta.get("resourceVersion", ""))
    return found


def delete(kube, obj: PruneObject, namespace: str, dry_run: DryRun) -> dict | None:
    """Delete one object only if it is still the object that was read; the outcome item, or None
    when it was not deleted (replaced since, or already gone)."""
    precondition = {"uid": obj.uid}
    if obj.kind in NO_STATUS_KINDS:
        precondition["resourceVersion"] = obj.resource_version
    version = obj.api_version.rpartition("/")[2]
    body = {"preconditions": precondition, "propagationPolicy": "Background"}
    try:
        kube.delete(Resource(obj.group, version, obj.resource), obj.name, namespace, body=body,
                    dry_run=dry_run is DryRun.SERVER)
    except (apierrors.Conflict, apierrors.NotFound):
        return None
    return outcome.pruned(obj.kind, obj.name)

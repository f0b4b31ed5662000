"""Re-apply a declarative release's stored manifest with server-side apply (README: Use, "What it restores").

Only what reapply_scope allows is applied, into the release's namespace: the planner has
already refused a release holding anything else, and this module refuses it again (and
anything the API server says is not namespaced) before its first write, so that no caller
can apply a release Secret's contents with the operator's rights unchecked. Each object is sent
with dryRun=All first, so that what the API server refuses stops the rollback before any write.
"""

from __future__ import annotations

from kubectl_harness_rollback import outcome
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.reapply_scope import OutsideReapplyScope, reapply_scope
from kubectl_harness_rollback.rest import Resource

FIELD_MANAGER = "kubectl-harness_rollback"


def reapply(kube, documents: list[dict], namespace: str, dry_run: DryRun) -> list[dict]:
    """Server-side apply every resource of the release into `namespace`, taking ownership of
    conflicting fields (the release being restored is the truth). Returns what was applied as
    outcome items: kind/name only, never content (a release holds Secrets)."""
    objects = reapply_scope(documents, namespace)  # raises before any write
    served: dict[str, list[dict]] = {}
    resolved = []
    for obj, document in zip(objects, documents):
        if obj.api_version not in served:  # discovery: one request per group version
            served[obj.api_version] = kube.api_resources(obj.api_version)
        found = next((r for r in served[obj.api_version] if r.get("kind") == obj.kind and "/" not in r["name"]), None)
        # The allow-list holds namespaced kinds only; never trust it blindly.
        if found is None or not found.get("namespaced"):
            raise OutsideReapplyScope(f"{obj} is not namespaced in this cluster, which a rollback does not "
                                      "re-apply; nothing was changed")
        group, _, version = obj.api_version.rpartition("/")
        resource = Resource(group, version, found["name"])
        resolved.append((obj, resource, {**document, "metadata": {**document["metadata"], "namespace": namespace}}))
    # Every object is first sent with dryRun=All: a refusal (forbidden, invalid, a webhook) then
    # comes before the first write, not after half of the release was applied.
    for mode in [DryRun.SERVER] if dry_run is DryRun.SERVER else [DryRun.SERVER, dry_run]:
        for obj, resource, body in resolved:
            kube.patch(resource, obj.name, namespace, body, "apply", dry_run=mode is DryRun.SERVER,
                       field_manager=FIELD_MANAGER, force=True)
    return [outcome.reapplied(obj.kind, obj.name) for obj, _, _ in resolved]

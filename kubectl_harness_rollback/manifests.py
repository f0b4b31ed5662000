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

FIELD_MANAGER = "kubectl-harness_rollback"


def reapply(kube, documents: list[dict], namespace: str, dry_run: DryRun) -> list[dict]:
    """Server-side apply every resource of the release into `namespace`, taking ownership of
    conflicting fields (the release being restored is the truth). Returns what was applied as
    outcome items: kind/name only, never content (a release holds Secrets)."""
    from kubernetes.dynamic import DynamicClient

    objects = reapply_scope(documents, namespace)  # raises before any write
    dynamic = DynamicClient(kube.api_client)
    resolved = []
    for obj, document in zip(objects, documents):
        api = dynamic.resources.get(api_version=obj.api_version, kind=obj.kind)
        if not api.namespaced:  # the allow-list holds namespaced kinds only; never trust it blindly
            raise OutsideReapplyScope(f"{obj} is not namespaced in this cluster, which a rollback does not "
                                      "re-apply; nothing was changed")
        resolved.append((obj, api, {**document, "metadata": {**document["metadata"], "namespace": namespace}}))
    # Every object is first sent with dryRun=All: a refusal (forbidden, invalid, a webhook) then
    # comes before the first write, not after half of the release was applied.
    for mode in [DryRun.SERVER] if dry_run is DryRun.SERVER else [DryRun.SERVER, dry_run]:
        for obj, api, body in resolved:
            dynamic.server_side_apply(api, body=body, name=obj.name, namespace=namespace,
                                      field_manager=FIELD_MANAGER, force_conflicts=True, **mode.api_kwargs())
    return [outcome.reapplied(obj.kind, obj.name) for obj, _, _ in resolved]

"""Re-apply a declarative release's stored manifest with server-side apply (PRODUCT.md §5)."""

from __future__ import annotations

from kubectl_harness_rollback.dryrun import DryRun

FIELD_MANAGER = "kubectl-harness_rollback"


def reapply(kube, documents: list[dict], namespace: str, dry_run: DryRun) -> list[str]:
    """Server-side apply every resource of the release, taking ownership of conflicting fields
    (the release being restored is the truth). Returns what was applied, in words."""
    from kubernetes.dynamic import DynamicClient

    dynamic = DynamicClient(kube.api_client)
    applied = []
    for document in documents:
        api = dynamic.resources.get(api_version=document["apiVersion"], kind=document["kind"])
        name = document["metadata"]["name"]
        target_namespace = (document["metadata"].get("namespace") or namespace) if api.namespaced else None
        body = {**document, "metadata": {**document["metadata"], **({"namespace": target_namespace}
                                                                     if target_namespace else {})}}
        dynamic.server_side_apply(api, body=body, name=name, namespace=target_namespace,
                                  field_manager=FIELD_MANAGER, force_conflicts=True, **dry_run.api_kwargs())
        applied.append(f"{document['kind'].lower()}/{name}: re-applied from the stored manifest")
    return applied

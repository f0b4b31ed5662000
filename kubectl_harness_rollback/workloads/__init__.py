"""One adapter per workload kind behind one interface, found through `adapter_for(kind)`.

Each adapter module offers:
  kind                                   the API kind it handles
  list_workloads(kube, namespace)        every object of that kind in the namespace (one list)
  list_children(kube, namespace, obj)    the objects that hold its revisions (one list)
  state(obj, children) -> WorkloadState  pure: the workload and its revisions
Adding a kind is one module, one line below, one test file.
"""

from __future__ import annotations

from types import ModuleType

from kubectl_harness_rollback.errors import Conflict, UsageError
from kubectl_harness_rollback.workloads import daemonset, deployment, replicaset, statefulset

ADAPTERS: dict[str, ModuleType] = {
    module.kind: module for module in (deployment, statefulset, daemonset, replicaset)
}

# What users type (`deploy/web`, `sts/db`) to the API kind.
KIND_ALIASES = {
    "deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment",
    "statefulset": "StatefulSet", "statefulsets": "StatefulSet", "sts": "StatefulSet",
    "daemonset": "DaemonSet", "daemonsets": "DaemonSet", "ds": "DaemonSet",
    "replicaset": "ReplicaSet", "replicasets": "ReplicaSet", "rs": "ReplicaSet",
}


def canonical_kind(text: str) -> str:
    """The API kind for what a user typed; UsageError listing the supported kinds otherwise."""
    kind = KIND_ALIASES.get(text.lower().split(".", 1)[0])
    if kind is None:
        supported = ", ".join(sorted({k.lower() for k in ADAPTERS}))
        raise UsageError(f"unsupported workload kind '{text}': use one of {supported}")
    return kind


def adapter_for(kind: str) -> ModuleType:
    return ADAPTERS[canonical_kind(kind)]


def patch_guarded(kube, ref, body, dry_run: dict) -> dict:
    """Patch a workload through its adapter. The body carries the resourceVersion read when
    planning, so the API server answers 409 if anyone changed the object since: that stops us.
    The generated client sends a list body as a JSON patch and a dict as a strategic merge patch."""
    from kubernetes.client.exceptions import ApiException

    try:
        return adapter_for(ref.kind).patch(kube, ref.namespace, ref.name, body, dry_run)
    except ApiException as exc:
        if exc.status == 409:
            raise Conflict(f"{ref} was changed by someone else after it was read; nothing of it was overwritten: "
                           "run the command again to re-plan from its current state") from None
        raise

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

from kubectl_harness_rollback.errors import UsageError
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

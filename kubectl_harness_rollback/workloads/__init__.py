"""One adapter per workload kind behind one interface, found through `adapter_for(kind)`.

Each adapter module implements every member of `base.WorkloadAdapter` (the reads, the pure
state, `restore` — the patch that carries out a planned change —, the writes and the waiting).
Adding a kind is one module, one line below, one test file (tests/unit/test_workloads_<kind>.py).
"""

from __future__ import annotations

from kubectl_harness_rollback.errors import Conflict, UsageError
from kubectl_harness_rollback.workloads import daemonset, deployment, replicaset, statefulset
from kubectl_harness_rollback.workloads.base import WorkloadAdapter

ADAPTERS: dict[str, WorkloadAdapter] = {
    module.kind: module for module in (deployment, statefulset, daemonset, replicaset)
}

# What kubectl accepts for these kinds, case-insensitively: the singular and plural resource
# names and the short name, alone or qualified by their group (`deployments.apps`) or by version
# and group (`deployment.v1.apps`). Anything else (`deployment.example.com`) is another resource.
_RESOURCE_NAMES = {
    "Deployment": ("deployment", "deployments", "deploy"),
    "StatefulSet": ("statefulset", "statefulsets", "sts"),
    "DaemonSet": ("daemonset", "daemonsets", "ds"),
    "ReplicaSet": ("replicaset", "replicasets", "rs"),
}
KIND_ALIASES = {
    name + qualifier: kind
    for kind, names in _RESOURCE_NAMES.items() for name in names for qualifier in ("", ".apps", ".v1.apps")
}


def canonical_kind(text: str) -> str:
    """The API kind for what a user typed; UsageError listing the supported kinds otherwise."""
    kind = KIND_ALIASES.get(text.lower())
    if kind is None:
        supported = ", ".join(sorted({k.lower() for k in ADAPTERS}))
        raise UsageError(f"unsupported workload kind {text!r}: use one of {supported} "
                         "(or deploy, sts, ds, rs; optionally with .apps or .v1.apps)")
    return kind


def adapter_for(kind: str) -> WorkloadAdapter:
    return ADAPTERS[canonical_kind(kind)]


def patch_guarded(kube, ref, body, dry_run: dict) -> dict:
    """Patch a workload through its adapter. The body carries the resourceVersion read when
    planning, so the API server answers 409 if anyone changed the object since: that stops us.
    A list body is sent as a JSON patch and a dict as a strategic merge patch."""
    from kubectl_harness_rollback.cluster import apierrors

    try:
        return adapter_for(ref.kind).patch(kube, ref.namespace, ref.name, body, dry_run)
    except apierrors.Conflict:
        raise Conflict(f"{ref} was changed by someone else after it was read; nothing of it was overwritten: "
                       "run the command again to re-plan from its current state") from None

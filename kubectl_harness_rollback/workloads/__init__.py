"""One adapter per workload kind behind one interface, found through `adapter_for(kind)`.

Each adapter module implements every member of `base.WorkloadAdapter` (the reads, the pure
state, `restore` — the patch that carries out a planned change —, the writes and the waiting).
Adding a kind is one line in kinds.py (with `restored_by`), its module here named after the kind
(`workloads/<kind>.py`, declaring `KIND` from the table) and one test file
(tests/unit/test_workloads_<kind>.py).
"""

from __future__ import annotations

import importlib

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.errors import Conflict, UsageError
from kubectl_harness_rollback.workloads.base import WorkloadAdapter

# The adapter of each workload kind of the table is the module named after the kind.
ADAPTERS: dict[str, WorkloadAdapter] = {
    kind.name: importlib.import_module(f"{__name__}.{kind.singular}") for kind in kinds.WORKLOADS
}

# What kubectl accepts for these kinds, case-insensitively (kinds.Kind.aliases). Anything else
# (`deployment.example.com`) is another resource.
KIND_ALIASES = {alias: kind.name for kind in kinds.WORKLOADS for alias in kind.aliases}


def canonical_kind(text: str) -> str:
    """The API kind for what a user typed; UsageError listing the supported kinds otherwise."""
    kind = KIND_ALIASES.get(text.lower())
    if kind is None:
        supported = ", ".join(sorted({k.lower() for k in ADAPTERS}))
        table = [kinds.BY_NAME[name] for name in ADAPTERS]
        short = ", ".join(name for kind in table for name in kind.short_names)
        groups = " or ".join(dict.fromkeys(f".{k.group} or .{k.version}.{k.group}" for k in table if k.group))
        raise UsageError(f"unsupported workload kind {text!r}: use one of {supported} "
                         f"(or {short}; optionally with {groups})")
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

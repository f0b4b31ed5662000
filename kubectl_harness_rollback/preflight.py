"""Checks that stop a rollback before any write (README: "A night on call").

Each one stops what would be written and recorded but could never roll out: the history would
then say the rollback-to release runs while the failed one still serves, and every retry would do
the same. Each check reads at most once per kind of object.
"""

from __future__ import annotations

from typing import Callable

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.apply.reapply_scope import refusal_error
from kubectl_harness_rollback.cluster.apierrors import Forbidden
from kubectl_harness_rollback.cluster.rest import (
    NAMESPACES,
    Resource,
)
from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.model import ReleaseModel, WorkloadRef
from kubectl_harness_rollback.planner import Plan
from kubectl_harness_rollback.workloads.pod_template import image_pull_secrets, referenced_config, referenced_objects


class PausedWorkload(PluginError):
    """kubectl refuses to roll back a paused Deployment; so do we."""


class MissingReference(PluginError):
    """The restored template needs an object (ConfigMap, Secret, ServiceAccount, PriorityClass,
    PersistentVolumeClaim) that no longer exists."""


class GoingAway(PluginError):
    """A workload the rollback writes, or the namespace, is being deleted."""


# kind -> resource of what a restored template may reference.
REFERENCED = {kind.name: Resource.of(kind) for kind in (kinds.CONFIG_MAP, kinds.SECRET, kinds.SERVICE_ACCOUNT,
                                                        kinds.PRIORITY_CLASS, kinds.PERSISTENT_VOLUME_CLAIM)}
# Kinds the rollback checked before these were: a denied read of them stops it, as it always did.
# For the others, a denied read is a warning (a Role from before them may not grant it).
REQUIRED_READS = (kinds.CONFIG_MAP.name, kinds.SECRET.name)


def check_reapply_scope(plan: Plan) -> None:
    """A declarative release holding anything the safety filter refuses is not re-applied at all."""
    if plan.refused and plan.target is not None:
        release = f"release {plan.target.number}" + (f" (secret/{plan.target.secret})" if plan.target.secret else "")
        raise refusal_error(plan.refused, release)


def check_not_paused(model: ReleaseModel, plan: Plan) -> None:
    for change in plan.workloads:
        state = model.workloads.get(change.ref)
        if state is not None and state.paused and not change.unchanged:
            raise PausedWorkload(
                f"you cannot rollback a paused deployment; resume it first with "
                f"'kubectl rollout resume deployment/{change.ref.name} -n {change.ref.namespace}' and try again")


def written_workloads(plan: Plan) -> list[WorkloadRef]:
    """Every workload the plan writes: restored, re-applied, scaled, or scaled for a swap."""
    refs = [c.ref for c in plan.workloads if not c.unchanged] + [c.ref for c in plan.scale_down]
    if plan.traffic is not None and plan.traffic.swaps:
        refs += [ref for ref in (plan.traffic.back_workload, plan.traffic.failed_workload) if ref is not None]
    return sorted(set(refs))


def check_not_deleting(model: ReleaseModel, plan: Plan) -> None:
    """A workload with a deletionTimestamp (held by a finalizer) takes a patch and never rolls out."""
    for ref in written_workloads(plan):
        state = model.workloads.get(ref)
        meta = (state.raw.get("metadata") or {}) if state is not None else {}
        if meta.get("deletionTimestamp"):
            held = ", ".join(meta.get("finalizers") or []) or "its finalizers"
            raise GoingAway(
                f"{ref} is being deleted (since {meta['deletionTimestamp']}, held by {held}): a rollback of it "
                "would never roll out; nothing was changed (let the deletion finish, or cancel it by redeploying)")


def check_namespace_active(kube, namespace: str) -> None:
    """Nothing can be created in a Terminating namespace (no pod, no ReplicaSet): stop first. One
    GET; a user who may not read the namespace is not stopped by what cannot be known."""
    try:
        found = kube.get_or_none(NAMESPACES, namespace)
    except Forbidden:
        return
    if found is not None and ((found.get("status") or {}).get("phase") == "Terminating"
                              or (found.get("metadata") or {}).get("deletionTimestamp")):
        raise GoingAway(f"namespace {namespace} is being deleted (Terminating): no pod of a rollback could start "
                        "there; nothing was changed")


def restored_templates(plan: Plan) -> list[tuple[str, dict]]:
    """(workload, pod template) the rollback will restore: a revision's, or for a declarative
    release the template its stored manifest holds."""
    found = [(str(c.ref), c.source.template) for c in plan.workloads
             if c.source is not None and not c.unchanged and c.source.template]
    if plan.target is not None and plan.target.is_declarative:
        changed = {(c.ref.kind, c.ref.name) for c in plan.workloads if not c.unchanged and c.source is None}
        for manifest in plan.target.manifests:
            meta = manifest.get("metadata") if isinstance(manifest.get("metadata"), dict) else {}
            template = (manifest.get("spec") or {}).get("template") if isinstance(manifest.get("spec"), dict) else None
            if (manifest.get("kind"), meta.get("name")) in changed and isinstance(template, dict):
                found.append((f"{str(manifest['kind']).lower()}/{meta['name']}", template))
    return found


def _carried(plan: Plan) -> set[tuple[str, str]]:
    """(kind, name) of what a declarative rollback applies itself: it need not exist beforehand."""
    if plan.target is None or not plan.target.is_declarative:
        return set()
    return {(o.kind, o.name) for o in plan.reapply}


def _existing(kube, resource, names: set[str], namespace: str) -> set[str]:
    """Which of `names` exist: one GET for one name, else one list (metadata only: a Secret's
    content is never read for this); a denied list falls back to one GET each."""
    scope = namespace if resource.namespaced else None
    if len(names) > 1:
        try:
            return {o["metadata"]["name"] for o in kube.list(resource, scope, metadata_only=True)} & names
        except Forbidden:
            pass
    return {name for name in names if kube.get_or_none(resource, name, scope) is not None}


def check_references(kube, namespace: str, plan: Plan, warn: Callable[[str], None] = lambda line: None) -> None:
    """Every ConfigMap, Secret, ServiceAccount, PriorityClass and PersistentVolumeClaim the restored
    templates need must exist (or come with the release being re-applied); a missing image pull
    Secret is only warned about, since the images may be there already or pull without it.
    One read per kind; a Secret's content is never printed (only whether it exists matters)."""
    carried = _carried(plan)
    needed: dict[str, dict[str, str]] = {}  # kind -> name -> the first workload that needs it
    pulls: dict[str, str] = {}
    for workload, template in restored_templates(plan):
        for kind, name in referenced_config(template, pull_secrets=False) + referenced_objects(template):
            if (kind, name) not in carried:
                needed.setdefault(kind, {}).setdefault(name, workload)
        for name in image_pull_secrets(template):
            if (kinds.SECRET.name, name) not in carried:
                pulls.setdefault(name, workload)
    if pulls:
        needed.setdefault(kinds.SECRET.name, {})
    for kind in REFERENCED:
        names = needed.get(kind)
        if names is None:
            continue
        wanted = set(names) | (set(pulls) if kind == kinds.SECRET.name else set())
        try:
            there = _existing(kube, REFERENCED[kind], wanted, namespace)
        except Forbidden:
            if kind in REQUIRED_READS:
                raise
            warn(f"cannot read {REFERENCED[kind].plural} in {namespace}: the {kind}s the restored template needs are "
                 "not checked")
            continue
        for name, workload in sorted(names.items()):
            if name not in there:
                where = f"in namespace {namespace}" if REFERENCED[kind].namespaced else "in the cluster"
                raise MissingReference(
                    f"{kind.lower()}/{name} needed by the template restored to {workload} no longer exists {where}; "
                    "nothing was changed (recreate it, or choose another release with --to-release)")
        if kind == kinds.SECRET.name:
            for name, workload in sorted(pulls.items()):
                if name not in there:
                    warn(f"image pull secret/{name} of the template restored to {workload} does not exist in "
                         f"namespace {namespace}: its pods pull only images the nodes already have or may pull "
                         "without it")

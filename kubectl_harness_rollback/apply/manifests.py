"""Re-apply a declarative release's stored manifest as `kubectl apply` does (README: "What it restores").

Harness restores a declarative release with `kubectl apply` (K8sTaskHelperBase.applyManifests):
a client-side three-way merge, so fields the failed release added are removed. Here the same end
state comes from server-side apply (the server merges by the API's own schema): the fields the
last `kubectl apply` owned are handed to an Apply entry of kubectl's manager first (client-go
util/csaupgrade), the release's manifest is applied under it with kubectl's last-applied
annotation, and the entry is handed back as the Update a client-side apply leaves (last_applied).

Only what reapply_scope's safety filter allows is applied, into the release's namespace: the
rollback has already refused a release holding anything else, and this module refuses it again
(and any kind the API server says is not namespaced, or does not serve) before its first write,
so that no caller can apply a release Secret's contents with the operator's rights unchecked.
Each object is sent with dryRun=All first, so that what the API server refuses stops the rollback
before any write.
Every write is guarded by the resourceVersion read when planning.
"""

from __future__ import annotations

import copy
import time
from typing import Callable

from kubectl_harness_rollback import outcome
from kubectl_harness_rollback.apply import last_applied
from kubectl_harness_rollback.apply.object_diff import SERVER_METADATA, STATUS_ONLY_RETRIES, only_status_moved
from kubectl_harness_rollback.apply.reapply_scope import OutsideReapplyScope, ReapplyObject, reapply_scope, split_scope
from kubectl_harness_rollback.cluster.apierrors import Forbidden
from kubectl_harness_rollback.cluster.rest import Resource
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.errors import Conflict

FIELD_MANAGER = last_applied.CSA_MANAGER


def key(obj: ReapplyObject) -> tuple[str, str, str]:
    """How the live objects are keyed: one object, whichever version of its group names it."""
    return obj.group, obj.kind, obj.name


def _resolve(kube, objects: list[ReapplyObject]) -> dict[ReapplyObject, Resource]:
    """The REST resource of each object, from discovery (one request per group version)."""
    served: dict[str, list[dict]] = {}
    resolved = {}
    for obj in objects:
        if obj.api_version not in served:
            served[obj.api_version] = kube.api_resources(obj.api_version)
        found = next((r for r in served[obj.api_version] if r.get("kind") == obj.kind and "/" not in r["name"]), None)
        # The filter knows a few cluster-scoped kinds by name; the API server knows them all.
        if found is None:
            raise OutsideReapplyScope(f"{obj} is of a kind this cluster does not serve ({obj.kind} in "
                                      f"{obj.api_version}); nothing was changed")
        if not found.get("namespaced"):
            raise OutsideReapplyScope(f"{obj} is not namespaced in this cluster (cluster-scoped), which a rollback "
                                      "does not re-apply; nothing was changed")
        group, _, version = obj.api_version.rpartition("/")
        resolved[obj] = Resource(group, version, found["name"])
    return resolved


def read_live(kube, documents: list[dict], namespace: str, notes: list[str]) -> dict[tuple, dict | None]:
    """Each object of the release as the cluster has it now (None: it does not exist). One that
    may not be read is left out, with a note: the plan then cannot say it is unchanged. What the
    safety filter refuses is never read: `plan` lists it, and `rollback` refuses the release."""
    objects = [obj for obj, _ in split_scope(documents, namespace)[0]]
    live: dict[tuple, dict | None] = {}
    for obj, resource in _resolve(kube, objects).items():
        try:
            live[key(obj)] = kube.get_or_none(resource, obj.name, namespace)
        except Forbidden:
            notes.append(f"cannot read {obj} in {namespace}: it is re-applied without comparing it first")
    return live


def _body(document: dict, namespace: str) -> dict:
    """What is applied: the manifest in the release's namespace, with kubectl's annotation."""
    body = copy.deepcopy(document)
    meta = body.setdefault("metadata", {})
    for field in SERVER_METADATA:
        meta.pop(field, None)
    meta["namespace"] = namespace
    meta["annotations"] = {**(meta.get("annotations") or {}),
                           last_applied.ANNOTATION: last_applied.value(document, namespace)}
    body.pop("status", None)
    return body


def reapply(kube, documents: list[dict], namespace: str, dry_run: DryRun,
            live: dict[tuple, dict | None] | None = None, only: list[ReapplyObject] | None = None,
            applied: Callable[[dict], None] | None = None) -> list[dict]:
    """Apply the release's objects (`only` those, when given) into `namespace` so that each ends
    as `kubectl apply` leaves it; `live` is each object as read when planning (its version
    guards the writes). Returns what was applied as outcome items: kind/name only, never
    content (a release holds Secrets). `applied` hears of each object as soon as it is applied,
    so that a failure half-way can say which objects were already changed."""
    objects = reapply_scope(documents, namespace)  # raises before any write
    chosen = [(obj, doc) for obj, doc in zip(objects, documents) if only is None or obj in only]
    resources = _resolve(kube, [obj for obj, _ in chosen])
    live = live or {}
    # Every object is first sent with dryRun=All: a refusal (forbidden, invalid, a webhook) then
    # comes before the first write, not after half of the release was applied.
    for obj, document in chosen:
        kube.patch(resources[obj], obj.name, namespace, _body(document, namespace), "apply", dry_run=True,
                   field_manager=FIELD_MANAGER, force=True)
    done = []
    for obj, document in chosen:
        if dry_run is not DryRun.SERVER:
            _apply(kube, resources[obj], obj.name, namespace, _body(document, namespace), live.get(key(obj)))
        done.append(outcome.reapplied(obj.kind, obj.name))
        if applied is not None:
            applied(done[-1])
    return done


def _apply(kube, resource: Resource, name: str, namespace: str, body: dict, read: dict | None) -> None:
    """Hand the client-side applier's fields to kubectl's manager, apply, hand them back."""
    for attempt in range(STATUS_ONLY_RETRIES + 1):
        current = read
        try:
            if current is not None:
                entries = last_applied.upgraded((current.get("metadata") or {}).get("managedFields") or [])
                if entries is not None:
                    current = kube.patch(resource, name, namespace, last_applied.managed_fields_patch(
                        entries, current["metadata"]["resourceVersion"]), "json")
                body = {**body, "metadata": {**body["metadata"],
                                             "resourceVersion": current["metadata"]["resourceVersion"]}}
            applied = kube.patch(resource, name, namespace, body, "apply", dry_run=False, field_manager=FIELD_MANAGER,
                                 force=True)
            break
        except Conflict:
            now = kube.get_or_none(resource, name, namespace) if attempt < STATUS_ONLY_RETRIES else None
            if read is None or now is None or not only_status_moved(read, now, replicas_may_move=True):
                raise  # someone else changed it since the plan was made: re-plan (exit 5)
            read = now
    _hand_back(kube, resource, name, namespace, applied)


# A Deployment that just got a new template has its status written by its controller many times
# a second while the rollout starts: handing ownership back is retried from a fresh read this many
# times, a little later each time.
HAND_BACK_ATTEMPTS = 12
HAND_BACK_PAUSE = 0.05  # seconds, times the attempt number


def _hand_back(kube, resource: Resource, name: str, namespace: str, applied: dict | None,
               sleep=time.sleep) -> None:
    """Turn the Apply entry back into the Update entry `kubectl apply` leaves, so that the next
    `kubectl apply --server-side` takes the fields over as from any client-side apply. Only
    ownership is rewritten, from a fresh read after a lost race."""
    for attempt in range(HAND_BACK_ATTEMPTS):
        meta = (applied or {}).get("metadata") or {}
        entries = last_applied.downgraded(meta.get("managedFields") or [])
        if entries is None:
            return
        try:
            kube.patch(resource, name, namespace, last_applied.managed_fields_patch(entries, meta["resourceVersion"]),
                       "json")
            return
        except Conflict:
            sleep(HAND_BACK_PAUSE * attempt)
            applied = kube.get_or_none(resource, name, namespace)
    raise Conflict(f"{resource.plural}/{name} kept changing while its field ownership was handed back; "
                   "run the same command again to finish")

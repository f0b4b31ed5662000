"""Whether a deploy overtook the rollback before it records anything.

Harness applies a new release's manifests, then saves the release InProgress in the history
(K8sRollingRequestHandler.executeTaskInternal: applyManifests, then setManagedWorkloadsInRelease
and saveReleaseHistoryInConfigMap), with no guard. A deploy that lands while a rollback runs makes
the rollback's plan stale: what it would record (release N Failed, release M runs revision R) is
about a history that has moved on. So, before recording, the records and the restored workloads
are compared again; if a newer release appeared, or a workload no longer runs what was restored,
nothing is recorded and the run stops (exit 5): the next run plans from the new state.
"""

from __future__ import annotations

import re

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.cluster import apierrors
from kubectl_harness_rollback.cluster.rest import SECRETS, Resource
from kubectl_harness_rollback.errors import Conflict, CorruptHistory
from kubectl_harness_rollback.harness_names import (
    LABEL_RELEASE_NUMBER,
    RELEASE_SECRET_TYPE,
)
from kubectl_harness_rollback.model import ReleaseModel, WorkloadRef
from kubectl_harness_rollback.planner import Plan
from kubectl_harness_rollback.records import declarative, history_codec
from kubectl_harness_rollback.workloads.common import template_images

_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits only: a label is anyone's to write


class Overtaken(Conflict):
    """A deploy (or someone else) overtook the rollback between its write and its records: nothing
    was recorded; the next run decides afresh (exit 5)."""


def newest_in_history(kube, model: ReleaseModel) -> tuple[int, str] | None:
    """(the newest release number, where) of the legacy history as it is now; None when it is
    unchanged since it was read, gone, or there is none."""
    store = model.history_store
    if store is None:
        return None
    resource = Resource.of(kinds.BY_NAME[store.kind])
    now = kube.get_or_none(resource, store.name, store.namespace)
    if now is None or (now.get("metadata") or {}).get("resourceVersion") == store.resource_version:
        return None
    where = f"{store.kind.lower()}/{store.name}"
    try:
        doc, _ = history_codec.decode_history(store.kind, store.name, store.namespace, now.get("data"))
        numbers = [r.number for r in history_codec.releases_from_history(doc, where, store.namespace)]
    except CorruptHistory:
        return None  # not a newer release; the write, guarded by the version read, is refused (409)
    return (max(numbers), where) if numbers else None


def newest_declarative(kube, model: ReleaseModel) -> tuple[int, str] | None:
    """(the newest release number, its Secret) among the release's declarative release Secrets
    now (their labels: metadata only); None when there is none or they may not be listed."""
    if not any(r.is_legacy or r.is_declarative for r in model.releases):
        return None  # judged by its own revisions (no release records): no deploy records releases here
    selector = declarative.selector(model.release_name)
    try:
        # Only Secrets of the release type are releases (a metadata list carries no type: ask the server).
        # At least as new as the Secrets the plan listed: the API server answers from its watch
        # cache, where a release Secret created since arrives within milliseconds, instead of
        # waiting until that cache has caught up with the rollback's own writes (about 40 ms here,
        # on the rollback's way to steady).
        listed = kube.list(SECRETS, model.namespace, label_selector=selector,
                           field_selector=f"type={RELEASE_SECRET_TYPE}", metadata_only=True,
                           not_older_than=kube.listed.get(SECRETS.path(model.namespace)))
    except apierrors.Forbidden:
        return None  # the plan was made without them too (a note said so)
    found = []
    for secret in listed:
        meta = secret.get("metadata") or {}
        label = (meta.get("labels") or {}).get(LABEL_RELEASE_NUMBER)
        if isinstance(label, str) and _NUMBER.fullmatch(label):
            found.append((int(label), f"secret/{meta.get('name')}"))
    return max(found) if found else None


def newer_release(kube, model: ReleaseModel, history: bool = True) -> tuple[int, str] | None:
    """(number, where) of a release newer than every release the plan was made from, if one
    appeared since the release was read. `history` False skips reading the legacy history again:
    its write is guarded by the version read, so a release saved there meanwhile makes it a 409."""
    known = max((r.number for r in model.releases if r.number is not None), default=0)
    newest = [found for found in (newest_in_history(kube, model) if history else None,
                                  newest_declarative(kube, model)) if found]
    newer = [found for found in newest if found[0] > known]
    return max(newer) if newer else None


def not_restored(plan: Plan, seen: dict[WorkloadRef, dict]) -> list[str]:
    """Pure: the workloads whose template, as last seen, is not what the rollback restored (someone
    applied another template after the rollback's write): "deployment/web runs web:4"."""
    moved = []
    for change in plan.workloads:
        obj = seen.get(change.ref)
        if obj is None or change.to_replicas is not None or not change.to_images:
            continue
        images = template_images((obj.get("spec") or {}).get("template"))
        if images != tuple(change.to_images):
            moved.append(f"{change.ref} runs {', '.join(images) or 'no image'}, not the restored "
                         f"{', '.join(change.to_images)}")
    return moved


def check(kube, model: ReleaseModel, plan: Plan, seen: dict[WorkloadRef, dict], history: bool = True) -> None:
    """Raise Overtaken when a newer release appeared or a restored workload was changed since the
    rollback read the release: recording the rollback then would record something it is not.
    `history`: read the legacy history again too (see newer_release)."""
    moved = not_restored(plan, seen)
    newer = newer_release(kube, model, history)
    if newer is None and not moved:
        return
    parts = []
    if newer is not None:
        number, where = newer
        parts.append(f"release {number} of {model.release_name} appeared in {where} while this rollback ran "
                     "(a deploy started meanwhile)")
    if moved:
        parts.append("; ".join(moved) + " (changed by someone else after the rollback's write)")
    current = plan.current.number if plan.current else None
    raise Overtaken(f"{' and '.join(parts)}: the rollback from release {current} was not recorded, so that no "
                    "record says what is not; the next run decides afresh from what is there now")

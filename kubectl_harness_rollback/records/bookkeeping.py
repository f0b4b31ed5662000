"""What a rollback records, as Harness does, plus an audit trail.

- the current release becomes Failed;
- the rollback-to release's stored revision becomes the number Kubernetes gave the restored
  ReplicaSet/ControllerRevision, so the next deploy-fail-rollback cycle still finds it;
- the history is written back in the format and encoding it was read in (guarded by the
  resourceVersion read, so a concurrent writer is never overwritten);
- an annotation on each workload says who rolled back what, and a Kubernetes Event says it too.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from kubectl_harness_rollback import outcome
from kubectl_harness_rollback.cluster import apierrors
from kubectl_harness_rollback.cluster.rest import CONFIGMAPS, EVENTS, SECRETS, SELF_SUBJECT_REVIEWS
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.errors import Conflict
from kubectl_harness_rollback.harness_names import (
    LABEL_BG_ENVIRONMENT,
    LABEL_STATUS,
    LAST_ROLLBACK_ANNOTATION,
)
from kubectl_harness_rollback.model import HistoryStore, Release, ReleaseModel, Status, WorkloadRef
from kubectl_harness_rollback.records import history_codec

if TYPE_CHECKING:  # the plan's type only: records sit below the planner
    from kubectl_harness_rollback.planner import Plan

COMPONENT = "kubectl-harness_rollback"


def now_iso(clock) -> str:
    return datetime.fromtimestamp(clock(), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def audit_annotations(plan: Plan, user: str, at: str) -> dict[str, str]:
    """The annotation a rollback leaves on each workload it changes (one JSON value)."""
    record = {
        "by": user, "at": at, "release": plan.release_name,
        "fromRelease": plan.current.number if plan.current else None,
        "toRelease": plan.target.number if plan.target else None,
        "revisions": {str(w.ref): {"from": w.from_revision, "to": w.to_revision, "images": list(w.to_images)}
                      for w in plan.workloads},
    }
    return {LAST_ROLLBACK_ANNOTATION: json.dumps(record, separators=(",", ":"), sort_keys=True)}


def whoami(kube) -> str:
    """The authenticated user, as the API server sees it (SelfSubjectReview), else the context."""
    try:
        review = kube.create(SELF_SUBJECT_REVIEWS, None,
                             {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        return ((review.get("status") or {}).get("userInfo") or {}).get("username") or kube.context
    except apierrors.ApiError:
        return kube.context


def updated_history_doc(doc: dict, plan: Plan, new_revisions: dict[WorkloadRef, int]) -> dict:
    """The legacy history after the rollback (pure: edits a copy). Only the releases that live
    in the legacy history are edited here; declarative ones keep their records in their Secrets."""
    doc = copy.deepcopy(doc)  # YAML may hold dates and other values JSON cannot copy
    if plan.traffic is not None:
        # Blue/green: Harness's swap bookkeeping moves bgEnvironment and changes no status.
        for release, environment in plan.traffic.environments:
            if release.is_legacy:
                history_codec.set_bg_environment(doc, release.number, environment)
        return doc
    if plan.current.is_legacy:
        # Harness marks the release it rolled back from Failed, whatever it was recorded as.
        history_codec.set_release_status(doc, plan.current.number, Status.FAILED)
    if not plan.target.is_legacy:  # declarative, or a revision no release records (--to-revision)
        return doc
    for ref, number in sorted(new_revisions.items()):
        recorded = next((w for w in plan.target.workloads if w.ref == ref), None)
        if recorded is not None and number is not None:
            history_codec.set_workload_revision(doc, plan.target.number, ref, number)
    return doc


def write_history(kube, store: HistoryStore, doc: dict, dry_run: DryRun, context: str) -> None:
    """Write a history document back where and how it was read, guarded by the resourceVersion
    read with it: if anyone wrote the history since, the API server answers 409 and nothing is
    overwritten. `context` says, in that case, what has already been done."""
    resource = {"ConfigMap": CONFIGMAPS, "Secret": SECRETS}[store.kind]
    data: dict = history_codec.encode_history(doc, store.kind, store.compressed)
    if not store.compressed:
        data.setdefault(history_codec.COMPRESSED_KEY, None)  # a merge patch null removes a stale flag
    try:
        kube.patch(resource, store.name, store.namespace,
                   {"metadata": {"resourceVersion": store.resource_version}, "data": data}, "strategic",
                   dry_run=dry_run is DryRun.SERVER)
    except apierrors.Conflict:
        raise Conflict(f"{store.kind.lower()}/{store.name} changed since it was read; {context} but its history "
                       "was not updated: run the same command again to record it") from None


def write_legacy_history(kube, model: ReleaseModel, plan: Plan, new_revisions: dict[WorkloadRef, int],
                         dry_run: DryRun) -> dict | None:
    """Record the rollback in the legacy history; returns what was done as an outcome item (None:
    the history needed no change, e.g. every release involved is declarative)."""
    store = model.history_store
    doc = updated_history_doc(store.document, plan, new_revisions)
    if doc == store.document:
        return None
    write_history(kube, store, doc, dry_run, "the rollback was done")
    changes: list[dict] = []
    if plan.traffic is not None:
        changes += [{"release": r.number, "bgEnvironment": env} for r, env in plan.traffic.environments
                    if r.is_legacy]
    else:
        if plan.current.is_legacy:
            changes.append({"release": plan.current.number, "status": Status.FAILED.value})
        if plan.target.is_legacy:
            changes += [{"release": plan.target.number, "kind": ref.kind, "name": ref.name, "revision": n}
                        for ref, n in sorted(new_revisions.items()) if n is not None]
    return outcome.history_updated(store.kind, store.name, changes)


def pending_records(model: ReleaseModel, plan: Plan, revisions: dict[WorkloadRef, int]) -> list[str]:
    """The records a finished rollback to `plan.target` would have written and that do not say so
    yet — what a run interrupted between the workload writes and the history write left undone.
    Pure: rollback derives what is missing from the records themselves, so any later run finishes it."""
    if plan.target is None or plan.current is None or plan.target.number == plan.current.number:
        return []
    lagging = []
    store = model.history_store
    if store is not None and updated_history_doc(store.document, plan, revisions) != store.document:
        lagging.append(f"{store.kind.lower()}/{store.name}")
    if plan.traffic is None and plan.current.is_declarative and plan.current.status != Status.FAILED:
        lagging.append(f"secret/{plan.current.secret}")
    if plan.traffic is not None:
        lagging += [f"secret/{r.secret}" for r, _ in plan.traffic.environments if r.is_declarative]
    return lagging


def mark_declarative_failed(kube, model: ReleaseModel, plan: Plan, dry_run: DryRun) -> dict | None:
    """Declarative releases keep their status in the release Secret's `status` label."""
    if not plan.current.is_declarative or plan.current.status == Status.FAILED:
        return None
    return _label_release_secret(kube, model, plan.current, {LABEL_STATUS: Status.FAILED.value}, dry_run)


def label_declarative_environments(kube, model: ReleaseModel, plan: Plan, dry_run: DryRun) -> list[dict]:
    """Blue/green swap bookkeeping of declarative releases: the harness.io/bg-environment label."""
    return [_label_release_secret(kube, model, release, {LABEL_BG_ENVIRONMENT: environment}, dry_run)
            for release, environment in plan.traffic.environments if release.is_declarative]


def _label_release_secret(kube, model: ReleaseModel, release: Release, labels: dict[str, str],
                          dry_run: DryRun) -> dict:
    """Label the very Secret the release was read from: a name rebuilt from the number could be
    another Secret, or none."""
    name = release.secret
    kube.patch(SECRETS, name, model.namespace, {"metadata": {"labels": labels}}, "strategic",
               dry_run=dry_run is DryRun.SERVER)
    return outcome.labelled("Secret", name, labels)


def record_event(kube, namespace: str, name: str, kind: str, api_version: str, uid: str, message: str, at: str,
                 dry_run: DryRun) -> None:
    """A Normal event on the object, visible in `kubectl describe` and `kubectl get events`."""
    body = {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"generateName": f"{name}.", "namespace": namespace},
        "involvedObject": {"apiVersion": api_version, "kind": kind, "name": name, "namespace": namespace,
                           "uid": uid},
        "reason": "RolledBack", "message": message, "type": "Normal",
        "source": {"component": COMPONENT}, "reportingComponent": COMPONENT, "reportingInstance": COMPONENT,
        "firstTimestamp": at, "lastTimestamp": at, "count": 1,
    }
    kube.create(EVENTS, namespace, body, dry_run=dry_run is DryRun.SERVER)

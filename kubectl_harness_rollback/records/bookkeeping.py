"""What a rollback records, as Harness does, plus an audit trail.

- the current release becomes Failed (a roll forward fails nothing: it records the release it
  returns to again, as the newest, Succeeded: roll_forward.py);
- the rollback-to release's stored revision becomes the number Kubernetes gave the restored
  ReplicaSet/ControllerRevision, so the next deploy-fail-rollback cycle still finds it;
- the history is written back in the format and encoding it was read in (guarded by the
  resourceVersion read, so a concurrent writer is never overwritten);
- each record format says which edits a plan implies (records/registry.py); `send` is where
  they are written, and the dry run lists the very same edits;
- an annotation on each workload says who rolled back what, and a Kubernetes Event says it too.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.cluster import apierrors
from kubectl_harness_rollback.cluster.rest import CONFIGMAPS, EVENTS, SECRETS, SELF_SUBJECT_REVIEWS
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.errors import Conflict
from kubectl_harness_rollback.harness_names import CHANGE_CAUSE_ANNOTATION, LAST_ROLLBACK_ANNOTATION
from kubectl_harness_rollback.model import HistoryStore, ReleaseModel, WorkloadRef
from kubectl_harness_rollback.records import declarative, legacy, registry
from kubectl_harness_rollback.records.store import Edit

if TYPE_CHECKING:  # the plan's type only: records sit below the planner
    from kubectl_harness_rollback.planner import Plan

COMPONENT = "kubectl-harness_rollback"
RESOURCES = {kinds.CONFIG_MAP.name: CONFIGMAPS, kinds.SECRET.name: SECRETS}  # the kinds records are kept in


def now_iso(clock) -> str:
    return datetime.fromtimestamp(clock(), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def audit_annotations(plan: Plan, user: str, at: str, reason: str | None = None) -> dict[str, str]:
    """The annotation a rollback leaves on each workload it changes (one JSON value), with the
    --reason given."""
    record = {
        "by": user, "at": at, "release": plan.release_name,
        "fromRelease": plan.current.number if plan.current else None,
        # A roll forward names the release it was recorded as, and the release it returned to.
        "toRelease": plan.new_release or (plan.target.number if plan.target else None),
        **({"rolledForwardTo": plan.target.number} if plan.rolls_forward and plan.target else {}),
        "revisions": {str(w.ref): {"from": w.from_revision, "to": w.to_revision, "images": list(w.to_images)}
                      for w in plan.workloads},
    }
    if reason:
        record["reason"] = reason
    traffic = plan.traffic
    if traffic is not None and traffic.swaps:
        # Written on the primary Service with its selector: the colors make it the swap-back's own
        # record (strategies/swap_record.py reads it back).
        record["fromColor"], record["toColor"] = traffic.swaps[0].from_color, traffic.swaps[0].to_color
    return {LAST_ROLLBACK_ANNOTATION: json.dumps(record, separators=(",", ":"), sort_keys=True)}


def change_cause(plan: Plan, user: str, reason: str | None = None) -> dict[str, str]:
    """kubectl's change-cause annotation for a workload whose pod template a rollback restores
    (kubectl's `--record` puts it on the object): the Deployment controller copies it onto the
    restored ReplicaSet, so `kubectl rollout history` and k9s show the rollback, and why."""
    to = f"release {plan.target.number}" if plan.target and plan.target.number is not None else "a revision"
    cause = (f"kubectl harness-rollback: {plan.release_name} rolled back from release "
             f"{plan.current.number if plan.current else '?'} to {to} by {user}")
    return {CHANGE_CAUSE_ANNOTATION: cause + (f": {reason}" if reason else "")}


def with_reason(message: str, reason: str | None) -> str:
    """An Event's message, with the --reason given."""
    return f"{message}; reason: {reason}" if reason else message


def whoami(kube) -> str:
    """The authenticated user, as the API server sees it (SelfSubjectReview), else the context."""
    try:
        review = kube.create(SELF_SUBJECT_REVIEWS, None,
                             {"apiVersion": kinds.SELF_SUBJECT_REVIEW.api_version, "kind": kinds.SELF_SUBJECT_REVIEW.name})
        return ((review.get("status") or {}).get("userInfo") or {}).get("username") or kube.context
    except apierrors.ApiError:
        return kube.context


def send(kube, edits: list[Edit], dry_run: DryRun, context: str, done: list[dict]) -> None:
    """Send each edit, in order, appending its outcome item to `done` once it is written. A guarded
    edit that meets a newer version (409) overwrites nothing: `context` then says what has already
    been done. The one place records are written; the dry run lists the same edits instead."""
    for edit in edits:
        resource = RESOURCES[edit.kind]
        try:
            if edit.verb == "create":
                kube.create(resource, edit.namespace, edit.patch, dry_run=dry_run is DryRun.SERVER)
            else:
                kube.patch(resource, edit.name, edit.namespace, edit.patch, "strategic",
                           dry_run=dry_run is DryRun.SERVER)
        except apierrors.Conflict:
            if not edit.guarded:
                raise
            what = ("was created by someone else since the releases were read" if edit.verb == "create"
                    else "changed since it was read")
            raise Conflict(f"{edit.where} {what}; {context} but its history was not updated: "
                           "run the same command again to record it") from None
        done.append(edit.item)


def write_history(kube, store: HistoryStore, doc: dict, dry_run: DryRun, context: str) -> None:
    """Write a history document back where and how it was read, guarded by the resourceVersion
    read with it: if anyone wrote the history since, the API server answers 409 and nothing is
    overwritten. `context` says, in that case, what has already been done."""
    send(kube, [legacy.history_edit(store, doc, [])], dry_run, context, [])


def pending_records(model: ReleaseModel, plan: Plan, revisions: dict[WorkloadRef, int]) -> list[str]:
    """The records a finished rollback to `plan.target` would have written and that do not say so
    yet — what a run interrupted between the workload writes and the history write left undone.
    Pure: rollback derives what is missing from the records themselves, so any later run finishes it."""
    if plan.target is None or plan.current is None or (plan.target.number == plan.current.number
                                                           and not plan.rolls_forward):
        return []
    return [edit.where for edit in registry.edits(model, plan, revisions)]


def mark_declarative_failed(kube, model: ReleaseModel, plan: Plan, dry_run: DryRun) -> dict | None:
    """Declarative releases keep their status in the release Secret's `status` label."""
    done: list[dict] = []
    send(kube, declarative.STORE.edits(model, plan, {}), dry_run, "the rollback was done", done)
    return done[0] if done else None


def record_event(kube, namespace: str, name: str, kind: str, api_version: str, uid: str, message: str, at: str,
                 dry_run: DryRun) -> None:
    """A Normal event on the object, visible in `kubectl describe` and `kubectl get events`."""
    body = {
        "apiVersion": kinds.EVENT.api_version, "kind": kinds.EVENT.name,
        "metadata": {"generateName": f"{name}.", "namespace": namespace},
        "involvedObject": {"apiVersion": api_version, "kind": kind, "name": name, "namespace": namespace,
                           "uid": uid},
        "reason": "RolledBack", "message": message, "type": "Normal",
        "source": {"component": COMPONENT}, "reportingComponent": COMPONENT, "reportingInstance": COMPONENT,
        "firstTimestamp": at, "lastTimestamp": at, "count": 1,
    }
    kube.create(EVENTS, namespace, body, dry_run=dry_run is DryRun.SERVER)

"""The documented -o json/yaml shapes of `list`, `history` and `plan` (README: "-o json").

Pure: model and plan in, plain dicts out. Field names are camelCase like the Kubernetes API;
adding a field is compatible, renaming or removing one is not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubectl_harness_rollback import live_release
from kubectl_harness_rollback.model import Identity, Release, ReleaseModel
from kubectl_harness_rollback.strategies import bluegreen, swap_record
from kubectl_harness_rollback.strategies.bluegreen import TrafficPlan

if TYPE_CHECKING:  # a read's views need no planner: it is loaded only by the commands that plan
    from kubectl_harness_rollback.planner import Plan


def _identity(identity: Identity | None) -> tuple[str | None, dict | None]:
    if identity is None:
        return None, None
    infra = identity.infra
    return identity.workflow_id, {"serviceId": infra.service_id, "infraId": infra.infra_id,
                                  "clusterName": infra.cluster_name, "namespace": infra.namespace}


def release_summary(release: Release | None) -> dict | None:
    if release is None:
        return None
    workflow_id, _ = _identity(release.identity)
    return {"number": release.number, "status": release.status.value if release.status else None,
            "workflowId": workflow_id}


def history_view(model: ReleaseModel, limit: int | None = None) -> list[dict]:
    """`history -o json`: releases newest first, with revisions and images as the cluster has them;
    the newest `limit` of them (`--max`)."""
    rows = []
    now_live = {row.ref: row for row in live_release.live_workloads(model)}
    roles, swapped = _blue_green_roles(model, now_live) if bluegreen.is_blue_green(model) else ({}, None)
    for release in model.releases[:limit]:
        workflow_id, infra = _identity(release.identity)
        workloads = []
        for item in release.workloads:
            state = model.workloads.get(item.ref)
            revision = state.revision(item.revision) if state and item.revision is not None else None
            workloads.append({
                "kind": item.ref.kind, "name": item.ref.name, "revision": item.revision,
                # The number Kubernetes knows it by now, if an earlier rollback renumbered it.
                "currentRevision": revision.number if revision else None,
                "images": list(revision.images) if revision else [],
                # This release's revision is what the workload runs now.
                "live": _live_on(now_live, item.ref, release),
            })
        row = {"number": release.number, "status": release.status.value if release.status else None,
               "workflowId": workflow_id, "infraMapping": infra, "workloads": workloads, "source": release.where,
               "updated": live_release.release_updated(model, release), "live": any(w["live"] for w in workloads)}
        record = next((r.last_rollback for r in now_live.values()
                       if r.release == release.number and r.last_rollback is not None), None)
        if record is not None:
            row["rolledBack"] = record.view()
        color = bluegreen.release_color(model, release)
        if release.bg_environment or color:
            row["bgEnvironment"], row["color"] = release.bg_environment, color
            row["role"] = roles.get(release.number) or release.bg_environment
            if swapped is not None and swapped.from_release == release.number:
                row["swappedBack"] = swapped.view()
        rows.append(row)
    return rows


def _blue_green_roles(model: ReleaseModel, now_live: dict) -> tuple[dict[int, str], swap_record.SwapBack | None]:
    """({release: primary | stage} for each release a color's workload runs now, from what the
    Services route; the last swap-back the primary Service records). A release no workload runs
    is left to its recorded bgEnvironment (Harness's last word on it)."""
    try:
        primary, stage = bluegreen.find_services(model)
    except bluegreen.BlueGreenError:
        return {}, None
    routes = {primary.selector[bluegreen.COLOR]: "primary", stage.selector[bluegreen.COLOR]: "stage"}
    roles: dict[int, str] = {}
    for ref, row in sorted(now_live.items()):
        color = bluegreen.workload_color(model.workloads[ref])
        if row.release is not None and color in routes:
            roles.setdefault(row.release, routes[color])
    record = swap_record.read(primary.name, primary.annotations)
    if record is not None and record.release_name not in (None, model.release_name):
        record = None
    return roles, record


def _live_on(now_live: dict, ref, release: Release) -> bool:
    row = now_live.get(ref)
    return row is not None and row.release == release.number


def live_view(rows: list[live_release.LiveWorkload]) -> list[dict]:
    """What each workload runs now: `status -o json` and `list -o json` share it."""
    return [{"kind": row.ref.kind, "name": row.ref.name, "release": row.release, "revision": row.revision,
             "images": list(row.images), "since": row.since,
             "lastRollback": row.last_rollback.view() if row.last_rollback else None} for row in rows]


def plan_view(plan: Plan) -> dict:
    """`plan -o json`."""
    return {
        "release": plan.release_name,
        "namespace": plan.namespace,
        "mode": plan.mode.value,
        "match": plan.match.value,
        "current": release_summary(plan.current),
        "target": release_summary(plan.target),
        "eligible": plan.eligible,
        "changes": plan.has_changes,
        "reason": plan.reason,
        # Returning to the newest release after a rollback: `current` is the release live now, and
        # `newRelease` the number the target is recorded again under (null where no legacy history or
        # release Secret keeps releases).
        "rollForward": plan.rolls_forward,
        "newRelease": plan.new_release,
        "workloads": [
            {"kind": w.ref.kind, "name": w.ref.name, "fromRevision": w.from_revision, "toRevision": w.to_revision,
             "recordedRevision": w.recorded_revision, "fromImages": list(w.from_images),
             "toImages": list(w.to_images),
             "source": f"{w.source.object_kind}/{w.source.object_name}" if w.source else None,
             "unchanged": w.unchanged, "differences": list(w.differences)}
            for w in plan.workloads
        ],
        # Declarative target: the objects `kubectl apply` of its manifest would change, and which
        # fields (paths; never a Secret's values).
        "reapply": [{"kind": obj.kind, "name": obj.name, "differences": list(plan.reapply_differences.get(obj, []))}
                    for obj in plan.reapply],
        # What the safety filter refuses to re-apply (while any is, the rollback writes nothing).
        "refused": [{"kind": r.kind, "name": r.name, "rule": r.rule, "reason": r.reason} for r in plan.refused],
        # Canary: what is deleted first (Harness's canary delete).
        "delete": [{"kind": ref.kind, "name": ref.name} for ref in plan.deletions],
        # --prune: what the failed release applied and the rollback-to release does not hold, in
        # the order it is deleted (empty without --prune; the notes name it then).
        "prune": [{"kind": obj.kind, "name": obj.name} for obj in plan.prune],
        "notes": list(plan.notes),
        # Argo CD, Flux, Helm: who else owns a workload, and its own way back (owners.py).
        "owners": owners_view(plan.owners),
        **({"services": _services(plan.traffic)} if plan.traffic is not None else {}),
    }


def owners_view(owned: list) -> list[dict]:
    """`owners` of `plan -o json` and `status -o json`: one entry per workload and owner."""
    return [{"kind": ref.kind, "name": ref.name, "owner": owner.tool, "ownerKind": owner.kind,
             "ownerName": owner.name, "ownerNamespace": owner.namespace, "gitops": owner.gitops,
             "evidence": list(owner.evidence), "consequence": owner.consequence, "command": owner.command}
            for ref, owner in owned]


def _services(traffic: TrafficPlan) -> list[dict]:
    """For blue/green: each Service's color now and after (the same when nothing is swapped)."""
    swapped = {swap.name: swap for swap in traffic.swaps}
    rows = []
    for role, service in (("primary", traffic.primary), ("stage", traffic.stage)):
        now = service.selector.get(bluegreen.COLOR)
        after = swapped[service.name].to_color if service.name in swapped else now
        rows.append({"name": service.name, "role": role, "fromColor": now, "toColor": after})
    return rows


def outcome_view(plan: Plan, outcome, dry_run: str, would_write: list[dict] | None = None) -> dict:
    """`rollback -o json`: what was written, the new revision numbers, what was recorded; for a
    dry run, `wouldWrite`: every write the real run would make (intended.would_write)."""
    return {
        "dryRun": dry_run,
        "changed": bool(outcome.written),
        "written": list(outcome.written),
        "newRevisions": [{"kind": ref.kind, "name": ref.name, "revision": number}
                         for ref, number in sorted(outcome.new_revisions.items())],
        "recorded": list(outcome.recorded),
        "steady": outcome.steady,
        "nothingToDo": not plan.has_changes,
        **({"wouldWrite": would_write} if would_write is not None else {}),
    }

"""Every write a rollback would make, from its plan alone: what a dry run lists. Pure.

The items have the shape of outcome.py's (what a real run reports having done), plus
`annotated` for the harness.io/last-rollback annotation that rides on each workload or Service
patch, so `rollback --dry-run -o json` and a real run can be compared item by item.
"""

from __future__ import annotations

from kubectl_harness_rollback import kinds, outcome
from kubectl_harness_rollback.harness_names import LAST_ROLLBACK_ANNOTATION
from kubectl_harness_rollback.records import registry

ANNOTATED = "annotated"  # the last-rollback annotation, written with the workload's or Service's patch


def annotated(kind: str, name: str) -> dict:
    return {"action": ANNOTATED, "kind": kind, "name": name, "annotation": LAST_ROLLBACK_ANNOTATION}


def would_write(model, plan, scale_down_stage: bool = False, has_revisions=lambda kind: True) -> list[dict]:
    """The writes, in the order the rollback makes them: workloads and Services first, then the
    records (history write-back, release Secret labels: records/registry.py's edits), Events.
    Empty when nothing changes."""
    if plan.target is None or not plan.has_changes:
        return []
    if plan.traffic is not None:
        return _traffic_writes(model, plan, scale_down_stage)
    changes = [c for c in plan.workloads if not c.unchanged]
    items = [outcome.deleted(ref) for ref in plan.deletions]
    items += [outcome.pruned(obj.kind, obj.name) for obj in plan.prune]
    declarative = plan.target.is_declarative and changes
    if declarative:
        items += [outcome.reapplied(obj.kind, obj.name) for obj in plan.reapply]
    for change in ([] if declarative else [c for c in changes if c.to_replicas is None]):
        items += [outcome.restored(change.ref, change.to_revision, change.to_images),
                  annotated(change.ref.kind, change.ref.name)]
    items += [outcome.scaled(c.ref, c.to_replicas) for c in plan.workloads + plan.scale_down
              if c.to_replicas is not None]
    items += _records(model, plan)
    items += [outcome.event(c.ref.kind, c.ref.name) for c in changes
              if c.ref in model.workloads or has_revisions(c.ref.kind)]
    return items


def _traffic_writes(model, plan, scale_down_stage: bool) -> list[dict]:
    traffic = plan.traffic
    items = []
    if traffic.scale_up_to:
        items.append(outcome.scaled(traffic.back_workload, traffic.scale_up_to))
    for position, swap in enumerate(traffic.swaps):
        items.append(outcome.routed(swap.name, swap.to_color, swap.from_color))
        if position == 0:
            items.append(annotated(kinds.SERVICE.name, swap.name))
    if scale_down_stage:
        from kubectl_harness_rollback.strategies.traffic import STAGE_WHY

        items += [outcome.deleted(ref, STAGE_WHY) for ref in traffic.stage_objects]
    if scale_down_stage and traffic.failed_workload is not None:
        items.append(outcome.scaled(traffic.failed_workload, 0))
    items += _records(model, plan)
    items.append(outcome.event(kinds.SERVICE.name, traffic.primary.name))
    return items


def _records(model, plan) -> list[dict]:
    """The record writes: the very edits the bookkeeping step sends, planned before any write."""
    return [edit.item for edit in registry.edits(model, plan, None)]

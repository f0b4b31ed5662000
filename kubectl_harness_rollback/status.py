"""`status`: is the release steady, and which release is live on each workload.

`status`: is the release steady now, which release is live on each workload (and, for
blue/green, behind the primary Service), and the last rollback (pure: model in, view out).

Steady is judged as `kubectl rollout status` judges it, from the workload objects already read;
`watch` re-reads the release each time what it shows changes (status_watch.py watches it), until it
is steady or the deadline passes.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Callable

from kubectl_harness_rollback import action, live_release, views
from kubectl_harness_rollback import workloads as adapters
from kubectl_harness_rollback.errors import NotSteady, RolloutFailed
from kubectl_harness_rollback.model import ReleaseModel, WorkloadState
from kubectl_harness_rollback.strategies import bluegreen
from kubectl_harness_rollback.workloads import owners


def readiness(state: WorkloadState) -> tuple[bool, str, bool]:
    """(steady, the controller's words, whether the controller gave up) for one workload. A rollout
    the controller gave up on (progress deadline exceeded) is not steady, and says so."""
    current = state.revision(state.current_revision) if state.current_revision is not None else None
    try:
        # The condition of a ReplicaSet the workload no longer runs is not about this rollout.
        steady, message = adapters.adapter_for(state.ref.kind).rollout_status(
            state.raw, current.object_name if current else None)
        return steady, message, False
    except RolloutFailed as exc:
        return False, str(exc), True


def _last_change(state: WorkloadState, since: str | None) -> str | None:
    """When the workload last moved: a Deployment's Progressing condition says when it last made
    progress; otherwise when it began running its current revision."""
    for condition in (state.raw.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("lastUpdateTime"):
            return max(condition["lastUpdateTime"], since or "")
    return since


def release_action(model: ReleaseModel, now_live: list, ready: dict, now: datetime | None,
                   primary: dict | None = None, swap_back: dict | None = None) -> str | None:
    """The ACTION of the release (action.decide): `now_live` is live_release.live_workloads(model),
    `ready` each workload's readiness(). Pure but for the clock when `now` is None. Blue/green with
    its `primary` ({color, release}: the primary Service) known: what the primary routes is live,
    and its color's workloads decide steadiness (the stage color keeps the release swapped away);
    its `swap_back` in effect is the rollback (who, when: on the Service, not the workloads)."""
    latest = model.releases[0] if model.releases else None
    live = tuple(live_release.live_numbers(now_live))
    if primary is not None and primary.get("release") is not None:
        live = (primary["release"],)
        ready = {ref: r for ref, r in ready.items() if bluegreen.workload_color(model.workloads[ref])
                 in (primary["color"], None)}
        now_live = [row for row in now_live if row.ref in ready]
    record = live_release.latest_rollback(now_live)
    changes = [_last_change(model.workloads[row.ref], row.since) for row in now_live]
    rollback = swap_back if swap_back is not None else (record.view() if record else None)
    state = action.ReleaseState(
        latest=latest.number if latest else None,
        status=latest.status.value if latest is not None and latest.status else None,
        live=live,
        steady=all(steady for steady, _, _ in ready.values()),
        gave_up=any(gave_up for _, _, gave_up in ready.values()),
        last_rollback=rollback,
        last_change=max((c for c in changes if c), default=None))
    return action.decide(state, now or datetime.now(timezone.utc))


def _primary(model: ReleaseModel, by_color: dict[str, dict]) -> tuple[dict | None, str | None, dict | None]:
    """({service, color, release} of the primary Service, or None; a note when it cannot be told;
    the swap-back it records while that is still in effect)."""
    if not bluegreen.is_blue_green(model):
        return None, None, None
    try:
        primary, stage = bluegreen.find_services(model)
    except bluegreen.BlueGreenError as exc:
        return None, str(exc), None
    color = primary.selector.get(bluegreen.COLOR)
    serving = by_color.get(color) or {}
    swapped = bluegreen.swapped_back(model, primary, model.current) if model.current is not None else None
    return ({"service": primary.name, "stage": stage.name, "color": color, "release": serving.get("release")}, None,
            swapped.view() if swapped is not None else None)


def primary_route(model: ReleaseModel, now_live: list) -> tuple[dict | None, dict | None]:
    """Blue/green: ({service, stage, color, release} of the primary Service (model.services), the
    swap-back it records while that is in effect), or (None, None)."""
    by_color = {}
    for row in now_live:
        color = bluegreen.workload_color(model.workloads[row.ref])
        if color:
            by_color[color] = {"release": row.release}
    if not model.services:
        return None, None
    primary, _, swap_back = _primary(model, by_color)
    return primary, swap_back


def status_view(model: ReleaseModel, now_time: datetime | None = None) -> dict:
    """`status -o json`: {release, namespace, steady, action, workloads: [...], primary, lastRollback,
    swapBack, notes}. `now_time`: the clock's reading for the action (None: read it)."""
    now = live_release.live_workloads(model)
    rows, by_color, ready = [], {}, {}
    blue_green = bluegreen.is_blue_green(model)
    for row, view in zip(now, views.live_view(now)):
        state = model.workloads[row.ref]
        ready[row.ref] = readiness(state)
        steady, message, _ = ready[row.ref]
        color = bluegreen.workload_color(state) if blue_green else None
        view.update({"steady": steady, "message": message, "color": color})
        if color:
            by_color[color] = view
        rows.append(view)
    primary, note, swap_back = _primary(model, by_color)
    if not rows:  # nothing runs: steady, trivially, and said so rather than shown as an empty table
        note = f"no workload of release {model.release_name} exists in namespace {model.namespace}"
    record = live_release.latest_rollback(now)
    return {
        "release": model.release_name, "namespace": model.namespace,
        "steady": all(row["steady"] for row in rows),
        "action": release_action(model, now, ready, now_time, primary, swap_back),
        "liveReleases": live_release.live_numbers(now),
        "workloads": rows,
        **({"primary": primary} if primary is not None else {}),
        "lastRollback": record.view() if record else None,
        # Blue/green: the swap-back of the latest release, while nothing has moved since.
        **({"swapBack": swap_back} if primary is not None else {}),
        "owners": views.owners_view(owners.owned_workloads(model.workloads.values())),
        "notes": ([note] if note else []) + list(model.notes),
    }


def not_steady(view: dict) -> NotSteady:
    """The exit-4 error for a view that is not steady, naming what is not and why."""
    pending = [f"{row['kind'].lower()}/{row['name']}: {row['message']}" for row in view["workloads"]
               if not row["steady"]]
    return NotSteady(f"release {view['release']} is not steady: " + "; ".join(pending))


def releases_not_steady(result) -> NotSteady | None:
    """The exit-4 error of `status` without TARGET (result: commands.ListResult): the releases
    that are not steady, or whose steadiness cannot be told, named; None when all are steady."""
    pending = [f"{row['namespace']}/{row['release']}" for row in result.rows if row.get("steady") is not True]
    if not pending:
        return None
    shown = ", ".join(pending[:PENDING_NAMED]) + (f" and {len(pending) - PENDING_NAMED} more"
                                                  if len(pending) > PENDING_NAMED else "")
    unknown = " (or cannot be told)" if any(row.get("steady") is None for row in result.rows) else ""
    verb = "release is" if len(pending) == 1 else "releases are"
    return NotSteady(f"{len(pending)} {verb} not steady{unknown}: {shown}")


# An exit-4 line names this many releases that are not steady (the table shows them all).
PENDING_NAMED = 5


def watch(read: Callable[[], ReleaseModel], timeout: float | None, show: Callable[[dict], None], every: bool,
          changed: Callable[[ReleaseModel, float | None], None], clock: Callable[[], float] = time.monotonic,
          explain: Callable[[ReleaseModel, dict], None] | None = None,
          extend: Callable[[ReleaseModel, dict], None] | None = None) -> dict:
    """Read the release until it is steady or `timeout` seconds pass (None: until steady), again
    each time `changed(model, seconds)` returns (a change to what it shows, or `seconds` passed).
    `show` gets the view each time it changes (`every`), else once at the end. Returns the last view.
    `explain(model, view)` adds why a release that ends not steady is not (diagnosis.py), before
    the view is shown once at the end. `extend(model, view)` adds to each view before it is
    compared and shown (the timeline)."""
    deadline = None if timeout is None else clock() + timeout
    last = None
    while True:
        model = read()
        view = status_view(model)
        if extend is not None:
            extend(model, view)
        if every and view != last:
            show(view)
        last = view
        if view["steady"] or (deadline is not None and clock() >= deadline):
            break
        changed(model, None if deadline is None else max(0.0, deadline - clock()))
    if not every:
        if explain is not None and not view["steady"]:
            explain(model, view)
        show(view)
    return view

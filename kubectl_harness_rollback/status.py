"""`status`: is the release steady, and which release is live on each workload.

`status`: is the release steady now, which release is live on each workload (and, for
blue/green, behind the primary Service), and the last rollback (pure: model in, view out).

Steady is judged as `kubectl rollout status` judges it, from the workload objects already read;
`watch` re-reads the release each time what it shows changes (status_watch.py watches it), until it
is steady or the deadline passes.
"""

from __future__ import annotations

import time
from typing import Callable

from kubectl_harness_rollback import live_release, views
from kubectl_harness_rollback import workloads as adapters
from kubectl_harness_rollback.errors import NotSteady, RolloutFailed
from kubectl_harness_rollback.model import ReleaseModel, WorkloadState
from kubectl_harness_rollback.strategies import bluegreen
from kubectl_harness_rollback.workloads import owners


def steadiness(state: WorkloadState) -> tuple[bool, str]:
    """(steady, the controller's words) for one workload. A rollout the controller gave up on
    (progress deadline exceeded) is not steady, and says so."""
    current = state.revision(state.current_revision) if state.current_revision is not None else None
    try:
        # The condition of a ReplicaSet the workload no longer runs is not about this rollout.
        return adapters.adapter_for(state.ref.kind).rollout_status(state.raw, current.object_name if current else None)
    except RolloutFailed as exc:
        return False, str(exc)


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


def status_view(model: ReleaseModel) -> dict:
    """`status -o json`: {release, namespace, steady, workloads: [...], primary, lastRollback, swapBack, notes}."""
    now = live_release.live_workloads(model)
    rows, by_color = [], {}
    for row, view in zip(now, views.live_view(now)):
        state = model.workloads[row.ref]
        steady, message = steadiness(state)
        color = bluegreen.workload_color(state) if bluegreen.is_blue_green(model) else None
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

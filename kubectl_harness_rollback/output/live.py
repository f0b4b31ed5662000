"""Live progress on a terminal as frames: a line per workload waited for, a status block, redrawn in place (pure).

State in, text out: the lines of a frame, and the escape sequences that replace the frame drawn
before with a new one. Only what every terminal kubectl supports is used (cursor up, carriage
return, erase to the end of the screen); fleet/live.py writes them, and only to a terminal that
is not TERM=dumb: pipes get the plain lines.
"""

from __future__ import annotations

from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.display import shown

UP, ERASE_BELOW = "\x1b[{}A", "\x1b[J"
# The last column is left free: a terminal that wraps at the last column would add a line the
# redraw does not count.
MARGIN = 1


@data_class(frozen=True)
class WorkloadLine:
    """One workload waited for, as last seen."""

    workload: str  # "deployment/web"
    ready: int | None = None  # ready replicas (pods, for a DaemonSet); None: not read yet
    desired: int | None = None
    updated: int | None = None  # replicas already on the restored template
    state: str = "waiting"  # "rolling out", "rolled out", "gave up", ...
    reason: str | None = None  # the pods' top reason: "2× CrashLoopBackOff"
    took: float | None = None  # seconds into the wait when it ended (its clock stops there)


def duration(seconds: float) -> str:
    """12s, 4m48s, 1h2m: kubectl's duration words, to the second."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60}s" if seconds % 60 else f"{seconds // 60}m"
    minutes = seconds // 60
    return f"{minutes // 60}h{minutes % 60}m" if minutes % 60 else f"{minutes // 60}h"


def clock_text(elapsed: float, remaining: float | None) -> str:
    """"12s elapsed, 4m48s left" (of --timeout); "12s elapsed" without one."""
    left = "" if remaining is None else f", {duration(max(remaining, 0))} left"
    return f"{duration(elapsed)} elapsed{left}"


def replicas(obj: dict) -> tuple[int | None, int | None, int | None]:
    """(ready, desired, updated) of a workload object, whatever its kind: a DaemonSet counts
    scheduled pods where the others count replicas."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if "desiredNumberScheduled" in status or ("replicas" not in spec and "numberReady" in status):
        return (status.get("numberReady", 0), status.get("desiredNumberScheduled", 0),
                status.get("updatedNumberScheduled", 0))
    return status.get("readyReplicas", 0), spec.get("replicas", 1), status.get("updatedReplicas", 0)


def top_reason(view: dict | None) -> str | None:
    """The most frequent reason pods are not ready ("2× CrashLoopBackOff"), else the most frequent
    Warning Event ("3× FailedCreate"), from pod_reasons.reasons(); None when there is none."""
    if not view:
        return None
    for key in ("reasons", "events"):
        if view.get(key):
            top = view[key][0]
            return f"{top['count']}× {shown(top['reason'])}"
    return None


def wait_frame(rows: list[WorkloadLine], elapsed: float, remaining: float | None) -> list[str]:
    """One line per workload, columns aligned: name, ready/desired, state, its clock, the top reason."""
    cells = []
    for row in rows:
        count = "-/-" if row.desired is None else f"{row.ready}/{row.desired} ready"
        if row.desired is not None and row.updated is not None and row.updated < row.desired:
            count += f", {row.updated} updated"
        clock = (f"took {duration(row.took)}" if row.took is not None
                 else clock_text(elapsed, remaining))
        cells.append([shown(row.workload), count, row.state, clock, row.reason or ""])
    widths = [max(len(line[column]) for line in cells) for column in range(4)]
    return ["   ".join(cell.ljust(width) for cell, width in zip(line, widths + [0])).rstrip() for line in cells]


def status_frame(block: str, elapsed: float, remaining: float | None) -> list[str]:
    """`status --watch`'s block (render.status_text), and under it how long it has watched."""
    footer = clock_text(elapsed, remaining) + ("" if remaining is not None else "; until steady (Ctrl-C stops)")
    return block.rstrip("\n").split("\n") + ["", f"Watching:  {footer}"]


def fit(lines: list[str], width: int) -> list[str]:
    """Each line cut to the terminal's width, so that none wraps: a wrapped line is one more to
    move up over, which the redraw would not count."""
    room = max(width - MARGIN, 1)
    return [line if len(line) <= room else line[:room - 1] + "…" for line in lines]


def redraw(drawn: int, lines: list[str]) -> str:
    """What replaces the `drawn` lines last written (the cursor under them) with `lines`."""
    return (UP.format(drawn) if drawn else "") + "\r" + ERASE_BELOW + "".join(line + "\n" for line in lines)


def above(drawn: int, text: str, lines: list[str]) -> str:
    """`text` (whole lines) printed where the frame was, and the frame drawn again under it: a line
    said during a wait stays on the screen, the frame stays last."""
    return redraw(drawn, []) + text + ("" if text.endswith("\n") else "\n") + "".join(line + "\n" for line in lines)

"""The column tables: for each command, its columns (header, cell, when shown), one or many clusters.

One table per command, shared by one cluster and many: across contexts the same columns get a
CONTEXT column first, and a context that failed is one row carrying its one-line error (`table`).
Adding a column to a command is one line in its tuple below. Pure: plain dicts in, text out.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence

from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.output.cells import (
    COLUMN_GAP,
    NONE,
    action_text,
    age,
    release_cell,
    rolled_back_text,
    steady_text,
    swapped_back_text,
    text,
    workload_ref,
)
from kubectl_harness_rollback.output.cells import table as _kubectl_table


@data_class(frozen=True)
class Shape:
    """What decides which columns are shown and how their cells read."""

    many: bool = False  # across contexts: a CONTEXT column first, a failed context as an error row
    wide: bool = False  # -o wide
    all_namespaces: bool = False  # -A
    colored: bool = False  # some row has a blue/green color
    now: datetime | None = None  # for ages (None: the clock's)
    headers: bool = True  # False: --no-headers, the rows alone


@data_class(frozen=True)
class Column:
    header: str
    cell: Callable[[Any, Shape], object]  # the cell of one item (a row of the command's view)
    when: Callable[[Shape], bool] = lambda shape: True


@data_class(frozen=True)
class Row:
    """One line of a table: an item of a context's view, or the one-line error of a context."""

    item: Any = None
    context: str = ""
    error: str | None = None


def wide(shape: Shape) -> bool:
    return shape.wide


def all_namespaces(shape: Shape) -> bool:
    return shape.all_namespaces


def colored(shape: Shape) -> bool:
    return shape.colored


def many(shape: Shape) -> bool:
    return shape.many


def colored_in_one(shape: Shape) -> bool:
    return shape.colored and not shape.many


def table(columns: Sequence[Column], rows: Iterable[Row], shape: Shape) -> str:
    """The rows under the columns `shape` shows; many clusters: CONTEXT first, and error rows."""
    shown = [column for column in columns if column.when(shape)]
    headers = (["CONTEXT"] if shape.many else []) + [column.header for column in shown]
    cells, errors = [], {}
    for row in rows:
        if row.error is not None:
            errors[len(cells)] = row.error
            cells.append([row.context] + [""] * (len(headers) - 1))
        else:
            cells.append(([row.context] if shape.many else []) + [column.cell(row.item, shape) for column in shown])
    text = _kubectl_table(headers, cells, shape.headers)
    if not errors:
        return text
    # A context's error follows its name, under the second column, and widens no column. The
    # second column starts after the first gap of a line that has one (the header, else a
    # context's row); with --no-headers and every context failed, a gap after the longest name.
    lines = text.splitlines()
    first = 1 if shape.headers else 0
    gaps = (re.search(rf"\S {{{COLUMN_GAP},}}(?=\S)", line) for line in lines)
    start = next((gap.end() for gap in gaps if gap), max(map(len, lines)) + COLUMN_GAP)
    for index, error in errors.items():
        lines[index + first] = lines[index + first].ljust(start) + error
    return "\n".join(lines) + "\n"


# ---- list: one item per release name (listing.read_catalog's rows) ----------------------------------

def _live_text(row: dict, shape: Shape) -> str:
    """list's LIVE: the release(s) the workloads run now; -o wide: and the rollback that put it there
    (ACTION says who and when in short)."""
    numbers = ",".join(str(n) for n in row.get("liveReleases") or []) or NONE
    if not shape.wide:
        return numbers
    note = rolled_back_text(row.get("lastRollback")) or (swapped_back_text(row["swapBack"]) if row.get("swapBack")
                                                         else "")
    return f"{numbers} ({note})" if note else numbers


def _rollback_of(row: dict) -> dict | None:
    """Who rolled back and when: on the workloads, or for blue/green on the primary Service."""
    return row.get("lastRollback") or row.get("swapBack")


LIST = (
    Column("NAMESPACE", lambda row, _: row["namespace"], when=all_namespaces),
    Column("RELEASE", lambda row, _: row["release"]),
    Column("LATEST", lambda row, _: text(row["latest"])),
    Column("STATUS", lambda row, _: text(row["status"])),
    Column("WORKLOADS", lambda row, _: ",".join(row["workloads"]) or NONE, when=wide),
    Column("SOURCE", lambda row, _: row["source"], when=wide),
    Column("LIVE", _live_text),
    Column("SINCE", lambda row, shape: age(row.get("liveSince"), shape.now)),
    Column("STEADY", lambda row, _: steady_text(row.get("steady"))),
    Column("ACTION", lambda row, shape: action_text(row.get("action"), _rollback_of(row), shape.now)),
)


# ---- history: one item per release and workload (views.history_view), newest first ---------------

NO_WORKLOAD = {"kind": "", "name": "", "revision": None, "currentRevision": None, "images": []}


def history_items(rows: list[dict]) -> list[tuple[dict, dict]]:
    """(release, workload) pairs: a release without workloads still gets its line."""
    return [(row, workload) for row in rows for workload in row["workloads"] or [NO_WORKLOAD]]


def _revision_text(workload: dict) -> str:
    revision, now = workload["revision"], workload["currentRevision"]
    if revision is None:
        return NONE
    if now is not None and now != revision:
        return f"{revision} (now {now})"  # renumbered by an earlier rollback
    return str(revision) if now is not None else f"{revision} (gone)"


def _live_marker(row: dict, workload: dict) -> str:
    """LIVE: "*" where the workload runs this release's revision now (as kubectl marks the current
    context), with the rollback that put it there."""
    marker = "*" if workload.get("live") else ""
    note = rolled_back_text(row.get("rolledBack")) if marker else ""
    return f"{marker} ({note})" if note else marker


def _infra(row: dict, key: str) -> str:
    return text((row["infraMapping"] or {}).get(key))


def _role(row: dict, shape: Shape) -> str:
    """PRIMARY/STAGE: what the release runs as, and the swap-back that took it out of primary."""
    swapped = row.get("swappedBack")
    if not swapped:
        return text(row.get("role"))
    return (f"{text(row.get('role'))} (swapped back by {swapped.get('by') or 'someone'} "
            f"{age(swapped.get('at'), shape.now)} ago)")


HISTORY = (
    Column("RELEASE", lambda item, _: item[0]["number"]),
    Column("STATUS", lambda item, _: text(item[0]["status"])),
    Column("WORKLOAD", lambda item, _: workload_ref(item[1]) if item[1]["kind"] else NONE),
    Column("REVISION", lambda item, _: _revision_text(item[1])),
    Column("WORKFLOW", lambda item, _: text(item[0]["workflowId"])),
    Column("COLOR", lambda item, _: text(item[0].get("color")), when=colored),
    Column("PRIMARY/STAGE", lambda item, shape: _role(item[0], shape), when=colored),
    Column("IMAGES", lambda item, _: text(",".join(item[1]["images"])), when=wide),
    Column("SERVICE", lambda item, _: _infra(item[0], "serviceId"), when=wide),
    Column("INFRA", lambda item, _: _infra(item[0], "infraId"), when=wide),
    Column("CLUSTER", lambda item, _: _infra(item[0], "clusterName"), when=wide),
    Column("SOURCE", lambda item, _: item[0]["source"], when=wide),
    Column("AGE", lambda item, shape: age(item[0].get("updated"), shape.now)),
    Column("LIVE", lambda item, _: _live_marker(*item)),
)


# ---- status: one item per workload (status.status_view); across contexts, one for none -----------

def status_items(view: dict) -> list[tuple[dict, dict | None]]:
    """(view, workload) pairs; (view, None) when nothing is deployed (a row across contexts)."""
    return [(view, workload) for workload in view["workloads"]] or [(view, None)]


def _workload(cell: Callable[[dict, Shape], object], nothing: object = "") -> Callable[[tuple, Shape], object]:
    """A status cell of the workload; `nothing` on the line of a view without workloads."""
    return lambda item, shape: nothing if item[1] is None else cell(item[1], shape)


STATUS = (
    Column("NAMESPACE", lambda item, _: item[0]["namespace"], when=many),  # one cluster: in the heading
    Column("WORKLOAD", _workload(lambda w, _: workload_ref(w), NONE)),
    Column("COLOR", _workload(lambda w, _: text(w.get("color"))), when=colored_in_one),
    Column("RELEASE", _workload(lambda w, _: text(w["release"]))),
    Column("REVISION", _workload(lambda w, _: text(w["revision"]))),
    Column("IMAGES", _workload(lambda w, _: text(", ".join(w["images"])))),
    Column("SINCE", _workload(lambda w, shape: age(w["since"], shape.now))),
    Column("STEADY", _workload(lambda w, _: "yes" if w["steady"] else "no", "yes")),
    # The release's ACTION: one cluster says it above the table.
    Column("ACTION", lambda item, shape: action_text(item[0].get("action"), _rollback_of(item[0]), shape.now),
           when=many),
    Column("ROLLOUT", lambda item, _: "; ".join(item[0]["notes"]) if item[1] is None else _rollout(item[1]),
           when=wide),
)


def _rollout(workload: dict) -> str:
    # A rollout the controller gave up on (diagnosis.py): the controller's sentence ends the command
    # as its error line, so the table names the condition.
    return "gave up: ProgressDeadlineExceeded" if workload.get("gaveUp") else workload["message"]


# ---- plan across contexts: one item per context (views.plan_view) ---------------------------------

def action(view: dict) -> str:
    """What the plan of one context does, in two or three words."""
    if not view["eligible"]:
        return "nothing to roll back to"
    if view["changes"]:
        return "roll back"
    return "already rolled back" if view.get("lastRollback") else "nothing to do"


def _why(view: dict) -> str:
    """The planner's reason up to its advice (one cluster's plan prints it whole); who rolled back
    and when, where that is why nothing is to be done."""
    if not view["changes"] and view["eligible"] and view.get("lastRollback"):
        return rolled_back_text(view["lastRollback"])
    return view["reason"].split("; ")[0]


def _changes(view: dict) -> str:
    moves = [f"{workload_ref(w)} {text(w['fromRevision'])}→{text(w['toRevision'])}"
             for w in view["workloads"] if not w.get("unchanged")]
    moves += [f"service/{s['name']} {s['fromColor']}→{s['toColor']}" for s in view.get("services") or []
              if s["fromColor"] != s["toColor"]]
    return ", ".join(moves) or NONE


PLAN = (
    Column("NAMESPACE", lambda view, _: view["namespace"]),
    Column("RELEASE", lambda view, _: view["release"]),
    Column("CURRENT", lambda view, _: release_cell(view["current"])),
    Column("ROLLBACK TO", lambda view, _: release_cell(view["target"])),
    Column("ACTION", lambda view, _: action(view)),
    Column("CHANGES", lambda view, _: _changes(view)),
    Column("WHY", lambda view, _: _why(view)),
)


# ---- rollback's summary across contexts: one item per context, (result text, exit code, plan view) --

ROLLBACK_SUMMARY = (
    Column("RELEASE", lambda item, _: item[2]["release"] if item[2] else NONE),
    Column("FROM → TO", lambda item, _: f"{release_cell(item[2]['current'])} → {release_cell(item[2]['target'])}"
           if item[2] else NONE),
    Column("RESULT", lambda item, _: item[0]),
    Column("EXIT CODE", lambda item, _: str(item[1])),
)

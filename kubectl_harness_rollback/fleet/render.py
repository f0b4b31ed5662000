"""The tables and data of a run across contexts.

The text and data of a run across contexts (many clusters): the single-cluster views with a
CONTEXT column first, and a context that failed as one row carrying its one-line error.
Pure: fleet.run.ContextRun lists in, text or plain data out (render.py's tables)."""

from __future__ import annotations

from typing import Callable, Sequence

from kubectl_harness_rollback.commands import RollbackResult
from kubectl_harness_rollback.errors import NoEligibleRelease
from kubectl_harness_rollback.output import render
from kubectl_harness_rollback.output.render import NONE, _table, _text, error_cells


def entries(runs: Sequence, shape: Callable[[object], dict]) -> list[dict]:
    """`-o json|yaml`: one `{context, ..., exitCode}` per context, the single-cluster shape inside
    (`shape(value)`); a context that failed before a result: `{context, error, exitCode}`."""
    out = []
    for run in runs:
        entry = {"context": run.context}
        if run.value is not None:
            entry.update(shape(run.value))
        if run.message:
            entry["error"] = run.message
        entry["exitCode"] = run.exit_code
        out.append(entry)
    return out


def failure_text(run) -> str:
    """The last cell of a context's row when it has no result: its error, or why it did not start."""
    return run.message if not run.started else f"error: {run.message}"


def flat_rows(runs: Sequence, rows_of: Callable[[object], list[dict]]) -> list[dict]:
    """The single-cluster rows of every context, each with its `context`; a failed context's row
    is `{context, error}` (render.list_table/history_table with contexts=True)."""
    rows: list[dict] = []
    for run in runs:
        if run.value is not None:
            rows += [{"context": run.context, **row} for row in rows_of(run.value)]
        if run.message:
            rows.append({"context": run.context, "error": failure_text(run)})
    return rows


def _release_cell(summary: dict | None) -> str:
    if summary is None:
        return NONE
    number = "a revision no release records" if summary["number"] is None else str(summary["number"])
    return f"{number} ({_text(summary['status'])})"


def _workloads_cell(view: dict) -> str:
    moves = [f"{w['kind'].lower()}/{w['name']} {_text(w['fromRevision'])}→{_text(w['toRevision'])}"
             for w in view["workloads"] if not w.get("unchanged")]
    moves += [f"service/{s['name']} {s['fromColor']}→{s['toColor']}" for s in view.get("services") or []
              if s["fromColor"] != s["toColor"]]
    return ", ".join(moves) or NONE


def action(view: dict) -> str:
    """What the plan of one context does, in two or three words."""
    if not view["eligible"]:
        return "nothing to roll back to"
    return "roll back" if view["changes"] else "nothing to do"


def _why(reason: str) -> str:
    """The planner's reason up to its advice (the single-cluster plan prints it whole)."""
    return reason.split("; ")[0]


PLAN_HEADERS = ["CONTEXT", "NAMESPACE", "RELEASE", "CURRENT", "ROLLBACK TO", "ACTION", "CHANGES", "WHY"]


def plan_table(runs: Sequence) -> str:
    """The combined plan: a row per context (plan across contexts, and the start of rollback)."""
    rows = []
    for run in runs:
        view = run.value.view if run.value is not None else None
        if view is None:
            rows.append(error_cells(run.context, failure_text(run), len(PLAN_HEADERS)))
            continue
        rows.append([run.context, view["namespace"], view["release"], _release_cell(view["current"]),
                     _release_cell(view["target"]), action(view), _workloads_cell(view), _why(view["reason"])])
    return _table(PLAN_HEADERS, rows)


STATUS_HEADERS = ["CONTEXT", "NAMESPACE", "WORKLOAD", "RELEASE", "REVISION", "IMAGES", "SINCE", "STEADY", "ROLLOUT"]


def status_table(runs: Sequence, now=None) -> str:
    """`status` across contexts: a row per context and workload."""
    rows = []
    for run in runs:
        view = run.value
        if view is None:
            rows.append(error_cells(run.context, failure_text(run), len(STATUS_HEADERS)))
            continue
        for w in view["workloads"]:
            rows.append([run.context, view["namespace"], f"{w['kind'].lower()}/{w['name']}", _text(w["release"]),
                         _text(w["revision"]), _text(", ".join(w["images"])), render.age(w["since"], now),
                         "yes" if w["steady"] else "no", w["message"]])
        if not view["workloads"]:
            rows.append([run.context, view["namespace"], NONE, "", "", "", "", "yes", "; ".join(view["notes"])])
    return _table(STATUS_HEADERS, rows)


SUMMARY_HEADERS = ["CONTEXT", "RELEASE", "FROM → TO", "RESULT", "EXIT CODE"]


def rollback_shape(value) -> dict:
    """`rollback -o json` of one context: {plan, outcome}, as in one cluster (outcome None when
    it did not get past its plan)."""
    if isinstance(value, RollbackResult):
        return {"plan": value.planned.view, "outcome": value.view}
    return {"plan": value.view, "outcome": None}


def result_text(run) -> str:
    """A context's result in the summary: what its rollback came to."""
    if run.exit_code == NoEligibleRelease.exit_code and not isinstance(run.value, RollbackResult):
        return "nothing to roll back to"
    if run.message:
        return failure_text(run)
    if not isinstance(run.value, RollbackResult):
        return NONE
    view = run.value.view
    if view["nothingToDo"]:
        return "nothing to do"
    if view["dryRun"] != "none":
        return f"dry run ({view['dryRun']}): {len(view.get('wouldWrite') or [])} writes"
    return "rolled back" + (", steady" if view["steady"] else "")


def summary_table(runs: Sequence, plans: dict) -> str:
    """The end of `rollback` across contexts. `plans`: each context's Planned (None: it failed)."""
    rows = []
    for run in runs:
        planned = plans.get(run.context)
        view = planned.view if planned is not None else None
        release = view["release"] if view else NONE
        moved = f"{_release_cell(view['current'])} → {_release_cell(view['target'])}" if view else NONE
        rows.append([run.context, release, moved, result_text(run), str(run.exit_code)])
    return _table(SUMMARY_HEADERS, rows)

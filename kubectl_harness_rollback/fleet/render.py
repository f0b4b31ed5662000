"""The tables and data of a run across contexts.

The text and data of a run across contexts (many clusters): the single-cluster views with a
CONTEXT column first, and a context that failed as one row carrying its one-line error.
Pure: fleet.run.ContextRun lists in, text or plain data out (render.py's tables)."""

from __future__ import annotations

from typing import Callable, Sequence

from kubectl_harness_rollback.commands import RollbackResult
from kubectl_harness_rollback.errors import NoEligibleRelease
from kubectl_harness_rollback.output import columns
from kubectl_harness_rollback.output.cells import NONE, rolled_back_text
from kubectl_harness_rollback.output.columns import Row, Shape


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


def rows(runs: Sequence, items_of: Callable[[object], list]) -> list[Row]:
    """The table rows of every context: the items of its result, or one row with its error."""
    table_rows: list[Row] = []
    for run in runs:
        if run.value is None:
            table_rows.append(Row(context=run.context, error=failure_text(run)))
        else:
            table_rows += [Row(item, run.context) for item in items_of(run.value)]
    return table_rows


def plan_table(runs: Sequence) -> str:
    """The combined plan: a row per context (plan across contexts, and the start of rollback)."""
    return columns.table(columns.PLAN, rows(runs, lambda planned: [planned.view]), Shape(many=True))


def status_table(runs: Sequence, now=None, wide: bool = False, headers: bool = True) -> str:
    """`status` across contexts: a row per context and workload."""
    return columns.table(columns.STATUS, rows(runs, columns.status_items),
                         Shape(many=True, wide=wide, now=now, headers=headers))


def rollback_shape(value) -> dict:
    """`rollback -o json` of one context: {plan, outcome}, as in one cluster (outcome None when
    it did not get past its plan)."""
    if isinstance(value, RollbackResult):
        return {"plan": value.planned.view, "outcome": value.view}
    return {"plan": value.view, "outcome": None}


def result_text(run) -> str:
    """A context's result in the summary: what its rollback came to (already rolled back: by whom
    and when)."""
    if run.exit_code == NoEligibleRelease.exit_code and not isinstance(run.value, RollbackResult):
        return "nothing to roll back to"
    if run.message:
        return failure_text(run)
    if not isinstance(run.value, RollbackResult):
        return NONE
    view = run.value.view
    if view["nothingToDo"]:
        record = run.value.planned.view.get("lastRollback")
        return f"nothing to do: already {rolled_back_text(record)}" if record else "nothing to do"
    if view["dryRun"] != "none":
        return f"dry run ({view['dryRun']}): {len(view.get('wouldWrite') or [])} writes"
    return "rolled back" + (", steady" if view["steady"] else "")


def summary_table(runs: Sequence, plans: dict) -> str:
    """The end of `rollback` across contexts. `plans`: each context's Planned (None: it failed)."""
    def item(run) -> tuple:
        planned = plans.get(run.context)
        return result_text(run), run.exit_code, planned.view if planned is not None else None

    return columns.table(columns.ROLLBACK_SUMMARY, [Row(item(run), run.context) for run in runs], Shape(many=True))

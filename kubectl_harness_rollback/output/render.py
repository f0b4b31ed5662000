"""All output is text made here: data for stdout, from the views' plain dicts.

Tables are built from the column tables (columns.py) in kubectl's look (cells.py). No color is
ever written, so NO_COLOR and pipes need no special case.
"""

from __future__ import annotations

import json
from datetime import datetime

from kubectl_harness_rollback.outcome import history_changes as _history_changes
from kubectl_harness_rollback.outcome import item_ref as _ref
from kubectl_harness_rollback.outcome import outcome_item_text
from kubectl_harness_rollback.output import columns
from kubectl_harness_rollback.output.cells import NONE, action_text, rolled_back_text, swapped_back_text
from kubectl_harness_rollback.output.cells import age as age  # `render.age`: the fleet's tables and tests use it
from kubectl_harness_rollback.output.cells import table as _table
from kubectl_harness_rollback.output.cells import text as _text
from kubectl_harness_rollback.output.columns import Row, Shape

JSONPATH = "jsonpath="  # -o jsonpath=TEMPLATE


def is_structured(output: str) -> bool:
    """Data for scripts: -o json, yaml, or jsonpath=TEMPLATE (the json data through a template)."""
    return output in ("json", "yaml") or output.startswith(JSONPATH)


def structured(data: object, output: str) -> str:
    """-o json / -o yaml: stable key order (as the view builds it); -o jsonpath=TEMPLATE: the json
    data through kubectl's template (jsonpath_template.py), printed as it comes out."""
    if output.startswith(JSONPATH):
        from kubectl_harness_rollback.output import jsonpath_template

        return jsonpath_template.render(jsonpath_template.parse(output[len(JSONPATH):]), data)
    if output == "json":
        return json.dumps(data, indent=2) + "\n"
    import yaml  # -o yaml alone: a table needs none

    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def list_table(rows: list[dict], all_namespaces: bool, now: datetime | None = None, contexts: bool = False,
               wide: bool = False) -> str:
    """`list`; `contexts`: a CONTEXT column first, from each row's `context`, and a row with an
    `error` for a context that failed (fleet.render.flat_rows); `wide`: -o wide."""
    table_rows = [Row(context=row["context"], error=row["error"]) if contexts and "error" in row
                  else Row(row, row["context"] if contexts else "") for row in rows]
    return columns.table(columns.LIST, table_rows, Shape(many=contexts, wide=wide, all_namespaces=all_namespaces,
                                                                     now=now))


def history_table(rows: list[dict], wide: bool, now: datetime | None = None) -> str:
    """`history`: a row per release and workload, newest first."""
    return columns.table(columns.HISTORY, [Row(item) for item in columns.history_items(rows)],
                         Shape(wide=wide, colored=any(row.get("color") for row in rows), now=now))


def _release_line(summary: dict | None) -> str:
    if summary is None:
        return NONE
    if summary["number"] is None:
        return "a revision no release records"
    return f"release {summary['number']} ({_text(summary['status'])}, workflow {_text(summary['workflowId'])})"


def plan_text(view: dict) -> str:
    """`plan` for people: what is current, what comes back, and why."""
    lines = [
        f"Release:      {view['release']} in namespace {view['namespace']} "
        f"(mode {view['mode']}, match by {view['match']})",
        f"Current:      {_release_line(view['current'])}",
        f"Rollback to:  {_release_line(view['target'])}",
        f"Why:          {view['reason']}",
    ]
    if view["workloads"]:
        rows = [[f"{w['kind'].lower()}/{w['name']}", _text(w["fromRevision"]), _text(w["toRevision"]),
                 _text(", ".join(w["fromImages"])), _text(", ".join(w["toImages"]))] for w in view["workloads"]]
        lines += ["", _table(["WORKLOAD", "FROM REVISION", "TO REVISION", "IMAGES NOW", "IMAGES AFTER"], rows).rstrip()]
        for w in view["workloads"]:
            # A re-applied workload's fields are listed with the re-apply below.
            if w.get("differences") and not w.get("unchanged") and w.get("source"):
                lines += [f"  {w['kind'].lower()}/{w['name']}:"] + [f"    {d}" for d in w["differences"]]
        if view["target"] is not None and not view["changes"]:
            done = rolled_back_text(view.get("lastRollback"))
            lines += ["", "Nothing to change: every workload already runs the rollback-to revision"
                      + (f" (already {done})." if done else ".")]
    if view.get("reapply"):
        lines += ["", f"Re-apply from release {view['target']['number']}'s stored manifest (as kubectl apply):"]
        for item in view["reapply"]:
            lines.append(f"  {item['kind'].lower()}/{item['name']}")
            lines += [f"    {d}" for d in item.get("differences", [])]
    if view.get("refused"):
        lines += ["", f"Refused from release {view['target']['number']}'s stored manifest (the rollback writes nothing "
                      "while any object is refused):"]
        lines += [f"  {item['kind'].lower() or '<no kind>'}/{item['name'] or '<no name>'}: {item['rule']}: "
                  f"{item['reason']}" for item in view["refused"]]
    if view.get("delete"):
        lines += ["", "Delete first (the failed canary):"]
        lines += [f"  {item['kind'].lower()}/{item['name']}" for item in view["delete"]]
    if view.get("prune"):
        lines += ["", f"Delete (--prune: applied by release {view['current']['number']}, not in release "
                      f"{view['target']['number']}), before re-applying:"]
        lines += [f"  {item['kind'].lower()}/{item['name']}" for item in view["prune"]]
    if view.get("services"):
        rows = [[f"service/{s['name']}", s["role"], s["fromColor"], s["toColor"]] for s in view["services"]]
        lines += ["", _table(["SERVICE", "ROLE", "ROUTES NOW", "ROUTES AFTER"], rows).rstrip()]
    lines += owner_lines(view.get("owners") or [], refuses=bool(view["changes"]))
    for note in view["notes"]:
        lines.append(f"Note: {note}")
    return "\n".join(lines) + "\n"


def owner_lines(owners: list[dict], refuses: bool = False) -> list[str]:
    """"Owner: deployment/web is managed by Argo CD Application shop (...)": who else owns each
    workload, what it does after a rollback made here, and its own way back."""
    lines = []
    for owner in owners:
        title = f"{owner['owner']} {owner['ownerKind']} {owner['ownerName']}" if owner["ownerName"] else owner["owner"]
        if owner["ownerNamespace"]:
            title += f" (namespace {owner['ownerNamespace']})"
        refusal = " `rollback` refuses it without --ignore-owner." if refuses and owner["gitops"] else ""
        lines.append(f"Owner: {owner['kind'].lower()}/{owner['name']} is managed by {title} "
                     f"({', '.join(owner['evidence'])}): {owner['consequence']}; its own way back: "
                     f"{owner['command']}.{refusal}")
    return lines


def recorded_text(result, status: str, dry_run: str) -> str:
    """`record`: what was recorded where (result: recorder.Recorded)."""
    if dry_run == "client":
        return f"would record release {result.number} of {result.release_name} as {status} (dry run)\n"
    verb = "recorded" if result.created else "updated"
    revisions_text = ", ".join(f"{ref} revision {n}" for ref, n in sorted(result.revisions.items()))
    return (f"{verb} release {result.number} of {result.release_name} as {status} in {result.where}: "
            f"{revisions_text}" + (" (server dry run: nothing stored)" if dry_run == "server" else "") + "\n")


_WOULD_TEXT = {
    "restored": lambda item: f"would restore the template of revision {item['revision']} ({', '.join(item['images'])})",
    "scaled": lambda item: f"would scale to {item['replicas']}",
    "deleted": lambda item: f"would delete it ({item.get('why') or 'canary of the failed release'})",
    "pruned": lambda item: "would delete it (--prune: the rollback-to release does not hold it)",
    "reapplied": lambda item: "would re-apply it from the stored manifest",
    "routed": lambda item: f"would route {item['color']} (routes {item['fromColor']} now)",
    "annotated": lambda item: f"would annotate {item['annotation']} (who, when, from which release to which)",
    "historyUpdated": lambda item: "would record the rollback in the release history"
                                   + "".join(f"; {part}" for part in _history_changes(item["changes"])),
    "labelled": lambda item: "would label " + ", ".join(f"{key}={value}" for key, value in item["labels"].items()),
    "releaseCreated": lambda item: (f"would create it: release {item['release']}, {item['status']} "
                                    f"({item['description']})"),
    "eventRecorded": lambda item: f"would record a {item['reason']} Event on it",
}


def would_text(view: dict) -> str:
    """The end of a dry run: every write the real run would make, once, in the conditional."""
    if view["dryRun"] == "client":
        head = "Dry run (client): nothing was sent to the cluster."
    else:
        head = ("Dry run (server): the API server accepted the workload and Service writes; nothing was stored "
                "(the records are not sent: they need the rollout).")
    writes = view.get("wouldWrite") or []
    lines = ["", head] + (["The rollback would:"] if writes else ["The rollback would write nothing."])
    lines += [f"  {_ref(item)}: {_WOULD_TEXT[item['action']](item)}" for item in writes]
    return "\n".join(lines) + "\n"


def outcome_text(view: dict) -> str:
    """The end of `rollback`: what was done, or why nothing was."""
    if view["nothingToDo"] and not view["recorded"] and not view["steady"]:
        return ""  # the plan above already says so
    if view["dryRun"] != "none":
        return would_text(view)
    lines = [""]
    for item in view["newRevisions"]:
        lines.append(f"{item['kind'].lower()}/{item['name']} is now at revision {item['revision']}")
    lines += [f"Recorded: {outcome_item_text(item)}" for item in view["recorded"]]
    if view["steady"]:
        lines.append("Already rolled back: every workload is steady." if view["nothingToDo"]
                     else "Rollback complete: every workload is steady.")
    return "\n".join(lines) + "\n"


def status_text(view: dict, now: datetime | None = None, wide: bool = False) -> str:
    """`status` for people: what is live where, since when, whether it is steady, the last rollback,
    what it needs (ACTION); `wide` (-o wide): the rollout's words on each workload."""
    live = ", ".join(str(n) for n in view["liveReleases"]) or "no recorded release"
    lines = [f"Release:   {view['release']} in namespace {view['namespace']}",
             f"Live:      release {live}" if view["liveReleases"] else f"Live:      {live}"]
    primary = view.get("primary")
    if primary:
        lines.append(f"Primary:   service/{primary['service']} routes {_text(primary['color'])}: "
                     f"release {_text(primary['release'])}")
    if view["lastRollback"]:
        lines.append(f"Rollback:  {rolled_back_text(view['lastRollback'])}")
    if view.get("swapBack"):
        lines.append(f"Rollback:  {swapped_back_text(view['swapBack'])}")
    if "action" in view:
        lines.append(f"Action:    {action_text(view['action'], view['lastRollback'] or view.get('swapBack'), now)}")
    lines += _why_not_steady(view)
    if view["workloads"]:
        shape = Shape(colored=any(row.get("color") for row in view["workloads"]), wide=wide, now=now)
        lines += ["", columns.table(columns.STATUS, [Row(item) for item in columns.status_items(view)],
                                    shape).rstrip()]
    lines += owner_lines(view.get("owners") or [])
    lines += [f"Note: {note}" for note in view["notes"]]
    return "\n".join(lines) + "\n"


def status_rows(view: dict, now: datetime | None = None, wide: bool = False) -> str:
    """`status --no-headers`: the workloads' rows of status_text alone, without header row or heading."""
    shape = Shape(colored=any(row.get("color") for row in view["workloads"]), now=now, wide=wide, headers=False)
    return columns.table(columns.STATUS, [Row(item) for item in columns.status_items(view)], shape) \
        if view["workloads"] else ""


def _why_not_steady(view: dict) -> list[str]:
    """The pods' reasons, a logs hint and the next command (diagnosis.explain_status), when there:
    in the header, above the table, so that the table stays the last thing printed."""
    lines = []
    for row in view["workloads"]:
        workload = f"{row['kind'].lower()}/{row['name']}"
        if row.get("pods") is not None:  # a workload that is not steady
            from kubectl_harness_rollback.workloads import pod_reasons

            lines.append(f"Pods:      {_text(workload)}: {pod_reasons.summary(row['pods'])}")
        if row.get("logs"):
            lines.append(f"Logs:      {_text(row['logs'])}")
    lines += [f"Next:      {_text(command)}" for command in view.get("next") or []]
    return lines

"""All output is text made here: data for stdout, from the views' plain dicts.

Tables look like kubectl's: upper-case headers, no borders, columns three spaces apart. No color
is ever written, so NO_COLOR and pipes need no special case.
"""

from __future__ import annotations

import json

import tabulate as tabulate_module
import yaml
from tabulate import DataRow, TableFormat, tabulate

NONE = "<none>"

# kubectl's table look: no borders, columns three spaces apart, headers as wide as they are.
KUBECTL_TABLE = TableFormat(lineabove=None, linebelowheader=None, linebetweenrows=None, linebelow=None,
                            headerrow=DataRow("", "   ", ""), datarow=DataRow("", "   ", ""),
                            padding=0, with_header_hide=None)
# tabulate widens every column by two spaces beyond its header unless told otherwise.
tabulate_module.MIN_PADDING = 0


def structured(data: object, output: str) -> str:
    """-o json / -o yaml: stable key order (as the view builds it)."""
    if output == "json":
        return json.dumps(data, indent=2) + "\n"
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def _table(headers: list[str], rows: list[list[object]]) -> str:
    if not rows:
        return ""
    text = tabulate(rows, headers=headers, tablefmt=KUBECTL_TABLE, disable_numparse=True, stralign="left")
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def _text(value: object) -> str:
    return NONE if value in (None, "", [], ()) else str(value)


def list_table(rows: list[dict], all_namespaces: bool) -> str:
    headers = (["NAMESPACE"] if all_namespaces else []) + ["RELEASE", "LATEST", "STATUS", "WORKLOADS", "SOURCE"]
    table = []
    for row in rows:
        cells = [row["release"], _text(row["latest"]), _text(row["status"]),
                 ",".join(row["workloads"]) or NONE, row["source"]]
        table.append(([row["namespace"]] if all_namespaces else []) + cells)
    return _table(headers, table)


def _revision_text(workload: dict) -> str:
    revision, now = workload["revision"], workload["currentRevision"]
    if revision is None:
        return NONE
    if now is not None and now != revision:
        return f"{revision} (now {now})"  # renumbered by an earlier rollback
    return str(revision) if now is not None else f"{revision} (gone)"


def history_table(rows: list[dict], wide: bool) -> str:
    """`history`: a row per release and workload, newest first."""
    colored = any(row.get("color") for row in rows)
    headers = ["RELEASE", "STATUS", "WORKLOAD", "REVISION", "WORKFLOW"] + (["COLOR"] if colored else [])
    if wide:
        headers += ["IMAGES", "SERVICE", "INFRA", "CLUSTER", "SOURCE"]
    table = []
    for row in rows:
        infra = row["infraMapping"] or {}
        for workload in row["workloads"] or [{"kind": "", "name": "", "revision": None, "currentRevision": None,
                                               "images": []}]:
            name = f"{workload['kind'].lower()}/{workload['name']}" if workload["kind"] else NONE
            cells = [row["number"], _text(row["status"]), name, _revision_text(workload), _text(row["workflowId"])]
            if colored:
                cells.append(_text(row.get("color")))
            if wide:
                cells += [_text(",".join(workload["images"])), _text(infra.get("serviceId")),
                          _text(infra.get("infraId")), _text(infra.get("clusterName")), row["source"]]
            table.append(cells)
    return _table(headers, table)


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
            if w.get("differences") and not w.get("unchanged"):
                lines += [f"  {w['kind'].lower()}/{w['name']}:"] + [f"    {d}" for d in w["differences"]]
        if view["target"] is not None and not view["changes"]:
            lines += ["", "Nothing to change: every workload already runs the rollback-to revision."]
    if view.get("reapply"):
        lines += ["", f"Re-apply from release {view['target']['number']}'s stored manifest (server-side apply):"]
        lines += [f"  {item['kind'].lower()}/{item['name']}" for item in view["reapply"]]
    if view.get("delete"):
        lines += ["", "Delete first (the failed canary):"]
        lines += [f"  {item['kind'].lower()}/{item['name']}" for item in view["delete"]]
    if view.get("services"):
        rows = [[f"service/{s['name']}", s["role"], s["fromColor"], s["toColor"]] for s in view["services"]]
        lines += ["", _table(["SERVICE", "ROLE", "ROUTES NOW", "ROUTES AFTER"], rows).rstrip()]
    for note in view["notes"]:
        lines.append(f"Note: {note}")
    return "\n".join(lines) + "\n"


def recorded_text(result, status: str, dry_run: str) -> str:
    """`record`: what was recorded where (result: recorder.Recorded)."""
    if dry_run == "client":
        return f"would record release {result.number} of {result.release_name} as {status} (dry run)\n"
    verb = "recorded" if result.created else "updated"
    revisions_text = ", ".join(f"{ref} revision {n}" for ref, n in sorted(result.revisions.items()))
    return (f"{verb} release {result.number} of {result.release_name} as {status} in {result.where}: "
            f"{revisions_text}" + (" (server dry run: nothing stored)" if dry_run == "server" else "") + "\n")


def _ref(item: dict) -> str:
    return f"{item['kind'].lower()}/{item['name']}"


def _history_changes(changes: list[dict]) -> list[str]:
    """"release 3 marked Failed", "release 2 now records deployment/web revision 4, ...": the
    revisions a release now records make one phrase."""
    parts: list[str] = []
    revisions: list[str] = []
    for position, change in enumerate(changes):
        if "bgEnvironment" in change:
            parts.append(f"release {change['release']} bgEnvironment {change['bgEnvironment']}")
        elif "status" in change:
            parts.append(f"release {change['release']} marked {change['status']}")
        else:
            revisions.append(f"{_ref(change)} revision {change['revision']}")
            following = changes[position + 1] if position + 1 < len(changes) else {}
            if "revision" not in following or following.get("release") != change["release"]:
                parts.append(f"release {change['release']} now records {', '.join(revisions)}")
                revisions = []
    return parts


_ITEM_TEXT = {
    "restored": lambda item: f"restored the template of revision {item['revision']} ({', '.join(item['images'])})",
    "scaled": lambda item: f"scaled to {item['replicas']}",
    "deleted": lambda item: "deleted (canary of the failed release)",
    "reapplied": lambda item: "re-applied from the stored manifest",
    "routed": lambda item: f"routes {item['color']} (was {item['fromColor']})",
    "historyUpdated": lambda item: "; ".join(_history_changes(item["changes"])),
    "labelled": lambda item: ", ".join(f"{key} {value}" for key, value in item["labels"].items()),
}


def outcome_item_text(item: dict) -> str:
    """One item of a rollback's outcome in words: "deployment/web: scaled to 3"."""
    if item["action"] == "eventRecorded":
        return f"event on {_ref(item)}: {item['reason']}"
    return f"{_ref(item)}: {_ITEM_TEXT[item['action']](item)}"


def outcome_text(view: dict) -> str:
    """The end of `rollback`: what was done, or why nothing was."""
    if view["nothingToDo"] and not view["recorded"] and not view["steady"]:
        return ""  # the plan above already says so
    if view["dryRun"] == "client":
        return "\nDry run (client): nothing was sent to the cluster.\n"
    lines = [""]
    if view["dryRun"] == "server":
        lines += [outcome_item_text(item) for item in view["written"]] + ["Dry run (server): the API server accepted every write; nothing was stored."]
    for item in view["newRevisions"]:
        lines.append(f"{item['kind'].lower()}/{item['name']} is now at revision {item['revision']}")
    lines += [f"Recorded: {outcome_item_text(item)}" for item in view["recorded"]]
    if view["steady"]:
        lines.append("Already rolled back: every workload is steady." if view["nothingToDo"]
                     else "Rollback complete: every workload is steady.")
    return "\n".join(lines) + "\n"

"""What a rollback did, as data: one item per write, one per record. Pure.

Each item is a plain dict that `rollback -o json` prints as it is (`{action, kind, name, ...}`,
camelCase like the Kubernetes API); outcome_item_text puts it into words for people, for the
progress lines and for the error that says what was already written.
"""

from __future__ import annotations

from dataclasses import field
from typing import Iterable

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.model import WorkloadRef

# The writes
RESTORED = "restored"  # a workload's pod template, from revision `revision` (images `images`)
SCALED = "scaled"  # a workload scaled to `replicas`
DELETED = "deleted"  # a canary object of the failed release (or, with `why`, a stage color's HPA/PDB)
PRUNED = "pruned"  # --prune: applied by the failed release, not in the rollback-to release
REAPPLIED = "reapplied"  # an object of a declarative release, re-applied as kubectl apply would
ROUTED = "routed"  # a blue/green Service now selects `color` (it selected `fromColor`)
# The records
HISTORY_UPDATED = "historyUpdated"  # the legacy release history; `changes` says what changed
LABELLED = "labelled"  # a declarative release Secret; `labels` set
RELEASE_CREATED = "releaseCreated"  # a roll forward's new release Secret: `release`, `status`, `description`
EVENT = "eventRecorded"  # a RolledBack Event on the object


@data_class
class Outcome:
    """What the rollback did, for the renderer and the exit code."""

    written: list[dict] = field(default_factory=list)  # RESTORED, SCALED, DELETED, PRUNED, REAPPLIED, ROUTED
    new_revisions: dict[WorkloadRef, int] = field(default_factory=dict)
    recorded: list[dict] = field(default_factory=list)  # HISTORY_UPDATED, LABELLED, RELEASE_CREATED, EVENT
    steady: bool | None = None  # None: not waited for


def _item(action: str, kind: str, name: str, **details: object) -> dict:
    return {"action": action, "kind": kind, "name": name, **details}


def restored(ref: WorkloadRef, revision: int | None, images: Iterable[str]) -> dict:
    return _item(RESTORED, ref.kind, ref.name, revision=revision, images=list(images))


def scaled(ref: WorkloadRef, replicas: int) -> dict:
    return _item(SCALED, ref.kind, ref.name, replicas=replicas)


def deleted(ref: WorkloadRef, why: str | None = None) -> dict:
    return _item(DELETED, ref.kind, ref.name, **({"why": why} if why else {}))


def pruned(kind: str, name: str) -> dict:
    return _item(PRUNED, kind, name)


def reapplied(kind: str, name: str) -> dict:
    return _item(REAPPLIED, kind, name)


def routed(service: str, color: str, from_color: str) -> dict:
    return _item(ROUTED, kinds.SERVICE.name, service, color=color, fromColor=from_color)


def history_updated(kind: str, name: str, changes: list[dict]) -> dict:
    """`changes`: {release, status} | {release, status, description} (a release recorded anew, by a
    roll forward) | {release, kind, name, revision} | {release, bgEnvironment}."""
    return _item(HISTORY_UPDATED, kind, name, changes=changes)


def roll_forward_description(number: int) -> str:
    """What a roll forward to release `number` records, in helm rollback's words."""
    return f"Rollback to {number}"


def labelled(kind: str, name: str, labels: dict[str, str]) -> dict:
    return _item(LABELLED, kind, name, labels=dict(labels))


def release_created(kind: str, name: str, release: int, status: str, description: str) -> dict:
    return _item(RELEASE_CREATED, kind, name, release=release, status=status, description=description)


def event(kind: str, name: str, reason: str = "RolledBack") -> dict:
    return _item(EVENT, kind, name, reason=reason)


def item_ref(item: dict) -> str:
    return f"{item['kind'].lower()}/{item['name']}"


def history_changes(changes: list[dict]) -> list[str]:
    """"release 3 marked Failed", "release 2 now records deployment/web revision 4, ...": the
    revisions a release now records make one phrase."""
    parts: list[str] = []
    revisions: list[str] = []
    for position, change in enumerate(changes):
        if "bgEnvironment" in change:
            parts.append(f"release {change['release']} bgEnvironment {change['bgEnvironment']}")
        elif "description" in change:
            parts.append(f"release {change['release']} recorded {change['status']} ({change['description']})")
        elif "status" in change:
            parts.append(f"release {change['release']} marked {change['status']}")
        else:
            revisions.append(f"{item_ref(change)} revision {change['revision']}")
            following = changes[position + 1] if position + 1 < len(changes) else {}
            if "revision" not in following or following.get("release") != change["release"]:
                parts.append(f"release {change['release']} now records {', '.join(revisions)}")
                revisions = []
    return parts


_ITEM_TEXT = {
    "restored": lambda item: f"restored the template of revision {item['revision']} ({', '.join(item['images'])})",
    "scaled": lambda item: f"scaled to {item['replicas']}",
    "deleted": lambda item: f"deleted ({item.get('why') or 'canary of the failed release'})",
    "pruned": lambda item: "deleted (--prune: the rollback-to release does not hold it)",
    "reapplied": lambda item: "re-applied from the stored manifest",
    "routed": lambda item: f"routes {item['color']} (was {item['fromColor']})",
    "historyUpdated": lambda item: "; ".join(history_changes(item["changes"])),
    "labelled": lambda item: ", ".join(f"{key} {value}" for key, value in item["labels"].items()),
    "releaseCreated": lambda item: f"release {item['release']} recorded {item['status']} ({item['description']})",
}


def outcome_item_text(item: dict) -> str:
    """One item of a rollback's outcome in words: "deployment/web: scaled to 3"."""
    if item["action"] == "eventRecorded":
        return f"event on {item_ref(item)}: {item['reason']}"
    return f"{item_ref(item)}: {_ITEM_TEXT[item['action']](item)}"

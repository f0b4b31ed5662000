"""The release timeline of `history --timeline` and `status --timeline`: one line per release, the live one and the last rollback marked (pure).

Made from `history -o json`'s rows (views.history_view), newest first, as `helm history` reads
downwards: each release's number, status, age and images (short: the repository's last path part,
a digest cut to 12 hex digits), or "same images as N" where only the rest of the release changed.
The live release carries `*` and "live"; the last rollback, which the live release's audit record
names, marks the release it left ("rolled back from") and the one it restored ("rolled back to").
"""

from __future__ import annotations

from datetime import datetime

from kubectl_harness_rollback.display import shown
from kubectl_harness_rollback.output.cells import NONE, age, text

# Longest CHANGE cell: a release of many workloads is summed up, not spelt out.
CHANGE_CHARS = 48
HEADERS = ("", "RELEASE", "STATUS", "AGE", "CHANGE", "")


def short_image(image: str) -> str:
    """registry.example/team/web:1.27 → web:1.27; a digest cut to 12 hex digits."""
    name, at, digest = image.partition("@")
    name = name.rsplit("/", 1)[-1]
    if at:
        algorithm, _, value = digest.partition(":")
        return f"{name}@{algorithm}:{value[:12]}" if value else f"{name}@{digest}"
    return name


def _images(row: dict) -> tuple[str, ...]:
    found: list[str] = []
    for workload in row["workloads"]:
        for image in workload.get("images") or []:
            if short_image(image) not in found:
                found.append(short_image(image))
    return tuple(found)


def _change(row: dict, older: dict | None) -> str:
    images = _images(row)
    if not images:
        return NONE
    if older is not None and _images(older) == images:
        return f"same images as {older['number']}"
    joined = ", ".join(images)
    return joined if len(joined) <= CHANGE_CHARS else joined[:CHANGE_CHARS - 1] + "…"


def _last_rollback(rows: list[dict]) -> dict | None:
    """The audit record of the rollback that put a live release where it is (the newest, if several)."""
    records = [row["rolledBack"] for row in rows if row.get("rolledBack")]
    return max(records, key=lambda record: record.get("at") or "") if records else None


def _note(row: dict, record: dict | None, now: datetime | None) -> str:
    words = []
    if record is not None:
        who = f"by {record.get('by') or 'someone'}, {age(record.get('at'), now)} ago"
        if row["number"] == record.get("toRelease"):
            words.append(f"rolled back to, {who}")
        elif row["number"] == record.get("fromRelease"):
            words.append(f"rolled back from, {who}")
    if row.get("live"):
        words.insert(0, "live")
    return ": ".join(words)  # "live: rolled back to, by alice, 2m ago"


def timeline_lines(rows: list[dict], now: datetime | None = None) -> list[str]:
    """The timeline of `rows` (newest first), a header first; [] without releases."""
    if not rows:
        return []
    record = _last_rollback(rows)
    cells = [list(HEADERS)]
    for index, row in enumerate(rows):
        older = rows[index + 1] if index + 1 < len(rows) else None
        cells.append(["*" if row.get("live") else "", str(row["number"]), shown(text(row["status"])),
                      age(row.get("updated"), now), shown(_change(row, older)), shown(_note(row, record, now))])
    widths = [max(len(line[column]) for line in cells) for column in range(len(HEADERS))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in cells]


def timeline_text(rows: list[dict], now: datetime | None = None) -> str:
    lines = timeline_lines(rows, now)
    return "\n".join(lines) + "\n" if lines else ""

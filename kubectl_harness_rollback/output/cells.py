"""How a value is written in a table cell (<none>, ages, rollbacks), and kubectl's table look.

Tables look like kubectl's: upper-case headers, no borders, columns three spaces apart. No color
is ever written, so NO_COLOR and pipes need no special case.
"""

from __future__ import annotations

import sys
import types
from datetime import datetime, timezone

from kubectl_harness_rollback import live_release
from kubectl_harness_rollback.action import ROLLED_BACK, parse_time
from kubectl_harness_rollback.display import shown_lines


def _import_tabulate() -> types.ModuleType:
    """tabulate, imported without importlib.metadata. tabulate looks its own version up there when
    imported, which loads importlib.metadata and scans every distribution on sys.path: about 25 ms
    of CPU, two thirds of the import, for a `__version__` nothing here reads. A stand-in answers
    the lookup ("unknown", tabulate's own answer when it is not installed) and is removed at once,
    so a later `import importlib.metadata` loads the real one."""
    if "tabulate" in sys.modules or "importlib.metadata" in sys.modules:
        import tabulate as loaded
        return loaded

    class PackageNotFoundError(ModuleNotFoundError):
        pass

    def version(name: str) -> str:
        raise PackageNotFoundError(name)

    stand_in = types.ModuleType("importlib.metadata")
    stand_in.PackageNotFoundError, stand_in.version = PackageNotFoundError, version
    sys.modules["importlib.metadata"] = stand_in
    try:
        import tabulate as loaded
    finally:
        if sys.modules.get("importlib.metadata") is stand_in:
            del sys.modules["importlib.metadata"]
    return loaded


tabulate_module = _import_tabulate()
DataRow, TableFormat, tabulate = tabulate_module.DataRow, tabulate_module.TableFormat, tabulate_module.tabulate

NONE = "<none>"

# kubectl's table look: no borders, columns three spaces apart, headers as wide as they are.
COLUMN_GAP = 3
KUBECTL_TABLE = TableFormat(lineabove=None, linebelowheader=None, linebetweenrows=None, linebelow=None,
                            headerrow=DataRow("", " " * COLUMN_GAP, ""), datarow=DataRow("", " " * COLUMN_GAP, ""),
                            padding=0, with_header_hide=None)
# tabulate widens every column by two spaces beyond its header unless told otherwise.
tabulate_module.MIN_PADDING = 0


def table(headers: list[str], rows: list[list[object]], show_headers: bool = True) -> str:
    """Headers and rows as kubectl prints them; "" when there is no row. `show_headers` False:
    the rows alone, as kubectl's --no-headers (the columns as wide as their cells)."""
    if not rows:
        return ""
    # Look-alike names escaped before tabulate measures the columns (an escape widens its cell).
    rows = [[shown_lines(cell) if isinstance(cell, str) else cell for cell in row] for row in rows]
    text = tabulate(rows, headers=headers if show_headers else (), tablefmt=KUBECTL_TABLE, disable_numparse=True, stralign="left")
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def text(value: object) -> str:
    return NONE if value in (None, "", [], ()) else str(value)


def age(timestamp: str | None, now: datetime | None = None) -> str:
    """kubectl's AGE (HumanDuration) of an RFC 3339 time: 45s, 7m30s, 25m, 5h10m, 3d4h, 40d."""
    if not timestamp:
        return NONE
    then = parse_time(timestamp)
    if then is None:
        return NONE
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - then).total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d"


def rolled_back_text(record: dict | None) -> str:
    """"rolled back by alice at 2026-01-02T03:04:05Z, 3 → 2" (from a lastRollback/rolledBack view)."""
    if not record:
        return ""
    return live_release.rolled_back_text(record, unknown=NONE)


def swapped_back_text(record: dict) -> str:
    """"swapped back by alice at 2026-01-02T03:04:05Z, 3 → 2 (service/shop: green → blue)" (a swapBack view)."""
    moved = " → ".join(NONE if record.get(key) is None else str(record[key]) for key in ("fromRelease", "toRelease"))
    colors = f"{record.get('fromColor') or '?'} → {record.get('toColor') or '?'}"
    return (f"swapped back by {record.get('by') or 'someone'} at {record.get('at') or 'an unknown time'}, {moved} "
            f"(service/{record.get('service')}: {colors})")


UNKNOWN = "<unknown>"


def steady_text(steady: bool | None) -> str:
    """STEADY: yes, no, or <unknown> where the workloads' revisions could not be read."""
    return UNKNOWN if steady is None else ("yes" if steady else "no")


def action_text(action: str | None, record: dict | None, now: datetime | None = None) -> str:
    """ACTION (action.py's words); "rolled back" says by whom and how long ago, from the
    lastRollback view ("rolled back by alice 5m ago")."""
    if action is None:
        return UNKNOWN
    if action != ROLLED_BACK or not record:
        return action
    when = f" {age(record['at'], now)} ago" if record.get("at") and age(record["at"], now) != NONE else ""
    return f"rolled back by {record.get('by') or 'someone'}{when}"


def release_cell(summary: dict | None) -> str:
    """A release in a table cell: "3 (Failed)" (views.release_summary)."""
    if summary is None:
        return NONE
    number = "a revision no release records" if summary["number"] is None else str(summary["number"])
    return f"{number} ({text(summary['status'])})"


def workload_ref(item: dict) -> str:
    """"deployment/web", from a view's kind and name."""
    return f"{item['kind'].lower()}/{item['name']}"

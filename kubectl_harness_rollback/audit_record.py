"""The `harness.io/last-rollback` record a workload or Service carries, read back field by field. Pure.

The rollback writes it (records/bookkeeping.py: audit_annotations) on every workload it restores and,
for blue/green, on the primary Service it swaps back; anyone can edit an annotation, so each field
is taken only when it has the type it was written with.
"""

from __future__ import annotations

import json

from kubectl_harness_rollback import digits
from kubectl_harness_rollback.harness_names import LAST_ROLLBACK_ANNOTATION


def read(annotations: dict | None) -> dict | None:
    """The record, parsed; None when there is none or it is not a JSON object."""
    try:
        record = json.loads((annotations or {}).get(LAST_ROLLBACK_ANNOTATION, ""))
    except (ValueError, TypeError):
        return None
    return record if isinstance(record, dict) else None


def text(value: object) -> str | None:
    """A field written as text: non-empty text, else None."""
    return value if isinstance(value, str) and value else None


def number(value: object) -> int | None:
    """A field written as a number: JSON numbers only (not "3", not true), through the one number reader."""
    return digits.natural(value) if isinstance(value, int) else None

"""Go-style durations ("300ms", "5m", "1h2m3s"), as kubectl's --timeout and --request-timeout take
them: parsed by durationpy (the kubernetes client's own dependency), with kubectl's extras."""

from __future__ import annotations

import re

import durationpy

INVALID = "invalid duration {text!r}: use a number with a unit, like 30s, 5m or 1h"


def parse_duration(text: str) -> float:
    """Seconds in `text`. A bare number means seconds, as in kubectl's --request-timeout.

    Raises ValueError with a sentence a user can act on.
    """
    value = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        seconds = durationpy.from_str(value).total_seconds() if value else -1.0
    except (durationpy.DurationError, ValueError, OverflowError):
        seconds = -1.0
    if seconds < 0 or value.startswith(("-", "+")):  # a timeout is never negative
        raise ValueError(INVALID.format(text=text))
    return seconds

"""Go-style durations ("300ms", "5m", "1h2m3s"), as kubectl's flags take them.

Go-style durations ("300ms", "5m", "1h2m3s"), as kubectl's --timeout and --request-timeout take
them: parsed by durationpy (the kubernetes client's own dependency), with kubectl's extras."""

from __future__ import annotations

import re

import durationpy

from kubectl_harness_rollback.display import shown

INVALID = "invalid duration '{text}': use a number with a unit, like 30s, 5m or 1h"
# Go's time.Duration is an int64 of nanoseconds: kubectl refuses anything longer ("invalid
# duration"). Longer values would also overflow the socket and thread waits (OverflowError).
LONGEST = (2**63 - 1) / 1e9
TOO_LONG = "invalid duration '{text}': longer than the longest duration kubectl accepts (2562047h)"


def parse_duration(text: str) -> float:
    """Seconds in `text`. A bare number means seconds, as in kubectl's --request-timeout.

    Raises ValueError with a sentence a user can act on.
    """
    value = text.strip()
    if any(not c.isascii() and c not in "µμ" for c in value):  # Go reads ASCII digits only ("１s" is no 1s)
        raise ValueError(INVALID.format(text=shown(text, limit=40)))
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", value):
        seconds = float(value)
    else:
        try:
            seconds = durationpy.from_str(value).total_seconds() if value else -1.0
        except (durationpy.DurationError, ValueError, OverflowError):
            seconds = -1.0
        if seconds < 0 or value.startswith(("-", "+")):  # a timeout is never negative
            raise ValueError(INVALID.format(text=shown(text, limit=40)))
    if not seconds <= LONGEST:  # also NaN and infinity (a 400-digit number is infinite as a float)
        raise ValueError(TOO_LONG.format(text=shown(text, limit=40)))
    return seconds

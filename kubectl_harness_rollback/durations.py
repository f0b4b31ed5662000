"""Go-style durations ("300ms", "5m", "1h2m3s"), as kubectl's --timeout and --request-timeout take them."""

from __future__ import annotations

import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """Seconds in `text`. A bare number means seconds, as in kubectl's --request-timeout.

    Raises ValueError with a sentence a user can act on.
    """
    value = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    position, total = 0, 0.0
    while position < len(value):
        match = _PART.match(value, position)
        if not match:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if not value or position != len(value):
        raise ValueError(f"invalid duration {text!r}: use a number with a unit, like 30s, 5m or 1h")
    return total

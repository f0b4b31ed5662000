"""Numbers written as text in the cluster, read here and nowhere else.

Numbers written as text in the cluster (revision annotations, release-number labels and
annotations, history fields) are read here and nowhere else: ASCII digits only.

`str.isdigit()` accepts "²" (and int() then raises); int() itself reads "٣" as 3, accepts
spaces and underscores ("1_0"), and refuses more than 4300 digits. One hostile annotation must
not break a listing, nor be read as a number the user cannot see.
"""

from __future__ import annotations

import re

# Bounded: more digits than any revision or release number can have (Kubernetes' are int64).
_DIGITS = re.compile(r"[0-9]{1,18}")  # a character range, not \d: ASCII only
_SPACE = " \t\r\n"


def natural(value: object) -> int | None:
    """A non-negative integer: an int, or text of ASCII digits (surrounding ASCII blanks allowed,
    as a YAML writer may leave them); None for anything else (bool, negative, "²", "1_0", "")."""
    if isinstance(value, bool):  # bool is an int subclass; `number: true` is not a number
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str):
        text = value.strip(_SPACE)
        if _DIGITS.fullmatch(text):
            return int(text)
    return None


def naturals(text: object, separator: str = ",") -> tuple[int, ...]:
    """The numbers of a separated list ("3,5,7", as `deployment.kubernetes.io/revision-history`);
    an entry that is not one is passed over."""
    if not isinstance(text, str):
        return ()
    found = (natural(part) for part in text.split(separator))
    return tuple(n for n in found if n is not None)

"""Did you mean …?: the names closest to a mistyped one, from names already at hand. Pure.

Cobra (kubectl's command library) suggests a command that starts with what was typed or is a
couple of edits away; here the same idea works for commands and release names alike, with
difflib's similarity ratio standing in for the edit distance. Release names tend to share a
long prefix ("release-"), so the cut-off is higher than difflib's default of 0.6: 'release-foo'
and 'release-bar' are not alike enough, 'release-prd' and 'release-prod' are.
"""

from __future__ import annotations

from typing import Iterable

CUTOFF = 0.75
MOST = 3
# A name much less alike than the best match is noise beside it ('release-infra-prod' next to
# 'release-prod' for 'release-prd').
BESIDE_THE_BEST = 0.1


def close_matches(typed: str, names: Iterable[str]) -> list[str]:
    """At most MOST names like `typed`: those it begins (a name cut short), else the most similar
    by difflib's ratio."""
    known = sorted(set(names) - {typed})
    begun = [name for name in known if len(typed) >= 2 and name.startswith(typed)]
    if begun:
        return begun[:MOST]
    import difflib  # only for a name that matched nothing: not on a read's way to its first request

    ratios = {name: difflib.SequenceMatcher(None, typed, name).ratio() for name in known}
    alike = sorted((name for name, ratio in ratios.items() if ratio >= CUTOFF), key=lambda name: -ratios[name])
    return [name for name in alike if ratios[name] >= ratios[alike[0]] - BESIDE_THE_BEST][:MOST]


def suggestion(typed: str, names: Iterable[str]) -> str:
    """"; did you mean X?" (or "X or Y?") for a message, or "" when nothing is alike."""
    found = close_matches(typed, names)
    if not found:
        return ""
    listed = found[0] if len(found) == 1 else f"{', '.join(found[:-1])} or {found[-1]}"
    return f"; did you mean {listed}?"

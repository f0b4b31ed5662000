"""Text from the cluster or the command line, shown to a person with look-alikes escaped.

How text taken from the cluster or the command line is shown to a person: one helper, so that
`wеb` (with a Cyrillic е) never reads as `web` in a message or a table.

Kubernetes object names are ASCII, but a release history may name anything, and so may a flag.
Letters, digits, marks, spaces and invisible characters outside ASCII are shown as Python
escapes (`w\\u0435b`); the symbols and punctuation of our own output (`→`, `—`) are kept.
"""

from __future__ import annotations

import unicodedata

_CONFUSABLE_CATEGORIES = ("L", "N", "M", "Z", "C")


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x80:
        return char if char.isprintable() else f"\\x{code:02x}"
    if unicodedata.category(char)[0] not in _CONFUSABLE_CATEGORIES:
        return char
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def shown(text: object, limit: int | None = None) -> str:
    """`text` with look-alike and invisible characters escaped (ASCII control characters too, so
    that a name is always one line); cut to about `limit` characters with "..." when longer."""
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    if text.isascii() and text.isprintable():
        return text
    return "".join(map(_escaped, text))


def shown_lines(text: str) -> str:
    """Text of several lines (a plan, a status) with each line shown as shown() shows it."""
    return "\n".join(shown(line) for line in text.split("\n"))

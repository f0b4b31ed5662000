"""The text yaml.safe_dump writes for a release history, without importing PyYAML, or None.

`dump(doc)` is `yaml.safe_dump(doc, sort_keys=False)` for the documents a release history is,
and None for anything else (the caller then dumps with PyYAML). A rollback writes the history
back while the controller rolls the workload out: importing PyYAML there (9 ms; its reader
compiles a large Unicode class) takes a core from the controllers on a small machine, and the
rollback becomes steady later. A history is a small subset of YAML: mappings with string keys,
lists, strings of names, kinds, statuses and revision numbers, ints, booleans and nulls. This
writer emits exactly that subset in PyYAML's block style (mappings indented by 2, a list under a
key not indented, `[]`, `{}`, `null`), a string plain when PyYAML's resolver would read it back
as a string and in single quotes when not (`'13'`, `'true'`, `''`). Anything else, where PyYAML
would quote, escape, fold a long line, or write an anchor for an object met twice, returns None.
Equality with yaml.safe_dump over generated documents is tested in
tests/unit/test_history_yaml_dump.py. Pure.
"""

from __future__ import annotations

import re

from kubectl_harness_rollback.block_yaml import resolves_to_string

# Printable ASCII without a space, a quote or an indicator (`:`, `#`, `,`, `[`...): PyYAML writes
# such a string plain or in single quotes, on one line, whatever its length.
_SIMPLE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*\Z")
_MAX_KEY = 120  # PyYAML writes a key of 128 characters or more as a complex key
_MAX_DEPTH = 32


class _Declined(Exception):
    pass


def dump(doc: object) -> str | None:
    """yaml.safe_dump(doc, sort_keys=False), or None when `doc` is outside the subset."""
    if type(doc) is not dict:
        return None
    lines: list[str] = []
    try:
        if doc:
            _mapping(doc, 0, lines, set(), 0)
        else:
            lines.append("{}")
    except _Declined:
        return None
    return "\n".join(lines) + "\n"


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    if type(value) is str:
        if value == "":
            return "''"
        if _SIMPLE.match(value):
            return value if resolves_to_string(value) else f"'{value}'"
    raise _Declined  # a float, a string PyYAML quotes otherwise or escapes, another type


def _inline(value: object, seen: set[int], depth: int) -> str | None:
    """How a value is written after `key: ` or `- `, or None for a non-empty collection."""
    if type(value) is dict or type(value) is list:
        if value:
            return None
        _enter(value, seen, depth)  # PyYAML writes an anchor for an empty one met twice too
        return "{}" if type(value) is dict else "[]"
    return _scalar(value)


def _enter(value: object, seen: set[int], depth: int) -> None:
    """A collection met twice would be an anchor and an alias; one too deep goes to PyYAML."""
    if id(value) in seen or depth > _MAX_DEPTH:
        raise _Declined
    seen.add(id(value))


def _mapping(mapping: dict, indent: int, lines: list[str], seen: set[int], depth: int,
             first_prefix: str | None = None) -> None:
    """Lines of a non-empty mapping whose keys are at column `indent`; its first line begins
    with `first_prefix` instead of the indentation (a list item's `- `)."""
    _enter(mapping, seen, depth)
    pad = " " * indent
    for number, (key, value) in enumerate(mapping.items()):
        if type(key) is not str or not key or len(key) > _MAX_KEY:
            raise _Declined  # PyYAML writes an empty or a long key as a `? ` complex key
        head = (first_prefix if number == 0 and first_prefix is not None else pad) + _scalar(key) + ":"
        written = _inline(value, seen, depth + 1)
        if written is not None:
            lines.append(f"{head} {written}")
        elif type(value) is dict:
            lines.append(head)
            _mapping(value, indent + 2, lines, seen, depth + 1)
        else:
            lines.append(head)
            _sequence(value, indent, lines, seen, depth + 1)  # PyYAML does not indent it


def _sequence(items: list, indent: int, lines: list[str], seen: set[int], depth: int) -> None:
    """Lines of a non-empty list whose dashes are at column `indent`."""
    _enter(items, seen, depth)
    dash = " " * indent + "- "
    for item in items:
        written = _inline(item, seen, depth + 1)
        if written is not None:
            lines.append(dash + written)
        elif type(item) is dict:
            _mapping(item, indent + 2, lines, seen, depth + 1, first_prefix=dash)
        else:
            raise _Declined  # a list in a list: `- - a`, left to PyYAML

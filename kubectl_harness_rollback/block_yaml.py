"""A strict, fast reader of the block YAML that release histories and kubeconfigs are written in.

PyYAML without LibYAML (the release archive cannot carry a compiled module) takes about 10 ms
to parse one history: `list -A` over 500 releases spent seconds there. Harness's writers emit a
small subset of YAML: block mappings with plain keys, block sequences (indented or not), plain and
quoted one-line scalars, `[]` and `{}`. This reader understands exactly that subset, line by
line, and returns what `yaml.safe_load` returns for it; on anything else (a flow collection, a
multi-line or escaped scalar, an anchor, a tag, a comment after a value, a tab, non-ASCII text,
an unusual indentation) it declines, and the caller loads the text with PyYAML. Plain
scalars are typed as PyYAML's resolver types them, by its own regular expressions (copied here, so
that reading a history imports no PyYAML): `'13'`, `13`, `null`, `~` and `true` mean what PyYAML
says; a float, a timestamp or an int written otherwise than in decimal digits is declined. A rollback must never act on a misread history: equality with
yaml.safe_load is tested over generated histories (tests/unit/test_history_yaml.py).
"""

from __future__ import annotations

import functools
import re

DECLINED = object()  # not in the subset: load it with PyYAML

_PRINTABLE_ASCII = re.compile(r"[\n\x20-\x7e]*\Z")
_KEY_LINE = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_./-]*):(?: +(.*))?\Z")
_PLAIN = re.compile(r"[A-Za-z0-9_./~(][A-Za-z0-9_./~()+=@%: -]*\Z")
# PyYAML's implicit resolvers (yaml/resolver.py) for what may begin a plain scalar here (a letter,
# a digit, `.`, `_`, `/`, `~` or `(`: no sign, no `<<`, no `=`). Booleans and nulls are read here,
# as PyYAML's constructors read them; of the numbers and timestamps only decimal ints are.
_BOOLEANS = {word: value for words, value in (("yes Yes YES true True TRUE on On ON", True),
                                              ("no No NO false False FALSE off Off OFF", False))
             for word in words.split()}
_NULLS = {"~", "null", "Null", "NULL"}
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)\Z")
# PyYAML's numbers and timestamps each begin with a digit, a sign or `.`: the expression is compiled
# (0.5 ms) the first time a scalar does, which no name, image or status of a history does.
_NUMBER_OR_TIME_START = frozenset("0123456789+-.")
_NUMBER_OR_TIME = r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
                    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
                    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN)
                    |[-+]?0b[0-1_]+
                    |[-+]?0[0-7_]+
                    |[-+]?(?:0|[1-9][0-9_]*)
                    |[-+]?0x[0-9a-fA-F_]+
                    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
                    |[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
                    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
                     (?:[Tt]|[ \t]+)[0-9][0-9]?
                     :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
                     (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"""
# Deeper than Harness ever nests, and far from the recursion limit; deeper documents go to PyYAML.
_MAX_DEPTH = 32


class _Decline(Exception):
    pass


def read(text: str, *, max_nodes: int, max_releases: int | None = None):
    """The document, as yaml.safe_load would return it, or DECLINED. What comes near one of the
    bounds of history_codec is declined too: PyYAML's path then refuses it, saying which."""
    if not _PRINTABLE_ASCII.match(text):
        return DECLINED
    lines = []
    for line in text.split("\n"):
        content = line.strip(" ")
        if content and not content.startswith("#"):
            lines.append((len(line) - len(line.lstrip(" ")), content))
    if lines and lines[0] == (0, "---"):  # an explicit start of the one document
        lines.pop(0)
    if not lines:
        return DECLINED
    reader = _Reader(lines, max_nodes // 2)
    try:
        doc = reader.node(0, lines[0][0], 1)
        if reader.at < len(lines):
            raise _Decline  # left over: a line less indented than the first (PyYAML: an error)
    except _Decline:
        return DECLINED
    releases = doc.get("releases") if isinstance(doc, dict) else None
    if max_releases is not None and isinstance(releases, list) and len(releases) > max_releases:
        return DECLINED
    return doc


class _Reader:
    def __init__(self, lines: list[tuple[int, str]], max_nodes: int):
        self.lines, self.at, self.nodes, self.max_nodes = lines, 0, 0, max_nodes

    def _count(self, depth: int) -> None:
        self.nodes += 1
        if self.nodes > self.max_nodes or depth > _MAX_DEPTH:
            raise _Decline

    def node(self, at: int, indent: int, depth: int):
        """The block node whose first line is lines[at], at `indent`."""
        self.at = at
        content = self.lines[at][1]
        if content == "-" or content.startswith("- "):
            return self.sequence(indent, depth)
        if _KEY_LINE.match(content):
            return self.mapping(indent, depth)
        raise _Decline  # a scalar on a line of its own, a `? ` key, a flow collection...

    def _deeper(self, indent: int) -> int | None:
        """The indentation of the next line if it is deeper than `indent`."""
        if self.at < len(self.lines) and self.lines[self.at][0] > indent:
            return self.lines[self.at][0]
        return None

    def sequence(self, indent: int, depth: int) -> list:
        self._count(depth)
        items = []
        while self.at < len(self.lines) and self.lines[self.at][0] == indent:
            content = self.lines[self.at][1]
            if content == "-":
                self.at += 1
                deeper = self._deeper(indent)
                items.append(self.node(self.at, deeper, depth + 1) if deeper is not None else self._null(depth + 1))
                if self._deeper(indent) is not None:
                    raise _Decline  # back out to an indentation between this one and the item's
                continue
            if not content.startswith("- "):
                break  # the key after an indentless sequence: the enclosing mapping goes on
            rest = content[2:]
            column = indent + 2 + (len(rest) - len(rest.lstrip(" ")))
            rest = rest.lstrip(" ")
            if rest == "-" or rest.startswith("- "):
                raise _Decline  # a sequence in a sequence on one line
            if _KEY_LINE.match(rest):
                self.lines[self.at] = (column, rest)  # the item is a mapping at the column of its first key
                items.append(self.mapping(column, depth + 1))
            else:
                items.append(self.scalar(rest, depth + 1))
                self.at += 1
            if self._deeper(indent) is not None:
                raise _Decline  # a continuation line, or a mapping under a scalar item
        return items

    def mapping(self, indent: int, depth: int) -> dict:
        self._count(depth)
        mapping: dict = {}
        while self.at < len(self.lines) and self.lines[self.at][0] == indent:
            matched = _KEY_LINE.match(self.lines[self.at][1])
            if matched is None:
                raise _Decline  # a sequence entry or a scalar where a key was expected
            key, value = self._key(matched.group(1), depth + 1), matched.group(2)
            self.at += 1
            if value is not None:
                mapping[key] = self.scalar(value, depth + 1)
                if self._deeper(indent) is not None:
                    raise _Decline  # a multi-line scalar, or nodes under a scalar
                continue
            deeper = self._deeper(indent)
            if deeper is not None:
                mapping[key] = self.node(self.at, deeper, depth + 1)
                if self._deeper(indent) is not None:
                    raise _Decline  # back out to an indentation between this one and the value's
            elif self.at < len(self.lines) and self.lines[self.at][0] == indent and (
                    self.lines[self.at][1] == "-" or self.lines[self.at][1].startswith("- ")):
                mapping[key] = self.sequence(indent, depth + 1)  # an indentless sequence
            else:
                mapping[key] = self._null(depth + 1)
        return mapping

    def _null(self, depth: int) -> None:
        self._count(depth)
        return None

    def _key(self, text: str, depth: int) -> str:
        self._count(depth)
        if _plain(text) != text:
            raise _Decline  # `true:`, `1:`, `null:`: PyYAML's key is no string
        return text

    def scalar(self, text: str, depth: int):
        self._count(depth)
        if text == "[]":
            return []
        if text == "{}":
            return {}
        first = text[0]
        if first == "'":
            inner = text[1:-1]
            if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
                raise _Decline
            return inner.replace("''", "'")
        if first == '"':
            inner = text[1:-1]
            if len(text) < 2 or text[-1] != '"' or '"' in inner or "\\" in inner:
                raise _Decline
            return inner
        value = _plain(text)
        if value is DECLINED:
            raise _Decline
        return value


@functools.cache
def _number_or_time() -> re.Pattern:
    return re.compile(_NUMBER_OR_TIME, re.X)


def resolves_to_string(text: str) -> bool:
    """Whether PyYAML's resolver reads `text`, written plain, as a string (block_yaml_dump.py:
    else it is quoted): not a boolean, a null, a number or a timestamp."""
    if text in _BOOLEANS or text in _NULLS or text == "":
        return False
    return not (text[0] in _NUMBER_OR_TIME_START and _number_or_time().match(text))


@functools.lru_cache(maxsize=4096)  # names, kinds and statuses repeat in every release
def _plain(text: str):
    """A plain scalar's value, typed as PyYAML types it (all of them immutable), or DECLINED."""
    if not _PLAIN.match(text) or ": " in text or text.endswith(":"):
        return DECLINED
    if text in _BOOLEANS:
        return _BOOLEANS[text]
    if text in _NULLS:
        return None
    if _DECIMAL.match(text):
        return int(text)
    if text[0] in _NUMBER_OR_TIME_START and _number_or_time().match(text):
        return DECLINED  # 1.5, 0x1f, 1_000, 2001-02-03: PyYAML's path reads them
    return text

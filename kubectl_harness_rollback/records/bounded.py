"""Decoding with bounds, shared by every record format: base64, gzip, UTF-8 and YAML.

Each step raises ValueError with a reason that names no content (the caller prefixes the key it was
reading), because the bytes may come from a Secret; and each refuses input past its bound before
the work grows with it (a gzip bomb, a billion-laughs alias bomb, a history of millions of lines).
Pure: no I/O.
"""

from __future__ import annotations

import base64
import re
import zlib

GZIP_MAGIC = b"\x1f\x8b"


_B64_SPACE = re.compile(r"[ \t\r\n]")


def unbase64(text: object, limit: int | None = None) -> bytes:
    """Strict base64; line breaks are tolerated because some writers wrap base64 text. With
    `limit`, text that would decode to more bytes than that is refused before it is decoded."""
    if not isinstance(text, str):
        raise ValueError("is not text")
    if limit is not None and len(text) > (limit + 2) // 3 * 4 * 2:  # wrapped: at most a break a character
        raise ValueError(f"is larger than {_size(limit)}")
    try:
        raw = base64.b64decode(_B64_SPACE.sub("", text), validate=True)
    except ValueError:  # binascii.Error, and non-ASCII text, are both ValueErrors
        raise ValueError("is not valid base64") from None
    if limit is not None and len(raw) > limit:
        raise ValueError(f"is larger than {_size(limit)}")
    return raw


# What a decoded record may hold. A release history is kilobytes (Harness keeps tens of releases
# of tens of lines each), an object in etcd at most ~1.5 MiB. Each bound is applied while the
# bytes stream in, before any text or list is built: a gzip of 16 million empty lines is 81 KiB
# and must cost what reading 81 KiB costs, not gigabytes.
MAX_COMPRESSED_BYTES = 2 * 1024 * 1024


MAX_INFLATED_BYTES = 16 * 1024 * 1024


MAX_LINES = 500_000


_INFLATE_CHUNK = 256 * 1024


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"


def check_text_bounds(raw: bytes | str, limit: int = MAX_INFLATED_BYTES, max_lines: int = MAX_LINES) -> None:
    """Refuse (ValueError) text longer than `limit` or of more than `max_lines` lines."""
    if len(raw) > limit:
        raise ValueError(f"is more than {_size(limit)} of text")
    if raw.count(b"\n" if isinstance(raw, bytes) else "\n") >= max_lines:
        raise ValueError(f"has more than {max_lines} lines")


def gunzip(raw: bytes, limit: int = MAX_INFLATED_BYTES, max_lines: int = MAX_LINES) -> bytes:
    """Inflate gzip (several members too, as Go's reader accepts), a chunk at a time, refusing
    to grow past `limit` bytes or `max_lines` lines: it stops at the first chunk past either."""
    out, rest, lines = bytearray(), raw, 0
    try:
        while True:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # 16+: a gzip header and trailer
            pending = rest
            while not inflater.eof:
                chunk = inflater.decompress(pending, _INFLATE_CHUNK)
                pending = inflater.unconsumed_tail
                if not chunk and not pending and not inflater.eof:
                    raise ValueError("is not valid gzip")  # cut short: the stream never ends
                lines += chunk.count(b"\n")
                out += chunk
                if len(out) > limit:
                    raise ValueError(f"inflates to more than {_size(limit)}")
                if lines >= max_lines:
                    raise ValueError(f"inflates to more than {max_lines} lines")
            rest = inflater.unused_data
            if not rest:
                return bytes(out)
    except zlib.error:
        raise ValueError("is not valid gzip") from None


def utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("is not UTF-8 text") from None


# Bounds of a decoded document, on top of MAX_INFLATED_BYTES. Harness keeps tens of releases of
# tens of YAML nodes each; these bounds are far above that and far below what exhausts memory or
# patience. An alias counts as the nodes it stands for, so an alias bomb ("billion laughs") is
# refused while its events are counted, before any object is built.
MAX_RELEASES = 10_000


MAX_YAML_NODES = 1_000_000


MAX_YAML_DEPTH = 200


def safe_loader():
    """LibYAML's parser when PyYAML was built with it (about ten times faster); the same safe
    constructor and resolver either way. PyYAML is imported here: a read whose records are all
    in block_yaml's subset never loads it."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TooBig(ValueError):
    """A document past one of the bounds: said as such, not as "not valid YAML"."""


class _Frame:
    """An open collection while counting: where the count stood when it opened, and its role."""

    __slots__ = ("start", "anchor", "mapping", "expect_key", "key", "is_releases")

    def __init__(self, start: int, anchor: str | None, mapping: bool, is_releases: bool):
        self.start, self.anchor, self.mapping, self.is_releases = start, anchor, mapping, is_releases
        self.expect_key, self.key = True, None


def check_yaml_bounds(text: str, *, max_releases: int | None = None, max_nodes: int = MAX_YAML_NODES,
                      max_depth: int = MAX_YAML_DEPTH) -> None:
    """Refuse (ValueError, naming no content) a YAML stream that is too big to load: more nodes
    than `max_nodes` with aliases expanded, deeper than `max_depth`, or, with `max_releases`, a
    top-level `releases` sequence longer than that. Reads parser events only: constant memory,
    and it stops at the first bound passed."""
    import yaml

    loader = safe_loader()(text)
    try:
        nodes, releases = 0, 0
        anchors: dict[str, int] = {}
        stack: list[_Frame] = []
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.DocumentStartEvent):
                anchors, stack = {}, []
                continue
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                frame = stack.pop()
                if frame.anchor is not None:
                    anchors[frame.anchor] = nodes - frame.start
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue  # stream start/end, document end
            parent = stack[-1] if stack else None
            is_releases = False
            if parent is not None:
                if parent.is_releases:
                    releases += 1
                    if max_releases is not None and releases > max_releases:
                        raise _TooBig(f"has more than {max_releases} releases")
                if parent.mapping:
                    if parent.expect_key:
                        parent.key = event.value if isinstance(event, yaml.ScalarEvent) else None
                    else:
                        is_releases = len(stack) == 1 and parent.key == "releases"
                    parent.expect_key = not parent.expect_key
            start = nodes
            if isinstance(event, yaml.AliasEvent):
                if any(frame.anchor == event.anchor for frame in stack):
                    raise _TooBig("has an alias inside the node it stands for (it never ends)")
                nodes += anchors.get(event.anchor, 1)
            else:
                nodes += 1
            if nodes > max_nodes:
                raise _TooBig(f"has more than {max_nodes} YAML nodes (an alias counts as what it stands for)")
            if isinstance(event, yaml.CollectionStartEvent):
                mapping = isinstance(event, yaml.MappingStartEvent)
                stack.append(_Frame(start, event.anchor, mapping, is_releases and not mapping))
                if len(stack) > max_depth:
                    raise _TooBig(f"nests deeper than {max_depth} levels")
            elif isinstance(event, yaml.ScalarEvent) and event.anchor is not None:
                anchors[event.anchor] = 1
    finally:
        loader.dispose()


def load_yaml(text: str, *, every_document: bool = False, max_releases: int | None = None):
    """safe_load (or safe_load_all, as a list), within the bounds of check_yaml_bounds. PyYAML also
    raises ValueError (a bad date such as 2001-02-30, `!!int x`) and RecursionError (deep
    nesting): all of them mean "not valid YAML"."""
    import yaml

    try:
        check_yaml_bounds(text, max_releases=max_releases)
        if every_document:
            return list(yaml.load_all(text, Loader=safe_loader()))
        return yaml.load(text, Loader=safe_loader())
    except _TooBig:
        raise
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)  # a position only: the message may quote content
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ValueError(f"is not valid YAML{where}") from None

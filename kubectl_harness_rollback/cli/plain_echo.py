"""click.echo's output for plain text, without importing click.

The reads' short route prints through this echo: for a str on a stream whose encoding is set and
not ASCII (what a terminal, a pipe and a file give under a UTF-8 locale) it writes and flushes
as click.echo does. Anything else (bytes, None, ANSI codes that click strips off a terminal, a
stream click would re-wrap) is handed to click.echo itself, so the bytes written never differ.
"""

from __future__ import annotations

import codecs
import sys


def echo(message=None, file=None, nl: bool = True, err: bool = False, color: bool | None = None) -> None:
    stream = file if file is not None else (sys.stderr if err else sys.stdout)
    if not isinstance(message, str) or "\x1b" in message or not _plain(stream):
        import click

        click.echo(message, file, nl, err, color)
        return
    out = message + "\n" if nl else message
    if out:
        stream.write(out)
    stream.flush()


def _plain(stream) -> bool:
    """A text stream click writes to as it is (click._compat: compatible and not misconfigured)."""
    encoding = getattr(stream, "encoding", None)
    if not encoding or getattr(stream, "errors", None) is None:
        return False
    try:
        return codecs.lookup(encoding).name != "ascii"
    except LookupError:
        return True

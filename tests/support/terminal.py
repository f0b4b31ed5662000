"""A terminal screen, just enough of one: what a person sees after the bytes written to a terminal.

It understands what output/live.py writes (cursor up, carriage return, erase below) and what a
pseudo-terminal adds (CR before LF: a line feed here returns the carriage too, as ONLCR makes
it); any other escape sequence fails the test rather than be
guessed at. Lines are not wrapped: a test that needs the width checks the line lengths itself.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\x1b\[(\d*)([A-Za-z])")


class Terminal:
    def __init__(self) -> None:
        self.lines: list[str] = [""]
        self.row = 0
        self.col = 0

    def feed(self, text: str) -> "Terminal":
        at = 0
        while at < len(text):
            char = text[at]
            if char == "\x1b":
                match = _ESCAPE.match(text, at)
                assert match, f"unexpected escape sequence {text[at:at + 8]!r}"
                self._escape(int(match.group(1) or 1), match.group(2))
                at = match.end()
                continue
            if char == "\r":
                self.col = 0
            elif char == "\n":
                self.row, self.col = self.row + 1, 0
                if self.row == len(self.lines):
                    self.lines.append("")
            else:
                line = self.lines[self.row].ljust(self.col)
                self.lines[self.row] = line[:self.col] + char + line[self.col + 1:]
                self.col += 1
            at += 1
        return self

    def _escape(self, count: int, command: str) -> None:
        if command == "A":
            self.row = max(self.row - count, 0)
        elif command == "J":
            self.lines[self.row] = self.lines[self.row][:self.col]
            del self.lines[self.row + 1:]
        else:
            raise AssertionError(f"unexpected escape sequence ESC [{count}{command}")

    def screen(self) -> str:
        """Every line written and still there, trailing spaces and empty last lines left out."""
        return "\n".join(line.rstrip() for line in self.lines).rstrip("\n") + "\n"

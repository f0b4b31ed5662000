"""Live progress on a terminal: the one place that redraws in place (output/live.py makes the frames).

Used only where the stream is a terminal and TERM is set and not `dumb`; everywhere else the
commands print the plain lines they always printed. A frame is redrawn when what it shows changes
and once a second (its clocks tick) by a thread that only writes; every request stays in the
command's own thread. The last frame stays on the screen when the command ends.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from typing import Callable

from kubectl_harness_rollback.display import shown_lines
from kubectl_harness_rollback.errors import NotSteady, RolloutFailed
from kubectl_harness_rollback.model import WorkloadRef
from kubectl_harness_rollback.output import live as frames

TICK_SECONDS = 1.0
# A workload's pods are read again at most this often while it is waited for (2 lists each).
REASONS_EVERY_SECONDS = 2.0


def is_live(stream) -> bool:
    """A terminal that understands cursor movement: not a pipe, a file, or TERM=dumb (Emacs' shell)."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return bool(tty) and os.environ.get("TERM", "") not in ("", "dumb")


class Screen:
    """A frame at the bottom of `stream`, redrawn in place; lines said above it stay."""

    def __init__(self, stream, frame: Callable[[], list[str]], refresh: Callable[[], None] | None = None):
        """`frame()`: the lines to show; `refresh()`, called by the clock's thread before each
        tick's redraw, may read what the frame shows (it holds no lock meanwhile)."""
        self.stream, self.frame, self.refresh = stream, frame, refresh
        self.lock = threading.RLock()
        self.drawn = 0
        self.ticking: threading.Event | None = None

    def _width(self) -> int:
        try:
            return os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            import shutil  # 1.6 ms of every `status` start-up, for a stream that is no terminal

            return shutil.get_terminal_size().columns

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def draw(self) -> None:
        with self.lock:
            lines = frames.fit(self.frame(), self._width())
            self._write(frames.redraw(self.drawn, lines))
            self.drawn = len(lines)

    def say(self, text: str) -> None:
        """Whole lines printed above the frame."""
        with self.lock:
            lines = frames.fit(self.frame(), self._width()) if self.drawn else []
            self._write(frames.above(self.drawn, text, lines))
            self.drawn = len(lines)

    def tick(self) -> None:
        """Redraw once a second (the clocks move) until `still()`."""
        with self.lock:
            if self.ticking is not None:
                return
            self.ticking = stop = threading.Event()

        def run() -> None:
            while not stop.wait(TICK_SECONDS):
                if self.refresh is not None:
                    try:
                        self.refresh()
                    except Exception:  # a failed read leaves the reason out, never the rollback
                        pass
                with self.lock:  # once still() returns, this thread draws no more
                    if not stop.is_set():
                        self.draw()
        threading.Thread(target=run, daemon=True, name="live frame").start()

    def still(self) -> None:
        with self.lock:
            if self.ticking is not None:
                self.ticking.set()
                self.ticking = None

    def close(self, last: list[str] | None = None) -> None:
        """Stop ticking; the last frame (or `last`, whole: it is never redrawn, so it may wrap) stays."""
        self.still()
        with self.lock:
            if last is not None:
                self._write(frames.redraw(self.drawn, last))
                self.drawn = 0
            elif self.drawn:
                self.draw()


class LiveWait:
    """A rollback's progress on a terminal: the plain lines above, a line per workload waited for.

    A callable of one line, as every `progress` is, plus the hooks execution.poll calls when
    they are there (`started`, `seen`, `ended`). `reasons(ref, obj)` reads the pods' reasons
    (diagnosis.read_reasons); the frame's own thread reads them (`refresh`), every
    REASONS_EVERY_SECONDS, so that a pod that crash-loops is seen while the workload itself does
    not change, and the wait is never held up by a read."""

    def __init__(self, stream, deadline: float, timeout: float,
                 reasons: Callable[[WorkloadRef, dict], dict | None] | None = None,
                 monotonic: Callable[[], float] = time.monotonic):
        self.began = deadline - timeout
        self.deadline, self.reasons, self.monotonic = deadline, reasons, monotonic
        self.rows: dict[WorkloadRef, frames.WorkloadLine] = {}
        self.objects: dict[WorkloadRef, dict] = {}  # the last version seen of each
        self.read_at: dict[WorkloadRef, float] = {}
        self.waiting = False
        self.screen = Screen(stream, self.frame, self.refresh)

    def frame(self) -> list[str]:
        now = self.monotonic()
        remaining = self.deadline - now if self.waiting else None
        return frames.wait_frame(list(self.rows.values()), now - self.began, remaining)

    def __call__(self, line: str) -> None:
        self.screen.say(shown_lines(line))

    def started(self, refs: list[WorkloadRef]) -> None:
        with self.screen.lock:
            for ref in refs:
                row = self.rows.get(ref)
                self.rows[ref] = frames.WorkloadLine(str(ref)) if row is None else replace(row, took=None)
            self.waiting = True
        self.screen.draw()
        self.screen.tick()

    def seen(self, ref: WorkloadRef, obj: dict, finished: bool, message: str) -> None:
        """A version of `ref` the wait saw: `finished` by the wait's own test, `message` its words."""
        now = self.monotonic()
        if message:
            state = "rolled out" if finished else "rolling out"
        else:  # the wait for the controller to observe the write, which has no words of its own
            state = "observed" if finished else "waiting for the controller"
        ready, desired, updated = frames.replicas(obj)
        with self.screen.lock:
            reason = None if finished or ref not in self.rows else self.rows[ref].reason
            self.objects[ref] = obj
            self.rows[ref] = frames.WorkloadLine(str(ref), ready, desired, updated, state, reason,
                                                 took=now - self.began if finished else None)
        self.screen.draw()

    def refresh(self) -> None:
        """Read the pods' reasons of each workload still waited for, when due (at most every
        REASONS_EVERY_SECONDS); the screen stays free to redraw during the reads."""
        if self.reasons is None:
            return
        now = self.monotonic()
        with self.screen.lock:
            due = [(ref, self.objects[ref]) for ref, row in self.rows.items()
                   if row.took is None and ref in self.objects
                   and now - self.read_at.get(ref, now - REASONS_EVERY_SECONDS) >= REASONS_EVERY_SECONDS]
        for ref, obj in due:
            self.read_at[ref] = now
            reason = frames.top_reason(self.reasons(ref, obj))
            with self.screen.lock:
                row = self.rows.get(ref)
                if row is not None and row.took is None:
                    self.rows[ref] = replace(row, reason=reason)

    def ended(self, error: BaseException | None) -> None:
        """The wait is over: what did not finish says why, and the clocks stop."""
        now = self.monotonic()
        with self.screen.lock:
            self.waiting = False
            for ref, row in list(self.rows.items()):
                if row.took is None:
                    state = row.state if error is None else _stopped(error)
                    self.rows[ref] = replace(row, state=state, took=now - self.began)
        self.screen.still()
        self.screen.draw()

    def close(self) -> None:
        self.screen.close()


def _stopped(error: BaseException) -> str:
    """A workload's last state when the wait for it ended in `error`."""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    if isinstance(error, RolloutFailed):
        return "gave up (progress deadline)"
    return "not steady in time" if isinstance(error, NotSteady) else "stopped"


class LiveStatus:
    """`status --watch` on a terminal: its block redrawn in place, with how long it has watched."""

    def __init__(self, stream, render: Callable[[dict], str], timeout: float | None,
                 monotonic: Callable[[], float] = time.monotonic):
        self.render, self.monotonic = render, monotonic
        self.began = monotonic()
        self.deadline = None if timeout is None else self.began + timeout
        self.block: str | None = None
        self.screen = Screen(stream, self.frame)

    def frame(self) -> list[str]:
        now = self.monotonic()
        remaining = None if self.deadline is None else self.deadline - now
        return frames.status_frame(self.block or "", now - self.began, remaining)

    def show(self, view: dict) -> None:
        with self.screen.lock:
            self.block = self.render(view)
        self.screen.draw()
        self.screen.tick()

    def close(self) -> None:
        """The last block stays, whole, as a pipe would have it last."""
        self.screen.close(self.block.rstrip("\n").split("\n") if self.block is not None else None)

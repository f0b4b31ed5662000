"""SIGTERM and SIGHUP handled as Ctrl-C, each with its own exit code.

SIGTERM and SIGHUP handled as Ctrl-C: `timeout`, a cancelled CI job and a pod eviction send
SIGTERM, a closed terminal SIGHUP. Each raises KeyboardInterrupt in the main thread, as Python's
own SIGINT handler does, so one path serves all three: no write is started after it, a rollback
already written prints its outcome (and `-o json`) and says so, the temporary files go.

The exit code is 128 + the signal's number (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP): what a shell
reports for kubectl killed by the same signal, and what `timeout --preserve-status` passes on, so
a pipeline tells an operator's Ctrl-C from its own time limit.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

INTERRUPT_EXIT = 130  # errors.Interrupted's: Ctrl-C


class Received:
    """The signal that interrupted the run (SIGINT unless SIGTERM or SIGHUP came first)."""

    def __init__(self) -> None:
        self.signum = signal.SIGINT

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    def exit_code(self, code: int) -> int:
        """The process's exit code for `code`: an interruption's is that of the signal."""
        return 128 + int(self.signum) if code == INTERRUPT_EXIT else code

    def said(self, message: str) -> str:
        """`message`, naming the signal when it was not Ctrl-C ("interrupted by SIGTERM: ...")."""
        if self.signum != signal.SIGINT and message.startswith("interrupted"):
            return f"interrupted by {self.name}" + message[len("interrupted"):]
        return message


@contextmanager
def as_interrupts() -> Iterator[Received]:
    """Within the block, SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread."""
    received = Received()
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def interrupt(signum, _frame):
        if received.signum == signal.SIGINT:
            received.signum = signum
        raise KeyboardInterrupt

    # A signal ignored when the process started stays ignored (`nohup` ignores SIGHUP).
    wanted = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
              if s is not None and signal.getsignal(s) is not signal.SIG_IGN]
    before = {s: signal.signal(s, interrupt) for s in wanted}
    try:
        yield received
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)

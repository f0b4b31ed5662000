"""What every way of carrying out a plan shares: its options, the clock, the wait, the grace after the deadline."""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator

from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.model import WorkloadRef
from kubectl_harness_rollback.workloads import waiting


@data_class(frozen=True)
class RollbackOptions:
    dry_run: DryRun = DryRun.NONE
    wait: bool = True
    timeout: float = 300.0
    scale_down_stage: bool = False
    # time.monotonic() by which the whole rollback ends (the CLI starts it before reading, so
    # --timeout bounds the whole command); None: `timeout` from the start of carry_out.
    deadline: float | None = None
    # Roll back a workload Argo CD or Flux reconciles all the same (README: "Other owners").
    ignore_owner: bool = False
    reason: str | None = None  # --reason: why, in the audit annotation, the change-cause and the Event


@data_class
class Clock:
    """The outside world's time, injected so tests can pass their own."""

    now: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic  # the wait's deadline (waits watch: nothing sleeps here)


def poll(kube, refs: list[WorkloadRef], until: Callable[[object, dict], tuple[bool, str]], deadline: float,
          clock: Clock, progress: Callable[[str], None], meanwhile: str = waiting.WRITTEN_STILL_ROLLING,
          start: dict[WorkloadRef, dict] | None = None) -> dict[WorkloadRef, dict]:
    """Watch each workload until `until(adapter, obj)` says done or the deadline passes (NotSteady,
    ending with `meanwhile`: where that leaves the user); from `start`'s versions where given.
    A `progress` that draws the wait live (fleet/live.py) has `started`, `seen` and `ended`."""
    live = progress if callable(getattr(progress, "seen", None)) else None
    if live is None:
        return waiting.wait_for(kube, refs, until, deadline, progress, clock.monotonic, meanwhile, start)
    live.started(refs)
    try:
        done = waiting.wait_for(kube, refs, until, deadline, progress, clock.monotonic, meanwhile, start, live.seen)
    except BaseException as error:
        live.ended(error)
        raise
    live.ended(None)
    return done


# Once the workloads are written, recording it (or undoing a scale-up) must not be cut short by a
# --timeout that ran out meanwhile: a history left InProgress is worse than a command that ends a
# few seconds late. Each request stays bounded by --request-timeout.
GRACE_SECONDS = 10.0


@contextlib.contextmanager
def grace(kube, seconds: float = GRACE_SECONDS) -> Iterator[None]:
    """Give the requests inside at least `seconds`, whatever is left of the command's deadline."""
    saved = getattr(kube, "deadline", None)
    if saved is not None:
        kube.deadline = max(saved, time.monotonic() + seconds)
    try:
        yield
    finally:
        if saved is not None:
            kube.deadline = saved

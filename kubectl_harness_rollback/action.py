"""What a release needs from the on-call admin now: needs rollback, rolled back, deploying, investigate or ok. Pure.

`list`, `status` and `status -A` show the same decision, made here from what the cluster says of
the release: its latest record, which releases the workloads run, whether they are steady, whether
the controller gave up, and the last rollback still in effect. No I/O; the clock comes in as `now`.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from kubectl_harness_rollback.data_class import data_class

NEEDS_ROLLBACK = "needs rollback"  # the latest release failed and its change is still live, or not steady
ROLLED_BACK = "rolled back"  # a rollback took the failed release's change away (who and when: lastRollback)
DEPLOYING = "deploying"  # a deploy in flight: its workloads still progress
OK = "ok"  # nothing to do
# The latest release did not fail (or no record says so), yet its workloads are stuck: Harness
# would find nothing to roll back to, so the admin looks at the pods (`status RELEASE`) first.
INVESTIGATE = "investigate"
ACTIONS = (NEEDS_ROLLBACK, ROLLED_BACK, DEPLOYING, OK, INVESTIGATE)

# Workloads that have not moved for this long are not deploying any more: a Deployment's default
# progressDeadlineSeconds. A Deployment says so itself (ProgressDeadlineExceeded); a StatefulSet
# or DaemonSet has no deadline, and this bound stands in for it.
STALE_SECONDS = 600


@data_class(frozen=True)
class ReleaseState:
    """What the decision needs of one release, as read from the cluster."""

    latest: int | None  # the newest recorded release
    status: str | None  # its status: Succeeded, Failed, InProgress (None: no record says)
    live: tuple[int, ...] | None  # the releases the workloads run now; None: could not be read
    steady: bool | None  # are the workloads steady now; None: could not be read
    gave_up: bool = False  # a controller gave up on the rollout (progress deadline exceeded)
    last_rollback: dict | None = None  # the rollback still in effect ({by, at, fromRelease, toRelease})
    last_change: str | None = None  # when the workloads last moved (RFC 3339)


def decide(state: ReleaseState, now: datetime) -> str | None:
    """The ACTION of one release (one of ACTIONS), or None when the cluster could not tell."""
    if state.steady is None or state.live is None:
        return None
    if state.status == "Failed":
        if state.latest in state.live:
            return NEEDS_ROLLBACK
        if state.last_rollback is not None and state.last_rollback.get("fromRelease") == state.latest:
            return ROLLED_BACK
        # Not live, yet not steady: the failed change may still be on its way (a revision no
        # release records). Steady without a record of ours: undone by other means.
        return OK if state.steady else NEEDS_ROLLBACK
    if state.steady:
        return OK  # an InProgress record whose workloads are done is not a deploy in flight
    moving = not state.gave_up and not _stale(state.last_change, now)
    if state.status == "InProgress":
        return DEPLOYING if moving else NEEDS_ROLLBACK  # a dead deploy: its change is live, not steady
    return DEPLOYING if moving else INVESTIGATE


def _stale(timestamp: str | None, now: datetime) -> bool:
    """True when `timestamp` is older than STALE_SECONDS (unknown: not stale, nothing says so)."""
    then = parse_time(timestamp)
    return then is not None and (now - then).total_seconds() > STALE_SECONDS


# The API server's form of a time, read without strptime: importing _strptime, and its first
# call, take about a millisecond of a read's start-up.
_API_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")


def parse_time(timestamp: str | None) -> datetime | None:
    """An RFC 3339 time in UTC as the API server writes it, or None."""
    try:
        match = _API_TIME.fullmatch(timestamp) if isinstance(timestamp, str) else None
        if match:  # the same datetime strptime makes of it, or the same ValueError
            return datetime(*(int(part) for part in match.groups()), tzinfo=timezone.utc)
        # Any other form (one-digit fields, other digits) is strptime's to accept or refuse.
        return datetime.strptime(timestamp or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def not_steady_only(rows: list[dict]) -> list[dict]:
    """--not-steady: the rows (list's, or status views) whose workloads are not steady, or unknown."""
    return [row for row in rows if row.get("steady") is not True]

"""Rolling forward: returning to the newest release after a rollback, recorded as a new release. Pure.

After a rollback from release 2 to 1, `rollback --to-release 2` goes back to what the newest
release deployed. That is not a rollback *from* release 2: nothing failed, so nothing is marked
Failed, and "2 → 2" would say nothing. It is recorded as `helm rollback REL 2` records it: a new
release (number 3, Harness's next number: ReleaseHistory.getAndIncrementLatestReleaseNumber) that
holds release 2's workloads at the revisions the controller gives them, recorded Succeeded
("Rollback to 2"); for a declarative release, release 2's manifests are re-applied and a new release
Secret 3 holds them, labelled Succeeded. Release 1, live until then, is superseded by being older: Harness has no
Superseded status, and its rollback reads the newest Succeeded release below the failed one
(ReleaseHistory.getPreviousRollbackEligibleRelease), which is now release 3. So a plain `rollback`
afterwards finds the latest release Succeeded and does nothing, and a second roll forward finds
release 3 already running release 2's revisions.
"""

from __future__ import annotations

from kubectl_harness_rollback import live_release
from kubectl_harness_rollback.model import Release, ReleaseModel, Status
from kubectl_harness_rollback.outcome import roll_forward_description


def _same_revisions(model: ReleaseModel, one: Release, other: Release) -> bool:
    """Whether two legacy releases record the same revision of the same workloads (a renumbered
    revision answers to its numbers before): the later one is a roll forward to the earlier one."""
    if not (one.is_legacy and other.is_legacy) or len(one.workloads) != len(other.workloads):
        return False
    theirs = {w.ref: w.revision for w in other.workloads}
    for item in one.workloads:
        state = model.workloads.get(item.ref)
        if state is None or item.ref not in theirs or item.revision is None or theirs[item.ref] is None:
            return False
        mine, other_revision = state.revision(item.revision), state.revision(theirs[item.ref])
        if mine is None or mine is not other_revision:
            return False
    return True


def returns_to_latest(model: ReleaseModel, target: Release) -> bool:
    """Whether going to `target` returns to what the newest release deployed: `target` is the
    newest release, or the newest release is an earlier roll forward to it."""
    latest = model.current
    if latest is None:
        return False
    return target is latest or _same_revisions(model, latest, target) or _same_manifests(latest, target)


def _same_manifests(one: Release, other: Release) -> bool:
    """Whether two declarative releases hold the same manifests: the later one is a roll forward to
    the earlier one (its Secret is a copy of the earlier one's)."""
    return one.is_declarative and other.is_declarative and bool(one.manifests) and one.manifests == other.manifests


def live(model: ReleaseModel) -> Release | None:
    """The release live now (the newest one that any workload runs), superseded by the roll forward."""
    numbers = live_release.live_numbers(live_release.live_workloads(model))
    return next((r for r in model.releases if numbers and r.number == numbers[0]), None)


def needs_record(model: ReleaseModel, changes: bool) -> bool:
    """Whether a roll forward has something to do: a workload to restore, or (every workload runs
    it already) a newest release still recorded Failed — left by a rollback, or by a roll forward
    cut short between its workload writes and its record — which the new release supersedes."""
    latest = model.current
    return changes or (latest is not None and latest.status == Status.FAILED and _keeps_releases(model, latest))


def _keeps_releases(model: ReleaseModel, latest: Release) -> bool:
    """Whether the newest release is kept where a new release can be recorded: a legacy history, or
    a declarative release Secret (the next one is a Secret of its own)."""
    return latest.is_declarative or (latest.is_legacy and model.history_store is not None)


def new_release_number(model: ReleaseModel) -> int | None:
    """The number the roll forward is recorded under: the newest + 1, as Harness numbers a deploy
    (ReleaseHistory.getAndIncrementLatestReleaseNumber, K8sReleaseHistory.getAndIncrementLastReleaseNumber).
    None where no history or release Secret keeps releases (revisions alone: the restored revision is the record)."""
    latest = model.current
    if latest is None or not _keeps_releases(model, latest):
        return None
    return latest.number + 1  # the newest first: the highest number


def reason(target: Release, superseded: Release | None, new_number: int | None) -> str:
    """Why: a roll forward, what is recorded and what is not."""
    runs = f"release {superseded.number} runs now" if superseded is not None else "another release runs now"
    described = roll_forward_description(target.number)
    recorded = (f"recorded as release {new_number}, Succeeded, \"{described}\" (as helm rollback records it); "
                f"release {target.number} keeps its status and nothing is marked Failed"
                if new_number is not None else "nothing is marked Failed")
    return f"release {target.number}, as asked: rolling forward to the newest release ({runs}); {recorded}"


def already_there(model: ReleaseModel, target: Release) -> str:
    """Why a roll forward has nothing to do."""
    latest = model.current
    what = (f"release {target.number}" if latest is target
            else f"release {latest.number}, a roll forward to release {target.number},")
    return (f"{what} already runs and is recorded {latest.status.value if latest.status else 'without a status'}; "
            "nothing to do")

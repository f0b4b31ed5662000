"""The selection options of plan and rollback (PlanOptions), with their Match and Mode.

Match: how a rollback chooses its rollback-to release; Mode: how it rolls back. A module of its
own, apart from the planner, because the command line builds its choices from them and
validates the options at start-up, before the release is read: the planner loads while the API
server answers (reader.read_ahead).
"""

from __future__ import annotations

from enum import Enum

from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.errors import UsageError


class Match(str, Enum):
    """How the rollback-to release is matched to the failed one."""

    WORKFLOW = "workflow"  # same Workflow Id and Infrastructure Mapping
    INFRA = "infra"  # the Infrastructure Mapping alone (INFRA_MAPPING_BASED_ROLLBACK_ARTIFACT)


class Mode(str, Enum):
    """The deployment strategy of the release, which decides how it is rolled back."""

    AUTO = "auto"  # detect it from the cluster and the history
    ROLLING = "rolling"
    BLUE_GREEN = "blue-green"
    CANARY = "canary"


@data_class(frozen=True)
class PlanOptions:
    """The selection options of `plan` and `rollback`, validated once, here (no I/O)."""

    match: Match = Match.WORKFLOW
    workflow_id: str | None = None  # overrides the current release's workflow for matching
    to_release: int | None = None
    to_revision: int | None = None
    mode: Mode = Mode.AUTO
    # The release the failed pipeline deployed (Harness's release number handed over by the
    # forward step): rolled back whatever its status, since a step after its deploy failed.
    from_release: int | None = None
    # Delete what the failed (declarative) release applied and the rollback-to release does not hold.
    prune: bool = False

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "match", Match(self.match))
            object.__setattr__(self, "mode", Mode(self.mode))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if self.to_release is not None and self.to_revision is not None:
            raise UsageError("--to-release and --to-revision cannot be used together")

"""How a rollback chooses its rollback-to release (Match) and how it rolls back (Mode).

A module of its own, with nothing but the two enums, because the command line builds its choices
from them at start-up, where every import costs time.
"""

from enum import Enum


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

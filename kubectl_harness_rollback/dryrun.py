"""--dry-run, parsed once: client never writes, server sends the writes as dry runs.

--dry-run, parsed once: `client` never calls a write API; `server` sends the very same
requests with dryRun=All, so admission and validation run but nothing is stored."""

from __future__ import annotations

from enum import Enum

from kubectl_harness_rollback.errors import UsageError


class DryRun(Enum):
    NONE = "none"
    CLIENT = "client"
    SERVER = "server"

    @classmethod
    def parse(cls, text: str) -> "DryRun":
        for mode in cls:
            if text == mode.value:
                return mode
        raise UsageError(f"--dry-run must be none, client or server, not '{text}'")

    def api_kwargs(self) -> dict[str, str]:
        """Extra keyword arguments for a write of a workload adapter (workloads/calls.py)."""
        return {"dry_run": "All"} if self is DryRun.SERVER else {}

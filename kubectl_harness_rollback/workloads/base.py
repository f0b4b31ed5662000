"""The interface every workload adapter implements: one module per kind, found by `adapter_for`.

Callers (reader, executor, planner, recorder, canary, traffic, completion) use these members and
nothing else, so they never branch on a kind's name: what differs between kinds lives in the
adapter. tests/unit/test_workloads_base.py checks that every adapter has every member.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Union

if TYPE_CHECKING:
    from kubectl_harness_rollback.model import WorkloadState
    from kubectl_harness_rollback.planner import WorkloadChange

# A strategic merge patch (dict) or a JSON patch (list): a list body is sent as a JSON patch, a dict
# as a strategic merge patch (workloads/calls.py).
PatchBody = Union[dict, list]


class WorkloadAdapter(Protocol):
    """What an adapter module offers. The reads and writes go through workloads.common.NamespacedCalls."""

    kind: str  # the API kind it handles: "Deployment"
    # False: the kind keeps no revisions of its own (a bare ReplicaSet), so a rollback restores it
    # by scaling it, not from a revision; `kubectl rollout status` does not know it either.
    has_revisions: bool

    # -- reading (each one request) --
    def list_workloads(self, kube, namespace: str) -> list[dict]:
        """Every object of the kind in the namespace that is a workload of its own."""

    def list_children(self, kube, namespace: str, workload: dict) -> list[dict]:
        """The objects that hold the workload's revisions (ReplicaSets, ControllerRevisions)."""

    def read(self, kube, namespace: str, name: str) -> dict:
        """The object as it is now."""

    # -- the model (pure) --
    def state(self, workload: dict, children: list[dict]) -> WorkloadState:
        """The workload and its revisions."""

    # -- writing --
    def restore(self, state: WorkloadState, change: WorkloadChange, audit: dict[str, str]) -> PatchBody | None:
        """The patch that carries out `change` (pure), guarded by the resourceVersion in `state`;
        None when the workload already is as the change wants it."""

    def patch(self, kube, namespace: str, name: str, body: PatchBody, dry_run: dict) -> dict:
        """Send a patch (callers go through workloads.patch_guarded, which turns 409 into Conflict)."""

    def delete(self, kube, namespace: str, name: str, body: dict, dry_run: dict) -> dict:
        """Delete with the preconditions in `body`."""

    # -- waiting (pure, on an object read) --
    def observed(self, obj: dict) -> bool:
        """The controller has seen the latest spec."""

    def rollout_status(self, obj: dict, restored_from: str | None = None) -> tuple[bool, str]:
        """(done, message) in the words of `kubectl rollout status`; `restored_from` names the
        ReplicaSet or ControllerRevision a rollback just restored (None outside a restore)."""

    def current_revision(self, kube, namespace: str, obj: dict) -> int | None:
        """The revision number the controller gave the template it runs now (None: no revisions)."""


MEMBERS = ("kind", "has_revisions", "list_workloads", "list_children", "read", "state", "restore", "patch",
           "delete", "observed", "rollout_status", "current_revision")

"""Checks that stop a rollback before any write (README: "A night on call")."""

from __future__ import annotations

from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.model import ReleaseModel
from kubectl_harness_rollback.planner import Plan
from kubectl_harness_rollback.pod_template import referenced_config


class PausedWorkload(PluginError):
    """kubectl refuses to roll back a paused Deployment; so do we."""


class MissingReference(PluginError):
    """The restored template needs a ConfigMap or Secret that no longer exists."""


def check_not_paused(model: ReleaseModel, plan: Plan) -> None:
    for change in plan.workloads:
        state = model.workloads.get(change.ref)
        if state is not None and state.paused and not change.unchanged:
            raise PausedWorkload(
                f"you cannot rollback a paused deployment; resume it first with "
                f"'kubectl rollout resume deployment/{change.ref.name} -n {change.ref.namespace}' and try again")


def restored_templates(plan: Plan) -> list[tuple[str, dict]]:
    """(workload, pod template) the rollback will restore."""
    return [(str(c.ref), c.source.template) for c in plan.workloads
            if c.source is not None and not c.unchanged and c.source.template]


def check_references(kube, namespace: str, plan: Plan) -> None:
    """Every ConfigMap/Secret the restored templates need must exist. One GET per name; a
    Secret's content is never printed (only whether it exists matters)."""
    from kubectl_harness_rollback.rest import CONFIGMAPS, SECRETS

    readers = {"ConfigMap": CONFIGMAPS, "Secret": SECRETS}
    for workload, template in restored_templates(plan):
        for kind, name in referenced_config(template):
            if kube.get_or_none(readers[kind], name, namespace) is None:
                raise MissingReference(
                    f"{kind.lower()}/{name} needed by the template restored to {workload} no longer exists in "
                    f"namespace {namespace}; nothing was changed (recreate it, or choose another release with "
                    "--to-release)")

"""Before the first write, ask the API server whether every write the plan makes is allowed.

A right that is missing half-way (the workload may be patched, the history may not) leaves a
rollback done but unrecorded. A SelfSubjectAccessReview per write (allowed to every
authenticated user, and answered for the impersonated one under --as) finds that out first, so
a missing right stops the rollback before anything changed. Reads need no review: a denied read
stops the rollback by itself, and the wait's reads come after the writes only as `get`.
"""

from __future__ import annotations

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.apply.reapply_scope import REAPPLIED_KINDS
from kubectl_harness_rollback.cluster.apierrors import ApiError
from kubectl_harness_rollback.cluster.rest import SELF_SUBJECT_ACCESS_REVIEWS
from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.model import ReleaseModel
from kubectl_harness_rollback.planner import Plan
from kubectl_harness_rollback.records import registry


class MissingPermission(PluginError):
    """The plan needs a write (or the read of its wait) that the user may not make."""


def needed(model: ReleaseModel, plan: Plan) -> list[tuple[str, str, str, str]]:
    """(verb, group, resource, why) of every request the rollback would make after its first write,
    in the order it makes them. Pure."""
    rights: list[tuple[str, str, str, str]] = []

    def need(verb: str, kind: str, why: str) -> None:
        group, resource = kinds.BY_NAME[kind].group, kinds.BY_NAME[kind].plural
        if not any(r[:3] == (verb, group, resource) for r in rights):
            rights.append((verb, group, resource, why))

    for ref in plan.deletions:
        need("delete", ref.kind, f"to delete the failed canary's {ref}")
    for obj in plan.prune:  # any namespaced kind: its group and resource come from discovery
        if not any(r[:3] == ("delete", obj.group, obj.resource) for r in rights):
            rights.append(("delete", obj.group, obj.resource, f"to prune {obj} (--prune)"))
    live = model.live_objects or {}
    for item in plan.reapply:
        # A kind whose plural only discovery knows (a custom resource) is not reviewed here: the
        # apply sends every object with dryRun=All before its first write, which a 403 stops.
        known = REAPPLIED_KINDS.get((item.group, item.kind))
        if known is None:
            continue
        gone = live.get((item.group, item.kind, item.name), False) is None  # read, and not there
        wanted = [("patch", "to re-apply the release's stored manifest")]
        wanted += [("create", f"to create {item} again from the release's stored manifest")] if gone else []
        for verb, why in wanted:
            if not any(r[:3] == (verb, item.group, known) for r in rights):
                rights.append((verb, item.group, known, why))
    for change in plan.workloads:
        if not change.unchanged:
            need("patch", change.ref.kind, f"to restore {change.ref}")
            need("get", change.ref.kind, f"to wait for {change.ref}")
    if plan.traffic is not None and plan.traffic.swaps:
        need("patch", kinds.SERVICE.name, "to swap the Services' selectors back")
        if plan.traffic.scale_up_to:
            need("patch", plan.traffic.back_workload.kind, f"to scale {plan.traffic.back_workload} up")
            need("get", plan.traffic.back_workload.kind, f"to wait for {plan.traffic.back_workload}")
    for right in registry.rights(model, plan):  # each record format's edits
        need(right.verb, right.kind, right.why)
    rights.append(("create", kinds.EVENT.group, kinds.EVENT.plural, "to leave the RolledBack Event"))
    return rights


def needed_to_record(model: ReleaseModel) -> list[tuple[str, str, str, str]]:
    """(verb, group, resource, why) of every request `record` makes after its reads: the wait for
    the controller (get), the history (create or patch), the identity annotations (patch). Pure."""
    rights: list[tuple[str, str, str, str]] = []

    def need(verb: str, kind: str, why: str) -> None:
        group, resource = kinds.BY_NAME[kind].group, kinds.BY_NAME[kind].plural
        if not any(r[:3] == (verb, group, resource) for r in rights):
            rights.append((verb, group, resource, why))

    for ref, state in sorted(model.workloads.items()):
        need("get", ref.kind, f"to wait until the controller observed {ref}")
    store = model.history_store
    if store is None:
        need("create", kinds.CONFIG_MAP.name, f"to create the release history configmap/{model.release_name}")
    else:
        need("patch", store.kind, f"to record the release in {store.kind.lower()}/{store.name}")
    for ref, state in sorted(model.workloads.items()):
        need("patch", ref.kind, f"to set the identity annotations on {ref}")
        current = state.revision(state.current_revision) if state.current_revision is not None else None
        if current is not None:
            need("patch", current.object_kind, f"to set the identity annotations on {current.object_kind.lower()}/"
                                               f"{current.object_name}")
    return rights


def check(kube, model: ReleaseModel, plan: Plan) -> None:
    """Raise MissingPermission, before any write, for the first right the plan needs and lacks."""
    check_rights(kube, model.namespace, needed(model, plan), "a rollback")


def check_rights(kube, namespace: str, rights: list[tuple[str, str, str, str]], command: str) -> None:
    """Raise MissingPermission, before any write, for the first of `rights` the user lacks.
    Where the reviews themselves cannot be asked, say nothing: the writes will tell. The reviews
    are asked a few at a time (each is a round trip), or one after another of an API server
    that answers fast (Rest.together), and answered in the order of `rights`.
    `command` names who needs them in the message ("a rollback")."""
    def review(right: tuple[str, str, str, str]) -> dict | None:
        verb, group, resource, _ = right
        body = {"apiVersion": kinds.SELF_SUBJECT_ACCESS_REVIEW.api_version, "kind": kinds.SELF_SUBJECT_ACCESS_REVIEW.name,
                "spec": {"resourceAttributes": {"namespace": namespace, "verb": verb, "group": group,
                                                "resource": resource}}}
        try:
            return kube.create(SELF_SUBJECT_ACCESS_REVIEWS, None, body)
        except ApiError:
            return None

    answers = kube.together([lambda right=right: review(right) for right in rights], at_most=4)
    for (verb, group, resource, why), answer in zip(rights, answers):
        if answer is None:
            return
        if not (answer.get("status") or {}).get("allowed"):
            what = f"{resource}.{group}" if group else resource
            raise MissingPermission(
                f"forbidden: cannot {verb} {what} in namespace {namespace} (needed {why}); nothing was changed: "
                f"ask for it ('kubectl harness-rollback rbac -n {namespace}' prints every right {command} "
                "needs)")

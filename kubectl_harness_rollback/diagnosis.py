"""Why a release is not steady, and what to run next: pod reasons read only for workloads that are not steady.

The reads are bounded: for each workload that is not steady, one list of the pods of the revision
it rolls out (its selector plus the revision's hash label) and one list of the Warning Events of
the object that creates those pods (a Deployment's ReplicaSet, else the workload itself). A steady
release costs no request here. Reading is best effort: without the right to list pods or events,
the reasons are left out, never the command's answer.
"""

from __future__ import annotations

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.cluster.rest import EVENTS, PODS
from kubectl_harness_rollback.errors import NoEligibleRelease, NotSteady, PluginError, RolloutFailed, reworded
from kubectl_harness_rollback.model import Revision, WorkloadRef, WorkloadState
from kubectl_harness_rollback.workloads import pod_reasons

HASH_LABELS = {kinds.DEPLOYMENT.name: "pod-template-hash", kinds.STATEFUL_SET.name: "controller-revision-hash",
               kinds.DAEMON_SET.name: "controller-revision-hash"}


def _selector(workload: dict, ref: WorkloadRef, revision: Revision | None) -> str | None:
    labels = dict(((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
    if not labels:
        return None  # matchExpressions alone: not worth a guess that lists the wrong pods
    hash_label = HASH_LABELS.get(ref.kind)
    if hash_label and revision is not None:
        revision_labels = ((revision.raw.get("metadata") or {}).get("labels") or {})
        # A StatefulSet's pods name their ControllerRevision; a DaemonSet's carry its hash label.
        value = revision_labels.get(hash_label) or (revision.object_name if ref.kind == kinds.STATEFUL_SET.name else None)
        if value:
            labels[hash_label] = value
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def read_reasons(kube, ref: WorkloadRef, workload: dict, revision: Revision | None) -> dict | None:
    """pod_reasons.reasons() for the pods of `revision` of the workload (its current one), or None
    when they cannot be read."""
    selector = _selector(workload, ref, revision)
    creator = ((kinds.REPLICA_SET.name, revision.object_name) if ref.kind == kinds.DEPLOYMENT.name and revision is not None
               else (ref.kind, ref.name))
    try:
        pods = kube.list(PODS, ref.namespace, label_selector=selector) if selector else []
        events = kube.list(EVENTS, ref.namespace, field_selector=(
            f"involvedObject.kind={creator[0]},involvedObject.name={creator[1]},type=Warning"))
    except PluginError:
        return None
    return pod_reasons.reasons(pods, events)


def state_reasons(kube, state: WorkloadState) -> dict | None:
    """The reasons of the revision a workload runs now."""
    current = state.revision(state.current_revision) if state.current_revision is not None else None
    return read_reasons(kube, state.ref, state.raw, current)


def logs_command(ref: WorkloadRef, view: dict | None) -> str:
    """`kubectl logs` for the pod worth reading (the previous container of one that restarted)."""
    target = f"{ref.kind.lower()}/{ref.name}"
    if view and view.get("logsPod"):
        target = view["logsPod"]
    previous = " --previous" if view and view.get("restarts") else ""
    return f"kubectl logs -n {ref.namespace} {target}{previous}"


def next_commands(release: str, namespace: str, gave_up: bool) -> list[str]:
    """What to run after exit 4: a release the controller gave up on needs another rollback (or a
    fix), not more time; a rollout still going on needs watching."""
    if gave_up:
        return [f"kubectl harness-rollback plan {release} -n {namespace}"]
    return [f"kubectl harness-rollback status {release} -n {namespace} --watch"]


def explain_exit_4(kube, error: PluginError, release: str, namespace: str,
                   restored: dict[WorkloadRef, tuple[dict | None, Revision | None]]) -> PluginError:
    """The exit-4 error of a rollback, reworded with why and what next. `restored` maps each
    restored workload to (its last version seen, the revision restored). A timeout while a
    Deployment says Progressing=False (ProgressDeadlineExceeded) is the controller giving up, not
    a --timeout too short."""
    gave_up = isinstance(error, RolloutFailed)
    why = []
    for ref, (obj, revision) in restored.items():
        obj = obj or _read(kube, ref)
        if obj is None:
            continue
        if ref.kind == kinds.DEPLOYMENT.name and _deadline_exceeded(obj, revision):
            gave_up = True
        view = read_reasons(kube, ref, obj, revision)
        if view is not None and (view["pods"] - view["ready"] or view["events"]):
            why.append(f"{ref}: {pod_reasons.summary(view)}; logs: {logs_command(ref, view)}")
    message = str(error)
    if gave_up and isinstance(error, NotSteady):
        # The advice "a longer --timeout" would only wait for what the controller already gave up on.
        message = message.split("; ", 1)[0] + "; the controller gave up on the rollout (progress deadline exceeded)"
    elif not gave_up:
        message += "; the controller is still rolling out"
    advice = ["more time will not help: roll back further or fix the release"] if gave_up else []
    next_step = next_commands(release, namespace, gave_up)
    return reworded(error, "; ".join([message] + why + advice) + "; next: " + " or ".join(next_step))


def _read(kube, ref: WorkloadRef) -> dict | None:
    from kubectl_harness_rollback import workloads as adapters

    try:
        return adapters.adapter_for(ref.kind).read(kube, ref.namespace, ref.name)
    except PluginError:
        return None


def _deadline_exceeded(obj: dict, revision: Revision | None) -> bool:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("status") == "False" \
                and condition.get("reason") == "ProgressDeadlineExceeded":
            named = (condition.get("message") or "")
            # A condition left over from the rollout rolled back from names the other ReplicaSet.
            return revision is None or '"' not in named or f'"{revision.object_name}"' in named
    return False


def explain_status(kube, model, view: dict) -> None:
    """Adds to a `status` view that is not steady: `pods` (pod_reasons.reasons), `logs` and `gaveUp`
    (the controller's progress deadline passed) on each workload that is not steady, and `next`,
    the command to run next."""
    gave_up = False
    for row in view["workloads"]:
        if row["steady"]:
            continue
        ref = WorkloadRef(row["kind"], row["name"], view["namespace"])
        state = (getattr(model, "workloads", None) or {}).get(ref)
        if state is None:  # not read (a view built elsewhere): the next command all the same
            continue
        current = state.revision(state.current_revision) if state.current_revision is not None else None
        row["gaveUp"] = ref.kind == kinds.DEPLOYMENT.name and _deadline_exceeded(state.raw, current)
        gave_up = gave_up or row["gaveUp"]
        row["pods"] = state_reasons(kube, state)
        row["logs"] = logs_command(ref, row["pods"])
    view["next"] = next_commands(view["release"], view["namespace"], gave_up)


def no_eligible(reason: str, release: str, namespace: str, way_back: str = "") -> NoEligibleRelease:
    """Exit 3, naming where to look next: the plan with `way_back` (planner.way_back: the options
    that reach a succeeded release the identity rule passed over), else the releases there are,
    and how to choose one."""
    where = f"{release} -n {namespace}"
    if way_back:
        return NoEligibleRelease(f"{reason}; next: kubectl harness-rollback plan {where} {way_back}")
    return NoEligibleRelease(f"{reason}; next: kubectl harness-rollback history {where} (then: "
                             f"kubectl harness-rollback plan {where} --to-release N)")

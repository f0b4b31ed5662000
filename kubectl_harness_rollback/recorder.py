"""`record`: leave Harness's records behind for pipelines that are not Harness.

After a deploy step, the release (number, status, workloads and their current revisions) goes
into the legacy release history, created if there is none, and the identity annotations go on
the workload — where the Deployment controller copies them onto the ReplicaSet of that
revision, so each ReplicaSet remembers who deployed it. Writing them on the ReplicaSet alone
would not last: the controller re-copies the Deployment's annotations onto the current one.
StatefulSet and DaemonSet revisions (ControllerRevisions) get no such copy, so they are
annotated directly.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

from kubectl_harness_rollback import kinds, permissions
from kubectl_harness_rollback import workloads as adapters
from kubectl_harness_rollback.cluster.rest import CONFIGMAPS, Resource
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.errors import NotSteady, PluginError, UsageError, reworded
from kubectl_harness_rollback.execution import GRACE_SECONDS
from kubectl_harness_rollback.harness_names import (
    CLUSTER_NAME,
    INFRA_ID,
    RELEASE_NAME_LABEL,
    RELEASE_NUMBER,
    RELEASE_STATUS,
    SERVICE_ID,
    WORKFLOW_ID,
)
from kubectl_harness_rollback.model import ReleaseModel, Status, WorkloadRef
from kubectl_harness_rollback.records import bookkeeping, history_codec
from kubectl_harness_rollback.workloads import waiting


@dataclass(frozen=True)
class RecordRequest:
    status: Status
    workflow_id: str | None = None
    service_id: str | None = None
    infra_id: str | None = None
    cluster_name: str | None = None


def identity_annotations(request: RecordRequest, number: int) -> dict[str, str]:
    values = {WORKFLOW_ID: request.workflow_id, SERVICE_ID: request.service_id, INFRA_ID: request.infra_id,
              CLUSTER_NAME: request.cluster_name, RELEASE_NUMBER: str(number), RELEASE_STATUS: request.status.value}
    return {key: value for key, value in values.items() if value}


def _entry(number: int, status: Status, revisions: dict[WorkloadRef, int]) -> dict:
    """A release in Harness's legacy YAML shape."""
    refs = sorted(revisions)
    resources = [{"kind": r.kind, "name": r.name, "namespace": r.namespace, "versioned": False} for r in refs]
    return {"number": number, "status": status.value, "resources": resources,
            "managedWorkloads": [{"workload": dict(resource), "revision": str(revisions[ref])}
                                 for resource, ref in zip(resources, refs)]}


def recorded_history(doc: dict | None, model: ReleaseModel, revisions: dict[WorkloadRef, int],
                     status: Status) -> tuple[dict, int, bool]:
    """(history, release number, created) after recording. Pure.

    The newest release is updated in place when it already records exactly these revisions
    (a pipeline recording InProgress, then Succeeded); otherwise a new release is added on top.
    """
    doc = copy.deepcopy(doc) if doc else history_codec.empty_history()  # the model's copy stays as read
    # Without a history, the model's releases are derived from revisions: not records to number after.
    recorded = model.releases if model.history_store is not None else []
    newest = recorded[0] if recorded else None
    if newest is not None and {w.ref: w.revision for w in newest.workloads} == revisions:
        history_codec.set_release_status(doc, newest.number, status)
        return doc, newest.number, False
    number = max((r.number for r in recorded), default=0) + 1
    doc.setdefault("version", "v1")
    doc["releases"] = [_entry(number, status, revisions)] + list(doc.get("releases") or [])
    return doc, number, True


def wait_observed(kube, refs: list[WorkloadRef], timeout: float, clock=time.monotonic) -> None:
    """The revision annotation is right only once the controller has observed the latest spec."""
    try:
        waiting.wait_for(kube, refs, lambda adapter, obj: (adapter.observed(obj), ""), clock() + timeout,
                         lambda line: None, clock)
    except NotSteady:
        raise NotSteady(f"{', '.join(map(str, refs))}: the controller has not observed its latest spec; nothing "
                        "was recorded") from None


def write(kube, model: ReleaseModel, doc: dict, created: bool, dry_run: DryRun) -> str:
    """Create the history ConfigMap, or write it back where and how it was read."""
    store = model.history_store
    if store is None:
        data = history_codec.encode_history(doc, kinds.CONFIG_MAP.name, True)
        body = {"apiVersion": kinds.CONFIG_MAP.api_version, "kind": kinds.CONFIG_MAP.name, "data": data,
                "metadata": {"name": model.release_name, "namespace": model.namespace,
                             "labels": {"app.kubernetes.io/managed-by": "kubectl-harness_rollback"}}}
        kube.create(CONFIGMAPS, model.namespace, body, dry_run=dry_run is DryRun.SERVER)
        return f"configmap/{model.release_name}"
    bookkeeping.write_history(kube, store, doc, dry_run, "the deploy step ran")
    return f"{store.kind.lower()}/{store.name}"


def annotate(kube, model: ReleaseModel, annotations: dict[str, str], dry_run: DryRun) -> list[str]:
    """Identity on each workload (and its current ControllerRevision, which nothing copies to)."""
    done = []
    for ref, state in sorted(model.workloads.items()):
        adapter = adapters.adapter_for(ref.kind)
        labels = {} if state.labels.get(RELEASE_NAME_LABEL) else {RELEASE_NAME_LABEL: model.release_name}
        adapter.patch(kube, ref.namespace, ref.name, {"metadata": {"annotations": annotations, "labels": labels}},
                      dry_run.api_kwargs())
        done.append(str(ref))
        current = state.revision(state.current_revision) if state.current_revision is not None else None
        if current is not None:
            resource = Resource.of(kinds.BY_NAME[current.object_kind])
            kube.patch(resource, current.object_name, ref.namespace, {"metadata": {"annotations": annotations}},
                       "strategic", dry_run=dry_run is DryRun.SERVER)
    return done


def current_revisions(model: ReleaseModel) -> dict[WorkloadRef, int]:
    revisions = {ref: state.current_revision for ref, state in model.workloads.items()
                 if state.current_revision is not None and state.has_revisions}
    if not revisions:
        raise PluginError(f"release {model.release_name} has no workload with a revision to record "
                          "(Deployments, StatefulSets and DaemonSets are recorded)")
    return revisions


@dataclass
class Recorded:
    release_name: str
    number: int
    created: bool
    revisions: dict[WorkloadRef, int]
    where: str = ""
    annotated: list[str] = field(default_factory=list)
    labelled: bool = False  # the workloads named their release (harness.io/release-name): no name was derived


def check_release_name(name: str, given_by: str) -> None:
    """A release name names the history ConfigMap and is the value of the harness.io/release-name
    label: refused here (UsageError, exit 2) rather than by the API server after the history is
    written. `given_by` says where it came from ("--release-name", "--infra-id x", ...). Pure."""
    from kubectl_harness_rollback.reader import valid_release_name

    if not valid_release_name(name):
        shown = repr(name) if len(name) <= 80 else repr(name[:77] + "...")
        raise UsageError(f"release name {shown} ({given_by}) is not valid: it names the history ConfigMap and is the "
                         f"value of the {RELEASE_NAME_LABEL} label, so it must be lowercase letters, digits, '-' and "
                         f"'.', starting and ending with a letter or digit, at most 63 characters; pass --release-name "
                         "to choose one")


def record(kube, target, request: RecordRequest, default_name: str, timeout: float, dry_run: DryRun,
           clock=time.monotonic) -> Recorded:
    """Record the deploy step that just ran against TARGET, within `timeout` seconds (reads and the
    wait; what follows the wait gets GRACE_SECONDS more). Every right it needs is asked for before
    its first write; a write that fails after the first says what was written."""
    from kubectl_harness_rollback.reader import read_release

    deadline = clock() + timeout
    kube.deadline = deadline
    model = read_release(kube, kube.namespace, target, name_unlabelled=default_name)
    labelled = any(state.labels.get(RELEASE_NAME_LABEL) for state in model.workloads.values())
    if not labelled and target.release_name is None:
        check_release_name(model.release_name, "derived from the workload's name")
    if dry_run is not DryRun.CLIENT:
        permissions.check_rights(kube, model.namespace, permissions.needed_to_record(model), "record")
    wait_observed(kube, sorted(model.workloads), max(deadline - clock(), 0), clock)
    # Observed: reading the revisions and writing the record are not cut short by a --timeout the
    # wait used up (each request is still bounded by --request-timeout).
    kube.deadline = max(deadline, clock() + GRACE_SECONDS)
    model = read_release(kube, kube.namespace, target, name_unlabelled=default_name)
    revisions = current_revisions(model)
    stored = model.history_store.document if model.history_store is not None else None
    doc, number, created = recorded_history(stored, model, revisions, request.status)
    result = Recorded(model.release_name, number, created, revisions, labelled=labelled)
    if dry_run is DryRun.CLIENT:
        return result
    result.where = write(kube, model, doc, created, dry_run)
    try:
        result.annotated = annotate(kube, model, identity_annotations(request, number), dry_run)
    except PluginError as error:
        raise _after_history(error, result) from None
    return result


def _after_history(error: PluginError, result: Recorded) -> PluginError:
    """`error`, saying that the history was written already and how to finish (recording the same
    revisions again updates that release in place)."""
    return reworded(error, f"{error}; already written before it failed: release {result.number} in {result.where}; "
                            "the identity annotations are not all set: run the same command again to finish")

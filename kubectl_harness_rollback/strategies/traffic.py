"""Carry out a blue/green TrafficPlan: ready the color going back, then swap the Services.

Carry out a blue/green TrafficPlan: make the color going back ready, then swap the Service
selectors back as one unit — if the second write fails, the first is undone."""

from __future__ import annotations

import json
from typing import Callable

from kubectl_harness_rollback import kinds, outcome
from kubectl_harness_rollback import workloads as adapters
from kubectl_harness_rollback.cluster.apierrors import ApiError, NotFound
from kubectl_harness_rollback.cluster.apierrors import Conflict as ApiConflict
from kubectl_harness_rollback.cluster.rest import SERVICES, Resource
from kubectl_harness_rollback.dryrun import DryRun
from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.model import ReleaseModel, WorkloadRef
from kubectl_harness_rollback.strategies.bluegreen import ServiceSwap, TrafficPlan


class SwapFailed(PluginError):
    """The Services could not be swapped; they were left (or put back) as they were."""


def _selector_patch(swap: ServiceSwap, resource_version: str, audit: dict[str, str], annotations: dict) -> list:
    return [
        {"op": "replace", "path": "/metadata/resourceVersion", "value": resource_version},
        {"op": "replace", "path": "/spec/selector", "value": swap.to_selector},
        {"op": "replace", "path": "/metadata/annotations", "value": {**annotations, **audit}},
    ]


def _patch_service(kube, namespace: str, name: str, body: list, dry_run: DryRun) -> dict:
    return kube.patch(SERVICES, name, namespace, body, "json", dry_run=dry_run is DryRun.SERVER)


def swap_services(kube, model: ReleaseModel, traffic: TrafficPlan, audit: dict[str, str], dry_run: DryRun,
                  progress: Callable[[str], None]) -> list[dict]:
    """Both Service writes succeed, or the first is undone. Each is guarded by resourceVersion.
    If even the undo fails, the error says plainly which Service routes which color and how to fix it."""
    first, second = traffic.swaps
    services = {traffic.primary.name: traffic.primary, traffic.stage.name: traffic.stage}
    rehearsal = dry_run is DryRun.SERVER
    try:
        written = _patch_service(kube, model.namespace, first.name,
                                 _selector_patch(first, first.resource_version, audit,
                                                 services[first.name].annotations), dry_run)
    except ApiError as exc:
        raise SwapFailed(f"service/{first.name} could not be switched to {first.to_color} "
                         f"({exc.server}); nothing was changed") from None
    progress(f"service/{first.name}: {'would switch' if rehearsal else 'switched'} from {first.from_color} to "
             f"{first.to_color}" + (" (server dry run)" if rehearsal else ""))
    try:
        _patch_service(kube, model.namespace, second.name,
                       _selector_patch(second, second.resource_version, {}, services[second.name].annotations),
                       dry_run)
    except ApiError as exc:
        reason = exc.server
        if rehearsal:
            raise SwapFailed(f"service/{second.name} could not be switched to {second.to_color} ({reason}); this was "
                             "a server dry run: nothing was changed") from None
        _undo_first(kube, model, first, written, services, second, reason, progress)
        raise SwapFailed(f"service/{second.name} could not be switched to {second.to_color} ({reason}); "
                         f"service/{first.name} was restored, so both Services route as before") from None
    progress(f"service/{second.name}: {'would switch' if rehearsal else 'switched'} from {second.from_color} to "
             f"{second.to_color}" + (" (server dry run)" if rehearsal else ""))
    return [outcome.routed(s.name, s.to_color, s.from_color) for s in traffic.swaps]


def _undo_first(kube, model: ReleaseModel, first: ServiceSwap, written: dict, services: dict, second: ServiceSwap,
                reason: str, progress: Callable[[str], None]) -> None:
    """Put the first Service back; if that fails too, say that traffic is half-swapped."""
    undo = ServiceSwap(first.name, first.to_color, first.from_color, first.to_selector, first.from_selector,
                       written["metadata"]["resourceVersion"])
    try:
        _patch_service(kube, model.namespace, first.name,
                       _selector_patch(undo, undo.resource_version, {}, services[first.name].annotations),
                       DryRun.NONE)
    except ApiError as exc:
        fix = json.dumps([{"op": "replace", "path": "/spec/selector", "value": second.to_selector}],
                         separators=(",", ":"))
        raise SwapFailed(
            f"traffic is half-swapped: service/{first.name} and service/{second.name} both route {first.to_color} "
            f"(service/{second.name} could not be switched to {second.to_color}: {reason}; putting "
            f"service/{first.name} back failed too: {exc.server}); finish the swap with: kubectl patch "
            f"service {second.name} -n {model.namespace} --type json -p '{fix}'") from None
    progress(f"service/{first.name}: switched back to {first.from_color}")


STAGE_RESOURCES = {kind.name: Resource.of(kind) for kind in (kinds.HORIZONTAL_POD_AUTOSCALER, kinds.POD_DISRUPTION_BUDGET)}
DIRECT_APPLY = "harness.io/direct-apply"  # HarnessAnnotations.directApply
STAGE_WHY = "the stage color's, --scale-down-stage"


def read_stage_objects(kube, model: ReleaseModel) -> dict[WorkloadRef, dict[str, str]]:
    """The delete precondition (UID) of each color-named HPA and PDB of the current release that
    exists and is not annotated harness.io/direct-apply=true: Harness's stage scale down leaves
    those out (K8sTaskHelperBase.checkIfResourceContainsHarnessDirectApplyAnnotation). One GET each."""
    from kubectl_harness_rollback.strategies import bluegreen

    found = {}
    for ref in bluegreen.stage_objects(model, model.current):
        try:
            obj = kube.get_or_none(STAGE_RESOURCES[ref.kind], ref.name, ref.namespace)
        except ApiError:
            model.notes.append(f"cannot read {ref}: --scale-down-stage leaves it")
            continue
        meta = (obj or {}).get("metadata") or {}
        if obj is not None and str((meta.get("annotations") or {}).get(DIRECT_APPLY, "")).lower() != "true":
            found[ref] = {"uid": meta.get("uid", "")}
    return found


def delete_stage_object(kube, model: ReleaseModel, ref: WorkloadRef, dry_run: DryRun) -> dict | None:
    """Delete one of the failed color's HPAs or PDBs, only if it is still the object that was read
    (UID: their status moves all the time). None when it is gone or was replaced."""
    body = {"preconditions": model.stage_objects[ref], "propagationPolicy": "Background"}
    try:
        kube.delete(STAGE_RESOURCES[ref.kind], ref.name, ref.namespace, body=body, dry_run=dry_run is DryRun.SERVER)
    except (NotFound, ApiConflict):
        return None
    return outcome.deleted(ref, STAGE_WHY)


def scale(kube, model: ReleaseModel, ref: WorkloadRef, replicas: int, dry_run: DryRun) -> dict:
    """Scale a color's workload, guarded by the resourceVersion read when planning."""
    body = {"metadata": {"resourceVersion": model.workloads[ref].resource_version}, "spec": {"replicas": replicas}}
    adapters.patch_guarded(kube, ref, body, dry_run.api_kwargs())
    return outcome.scaled(ref, replicas)


def scale_back_to_zero(kube, ref: WorkloadRef) -> str:
    """Undo a scale-up from zero after the swap failed: read it again (the controller moved its
    resourceVersion) and scale it down, guarded by that version."""
    live = adapters.adapter_for(ref.kind).read(kube, ref.namespace, ref.name)
    body = {"metadata": {"resourceVersion": live["metadata"]["resourceVersion"]}, "spec": {"replicas": 0}}
    adapters.patch_guarded(kube, ref, body, {})
    return f"{ref}: scaled back to 0 (traffic never moved to it)"

"""Blue/green: which Services route which color, and how traffic goes back (pure).

Harness's swap exchanges the entire `spec.selector` maps of the primary and stage Services; a
rollback swaps them back — only if the failed release was actually swapped into primary.
"""

from __future__ import annotations

from dataclasses import field

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.harness_names import COLOR_LABEL, PRIMARY_SERVICE_ANNOTATION, STAGE_SERVICE_ANNOTATION
from kubectl_harness_rollback.model import Release, ReleaseModel, ServiceState, Status, WorkloadRef, WorkloadState
from kubectl_harness_rollback.strategies import swap_record
from kubectl_harness_rollback.workloads.common import labels

COLOR = COLOR_LABEL
PRIMARY_ANNOTATION = PRIMARY_SERVICE_ANNOTATION
STAGE_ANNOTATION = STAGE_SERVICE_ANNOTATION
COLORS = ("blue", "green")


class BlueGreenError(PluginError):
    """The Services or workloads of a blue/green release are missing or inconsistent."""


@data_class
class ServiceSwap:
    name: str
    from_color: str
    to_color: str
    from_selector: dict[str, str]
    to_selector: dict[str, str]
    resource_version: str


@data_class
class TrafficPlan:
    primary: ServiceState
    stage: ServiceState
    failed_color: str | None
    back_color: str  # the color primary routes to after the rollback
    swaps: list[ServiceSwap]  # empty: traffic never moved, nothing to swap
    back_workload: WorkloadRef | None = None
    scale_up_to: int | None = None  # the back color was scaled to zero: scale it up first
    failed_workload: WorkloadRef | None = None
    # Harness's swap bookkeeping: the bgEnvironment each release gets (no status changes).
    environments: list[tuple[Release, str]] = field(default_factory=list)
    # --scale-down-stage: the failed color's HPAs and PDBs, deleted before its workload goes to zero.
    stage_objects: list[WorkloadRef] = field(default_factory=list)
    # Traffic is back because a swap-back of this very release is still in effect: who and when.
    swapped_back: swap_record.SwapBack | None = None


# Harness's stage scale down (K8sBlueGreenStageScaleDownRequestHandler, Kind.BG_STAGE_DELETE_WORKLOAD_KINDS):
# what of the stage release it deletes rather than scales.
STAGE_DELETE_KINDS = (kinds.HORIZONTAL_POD_AUTOSCALER.name, kinds.POD_DISRUPTION_BUDGET.name)


def stage_objects(model: ReleaseModel, release: Release | None) -> list[WorkloadRef]:
    """The release's HPAs and PDBs whose name ends in its color, in the release's namespace, in the
    order Harness deletes them (the release's own)."""
    color = release_color(model, release) if release is not None else None
    if not color:
        return []
    return [ref for ref in release.resources if ref.kind in STAGE_DELETE_KINDS and ref.name.endswith(color)
            and ref.namespace == model.namespace]


def workload_color(state: WorkloadState) -> str | None:
    color = state.labels.get(COLOR)
    if color:
        return color
    suffix = state.ref.name.rsplit("-", 1)[-1]
    return suffix if suffix in COLORS else None


def release_color(model: ReleaseModel, release: Release) -> str | None:
    if release.color:
        return release.color
    for item in release.workloads:
        state = model.workloads.get(item.ref)
        color = workload_color(state) if state else None
        if color is None:
            suffix = item.ref.name.rsplit("-", 1)[-1]
            color = suffix if suffix in COLORS else None
        if color:
            return color
    return None


def carries_color(workload: dict) -> bool:
    """Whether a workload object's labels (its own or its pod template's) or its selector carry
    harness.io/color: a blue/green workload, whatever its history records."""
    selector = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return labels(workload).get(COLOR) in COLORS or selector.get(COLOR) in COLORS


def is_blue_green(model: ReleaseModel) -> bool:
    """Blue/green is told from the cluster as well as from `bgEnvironment`, which FirstGen
    histories (and NextGen ones before mid-2023) lack: a release recording a color or an
    environment, a workload whose pods or selector carry harness.io/color, or `<name>-blue` /
    `<name>-green` workloads behind Services that select a color."""
    if any(r.bg_environment or r.color for r in model.releases):
        return True
    if any(carries_color(state.raw) for state in model.workloads.values()):
        return True
    named = any(workload_color(state) for state in model.workloads.values())
    return named and any(COLOR in service.selector for service in model.services)


def _latest_succeeded(model: ReleaseModel, color: str) -> Release | None:
    return next((r for r in model.releases if r.status == Status.SUCCEEDED and release_color(model, r) == color),
                None)


def swap_environments(model: ReleaseModel, leaving: str, returning: str) -> list[tuple[Release, str]]:
    """Harness's swap bookkeeping (K8sSwapServiceSelectorsHandler): the latest succeeded release
    of the color leaving primary becomes `stage`, the latest succeeded release of the color
    coming back `primary`. Like Harness, a release that records no bgEnvironment (FirstGen) is
    left as it is; no status changes."""
    changes = []
    for color, environment in ((leaving, "stage"), (returning, "primary")):
        release = _latest_succeeded(model, color)
        if release is not None and release.bg_environment and release.bg_environment != environment:
            changes.append((release, environment))
    return changes


def belongs(service_selector: dict[str, str], workload_labels: list[dict[str, str]]) -> bool:
    """A Service routes a release's traffic if, color aside, its selector matches a workload's pods."""
    rest = {k: v for k, v in service_selector.items() if k != COLOR}
    return bool(rest) and any(all(labels.get(k) == v for k, v in rest.items()) for labels in workload_labels)


def release_services(listed: list[dict], namespace: str, states) -> list[ServiceState]:
    """The Services of `listed` (a namespace's, as the API returns them) that route the release
    whose workloads are `states`: their selector, color aside, matches the release's pods."""
    pod_labels = [((state.raw.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
                  for state in states]
    services = []
    for service in listed:
        selector = (service.get("spec") or {}).get("selector") or {}
        meta = service["metadata"]
        if belongs(selector, pod_labels):
            services.append(ServiceState(meta["name"], namespace, dict(selector), dict(meta.get("annotations") or {}),
                                         meta.get("resourceVersion", ""), meta.get("uid", "")))
    return services


def _is(service: ServiceState, annotation: str) -> bool:
    return str(service.annotations.get(annotation, "")).lower() == "true"


def find_services(model: ReleaseModel) -> tuple[ServiceState, ServiceState]:
    """(primary, stage): annotated ones first; an unannotated single Service is primary; a stage
    Service without annotation is `<primary>-stage`."""
    where = f"release {model.release_name} in namespace {model.namespace}"
    services = model.services
    primaries = [s for s in services if _is(s, PRIMARY_ANNOTATION)]
    stages = [s for s in services if _is(s, STAGE_ANNOTATION)]
    if len(primaries) > 1 or len(stages) > 1:
        names = ", ".join(s.name for s in (primaries if len(primaries) > 1 else stages))
        raise BlueGreenError(f"conflicting blue/green Services for {where}: {names} are all annotated the same; "
                             "keep one primary and one stage")
    if not primaries:
        unmarked = [s for s in services if s not in stages and not s.name.endswith("-stage")]
        if len(unmarked) != 1:
            found = ", ".join(s.name for s in unmarked) or "none"
            raise BlueGreenError(f"cannot tell the primary Service of {where} (candidates: {found}); annotate it "
                                 f"{PRIMARY_ANNOTATION}=true")
        primaries = unmarked
    primary = primaries[0]
    if not stages:
        stages = [s for s in services if s.name == f"{primary.name}-stage"]
    if not stages:
        raise BlueGreenError(f"no stage Service for primary service/{primary.name} of {where}: annotate it "
                             f"{STAGE_ANNOTATION}=true or name it {primary.name}-stage")
    stage = stages[0]
    for service in (primary, stage):
        if COLOR not in service.selector:
            raise BlueGreenError(f"service/{service.name} selects no {COLOR}: it is not a blue/green Service, and "
                                 "swapping it could route traffic to nothing")
    if primary.selector[COLOR] == stage.selector[COLOR]:
        raise BlueGreenError(f"service/{primary.name} and service/{stage.name} both route to "
                             f"{primary.selector[COLOR]}; refusing to swap (fix their selectors first)")
    return primary, stage


def _workload_of_color(model: ReleaseModel, color: str, releases: list[Release]) -> WorkloadState | None:
    for release in releases:
        for item in release.workloads:
            state = model.workloads.get(item.ref)
            if state is not None and workload_color(state) == color:
                return state
    return next((s for s in model.workloads.values() if workload_color(s) == color), None)


def swapped_back(model: ReleaseModel, primary: ServiceState, current: Release) -> swap_record.SwapBack | None:
    """The swap-back the primary Service records, if it swapped `current` out and nothing moved since."""
    record = swap_record.read(primary.name, primary.annotations)
    if record is None or record.release_name not in (None, model.release_name):
        return None
    return record if swap_record.in_effect(record, primary.selector.get(COLOR), current.number) else None


def swap_back_in_effect(model: ReleaseModel) -> swap_record.SwapBack | None:
    """The swap-back of the latest release, while nothing has moved since; None when there is none
    or the Services cannot be told apart."""
    if model.current is None or not model.services:
        return None
    try:
        primary, _ = find_services(model)
    except BlueGreenError:
        return None
    return swapped_back(model, primary, model.current)


def traffic_plan(model: ReleaseModel, current: Release, target: Release, notes: list[str]) -> TrafficPlan:
    """How traffic returns to the rollback-to release's color. Raises on missing pieces."""
    primary, stage = find_services(model)
    failed_color = release_color(model, current)
    primary_color, stage_color = primary.selector[COLOR], stage.selector[COLOR]
    failed = _workload_of_color(model, failed_color, [current]) if failed_color else None
    if failed_color != primary_color:
        done = swapped_back(model, primary, current)
        if done is None:
            notes.append(f"traffic never moved: service/{primary.name} routes {primary_color} and the failed "
                         f"release deployed {failed_color or 'no known color'}; nothing to swap")
        # Were the Services swapped back by a run that stopped before its bookkeeping, the
        # environments still say so: that run's records are finished (nothing otherwise).
        return TrafficPlan(primary, stage, failed_color, primary_color, [],
                           failed_workload=failed.ref if failed else None,
                           environments=swap_environments(model, failed_color, primary_color) if failed_color else [],
                           swapped_back=done)
    target_color = release_color(model, target)
    if target_color and target_color != stage_color:
        raise BlueGreenError(f"release {target.number} deployed {target_color}, but service/{stage.name} routes "
                             f"{stage_color}: swapping back would not restore it")
    back = _workload_of_color(model, stage_color, [target])
    if back is None:
        raise BlueGreenError(f"no workload of color {stage_color} for release {model.release_name} in namespace "
                             f"{model.namespace}: there is nothing to route traffic back to")
    swaps = [
        ServiceSwap(primary.name, primary_color, stage_color, primary.selector, stage.selector,
                    primary.resource_version),
        ServiceSwap(stage.name, stage_color, primary_color, stage.selector, primary.selector,
                    stage.resource_version),
    ]
    scale_up_to = None
    if not back.replicas:
        scale_up_to = (failed.replicas if failed and failed.replicas else 1)
        notes.append(f"{back.ref} is scaled to zero: it is scaled up to {scale_up_to} and must be ready "
                     "before traffic moves")
    deleted = [ref for ref in stage_objects(model, current) if ref in model.stage_objects]
    if deleted:
        notes.append(f"--scale-down-stage deletes {', '.join(map(str, deleted))} (the failed color's, as Harness's "
                     "stage scale down does) before it scales the failed color to zero")
    return TrafficPlan(primary, stage, failed_color, stage_color, swaps, back.ref, scale_up_to,
                       failed.ref if failed else None, swap_environments(model, primary_color, stage_color), deleted)

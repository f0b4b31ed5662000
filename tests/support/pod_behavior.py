"""Releases whose pods fail the way real ones do, on KWOK and on a real kubelet alike.

On the KWOK test cluster no container runs: a pod does what the stages of hack/kwok-stages.yaml
make it do, chosen by the pod template's label `khr.test/pod-behavior`. On a real kubelet (kind)
the same template fails for real: a readiness probe that keeps failing, a command that exits 1,
an image that does not exist. So every template carries both the label and the real cause.

Images: by default the fake names KWOK accepts (registry.example/web:1). With KHR_TEST_IMAGE set
to a small real image that has /bin/sh (busybox, for instance), every revision runs that image,
told apart by the environment variable APP_VERSION, and the containers keep running until told
to stop.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from tests.support.harness import (
    COLOR,
    RELEASE_NAME_LABEL,
    HarnessBlueGreenDeployer,
    HarnessRollingDeployer,
    Identity,
    Release,
    wait_for_rollout,
    write_history,
)

BEHAVIOR = "khr.test/pod-behavior"
READY_AFTER = "khr.test/ready-after"
NEVER_READY, CRASH_LOOP, IMAGE_PULL_ERROR, READY_AFTER_DELAY = (
    "never-ready", "crash-loop", "image-pull-error", "ready-after-delay")
BEHAVIORS = (NEVER_READY, CRASH_LOOP, IMAGE_PULL_ERROR, READY_AFTER_DELAY)
REVISION = "deployment.kubernetes.io/revision"
KEEP_RUNNING = "trap 'exit 0' TERM; while true; do sleep 1; done"


def real_image() -> str | None:
    """The real image every revision runs (kind), or None: fake names for KWOK."""
    return os.environ.get("KHR_TEST_IMAGE") or None


def default_progress_deadline() -> int:
    """Seconds without progress before the controller gives up: short on KWOK, where a good pod is
    Ready at once; a minute on a real kubelet, which pulls the image first."""
    return 60 if real_image() else 10


def image(name: str, version: str) -> str:
    """The image of one revision of an app: registry.example/NAME:VERSION, or KHR_TEST_IMAGE."""
    return real_image() or f"registry.example/{name}:{version}"


def _missing_image(name: str, version: str) -> str:
    real = real_image()
    if not real:
        return f"registry.example/{name}:{version}"
    repository = real.split("@", 1)[0]
    if ":" in repository.rsplit("/", 1)[-1]:
        repository = repository.rsplit(":", 1)[0]
    return f"{repository}:khr-no-such-tag-{version}"


def container(name: str, version: str, behavior: str | None = None, ready_after: int = 10) -> k8s.V1Container:
    """The app's container for one revision, failing as `behavior` says on a real kubelet too."""
    real = real_image()
    spec = k8s.V1Container(name=name, image=image(name, version))
    if real:
        spec.env = [k8s.V1EnvVar(name="APP_VERSION", value=version)]
        spec.command = ["sh", "-c", KEEP_RUNNING]
    if behavior == NEVER_READY:
        spec.readiness_probe = k8s.V1Probe(_exec=k8s.V1ExecAction(command=["false"]), period_seconds=2,
                                           failure_threshold=1)
    elif behavior == READY_AFTER_DELAY:
        spec.readiness_probe = k8s.V1Probe(_exec=k8s.V1ExecAction(command=["true"]), period_seconds=1,
                                           initial_delay_seconds=ready_after)
    elif behavior == CRASH_LOOP:
        spec.command = ["sh", "-c", f"echo '{name}: cannot reach its database' >&2; exit 1"]
    elif behavior == IMAGE_PULL_ERROR:
        spec.image = _missing_image(name, version)
    elif behavior is not None:
        raise ValueError(f"unknown pod behavior {behavior!r}; use one of {', '.join(BEHAVIORS)}")
    return spec


def template_metadata(labels: dict[str, str], behavior: str | None = None,
                      ready_after: int = 10) -> k8s.V1ObjectMeta:
    """Pod template metadata: the KWOK stage is chosen by the label, its delay by the annotation."""
    labels = dict(labels)
    annotations = None
    if behavior:
        labels[BEHAVIOR] = behavior
    if behavior == READY_AFTER_DELAY:
        annotations = {READY_AFTER: f"{ready_after}s"}
    return k8s.V1ObjectMeta(labels=labels, annotations=annotations)


def progressing(deployment: k8s.V1Deployment) -> k8s.V1DeploymentCondition | None:
    return next((c for c in deployment.status.conditions or [] if c.type == "Progressing"), None)


def describe(deployment: k8s.V1Deployment) -> str:
    """One line of what the Deployment controller reports: replicas and the Progressing condition."""
    status, condition = deployment.status, progressing(deployment)
    line = (f"{status.available_replicas or 0} of {deployment.spec.replicas} available, "
            f"{status.updated_replicas or 0} updated")
    if condition:
        line += f"; Progressing={condition.status} {condition.reason}"
        if condition.status == "False":
            line += f": {condition.message}"
    return line


def wait_for_stall(apps: k8s.AppsV1Api, namespace: str, name: str, timeout: float = 120,
                   progress: Callable[[str], None] | None = None) -> k8s.V1Deployment:
    """Wait until the Deployment controller itself gives up: Progressing=False, ProgressDeadlineExceeded.
    progress, when given, gets describe() of the Deployment each time it changes."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        deployment = apps.read_namespaced_deployment(name, namespace)
        condition = progressing(deployment)
        if progress and describe(deployment) != last:
            last = describe(deployment)
            progress(last)
        if (deployment.status.observed_generation or 0) >= deployment.metadata.generation and condition \
                and condition.status == "False" and condition.reason == "ProgressDeadlineExceeded":
            return deployment
        if time.monotonic() > deadline:
            raise AssertionError(f"deployment {namespace}/{name} did not exceed its progress deadline in {timeout}s "
                                 f"(are the KWOK failure stages of hack/kwok-stages.yaml loaded? recreate the "
                                 f"cluster: hack/local-cluster down && hack/local-cluster up): {deployment.status}")
        time.sleep(0.5)


def pod_states(core: k8s.CoreV1Api, namespace: str, selector: str) -> list[tuple[str, bool, str, int]]:
    """(khr.test/pod-behavior of the pod, Ready, container state reason or Running, restarts) per live pod."""
    rows = []
    for pod in core.list_namespaced_pod(namespace, label_selector=selector).items:
        if pod.metadata.deletion_timestamp is not None:
            continue
        statuses = pod.status.container_statuses or []
        ready = any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
        state = "Pending"
        if statuses:
            current = statuses[0].state
            state = (current.waiting.reason if current.waiting else
                     "Running" if current.running else current.terminated.reason if current.terminated else "?")
        rows.append(((pod.metadata.labels or {}).get(BEHAVIOR, ""), ready, state,
                     sum(s.restart_count or 0 for s in statuses)))
    return sorted(rows)


@dataclass
class BehaviorDeployer(HarnessRollingDeployer):
    """HarnessRollingDeployer whose releases choose how their pods behave, with a progress deadline.

    A release whose rollout stalls is recorded as Harness records it: InProgress while it waits
    for steady state, Failed once the Deployment controller reports ProgressDeadlineExceeded.
    """

    progress_deadline_seconds: int = field(default_factory=default_progress_deadline)
    ready_after: int = 10
    recorded: list[str] = field(default_factory=list)  # what each step did, for the demo
    progress: Callable[[str], None] | None = None  # told what the controller reports during a stall

    def body(self, version: str, behavior: str | None, identity: Identity, number: int) -> k8s.V1Deployment:
        labels = {"app": self.name}
        return k8s.V1Deployment(
            metadata=k8s.V1ObjectMeta(
                name=self.name, labels={RELEASE_NAME_LABEL: self.release_name},
                annotations={**identity.annotations(), "harness.io/release-number": str(number)}),
            spec=k8s.V1DeploymentSpec(
                replicas=self.replicas,
                progress_deadline_seconds=self.progress_deadline_seconds,
                selector=k8s.V1LabelSelector(match_labels=labels),
                template=k8s.V1PodTemplateSpec(
                    metadata=template_metadata({**labels, RELEASE_NAME_LABEL: self.release_name}, behavior,
                                               self.ready_after),
                    spec=k8s.V1PodSpec(containers=[container(self.name, version, behavior, self.ready_after)],
                                       termination_grace_period_seconds=2))))

    def apply(self, body: k8s.V1Deployment) -> None:
        try:
            self.apps.create_namespaced_deployment(self.namespace, body)
        except ApiException as exc:
            if exc.status != 409:
                raise
            template = self.apps.api_client.sanitize_for_serialization(body.spec.template)
            # The whole template: a label or probe of the previous release must not stay behind.
            self.apps.patch_namespaced_deployment(self.name, self.namespace, [
                {"op": "replace", "path": "/spec/template", "value": template},
                {"op": "replace", "path": "/spec/progressDeadlineSeconds",
                 "value": self.progress_deadline_seconds},
            ] + [{"op": "add", "path": "/metadata/annotations/" + key.replace("~", "~0").replace("/", "~1"),
                  "value": value} for key, value in body.metadata.annotations.items()])

    def deploy_version(self, version: str, behavior: str | None = None, status: str = "Succeeded",
                       identity: Identity = Identity(), stalls: bool | None = None) -> Release:
        """One Harness deployment of VERSION whose pods behave as `behavior` says.

        stalls (default: a behavior other than ready-after-delay): wait for the controller's
        ProgressDeadlineExceeded instead of a finished rollout. A stalled release is recorded
        InProgress first, then `status` (Harness: Failed; Succeeded when its steady-state check
        was skipped).
        """
        if stalls is None:
            stalls = behavior not in (None, READY_AFTER_DELAY)
        number = (self.releases[-1].number if self.releases else 0) + 1
        self.apply(self.body(version, behavior, identity, number))
        if stalls:
            deployment = self._observed()
            release = Release(number, "InProgress", [("Deployment", self.name, self._revision(deployment))],
                              self.namespace)
            self.releases.append(release)
            self._write()
            self.recorded.append(f"release {number} recorded InProgress")
            wait_for_stall(self.apps, self.namespace, self.name, timeout=self.progress_deadline_seconds + 90,
                           progress=self.progress)
            release.status = status
        else:
            deployment = wait_for_rollout(self.apps, self.namespace, self.name,
                                          timeout=self.progress_deadline_seconds + 90)
            release = Release(number, status, [("Deployment", self.name, self._revision(deployment))],
                              self.namespace)
            self.releases.append(release)
        self._write()
        self.recorded.append(f"release {number} recorded {status}")
        return release

    def _observed(self) -> k8s.V1Deployment:
        deadline = time.monotonic() + 30
        while True:
            deployment = self.apps.read_namespaced_deployment(self.name, self.namespace)
            if (deployment.status.observed_generation or 0) >= deployment.metadata.generation:
                return deployment
            assert time.monotonic() < deadline, f"deployment {self.name}: spec never observed"
            time.sleep(0.2)

    @staticmethod
    def _revision(deployment: k8s.V1Deployment) -> str:
        # The template may repeat an earlier image (KHR_TEST_IMAGE): the controller's own number counts.
        return deployment.metadata.annotations[REVISION]

    def _write(self) -> None:
        write_history(self.core, self.namespace, self.release_name, self.releases,
                      store=self.store, compressed=self.compressed)


@dataclass
class BehaviorBlueGreenDeployer(HarnessBlueGreenDeployer):
    """HarnessBlueGreenDeployer with the images of this module (KHR_TEST_IMAGE on kind) and a
    progress deadline on each color's Deployment."""

    progress_deadline_seconds: int = field(default_factory=default_progress_deadline)

    def color_body(self, color: str, version: str, behavior: str | None = None,
                   identity: Identity = Identity()) -> k8s.V1Deployment:
        labels = {"app": self.name, COLOR: color}
        return k8s.V1Deployment(
            metadata=k8s.V1ObjectMeta(name=f"{self.name}-{color}", annotations=identity.annotations()),
            spec=k8s.V1DeploymentSpec(
                replicas=self.replicas, progress_deadline_seconds=self.progress_deadline_seconds,
                selector=k8s.V1LabelSelector(match_labels=labels),
                template=k8s.V1PodTemplateSpec(
                    metadata=template_metadata({**labels, RELEASE_NAME_LABEL: self.release_name}, behavior),
                    spec=k8s.V1PodSpec(containers=[container(self.name, version, behavior)],
                                       termination_grace_period_seconds=2))))

    def deploy_version(self, color: str, version: str, status: str = "Succeeded", swap: bool = True) -> Release:
        """Harness's blue/green deployment of VERSION into COLOR (ready first), then the swap."""
        body = self.color_body(color, version)
        try:
            self.apps.create_namespaced_deployment(self.namespace, body)
        except ApiException as exc:
            if exc.status != 409:
                raise
            template = self.apps.api_client.sanitize_for_serialization(body.spec.template)
            self.apps.patch_namespaced_deployment(body.metadata.name, self.namespace, [
                {"op": "replace", "path": "/spec/template", "value": template},
                {"op": "replace", "path": "/spec/replicas", "value": self.replicas}])
        deployment = wait_for_rollout(self.apps, self.namespace, body.metadata.name)
        if swap:
            self.swap()
        number = (self.releases[-1].number if self.releases else 0) + 1
        release = Release(number, status, [("Deployment", body.metadata.name,
                                             deployment.metadata.annotations[REVISION])],
                          self.namespace, bg_environment="primary" if swap else "stage")
        self.releases.append(release)
        write_history(self.core, self.namespace, self.release_name, self.releases, style="managedWorkload")
        return release

    def break_color(self, color: str, version: str, behavior: str) -> None:
        """Someone changes the idle color outside Harness: its new pods behave as `behavior` says."""
        template = self.apps.api_client.sanitize_for_serialization(
            self.color_body(color, version, behavior).spec.template)
        self.apps.patch_namespaced_deployment(f"{self.name}-{color}", self.namespace, [
            {"op": "replace", "path": "/spec/template", "value": template}])


def probe_failure_stages(core: k8s.CoreV1Api, namespace: str, timeout: float = 90) -> str | None:
    """None when a never-ready pod stays unready here, else why not (KWOK without the stages of
    hack/kwok-stages.yaml makes every pod Ready at once)."""
    pod = k8s.V1Pod(metadata=template_metadata({"app": "stage-probe"}, NEVER_READY),
                    spec=k8s.V1PodSpec(containers=[container("probe", "1", NEVER_READY)],
                                       termination_grace_period_seconds=0))
    pod.metadata.name = "stage-probe"
    core.create_namespaced_pod(namespace, pod)
    deadline = time.monotonic() + timeout
    while True:
        status = core.read_namespaced_pod("stage-probe", namespace).status
        if status.phase == "Running":
            time.sleep(1)  # a real kubelet probes once started; KWOK's default stage is Ready at once
            status = core.read_namespaced_pod("stage-probe", namespace).status
            if any(c.type == "Ready" and c.status == "True" for c in status.conditions or []):
                return ("a pod labelled khr.test/pod-behavior=never-ready became Ready: this cluster's KWOK "
                        "does not have the failure stages of hack/kwok-stages.yaml; recreate it "
                        "(hack/local-cluster down && hack/local-cluster up, with the same KHR_CLUSTER_NAME)")
            return None
        if time.monotonic() > deadline:
            return f"the probe pod of the failure stages was not Running after {timeout}s: {status}"
        time.sleep(0.25)


def failure_stages_problem(core: k8s.CoreV1Api) -> str | None:
    """probe_failure_stages in a namespace of its own, deleted afterwards: None when this cluster
    has the failure stages, else why not and how to fix it (for a module fixture to fail with)."""
    name = f"khr-stage-probe-{uuid.uuid4().hex[:5]}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    try:
        return probe_failure_stages(core, name)
    finally:
        core.delete_namespace(name)

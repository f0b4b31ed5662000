"""Leave a namespace in the state a Harness rolling deployment leaves it in.

Written from the description of Harness's records alone, independently of the plugin's own
parser, so that the tests check the plugin against the format rather than against itself:

- a Deployment whose pod template carries `harness.io/release-name`, and whose metadata
  carries the identity annotations (the controller copies them onto each ReplicaSet);
- one ReplicaSet revision per deployed image;
- the legacy release history, one object named after the release: a ConfigMap or a Secret,
  gzip-compressed or plain YAML, releases newest first.
"""

from __future__ import annotations

import base64
import gzip
import time
from dataclasses import dataclass, field

import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

RELEASE_NAME_LABEL = "harness.io/release-name"


@dataclass(frozen=True)
class Identity:
    """Workflow Id + Infrastructure Mapping (the namespace is the object's own)."""

    workflow_id: str = "wf-deploy"
    service_id: str = "svc-web"
    infra_id: str = "infra-prod"
    cluster_name: str = "prod-cluster"

    def annotations(self) -> dict[str, str]:
        return {
            "harness.io/workflow-id": self.workflow_id,
            "harness.io/service": self.service_id,
            "harness.io/infra": self.infra_id,
            "harness.io/cluster-name": self.cluster_name,
        }


@dataclass
class Release:
    number: int
    status: str
    workloads: list[tuple[str, str, str]]  # (kind, name, revision)
    namespace: str
    bg_environment: str | None = None
    extra: dict = field(default_factory=dict)  # fields the plugin must keep intact


def release_history_yaml(releases: list[Release], *, style: str = "managedWorkloads",
                         quote_revisions: bool = True, omit_empty_revision: bool = False) -> str:
    """The `releaseHistory` YAML as Harness writes it: `version: v1`, releases newest first.

    style: "managedWorkloads" (a list) or "managedWorkload" (the single-workload form of
    blue/green and older records). quote_revisions: `revision: "12"` or `revision: 12`.
    omit_empty_revision: an empty revision is left out (old records) rather than written ''.
    """
    items = []
    for release in sorted(releases, key=lambda r: r.number, reverse=True):
        resources = [{"kind": k, "name": n, "namespace": release.namespace, "versioned": False}
                     for k, n, _ in release.workloads]
        item: dict = {"number": release.number, "status": release.status, "resources": resources}
        revision = (lambda r: str(r)) if quote_revisions else (lambda r: int(r))
        if style == "managedWorkloads":
            item["managedWorkloads"] = [
                {"workload": {"kind": k, "name": n, "namespace": release.namespace, "versioned": False},
                 "revision": revision(rev)}
                for k, n, rev in release.workloads
            ]
        elif style == "managedWorkload":
            (kind, name, rev), = release.workloads
            item["managedWorkload"] = {"kind": kind, "name": name, "namespace": release.namespace, "versioned": False}
            if rev != "" or not omit_empty_revision:
                item["managedWorkloadRevision"] = revision(rev)
        else:
            raise ValueError(style)
        if release.bg_environment:
            item["bgEnvironment"] = release.bg_environment
        item.update(release.extra)
        items.append(item)
    return yaml.safe_dump({"version": "v1", "releases": items}, sort_keys=False)


def history_object(release_name: str, history_yaml: str, *, store: str, compressed: bool):
    """The ConfigMap or Secret body holding a legacy history, in Harness's encodings."""
    raw = history_yaml.encode()
    if store == "configmap":
        # ConfigMap data is text: compressed bytes go in as base64 text, the flag as "true".
        data = {"releaseHistory": base64.b64encode(gzip.compress(raw)).decode() if compressed else history_yaml}
        if compressed:
            data["isReleaseHistoryCompressed"] = "true"
        return k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=release_name), data=data)
    if store == "secret":
        # Secret data is base64 of the bytes themselves: the gzip stream, and the flag byte 0x01.
        value = gzip.compress(raw) if compressed else raw
        data = {"releaseHistory": base64.b64encode(value).decode()}
        if compressed:
            data["isReleaseHistoryCompressed"] = base64.b64encode(b"\x01").decode()
        return k8s.V1Secret(metadata=k8s.V1ObjectMeta(name=release_name), type="Opaque", data=data)
    raise ValueError(store)


def write_history(core: k8s.CoreV1Api, namespace: str, release_name: str, releases: list[Release], *,
                  store: str = "configmap", compressed: bool = True, **yaml_options) -> None:
    """Create or replace the release history object."""
    body = history_object(release_name, release_history_yaml(releases, **yaml_options),
                          store=store, compressed=compressed)
    create, replace = ((core.create_namespaced_config_map, core.replace_namespaced_config_map) if store == "configmap"
                       else (core.create_namespaced_secret, core.replace_namespaced_secret))
    try:
        create(namespace, body)
    except ApiException as exc:
        if exc.status != 409:
            raise
        replace(release_name, namespace, body)


def deployment_body(name: str, release_name: str, image: str, identity: Identity, release_number: int,
                    replicas: int = 2) -> k8s.V1Deployment:
    labels = {"app": name}
    return k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(
            name=name,
            labels={RELEASE_NAME_LABEL: release_name},
            annotations={**identity.annotations(), "harness.io/release-number": str(release_number)},
        ),
        spec=k8s.V1DeploymentSpec(
            replicas=replicas,
            selector=k8s.V1LabelSelector(match_labels=labels),
            template=k8s.V1PodTemplateSpec(
                metadata=k8s.V1ObjectMeta(labels={**labels, RELEASE_NAME_LABEL: release_name}),
                spec=k8s.V1PodSpec(containers=[k8s.V1Container(name=name, image=image)]),
            ),
        ),
    )


def wait_for_rollout(apps: k8s.AppsV1Api, namespace: str, name: str, timeout: float = 90) -> k8s.V1Deployment:
    """Wait as `kubectl rollout status` does: observed, updated, available, nothing old left."""
    deadline = time.monotonic() + timeout
    while True:
        dep = apps.read_namespaced_deployment(name, namespace)
        status, want = dep.status, dep.spec.replicas
        if (status.observed_generation or 0) >= dep.metadata.generation \
                and (status.updated_replicas or 0) == want \
                and (status.replicas or 0) == want \
                and (status.available_replicas or 0) == want:
            return dep
        if time.monotonic() > deadline:
            raise AssertionError(f"deployment {namespace}/{name} did not roll out in {timeout}s: {status}")
        time.sleep(0.25)


def owned_replicasets(apps: k8s.AppsV1Api, namespace: str, deployment: k8s.V1Deployment) -> list[k8s.V1ReplicaSet]:
    """The Deployment's ReplicaSets (by owner reference), sorted by revision."""
    sets = apps.list_namespaced_replica_set(namespace).items
    owned = [rs for rs in sets if any(ref.uid == deployment.metadata.uid for ref in rs.metadata.owner_references or [])]
    return sorted(owned, key=lambda rs: int(rs.metadata.annotations.get("deployment.kubernetes.io/revision", "0")))


def current_revision(apps: k8s.AppsV1Api, namespace: str, deployment: k8s.V1Deployment) -> str:
    template_hash = None
    for rs in owned_replicasets(apps, namespace, deployment):
        if rs.spec.template.spec.containers[0].image == deployment.spec.template.spec.containers[0].image:
            template_hash = rs.metadata.annotations["deployment.kubernetes.io/revision"]
    assert template_hash is not None, "no ReplicaSet matches the Deployment's template"
    return template_hash


@dataclass
class HarnessRollingDeployer:
    """Deploys a Deployment release after release, recording each as Harness does."""

    apps: k8s.AppsV1Api
    core: k8s.CoreV1Api
    namespace: str
    name: str = "web"
    release_name: str = "release-infra-prod"
    store: str = "configmap"
    compressed: bool = True
    replicas: int = 2
    releases: list[Release] = field(default_factory=list)

    def deploy(self, image: str, status: str = "Succeeded", identity: Identity = Identity()) -> Release:
        """One Harness deployment: apply the template, wait for the rollout, record the release."""
        number = (self.releases[-1].number if self.releases else 0) + 1
        body = deployment_body(self.name, self.release_name, image, identity, number, self.replicas)
        try:
            self.apps.create_namespaced_deployment(self.namespace, body)
        except ApiException as exc:
            if exc.status != 409:
                raise
            self.apps.patch_namespaced_deployment(self.name, self.namespace, {
                "metadata": {"annotations": body.metadata.annotations},
                "spec": {"template": {"spec": {"containers": [{"name": self.name, "image": image}]}}},
            })
        deployment = wait_for_rollout(self.apps, self.namespace, self.name)
        revision = current_revision(self.apps, self.namespace, deployment)
        release = Release(number, status, [("Deployment", self.name, revision)], self.namespace)
        self.releases.append(release)
        write_history(self.core, self.namespace, self.release_name, self.releases,
                      store=self.store, compressed=self.compressed)
        return release


def write_declarative_release(core: k8s.CoreV1Api, namespace: str, release_name: str, number: int, status: str,
                              manifests: list[dict], identity: Identity = Identity(),
                              color: str | None = None, bg_environment: str = "stage", name: str | None = None,
                              secret_type: str = "harness.io/release/v2") -> None:
    """One Harness declarative-rollback release Secret (type harness.io/release/v2). `name` other
    than Harness's `harness.release.<release>.<number>`, or another `secret_type`: what a hand or
    another tool may leave."""
    labels = {"owner": "harness", "release": release_name, "release-number": str(number), "status": status}
    if color:
        labels.update({"color": color, "harness.io/bg-environment": bg_environment})
    release = gzip.compress(yaml.safe_dump_all(manifests).encode())
    core.create_namespaced_secret(namespace, k8s.V1Secret(
        metadata=k8s.V1ObjectMeta(
            name=name or f"harness.release.{release_name}.{number}", labels=labels,
            annotations={"harness.io/service": identity.service_id, "harness.io/env": "prod",
                         "harness.io/infra": identity.infra_id,
                         "harness.io/infra-key": f"{identity.service_id}-{identity.infra_id}"}),
        type=secret_type,
        data={"release": base64.b64encode(release).decode()},
    ))


COLOR = "harness.io/color"


@dataclass
class HarnessBlueGreenDeployer:
    """Blue/green the way Harness does it: a Deployment per color, a primary and a stage Service
    selecting `harness.io/color`, and a swap that exchanges their entire selectors."""

    apps: k8s.AppsV1Api
    core: k8s.CoreV1Api
    namespace: str
    name: str = "shop"
    release_name: str = "release-bg"
    replicas: int = 2
    releases: list[Release] = field(default_factory=list)

    def create_services(self, primary_color: str = "green", stage_color: str = "blue") -> None:
        for service, color, role in ((self.name, primary_color, "primary"),
                                     (f"{self.name}-stage", stage_color, "stage")):
            self.core.create_namespaced_service(self.namespace, k8s.V1Service(
                metadata=k8s.V1ObjectMeta(name=service, annotations={f"harness.io/{role}-service": "true"}),
                spec=k8s.V1ServiceSpec(selector={"app": self.name, COLOR: color},
                                       ports=[k8s.V1ServicePort(port=80, target_port=8080)])))

    def selectors(self) -> tuple[dict, dict]:
        read = self.core.read_namespaced_service
        return (read(self.name, self.namespace).spec.selector,
                read(f"{self.name}-stage", self.namespace).spec.selector)

    def swap(self) -> None:
        """Harness's swap: primary gets stage's selector and stage gets primary's (whole maps)."""
        primary, stage = self.selectors()
        for service, selector in ((self.name, stage), (f"{self.name}-stage", primary)):
            self.core.patch_namespaced_service(service, self.namespace, [
                {"op": "replace", "path": "/spec/selector", "value": selector}])

    def deploy_stage(self, color: str, image: str, first_gen: bool = False) -> Release:
        """Harness's blue/green "Stage Deployment" step (K8sBGRequestHandler): the release is saved
        InProgress, then Succeeded with bgEnvironment stage once the stage color is steady —
        before any swap. FirstGen (and NextGen before mid-2023) records no bgEnvironment."""
        release = self.deploy(color, image, status="Succeeded", swap=False)
        release.bg_environment = None if first_gen else "stage"
        write_history(self.core, self.namespace, self.release_name, self.releases, style="managedWorkload")
        return release

    def swap_step(self) -> None:
        """Harness's "Swap Primary with Stage" step (K8sSwapServiceSelectorsHandler): swap the
        selectors, then toggle bgEnvironment of the latest succeeded release of each color."""
        primary_color = self.selectors()[0][COLOR]
        self.swap()
        for color in ("blue", "green"):
            release = next((r for r in reversed(self.releases) if r.status == "Succeeded"
                            and r.workloads[0][1].endswith(f"-{color}")), None)
            if release is not None and release.bg_environment:
                release.bg_environment = "primary" if release.bg_environment == "stage" else "stage"
        assert primary_color != self.selectors()[0][COLOR]
        write_history(self.core, self.namespace, self.release_name, self.releases, style="managedWorkload")

    def deploy(self, color: str, image: str, status: str = "Succeeded", swap: bool = True,
               identity: Identity = Identity()) -> Release:
        name = f"{self.name}-{color}"
        labels = {"app": self.name, COLOR: color}
        body = k8s.V1Deployment(
            metadata=k8s.V1ObjectMeta(name=name, annotations=identity.annotations()),
            spec=k8s.V1DeploymentSpec(
                replicas=self.replicas, selector=k8s.V1LabelSelector(match_labels=labels),
                template=k8s.V1PodTemplateSpec(
                    metadata=k8s.V1ObjectMeta(labels={**labels, RELEASE_NAME_LABEL: self.release_name}),
                    spec=k8s.V1PodSpec(containers=[k8s.V1Container(name=self.name, image=image)]))))
        try:
            self.apps.create_namespaced_deployment(self.namespace, body)
        except ApiException as exc:
            if exc.status != 409:
                raise
            self.apps.patch_namespaced_deployment(name, self.namespace, {
                "metadata": {"annotations": identity.annotations()},
                "spec": {"replicas": self.replicas,
                         "template": {"spec": {"containers": [{"name": self.name, "image": image}]}}}})
        deployment = wait_for_rollout(self.apps, self.namespace, name)
        if swap:
            self.swap()
        number = (self.releases[-1].number if self.releases else 0) + 1
        release = Release(number, status, [("Deployment", name, current_revision(self.apps, self.namespace, deployment))],
                          self.namespace, bg_environment="primary" if swap else "stage")
        self.releases.append(release)
        write_history(self.core, self.namespace, self.release_name, self.releases, style="managedWorkload")
        return release

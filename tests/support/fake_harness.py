"""Harness-style releases in the in-memory API server (fake_rest), and a Deployment controller.

The same records as tests/support/harness.py builds on the real control plane (its history YAML
and encodings are reused), as plain dicts stored in a FakeCluster:

    cluster = FakeCluster(controllers=[deployment_controller])
    rolling = FakeRollingDeployer(cluster)
    rolling.deploy("registry.example/web:1"); rolling.deploy("registry.example/web:2", "Failed")

`deployment_controller` does, at once, what the Deployment controller ends with: the ReplicaSet
of the template (found by template, else created), numbered as the controller numbers it
(revision, revision-history), with the Deployment's annotations copied onto it; the new
ReplicaSet scaled to the Deployment's replicas and the others to zero; the status steady
(observedGeneration, updated, ready and available replicas, the Progressing condition). It
runs whenever a watch is answered (FakeCluster.controllers), so the product's waits end.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
from dataclasses import dataclass, field
from unittest import mock

import yaml
from kubernetes.client import ApiClient

from kubectl_harness_rollback import commands, executor
from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.planner import PlanOptions
from kubectl_harness_rollback.reader import Target
from tests.support import harness
from tests.support.fake_rest import FakeCluster
from tests.support.harness import COLOR, RELEASE_NAME_LABEL, Identity, Release, release_history_yaml

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
HASH = "pod-template-hash"
# The Deployment's annotations the controller does not copy onto its ReplicaSets.
NOT_COPIED = ("kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY,
              "deprecated.deployment.rollback.to")


def deployment_controller(cluster: FakeCluster) -> None:
    """Bring every Deployment of the cluster to where its controller would leave it, steady."""
    for deployment in [o for o in cluster.objects.values() if o.get("kind") == "Deployment"]:
        if not (deployment.get("spec") or {}).get("paused"):
            reconcile_deployment(cluster, deployment)


def reconcile_deployment(cluster: FakeCluster, deployment: dict) -> None:
    meta, spec = deployment["metadata"], deployment["spec"]
    namespace, template = meta["namespace"], spec["template"]
    owned = [rs for rs in cluster.all("ReplicaSet", namespace)
             if any(r.get("uid") == meta["uid"] and r.get("controller") for r in rs["metadata"].get("ownerReferences")
                    or [])]
    new = next((rs for rs in owned if _without_hash(rs["spec"]["template"]) == template), None)
    max_old = max((_revision(rs) for rs in owned if rs is not new), default=0)
    copied = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in NOT_COPIED}
    if new is None:
        template_hash = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]
        labels = {**(template.get("metadata") or {}).get("labels", {}), HASH: template_hash}
        new = cluster.put({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{meta['name']}-{template_hash}", "namespace": namespace, "labels": labels,
                         "annotations": {**copied, REVISION: str(max_old + 1)},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"],
                                              "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}]},
            "spec": {"replicas": 0, "selector": {"matchLabels": {**spec["selector"].get("matchLabels", {}),
                                                                  HASH: template_hash}},
                     "template": {**template, "metadata": {**(template.get("metadata") or {}), "labels": labels}}},
            "status": {"replicas": 0}})
    notes = {**new["metadata"].get("annotations", {}), **copied}
    if _revision(new) < max_old + 1:
        older = [n for n in (notes.get(REVISION_HISTORY) or "").split(",") if n]
        notes[REVISION_HISTORY] = ",".join(older + [str(_revision(new))])
        notes[REVISION] = str(max_old + 1)
    want = spec.get("replicas", 1)
    for rs in owned + ([new] if new["metadata"]["uid"] not in {o["metadata"]["uid"] for o in owned} else []):
        ours = rs["metadata"]["uid"] == new["metadata"]["uid"]
        replicas = want if ours else 0
        changed = copy.deepcopy(rs)
        changed["spec"]["replicas"] = replicas
        changed["status"] = {"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": replicas,
                             "availableReplicas": replicas, "observedGeneration": rs["metadata"].get("generation", 1)}
        if ours:
            changed["metadata"]["annotations"] = notes
        if changed != rs:
            cluster.update(changed)
    done = copy.deepcopy(deployment)
    done["metadata"].setdefault("annotations", {})[REVISION] = notes[REVISION]
    done["status"] = {
        "observedGeneration": meta.get("generation", 1), "replicas": want, "updatedReplicas": want,
        "readyReplicas": want, "availableReplicas": want,
        "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                       {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                        "message": f'ReplicaSet "{new["metadata"]["name"]}" has successfully progressed.'}]}
    if done != deployment:
        cluster.update(done)


def _without_hash(template: dict) -> dict:
    template = copy.deepcopy(template)
    (template.get("metadata") or {}).get("labels", {}).pop(HASH, None)
    return template


def _revision(rs: dict) -> int:
    return int((rs["metadata"].get("annotations") or {}).get(REVISION) or 0)


def as_dict(model) -> dict:
    """A kubernetes client model (tests/support/harness.py's bodies) as the API's JSON."""
    return ApiClient().sanitize_for_serialization(model)


def history_object(release_name: str, releases: list[Release], namespace: str = "shop", store: str = "configmap",
                   compressed: bool = True, **yaml_options) -> dict:
    """The legacy history ConfigMap or Secret, in Harness's encodings (harness.history_object)."""
    body = as_dict(harness.history_object(release_name, release_history_yaml(releases, **yaml_options),
                                          store=store, compressed=compressed))
    body["metadata"]["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap" if store == "configmap" else "Secret", **body}


def write_history(cluster: FakeCluster, release_name: str, releases: list[Release], namespace: str = "shop",
                  **options) -> dict:
    """Create or replace the legacy history object."""
    body = history_object(release_name, releases, namespace, **options)
    live = cluster.find(body["kind"], release_name, namespace)
    if live is None:
        return cluster.put(body)
    return cluster.update({**live, **{k: v for k, v in body.items() if k != "metadata"}})


def read_history(cluster: FakeCluster, release_name: str, namespace: str = "shop") -> list[dict]:
    """The releases of the legacy history as stored now (newest first), decoded."""
    obj = cluster.find("Secret", release_name, namespace) or cluster.find("ConfigMap", release_name, namespace)
    data = obj["data"]
    raw = data["releaseHistory"]
    if obj["kind"] == "Secret":
        raw = base64.b64decode(raw)
        raw = gzip.decompress(raw) if data.get("isReleaseHistoryCompressed") else raw
    elif data.get("isReleaseHistoryCompressed") == "true":
        raw = gzip.decompress(base64.b64decode(raw))
    return yaml.safe_load(raw)["releases"]


def deployment(name: str, release_name: str, image: str, identity: Identity = Identity(), release_number: int = 1,
               replicas: int = 2, namespace: str = "shop") -> dict:
    """harness.deployment_body, as a dict in the namespace."""
    body = as_dict(harness.deployment_body(name, release_name, image, identity, release_number, replicas))
    body["metadata"]["namespace"] = namespace
    return {"apiVersion": "apps/v1", "kind": "Deployment", **body}


def set_template(cluster: FakeCluster, name: str, image: str, annotations: dict | None = None,
                 namespace: str = "shop", replicas: int | None = None) -> dict:
    """Another client's change of a Deployment (a deploy step, `kubectl set image`): unrecorded."""
    live = cluster.find("Deployment", name, namespace)
    live["spec"]["template"]["spec"]["containers"][0]["image"] = image
    live["metadata"].setdefault("annotations", {}).update(annotations or {})
    if replicas is not None:
        live["spec"]["replicas"] = replicas
    return cluster.update(live)


def image_of(cluster: FakeCluster, name: str, namespace: str = "shop") -> str:
    return cluster.find("Deployment", name, namespace)["spec"]["template"]["spec"]["containers"][0]["image"]


@dataclass
class FakeRollingDeployer:
    """HarnessRollingDeployer in the fake: each deploy changes the template, lets the controller
    settle, and records the release in the legacy history."""

    cluster: FakeCluster
    namespace: str = "shop"
    name: str = "web"
    release_name: str = "release-infra-prod"
    store: str = "configmap"
    compressed: bool = True
    replicas: int = 2
    releases: list[Release] = field(default_factory=list)

    def deploy(self, image: str, status: str = "Succeeded", identity: Identity = Identity()) -> Release:
        number = (self.releases[-1].number if self.releases else 0) + 1
        body = deployment(self.name, self.release_name, image, identity, number, self.replicas, self.namespace)
        if self.cluster.find("Deployment", self.name, self.namespace) is None:
            self.cluster.put(body)
        else:
            set_template(self.cluster, self.name, image, body["metadata"]["annotations"], self.namespace)
        self.cluster.settle()
        live = self.cluster.find("Deployment", self.name, self.namespace)
        revision = live["metadata"]["annotations"][REVISION]
        release = Release(number, status, [("Deployment", self.name, revision)], self.namespace)
        self.releases.append(release)
        write_history(self.cluster, self.release_name, self.releases, self.namespace, store=self.store,
                      compressed=self.compressed)
        return release


@dataclass
class FakeBlueGreenDeployer:
    """HarnessBlueGreenDeployer in the fake: a Deployment per color, a primary and a stage Service
    selecting `harness.io/color`, and a swap that exchanges their selectors."""

    cluster: FakeCluster
    namespace: str = "shop"
    name: str = "shop"
    release_name: str = "release-bg"
    replicas: int = 2
    releases: list[Release] = field(default_factory=list)

    def create_services(self, primary_color: str = "green", stage_color: str = "blue") -> None:
        for service, color, role in ((self.name, primary_color, "primary"),
                                     (f"{self.name}-stage", stage_color, "stage")):
            self.cluster.put({"apiVersion": "v1", "kind": "Service", "metadata": {
                "name": service, "namespace": self.namespace, "annotations": {f"harness.io/{role}-service": "true"}},
                "spec": {"selector": {"app": self.name, COLOR: color},
                         "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}})

    def selectors(self) -> tuple[dict, dict]:
        return tuple(self.cluster.find("Service", name, self.namespace)["spec"]["selector"]
                     for name in (self.name, f"{self.name}-stage"))

    def swap(self) -> None:
        primary, stage = self.selectors()
        for service, selector in ((self.name, stage), (f"{self.name}-stage", primary)):
            live = self.cluster.find("Service", service, self.namespace)
            live["spec"]["selector"] = selector
            self.cluster.update(live)

    def deploy_stage(self, color: str, image: str) -> Release:
        """Harness's "Stage Deployment" step: recorded Succeeded with bgEnvironment stage, no swap."""
        release = self.deploy(color, image, swap=False)
        release.bg_environment = "stage"
        write_history(self.cluster, self.release_name, self.releases, self.namespace, style="managedWorkload")
        return release

    def swap_step(self) -> None:
        """Harness's "Swap Primary with Stage" step: swap, then toggle bgEnvironment of the latest
        succeeded release of each color."""
        self.swap()
        for color in ("blue", "green"):
            release = next((r for r in reversed(self.releases) if r.status == "Succeeded"
                            and r.workloads[0][1].endswith(f"-{color}")), None)
            if release is not None and release.bg_environment:
                release.bg_environment = "primary" if release.bg_environment == "stage" else "stage"
        write_history(self.cluster, self.release_name, self.releases, self.namespace, style="managedWorkload")

    def deploy(self, color: str, image: str, status: str = "Succeeded", swap: bool = True,
               identity: Identity = Identity()) -> Release:
        name = f"{self.name}-{color}"
        labels = {"app": self.name, COLOR: color}
        if self.cluster.find("Deployment", name, self.namespace) is None:
            self.cluster.put({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {
                "name": name, "namespace": self.namespace, "annotations": identity.annotations()},
                "spec": {"replicas": self.replicas, "selector": {"matchLabels": labels},
                         "template": {"metadata": {"labels": {**labels, RELEASE_NAME_LABEL: self.release_name}},
                                      "spec": {"containers": [{"name": self.name, "image": image}]}}}})
        else:
            set_template(self.cluster, name, image, identity.annotations(), self.namespace, self.replicas)
        self.cluster.settle()
        if swap:
            self.swap()
        number = (self.releases[-1].number if self.releases else 0) + 1
        revision = self.cluster.find("Deployment", name, self.namespace)["metadata"]["annotations"][REVISION]
        release = Release(number, status, [("Deployment", name, revision)], self.namespace,
                          bg_environment="primary" if swap else "stage")
        self.releases.append(release)
        write_history(self.cluster, self.release_name, self.releases, self.namespace, style="managedWorkload")
        return release


def declarative_release(release_name: str, number: int, status: str, manifests: list[dict],
                        identity: Identity = Identity(), namespace: str = "shop") -> dict:
    """One Harness declarative-rollback release Secret (harness.write_declarative_release's body)."""
    labels = {"owner": "harness", "release": release_name, "release-number": str(number), "status": status}
    release = gzip.compress(yaml.safe_dump_all(manifests).encode())
    return {"apiVersion": "v1", "kind": "Secret", "type": "harness.io/release/v2", "metadata": {
        "name": f"harness.release.{release_name}.{number}", "namespace": namespace, "labels": labels,
        "annotations": {"harness.io/service": identity.service_id, "harness.io/env": "prod",
                        "harness.io/infra": identity.infra_id,
                        "harness.io/infra-key": f"{identity.service_id}-{identity.infra_id}"}},
        "data": {"release": base64.b64encode(release).decode()}}


@dataclass
class Ran:
    """One `rollback` through the fake: its outcome (or error), its progress lines, its requests."""

    outcome: object
    error: Exception | None
    progress: list[str]
    requests: list

    @property
    def writes(self) -> list[str]:
        """The writes sent, in order, as `PATCH deployments/web` (access reviews are not writes)."""
        return [r.short for r in self.requests if r.is_write]


def rollback(cluster: FakeCluster, target: str, plan: PlanOptions = PlanOptions(), **options) -> Ran:
    """`rollback TARGET` as the CLI runs it (read, plan, carry out), on the fake's clock (a
    time.sleep only moves it on); the requests of carrying out only (planning reads left out)."""
    kube = cluster.kube()
    planned = commands.run_plan(kube, Target.parse(target), plan)
    first, progress = len(cluster.requests), []
    with mock.patch("time.sleep", cluster.clock.advance):
        try:
            outcome, error = executor.carry_out(
                kube, planned.model, planned.plan, executor.RollbackOptions(**options), progress.append,
                clock=executor.Clock(cluster.clock.now, cluster.clock.monotonic)), None
        except PluginError as exc:
            outcome, error = getattr(exc, "outcome", None), exc
    return Ran(outcome, error, progress, cluster.requests[first:])

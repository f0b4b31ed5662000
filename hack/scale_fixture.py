"""The bench's scale fixture: 500 Deployments of 10 revisions over 20 namespaces, each a release
with a 10-release history ConfigMap, plus 2,000 unrelated 50 KB Secrets.

    python hack/scale_fixture.py [--slow]     (KUBECONFIG names the cluster; hack/bench calls it)

Built once per cluster and reused (a marker ConfigMap says it is complete). By default the
ReplicaSets are written here, in parallel, as the Deployment controller writes them (its field
manager, owner reference, pod-template-hash label and selector, revision and replica
annotations, then its status), while each Deployment is paused; once resumed the controller
takes the newest as current and fills in the Deployment's status and revision. `--slow` applies
the 10 templates in turn and lets the controller make them. On 2 shared cores: 2 minutes against
3 with hack/local-cluster's controller-manager at 500 requests a second; 5 minutes (load average
near 10) against about 20 at client-go's default 20 a second. What `list -A` reads is the same
either way (the same objects, names of the same lengths, sizes within 0.5%); the Deployments'
generation is 2, not 10, and the ReplicaSets' creation times are seconds apart, not minutes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from kubernetes import client as k8s

SCALE_NAMESPACES = 20
SCALE_DEPLOYMENTS = 500
SCALE_REVISIONS = 10
SCALE_SECRETS = 2000
SECRET_BYTES = 50 * 1024
SCALE_MARKER = "khr-scale-fixture"
PREFIX = "khr-scale-"
# Requests in flight while writing ReplicaSets and Secrets: the API server, not this process,
# is the limit on two cores.
WRITERS = 8
CONTROLLER = "kube-controller-manager"  # the field manager the Deployment controller writes as
REVISION = "deployment.kubernetes.io/revision"
# The alphabet of the controller's rand.SafeEncodeString: pod-template-hash values of the same shape.
SAFE = "bcdfghjklmnpqrstvwxz2456789"


def namespaces() -> list[str]:
    return [f"{PREFIX}{n:02d}" for n in range(SCALE_NAMESPACES)]


def _kubectl(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, check=True).stdout


def _apply(items: list[dict]) -> None:
    _kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=khr-bench", "-f", "-",
             stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))


def deployment(ns: str, i: int, revision: int, paused: bool = False) -> dict:
    name, release = f"app-{i:02d}", f"rel-{ns[-2:]}-{i:02d}"
    labels = {"app": name, "harness.io/release-name": release}
    spec = {"replicas": 0, "revisionHistoryLimit": SCALE_REVISIONS + 1, "selector": {"matchLabels": {"app": name}},
            "template": template(name, labels, revision)}
    if paused:
        spec["paused"] = True
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": spec}


def template(name: str, labels: dict, revision: int) -> dict:
    return {"metadata": {"labels": labels},
            "spec": {"containers": [{"name": name, "image": f"registry.example/{name}:{revision}"}]}}


def pod_template_hash(ns: str, name: str, revision: int) -> str:
    """A hash of the controller's shape: its FNV-32a of the template, written as the decimal
    digits of the number mapped onto SAFE (the controller finds a Deployment's ReplicaSet by
    comparing templates, not by this value)."""
    value = 0x811C9DC5
    for byte in f"{ns}/{name}/{revision}".encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(SAFE[ord(digit) % len(SAFE)] for digit in str(value))


def replica_set(owner: dict, revision: int) -> dict:
    """The ReplicaSet the Deployment controller makes for `owner`'s template at `revision`."""
    meta = owner["metadata"]
    name, ns = meta["name"], meta["namespace"]
    hashed = pod_template_hash(ns, name, revision)
    labels = {**owner["spec"]["template"]["metadata"]["labels"], "pod-template-hash": hashed}
    pod = template(name, labels, revision)
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{name}-{hashed}", "namespace": ns, "labels": labels,
                         "annotations": {"deployment.kubernetes.io/desired-replicas": "0",
                                         "deployment.kubernetes.io/max-replicas": "0", REVISION: str(revision)},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                              "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}]},
            "spec": {"replicas": 0, "selector": {"matchLabels": {**owner["spec"]["selector"]["matchLabels"],
                                                                 "pod-template-hash": hashed}},
                     "template": pod}}


def histories() -> list[dict]:
    """Each release's history ConfigMap, in the block style Harness's writer emits."""
    found = []
    for ns in namespaces():
        for i in range(SCALE_DEPLOYMENTS // SCALE_NAMESPACES):
            release = f"rel-{ns[-2:]}-{i:02d}"
            text = "version: v1\nreleases:\n" + "".join(
                f"- number: {n}\n  status: {'Failed' if n == SCALE_REVISIONS else 'Succeeded'}\n  managedWorkloads:\n"
                f"  - workload:\n      kind: Deployment\n      name: app-{i:02d}\n      namespace: {ns}\n"
                f"    revision: '{n}'\n" for n in range(SCALE_REVISIONS, 0, -1))
            found.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": release, "namespace": ns},
                          "data": {"releaseHistory": text}})
    return found


def _ours() -> list[dict]:
    listed = json.loads(_kubectl("get", "deployments", "-A", "-l", "harness.io/release-name", "-o", "json"))
    return [d for d in listed["items"] if d["metadata"]["namespace"].startswith(PREFIX)]


def _wait_for_controller(steady) -> None:
    while True:
        behind = [d for d in _ours() if not steady(d)]
        if not behind:
            return
        time.sleep(2)


def revisions_by_controller() -> None:
    """Apply each template in turn and let the Deployment controller make each ReplicaSet."""
    per_namespace = SCALE_DEPLOYMENTS // SCALE_NAMESPACES
    for revision in range(1, SCALE_REVISIONS + 1):
        _apply([deployment(ns, i, revision) for ns in namespaces() for i in range(per_namespace)])
        # The controller must see each template before the next, or two changes make one revision.
        _wait_for_controller(lambda d: (d.get("status") or {}).get("observedGeneration", 0)
                             >= d["metadata"]["generation"])
        print(f"scale fixture: revision {revision} of {SCALE_DEPLOYMENTS} Deployments applied", file=sys.stderr)


def revisions_written_here(apps: k8s.AppsV1Api) -> None:
    """Write every ReplicaSet as the controller would, while the Deployments are paused (a paused
    Deployment gets no new ReplicaSet), then resume them: the controller takes the ReplicaSet of
    the current template as the newest revision and writes the Deployment's status."""
    per_namespace = SCALE_DEPLOYMENTS // SCALE_NAMESPACES
    _apply([deployment(ns, i, SCALE_REVISIONS, paused=True) for ns in namespaces() for i in range(per_namespace)])
    owners = _ours()

    def write(owner_revision: tuple[dict, int]) -> None:
        owner, revision = owner_revision
        body = replica_set(owner, revision)
        ns = body["metadata"]["namespace"]
        try:
            apps.create_namespaced_replica_set(ns, body, field_manager=CONTROLLER, _preload_content=False)
        except k8s.ApiException as exc:
            if exc.status != 409:  # written by an earlier, interrupted build
                raise
        apps.patch_namespaced_replica_set_status(body["metadata"]["name"], ns, {"status": {"observedGeneration": 1}},
                                                 field_manager=CONTROLLER, _preload_content=False)

    # Revision by revision: creation times increase with the revision, as the controller's do.
    with ThreadPoolExecutor(WRITERS) as pool:
        for revision in range(1, SCALE_REVISIONS + 1):
            list(pool.map(write, [(owner, revision) for owner in owners]))
            print(f"scale fixture: revision {revision} of {len(owners)} Deployments written", file=sys.stderr)
    _apply([deployment(ns, i, SCALE_REVISIONS) for ns in namespaces() for i in range(per_namespace)])
    _wait_for_controller(lambda d: (d.get("status") or {}).get("observedGeneration", 0) >= d["metadata"]["generation"]
                         and (d["metadata"].get("annotations") or {}).get(REVISION) == str(SCALE_REVISIONS))


def scale_fixture(core: k8s.CoreV1Api, slow: bool = False) -> None:
    """Create the scale fixture, or reuse it."""
    try:
        marker = core.read_namespaced_config_map(SCALE_MARKER, namespaces()[0])
        if (marker.data or {}).get("complete") == "true":
            print("scale fixture: reused", file=sys.stderr)
            return
    except k8s.ApiException:
        pass
    started = time.monotonic()
    _apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in namespaces()])
    if slow:
        revisions_by_controller()
    else:
        revisions_written_here(k8s.AppsV1Api(core.api_client))
    _apply(histories())
    filler = "eHh4" * (SECRET_BYTES // 3)  # base64 of 50 KB
    secrets = [[{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"unrelated-{n:03d}", "namespace": ns},
                 "type": "Opaque", "data": {"blob": filler}} for n in range(SCALE_SECRETS // SCALE_NAMESPACES)]
               for ns in namespaces()]
    with ThreadPoolExecutor(4) as pool:  # a kubectl apply per namespace, a few at once
        list(pool.map(_apply, secrets))
    core.create_namespaced_config_map(namespaces()[0], k8s.V1ConfigMap(
        metadata=k8s.V1ObjectMeta(name=SCALE_MARKER), data={"complete": "true"}))
    print(f"scale fixture: created in {time.monotonic() - started:.0f}s", file=sys.stderr)


def main() -> None:
    from kubernetes import config as k8s_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", action="store_true", help="let the controller make the ReplicaSets (about 20 min)")
    options = parser.parse_args()
    configuration = k8s.Configuration()
    k8s_config.load_kube_config(client_configuration=configuration)
    configuration.connection_pool_maxsize = WRITERS
    scale_fixture(k8s.CoreV1Api(k8s.ApiClient(configuration)), options.slow)


if __name__ == "__main__":
    main()

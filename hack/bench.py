"""Benchmark: what reading and planning a release costs as its history grows.

Prints, for releases with N revisions: API requests, wall time of read+plan (median of 5), and
the peak Python memory of one read; then the resident memory of the control plane. Figures, not
assertions: run it on a quiet machine (hack/bench starts the local cluster first).
"""

import os
import statistics
import subprocess
import sys
import time
import tracemalloc
import uuid

from kubernetes import client as k8s
from kubernetes import config as k8s_config

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from kubectl_harness_rollback.cluster.client import connect
from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags
from kubectl_harness_rollback.planner import PlanOptions, plan
from kubectl_harness_rollback.reader import Target, read_release
from tests.support.harness import HarnessRollingDeployer

SIZES = [int(n) for n in os.environ.get("KHR_BENCH_SIZES", "2 10 25").split()]


def build(apps, core, namespace, revisions):
    deployer = HarnessRollingDeployer(apps, core, namespace, name=f"web{revisions}", release_name=f"rel-{revisions}")
    for i in range(revisions):
        deployer.deploy(f"registry.example/web:{i}", status="Failed" if i == revisions - 1 else "Succeeded")
        if i == 0:
            apps.patch_namespaced_deployment(deployer.name, namespace, {"spec": {"revisionHistoryLimit": 100}})


def main():
    api = k8s_config.new_client_from_config()
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    namespace = f"khr-bench-{uuid.uuid4().hex[:5]}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)))
    try:
        print(f"{'revisions':>9}  {'requests':>8}  {'read+plan ms (median of 5)':>26}  {'peak KiB':>8}")
        for size in SIZES:
            build(apps, core, namespace, size)
            timings, requests = [], 0
            for _ in range(5):
                kube = connect(ConnectionFlags(namespace=namespace))
                start = time.perf_counter()
                plan(read_release(kube, namespace, Target(release_name=f"rel-{size}")), PlanOptions())
                timings.append((time.perf_counter() - start) * 1000)
                requests = len(kube.requests)
            kube = connect(ConnectionFlags(namespace=namespace))
            tracemalloc.start()
            read_release(kube, namespace, Target(release_name=f"rel-{size}"))
            peak = tracemalloc.get_traced_memory()[1] / 1024
            tracemalloc.stop()
            print(f"{size:>9}  {requests:>8}  {statistics.median(timings):>26.1f}  {peak:>8.0f}")
    finally:
        core.delete_namespace(namespace)
    rss = subprocess.run(["ps", "-eo", "rss,comm"], capture_output=True, text=True).stdout.splitlines()
    parts = [line.split(None, 1) for line in rss[1:]]
    plane = [(int(kib), name) for kib, name in parts if any(k in name for k in ("etcd", "kube-", "kwok"))]
    for kib, name in sorted(plane, reverse=True):
        print(f"control plane {name:<18} {kib / 1024:7.0f} MiB RSS")
    print(f"control plane total              {sum(k for k, _ in plane) / 1024:7.0f} MiB RSS")


if __name__ == "__main__":
    main()

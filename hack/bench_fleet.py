"""Benchmark: many clusters. `list --all-contexts` and `rollback --all-contexts` over three real
clusters, and over 30 contexts pointing at them (each context its own namespace, so that every
context has its own release to roll back), next to the slowest single-cluster run and the sum of
the single runs: the wall time of a fleet run should be close to the slowest, not the sum.

Each figure is the median of KHR_BENCH_RUNS runs (default 3) of the installed console script, as
a user runs it (start-up included). Started by `hack/bench --fleet`; figures, not assertions.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from kubernetes import client as k8s
from kubernetes import config as k8s_config

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tests.support import cluster
from tests.support.fleet import fleet_kubeconfig
from tests.support.harness import HarnessRollingDeployer

RUNS = int(os.environ.get("KHR_BENCH_RUNS", "3"))
RELEASE = "release-infra-prod"
PLUGIN = shutil.which("kubectl-harness_rollback")


class Context:
    """One context: a cluster (number), a namespace there, its deployer (to fail a release again)."""

    def __init__(self, name, number, api, namespace):
        self.name, self.number, self.namespace = name, number, namespace
        core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
        core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)))
        self.core = core
        self.deployer = HarnessRollingDeployer(apps, core, namespace)

    def fail_again(self):
        """A new failed release (the first time: two good ones before it)."""
        if not self.deployer.releases:
            self.deployer.deploy("registry.example/web:1")
            self.deployer.deploy("registry.example/web:2")
        self.deployer.deploy("registry.example/web:3", status="Failed")


def run(kubeconfig, *args):
    """Seconds one run of the plugin takes (it must succeed)."""
    start = time.perf_counter()
    done = subprocess.run([PLUGIN, *args, "--kubeconfig", kubeconfig], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return seconds


def median_of(measure, prepare=None):
    timings = []
    for _ in range(RUNS):
        if prepare:
            prepare()
        timings.append(measure())
    return statistics.median(timings)


def fail_everywhere(contexts):
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(Context.fail_again, contexts))


def report(what, count, fleet_seconds, single):
    """single: the median single-context run of each context."""
    print(f"{what:<22} {count:>3} contexts  fleet {fleet_seconds:6.2f} s   slowest single {max(single):6.2f} s   "
          f"sum of singles {sum(single):7.2f} s")


def bench(label, names_to_cluster, clusters, tmp):
    """Contexts NAME -> cluster number, each with a namespace of its own."""
    apis = [k8s_config.new_client_from_config(config_file=c.kubeconfig) for c in clusters]
    contexts = [Context(name, number, apis[number], f"khr-bench-{uuid.uuid4().hex[:6]}")
                for name, number in names_to_cluster.items()]
    kubeconfig = fleet_kubeconfig(os.path.join(tmp, label), clusters, names_to_cluster,
                                  {c.name: c.namespace for c in contexts})
    first = contexts[:3]  # one context per cluster: the single-cluster runs
    try:
        fail_everywhere(contexts)
        single = {c.number: median_of(lambda c=c: run(kubeconfig, "list", "--context", c.name)) for c in first}
        fleet = median_of(lambda: run(kubeconfig, "list", "--all-contexts"))
        report("list", len(contexts), fleet, [single[c.number] for c in contexts])
        single = {c.number: median_of(lambda c=c: run(kubeconfig, "rollback", RELEASE, "--context", c.name),
                                      prepare=c.fail_again) for c in first}
        fleet = median_of(lambda: run(kubeconfig, "rollback", RELEASE, "--all-contexts"),
                          prepare=lambda: fail_everywhere(contexts))
        report("rollback", len(contexts), fleet, [single[c.number] for c in contexts])
        if len(contexts) > 8:  # the default --max-parallel
            wide = median_of(lambda: run(kubeconfig, "rollback", RELEASE, "--all-contexts", "--max-parallel",
                                         str(len(contexts))), prepare=lambda: fail_everywhere(contexts))
            report(f"  --max-parallel {len(contexts)}", len(contexts), wide, [single[c.number] for c in contexts])
    finally:
        for c in contexts:
            c.core.delete_namespace(c.namespace)


def main():
    assert PLUGIN, "the console script kubectl-harness_rollback is not installed (hack/bench installs it)"
    clusters = [cluster.start(), *cluster.start_extra()]
    print(f"median of {RUNS} runs of the console script; each context has a release to roll back")
    with tempfile.TemporaryDirectory() as tmp:
        bench("three", {f"fleet-{n}": n for n in range(3)}, clusters, tmp)
        bench("thirty", {f"fleet-{n:02}": n % 3 for n in range(30)}, clusters, tmp)


if __name__ == "__main__":
    main()

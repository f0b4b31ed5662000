"""Benchmark, side by side: each plugin command and kubectl's counterpart, in turn, on one cluster.

    hack/bench --side-by-side [--plugin PATH] [--runs N] [--skip-scale]

Prints, per row, the median wall time of N runs (10 by default) of the plugin and of kubectl,
their ratio, the plugin's peak resident memory, and the API requests the plugin's library makes
for the same work (counted in process). Rows: `--help` and `version` (against `kubectl version
--client`), `plan`, `history`, `list -n`, completion of a release name, `rollback` to steady,
and `list -A` on the scale fixture: 500 Deployments with 10 revisions each (5,000 ReplicaSets)
over 20 namespaces, each a release with a history ConfigMap, plus 2,000 unrelated 50 KB Secrets.
The fixture is created once (a few minutes) and reused. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, REPO)

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from tests.support.harness import HarnessRollingDeployer

SCALE_NAMESPACES = 20
SCALE_DEPLOYMENTS = 500
SCALE_REVISIONS = 10
SCALE_SECRETS = 2000
SECRET_BYTES = 50 * 1024
SCALE_MARKER = "khr-scale-fixture"


def timed(argv: list[str], env: dict) -> tuple[float, int, int]:
    """(seconds, exit code, peak RSS KiB) of one run; output discarded. GNU time reports the peak
    of the command alone (a child forked from this process would count this process's memory)."""
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        code = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, *argv], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=env).returncode
        seconds = time.perf_counter() - start
        lines = report.read().split()
    return seconds, code, int(lines[-1]) if lines and lines[-1].isdigit() else 0


def median_of(runs: int, argv_or_steps, env: dict, before=None) -> tuple[float, int]:
    """(median seconds, max peak RSS KiB) of `runs` runs; `before()` prepares each run untimed.
    A list of argvs is run one after the other and timed as one (kubectl undo + status)."""
    times, peaks = [], []
    steps = argv_or_steps if isinstance(argv_or_steps[0], list) else [argv_or_steps]
    for _ in range(runs):
        if before:
            before()
        total, peak = 0.0, 0
        for argv in steps:
            seconds, code, rss = timed(argv, env)
            if code != 0:
                raise SystemExit(f"{' '.join(argv)} exited {code}")
            total, peak = total + seconds, max(peak, rss)
        times.append(total)
        peaks.append(peak)
    return statistics.median(times), max(peaks)


def _interpreter(executable: str) -> list[str]:
    """How to run `executable` under -X importtime: its shebang's interpreter (a console script,
    the zipapp), else the executable itself."""
    with open(executable, "rb") as handle:
        first = handle.readline().decode(errors="replace").strip()
    if first.startswith("#!"):
        return first[2:].split() + [executable]
    return [executable]


def import_group(module: str) -> str:
    """The top-level module an import is charged to: the package (click, yaml, ssl), or for the
    plugin its subpackage or top module (kubectl_harness_rollback.cluster)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "kubectl_harness_rollback" else parts[0]


def import_profile(argv: list[str], env: dict, runs: int = 5) -> dict[str, float]:
    """Milliseconds of import per top-level module a command loads (`python -X importtime`,
    self times summed per group, the median of `runs` runs); "total" is their sum."""
    command = _interpreter(argv[0])
    command = command[:1] + ["-X", "importtime"] + command[1:] + argv[1:]
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        groups: dict[str, float] = {}
        for line in done.stderr.splitlines():
            if line.startswith("import time:") and "|" in line and "self [us]" not in line:
                own, _, name = line[len("import time:"):].split("|")
                groups[import_group(name.strip())] = groups.get(import_group(name.strip()), 0) + int(own) / 1000
        groups["total"] = sum(groups.values())
        for name, ms in groups.items():
            samples.setdefault(name, []).append(ms)
    return {name: statistics.median(values + [0.0] * (runs - len(values))) for name, values in samples.items()}


def print_import_profiles(profiles: dict[str, dict[str, float]], top: int = 12) -> None:
    """One line per command: its import total, then its heaviest top-level modules."""
    print("\nimport time per top-level module (python -X importtime, self times summed, median ms):")
    for name, groups in profiles.items():
        heaviest = sorted(((ms, group) for group, ms in groups.items() if group != "total"), reverse=True)[:top]
        print(f"- `{name}`: {groups['total']:.1f} ms: " + ", ".join(f"{group} {ms:.1f}" for ms, group in heaviest))


def startup_rows(row, plugin: list[str], completer: list[str], namespace: str, release: str, env: dict,
                 runs: int) -> dict[str, dict[str, float]]:
    """The start-up rows (`status`, completion against kubectl's of a Deployment name), and the
    import profile of each read and completion."""
    from kubectl_harness_rollback.cluster.rest import NAMESPACES
    from kubectl_harness_rollback.reader import Target, read_release

    ns = ["-n", namespace]
    row(f"status {release}", plugin + ["status", release] + ns, ["kubectl", "rollout", "status", "deploy/web"] + ns,
        requests_of(lambda kube: read_release(kube, namespace, Target(release_name=release))))
    row("completion of a release (kubectl: get deploy '')", completer + ["plan"] + ns + [""],
        ["kubectl", "__complete", "get", "deploy"] + ns + [""])
    row("completion of a namespace", completer + ["plan", "-n", "khr-b"],
        ["kubectl", "__complete", "get", "deploy"] + ns + [""],
        requests_of(lambda kube: kube.list(NAMESPACES, metadata_only=True)))
    commands = {"plan": plugin + ["plan", release] + ns, "history": plugin + ["history", release] + ns,
                "status": plugin + ["status", release] + ns, "list -n": plugin + ["list"] + ns,
                "completion of a release": completer + ["plan"] + ns + [""],
                "completion of a namespace": completer + ["plan", "-n", "khr-b"]}
    return {name: import_profile(argv, env, min(runs, 5)) for name, argv in commands.items()}


def requests_of(work) -> int:
    from kubectl_harness_rollback.cluster.client import connect
    from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags

    kube = connect(ConnectionFlags())
    work(kube)
    return len(kube.requests)


def _kubectl(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, check=True).stdout


def scale_histories(namespaces: list[str]) -> list[dict]:
    """Each release's history ConfigMap, in the block style Harness's writer emits."""
    histories = []
    for ns in namespaces:
        for i in range(SCALE_DEPLOYMENTS // SCALE_NAMESPACES):
            release = f"rel-{ns[-2:]}-{i:02d}"
            text = "version: v1\nreleases:\n" + "".join(
                f"- number: {n}\n  status: {'Failed' if n == SCALE_REVISIONS else 'Succeeded'}\n  managedWorkloads:\n"
                f"  - workload:\n      kind: Deployment\n      name: app-{i:02d}\n      namespace: {ns}\n"
                f"    revision: '{n}'\n" for n in range(SCALE_REVISIONS, 0, -1))
            histories.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": release, "namespace": ns},
                              "data": {"releaseHistory": text}})
    return histories


def scale_fixture(core) -> None:
    """Create the scale fixture with server-side apply, or reuse it."""
    namespaces = [f"khr-scale-{n:02d}" for n in range(SCALE_NAMESPACES)]
    try:
        marker = core.read_namespaced_config_map(SCALE_MARKER, namespaces[0])
        if (marker.data or {}).get("complete") == "true":
            print("scale fixture: reused", file=sys.stderr)
            return
    except k8s.ApiException:
        pass
    started = time.monotonic()
    per_namespace = SCALE_DEPLOYMENTS // SCALE_NAMESPACES

    def apply(items: list[dict]) -> None:
        _kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=khr-bench", "-f", "-",
                 stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))

    apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in namespaces])
    for revision in range(1, SCALE_REVISIONS + 1):
        items = []
        for ns in namespaces:
            for i in range(per_namespace):
                name, release = f"app-{i:02d}", f"rel-{ns[-2:]}-{i:02d}"
                labels = {"app": name, "harness.io/release-name": release}
                items.append({"apiVersion": "apps/v1", "kind": "Deployment",
                              "metadata": {"name": name, "namespace": ns, "labels": labels},
                              "spec": {"replicas": 0, "revisionHistoryLimit": SCALE_REVISIONS + 1,
                                       "selector": {"matchLabels": {"app": name}},
                                       "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                                           {"name": name, "image": f"registry.example/{name}:{revision}"}]}}}})
        apply(items)
        # The controller must see each template before the next, or two changes make one revision.
        while True:
            listed = json.loads(_kubectl("get", "deployments", "-A", "-l", "harness.io/release-name", "-o", "json"))
            behind = [d for d in listed["items"] if d["metadata"]["namespace"].startswith("khr-scale-")
                      and (d.get("status") or {}).get("observedGeneration", 0) < d["metadata"]["generation"]]
            if not behind:
                break
            time.sleep(2)
        print(f"scale fixture: revision {revision} of {SCALE_DEPLOYMENTS} Deployments applied", file=sys.stderr)
    histories = scale_histories(namespaces)
    apply(histories)
    filler = "eHh4" * (SECRET_BYTES // 3)  # base64 of 50 KB
    for ns in namespaces:
        apply([{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"unrelated-{n:03d}", "namespace": ns},
                "type": "Opaque", "data": {"blob": filler}} for n in range(SCALE_SECRETS // SCALE_NAMESPACES)])
    core.create_namespaced_config_map(namespaces[0], k8s.V1ConfigMap(
        metadata=k8s.V1ObjectMeta(name=SCALE_MARKER), data={"complete": "true"}))
    print(f"scale fixture: created in {time.monotonic() - started:.0f}s", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plugin", default=shutil.which("kubectl-harness_rollback"),
                        help="the plugin executable (default: the one on PATH)")
    parser.add_argument("--completer", default=None, help="kubectl_complete-harness_rollback (default: next to it)")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("KHR_BENCH_RUNS", "10")))
    parser.add_argument("--skip-scale", action="store_true", help="leave out the scale fixture's row")
    options = parser.parse_args()
    plugin = [options.plugin]
    completer = [options.completer or os.path.join(os.path.dirname(options.plugin),
                                                   "kubectl_complete-harness_rollback")]
    api = k8s_config.new_client_from_config()
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    namespace = f"khr-bench-{uuid.uuid4().hex[:5]}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)))
    rows = []
    try:
        deployer = HarnessRollingDeployer(apps, core, namespace)
        for n, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
            deployer.deploy(f"registry.example/web:{n}", status=status)
        release, ns = deployer.release_name, ["-n", namespace]
        timed(plugin + ["version"], env)  # a zipapp's first run extracts itself: not measured
        from kubectl_harness_rollback.listing import read_catalog
        from kubectl_harness_rollback.reader import Target, read_release

        def row(name, ours, theirs, requests=None, before=None):
            mine, peak = median_of(options.runs, ours, env, before)
            kubectl, _ = median_of(options.runs, theirs, env, before)
            rows.append((name, mine, kubectl, peak, requests))
            print(f"{name:<28} {mine:7.3f}s {kubectl:7.3f}s {mine / kubectl:6.1f}x {peak / 1024:7.0f} MiB "
                  f"{'' if requests is None else requests:>5}", file=sys.stderr)

        read = lambda kube: read_release(kube, namespace, Target(release_name=release))
        row("--help", plugin + ["--help"], ["kubectl", "version", "--client"])
        row("version", plugin + ["version"], ["kubectl", "version", "--client"])
        row(f"plan {release}", plugin + ["plan", release] + ns,
            ["kubectl", "rollout", "history", "deploy/web"] + ns, requests_of(read))
        row(f"history {release}", plugin + ["history", release] + ns,
            ["kubectl", "rollout", "history", "deploy/web"] + ns, requests_of(read))
        row("list -n", plugin + ["list"] + ns, ["kubectl", "get", "deploy"] + ns,
            requests_of(lambda kube: read_catalog(kube, namespace)))
        # The last word is the one being completed.
        row("completion of a release", completer + ["plan"] + ns + ["rel"],
            ["kubectl", "__complete", "rollout", "history"] + ns + ["deploy/"],
            requests_of(lambda kube: read_catalog(kube, namespace, live=False)))  # as completion.py reads
        profiles = startup_rows(row, plugin, completer, namespace, release, env, options.runs)
        counter = {"n": 3}

        def fail_again():
            counter["n"] += 1
            deployer.deploy(f"registry.example/web:{counter['n']}", status="Failed")

        row("rollback to steady", plugin + ["rollback", release] + ns,
            [["kubectl", "rollout", "undo", "deploy/web"] + ns, ["kubectl", "rollout", "status", "deploy/web"] + ns],
            before=fail_again)
        if not options.skip_scale:
            scale_fixture(core)
            row("list -A (scale fixture)", plugin + ["list", "-A"], ["kubectl", "get", "deploy", "-A"],
                requests_of(lambda kube: read_catalog(kube, None)))
    finally:
        core.delete_namespace(namespace)
    print_import_profiles(profiles)
    print(f"\nplugin: {options.plugin}; medians of {options.runs} runs; kubectl {_kubectl('version', '--client')}")
    print("| command | plugin | kubectl's counterpart | ratio | plugin peak RSS | plugin requests |")
    print("|---|---|---|---|---|---|")
    for name, mine, kubectl, peak, requests in rows:
        print(f"| `{name}` | {mine:.3f} s | {kubectl:.3f} s | {mine / kubectl:.1f}x | {peak / 1024:.0f} MiB | "
              f"{'' if requests is None else requests} |")


if __name__ == "__main__":
    main()

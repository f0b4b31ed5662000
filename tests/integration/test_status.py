"""`status`, and what `list` and `history` say is live: the on-call engineer's questions — which
release is serving, since when, is it steady, who rolled back what — answered from the cluster.

The releases' pods behave as real ones do (tests/support/pod_behavior.py): a rollout that stalls,
one that becomes ready only after a delay, one that never does.
"""

import json
import re
import time

import pytest

from kubectl_harness_rollback.cluster.client import connect
from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags
from kubectl_harness_rollback.listing import read_catalog
from tests.support import request_log
from tests.support.harness import COLOR, HarnessRollingDeployer, Identity
from tests.support.pod_behavior import (
    CRASH_LOOP,
    NEVER_READY,
    READY_AFTER_DELAY,
    BehaviorBlueGreenDeployer,
    BehaviorDeployer,
)

RELEASE = "release-infra-prod"


# Every test here fails at once, with the fix, on a cluster without the failure stages.
pytestmark = pytest.mark.usefixtures("failure_stages")


def status_json(plugin, namespace, *args, check_exit):
    return json.loads(plugin("status", RELEASE, "-n", namespace, "-o", "json", *args, check_exit=check_exit).stdout)


def but_since(table: str) -> list[list[str]]:
    """The rows of a `list` table without the ages (SINCE, "rolled back by X 2s ago"), which move
    on with the clock."""
    return [[cell for cell in line.split() if not re.fullmatch(r"\d+[smhdy](\d+[smh])?", cell)]
            for line in table.splitlines()]


def test_rolling_release_before_and_after_a_rollback(apps, core, namespace, plugin):
    deployer = BehaviorDeployer(apps, core, namespace)
    deployer.deploy_version("1")
    deployer.deploy_version("2")
    deployer.deploy_version("3", CRASH_LOOP, status="Failed")  # the controller gave up on it

    stalled = plugin("status", RELEASE, "-n", namespace, check_exit=4)
    assert "Live:      release 3\n" in stalled.stdout
    assert 'error: release release-infra-prod is not steady: deployment/web: deployment "web" exceeded its ' \
           "progress deadline" in stalled.stderr
    listed = plugin("list", "-n", namespace, check_exit=0).stdout
    table = listed.splitlines()
    assert table[0].split() == ["RELEASE", "LATEST", "STATUS", "LIVE", "SINCE", "STEADY", "ACTION"]
    assert table[1].split()[:4] == [RELEASE, "3", "Failed", "3"] and table[1].endswith(" no       needs rollback")
    assert max(len(line) for line in table) <= 120
    wide = plugin("list", "-n", namespace, "-o", "wide", check_exit=0).stdout.splitlines()
    assert wide[1].split()[3:5] == ["deployment/web", f"configmap/{RELEASE}"]
    # The failed release is not steady: --not-steady keeps it, and `status` of every release says so.
    assert but_since(plugin("list", "-n", namespace, "--not-steady", check_exit=0).stdout) == but_since(listed)
    assert but_since(plugin("status", "-n", namespace, check_exit=4).stdout) == but_since(listed)
    every = json.loads(plugin("status", "-A", "--not-steady", "-o", "json", check_exit=4).stdout)
    assert [(r["release"], r["steady"], r["action"]) for r in every if r["namespace"] == namespace] == [
        (RELEASE, False, "needs rollback")]
    assert status_json(plugin, namespace, check_exit=4)["action"] == "needs rollback"

    plugin("rollback", RELEASE, "-n", namespace, "--timeout", "2m", check_exit=0)

    view = status_json(plugin, namespace, check_exit=0)
    assert view["steady"] is True and view["liveReleases"] == [2]
    [web] = view["workloads"]
    assert (web["name"], web["release"], web["revision"], web["steady"]) == ("web", 2, 4, True)
    rollback = view["lastRollback"]
    assert (rollback["fromRelease"], rollback["toRelease"]) == (3, 2) and rollback["by"]
    assert web["since"] == rollback["at"]
    text = plugin("status", RELEASE, "-n", namespace, check_exit=0).stdout
    assert f"Rollback:  rolled back by {rollback['by']} at {rollback['at']}, 3 → 2\n" in text
    assert re.search(rf"^Action:    rolled back by {re.escape(rollback['by'])} \S+ ago$", text, re.M)
    assert view["action"] == "rolled back"
    assert 'deployment "web" successfully rolled out' in plugin("status", RELEASE, "-n", namespace, "-o", "wide",
                                                                check_exit=0).stdout

    history = json.loads(plugin("history", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(r["number"], r["status"], r["live"]) for r in history] == [
        (3, "Failed", False), (2, "Succeeded", True), (1, "Succeeded", False)]
    assert history[1]["rolledBack"] == rollback and all(r["updated"] for r in history)
    # The ReplicaSets' creation times: release 1's is the oldest, 3's the newest.
    assert history[2]["updated"] <= history[1]["updated"] <= history[0]["updated"]
    lines = plugin("history", RELEASE, "-n", namespace, check_exit=0).stdout.splitlines()
    assert lines[0].split()[-2:] == ["AGE", "LIVE"]
    assert lines[2].startswith("2 ") and lines[2].endswith(f"* (rolled back by {rollback['by']} at "
                                                           f"{rollback['at']}, 3 → 2)")
    assert not lines[1].endswith("*") and not lines[3].endswith("*")

    [row] = json.loads(plugin("list", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert (row["latest"], row["status"], row["liveReleases"], row["lastRollback"]) == (3, "Failed", [2], rollback)
    assert [(w["name"], w["release"], w["revision"]) for w in row["live"]] == [("web", 2, 4)]
    assert (row["steady"], row["action"]) == (True, "rolled back")
    listed = plugin("list", "-n", namespace, check_exit=0).stdout.splitlines()[1]
    assert listed.split()[:4] == [RELEASE, "3", "Failed", "2"]
    assert re.search(rf" yes +rolled back by {re.escape(rollback['by'])} \S+ ago$", listed), listed
    wide = plugin("list", "-n", namespace, "-o", "wide", check_exit=0).stdout.splitlines()[1]
    assert f" 2 (rolled back by {rollback['by']} at {rollback['at']}, 3 → 2) " in wide
    # Steady again: --not-steady leaves it out, and `status` of the namespace exits 0.
    quiet = plugin("list", "-n", namespace, "--not-steady", check_exit=0)
    assert quiet.stdout == "" and quiet.stderr == f"No releases that are not steady found in namespace {namespace}.\n"
    assert but_since(plugin("status", "-n", namespace, check_exit=0).stdout)[1] == but_since(listed)[0]


def test_blue_green_status_says_which_release_primary_routes(apps, core, namespace, plugin):
    deployer = BehaviorBlueGreenDeployer(apps, core, namespace)
    deployer.create_services()
    deployer.deploy_version("blue", "1")  # primary routes blue
    deployer.deploy_version("green", "2", status="Failed")  # swapped: primary routes green
    assert deployer.selectors()[0][COLOR] == "green"

    def status():
        return json.loads(plugin("status", "release-bg", "-n", namespace, "-o", "json", check_exit=0).stdout)

    before = status()
    assert before["primary"] == {"service": "shop", "stage": "shop-stage", "color": "green", "release": 2}
    assert [(w["name"], w["color"], w["release"]) for w in before["workloads"]] == [
        ("shop-blue", "blue", 1), ("shop-green", "green", 2)]
    assert before["liveReleases"] == [2, 1]
    assert before["action"] == "needs rollback"  # the primary routes the failed release

    def listed_action():
        rows = json.loads(plugin("list", "-n", namespace, "-o", "json", check_exit=0).stdout)
        return [(row["release"], row["action"]) for row in rows]

    assert listed_action() == [("release-bg", "needs rollback")]

    plugin("rollback", "release-bg", "-n", namespace, "--from-release", "2", check_exit=0)
    after = status()
    assert after["primary"] == {"service": "shop", "stage": "shop-stage", "color": "blue", "release": 1}
    # The failed color still runs, as stage: what the primary routes decides, and the swap-back the
    # primary Service records is the rollback (who and when).
    assert after["action"] == "rolled back" and after["swapBack"]["by"]
    assert listed_action() == [("release-bg", "rolled back")]  # list reads the Services too
    text = plugin("status", "release-bg", "-n", namespace, check_exit=0).stdout
    assert re.search(rf"^Action:    rolled back by {re.escape(after['swapBack']['by'])} \S+ ago$", text, re.M), text
    text = plugin("status", "release-bg", "-n", namespace, check_exit=0).stdout
    assert "Primary:   service/shop routes blue: release 1\n" in text


def test_not_steady_exits_4_at_the_timeout(apps, core, namespace, plugin):
    # A progress deadline far away: the controller does not give up; only --timeout ends the wait.
    deployer = BehaviorDeployer(apps, core, namespace, progress_deadline_seconds=600)
    deployer.deploy_version("1")
    deployer.apply(deployer.body("2", NEVER_READY, Identity(), 2))  # not recorded: no release is live

    started = time.monotonic()
    done = plugin("status", RELEASE, "-n", namespace, "--timeout", "4s", check_exit=4)
    elapsed = time.monotonic() - started
    assert 4 <= elapsed < 20, elapsed
    assert "STEADY" in done.stdout and done.stdout.splitlines()[-1].split()[5] == "no"  # ... SINCE STEADY
    assert "error: release release-infra-prod is not steady: deployment/web: Waiting for deployment \"web\" " \
           "rollout to finish" in done.stderr
    # Without --timeout it looks once.
    started = time.monotonic()
    plugin("status", RELEASE, "-n", namespace, check_exit=4)
    assert time.monotonic() - started < 10


def test_watch_prints_each_change_until_steady(apps, core, namespace, plugin):
    deployer = BehaviorDeployer(apps, core, namespace, ready_after=6)
    deployer.deploy_version("1")
    deployer.apply(deployer.body("2", READY_AFTER_DELAY, Identity(), 2))

    done = plugin("status", RELEASE, "-n", namespace, "--watch", "--timeout", "90s", check_exit=0)
    tables = [line for line in done.stdout.splitlines() if line.startswith("deployment/web ")]
    assert len(tables) >= 2, done.stdout
    # WORKLOAD RELEASE REVISION IMAGES SINCE STEADY
    assert tables[0].split()[5] == "no" and tables[-1].split()[5] == "yes"



def test_list_reads_what_is_live_with_one_list_per_kind(apps, core, namespace, test_cluster):
    def requests_to_list(releases):
        for n in range(releases):
            deployer = HarnessRollingDeployer(apps, core, namespace, name=f"web{n}", release_name=f"rel-{n}")
            deployer.deploy("registry.example/web:1")
            deployer.deploy("registry.example/web:2")
        kube = connect(ConnectionFlags(namespace=namespace), env={"KUBECONFIG": test_cluster.kubeconfig})
        rows, _ = read_catalog(kube, namespace)
        assert {row["release"]: row["liveReleases"] for row in rows} == {f"rel-{n}": [2] for n in range(releases)}
        return kube.requests

    one, three = requests_to_list(1), requests_to_list(3)
    # One list per kind (Deployments, StatefulSets, DaemonSets; ConfigMaps and Secrets as metadata;
    # ReplicaSets and ControllerRevisions), then one read of each release's history: what is live
    # costs no request per workload or per revision.
    assert (len(one), len(three)) == (7 + 1, 7 + 3)
    assert {method for method, _ in three} == {"GET"}


def test_watch_reads_the_release_again_only_when_what_it_shows_changes(apps, core, namespace, test_cluster):
    """`status --watch` follows the release with watches: another release's changes in the same
    namespace cost no read; a change to one of its workloads costs one."""
    import threading

    from kubectl_harness_rollback import status
    from kubectl_harness_rollback.cluster.rest import CONFIGMAPS
    from kubectl_harness_rollback.reader import Target, read_release
    from kubectl_harness_rollback.status_watch import Changes

    deployer = BehaviorDeployer(apps, core, namespace)
    deployer.deploy_version("1")
    deployer.deploy_version("2", NEVER_READY, status="Failed")  # the controller gave up: not steady, and quiet
    HarnessRollingDeployer(apps, core, namespace, name="other", release_name="rel-other").deploy(
        "registry.example/other:1")
    kube = connect(ConnectionFlags(namespace=namespace), env={"KUBECONFIG": test_cluster.kubeconfig})
    history = ("GET", CONFIGMAPS.path(namespace, RELEASE))

    def reads() -> int:
        return kube.requests.count(history)

    reads_before_web = []

    def meanwhile():
        for n in range(4):  # another release in the namespace changes, 4 times in 2 s
            apps.patch_namespaced_deployment("other", namespace, {"metadata": {"annotations": {"n": str(n)}}})
            time.sleep(0.5)
        reads_before_web.append(reads())
        apps.patch_namespaced_deployment("web", namespace, {"metadata": {"annotations": {"seen": "yes"}}})

    changes = Changes(kube)
    other_writer = threading.Thread(target=meanwhile)
    other_writer.start()
    try:
        view = status.watch(lambda: read_release(kube, namespace, Target.parse(RELEASE)), 5.0, lambda view: None,
                            every=True, changed=changes.wait)
    finally:
        changes.close()
        other_writer.join()
    assert not view["steady"]
    assert reads_before_web == [1]  # re-reading every second, it would have read 3 times by then
    # web's change, and the controller's answers to it (it copies web's annotations to its
    # ReplicaSets, then writes their status), each read once unless they come together: on a busy
    # control plane (other tests beside this one) they come apart. Reading once a second would
    # have made 6 reads in the 5 s; reads_before_web above already shows it did not.
    assert 2 <= reads() <= 5, kube.requests
    watches = [sent for sent in kube.requests if "watch=1" in sent.query]
    # One watch per collection that holds what it shows: Deployments and their ReplicaSets.
    assert sorted(path for _, path in watches) == [f"/apis/apps/v1/namespaces/{namespace}/deployments",
                                                   f"/apis/apps/v1/namespaces/{namespace}/replicasets"]
    per_read = next(n for n, sent in enumerate(kube.requests) if "watch=1" in sent.query)  # the first read's
    assert len(kube.requests) == reads() * per_read + len(watches)  # nothing else: no polling


def test_list_all_namespaces_makes_as_many_requests_however_many_replica_sets(apps, core, namespace, test_cluster):
    """ReplicaSets are listed as metadata only, once for the cluster: more revisions add no
    request, and no ReplicaSet of a Deployment is read in full."""
    deployer = HarnessRollingDeployer(apps, core, namespace)

    def requests_of_list_all():
        kube = connect(ConnectionFlags(), env={"KUBECONFIG": test_cluster.kubeconfig})
        rows, _ = read_catalog(kube, None)
        [row] = [r for r in rows if r["namespace"] == namespace]
        return row, request_log.about(kube.requests, namespace)

    deployer.deploy("registry.example/web:1")
    _, few = requests_of_list_all()
    for n in range(2, 7):
        deployer.deploy(f"registry.example/web:{n}")
    row, many = requests_of_list_all()
    assert (row["latest"], row["liveReleases"]) == (6, [6])
    assert many == few and len(many) == 8
    replica_sets = [sent for sent in many if sent[1].endswith("/replicasets")]
    assert replica_sets == [("GET", "/apis/apps/v1/replicasets")] and replica_sets[0].metadata_only

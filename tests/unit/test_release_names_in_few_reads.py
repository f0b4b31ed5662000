"""Completion's read of a namespace's release names (listing.read_catalog without what is live):
the rows `list` reads for them, from fewer requests. Against objects in memory answered as the API
server answers (tests/unit/test_list_at_scale.py's Cluster)."""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from kubectl_harness_rollback import listing
from kubectl_harness_rollback.cluster.rest import Rest
from kubectl_harness_rollback.reader import NotFound
from tests.unit.test_list_at_scale import Cluster, add_a_bare_replica_set_release, fleet


class WithReleaseSecrets(Cluster):
    """Cluster, and the list of Secrets of the release type by Harness's labels (what tells a
    declarative release Secret from another Secret that carries its labels)."""

    def __call__(self, method, url, body, headers, timeout, stream):
        query = parse_qs(urlsplit(url).query)
        if query.get("fieldSelector") == ["type=harness.io/release/v2"]:
            wanted, self.objects = self.objects, {plural: [
                o for o in objects if o.get("type") == "harness.io/release/v2"
                and (o["metadata"].get("labels") or {}).get("owner") == "harness"] for plural, objects in self.objects.items()}
            try:
                return super().__call__(method, url.replace("fieldSelector=type", "x=type"), body, headers, timeout,
                                        stream)
            finally:
                self.objects = wanted
        return super().__call__(method, url, body, headers, timeout, stream)


def declarative_release(cluster: Cluster, namespace: str, release: str, number: int, status: str,
                        secret_type: str = "harness.io/release/v2") -> None:
    cluster.add("secrets", {"metadata": {"name": f"harness.release.{release}.{number}", "namespace": namespace,
                                         "labels": {"owner": "harness", "release": release,
                                                    "release-number": str(number), "status": status}},
                            "type": secret_type, "data": {"release": "eA=="}})


def one_release() -> Cluster:
    return fleet(namespaces=1, releases_each=1)


def with_declarative_releases() -> Cluster:
    cluster = WithReleaseSecrets()
    cluster.objects = fleet(namespaces=1, releases_each=2).objects
    declarative_release(cluster, "team-0", "rel-0-1", 5, "Succeeded")  # newer than its history's
    declarative_release(cluster, "team-0", "rel-decl", 1, "Failed")  # no workload: a release of its own
    declarative_release(cluster, "team-0", "rel-not", 1, "Failed", secret_type="Opaque")  # not Harness's type
    return cluster


def with_a_bare_replica_set() -> Cluster:
    cluster = fleet(namespaces=1, releases_each=2)
    add_a_bare_replica_set_release(cluster)
    return cluster


CLUSTERS = {
    "one release": one_release,
    "four releases": lambda: fleet(namespaces=1, releases_each=4),
    "more releases than are read by name": lambda: fleet(namespaces=1, releases_each=listing.BY_NAME_UP_TO + 2),
    "histories in Secrets": lambda: fleet(namespaces=1, releases_each=3, store="secrets"),
    "declarative releases": with_declarative_releases,
    "a bare ReplicaSet": with_a_bare_replica_set,
    "releases in another namespace only": lambda: fleet(namespaces=2, releases_each=1),
}


def names(cluster: Cluster, namespace: str = "team-0") -> tuple[list[dict], list[str]]:
    return listing.read_catalog(Rest("https://127.0.0.1:1", cluster), namespace, live=False)


@pytest.mark.parametrize("make", CLUSTERS.values(), ids=CLUSTERS.keys())
def test_the_rows_of_list_but_what_is_live(make):
    rows, warnings = names(make())
    shown, _ = listing.read_catalog(Rest("https://127.0.0.1:1", make()), "team-0")
    assert rows and warnings == [] and rows == [{key: row[key] for key in rows[0]} for row in shown]
    assert set(shown[0]) - set(rows[0]) == {"liveReleases", "liveSince", "lastRollback", "live", "steady", "action"}


@pytest.mark.parametrize("make, requests", [
    (with_a_bare_replica_set, ["deployments", "statefulsets", "daemonsets", "replicasets", "replicasets?solo-2",
                               "secrets", "configmaps?rel-0-0", "configmaps?rel-0-1", "configmaps?rel-solo"]),
    (CLUSTERS["more releases than are read by name"], ["deployments", "statefulsets", "daemonsets", "replicasets",
                                                       "secrets", "configmaps", "configmaps"]),
    (with_declarative_releases, ["deployments", "statefulsets", "daemonsets", "replicasets", "secrets",
                                 "secrets",  # of the release type
                                 "configmaps?rel-0-0", "configmaps?rel-0-1", "configmaps?rel-decl"]),
], ids=["a bare ReplicaSet", "more releases than are read by name", "declarative releases"])
def test_each_kind_is_listed_once(make, requests):
    cluster = make()
    names(cluster)

    def sent(path, query):
        selector = (query.get("fieldSelector") or [""])[0]
        return path.rsplit("/", 1)[-1] + (f"?{selector.split('=')[-1]}" if selector else "")

    assert [sent(path, query) for _, path, query, _ in cluster.sent] == requests


def test_a_namespace_of_one_release_in_six_requests_one_after_another():
    cluster = one_release()
    rows, _ = names(cluster)
    assert [(row["release"], row["latest"], row["status"]) for row in rows] == [("rel-0-0", 2, "Failed")]
    assert [(path.rsplit("/", 1)[-1], query.get("fieldSelector")) for _, path, query, _ in cluster.sent] == [
        ("deployments", None), ("statefulsets", None), ("daemonsets", None), ("replicasets", None),
        ("secrets", None), ("configmaps", ["metadata.name=rel-0-0"])]


def test_no_list_of_the_config_maps_however_many_there_are():
    cluster = fleet(namespaces=1, releases_each=2, unrelated_config_maps=50)
    names(cluster)
    assert [query.get("fieldSelector") for _, path, query, _ in cluster.sent if path.endswith("/configmaps")] == [
        ["metadata.name=rel-0-0"], ["metadata.name=rel-0-1"]]


def test_a_mistyped_namespace_is_still_said():
    class NoNamespace(Cluster):
        def __call__(self, method, url, body, headers, timeout, stream):
            if urlsplit(url).path.endswith("/namespaces/tema-0"):
                return SimpleNamespace(status=404, data=b'{"kind":"Status","reason":"NotFound","code":404}')
            return super().__call__(method, url, body, headers, timeout, stream)

    cluster = NoNamespace()
    cluster.objects = one_release().objects
    with pytest.raises(NotFound, match="namespace 'tema-0' not found"):
        names(cluster, "tema-0")


PROBE = """
import json, os, socket, sys

def first_request(sock, address):
    print(json.dumps(sorted(sys.modules)))
    sys.stdout.flush()
    os._exit(0)

socket.socket.connect = first_request
from kubectl_harness_rollback.cli.fast_path import kubectl_complete_main
kubectl_complete_main(sys.argv[1:])
"""


def test_a_first_tab_loads_nothing_of_what_is_live_before_its_first_request(tmp_path):
    """What is live, the blue/green Services and the command bodies are `list`'s, not a TAB's."""
    import json
    import subprocess
    import sys

    from tests.unit.test_startup_imports import KUBECONFIG

    (tmp_path / "config").write_text(KUBECONFIG)
    env = {"KUBECONFIG": str(tmp_path / "config"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", PROBE, "plan", "-n", "shop", ""], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("["), (done.stdout, done.stderr)
    loaded = set(json.loads(done.stdout))
    plugin = "kubectl_harness_rollback."
    assert {plugin + name for name in ("live_release", "status", "views", "reader", "strategies", "action",
                                       "planner", "cli.reads", "cli.app")} & loaded == set()

"""`list -A` over a fleet of releases: the requests grow with the namespaces that hold releases, not
with the releases; a namespace's unrelated objects are not downloaded for a few histories; no
Secret that is not a history is ever read. Over the request layer, with a transport that answers
from objects in memory as the API server does (selectors, metadata-only lists)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from kubectl_harness_rollback import kinds, listing
from kubectl_harness_rollback.cluster.rest import METADATA_ONLY, PAGE_SIZE, Rest
from kubectl_harness_rollback.records.history_codec import encode_history


def history(release: str, namespace: str, workload: str, kind: str) -> dict:
    doc = {"version": "v1", "releases": [
        {"number": n, "status": "Failed" if n == 2 else "Succeeded", "managedWorkloads": [
            {"workload": {"kind": "Deployment", "name": workload, "namespace": namespace}, "revision": str(n)}]}
        for n in (2, 1)]}
    return {"metadata": {"name": release, "namespace": namespace, "resourceVersion": "1"},
            "data": encode_history(doc, kind, False)}


def deployment(name: str, namespace: str, release: str) -> dict:
    return {"metadata": {"name": name, "namespace": namespace, "uid": f"{namespace}-{name}",
                         "labels": {"harness.io/release-name": release},
                         "annotations": {"deployment.kubernetes.io/revision": "2"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": name, "image": f"{name}:2"}]}}}}


def replica_set(deployment_name: str, namespace: str, revision: int) -> dict:
    return {"metadata": {"name": f"{deployment_name}-{revision}", "namespace": namespace,
                         "uid": f"{namespace}-{deployment_name}-{revision}",
                         "creationTimestamp": f"2026-01-0{revision}T00:00:00Z",
                         "labels": {"app": deployment_name},
                         "annotations": {"deployment.kubernetes.io/revision": str(revision)},
                         "ownerReferences": [{"kind": "Deployment", "name": deployment_name, "controller": True,
                                              "uid": f"{namespace}-{deployment_name}"}]},
            "spec": {"template": {"metadata": {"labels": {"app": deployment_name}},
                                  "spec": {"containers": [{"name": deployment_name,
                                                           "image": f"{deployment_name}:{revision}"}]}}}}


class Cluster:
    """Objects by plural, answered as lists (labelSelector ignored: none of these carry Harness's
    secret labels), filtered by a metadata.name field selector, stripped to metadata when asked."""

    def __init__(self):
        self.objects: dict[str, list[dict]] = {}
        self.sent = []

    def add(self, plural: str, obj: dict) -> None:
        self.objects.setdefault(plural, []).append(obj)

    def __call__(self, method, url, body, headers, timeout, stream):
        parts, query = urlsplit(url).path.split("/"), parse_qs(urlsplit(url).query)
        accept = dict(headers)["Accept"]
        self.sent.append((method, urlsplit(url).path, query, accept))
        namespace = parts[parts.index("namespaces") + 1] if "namespaces" in parts else None
        items = [o for o in self.objects.get(parts[-1], []) if namespace in (None, o["metadata"]["namespace"])]
        for selector in query.get("fieldSelector", []):
            key, _, value = selector.partition("=")
            assert key == "metadata.name", selector
            items = [o for o in items if o["metadata"]["name"] == value]
        if accept == METADATA_ONLY:
            items = [{"metadata": o["metadata"]} for o in items]
        # Pages as the API server cuts them: `limit` items, the next one's offset as continue token.
        start = int(query.get("continue", ["0"])[0])
        limit = int(query.get("limit", [len(items) or 1])[0])
        following = start + limit if start + limit < len(items) else None
        page = {"metadata": {"resourceVersion": "9", **({"continue": str(following)} if following else {})},
                "items": items[start:start + limit]}
        return SimpleNamespace(status=200, data=json.dumps(page).encode())

    def data_reads(self, plural: str) -> list[tuple[str, dict]]:
        """(path, query) of each request for `plural` that downloads data (not metadata only)."""
        return [(path, query) for _, path, query, accept in self.sent
                if path.endswith("/" + plural) and accept != METADATA_ONLY]


def fleet(namespaces: int, releases_each: int, unrelated_config_maps: int = 1, store: str = "configmaps",
          unrelated_secrets: int = 3, old_revisions: int = 0) -> Cluster:
    """`old_revisions`: ReplicaSets of each Deployment older than its two releases' (no release)."""
    cluster = Cluster()
    for n in range(namespaces):
        namespace = f"team-{n}"
        for r in range(releases_each):
            name, release = f"app-{r}", f"rel-{n}-{r}"
            cluster.add("deployments", deployment(name, namespace, release))
            for revision in (1, 2):
                cluster.add("replicasets", replica_set(name, namespace, revision))
            for old in range(old_revisions):
                cluster.add("replicasets", {**replica_set(name, namespace, 1), "metadata": {
                    **replica_set(name, namespace, 1)["metadata"], "name": f"{name}-old-{old}",
                    "uid": f"{namespace}-{name}-old-{old}", "annotations": {}}})
            cluster.add(store, history(release, namespace, name, "ConfigMap" if store == "configmaps" else "Secret"))
        for u in range(unrelated_config_maps):  # kube-root-ca.crt, an app's settings
            cluster.add("configmaps", {"metadata": {"name": f"settings-{u}", "namespace": namespace},
                                       "data": {"big": "x" * 100}})
        for u in range(unrelated_secrets):  # Helm's releases, certificates: never downloaded
            cluster.add("secrets", {"metadata": {"name": f"sh.helm.release.v1.x.v{u}", "namespace": namespace},
                                    "type": "helm.sh/release.v1", "data": {"release": "c2VjcmV0"}})
    return cluster


# One list per kind: each release workload kind of the kinds table (7 requests with its 3), the
# ReplicaSets, the ControllerRevisions, the ConfigMaps and the Secrets.
KIND_LISTS = len(kinds.RELEASE_WORKLOADS) + 4


def list_all(cluster: Cluster, namespace: str | None = None) -> list[dict]:
    rows, warnings = listing.read_catalog(Rest("https://127.0.0.1:1", cluster), namespace)
    assert warnings == []
    return rows


def test_list_all_makes_as_many_requests_for_twice_the_releases():
    counts = {}
    for releases_each in (10, 20):
        cluster = fleet(namespaces=5, releases_each=releases_each)
        rows = list_all(cluster)
        assert len(rows) == 5 * releases_each
        assert {(r["latest"], r["status"], tuple(r["liveReleases"])) for r in rows} == {(2, "Failed", (2,))}
        counts[releases_each] = len(cluster.sent)
    # The lists of each kind, then one list of every namespace's ConfigMaps (5 namespaces, each
    # holding one other ConfigMap besides its histories).
    assert counts == {10: KIND_LISTS + 1, 20: KIND_LISTS + 1}


def test_list_all_at_the_scale_fixtures_shape():
    """The bench's scale fixture, in memory: 500 releases over 20 namespaces, 5,000 ReplicaSets.
    Each kind's list (the ReplicaSets in pages of REPLICA_SET_PAGE), then one list of every
    namespace's ConfigMaps for the histories (in pages): 13 requests, however many namespaces."""
    cluster = fleet(namespaces=20, releases_each=25, old_revisions=8)
    rows = list_all(cluster)
    assert len(rows) == 500 and {(r["latest"], tuple(r["liveReleases"])) for r in rows} == {(2, (2,))}
    pages = -(-len(cluster.objects["replicasets"]) // listing.REPLICA_SET_PAGE)
    assert len(cluster.objects["replicasets"]) == 5000 and pages == 5
    history_pages = -(-len(cluster.objects["configmaps"]) // PAGE_SIZE)
    assert len(cluster.sent) == KIND_LISTS - 1 + pages + history_pages == 13
    assert [path for path, _ in cluster.data_reads("configmaps")] == ["/api/v1/configmaps"] * history_pages
    assert sum(path.endswith("/replicasets") for _, path, _, _ in cluster.sent) == pages


def test_the_same_rows_as_reading_each_history_by_name(monkeypatch):
    cluster = fleet(namespaces=3, releases_each=8)
    batched = list_all(cluster)
    monkeypatch.setattr(listing, "BY_NAME_UP_TO", 10_000)
    one_by_one = fleet(namespaces=3, releases_each=8)
    assert list_all(one_by_one) == batched
    assert len(one_by_one.sent) == KIND_LISTS + 3 * 8


def test_a_few_histories_are_read_by_name():
    cluster = fleet(namespaces=1, releases_each=3)
    list_all(cluster, "team-0")
    assert [query["fieldSelector"] for _, query in cluster.data_reads("configmaps")] == [
        ["metadata.name=rel-0-0"], ["metadata.name=rel-0-1"], ["metadata.name=rel-0-2"]]


def test_a_namespace_of_many_unrelated_config_maps_is_not_downloaded_for_its_histories():
    cluster = fleet(namespaces=2, releases_each=6, unrelated_config_maps=30)
    list_all(cluster)
    reads = cluster.data_reads("configmaps")
    assert len(reads) == 2 * 6 and all("fieldSelector" in query for _, query in reads)


def test_no_secret_that_is_not_a_history_is_downloaded():
    # Histories kept in Secrets, next to Helm's: each is read by name.
    cluster = fleet(namespaces=2, releases_each=6, store="secrets")
    rows = list_all(cluster)
    assert {r["source"] for r in rows} == {f"secret/rel-{n}-{r}" for n in range(2) for r in range(6)}
    reads = cluster.data_reads("secrets")
    assert len(reads) == 2 * 6 and all(query["fieldSelector"][0].startswith("metadata.name=rel-") for _, query in reads)
    # Namespaces holding nothing but histories are listed whole, all in one list: there is nothing
    # else to download.
    cluster = fleet(namespaces=2, releases_each=6, store="secrets", unrelated_secrets=0)
    list_all(cluster)
    assert [path for path, _ in cluster.data_reads("secrets")] == ["/api/v1/secrets"]
    # One namespace: its own list.
    cluster = fleet(namespaces=1, releases_each=6, store="secrets", unrelated_secrets=0)
    list_all(cluster)
    assert [path for path, _ in cluster.data_reads("secrets")] == ["/api/v1/namespaces/team-0/secrets"]


@pytest.mark.parametrize("per_namespace, held, per_object, whole", [
    (4, 4, 4, False),    # a few: by name
    (5, 5, 4, True),     # more than a few, nothing else in the namespace: one list
    (5, 20, 4, True),    # four objects per history at most
    (5, 21, 4, False),   # more: by name
    (5, 5, 0, False),    # never (ReplicaSets)
    (6, 6, 1, True),     # Secrets: only when every one is wanted
    (6, 7, 1, False),
])
def test_plan_reads(per_namespace, held, per_object, whole):
    listed = [{"metadata": {"name": f"o{n}", "namespace": "ns"}} for n in range(held)]
    wanted = {("ns", f"o{n}") for n in range(per_namespace)} | {("elsewhere", "o0")}
    namespaces, by_name = listing.plan_reads(listed, wanted, per_object)
    assert (namespaces, sorted(by_name)) == (
        (["ns"], []) if whole else ([], sorted(("ns", f"o{n}") for n in range(per_namespace))))


@pytest.mark.parametrize("namespaces, unwanted_elsewhere, per_object, one_list", [
    (2, 0, 4, True),     # two namespaces listed whole and nothing else: one list of all
    (2, 6, 4, True),     # a few other objects elsewhere (kube-system's): up to 3 per namespace listed
    (2, 7, 4, False),    # more: a list of each namespace
    (1, 0, 4, False),    # one namespace: its own list
    (3, 0, 1, True),     # Secrets: only when nothing but histories would be downloaded
    (3, 1, 1, False),    # one other Secret anywhere: never downloaded
])
def test_plan_reads_across_namespaces(namespaces, unwanted_elsewhere, per_object, one_list):
    listed = [{"metadata": {"name": f"o{n}", "namespace": f"ns{i}"}} for i in range(namespaces) for n in range(5)]
    listed += [{"metadata": {"name": f"x{n}", "namespace": "kube-system"}} for n in range(unwanted_elsewhere)]
    wanted = {(f"ns{i}", f"o{n}") for i in range(namespaces) for n in range(5)}
    assert listing.plan_reads(listed, wanted, per_object) == (
        ([None], []) if one_list else ([f"ns{i}" for i in range(namespaces)], []))


def test_replica_sets_are_listed_in_pages_and_held_without_managed_fields():
    """The ReplicaSets' metadata is most of `list -A`'s memory: each page is trimmed as it arrives."""
    pages = [{"metadata": {"continue": "next"}, "items": [
                 {"metadata": {"name": "a", "namespace": "ns", "managedFields": [{"manager": "kcm"}]}}]},
             {"metadata": {"resourceVersion": "9"}, "items": [
                 {"metadata": {"name": "b", "namespace": "ns", "managedFields": [{"manager": "kcm"}]}}]}]
    sent = []

    def transport(method, url, body, headers, timeout, stream):
        sent.append(parse_qs(urlsplit(url).query))
        return SimpleNamespace(status=200, data=json.dumps(pages.pop(0)).encode())

    kube = Rest("https://127.0.0.1:1", transport)
    listed = listing._listed_or_none(kube, listing.REPLICASETS, None, metadata_only=True,
                                     page_size=listing.REPLICA_SET_PAGE, trim=listing.without_managed_fields)
    assert listed == [{"metadata": {"name": "a", "namespace": "ns"}}, {"metadata": {"name": "b", "namespace": "ns"}}]
    assert [query["limit"] for query in sent] == [[str(listing.REPLICA_SET_PAGE)]] * 2


def test_the_next_page_is_asked_for_while_a_page_is_decoded(monkeypatch):
    """The continue token is written before the items: the next page's request goes out before
    the page is decoded, one page ahead at most, and the items come in order."""
    import threading

    from kubectl_harness_rollback.cluster import rest

    pages = {None: {"metadata": {"continue": "t1"}, "items": [{"metadata": {"name": "a"}}]},
             "t1": {"metadata": {"continue": "t2"}, "items": [{"metadata": {"name": "b"}}]},
             "t2": {"metadata": {"resourceVersion": "9"}, "items": [{"metadata": {"name": "c"}}]}}
    asked = {token: threading.Event() for token in pages}
    sent = []

    def transport(method, url, body, headers, timeout, stream):
        token = parse_qs(urlsplit(url).query).get("continue", [None])[0]
        sent.append(token)
        asked[token].set()
        return SimpleNamespace(status=200, data=json.dumps(pages[token]).encode())

    seen_ahead = []
    loads = rest.json.loads

    def decode(data, *args, **kwargs):
        page = loads(data, *args, **kwargs)
        following = (page.get("metadata") or {}).get("continue")
        if "items" in page and following:  # a whole page, not its head
            seen_ahead.append(asked[following].wait(5))
        return page

    monkeypatch.setattr(rest.json, "loads", decode)
    listed = Rest("https://127.0.0.1:1", transport).list(listing.REPLICASETS, None, metadata_only=True)
    assert [item["metadata"]["name"] for item in listed] == ["a", "b", "c"]
    assert sent == [None, "t1", "t2"] and seen_ahead == [True, True]


def test_a_list_keeps_only_what_its_trim_keeps_page_by_page():
    """A namespace listed whole for its histories: the other objects are dropped as each page
    arrives, so no more than one page of them is ever held."""
    cluster = fleet(namespaces=1, releases_each=0, unrelated_config_maps=1200)
    kept = Rest("https://127.0.0.1:1", cluster).list(
        listing.CONFIGMAPS, "team-0", trim=lambda obj: obj if obj["metadata"]["name"].endswith("7") else None)
    assert len(kept) == 120 and all(obj["metadata"]["name"].endswith("7") for obj in kept)
    assert len(cluster.sent) == 3  # three pages of PAGE_SIZE


@pytest.mark.parametrize("answer, token", [
    (b'{"kind":"List","metadata":{"continue":"t1"},"items":[]}', "t1"),
    (b'{"kind":"List","metadata":{"resourceVersion":"9"},"items":[]}', None),
    (b'{"items":[{"metadata":{"continue":"x"}}],"metadata":{"continue":"t1"}}', None),  # items first
    (b'{"metadata":{"continue":', None),  # cut short
    (b'[]', None),
    (b'{"metadata":{"continue":"t1"}},', None),  # no items at all
])
def test_the_continue_token_is_read_from_the_head_of_a_page(answer, token):
    from kubectl_harness_rollback.cluster.rest import _continue_written_first

    assert _continue_written_first(answer) == token


def test_status_of_every_release_reads_as_list_reads():
    """`status -A`: one row per release from the same lists as `list -A`, never a read per release;
    each row says whether it is steady and what it needs (here: release 2 failed and is live)."""
    from kubectl_harness_rollback.errors import NotSteady
    from kubectl_harness_rollback.fleet import commands as run_in
    from kubectl_harness_rollback.fleet.run import One

    counts, printed = {}, []
    for releases_each in (10, 20):
        cluster = fleet(namespaces=5, releases_each=releases_each)
        with pytest.raises(NotSteady) as not_steady:  # exit 4: not steady
            run_in.status_releases(One(lambda: Rest("https://127.0.0.1:1", cluster)),
                                   lambda text, err=False, nl=True: printed.append(text), True, "json")
        rows = json.loads(printed[-1])
        assert len(rows) == 5 * releases_each
        assert {(row["steady"], row["action"]) for row in rows} == {(False, "needs rollback")}
        assert str(not_steady.value).startswith(f"{5 * releases_each} releases are not steady: team-0/rel-0-0, ")
        counts[releases_each] = len(cluster.sent)
    # as test_list_all_makes_as_many_requests_for_twice_the_releases
    assert counts == {10: KIND_LISTS + 1, 20: KIND_LISTS + 1}


def test_reads_at_once_answer_in_order_and_raise_the_first_error_in_order():
    import threading
    import time

    release = threading.Event()

    def slow(value):
        def read():
            release.wait(5)
            return value
        return read

    def fails(message):
        def read():
            raise ValueError(message)
        return read

    def first():
        time.sleep(0.05)
        release.set()
        return "first"

    assert listing.reads_at_once([first, slow("second"), slow("third")]) == ["first", "second", "third"]
    with pytest.raises(ValueError, match="earlier"):
        listing.reads_at_once([slow("a"), fails("earlier"), fails("later")])


def add_a_bare_replica_set_release(cluster: Cluster) -> None:
    """Release rel-solo in team-0: its one workload a bare ReplicaSet, solo-2, its history a ConfigMap."""
    solo = replica_set("solo", "team-0", 2)
    solo["metadata"]["labels"]["harness.io/release-name"] = "rel-solo"
    del solo["metadata"]["ownerReferences"]
    cluster.add("replicasets", solo)
    cluster.add("configmaps", history("rel-solo", "team-0", "solo", "ConfigMap"))


def test_a_release_only_a_bare_replica_set_names_has_its_history_read():
    """The ReplicaSets' pages arrive while the other releases' histories are read: the history of a
    release that only a bare ReplicaSet names is read once they are in."""
    cluster = fleet(namespaces=1, releases_each=2)
    add_a_bare_replica_set_release(cluster)
    rows = {row["release"]: row for row in list_all(cluster)}
    assert (rows["rel-solo"]["latest"], rows["rel-solo"]["status"], rows["rel-solo"]["workloads"],
            rows["rel-solo"]["source"]) == (2, "Failed", ["replicaset/solo-2"], "configmap/rel-solo")
    assert [query["fieldSelector"] for _, query in cluster.data_reads("configmaps")] == [
        ["metadata.name=rel-0-0"], ["metadata.name=rel-0-1"], ["metadata.name=rel-solo"]]


class DeletedAfterTheMetadataList(Cluster):
    """A cluster where one object goes (a namespace torn down, a tenant's cleanup) right after the
    metadata list of its kind, before list reads it in full."""

    def __init__(self, plural: str, name: str):
        super().__init__()
        self.plural, self.name = plural, name

    def __call__(self, method, url, body, headers, timeout, stream):
        answer = super().__call__(method, url, body, headers, timeout, stream)
        if urlsplit(url).path.endswith("/" + self.plural) and dict(headers)["Accept"] == METADATA_ONLY:
            self.objects[self.plural] = [o for o in self.objects[self.plural] if o["metadata"]["name"] != self.name]
        return answer


@pytest.mark.parametrize("plural, name", [("replicasets", "solo-2"), ("configmaps", "rel-solo")])
def test_an_object_deleted_between_the_metadata_list_and_its_read_is_left_out(plural, name):
    cluster = DeletedAfterTheMetadataList(plural, name)
    cluster.objects = fleet(namespaces=1, releases_each=2).objects
    add_a_bare_replica_set_release(cluster)
    rows = {row["release"]: row for row in list_all(cluster)}
    assert sorted(rows) == ["rel-0-0", "rel-0-1"] + (["rel-solo"] if plural == "configmaps" else [])
    if plural == "configmaps":  # its workload is still there; its history is gone: no release to show
        assert rows["rel-solo"]["latest"] is None and rows["rel-solo"]["workloads"] == ["replicaset/solo-2"]


def test_the_collector_is_held_off_while_lists_are_read_and_resumed_after_the_last():
    """Decoding a fleet set off full collections that walked the whole heap again and again: the
    collector is off while `list` reads, and the contexts of a fleet, read at once, hold it off
    together: it is on again once the last one is done."""
    import gc
    import threading

    assert gc.isenabled()
    cluster, seen = fleet(namespaces=2, releases_each=5), []

    def transport(*args):
        seen.append(gc.isenabled())
        return cluster(*args)

    listing.read_catalog(Rest("https://127.0.0.1:1", transport), None)
    assert seen and not any(seen) and gc.isenabled()
    inside, leave = threading.Event(), threading.Event()

    def another_context():
        with listing.collection_paused():
            inside.set()
            leave.wait(5)

    other = threading.Thread(target=another_context)
    other.start()
    inside.wait(5)
    with listing.collection_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other context is still reading
    leave.set()
    other.join()
    assert gc.isenabled()


def test_ctrl_c_is_seen_while_a_read_in_its_own_thread_is_waited_for():
    """Ctrl-C reaches the main thread while it waits for a read that never answers (a ReplicaSet
    page ahead, list's first lists): answer() and reads_at_once wake every WAKE_SECONDS to see it."""
    import _thread
    import signal
    import threading
    import time

    from kubectl_harness_rollback.cluster.rest import Started

    never = threading.Event()
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # ignored in a background job
    try:
        for wait in (lambda: Started(lambda: never.wait(30), "test-read").answer(),
                     lambda: listing.reads_at_once([lambda: never.wait(30), lambda: never.wait(30)])):
            threading.Timer(0.1, _thread.interrupt_main).start()
            started = time.monotonic()
            with pytest.raises(KeyboardInterrupt):
                wait()
            assert time.monotonic() - started < 5
    finally:
        signal.signal(signal.SIGINT, before)
        never.set()

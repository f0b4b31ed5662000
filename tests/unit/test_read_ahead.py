"""A read started ahead (reader.read_ahead): the requests a plain read sends, in the same order,
from one thread of its own; its model, or its error, taken once by the read_release that asks
for that very target; and nothing started across contexts (cli/reads.read_first)."""

import contextlib
import json
import threading
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from kubectl_harness_rollback.cli import reads
from kubectl_harness_rollback.cluster.apierrors import Forbidden
from kubectl_harness_rollback.cluster.rest import Rest
from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.reader import Target, read_ahead, read_release
from tests.unit.test_replica_sets_listed_once import LABELS_ALONE, NS, FakeKube

RELEASE = Target(release_name="r")


def kube_asking(threads: list[str] | None = None) -> tuple[Rest, list[str]]:
    """FakeKube in namespace NS; the name of the thread that sent each request goes into `threads`."""
    kube, asked = FakeKube(LABELS_ALONE)
    kube.namespace = NS
    answer = kube.transport

    def transport(*args):
        if threads is not None:
            threads.append(threading.current_thread().name)
        return answer(*args)

    kube.transport = transport
    return kube, asked


def shape(model) -> tuple:
    """What a test compares of a model: releases, workloads and their revisions."""
    return ([(r.number, r.status) for r in model.releases],
            {ref: [(rev.number, rev.images) for rev in state.revisions] for ref, state in model.workloads.items()})


def test_a_read_started_ahead_sends_what_a_plain_read_sends_from_one_thread_and_gives_the_same_model():
    plain_kube, plain_asked = kube_asking()
    plain = read_release(plain_kube, NS, RELEASE)
    threads: list[str] = []
    kube, asked = kube_asking(threads)
    read_ahead(kube, RELEASE)
    model = read_release(kube, NS, RELEASE)
    assert asked == plain_asked and len(asked) == 7
    assert set(threads) == {"read-ahead"}
    assert shape(model) == shape(plain)
    assert kube.listed == plain_kube.listed  # a watch of what was read starts where the read ended


def test_the_answer_is_taken_once_and_the_next_read_asks_the_cluster_again():
    kube, asked = kube_asking()
    read_ahead(kube, RELEASE)
    first = read_release(kube, NS, RELEASE)
    assert kube.started == {}
    second = read_release(kube, NS, RELEASE)
    assert len(asked) == 14
    assert shape(first) == shape(second)


@pytest.mark.parametrize("namespace, target", [("other", RELEASE), (NS, Target(release_name="s"))],
                         ids=["another namespace", "another target"])
def test_a_read_of_something_else_is_sent_and_leaves_the_started_one(namespace, target):
    kube, asked = kube_asking()
    read_ahead(kube, RELEASE)
    started = kube.started[(NS, RELEASE)]
    started.answer()  # the read ahead is over: what follows is the other read's alone
    sent = len(asked)
    with contextlib.suppress(PluginError):
        read_release(kube, namespace, target)
    assert len(asked) > sent
    assert kube.started == {(NS, RELEASE): started}


def test_what_the_read_raised_is_raised_where_the_answer_is_taken():
    def forbidden_config_map(method, url, body, headers, timeout, stream):
        path = urlsplit(url).path
        if "/configmaps/" in path:
            return SimpleNamespace(status=403, data=json.dumps({"kind": "Status", "code": 403}).encode())
        if path.endswith("/secrets"):
            return SimpleNamespace(status=200, data=b'{"metadata": {}, "items": []}')
        if "/secrets/" in path:
            return SimpleNamespace(status=404, data=b'{"kind": "Status", "code": 404}')
        return SimpleNamespace(status=200, data=json.dumps({"metadata": {}, "items": []}).encode())

    plain = Rest("https://127.0.0.1:1", forbidden_config_map)
    with pytest.raises(Forbidden) as expected:
        read_release(plain, NS, RELEASE)
    kube = Rest("https://127.0.0.1:1", forbidden_config_map)
    kube.namespace = NS
    read_ahead(kube, RELEASE)  # raises nothing: the error waits for its taker
    with pytest.raises(Forbidden) as raised:
        read_release(kube, NS, RELEASE)
    assert str(raised.value) == str(expected.value)


def test_a_read_for_record_does_not_take_a_read_started_ahead():
    kube, asked = kube_asking()
    read_ahead(kube, RELEASE)
    kube.started[(NS, RELEASE)].answer()
    read_release(kube, NS, RELEASE, name_unlabelled="named")  # `record`'s read: its own
    assert len(asked) == 14
    assert (NS, RELEASE) in kube.started


def test_across_contexts_nothing_is_connected_or_started_before_each_context_runs(monkeypatch):
    monkeypatch.setattr(reads, "cluster", lambda connection: pytest.fail("connected before the contexts ran"))
    reads.read_first(SimpleNamespace(many=True), {}, RELEASE)


def test_in_one_cluster_the_job_gets_the_connection_the_read_was_started_on(monkeypatch):
    kube, asked = kube_asking()
    monkeypatch.setattr(reads, "cluster", lambda connection: kube)
    from kubectl_harness_rollback.fleet.run import One

    one = One(lambda: pytest.fail("a second connection was made"))
    reads.read_first(one, {}, RELEASE, deadline=123.0)
    assert one.connector()("") is kube
    assert kube.deadline == 123.0  # rollback's --timeout bounds the read started ahead too
    read_release(kube, NS, RELEASE)
    assert len(asked) == 7

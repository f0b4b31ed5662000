"""The wait's watch is re-established after it breaks, within the deadline, with a back-off
(client-go's RetryWatcher: staging/src/k8s.io/client-go/tools/watch/retrywatcher.go); a read
that is forbidden stops at once instead of being asked again without end."""

import pytest

from kubectl_harness_rollback.cluster import apierrors
from kubectl_harness_rollback.errors import ClusterUnreachable
from kubectl_harness_rollback.model import WorkloadRef
from kubectl_harness_rollback.workloads import waiting

WEB = WorkloadRef("Deployment", "web", "shop")


def deployment(version: str, observed: bool = False) -> dict:
    return {"metadata": {"name": "web", "namespace": "shop", "resourceVersion": version, "generation": 2},
            "spec": {}, "status": {"observedGeneration": 2 if observed else 1}}


class Clock:
    def __init__(self):
        self.now, self.slept = 0.0, []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


class Kube:
    """A watch that breaks mid-stream `breaks` times (a cut connection), then delivers the change."""
    cancel = None

    def __init__(self, breaks: int, clock: Clock, get_error=None):
        self.breaks, self.clock, self.watched_from, self.gets, self.get_error = breaks, clock, [], 0, get_error

    def get(self, *args, **kwargs):
        self.gets += 1
        self.clock.now += 0.001
        if self.get_error:
            raise self.get_error
        return deployment("1")

    def watch(self, resource, namespace, version, field_selector, seconds):
        self.watched_from.append(version)
        self.clock.now += 0.01
        if self.breaks:
            self.breaks -= 1
            yield "MODIFIED", deployment(str(int(version) + 1))
            raise ClusterUnreachable("cannot reach the API server (ProtocolError: Connection broken)")
        yield "MODIFIED", deployment(str(int(version) + 1), observed=True)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(waiting.time, "sleep", clock.sleep)
    return clock


def observed(adapter, obj):
    return adapter.observed(obj), ""


def test_a_watch_cut_mid_stream_is_watched_again_from_the_last_version(clock, monkeypatch):
    kube = Kube(breaks=3, clock=clock)
    monkeypatch.setattr(waiting.adapters.adapter_for("Deployment"), "read",
                        lambda kube_, namespace, name: kube_.get(), raising=False)
    done = waiting.wait_for(kube, [WEB], observed, deadline=10.0, progress=lambda line: None,
                            monotonic=clock.monotonic, start={WEB: deployment("5")})
    assert done[WEB]["metadata"]["resourceVersion"] == "9"
    assert kube.watched_from == ["5", "6", "7", "8"]  # each from the last version seen, never listed again
    assert clock.slept == [0.1, 0.1, 0.1]  # backed off (each break followed an event: no growth)


def test_a_watch_that_never_comes_back_ends_at_the_deadline(clock):
    class Down(Kube):
        def watch(self, *args):
            self.clock.now += 0.01
            raise ClusterUnreachable("connection refused")
            yield

    kube = Down(breaks=0, clock=clock)
    with pytest.raises(waiting.NotSteady):
        waiting.wait_for(kube, [WEB], observed, deadline=5.0, progress=lambda line: None,
                         monotonic=clock.monotonic, start={WEB: deployment("5")})
    assert clock.now == pytest.approx(5.0, abs=0.1)
    assert clock.slept[:5] == [0.1, 0.2, 0.4, 0.8, 1.6] and max(clock.slept) <= waiting.RETRY_MAX_SECONDS


def test_a_forbidden_read_stops_the_wait_at_once(clock, monkeypatch):
    """`record` without `get`: about 700 forbidden GETs a second, never ending."""
    forbidden = apierrors.from_response(403, b"{}", "get", "deployments", "shop", "web")
    kube = Kube(breaks=0, clock=clock, get_error=forbidden)
    monkeypatch.setattr(waiting.adapters.adapter_for("Deployment"), "read",
                        lambda kube_, namespace, name: kube_.get(), raising=False)
    with pytest.raises(apierrors.Forbidden):
        waiting.wait_for(kube, [WEB], observed, deadline=5.0, progress=lambda line: None, monotonic=clock.monotonic)
    assert kube.gets == 1


def test_back_off_doubles_to_a_ceiling():
    assert [waiting.retry_delay(n) for n in range(1, 7)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0]


def test_status_watch_is_started_again_after_a_cut_connection(monkeypatch):
    """`status --watch` went to reading every second for good after one cut connection."""
    from kubectl_harness_rollback import status_watch as changes_module
    from kubectl_harness_rollback.cluster.rest import DEPLOYMENTS

    slept = []
    monkeypatch.setattr(changes_module.time, "sleep", slept.append)

    class Kube:
        def __init__(self):
            self.watched_from = []

        def watch(self, resource, namespace, version, timeout_seconds):
            self.watched_from.append(version)
            if len(self.watched_from) == 1:
                yield "MODIFIED", {"metadata": {"name": "other", "resourceVersion": "11"}}
                raise ClusterUnreachable("cannot reach the API server (ProtocolError: Connection broken)")
            yield "MODIFIED", {"metadata": {"name": "web", "resourceVersion": "12"}}
            follower.closed = True

    kube = Kube()
    follower = changes_module.Changes(kube)
    follower.names = frozenset({("deployments", "web")})
    follower._watch(DEPLOYMENTS, "shop", "10")
    assert kube.watched_from == ["10", "11"] and slept == [waiting.RETRY_FIRST_SECONDS]
    assert follower.woken.is_set() and not follower.polling


def test_the_wait_ends_on_the_event_that_makes_it_steady_watched_from_the_write(clock):
    """From the version the write answered: no read first, no sleep, and nothing waited for after
    the event that makes the workload steady (a watch that would go on delivering is left)."""
    delivered = []

    class Watching(Kube):
        def watch(self, resource, namespace, version, field_selector, seconds):
            self.watched_from.append(version)
            for n, done in ((8, False), (9, True), (10, True)):
                delivered.append(n)
                yield "MODIFIED", deployment(str(n), observed=done)

    kube = Watching(0, clock)
    done = waiting.wait_for(kube, [WEB], observed, deadline=60.0, progress=lambda line: None,
                            monotonic=clock.monotonic, start={WEB: deployment("7")})
    assert done[WEB]["metadata"]["resourceVersion"] == "9"
    assert (kube.gets, kube.watched_from, clock.slept, delivered) == (0, ["7"], [], [8, 9])

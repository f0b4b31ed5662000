"""A rollback must never make things worse (issue 10): every request is bounded in time, and a
release history is decoded within bounds (size, number of releases, YAML nodes and aliases)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError, ReadTimeoutError

from kubectl_harness_rollback.cluster import kubeconfig
from kubectl_harness_rollback.cluster.apierrors import translate
from kubectl_harness_rollback.cluster.client import CONNECT_TIMEOUT, _exec_failure, request_timeouts
from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags
from kubectl_harness_rollback.errors import ClusterUnreachable

# -- A. bounded time ---------------------------------------------------------------------------


@pytest.mark.parametrize("given, expected", [
    (None, (CONNECT_TIMEOUT, kubeconfig.DEFAULT_REQUEST_TIMEOUT)),  # not given: the default
    (0, (CONNECT_TIMEOUT, None)),                                   # 0: no read timeout, as in kubectl
    (2.0, (2.0, 2.0)),
    (300.0, (CONNECT_TIMEOUT, 300.0)),                              # connecting is bounded anyway
])
def test_request_timeouts_connect_and_read(given, expected):
    assert request_timeouts(given) == expected


def test_default_request_timeout_is_thirty_seconds():
    assert kubeconfig.DEFAULT_REQUEST_TIMEOUT == 30.0


def instrumented(flags: ConnectionFlags, deadline: float | None = None):
    """A request layer whose transport records the timeout of each request."""
    from kubectl_harness_rollback.cluster.rest import Rest

    sent: list[tuple] = []

    def transport(method, url, body, headers, timeout, stream):
        sent.append(timeout)
        return SimpleNamespace(status=200, data=b"{}")

    rest = Rest("https://127.0.0.1:1", transport, timeouts=request_timeouts(flags.request_timeout))
    rest.deadline = deadline
    return rest, sent


def test_no_request_waits_past_the_commands_deadline():
    """rollback --timeout bounds the whole command: each request gets at most what is left."""
    import time

    from kubectl_harness_rollback.cluster.rest import NAMESPACES

    rest, sent = instrumented(ConnectionFlags(), deadline=time.monotonic() + 2)
    rest.get(NAMESPACES, "default")
    connect, read = sent[0]
    assert 0 < connect <= 2 and 0 < read <= 2
    rest, sent = instrumented(ConnectionFlags(), deadline=time.monotonic() - 1)  # already past
    rest.get(NAMESPACES, "default")
    assert max(sent[0]) <= 0.001


@pytest.mark.parametrize("flags, expected", [
    (ConnectionFlags(), (CONNECT_TIMEOUT, 30.0)),
    (ConnectionFlags(request_timeout=5.0), (5.0, 5.0)),
    (ConnectionFlags(request_timeout=0.0), (CONNECT_TIMEOUT, None)),
])
def test_every_request_gets_a_timeout(flags, expected):
    from kubectl_harness_rollback.cluster.rest import NAMESPACES

    rest, sent = instrumented(flags)
    rest.list(NAMESPACES)
    # The time left of the whole request, taken a moment after it started.
    assert len(sent) == 1 and [t and round(t, 2) for t in sent[0]] == list(expected)


@pytest.mark.parametrize("reason, expected", [
    (ReadTimeoutError(None, "/api", "Read timed out. (read timeout=30.0)"),
     "timed out: the API server did not answer within 30s"),
    (ConnectTimeoutError(None, "Connection to 127.0.0.1 timed out. (connect timeout=2.5)"),
     "timed out: could not connect to the API server within 2.5s"),
])
def test_a_timeout_is_one_line_that_says_timed_out(reason, expected):
    error = translate(MaxRetryError(None, "/api/v1/namespaces", reason))
    assert isinstance(error, ClusterUnreachable) and error.exit_code == 1
    assert str(error).startswith(expected + "; ")
    assert "--request-timeout" in str(error) and "\n" not in str(error)


def test_a_refused_connection_is_not_called_a_timeout():
    # urllib3 derives NewConnectionError from ConnectTimeoutError.
    refused = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    error = translate(MaxRetryError(None, "/api/v1/namespaces", refused))
    assert str(error).startswith("cannot reach the API server (NewConnectionError: ")
    assert "timed out" not in str(error) and "Connection refused" in str(error)


# -- C1. exec credential plugin failures, in kubectl's words --------------------------------------

def test_a_failed_exec_plugin_reads_like_kubectl_on_one_line():
    text = _exec_failure("/usr/bin/aws", "exec: process returned 1. An error occurred\n  (ExpiredToken)\n")
    assert text == "exec: executable /usr/bin/aws failed with exit code 1 (An error occurred (ExpiredToken))"
    assert _exec_failure("/x", "exec: process returned 2") == "exec: executable /x failed with exit code 2"
    assert len(_exec_failure("/x", "exec: process returned 1. " + "y" * 1000)) < 300
    assert _exec_failure("/x", "exec: malformed response. missing key 'status'") == \
        "exec: malformed response. missing key 'status'"


# -- B. bounded decoding of a release history --------------------------------------------------

import base64
import gzip
import time

import yaml

from kubectl_harness_rollback.errors import CorruptHistory
from kubectl_harness_rollback.listing import catalog
from kubectl_harness_rollback.model import Revision, Status, WorkloadRef, WorkloadState
from kubectl_harness_rollback.planner import PlanOptions, plan
from kubectl_harness_rollback.records import bounded
from kubectl_harness_rollback.records.assemble import ClusterObjects, assemble
from kubectl_harness_rollback.records.history_codec import (
    decode_history,
    releases_from_history,
)

NS = "shop"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def stored(kind: str, text: str) -> dict[str, str]:
    """`.data` of a compressed history, as the kubernetes client returns it."""
    flag = "true" if kind == "ConfigMap" else b64(b"\x01")
    return {"releaseHistory": b64(gzip.compress(text.encode(), mtime=0)), "isReleaseHistoryCompressed": flag}


def many_empty_releases(count: int) -> str:
    return "releases: [" + "{}, " * count + "]\n"


BILLION_LAUGHS = "\n".join(
    ["version: v1", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    + ["releases: []", ""])


def refused(kind: str, text: str) -> CorruptHistory:
    with pytest.raises(CorruptHistory) as caught:
        decode_history(kind, "release-x", NS, stored(kind, text))
    return caught.value


@pytest.mark.parametrize("kind", ["ConfigMap", "Secret"])
def test_a_small_gzip_of_countless_releases_is_refused_before_it_is_built(kind):
    text = many_empty_releases(4_000_000)
    data = stored(kind, text)
    assert len(base64.b64decode(data["releaseHistory"])) < 20 * 1024  # ~15 KiB in the cluster
    started = time.perf_counter()
    error = refused(kind, text)
    print(f"\n{kind}: 4M empty releases ({len(text) >> 20} MiB inflated) refused in "
          f"{time.perf_counter() - started:.3f}s")  # a benchmark note, not asserted
    assert error.reason == f"releaseHistory has more than {bounded.MAX_RELEASES} releases"
    assert str(error) == (f"release history {kind.lower()}/release-x in namespace {NS} is corrupt: "
                          f"releaseHistory has more than {bounded.MAX_RELEASES} releases; fix or delete the object")


def test_exactly_the_cap_of_releases_is_not_refused():
    doc, _ = decode_history("ConfigMap", "release-x", NS, stored("ConfigMap", many_empty_releases(bounded.MAX_RELEASES)))
    assert len(doc["releases"]) == bounded.MAX_RELEASES
    doc, _ = decode_history("ConfigMap", "release-x", NS, stored("ConfigMap", "releases: [" + ", ".join(
        f"{{number: {n}, status: Succeeded}}" for n in range(1, bounded.MAX_RELEASES + 1)) + "]"))
    assert len(doc["releases"]) == bounded.MAX_RELEASES


def test_billion_laughs_is_refused():
    error = refused("Secret", BILLION_LAUGHS)
    assert error.reason.startswith("releaseHistory has more than 1000000 YAML nodes")
    assert "lol" not in str(error)


def test_an_alias_inside_itself_is_refused():
    assert "alias inside the node it stands for" in refused("ConfigMap", "releases: &r [*r]\n").reason
    assert "alias inside" in refused("ConfigMap", "releases: []\nx: &x {y: *x}\n").reason


def test_nesting_past_the_depth_bound_is_refused():
    text = "releases: []\nx: " + "[" * 300 + "]" * 300
    assert refused("ConfigMap", text).reason == "releaseHistory nests deeper than 200 levels"


def test_releases_given_by_an_alias_are_counted_after_loading():
    text = "items: &many [" + "{}, " * (bounded.MAX_RELEASES + 1) + "]\nreleases: *many\n"
    assert refused("ConfigMap", text).reason == f"releaseHistory has more than {bounded.MAX_RELEASES} releases"


def test_check_yaml_bounds_counts_aliases_as_what_they_stand_for():
    bounded.check_yaml_bounds("a: &x [1, 2, 3]\nb: *x\n", max_nodes=11)  # {} 1, a 1, [1, 2, 3] 4, b 1, *x 4
    with pytest.raises(ValueError, match="more than 11 YAML nodes"):
        bounded.check_yaml_bounds("a: &x [1, 2, 3]\nb: *x\nc: *x\n", max_nodes=11)
    with pytest.raises(ValueError, match="more than 2 releases"):
        bounded.check_yaml_bounds("releases: [{}, {}, {}]", max_releases=2)
    bounded.check_yaml_bounds("releases: [{}, {}]\nother: [1, 2, 3, 4]", max_releases=2)  # only `releases` counts
    bounded.check_yaml_bounds("x: {releases: [1, 2, 3]}", max_releases=2)  # only the top-level one


def test_a_normal_history_still_decodes_with_an_anchor_or_two():
    text = ("version: v1\nreleases:\n"
            "- number: 1\n  status: Succeeded\n  managedWorkloads: &w\n"
            "  - workload: {kind: Deployment, name: web, namespace: shop}\n    revision: '1'\n"
            "- number: 2\n  status: Failed\n  managedWorkloads: *w\n")
    doc, compressed = decode_history("Secret", "release-x", NS, stored("Secret", text))
    assert compressed and [r.number for r in releases_from_history(doc, "secret/release-x", NS)] == [2, 1]


def test_yaml_is_loaded_with_libyaml_when_pyyaml_has_it():
    expected = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader
    assert bounded.safe_loader() is expected


# -- C6. a workload kind recorded in lower case ---------------------------------------------------

WEB = WorkloadRef("Deployment", "web", NS)


def lower_case_history() -> dict:
    releases = [{"number": n, "status": status, "managedWorkloads": [
        {"workload": {"kind": "deployment", "name": "web", "namespace": NS}, "revision": str(n)}]}
        for n, status in ((1, "Succeeded"), (2, "Failed"))]
    text = yaml.safe_dump({"version": "v1", "releases": releases})
    return {"metadata": {"name": "rel", "namespace": NS, "resourceVersion": "1"}, "data": stored("ConfigMap", text)}


def test_a_kind_recorded_in_lower_case_is_the_api_kind():
    obj = lower_case_history()
    doc, _ = decode_history("ConfigMap", "rel", NS, obj["data"])
    assert [w.ref for r in releases_from_history(doc, "configmap/rel", NS) for w in r.workloads] == [WEB, WEB]


def test_a_kind_recorded_in_lower_case_is_planned_not_reported_missing():
    revisions = [Revision(WEB, n, (), "ReplicaSet", f"web-{n}", (f"web:{n}",), {}) for n in (1, 2)]
    state = WorkloadState(WEB, "7", 2, ("web:2",), revisions)
    model = assemble(ClusterObjects("rel", NS, lower_case_history(), "ConfigMap", workloads=[state]))
    result = plan(model, PlanOptions())
    assert result.eligible and result.target.number == 1 and result.target.status is Status.SUCCEEDED


# -- B. `list`: an unreadable history has a row that says why, and the others are unharmed ---------

def history_object(kind: str, name: str, data: dict) -> dict:
    return {"metadata": {"name": name, "namespace": NS}, "data": data}


def test_list_gives_an_unreadable_history_its_reason_and_keeps_the_other_rows():
    good = yaml.safe_dump({"releases": [{"number": 3, "status": "Failed"}]})
    config_maps = [
        history_object("ConfigMap", "a-bomb", stored("ConfigMap", many_empty_releases(4_000_000))),
        history_object("ConfigMap", "b-good", {"releaseHistory": good}),
        history_object("ConfigMap", "c-status", {"releaseHistory": "releases: [{number: 1, status: HUSH-42}]"}),
    ]
    secrets = [history_object("Secret", "d-laughs", stored("Secret", BILLION_LAUGHS)),
               history_object("Secret", "e-good", {"releaseHistory": b64(good.encode())})]
    rows = {row["release"]: (row["latest"], row["status"]) for row in catalog([], config_maps, secrets)}
    assert rows.pop("c-status") == (None, "<unreadable history: release 1 has an unknown status (expected one of "
                                          + ", ".join(s.value for s in Status) + ")>")  # the value is not quoted
    assert rows == {
        "a-bomb": (None, f"<unreadable history: releaseHistory has more than {bounded.MAX_RELEASES} releases>"),
        "b-good": (3, "Failed"),
        "d-laughs": (None, "<unreadable history: releaseHistory has more than 1000000 YAML nodes "
                           "(an alias counts as what it stands for)>"),
        "e-good": (3, "Failed"),
    }

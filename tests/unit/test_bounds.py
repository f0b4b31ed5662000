"""A rollback must never make things worse (issue 10): every request is bounded in time, and a
release history is decoded within bounds (size, number of releases, YAML nodes and aliases)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ReadTimeoutError

from kubectl_harness_rollback import kubeconfig
from kubectl_harness_rollback.apierrors import translate
from kubectl_harness_rollback.client import CONNECT_TIMEOUT, _exec_failure, _instrument, request_timeouts
from kubectl_harness_rollback.errors import ClusterUnreachable
from kubectl_harness_rollback.kubeconfig import ConnectionFlags

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


def instrumented(flags: ConnectionFlags):
    sent: list[dict] = []

    def request(method, url, *args, **kwargs):
        sent.append(kwargs)

    api_client = SimpleNamespace(rest_client=SimpleNamespace(request=request))
    _instrument(api_client, flags, [])
    return api_client.rest_client.request, sent


@pytest.mark.parametrize("flags, expected", [
    (ConnectionFlags(), (CONNECT_TIMEOUT, 30.0)),
    (ConnectionFlags(request_timeout=5.0), (5.0, 5.0)),
    (ConnectionFlags(request_timeout=0.0), (CONNECT_TIMEOUT, None)),
])
def test_every_request_gets_a_timeout_unless_the_caller_set_one(flags, expected):
    request, sent = instrumented(flags)
    request("GET", "https://127.0.0.1:1/api/v1/namespaces")
    request("GET", "https://127.0.0.1:1/api/v1/namespaces", _request_timeout=7)
    assert [call["_request_timeout"] for call in sent] == [expected, 7]


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


# -- C1. exec credential plugin failures, in kubectl's words --------------------------------------

def test_a_failed_exec_plugin_reads_like_kubectl_on_one_line():
    text = _exec_failure("/usr/bin/aws", "exec: process returned 1. An error occurred\n  (ExpiredToken)\n")
    assert text == "exec: executable /usr/bin/aws failed with exit code 1 (An error occurred (ExpiredToken))"
    assert _exec_failure("/x", "exec: process returned 2") == "exec: executable /x failed with exit code 2"
    assert len(_exec_failure("/x", "exec: process returned 1. " + "y" * 1000)) < 300
    assert _exec_failure("/x", "exec: malformed response. missing key 'status'") == \
        "exec: malformed response. missing key 'status'"

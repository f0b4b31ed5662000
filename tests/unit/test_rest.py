"""The request layer (rest.py): paths, verbs, typed errors, paging, metadata-only lists, watches,
impersonation headers; over a transport that answers like the API server."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from kubectl_harness_rollback.cluster import apierrors
from kubectl_harness_rollback.cluster.rest import (
    CONFIGMAPS,
    DEPLOYMENTS,
    METADATA_ONLY,
    NAMESPACES,
    SECRETS,
    SELF_SUBJECT_ACCESS_REVIEWS,
    Rest,
)
from kubectl_harness_rollback.errors import ClusterUnreachable


class Server:
    """Answers queued per request, and remembers what was sent."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []

    def __call__(self, method, url, body, headers, timeout, stream):
        self.sent.append(SimpleNamespace(method=method, path=urlsplit(url).path, query=parse_qs(urlsplit(url).query),
                                         body=body, headers=headers, stream=stream))
        status, payload = self.answers.pop(0)
        if isinstance(payload, list):  # a watch: one JSON event a line, in chunks
            data = b"".join(json.dumps(event).encode() + b"\n" for event in payload)
            chunks = [data[i:i + 7] for i in range(0, len(data), 7)] + [b""]
            return SimpleNamespace(status=status, data=b"", read1=lambda size: chunks.pop(0),
                                   close=lambda: None, release_conn=lambda: None)
        return SimpleNamespace(status=status, data=json.dumps(payload).encode())


def rest(*answers, **kwargs) -> tuple[Rest, Server]:
    server = Server(*answers)
    return Rest("https://127.0.0.1:6443", server, **kwargs), server


def test_paths_of_namespaced_and_cluster_resources():
    assert CONFIGMAPS.path("shop", "web") == "/api/v1/namespaces/shop/configmaps/web"
    assert DEPLOYMENTS.path("shop") == "/apis/apps/v1/namespaces/shop/deployments"
    assert DEPLOYMENTS.path(None) == "/apis/apps/v1/deployments"
    assert NAMESPACES.path("shop", "shop") == "/api/v1/namespaces/shop"
    assert SELF_SUBJECT_ACCESS_REVIEWS.path("shop") == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


@pytest.mark.parametrize("code, error, text", [
    (403, apierrors.Forbidden, "forbidden: cannot patch configmaps in namespace shop (no); ask for that permission"),
    (404, apierrors.NotFound, "configmaps/web not found in namespace shop (no)"),
    (409, apierrors.Conflict, "conflict: no; someone else changed it after it was read"),
    (500, apierrors.ApiError, "the API server answered 500 to patch configmaps/web in namespace shop: no"),
])
def test_an_http_error_is_typed_and_names_verb_and_resource(code, error, text):
    client, _ = rest((code, {"kind": "Status", "code": code, "message": "no"}))
    with pytest.raises(error) as caught:
        client.patch(CONFIGMAPS, "web", "shop", {"data": {}})
    assert str(caught.value).startswith(text) and "\n" not in str(caught.value)
    assert caught.value.status == code
    if code == 409:
        assert caught.value.exit_code == 5


def test_get_or_none_is_none_only_when_missing():
    client, _ = rest((404, {"code": 404}), (200, {"metadata": {"name": "x"}}))
    assert client.get_or_none(SECRETS, "x", "shop") is None
    assert client.get_or_none(SECRETS, "x", "shop") == {"metadata": {"name": "x"}}


def test_list_follows_continue_tokens_and_logs_each_page():
    client, server = rest((200, {"metadata": {"continue": "t1"}, "items": [{"n": 1}]}),
                          (200, {"metadata": {"resourceVersion": "9"}, "items": [{"n": 2}]}))
    items, version = client.list_with_version(DEPLOYMENTS, "shop", label_selector="app=web")
    assert (items, version) == ([{"n": 1}, {"n": 2}], "9")
    assert [s.query.get("continue") for s in server.sent] == [None, ["t1"]]
    assert server.sent[0].query["labelSelector"] == ["app=web"] and server.sent[0].query["limit"] == ["500"]
    assert client.requests == [("GET", "/apis/apps/v1/namespaces/shop/deployments")] * 2


def test_a_list_not_older_than_a_version_asks_so_on_its_first_page_only():
    # The API server answers it from its watch cache; a continued page keeps its first page's version
    # (it refuses a resourceVersion beside a continue token).
    client, server = rest((200, {"metadata": {"continue": "t1"}, "items": [{"n": 1}]}),
                          (200, {"metadata": {"resourceVersion": "12"}, "items": [{"n": 2}]}))
    assert client.list(SECRETS, "shop", not_older_than="9") == [{"n": 1}, {"n": 2}]
    assert [(s.query.get("resourceVersion"), s.query.get("resourceVersionMatch")) for s in server.sent] == [
        (["9"], ["NotOlderThan"]), (None, None)]
    plain, server = rest((200, {"items": []}))
    plain.list(SECRETS, "shop")
    assert "resourceVersion" not in server.sent[0].query  # as of now: a consistent read


def test_a_metadata_only_list_asks_for_partial_object_metadata():
    client, server = rest((200, {"items": []}))
    client.list(SECRETS, None, metadata_only=True)
    assert ("Accept", METADATA_ONLY) in server.sent[0].headers
    assert client.requests[0].metadata_only and client.requests[0] == ("GET", "/api/v1/secrets")


@pytest.mark.parametrize("patch_type, content_type", [
    ("json", "application/json-patch+json"), ("merge", "application/merge-patch+json"),
    ("strategic", "application/strategic-merge-patch+json"), ("apply", "application/apply-patch+yaml"),
])
def test_patch_types_and_dry_run(patch_type, content_type):
    client, server = rest((200, {}))
    client.patch(DEPLOYMENTS, "web", "shop", {"spec": {}}, patch_type, dry_run=True, field_manager="me", force=True)
    sent = server.sent[0]
    assert (sent.method, sent.path) == ("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web")
    assert ("Content-Type", content_type) in sent.headers
    assert sent.query == {"dryRun": ["All"], "fieldManager": ["me"], "force": ["true"]}


def test_headers_repeat_impersonate_group_and_carry_fresh_credentials():
    tokens = iter(["Bearer a", "Bearer b"])
    client, server = rest((200, {}), (200, {}), headers=[("Impersonate-User", "u"), ("Impersonate-Group", "g1"),
                                                         ("Impersonate-Group", "g2")],
                          auth_headers=lambda: {"authorization": next(tokens)})
    client.create(CONFIGMAPS, "shop", {"metadata": {"name": "x"}})
    client.delete(CONFIGMAPS, "x", "shop")
    assert [v for k, v in server.sent[0].headers if k == "Impersonate-Group"] == ["g1", "g2"]
    assert [dict(s.headers)["authorization"] for s in server.sent] == ["Bearer a", "Bearer b"]


def test_watch_yields_events_across_chunks_and_a_410_is_gone():
    events = [{"type": "MODIFIED", "object": {"metadata": {"resourceVersion": "5"}}},
              {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "6"}}}]
    client, server = rest((200, events), (200, [{"type": "ERROR", "object": {"kind": "Status", "code": 410,
                                                                              "message": "too old"}}]))
    seen = list(client.watch(DEPLOYMENTS, "shop", "4", "metadata.name=web", 30))
    assert [kind for kind, _ in seen] == ["MODIFIED", "BOOKMARK"]
    assert server.sent[0].stream and server.sent[0].query["resourceVersion"] == ["4"]
    assert server.sent[0].query["fieldSelector"] == ["metadata.name=web"]
    with pytest.raises(apierrors.Gone):
        list(client.watch(DEPLOYMENTS, "shop", "1"))


def test_a_connection_error_is_one_line_of_the_plugin():
    def refused(*args):
        raise ConnectionRefusedError(111, "Connection refused")

    with pytest.raises(ClusterUnreachable, match="cannot reach the API server"):
        Rest("https://127.0.0.1:1", refused).get(NAMESPACES, "x")


class Trickling:
    """An answer whose body comes a byte at a time, each soon enough for any socket timeout."""

    def __init__(self, body: bytes, every: float = 0.02):
        self.status, self.body, self.every, self.closed = 200, body, every, False

    def read1(self, size):
        import time

        time.sleep(self.every)
        byte, self.body = self.body[:1], self.body[1:]
        return byte

    def close(self):
        self.closed = True

    def release_conn(self):
        pass


def test_request_timeout_bounds_the_whole_body_not_each_read():
    answer = Trickling(json.dumps({"metadata": {"name": "x" * 500}}).encode())
    client = Rest("https://127.0.0.1:1", lambda *args: answer, timeouts=(30.0, 0.2))
    with pytest.raises(ClusterUnreachable) as caught:
        client.get(NAMESPACES, "x")
    assert str(caught.value).startswith("timed out: GET /api/v1/namespaces/x did not complete within 200ms "
                                        "(--request-timeout);")
    assert answer.closed and answer.body  # cut off half read, and its connection not reused


def test_request_timeout_0_reads_a_slow_body_to_the_end():
    answer = Trickling(b'{"a": 1}', every=0.001)
    assert Rest("https://127.0.0.1:1", lambda *args: answer, timeouts=(30.0, None)).get(NAMESPACES, "x") == {"a": 1}


@pytest.mark.parametrize("verbosity, logged", [(0, 0), (5, 0), (6, 2), (9, 2)])
def test_v6_logs_one_line_per_request_with_method_path_status_and_milliseconds_only(verbosity, logged):
    lines = []
    client, _ = rest((201, {"data": {"token": "s3cret-body"}}), (404, {"message": "gone"}),
                     headers=[("Impersonate-User", "alice")], auth_headers=lambda: {"authorization": "Bearer s3cret"},
                     verbosity=verbosity, log=lines.append)
    client.create(SECRETS, "shop", {"metadata": {"name": "x"}, "data": {"password": "s3cret-body"}}, dry_run=True)
    with pytest.raises(apierrors.NotFound):
        client.get(CONFIGMAPS, "x", "shop")
    assert len(lines) == logged
    if logged:
        assert re.fullmatch(r"POST https://127\.0\.0\.1:6443/api/v1/namespaces/shop/secrets\?dryRun=All 201 Created "
                            r"in \d+ milliseconds", lines[0]), lines
        assert re.fullmatch(r"GET \S+/configmaps/x 404 Not Found in \d+ milliseconds", lines[1]), lines
        assert not any(secret in "".join(lines) for secret in ("s3cret", "alice", "Bearer"))


def test_v6_logs_a_request_that_got_no_response():
    def refused(*args):
        raise ConnectionRefusedError(111, "Connection refused")

    lines = []
    with pytest.raises(ClusterUnreachable):
        Rest("https://127.0.0.1:1", refused, verbosity=6, log=lines.append).get(NAMESPACES, "x")
    assert re.fullmatch(r"GET https://127\.0\.0\.1:1/api/v1/namespaces/x \(no response\) in \d+ milliseconds",
                        lines[0]), lines


def test_no_generated_api_class_or_model_is_imported_by_a_command(tmp_path):
    """`list` end to end (against a closed port): the generated *Api classes and models are never
    imported, whatever the kubernetes version."""
    import subprocess
    import sys

    config = tmp_path / "config"
    config.write_text("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: k, cluster: {server: "
                      "'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: "
                      "{cluster: k, user: u}}]\n")
    code = ("import sys\nfrom kubectl_harness_rollback.cli import app as cli\n"
            "try:\n    cli.main(['list', '-n', 'x', '--kubeconfig', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
            "loaded = [m for m in sys.modules if m.startswith(('kubernetes.client.api.', 'kubernetes.client.models',"
            " 'kubernetes.dynamic', 'kubernetes.client.api_client'))]\nprint(loaded)\n")
    done = subprocess.run([sys.executable, "-c", code, str(config)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr
    assert "cannot reach the API server" in done.stderr


def test_a_dry_run_delete_with_options_carries_dry_run_in_the_body_too():
    """The API server reads DeleteOptions from the body when there is one and then ignores the
    dryRun query parameter: a dry run delete with preconditions must say dryRun in the body."""
    client, server = rest((200, {}), (200, {}))
    client.delete(CONFIGMAPS, "c", "shop", body={"preconditions": {"uid": "u"}}, dry_run=True)
    client.delete(CONFIGMAPS, "c", "shop", body={"preconditions": {"uid": "u"}})
    assert [json.loads(sent.body) for sent in server.sent] == [
        {"preconditions": {"uid": "u"}, "dryRun": ["All"]}, {"preconditions": {"uid": "u"}}]
    assert server.sent[0].query == {"dryRun": ["All"]} and server.sent[1].query == {}

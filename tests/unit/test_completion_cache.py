"""Completion remembers its candidates for a few seconds per context, and nothing else uses them:
against a fake API server on 127.0.0.1 that counts the requests (tests/support/fake_api.py)."""

from __future__ import annotations

import os
import stat

import pytest

from kubectl_harness_rollback.cli import app, completion_cache
from tests.support.fake_api import EMPTY_LIST, FakeApi

SECRET = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQtdGhhdC1tdXN0LW5vdC1sZWFr.U0lHTkFUVVJFc2lnbmF0dXJl"
NAMESPACES = {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"},
              "items": [{"metadata": {"name": "shop"}}, {"metadata": {"name": "shipping"}}]}


def answer(method, path):
    return 200, NAMESPACES if path == "/api/v1/namespaces" else EMPTY_LIST


@pytest.fixture
def api(tmp_path, monkeypatch):
    with FakeApi(answer=answer) as server:
        monkeypatch.setenv("KUBECONFIG", server.kubeconfig(tmp_path, {"token": SECRET}))
        yield server


def complete(capsys, *args) -> list[str]:
    app.kubectl_complete_main(list(args))
    return [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()[:-1]]


def namespace_lists(api) -> int:
    return sum(1 for _, path, _ in api.requests if path.split("?")[0] == "/api/v1/namespaces")


def test_a_second_tab_within_the_ttl_sends_no_request(api, capsys):
    assert complete(capsys, "history", "-n", "sh") == ["shipping", "shop"]
    assert complete(capsys, "history", "-n", "sho") == ["shop"]
    assert namespace_lists(api) == 1


def test_an_entry_expires(api, capsys, monkeypatch):
    complete(capsys, "history", "-n", "sh")
    monkeypatch.setattr(completion_cache, "TTL", 0.0)
    assert complete(capsys, "history", "-n", "sh") == ["shipping", "shop"]
    assert namespace_lists(api) == 2


def test_an_entry_without_a_match_is_read_again(api, capsys):
    complete(capsys, "history", "-n", "sh")
    assert complete(capsys, "history", "-n", "new") == []
    assert namespace_lists(api) == 2


def test_each_context_has_its_own_entries(api, capsys, tmp_path, monkeypatch):
    complete(capsys, "history", "-n", "sh")
    with FakeApi(answer=answer) as other:
        monkeypatch.setenv("KUBECONFIG", other.kubeconfig(tmp_path, {"token": SECRET}, name="other"))
        assert complete(capsys, "history", "-n", "sh") == ["shipping", "shop"]
        assert namespace_lists(other) == 1
    # Another user of the same server, or another token, is another entry too.
    monkeypatch.setenv("KUBECONFIG", api.kubeconfig(tmp_path, {"token": "another-token"}, name="third"))
    complete(capsys, "history", "-n", "sh")
    assert namespace_lists(api) == 2


def test_release_names_are_remembered_per_namespace(api, capsys):
    complete(capsys, "history", "-n", "shop", "rel")
    complete(capsys, "history", "-n", "shop", "rel")
    complete(capsys, "history", "-n", "shipping", "rel")
    deployment_lists = [path.split("?")[0] for _, path, _ in api.requests if "/deployments" in path]
    # No release here: an entry without a match is read again, each namespace its own list.
    assert deployment_lists == (["/apis/apps/v1/namespaces/shop/deployments"] * 2
                                + ["/apis/apps/v1/namespaces/shipping/deployments"])


def test_commands_never_use_the_entries(api, capsys):
    complete(capsys, "history", "-n", "sh")
    before = len(api.requests)
    with pytest.raises(SystemExit) as exited:
        app.main(["list", "-n", "shop"])
    assert exited.value.code == 0
    assert len(api.requests) > before  # the command read the cluster itself


def test_only_completion_imports_the_cache():
    from tests.unit.test_structure import imported_modules, module_names

    users = sorted(name for name in module_names() if "kubectl_harness_rollback.cli.completion_cache" in
                   imported_modules(name))
    assert users == ["kubectl_harness_rollback.cli.completion"]


def test_entries_are_private_and_hold_no_credential(api, capsys):
    complete(capsys, "history", "-n", "sh")
    folder = completion_cache.directory(os.environ)
    (entry,) = os.listdir(folder)
    assert stat.S_IMODE(os.stat(os.path.join(folder, entry)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert SECRET[:8] not in open(os.path.join(folder, entry), encoding="utf-8").read()


def test_with_v6_completion_shows_its_requests(api, capsys):
    complete(capsys, "history", "-n", "sh")
    app.kubectl_complete_main(["history", "-v", "6", "-n", "sh"])
    assert "/api/v1/namespaces" in capsys.readouterr().err
    assert namespace_lists(api) == 2

"""Credentials never printed, and no credential path weaker than kubectl's, against a fake API
server on 127.0.0.1 (tests/support/fake_api.py) that counts the requests and keeps their headers.

kubectl's behaviour mirrored here, from client-go v0.34 in the Go module cache:
- transport/token_source.go:139 (fileTokenSource.Token): a token file is read with
  strings.TrimSpace, and an empty one is "read empty token from file";
- plugin/pkg/client/auth/gcp/gcp_stub.go, azure/azure_stub.go: "The gcp/azure auth plugin has been
  removed. Please use the ... credential plugin instead"; rest/plugin.go:79 'no Auth Provider found
  for name'. kubectl 1.34 (cmd/kubectl/kubectl.go:28) still builds oidc in: refusing it is ours
  (kubeconfig.REMOVED_AUTH_PROVIDERS says why).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time

import pytest

from kubectl_harness_rollback.cli import app as cli
from kubectl_harness_rollback.cluster import header_values
from kubectl_harness_rollback.cluster.rest import CONFIGMAPS, Rest
from tests.support.fake_api import FakeApi, pki

SECRET = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQtdGhhdC1tdXN0LW5vdC1sZWFr.U0lHTkFUVVJFc2lnbmF0dXJl"


def run(argv, capsys, monkeypatch, kubeconfig) -> tuple[int, str, str]:
    monkeypatch.setenv("KUBECONFIG", kubeconfig)
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    out, err = capsys.readouterr()
    return exited.value.code, out, err


def no_part_of(secret: str, text: str) -> bool:
    """Not one 8-character piece of `secret` appears in `text`."""
    return not any(secret[i:i + 8] in text for i in range(len(secret) - 7))


@pytest.fixture
def api():
    with FakeApi() as server:
        yield server


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return pki(tmp_path_factory.mktemp("pki"))


def test_a_token_file_ending_in_a_newline_is_trimmed_as_kubectl_trims_it(api, tmp_path, capsys, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text(SECRET + "\n")  # as `echo $T > file` writes it
    code, _, err = run(["list"], capsys, monkeypatch, api.kubeconfig(tmp_path, {"tokenFile": str(token_file)}))

    assert code == 0, err
    assert err == "No releases found in namespace shop.\n"
    sent = {value for _, _, headers in api.requests for name, value in headers.items()
            if name.lower() == "authorization"}
    assert sent == {f"Bearer {SECRET}"}


def test_an_empty_token_file_is_refused_before_any_request(api, tmp_path, capsys, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text(" \n\n")
    code, out, err = run(["list"], capsys, monkeypatch, api.kubeconfig(tmp_path, {"tokenFile": str(token_file)}))

    assert (code, out, err) == (1, "", f'error: read empty token from file "{token_file}"\n')
    assert api.requests == []


@pytest.mark.parametrize("user", [
    {"token": SECRET + "\nX-Injected: 1"},
    {"token": SECRET + "\u0435"},
])
def test_a_kubeconfig_token_that_cannot_be_sent_is_refused_unquoted(api, tmp_path, capsys, monkeypatch, user):
    code, out, err = run(["list", "-v", "9"], capsys, monkeypatch, api.kubeconfig(tmp_path, user))

    assert code == 1 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith("error: the kubeconfig user's token holds a newline, a control character or a non-ASCII "
                          "character, which cannot be sent in an HTTP header (the value is not shown)")
    assert no_part_of(SECRET, err)
    assert api.requests == []


@pytest.mark.parametrize("flags", [
    ["--token", SECRET + "\n"],
    ["--token", "\u0442" + SECRET],
    ["--as", "web\nX-Injected: 1"],
    ["--as", "w\u0435b"],
    ["--as", "alice", "--as-group", "dev\r\n"],
    ["--as", "alice", "--as-group", "\u0434ev"],
])
def test_a_flag_that_cannot_be_sent_in_a_header_is_a_usage_error(api, tmp_path, capsys, monkeypatch, flags):
    code, out, err = run(["list", "-v", "9", *flags], capsys, monkeypatch, api.kubeconfig(tmp_path, {"token": "t"}))

    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert "cannot be sent in an HTTP header" in err and no_part_of(SECRET, err)
    assert api.requests == []


def test_an_exec_plugin_token_that_cannot_be_sent_is_refused_unquoted(api, tmp_path, capsys, monkeypatch):
    plugin = tmp_path / "plugin"
    credential = {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {"token": SECRET + "\n"}}
    plugin.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(credential)}\nEOF\n")
    plugin.chmod(0o755)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
                     "interactiveMode": "Never"}}
    code, out, err = run(["list"], capsys, monkeypatch, api.kubeconfig(tmp_path, user))

    assert code == 1 and out == "" and len(err.splitlines()) == 1, err
    assert "returned a token that holds a newline" in err and no_part_of(SECRET, err)
    assert api.requests == []


def test_a_header_is_checked_before_each_request_and_errors_are_scrubbed():
    """A refreshed credential is checked at each request; an error of the connection that quotes
    what it was given is scrubbed of every piece of the credential."""
    sent = []

    def transport(*args):
        sent.append(args)
        raise ValueError(f"Invalid header value b'Bearer {SECRET[:20]}...'")

    tokens = iter([SECRET, SECRET + "\n"])
    client = Rest("http://127.0.0.1:1", transport, auth_headers=lambda: {"authorization": f"Bearer {next(tokens)}"})
    with pytest.raises(Exception) as first:
        client.list(CONFIGMAPS, "shop")
    assert no_part_of(SECRET, str(first.value)) and "<redacted>" in str(first.value)
    with pytest.raises(Exception) as second:
        client.list(CONFIGMAPS, "shop")
    assert "the authorization header holds a newline" in str(second.value) and no_part_of(SECRET, str(second.value))
    assert len(sent) == 1


def test_scrub_removes_whole_and_partial_credentials():
    text = f"a {SECRET} b {SECRET[5:30]}… c Bearer {SECRET[:12]} d ordinary words stay"
    clean = header_values.scrub(text, [f"Bearer {SECRET}"])
    assert no_part_of(SECRET, clean)
    assert clean.endswith("d ordinary words stay")


@pytest.mark.parametrize("provider, expected", [
    ("gcp", 'the gcp auth plugin has been removed: use the "gke-gcloud-auth-plugin" kubectl/client-go credential '
            "plugin instead"),
    ("azure", "the azure auth plugin has been removed: use the https://github.com/Azure/kubelogin kubectl/client-go "
              "credential plugin instead"),
    ("oidc", "the oidc auth plugin is not supported by kubectl harness-rollback: use the "
             "https://github.com/int128/kubelogin kubectl/client-go credential plugin instead"),
    ("vault", 'no Auth Provider found for name "vault"'),
])
def test_auth_providers_are_refused_as_kubectl_refuses_them(api, tmp_path, capsys, monkeypatch, provider, expected):
    with FakeApi() as issuer:
        expired = base64.urlsafe_b64encode(json.dumps({"exp": 1}).encode()).decode().rstrip("=")
        user = {"auth-provider": {"name": provider, "config": {
            "idp-issuer-url": issuer.url, "client-id": "k", "client-secret": SECRET, "refresh-token": SECRET,
            "id-token": f"e30.{expired}.c2ln", "access-token": SECRET}}}
        code, out, err = run(["list"], capsys, monkeypatch, api.kubeconfig(tmp_path, user))

        assert (code, out) == (1, ""), err
        assert err.startswith(f"error: kubeconfig user 'someone': {expected}") and len(err.splitlines()) == 1
        assert no_part_of(SECRET, err)
        assert issuer.requests == [] and api.requests == []  # no discovery, no refresh token sent anywhere


def test_client_key_data_is_not_left_on_disk(certificates, tmp_path, monkeypatch):
    """The key given as data is loaded into the connection's SSL context, and its file is gone as
    soon as the connection is built: nothing is left for a SIGKILL or a crash to leak."""
    import tempfile

    from kubectl_harness_rollback.cluster.client import connect
    from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    user = {"client-certificate-data": base64.b64encode(certificates.client_cert.read_bytes()).decode(),
            "client-key-data": base64.b64encode(certificates.client_key.read_bytes()).decode()}
    with FakeApi(tls=certificates, client_cert=True) as api:
        kube = connect(ConnectionFlags(kubeconfig=api.kubeconfig(tmp_path, user)))
        assert list(scratch.iterdir()) == []
        assert kube.list(CONFIGMAPS, "shop") == []
        assert api.peer_certs and dict(x[0] for x in api.peer_certs[0]["subject"])["commonName"] == "tester"
    assert list(scratch.iterdir()) == []


def plugin_process(args, kubeconfig, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "KUBECONFIG": kubeconfig, "PYTHONWARNINGS": "default"}
    return subprocess.run([sys.executable, "-m", "kubectl_harness_rollback", *args], capture_output=True, text=True,
                          env=env, timeout=60, **kwargs)


def test_insecure_skip_tls_verify_prints_no_warning(certificates, tmp_path):
    with FakeApi(tls=certificates) as api:
        done = plugin_process(["list", "-A", "--insecure-skip-tls-verify"],
                              api.kubeconfig(tmp_path, {"token": "t"}, cluster={"certificate-authority": None}))
        assert api.requests  # it did talk to the server, without verifying it
    assert (done.returncode, done.stderr) == (0, "No releases found in any namespace.\n")


def test_a_server_without_a_scheme_is_taken_as_kubectl_takes_it(api, tmp_path):
    address = api.url.removeprefix("http://")
    done = plugin_process(["list", "-s", address], api.kubeconfig(tmp_path, {"token": "t"}))
    assert (done.returncode, done.stderr) == (0, "No releases found in namespace shop.\n")
    assert api.requests


@pytest.mark.parametrize("proxy", ["socks5://user:pass@127.0.0.1:1080", "socks5h://127.0.0.1:1080"])
def test_a_socks_proxy_without_pysocks_is_refused_by_name(api, tmp_path, capsys, monkeypatch, proxy):
    import importlib.util

    if importlib.util.find_spec("socks") is not None:
        pytest.skip("PySocks is installed: SOCKS proxies are supported")
    code, out, err = run(["list"], capsys, monkeypatch, api.kubeconfig(tmp_path, {"token": "t"},
                                                                       cluster={"proxy-url": proxy}))
    assert (code, out) == (1, "")
    assert err.startswith("error: proxy socks5") and "needs the optional PySocks package" in err
    assert "pass" not in err and len(err.splitlines()) == 1
    assert api.requests == []


@pytest.mark.parametrize("flags", [
    ["list", "--request-timeout", "3000000h"],
    ["rollback", "release-x", "--timeout", "9" * 400],
    ["status", "release-x", "--timeout", "1" * 400 + "s"],
    ["record", "deployment/web", "--status", "Succeeded", "--timeout", "2562048h"],
])
def test_durations_longer_than_kubectl_takes_are_usage_errors(api, tmp_path, capsys, monkeypatch, flags):
    code, out, err = run(flags, capsys, monkeypatch, api.kubeconfig(tmp_path, {"token": "t"}))
    assert (code, out) == (2, "") and len(err.splitlines()) == 1, err
    assert "invalid duration" in err
    assert api.requests == []


def test_sigterm_is_handled_as_ctrl_c_with_its_own_exit_code(tmp_path):
    """Waiting on a server that never answers, SIGTERM ends the run as Ctrl-C does: one line, no
    traceback, exit 143 (128 + 15)."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts, never answers
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{silent.getsockname()[1]}"}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
        process = subprocess.Popen([sys.executable, "-m", "kubectl_harness_rollback", "list", "-v", "6"],
                                   env={**os.environ, "KUBECONFIG": str(kubeconfig)}, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        connection, _ = silent.accept()  # the request is on its way, and gets no answer
        time.sleep(0.5)
        process.terminate()
        out, err = process.communicate(timeout=30)
        connection.close()
    assert process.returncode == 143, err
    assert out == "" and err.splitlines()[-1] == "interrupted by SIGTERM" and "Traceback" not in err


def test_connections_built_at_once_each_load_their_own_key(certificates, tmp_path, monkeypatch):
    """Many contexts connect in parallel threads (--all-contexts): each writes and removes its own key
    file, none reads a file another one is removing (the loader's files are shared by content)."""
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    from kubectl_harness_rollback.cluster.client import connect, import_client
    from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    user = {"client-certificate-data": base64.b64encode(certificates.client_cert.read_bytes()).decode(),
            "client-key-data": base64.b64encode(certificates.client_key.read_bytes()).decode()}
    import_client()
    with FakeApi(tls=certificates, client_cert=True) as api:
        flags = ConnectionFlags(kubeconfig=api.kubeconfig(tmp_path, user))
        with ThreadPoolExecutor(max_workers=8) as pool:
            kubes = list(pool.map(lambda _: connect(flags), range(32)))
        assert all(kube.list(CONFIGMAPS, "shop") == [] for kube in kubes)
    assert list(scratch.iterdir()) == []

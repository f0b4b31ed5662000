"""The pod's service account read without the kubernetes client (credentials.service_account),
twinned with the client's InClusterConfigLoader on the same files and variables: where ours
connects, the loader gives the same server, CA and Authorization header; where ours leaves it to
the loader (None), the loader refuses in its own words."""

from __future__ import annotations

import pytest

from kubectl_harness_rollback.cluster import client, credentials
from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags
from kubectl_harness_rollback.cluster.rest import CONFIGMAPS
from kubectl_harness_rollback.errors import PluginError
from tests.support.fake_api import FakeApi, pki


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def mounted(tmp_path, monkeypatch, certificates):
    """The service account's files in tmp_path, where credentials looks for them."""
    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text("a-token\n")
    ca.write_bytes(certificates.ca.read_bytes())
    monkeypatch.setattr(credentials, "SERVICE_ACCOUNT_TOKEN", str(token))
    monkeypatch.setattr(credentials, "SERVICE_ACCOUNT_CA", str(ca))
    return token, ca


def the_clients_view(env, token, ca):
    """(host, CA file, Authorization header) as the client's in-cluster loader reads them, or the
    exception it raises."""
    client._import_kubernetes()
    from kubernetes.client.configuration import Configuration
    from kubernetes.config.incluster_config import InClusterConfigLoader

    configuration = Configuration()
    try:
        InClusterConfigLoader(str(token), str(ca), environ=env).load_and_set(configuration)
    except Exception as exc:  # whatever it raises is its answer
        return exc
    return configuration.host, configuration.ssl_ca_cert, client._auth_headers(configuration)()


SERVICE = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}

CASES = {
    "a pod": (SERVICE, "a-token\n", True),
    "an IPv6 service address": ({"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"},
                                "a-token", True),
    "no port": ({"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, "a-token", True),
    "an empty host": ({**SERVICE, "KUBERNETES_SERVICE_HOST": ""}, "a-token", True),
    "an empty token": (SERVICE, "", True),
    "no token file": (SERVICE, None, True),
    "an empty CA file": (SERVICE, "a-token", False),
    "no CA file": (SERVICE, "a-token", None),
    "a token that is not UTF-8": (SERVICE, b"\xff\xfe", True),
}


@pytest.mark.parametrize("case", CASES)
def test_the_service_account_is_read_as_the_clients_in_cluster_loader_reads_it(mounted, case):
    token, ca = mounted
    env, content, ca_state = CASES[case]
    if content is None:
        token.unlink()
    elif isinstance(content, bytes):
        token.write_bytes(content)
    else:
        token.write_text(content)
    if ca_state is None:
        ca.unlink()
    elif ca_state is False:
        ca.write_text("")

    ours = credentials.service_account(env)
    theirs = the_clients_view(env, token, ca)

    if ours is None:
        assert isinstance(theirs, Exception), theirs
    else:
        settings, headers = ours
        assert (settings.host, settings.ssl_ca_cert, headers()) == theirs
        assert settings.verify_ssl and settings.cert_file is None and settings.tls_server_name is None


def test_the_token_is_read_again_once_a_minute_old(mounted, monkeypatch):
    token, _ = mounted
    now = [1000.0]
    monkeypatch.setattr(credentials.time, "monotonic", lambda: now[0])
    _, headers = credentials.service_account(SERVICE)
    token.write_text("rotated")

    now[0] += credentials.TOKEN_REREAD_SECONDS - 1
    assert headers() == {"authorization": "bearer a-token"}
    now[0] += 1
    assert headers() == {"authorization": "bearer rotated"}

    token.write_text("")
    now[0] += credentials.TOKEN_REREAD_SECONDS
    with pytest.raises(PluginError, match="Token file exists but empty"):
        headers()


def test_a_command_in_a_pod_reaches_the_api_server_with_the_service_account(mounted, certificates, tmp_path,
                                                                           monkeypatch):
    with FakeApi(tls=certificates) as api:
        port = api.url.rsplit(":", 1)[1]
        env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": port, "HOME": str(tmp_path)}
        monkeypatch.delenv("KUBECONFIG", raising=False)
        monkeypatch.setenv("HOME", str(tmp_path))
        kube = client.connect(ConnectionFlags(namespace="shop"), env=env)
        kube.send("GET", "/api/v1/namespaces/shop/configmaps", "list", CONFIGMAPS)

    assert (kube.host, kube.namespace, kube.context) == (f"https://127.0.0.1:{port}", "shop", "in-cluster")
    assert [headers.get("authorization") for _, _, headers in api.requests] == ["bearer a-token"]


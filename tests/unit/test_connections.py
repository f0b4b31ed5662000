"""The standard-library transport (cluster/connections.py): through an http proxy as the
kubeconfig's proxy-url or HTTPS_PROXY says it (CONNECT, with the proxy's user from its URL), and
past it when NO_PROXY names the server; connections kept for the next request."""

from __future__ import annotations

import base64
import socket
import threading

import pytest

from kubectl_harness_rollback.cluster.client import connect
from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags
from kubectl_harness_rollback.cluster.rest import CONFIGMAPS
from tests.support.fake_api import FakeApi, pki


class ConnectProxy:
    """An http proxy that answers CONNECT only, and remembers each request line and its headers."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.seen: list[tuple[str, dict[str, str]]] = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}"

    def _serve(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client):
        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(1)
        line, *rest = head.decode().split("\r\n")
        self.seen.append((line, dict(h.split(": ", 1) for h in rest if h)))
        host, port = line.split()[1].rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    def close(self):
        self.server.close()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def proxy():
    found = ConnectProxy()
    yield found
    found.close()


def test_proxy_url_is_reached_with_connect_and_its_user(certificates, proxy, tmp_path):
    with FakeApi(tls=certificates) as api:
        address = proxy.url.replace("http://", "http://someone:p%40ss@")
        kube = connect(ConnectionFlags(kubeconfig=api.kubeconfig(tmp_path, {"token": "t"},
                                                                 cluster={"proxy-url": address})), env={})
        assert kube.list(CONFIGMAPS, "shop") == [] and kube.list(CONFIGMAPS, "shop") == []
    line, headers = proxy.seen[0]
    assert line.startswith(f"CONNECT 127.0.0.1:{api.server.server_address[1]} HTTP/")
    assert headers["Proxy-Authorization"] == "Basic " + base64.b64encode(b"someone:p@ss").decode()
    assert len(proxy.seen) == 1 and len(api.requests) == 2  # one tunnel, kept for the second request


def test_https_proxy_from_the_environment_unless_no_proxy_names_the_server(certificates, proxy, tmp_path):
    with FakeApi(tls=certificates) as api:
        config = api.kubeconfig(tmp_path, {"token": "t"})
        connect(ConnectionFlags(kubeconfig=config), env={"HTTPS_PROXY": proxy.url}).list(CONFIGMAPS, "shop")
        assert len(proxy.seen) == 1
        connect(ConnectionFlags(kubeconfig=config), env={"https_proxy": proxy.url, "NO_PROXY": "127.0.0.0/8"}
                ).list(CONFIGMAPS, "shop")
        assert len(proxy.seen) == 1 and len(api.requests) == 2

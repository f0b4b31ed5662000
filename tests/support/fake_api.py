"""A fake API server on 127.0.0.1 for the credential paths: it answers every GET with an empty
list, records each request's method, path and headers (so a test can count them and see what
was sent), and speaks TLS when given certificates — requiring a client certificate if asked.

    with FakeApi() as api:                       # plain HTTP
        kubeconfig = api.kubeconfig(tmp_path, user={"token": "abc"})
    with FakeApi(tls=pki(tmp_path), client_cert=True) as api: ...

pki() makes a CA, a server certificate for 127.0.0.1 and a client certificate with openssl.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

EMPTY_LIST = {"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": []}


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def pki(directory: Path) -> Pki:
    """A CA and two certificates it signed (server: 127.0.0.1; client: CN=tester), by openssl."""
    directory.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=fake-ca")
    (directory / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, subject, extra in (("server", "/CN=127.0.0.1", ["-extfile", "san.cnf"]), ("client", "/CN=tester", [])):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", "2", *extra)
    return Pki(directory / "ca.crt", directory / "server.crt", directory / "server.key", directory / "client.crt",
               directory / "client.key")


class FakeApi:
    def __init__(self, tls: Pki | None = None, client_cert: bool = False, answer=None):
        """`answer(method, path)` gives (status, body); by default, an empty list to everything."""
        self.answer = answer or (lambda method, path: (200, EMPTY_LIST))
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.peer_certs: list[dict] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                api.requests.append((self.command, self.path, dict(self.headers.items())))
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                peer = getattr(self.connection, "getpeercert", None)
                if peer is not None and peer():
                    api.peer_certs.append(peer())
                status, answer = api.answer(self.command, self.path.split("?")[0])
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_PATCH = do_DELETE = do_GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.tls = tls
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls.server_cert, tls.server_key)
            if client_cert:
                context.load_verify_locations(cafile=tls.ca)
                context.verify_mode = ssl.CERT_REQUIRED
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        # serve_forever looks for shutdown() every poll_interval (0.5 s by default): every test
        # that leaves a server would wait that long.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    def kubeconfig(self, directory: Path, user: dict, cluster: dict | None = None, name: str = "kubeconfig") -> str:
        """A kubeconfig file whose current context reaches this server as `user`."""
        cluster = {"server": self.url, **({"certificate-authority": str(self.tls.ca)} if self.tls else {}),
                   **(cluster or {})}
        path = directory / name
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": cluster}], "users": [{"name": "someone", "user": user}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "someone", "namespace": "shop"}}]}))
        return str(path)

    def __enter__(self) -> "FakeApi":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def empty_cluster(method: str, path: str) -> tuple[int, dict]:
    """An API server with nothing in it that lets the user write nothing: every collection is an
    empty list, every object is 404, discovery knows no resource, every write is 403."""
    if method != "GET":
        return 403, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403,
                     "message": f"{method} {path} is forbidden: User \"fuzz\" cannot do that"}
    parts = [p for p in path.split("/") if p]
    rest = parts[2:] if parts[:1] == ["api"] else parts[3:]
    if not rest:
        return 200, {"kind": "APIResourceList", "resources": []}
    if len(rest) % 2:
        return 200, EMPTY_LIST
    if rest[0] == "namespaces" and len(rest) == 2:  # every namespace exists, and is empty
        return 200, {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": rest[1]}, "status": {}}
    return 404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
                 "message": f"{rest[-2]} \"{rest[-1]}\" not found"}


def closed_port_kubeconfig(directory: Path, user: dict | None = None) -> str:
    """A kubeconfig whose server is a port nothing listens on: any request fails to connect."""
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago, and is closed now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = directory / "closed-kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "closed",
        "clusters": [{"name": "closed", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "someone", "user": user or {"token": "fuzz-token-not-a-secret"}}],
        "contexts": [{"name": "closed", "context": {"cluster": "closed", "user": "someone"}}]}))
    return str(path)

"""A plain-HTTP relay on 127.0.0.1 in front of the test cluster's API server (authenticating as the
kubeconfig's user) that lets a test step in before any request: make "someone else" write just
before the plugin's PATCH (a race lost deterministically), or let a write through and then act as
if the API server had died (every later request gets its connection dropped, no answer), or
trickle an answer byte by byte as a server at the end of a bad link would, or cut an answer
mid-stream after its first chunk, as a load balancer or a restarting API server cuts a watch."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

import yaml

RELAY, DROP, TRICKLE, CUT = "relay", "drop", "trickle", "cut"
TRICKLE_SECONDS = 0.05  # between two bytes of a trickled answer: well within any socket timeout


class Relay:
    """`before(method, path)` is called for every request and answers RELAY, DROP, TRICKLE or CUT."""

    def __init__(self, kubeconfig: str, before: Callable[[str, str], str], with_query: bool = False,
                 seen: list[tuple[str, str, bytes]] | None = None):
        """`with_query`: `before` sees the query string too (a watch is `?watch=1...`). `seen`: a
        list that gets every request's (method, path with query, body), in order."""
        import urllib3
        from kubernetes import client as k8s
        from kubernetes import config as k8s_config

        configuration = k8s.Configuration()
        k8s_config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
        pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=configuration.ssl_ca_cert,
                                   cert_file=configuration.cert_file, key_file=configuration.key_file)
        upstream, auth = configuration.host, configuration.api_key.get("authorization")

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if seen is not None:
                    seen.append((self.command, self.path, body))
                what = before(self.command, self.path if with_query else self.path.split("?")[0])
                if what == DROP:
                    self.close_connection = True  # as a dead server: the connection ends, no answer
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "accept-encoding", "connection")}
                if auth:
                    headers["Authorization"] = auth
                answer = pool.request(self.command, upstream + self.path, body=body or None, headers=headers,
                                      redirect=False, retries=False, preload_content=False)
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length", "content-encoding"):
                        self.send_header(key, value)
                # Passed on as it arrives (chunked), as a real proxy does: a watch streams its events.
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    while True:
                        chunk = answer.read1(65536)
                        if not chunk:
                            break
                        for part in ([chunk[i:i + 1] for i in range(len(chunk))] if what == TRICKLE else [chunk]):
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                            self.wfile.flush()
                            if what == TRICKLE:
                                time.sleep(TRICKLE_SECONDS)
                        if what == CUT:  # mid-stream: no last chunk, the connection just ends
                            self.close_connection = True
                            return
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):  # the client left a watch early
                    self.close_connection = True
                finally:
                    answer.close()  # a watch left early must not go back to the pool half read
                    answer.release_conn()

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = relay

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # shutdown() waits for serve_forever's next poll: 0.5 s by default.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def kubeconfig(self, path: Path, namespace: str = "default") -> str:
        """A kubeconfig that reaches the cluster through this relay (which authenticates)."""
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{"name": "c", "cluster": {"server": self.url}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": namespace}}],
            "users": [{"name": "u", "user": {}}],
        }))
        return str(path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_through(test_cluster, tmp_path: Path, namespace: str, before: Callable[[str, str], str], *args: str,
                with_query: bool = False, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the plugin (`args`, then `-n namespace`) with every request through a Relay whose
    `before` hook decides each one; the relay is closed afterwards."""
    relay = Relay(test_cluster.kubeconfig, before, with_query=with_query)
    try:
        env = {**test_cluster.env(), "KUBECONFIG": relay.kubeconfig(tmp_path / "via-relay", namespace)}
        return subprocess.run([shutil.which("kubectl-harness_rollback"), *args, "-n", namespace],
                              capture_output=True, text=True, env=env, timeout=timeout)
    finally:
        relay.close()


def dies_at(method: str, path_suffix: str) -> Callable[[str, str], str]:
    """A `before` hook for a server that dies just as the first `method` request to a path ending in
    `path_suffix` arrives: that request and every one after it get no answer."""
    dead = {"now": False}

    def before(request_method: str, path: str) -> str:
        if request_method == method and path.endswith(path_suffix):
            dead["now"] = True
        return DROP if dead["now"] else RELAY

    return before


def dies_after(method: str, path_suffix: str) -> Callable[[str, str], str]:
    """A `before` hook for a server that dies just after answering the first `method` request to a
    path ending in `path_suffix`: every request after it gets no answer."""
    dead = {"next": False}

    def before(request_method: str, path: str) -> str:
        if dead["next"]:
            return DROP
        dead["next"] = request_method == method and path.endswith(path_suffix)
        return RELAY

    return before

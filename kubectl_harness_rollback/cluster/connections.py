"""Keep-alive connections to the API server on the standard library (socket and ssl).

The transport of the request layer (rest.Rest): one call sends one request and returns the
answer with its body unread. Connections are kept for the next request, at most MAX_IDLE of
them, and may be shared by threads. TLS comes from an ssl.SSLContext built once, with the
keys already loaded into it (pool.py); an http:// proxy is reached with CONNECT for an https
API server, or with absolute URLs for an http one. One connection speaks HTTP/1.1 as
http.client does (http11.py), without loading it.
"""

from __future__ import annotations

import base64
import select
import threading
from urllib.parse import unquote, urlsplit

from kubectl_harness_rollback.cluster.http11 import Broken, Connection

MAX_IDLE = 10


class Connections:
    """transport(method, url, body, headers, timeout, stream) over kept-alive connections."""

    def __init__(self, host: str, ssl_context=None, server_name: str | None = None, proxy: str | None = None):
        target = urlsplit(host)
        self._tls = target.scheme == "https"
        self._address = (target.hostname, target.port or (443 if self._tls else 80))
        self._context, self._server_name = ssl_context, server_name
        self._proxy = urlsplit(proxy) if proxy else None
        self._tunnel_headers: dict[str, str] = {}
        if self._proxy is not None and self._proxy.username is not None:
            pair = f"{unquote(self._proxy.username)}:{unquote(self._proxy.password or '')}"
            self._tunnel_headers["Proxy-Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        self._idle: list[Connection] = []
        self._lock = threading.Lock()

    def _new(self) -> Connection:
        host, port = self._address
        if self._proxy is None:
            return Connection(host, port, self._context if self._tls else None, self._server_name)
        proxy = (self._proxy.hostname, self._proxy.port or 80)
        if self._tls:  # TLS inside the proxy's CONNECT tunnel
            return Connection(*proxy, self._context, self._server_name, tunnel=(host, port, self._tunnel_headers))
        return Connection(*proxy)

    def _take(self) -> Connection | None:
        with self._lock:
            while self._idle:
                connection = self._idle.pop()
                if not _dropped(connection):
                    return connection
                connection.close()
        return None

    def _give_back(self, connection: Connection) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(connection)
                return
        connection.close()

    def __call__(self, method: str, url: str, body, headers, timeout: tuple[float, float | None], stream: bool):
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if self._proxy is not None and not self._tls:
            target = url  # an http proxy is asked for the absolute URL
        connection = self._take() or self._new()
        try:
            if connection.sock is None:
                connection.connect(timeout[0])
            connection.sock.settimeout(timeout[1])
            response = connection.request(method, target, headers,
                                          body.encode() if isinstance(body, str) else body)
        except BaseException:
            connection.close()
            raise
        return _Answer(self, connection, response)


class _Answer:
    """An answer whose body is read as it arrives: its connection goes back to the pool once the
    body has been read to its end, or is closed when the answer is closed before."""

    def __init__(self, pool: Connections, connection: Connection, response):
        self.status = response.status
        self.connection = connection
        self._pool, self._response = pool, response

    def read1(self, size: int = 65536) -> bytes:
        response = self._response
        try:
            data = response.read1(size) if response.length != 0 else b""
        except Broken:
            self.close()
            raise
        if not data:
            if response.length:  # the server closed the connection before the whole body
                self.close()
                raise Broken("IncompleteRead", f"{response.length} bytes left")
            response.close()
            self.release_conn()
        return data

    read = read1

    def close(self) -> None:
        self._response.close()
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def release_conn(self) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        if self._response.isclosed() and not self._response.will_close:
            self._pool._give_back(connection)
        else:
            self._response.close()
            connection.close()


def _dropped(connection: Connection) -> bool:
    """Whether a kept connection was closed by the server meanwhile (readable while idle: EOF)."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True

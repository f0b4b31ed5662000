"""Keep-alive connections to the API server on the standard library (http.client and ssl).

The transport of the request layer (rest.Rest): one call sends one request and returns the
answer with its body unread. Connections are kept for the next request, at most MAX_IDLE of
them, and may be shared by threads. TLS comes from an ssl.SSLContext built once, with the
keys already loaded into it (pool.py); an http:// proxy is reached with CONNECT for an https
API server, or with absolute URLs for an http one.
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
import threading
from urllib.parse import unquote, urlsplit

MAX_IDLE = 10


class _TLSConnection(http.client.HTTPConnection):
    """http.client's HTTPSConnection, with the name checked against the certificate given apart
    from the address (the kubeconfig's tls-server-name)."""

    default_port = 443

    def __init__(self, host: str, port: int | None, timeout: float, context, server_name: str | None):
        super().__init__(host, port, timeout=timeout)
        self._context, self._server_name = context, server_name

    def connect(self) -> None:
        super().connect()  # TCP, and the proxy's CONNECT tunnel when set_tunnel was called
        name = self._server_name or self._tunnel_host or self.host
        self.sock = self._context.wrap_socket(self.sock, server_hostname=_ascii(name))


def _ascii(host: str) -> str | bytes:
    """An ASCII host name as bytes: socket and ssl then skip the IDNA codec, whose import
    (stringprep, unicodedata) costs more than the request."""
    return host.encode("ascii") if host.isascii() else host


def _create_connection(address, *args, **kwargs):
    return socket.create_connection((_ascii(address[0]), address[1]), *args, **kwargs)


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
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _new(self, connect_timeout: float) -> http.client.HTTPConnection:
        host, port = self._address
        if self._proxy is not None:
            host, port = self._proxy.hostname, self._proxy.port or 80
        if self._tls:
            connection = _TLSConnection(host, port, connect_timeout, self._context, self._server_name)
            if self._proxy is not None:
                connection.set_tunnel(*self._address, headers=self._tunnel_headers)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=connect_timeout)
        connection._create_connection = _create_connection
        return connection

    def _take(self) -> http.client.HTTPConnection | None:
        with self._lock:
            while self._idle:
                connection = self._idle.pop()
                if not _dropped(connection):
                    return connection
                connection.close()
        return None

    def _give_back(self, connection: http.client.HTTPConnection) -> None:
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
        connection = self._take() or self._new(timeout[0])
        try:
            if connection.sock is None:
                connection.timeout = timeout[0]
                connection.connect()
            connection.sock.settimeout(timeout[1])
            connection.putrequest(method, target, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            if body is not None:
                body = body.encode() if isinstance(body, str) else body
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
        except http.client.HTTPException as exc:
            connection.close()
            raise ConnectionError(f"connection broken: {exc.__class__.__name__}") from None
        except BaseException:
            connection.close()
            raise
        return _Answer(self, connection, response)


class _Answer:
    """An answer whose body is read as it arrives: its connection goes back to the pool once the
    body has been read to its end, or is closed when the answer is closed before."""

    def __init__(self, pool: Connections, connection: http.client.HTTPConnection, response):
        self.status = response.status
        self.connection = connection
        self._pool, self._response = pool, response

    def read1(self, size: int = 65536) -> bytes:
        response = self._response
        try:
            # http.client's read1 never closes an answer whose length it has counted down to 0.
            data = response.read1(size) if response.length != 0 else b""
        except http.client.HTTPException as exc:
            self.close()
            raise ConnectionError(f"connection broken: {exc.__class__.__name__}") from None
        if not data:
            if response.length:  # the server closed the connection before the whole body
                self.close()
                raise ConnectionError(f"connection broken: IncompleteRead ({response.length} bytes left)")
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


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether a kept connection was closed by the server meanwhile (readable while idle: EOF)."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True

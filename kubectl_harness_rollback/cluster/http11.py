"""One HTTP/1.1 connection on socket and ssl: a request written, its answer framed as http.client frames it.

The API server speaks HTTP/1.1 with a Content-Length or chunked body; a proxy answers CONNECT.
This is what connections.py needs of http.client, and behaves as it does (the same limits, the
same framing, the same Host header, the same CONNECT line), without importing it: http.client
parses headers with the email package, whose import (email.parser, email.utils, calendar,
locale, random) costs every command about 8 ms before its first request. A broken answer raises
ConnectionError named as http.client names the case (RemoteDisconnected, BadStatusLine,
LineTooLong, IncompleteRead...); a timeout raises the socket's TimeoutError.
"""

from __future__ import annotations

import socket

# http.client's limits: one line of the head at most, and headers at most, per answer.
MAX_LINE = 65536
MAX_HEADERS = 100
_NO_BODY = (204, 304)


class Broken(ConnectionError):
    """The answer is not HTTP/1.x or stopped short: the connection cannot carry another request."""

    def __init__(self, case: str, detail: str = ""):
        super().__init__(f"connection broken: {case}" + (f" ({detail})" if detail else ""))


def _ascii(host: str) -> str | bytes:
    """An ASCII host name as bytes: socket and ssl then skip the IDNA codec, whose import
    (stringprep, unicodedata) costs more than the request."""
    return host.encode("ascii") if host.isascii() else host


def _host_bytes(host: str) -> bytes:
    return host.encode("ascii") if host.isascii() else host.encode("idna")


def _legal_name(name: bytes) -> bool:
    """http.client's rule: not empty, no colon, CR or LF, and no white space first."""
    return bool(name) and name[0] not in b": \t\n\r\x0b\x0c" and not any(c in name for c in b":\r\n")


def _legal_value(value: bytes) -> bool:
    """http.client's rule: a CR or LF only as the start of a folded line (followed by a space or tab)."""
    if b"\r" not in value and b"\n" not in value:
        return True
    for index, byte in enumerate(value):
        if byte in (10, 13):
            following = value[index + 1:index + 2]
            if byte == 10 and following not in (b" ", b"\t"):
                return False
            if byte == 13 and following not in (b" ", b"\t", b"\n"):
                return False
    return True


class Connection:
    """One connection to `host`:`port`, made by connect(): plain, or TLS with `context` and the
    name checked against `server_name` (else the host's); through an http proxy's CONNECT tunnel to
    `tunnel` = (host, port, headers) when given (`host`:`port` is then the proxy's)."""

    def __init__(self, host: str, port: int, context=None, server_name: str | None = None,
                 tunnel: tuple[str, int, dict[str, str]] | None = None):
        self.host, self.port = host, port
        self.context, self.server_name, self.tunnel = context, server_name, tunnel
        self.default_port = 443 if context is not None else 80
        self.sock = None
        self._reader = None

    def connect(self, timeout: float | None) -> None:
        sock = socket.create_connection((_ascii(self.host), self.port), timeout)
        try:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client
            except OSError:
                pass
            if self.tunnel is not None:
                self._through_tunnel(sock)
            if self.context is not None:
                name = self.server_name or (self.tunnel[0] if self.tunnel else self.host)
                sock = self.context.wrap_socket(sock, server_hostname=_ascii(name))
        except BaseException:
            sock.close()
            raise
        self.sock, self._reader = sock, sock.makefile("rb")

    def _through_tunnel(self, sock) -> None:
        host, port, headers = self.tunnel
        lines = [b"CONNECT %s:%d HTTP/1.0\r\n" % (_host_bytes(host), port)]
        lines += [f"{name}: {value}\r\n".encode("latin-1") for name, value in headers.items()]
        sock.sendall(b"".join(lines) + b"\r\n")
        # Read byte by byte: whatever follows the proxy's answer is the TLS handshake's.
        reader = sock.makefile("rb", buffering=0)
        try:
            _, status, reason = _status_line(reader)
            _headers(reader)
        finally:
            reader.close()
        if status != 200:
            raise OSError(f"Tunnel connection failed: {status} {reason.strip()}")

    def close(self) -> None:
        reader, sock, self._reader, self.sock = self._reader, self.sock, None, None
        if reader is not None:
            reader.close()
        if sock is not None:
            sock.close()

    def request(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None) -> Response:
        """Send one request on the connected connection and read the head of its answer (its
        body is read by the Response's read1)."""
        if any(c <= " " or c == "\x7f" for c in target):
            raise Broken("InvalidURL")
        head = [f"{method} {target} HTTP/1.1\r\n".encode("ascii"), b"Host: " + self._host_header(target) + b"\r\n"]
        for name, value in headers:
            name_bytes = name.encode("ascii")
            value_bytes = value.encode("latin-1") if isinstance(value, str) else str(value).encode("latin-1")
            if not _legal_name(name_bytes):
                raise ValueError(f"Invalid header name {name!r}")
            if not _legal_value(value_bytes):
                raise ValueError(f"Invalid value of header {name}")  # never quoted: it may be a credential
            head.append(name_bytes + b": " + value_bytes + b"\r\n")
        if body is not None:
            head.append(b"Content-Length: %d\r\n" % len(body))
        head.append(b"\r\n")
        self.sock.sendall(b"".join(head) + (body or b""))
        return Response(self._reader, method)

    def _host_header(self, target: str) -> bytes:
        """http.client's Host: the absolute URL's (an http proxy), else the server's (the tunnel's
        end), with its port unless it is the scheme's."""
        if target.startswith("http"):
            netloc = target.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0]
            return _host_bytes(netloc)
        host, port = (self.tunnel[0], self.tunnel[1]) if self.tunnel else (self.host, self.port)
        encoded = _host_bytes(host)
        if b":" in encoded:
            encoded = b"[" + encoded.split(b"%", 1)[0] + b"]"
        return encoded if port == self.default_port else encoded + b":%d" % port


def _status_line(reader) -> tuple[int, int, str]:
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise Broken("LineTooLong")
    if not line:
        raise Broken("RemoteDisconnected")
    parts = line.decode("iso-8859-1").split(None, 2)
    version, status, reason = (parts + ["", "", ""])[:3]
    if not version.startswith("HTTP/"):
        raise Broken("BadStatusLine")
    try:
        code = int(status)
    except ValueError:
        raise Broken("BadStatusLine") from None
    if not 100 <= code <= 999:
        raise Broken("BadStatusLine")
    if version in ("HTTP/1.0", "HTTP/0.9"):
        return 10, code, reason
    if not version.startswith("HTTP/1."):
        raise Broken("UnknownProtocol")
    return 11, code, reason


def _headers(reader) -> dict[str, str]:
    """The header lines up to the blank one, as lower-case name: first value (what http.client's
    framing reads); a folded line continues the value before it."""
    found: dict[str, str] = {}
    last = None
    for count in range(MAX_HEADERS + 1):
        line = reader.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise Broken("LineTooLong")
        if count == MAX_HEADERS:  # as http.client counts: the blank line too
            break
        if line in (b"\r\n", b"\n", b""):
            return found
        text = line.decode("iso-8859-1")
        if text[:1] in " \t" and last is not None:
            found[last] = (found[last] + " " + text.strip()).strip()
            continue
        name, colon, value = text.partition(":")
        if not colon:
            continue
        last = name.strip().lower()
        found.setdefault(last, value.strip())
    raise Broken("HTTPException")


class Response:
    """One answer: its status and head read, its body read by read1() as it arrives. `length`:
    the bytes of a Content-Length body not read yet (None: chunked, or until the server closes).
    `will_close`: the connection cannot carry another request after this answer."""

    def __init__(self, reader, method: str):
        while True:
            version, status, _ = _status_line(reader)
            headers = _headers(reader)
            if status != 100:
                break
        self.status = status
        self._reader = reader if method != "HEAD" else None  # an answer to HEAD has no body, whatever it says
        self.chunked = (headers.get("transfer-encoding") or "").lower() == "chunked"
        self.will_close = _closes(version, headers)
        length = None
        if not self.chunked and headers.get("content-length"):
            try:
                length = int(headers["content-length"])
            except ValueError:
                length = None
            if length is not None and length < 0:
                length = None
        if status in _NO_BODY or 100 <= status < 200 or method == "HEAD":
            length = 0
        if not self.will_close and not self.chunked and length is None:
            self.will_close = True
        self.length = length
        self._chunk_left: int | None = None

    def isclosed(self) -> bool:
        return self._reader is None

    def close(self) -> None:
        self._reader = None  # the reader is the connection's: it closes it

    def read1(self, size: int = 65536) -> bytes:
        """Up to `size` bytes of the body, whatever has arrived (at least one byte, unless the
        body is over: then b"")."""
        if self._reader is None:
            return b""
        if self.chunked:
            return self._read1_chunked(size)
        if self.length is not None and size > self.length:
            size = self.length
        data = self._reader.read1(size) if size else b""
        if not data and size:
            self.close()  # the server closed the connection: the body ends here (short if length is left)
        elif self.length is not None:
            self.length -= len(data)
        return data

    def _read1_chunked(self, size: int) -> bytes:
        left = self._chunk_left
        if not left:
            if left is not None:
                self._exactly(2)  # the CRLF that ends a chunk's data
            left = self._next_chunk_size()
            if left == 0:
                self._trailer()
                self.close()
                return b""
            self._chunk_left = left
        data = self._reader.read1(min(size, left))
        if not data:
            raise Broken("IncompleteRead")
        self._chunk_left = left - len(data)
        return data

    def _next_chunk_size(self) -> int:
        line = self._reader.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise Broken("LineTooLong")
        try:
            return int(line.split(b";", 1)[0], 16)
        except ValueError:
            raise Broken("IncompleteRead") from None

    def _exactly(self, count: int) -> bytes:
        data = self._reader.read(count)
        if len(data) < count:
            raise Broken("IncompleteRead")
        return data

    def _trailer(self) -> None:
        while True:
            line = self._reader.readline(MAX_LINE + 1)
            if len(line) > MAX_LINE:
                raise Broken("LineTooLong")
            if line in (b"\r\n", b"\n", b""):
                return


def _closes(version: int, headers: dict[str, str]) -> bool:
    """http.client's _check_close: HTTP/1.1 keeps the connection unless told to close; HTTP/1.0
    closes it unless told to keep it."""
    connection = (headers.get("connection") or "").lower()
    if version == 11:
        return "close" in connection
    if "keep-alive" in headers or "keep-alive" in connection:
        return False
    return "keep-alive" not in (headers.get("proxy-connection") or "").lower()

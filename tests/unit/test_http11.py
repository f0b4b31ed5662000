"""cluster/http11.py frames an answer as http.client frames it (checked against http.client itself
on the same bytes, for any head and body a property generates), writes the request line and Host
header as it does, keeps a connection only when HTTP/1.x allows it, and names a broken answer as
http.client names it, without ever quoting a header value."""

from __future__ import annotations

import http.client
import socket
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_harness_rollback.cluster import http11
from kubectl_harness_rollback.cluster.connections import Connections
from kubectl_harness_rollback.cluster.http11 import Broken, Connection, Response


def _fed(data: bytes):
    """A socket whose peer sent `data` and closed."""
    ours, theirs = socket.socketpair()
    theirs.sendall(data)
    theirs.close()
    return ours


def ours(data: bytes, method: str = "GET") -> tuple:
    sock = _fed(data)
    try:
        response = Response(sock.makefile("rb"), method)
        body = b""
        while True:
            part = response.read1(7) if response.length != 0 else b""  # as connections._Answer reads
            if not part:
                break
            body += part
        return ("answer", response.status, body, response.will_close, response.length or 0)
    except Broken as broken:
        return ("broken", str(broken).removeprefix("connection broken: ").split(" ")[0])
    finally:
        sock.close()


def theirs(data: bytes, method: str = "GET") -> tuple:
    sock = _fed(data)
    try:
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        body = b""
        while True:
            part = response.read1(7) if response.length != 0 else b""  # as connections.py read it
            if not part:
                break
            body += part
        return ("answer", response.status, body, response.will_close, response.length or 0)
    except http.client.HTTPException as exc:
        return ("broken", exc.__class__.__name__)
    finally:
        sock.close()


_TOKEN = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
_VALUE = st.text("abcdefghijklmnopqrstuvwxyz0123456789 ;=,-/", max_size=20)


@st.composite
def answers(draw) -> bytes:
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/0.9", "HTTP/2.0", "HTTP/1.1 ", "HTPT/1.1"]))
    status = draw(st.sampled_from([200, 201, 204, 304, 404, 410, 500, 99, 1000]))
    head = [f"{version} {status} {draw(st.sampled_from(['OK', 'Not Found', '', 'Two Words']))}"]
    if draw(st.booleans()):
        head = ["HTTP/1.1 100 Continue", ""] + head
    body = draw(st.binary(max_size=40))
    framing = draw(st.sampled_from(["length", "chunked", "close", "bad length", "negative length", "both"]))
    headers = [f"{name}: {value}" for name, value in draw(st.lists(st.tuples(_TOKEN, _VALUE), max_size=4))]
    connection = draw(st.sampled_from([None, "close", "keep-alive", "Keep-Alive, foo"]))
    if connection:
        headers.append(f"Connection: {connection}")
    if draw(st.booleans()):
        headers.append(" folded onto the line before")
    encoded = body
    if framing in ("length", "both"):
        headers.append(f"Content-Length: {len(body)}")
    if framing == "bad length":
        headers.append("Content-Length: twelve")
    if framing == "negative length":
        headers.append("Content-Length: -3")
    if framing in ("chunked", "both"):
        headers.append("Transfer-Encoding: chunked")
        sizes = draw(st.lists(st.integers(1, 9), max_size=6))
        parts, at = [], 0
        for size in sizes:
            piece = body[at:at + size]
            if not piece:
                break
            extension = draw(st.sampled_from(["", ";name=value"]))
            parts.append(b"%x%s\r\n%s\r\n" % (len(piece), extension.encode(), piece))
            at += len(piece)
        if at < len(body):
            parts.append(b"%x\r\n%s\r\n" % (len(body) - at, body[at:]))
        trailer = draw(st.sampled_from([b"", b"X-Trailer: yes\r\n"]))
        encoded = b"".join(parts) + b"0\r\n" + trailer + b"\r\n"
    data = ("\r\n".join(head + headers) + "\r\n\r\n").encode("latin-1") + encoded
    cut = draw(st.sampled_from([None, None, None, 0.5, 0.9]))
    return data[:int(len(data) * cut)] if cut else data


@settings(max_examples=300, deadline=None)
@given(answers(), st.sampled_from(["GET", "HEAD"]))
def test_an_answer_is_framed_as_http_client_frames_it(data, method):
    assert ours(data, method) == theirs(data, method)


@pytest.mark.parametrize("data, case", [
    (b"", "RemoteDisconnected"),
    (b"SSH-2.0-OpenSSH\r\n\r\n", "BadStatusLine"),
    (b"HTTP/1.1 abc OK\r\n\r\n", "BadStatusLine"),
    (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000 + b"\r\n\r\n", "LineTooLong"),
    (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 100 + b"\r\n", "HTTPException"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "IncompleteRead"),
])
def test_a_broken_answer_is_named_as_http_client_names_it(data, case):
    assert ours(data) == theirs(data) == ("broken", case)


def test_ninety_nine_headers_are_still_an_answer():
    data = b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 98 + b"Content-Length: 2\r\n\r\nok"
    assert ours(data) == theirs(data) == ("answer", 200, b"ok", False, 0)


class Server:
    """Answers each request on a connection with `answer`, and keeps what it was sent."""

    def __init__(self, answer: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.answer, self.received, self.connections = answer, [], 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._talk, args=(client,), daemon=True).start()

    def _talk(self, client):
        with client, client.makefile("rb") as reader:
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                self.received.append(head + reader.read(length))
                client.sendall(self.answer)

    def close(self):
        self.listener.close()


@pytest.fixture
def server():
    found = Server()
    yield found
    found.close()


def test_the_request_is_written_as_http_client_writes_it_and_the_connection_is_kept(server):
    pool = Connections(f"http://127.0.0.1:{server.port}")
    for body in (None, '{"a": 1}'):
        answer = pool("POST" if body else "GET", f"http://127.0.0.1:{server.port}/api/v1/x?a=b",
                      body, [("Accept", "application/json")], (5, 5), False)
        assert (answer.status, answer.read1(), answer.read1()) == (200, b"ok", b"")
    assert server.received == [
        f"GET /api/v1/x?a=b HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nAccept: application/json\r\n\r\n".encode(),
        f"POST /api/v1/x?a=b HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nAccept: application/json\r\n"
        'Content-Length: 8\r\n\r\n{"a": 1}'.encode()]
    assert server.connections == 1


@pytest.mark.parametrize("host, port, tls, expected", [
    ("example.test", 443, True, b"example.test"), ("example.test", 6443, True, b"example.test:6443"),
    ("example.test", 80, False, b"example.test"), ("::1", 6443, True, b"[::1]:6443"),
])
def test_the_host_header_is_http_clients(host, port, tls, expected):
    connection = Connection(host, port, object() if tls else None)
    assert connection._host_header("/api") == expected
    reference = (http.client.HTTPSConnection if tls else http.client.HTTPConnection)(host, port)
    reference._output = lambda line: sent.append(line)
    sent: list[bytes] = []
    reference.putrequest("GET", "/api", skip_accept_encoding=True)
    assert sent[1] == b"Host: " + expected


def test_an_http_proxy_gets_the_absolute_url_and_its_host():
    assert Connection("proxy.test", 3128)._host_header("http://api.test:8080/api/v1?x=1") == b"api.test:8080"


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=12) | st.text(" \t\r\n:ab\x0b", max_size=8).map(str.encode))
def test_a_header_name_or_value_is_refused_where_http_client_refuses_it(data):
    assert http11._legal_name(data) == bool(http.client._is_legal_header_name(data))
    assert http11._legal_value(data) == (not http.client._is_illegal_header_value(data))


def test_a_header_value_that_would_split_the_request_is_refused_unquoted_before_anything_is_sent(server):
    pool = Connections(f"http://127.0.0.1:{server.port}")
    with pytest.raises(ValueError) as refused:
        pool("GET", f"http://127.0.0.1:{server.port}/x", None, [("Authorization", "Bearer s3cret\r\nX: y")],
             (5, 5), False)
    assert "s3cret" not in str(refused.value)
    assert server.received == []


def test_a_body_cut_short_is_an_incomplete_read_and_the_connection_is_not_kept():
    found = Server(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    try:
        pool = Connections(f"http://127.0.0.1:{found.port}")
        answer = pool("GET", f"http://127.0.0.1:{found.port}/x", None, [], (5, 0.5), False)
        assert answer.read1() == b"abc"
        with pytest.raises((Broken, TimeoutError)):
            answer.read1()
        assert pool._idle == []
    finally:
        found.close()


def test_a_connection_closed_by_the_server_meanwhile_is_not_reused():
    found = Server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    try:
        pool = Connections(f"http://127.0.0.1:{found.port}")
        for _ in range(2):
            answer = pool("GET", f"http://127.0.0.1:{found.port}/x", None, [], (5, 5), False)
            assert answer.read1() == b"ok" and answer.read1() == b""
        assert found.connections == 2 and pool._idle == []
    finally:
        found.close()


def test_http11_does_not_load_http_client_or_email():
    import subprocess
    import sys

    code = ("import sys; import kubectl_harness_rollback.cluster.connections; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('http', 'email')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    assert http11.MAX_LINE == http.client._MAXLINE and http11.MAX_HEADERS == http.client._MAXHEADERS

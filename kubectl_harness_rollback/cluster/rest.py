"""The request layer: every API request the plugin makes, by resource path, as plain dicts.

It sends over the connection pool the kubernetes package builds from the kubeconfig (TLS,
proxies) and the credentials it keeps (tokens, exec plugins' refreshed tokens), but no
generated `*Api` class or model is imported: the plugin works on the API's JSON as
`kubectl get -o json` shows it, and building those classes cost more than a whole `kubectl get`.

Here, and only here, an HTTP error becomes a typed error naming the verb and the resource
(apierrors.from_response); every request is counted, bounded by --request-timeout and by the
command's deadline, and carries the impersonation headers.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, Callable, Iterator
from urllib.parse import quote, urlencode

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.cluster import apierrors, header_values
from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.errors import ClusterUnreachable, ConfigError, PluginError

# kubectl's dialer gives up connecting after 30 s, even with --request-timeout 0.
CONNECT_TIMEOUT = 30.0
# An API server that answers a request this fast (on the same host, or to a pipeline's pod in its
# cluster) answers a few small requests one after another sooner than the extra connections that
# asking them at once needs are opened (HTTP/1.1 carries one request at a time on a connection,
# and each new one is a TLS handshake): see `Rest.near`.
NEAR_SECONDS = 0.002
PAGE_SIZE = 500
# Metadata is a few hundred bytes an object: large pages keep `list -A` at a handful of requests.
METADATA_PAGE_SIZE = 10_000
METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
PATCH_TYPES = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}


@data_class(frozen=True)
class Resource:
    """A resource type of the API: group ("" for core), version, plural name."""

    group: str
    version: str
    plural: str
    namespaced: bool = True

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        where = f"/namespaces/{quote(namespace, safe='')}" if namespace and self.namespaced else ""
        return f"{root}{where}/{self.plural}" + (f"/{quote(name, safe='')}" if name else "")

    @classmethod
    def of(cls, kind: kinds.Kind) -> Resource:
        """The resource the table maps `kind` to."""
        return cls(kind.group, kind.version, kind.plural, kind.namespaced)


NAMESPACES = Resource.of(kinds.NAMESPACE)
CONFIGMAPS = Resource.of(kinds.CONFIG_MAP)
SECRETS = Resource.of(kinds.SECRET)
SERVICES = Resource.of(kinds.SERVICE)
EVENTS = Resource.of(kinds.EVENT)
PODS = Resource.of(kinds.POD)
SERVICEACCOUNTS = Resource.of(kinds.SERVICE_ACCOUNT)
PERSISTENTVOLUMECLAIMS = Resource.of(kinds.PERSISTENT_VOLUME_CLAIM)
PRIORITYCLASSES = Resource.of(kinds.PRIORITY_CLASS)
DEPLOYMENTS = Resource.of(kinds.DEPLOYMENT)
REPLICASETS = Resource.of(kinds.REPLICA_SET)
CONTROLLERREVISIONS = Resource.of(kinds.CONTROLLER_REVISION)
HORIZONTALPODAUTOSCALERS = Resource.of(kinds.HORIZONTAL_POD_AUTOSCALER)
PODDISRUPTIONBUDGETS = Resource.of(kinds.POD_DISRUPTION_BUDGET)
SELF_SUBJECT_ACCESS_REVIEWS = Resource.of(kinds.SELF_SUBJECT_ACCESS_REVIEW)
SELF_SUBJECT_REVIEWS = Resource.of(kinds.SELF_SUBJECT_REVIEW)


def request_timeouts(request_timeout: float | None, default: float) -> tuple[float, float | None]:
    """(connect, read) timeouts of one request for the --request-timeout given (None: not given).

    kubectl waits forever by default; a rollback must not, so a request that was not given a
    timeout gets `default`. `--request-timeout 0` means no read timeout, as in kubectl;
    connecting is bounded all the same.
    """
    if request_timeout is None:
        request_timeout = default
    if not request_timeout:
        return CONNECT_TIMEOUT, None
    return min(request_timeout, CONNECT_TIMEOUT), request_timeout


REQUEST_LOG_LEVEL = 6  # kubectl's -v level that logs each request


def request_log_line(method: str, url: str, status: int | None, seconds: float) -> str:
    """kubectl -v=6's line: `GET https://host/path?query 200 OK in 5 milliseconds`."""
    answer = f"{status} {_REASONS.get(status, '')}".rstrip() if status is not None else "(no response)"
    return f"{method} {url} {answer} in {round(seconds * 1000)} milliseconds"


_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found", 409: "Conflict", 410: "Gone", 422: "Unprocessable Entity",
            429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable",
            504: "Gateway Timeout"}


def _stderr_line(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class Sent(tuple):
    """One request of the log: compares as (METHOD, path); `.query` and `.accept` say more
    (a metadata-only list is a GET of the same path)."""

    def __new__(cls, method: str, path: str, query: str = "", accept: str = ""):
        sent = super().__new__(cls, (method, path))
        sent.query, sent.accept = query, accept
        return sent

    @property
    def metadata_only(self) -> bool:
        return self.accept == METADATA_ONLY


class Rest:
    """get/list/patch/create/delete/watch by resource path, returning dicts.

    `transport` sends one request: transport(method, url, body, headers, timeout, stream) and
    returns the answer with its body unread: .status, .read1(n), .close(), .release_conn() (and
    .connection.sock, whose timeout is shrunk to what is left). An answer with .data instead is
    taken as read (tests' transports).
    `auth_headers()` gives the credentials' headers at the time of each request (an exec
    plugin's token is refreshed there).
    """

    def __init__(self, host: str, transport, auth_headers=lambda: {}, headers: list[tuple[str, str]] = (),
                 timeouts: tuple[float, float | None] = (CONNECT_TIMEOUT, 30.0), verbosity: int = 0,
                 log=None):
        self.host = host.rstrip("/")
        self.transport = transport
        self.auth_headers = auth_headers
        self.headers = list(headers)  # (name, value), a name may repeat (Impersonate-Group)
        self.timeouts = timeouts
        # Every request sent, in order: lets tests and the benchmark count them.
        self.requests: list[Sent] = []
        # The resourceVersion of the latest list of each collection (by path): where a watch of
        # what was read starts (`status --watch`).
        self.listed: dict[str, str] = {}
        # time.monotonic() by which the whole command must end (rollback's --timeout): no request
        # waits past it, whatever its own timeout. None: each request has only its own.
        self.deadline: float | None = None
        # Set (a threading.Event) when the run this connection serves was interrupted: every later
        # request raises KeyboardInterrupt in the thread that sends it, as Ctrl-C does in the main
        # thread (many contexts: fleet/run.py). None: only Ctrl-C itself interrupts.
        self.cancel = None
        # -v 6 and above: one line per request (kubectl's request log), never a body or a header.
        self.log = (log or _stderr_line) if verbosity >= REQUEST_LOG_LEVEL else None
        self.fastest: float | None = None  # seconds: the quickest whole request so far (not a watch)
        # Reads started in a thread before their caller asks for them (reader.read_ahead), by what
        # they read: each is taken once, by the first caller that asks for that very read.
        self.started: dict[Any, Started] = {}

    @property
    def near(self) -> bool:
        """Whether a request was answered within NEAR_SECONDS: a few small requests then go one
        after another on the kept connection; else at once, each on a connection of its own."""
        return self.fastest is not None and self.fastest < NEAR_SECONDS

    def together(self, calls: list[Callable[[], Any]], at_most: int) -> list[Any]:
        """The results of `calls` (each a few small requests), in order: one after another when
        the API server is near, else up to `at_most` at once in threads (concurrent.futures is
        imported only then); the first exception, in the order of `calls`, is raised."""
        if self.near:
            return [call() for call in calls]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=at_most) as pool:
            return list(pool.map(lambda call: call(), calls))

    @property
    def acting_as(self) -> str | None:
        """The user impersonated (--as), named in the advice of a 403."""
        return next((value for header, value in self.headers if header == "Impersonate-User"), None)

    # -- the one place a request is sent --------------------------------------------------------

    def _ends(self, started: float, stream: bool) -> float | None:
        """time.monotonic() by which this request must be over, body included (None: no bound).

        As kubectl's --request-timeout, the timeout bounds the whole request (connecting, sending,
        reading the full answer), not each socket operation: a server that trickles its answer
        byte by byte is cut off all the same. A watch is long on purpose: it is bounded by its
        own timeoutSeconds and by the command's deadline instead.
        """
        whole = None if stream else self.timeouts[1]
        ends = started + whole if whole else None
        if self.deadline is not None:
            ends = self.deadline if ends is None else min(ends, self.deadline)
        return ends

    def _timeout(self, ends: float | None, read: float | None = None) -> tuple[float, float | None]:
        """(connect, read) socket timeouts: none longer than what is left before `ends`."""
        connect, default_read = self.timeouts
        read = default_read if read is None else read
        if ends is None:
            return connect, read
        left = max(ends - time.monotonic(), 0.001)
        return min(connect, left), (min(read, left) if read else left)

    def _timed_out(self, method: str, path: str, ends: float) -> PluginError:
        if self.deadline is not None and ends >= self.deadline:
            return PluginError(f"timed out: the command's --timeout ran out during {method} {path}")
        return ClusterUnreachable(
            f"timed out: {method} {path} did not complete within {_seconds(self.timeouts[1])} (--request-timeout); "
            "check the API server with 'kubectl cluster-info', or allow longer with --request-timeout")

    def send(self, method: str, path: str, verb: str, resource: Resource, namespace: str | None = None,
             name: str | None = None, query: dict | None = None, body: Any = None, content_type: str | None = None,
             accept: str = "application/json", stream: bool = False, read_timeout: float | None = None):
        """Send one request; the answer, its body read (`.data`) unless `stream`. An error status
        raises its typed error; running out of time, a one-line timeout error."""
        if self.cancel is not None and self.cancel.is_set():
            raise KeyboardInterrupt
        query_string = urlencode({k: v for k, v in (query or {}).items() if v is not None})
        credentials = self.auth_headers()
        headers = [("Accept", accept), *self.headers, *credentials.items()]
        _check_headers(headers, credentials)
        self.requests.append(Sent(method, path, query_string, accept))
        if body is not None:
            headers.append(("Content-Type", content_type or "application/json"))
            body = body if isinstance(body, (bytes, str)) else json.dumps(body)
        url = self.host + path + (f"?{query_string}" if query_string else "")
        started = time.monotonic()
        ends = self._ends(started, stream)
        status = None
        try:
            response = self.transport(method, url, body, headers,
                                      self._timeout(ends, read_timeout if stream else None), stream)
            status = response.status
            data = b"" if stream else _read_body(response, ends)
        except Exception as exc:
            error = self._timed_out(method, path, ends) if ends is not None and _is_timeout(exc) \
                else _scrubbed(apierrors.translate(exc), credentials.values())
            if self.log:
                self.log(request_log_line(method, url, status, time.monotonic() - started))
            raise error from None
        took = time.monotonic() - started
        if self.log:
            self.log(request_log_line(method, url, status, took))
        if not stream and (self.fastest is None or took < self.fastest):
            self.fastest = took
        if status >= 400:
            raise apierrors.from_response(status, data, verb, resource.plural, namespace, name, self.acting_as)
        return response if stream else _Answer(status, data)

    def _json(self, *args, **kwargs) -> dict:
        return json.loads(self.send(*args, **kwargs).data or b"{}")

    # -- verbs ------------------------------------------------------------------------------------

    def get(self, resource: Resource, name: str, namespace: str | None = None) -> dict:
        return self._json("GET", resource.path(namespace, name), "get", resource, namespace, name)

    def get_or_none(self, resource: Resource, name: str, namespace: str | None = None) -> dict | None:
        """Like get(), but None when the object does not exist."""
        try:
            return self.get(resource, name, namespace)
        except apierrors.NotFound:
            return None

    def list_with_version(self, resource: Resource, namespace: str | None = None, label_selector: str | None = None,
                          field_selector: str | None = None, metadata_only: bool = False, page_size: int | None = None,
                          trim: Callable[[dict], dict | None] | None = None,
                          not_older_than: str | None = None) -> tuple[list[dict], str]:
        """(every item, the list's resourceVersion), following `continue` tokens page by page.
        `namespace` None lists every namespace. `metadata_only`: PartialObjectMetadata, no data.
        `trim` shrinks each item as its page arrives (None: the item is not kept), so that a large
        list is held trimmed and only one page (`page_size` items) is held whole.
        `not_older_than`: a resourceVersion the answer must be at least as new as, which the API
        server answers from its watch cache at once; without it, the list is as of now, which
        after a write of another kind waits until that cache has caught up (up to 0.1 s)."""
        items: list[dict] = []
        token = None

        def page_of(token: str | None) -> bytes:
            query = {"labelSelector": label_selector, "fieldSelector": field_selector,
                     "limit": page_size or (METADATA_PAGE_SIZE if metadata_only else PAGE_SIZE), "continue": token}
            if not_older_than and token is None:  # a continued page keeps its first page's version
                query.update(resourceVersion=not_older_than, resourceVersionMatch="NotOlderThan")
            return self.send("GET", resource.path(namespace), "list", resource, namespace, query=query,
                             accept=METADATA_ONLY if metadata_only else "application/json").data

        ahead: tuple[str, Started] | None = None  # (its continue token, the page): at most one page ahead
        while True:
            data = ahead[1].answer() if ahead is not None and ahead[0] == token else page_of(token)
            # The next page is asked for while this one is decoded: the API server writes the
            # list's metadata, continue token and all, before its items.
            following = _continue_written_first(data)
            ahead = (following, Started(lambda token=following: page_of(token), "list-page-ahead")) \
                if following else None
            page = json.loads(data or b"{}")
            del data
            # Popped: the page's untrimmed items are not kept while the next page is read.
            if trim is None:
                items.extend(page.pop("items", None) or [])
            else:
                items.extend(kept for kept in map(trim, page.pop("items", None) or []) if kept is not None)
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                version = (page.get("metadata") or {}).get("resourceVersion", "")
                self.listed[resource.path(namespace)] = version
                return items, version

    def list(self, resource: Resource, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None, metadata_only: bool = False, page_size: int | None = None,
             trim: Callable[[dict], dict | None] | None = None, not_older_than: str | None = None) -> list[dict]:
        return self.list_with_version(resource, namespace, label_selector, field_selector, metadata_only, page_size,
                                      trim, not_older_than)[0]

    def patch(self, resource: Resource, name: str, namespace: str | None, body: Any, patch_type: str = "strategic",
              dry_run: bool = False, field_manager: str | None = None, force: bool | None = None) -> dict:
        """patch_type: json (a list of operations), merge, strategic, or apply (server-side apply)."""
        query = {"dryRun": "All" if dry_run else None, "fieldManager": field_manager,
                 "force": ("true" if force else "false") if force is not None else None}
        return self._json("PATCH", resource.path(namespace, name), "patch", resource, namespace, name, query=query,
                          body=body, content_type=PATCH_TYPES[patch_type])

    def create(self, resource: Resource, namespace: str | None, body: dict, dry_run: bool = False) -> dict:
        return self._json("POST", resource.path(namespace), "create", resource, namespace,
                          (body.get("metadata") or {}).get("name"), query={"dryRun": "All" if dry_run else None},
                          body=body)

    def delete(self, resource: Resource, name: str, namespace: str | None, body: dict | None = None,
               dry_run: bool = False) -> dict:
        if body is not None and dry_run:
            # The API server reads DeleteOptions from the body when there is one, and then ignores
            # the dryRun query parameter: without this, a "dry run" delete with preconditions deletes.
            body = {**body, "dryRun": ["All"]}
        return self._json("DELETE", resource.path(namespace, name), "delete", resource, namespace, name,
                          query={"dryRun": "All" if dry_run else None}, body=body)

    def api_resources(self, api_version: str) -> list[dict]:
        """Discovery: the resources the API server serves under `api_version` (`v1`, `apps/v1`)."""
        group, _, version = api_version.rpartition("/")
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        return self._json("GET", path, "get", Resource(group, version, "resources"),
                          namespace=None).get("resources") or []

    def watch(self, resource: Resource, namespace: str | None, resource_version: str,
              field_selector: str | None = None, timeout_seconds: int = 60) -> Iterator[tuple[str, dict]]:
        """(type, object) of each change after `resource_version`, until the server ends the watch
        (`timeout_seconds`). Raises apierrors.Gone when that version is too old (410): list again."""
        query = {"watch": "1", "resourceVersion": resource_version, "allowWatchBookmarks": "true",
                 "fieldSelector": field_selector, "timeoutSeconds": timeout_seconds}
        response = self.send("GET", resource.path(namespace), "watch", resource, namespace, query=query,
                             stream=True, read_timeout=timeout_seconds + 10)
        try:
            buffered = b""
            for chunk in _chunks(response):
                buffered += chunk
                while b"\n" in buffered:
                    line, buffered = buffered.split(b"\n", 1)
                    if line.strip():
                        event = json.loads(line)
                        kind, obj = event.get("type"), event.get("object") or {}
                        if kind == "ERROR":
                            raise apierrors.from_status(obj, "watch", resource.plural, namespace,
                                                        acting_as=self.acting_as)
                        yield kind, obj
        except Exception as exc:
            if isinstance(exc, apierrors.PluginError):
                raise
            raise apierrors.translate(exc) from None
        finally:
            # A watch left before the server ended it has unread bytes: its connection cannot be
            # reused for the next request, so it is closed, not returned to the pool.
            response.close()
            response.release_conn()


_ITEMS = b'"items":'


def _continue_written_first(data: bytes) -> str | None:
    """The continue token of a list's answer, read from the list metadata written before its
    items (as the API server writes it), without decoding the items; None when there is none or
    the answer is written otherwise (the token is then taken from the decoded page alone)."""
    end = data.find(_ITEMS, 0, 4096) if data.startswith(b"{") else -1
    head = data[:end].rstrip() if end > 0 else b""
    if not head.endswith(b","):
        return None
    try:
        token = (json.loads(head[:-1] + b"}").get("metadata") or {}).get("continue")
    except ValueError:
        return None
    return token if isinstance(token, str) and token else None


# How often a thread waiting for another one's answer looks up: often enough to see Ctrl-C at once.
WAKE_SECONDS = 0.2


class Started:
    """One read started in a daemon thread of its own, its answer taken later (`answer()`, which
    raises what the read raised, Ctrl-C too): a list's next page while this one is decoded, list's
    ReplicaSets while the histories are read. A daemon thread, not an executor's: the interpreter
    joins those at exit, so Ctrl-C would wait for a read in flight up to its --request-timeout; a
    read nobody takes (the list failed meanwhile) ends on its own timeout."""

    def __init__(self, read: Callable[[], Any], name: str):
        self._done = threading.Event()
        self._answer: tuple[bool, Any] = (False, None)

        def run() -> None:
            try:
                self._answer = (True, read())
            except BaseException as exc:  # raised in the thread that takes the answer
                self._answer = (False, exc)
            finally:
                self._done.set()

        threading.Thread(target=run, daemon=True, name=name).start()

    def answer(self) -> Any:
        while not self._done.wait(WAKE_SECONDS):
            pass
        ok, value = self._answer
        if not ok:
            raise value
        return value


def _check_headers(headers: list[tuple[str, str]], credentials: dict[str, str]) -> None:
    """Refuse, before sending, a header value that cannot be sent as it is (a credential an exec
    plugin returned on a refresh, say): named by its header, never quoted."""
    for name, value in headers:
        if not header_values.sendable(value):
            secret = name in credentials
            raise ConfigError(header_values.problem(f"the {name} header", value, secret) +
                              ("; check the kubeconfig user's credentials" if secret else ""))


def _scrubbed(error: PluginError, secrets) -> PluginError:
    """The error without any part of a credential in its message (an error of the connection
    may quote what it was given to send)."""
    text = str(error)
    clean = header_values.scrub(text, list(secrets))
    if clean == text:
        return error
    scrubbed = PluginError(clean)
    scrubbed.exit_code = error.exit_code
    return scrubbed


def _chunks(response) -> Iterator[bytes]:
    # urllib3's stream() reads fixed-size blocks and may wait to fill one; read1 hands over
    # whatever arrived, so each watch event is seen as soon as it is sent.
    read1 = getattr(response, "read1", None) or getattr(getattr(response, "_fp", None), "read1", None)
    while True:
        chunk = read1(65536) if read1 else response.read(65536)
        if not chunk:
            return
        yield chunk


class _TimedOut(Exception):
    """The request's time ran out between two reads of its body."""


@data_class(frozen=True)
class _Answer:
    status: int
    data: bytes


def _read_body(response, ends: float | None) -> bytes:
    """The whole body, read as it arrives and over by `ends`: before each read the socket is
    given only the time left, and none left ends the request (even with the body at hand: as
    kubectl's, `--request-timeout 1ms` fails)."""
    read1 = getattr(response, "read1", None)
    if read1 is None:  # a transport that read the body already (tests)
        return response.data
    parts = []
    try:
        while True:
            if ends is not None:
                left = ends - time.monotonic()
                if left <= 0:
                    raise _TimedOut()
                sock = getattr(getattr(response, "connection", None), "sock", None)
                if sock is not None:
                    sock.settimeout(left)
            chunk = read1(65536)
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)
    except BaseException:
        # Unread bytes are left on the connection: it cannot go back to the pool.
        response.close()
        response.release_conn()
        raise


def _is_timeout(exc: Exception) -> bool:
    reason = getattr(exc, "reason", None) or exc  # urllib3's MaxRetryError wraps the timeout
    urllib3 = sys.modules.get("urllib3.exceptions")  # its errors exist only once it is loaded
    if urllib3 is None:
        return isinstance(reason, (_TimedOut, TimeoutError))
    # A refused connection is a NewConnectionError, which urllib3 derives from its timeout.
    return (isinstance(reason, (_TimedOut, TimeoutError, urllib3.TimeoutError))
            and not isinstance(reason, urllib3.NewConnectionError))


def _seconds(seconds: float | None) -> str:
    """1s, 1.5s, 300ms: a duration as --request-timeout takes it."""
    seconds = seconds or 0
    return f"{seconds:g}s" if seconds >= 1 else f"{seconds * 1000:g}ms"

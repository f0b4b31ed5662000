"""An in-memory API server behind the real request layer, recording every request, for unit tests.

    cluster = FakeCluster()                       # namespace "shop" exists
    cluster.put(deployment_dict)                  # seed objects (uid, resourceVersion... assigned)
    kube = cluster.kube("shop")                   # a real client.Kube whose transport is the fake
    ... run the product ...
    cluster.writes()                              # the requests that change something, in order

The product's own `Rest` sends each request (query strings, error translation, the request log);
only the transport under it is replaced, so what is recorded is what a cluster would receive.

What the fake does as the API server does:
- objects by (group, plural, namespace, name), whichever version names them; uid,
  resourceVersion (one counter for the whole store), generation (apps/* on a spec change),
  creationTimestamp (from the fake clock);
- a resourceVersion or uid left in a write's result that is not the stored one is a 409 Conflict
  (the optimistic concurrency of update and patch); delete preconditions (uid, resourceVersion);
  404 NotFound, 409 AlreadyExists, as Status bodies, so the real apierrors types are raised;
- dryRun=All (query or DeleteOptions body) answers as a write would and changes nothing;
- JSON patch (RFC 6902, by the `jsonpatch` library), merge patch (RFC 7386);
- list: label selectors (=, ==, !=, in, notin, exists, !exists), field selectors
  (metadata.name, metadata.namespace, type), limit/continue pages, metadata-only lists;
- watch: the recorded changes after the given resourceVersion; controllers (`controllers`) run
  first, as if they acted while the client waited. A watch with nothing to report lasts its
  timeoutSeconds on the fake clock (`clock`), so a wait's deadline passes without sleeping;
- delete removes dependents (ownerReferences) unless propagationPolicy is Orphan;
- discovery (`/apis/<group>/<version>`), SelfSubjectReview (user `user`) and
  SelfSubjectAccessReview (allowed unless listed in `denied`).

What is simplified (the real control plane tests prove these semantics):
- strategic merge patch is a merge patch; a list of objects or a `$patch`-style directive in
  one raises Unfaithful (stopping the test) rather than being merged unlike the API server;
- server-side apply merges the applied object into the live one (maps merged, lists replaced),
  never removes fields the manager applied before, never reports conflicts, and keeps one
  managedFields entry per manager (operation Apply, no fieldsV1 content);
- no admission, no validation, no defaulting, no subresources, no cascading of finalizers.

Faults: `fail(when, status)` makes the requests `when(request)` selects fail with that status
(once by default), e.g. `fail(nth_write(2), 500)`; `before(when, action)` runs someone else's
change just before such a request is served (a race lost).
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import parse_qs, unquote, urlsplit

import jsonpatch

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.cluster.client import Kube

# The API server's own facts: (group, version, plural, Kind, namespaced).
SERVED = [
    ("", "v1", "namespaces", "Namespace", False),
    ("", "v1", "configmaps", "ConfigMap", True),
    ("", "v1", "secrets", "Secret", True),
    ("", "v1", "services", "Service", True),
    ("", "v1", "events", "Event", True),
    ("", "v1", "pods", "Pod", True),
    ("", "v1", "serviceaccounts", "ServiceAccount", True),
    ("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True),
    ("apps", "v1", "deployments", "Deployment", True),
    ("apps", "v1", "statefulsets", "StatefulSet", True),
    ("apps", "v1", "daemonsets", "DaemonSet", True),
    ("apps", "v1", "replicasets", "ReplicaSet", True),
    ("apps", "v1", "controllerrevisions", "ControllerRevision", True),
    ("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True),
    ("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True),
    ("networking.k8s.io", "v1", "ingresses", "Ingress", True),
    ("batch", "v1", "jobs", "Job", True),
    ("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False),
    ("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False),
    ("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False),
]
# Every workload kind the plugin rolls back is served too: its facts are the kinds table's, which
# tests/integration/test_kinds_discovery.py holds to a real API server's discovery.
SERVED += [(k.group, k.version, k.plural, k.name, k.namespaced) for k in kinds.WORKLOADS
           if (k.group, k.plural) not in {(g, p) for g, _, p, _, _ in SERVED}]
_BY_PLURAL = {(g, p): (g, v, p, k, n) for g, v, p, k, n in SERVED}
_BY_KIND = {(g, k): (g, v, p, k, n) for g, v, p, k, n in SERVED}
REVIEWS = {"selfsubjectaccessreviews", "selfsubjectreviews"}
METADATA_ONLY = "as=PartialObjectMetadataList"


@dataclass(frozen=True)
class Request:
    """One request as the fake received it (the body parsed from JSON)."""

    method: str
    path: str
    query: dict[str, str]
    body: object = None
    content_type: str = ""
    accept: str = ""

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun") == "All" or (isinstance(self.body, dict) and "All" in (
            self.body.get("dryRun") or []) and self.body.get("kind", "DeleteOptions") == "DeleteOptions")

    @property
    def is_write(self) -> bool:
        """A request that asks to change what is stored (a dry run too; an access review is not)."""
        return self.method != "GET" and self.path.rsplit("/", 1)[-1] not in REVIEWS

    @property
    def patch_type(self) -> str | None:
        return {"application/json-patch+json": "json", "application/merge-patch+json": "merge",
                "application/strategic-merge-patch+json": "strategic",
                "application/apply-patch+yaml": "apply"}.get(self.content_type)

    @property
    def metadata_only(self) -> bool:
        return METADATA_ONLY in self.accept

    @property
    def short(self) -> str:
        """`PATCH deployments/web`, `POST events`, with ` (dry run)`: what a test compares."""
        route = _route(self.path)
        what = self.path if route is None or route[0] == "discovery" else "/".join(filter(None, route[2:5:2]))
        return f"{self.method} {what}" + (" (dry run)" if self.dry_run else "")

    def __str__(self) -> str:
        return f"{self.method} {self.path}" + (" (dry run)" if self.dry_run else "")


def nth_write(n: int) -> Callable[[Request], bool]:
    """A `fail` rule: the n-th write (1-based) that is not a dry run."""
    seen = [0]

    def when(request: Request) -> bool:
        if request.is_write and not request.dry_run:
            seen[0] += 1
            return seen[0] == n
        return False
    return when


class FakeClock:
    """Wall and monotonic time that move only when told (or when a watch lasts its timeout)."""

    def __init__(self, start: float = 1_790_000_000.0):
        self.wall, self.mono = start, 1000.0

    def now(self) -> float:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


class Unfaithful(BaseException):
    """A request the fake cannot answer as the API server would. A BaseException, so that no
    `except Exception` of the request layer or the product turns it into an API error: it stops
    the test, which then belongs on the real control plane."""


class ApiStatus(Exception):
    """An error answer of the fake API server (a Status body)."""

    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def body(self) -> dict:
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": self.reason,
                "message": self.message, "code": self.code}


@dataclass
class _Answer:
    status: int
    data: bytes


@dataclass
class _Stream:
    """A watch's answer, read as the request layer reads a streamed body."""

    status: int
    chunks: list[bytes]
    closed: bool = False

    def read1(self, _size: int) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""

    def close(self) -> None:
        self.closed = True

    def release_conn(self) -> None:
        pass


@dataclass
class _Fault:
    when: Callable[[Request], bool]
    status: int
    times: int
    message: str


@dataclass
class FakeCluster:
    namespaces: tuple[str, ...] = ("shop",)
    user: str = "alice@example.com"
    clock: FakeClock = field(default_factory=FakeClock)
    # (verb, resource) pairs a SelfSubjectAccessReview answers "not allowed" (resource as "deployments").
    denied: set = field(default_factory=set)
    # Called with this cluster before each watch is answered: the controllers acting meanwhile.
    controllers: list = field(default_factory=list)

    def __post_init__(self):
        self.objects: dict[tuple[str, str, str, str], dict] = {}
        self.requests: list[Request] = []
        self.changes: list[tuple[int, str, tuple, dict]] = []  # (resourceVersion, type, key, object)
        self.version = 100
        self.faults: list[_Fault] = []
        self.reactions: list[list] = []
        self.lock = threading.RLock()
        for name in self.namespaces:
            self.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name},
                      "status": {"phase": "Active"}})

    # -- for tests ------------------------------------------------------------------------------

    def kube(self, namespace: str = "shop", context: str = "fake") -> Kube:
        """The product's request layer (client.Kube) talking to this fake."""
        return Kube({"host": "https://127.0.0.1:6443", "transport": self.transport}, namespace, True, context)

    def put(self, obj: dict) -> dict:
        """Store an object as a create would (not recorded as a request); the stored copy."""
        group, _, plural, _, namespaced = _kind_of(obj)
        meta = obj.setdefault("metadata", {})
        with self.lock:
            return self._create(group, plural, meta.get("namespace") if namespaced else None, obj)

    def update(self, obj: dict) -> dict:
        """Store a new version of an object (a controller's or another client's write, unrecorded)."""
        group, _, plural, _, namespaced = _kind_of(obj)
        meta = obj["metadata"]
        with self.lock:
            key = (group, plural, meta.get("namespace") if namespaced else None, meta["name"])
            before = self.objects.get(key)
            if before is None:
                raise KeyError(f"{key} is not stored: put() it first")
            return self._store(key, _next_generation(before, copy.deepcopy(obj)), "MODIFIED")

    def find(self, kind: str, name: str, namespace: str | None = "shop", group: str | None = None) -> dict | None:
        """The stored object of that kind (a copy), or None."""
        group = group if group is not None else next(g for g, _, _, k, _ in SERVED if k == kind)
        _, _, plural, _, namespaced = _BY_KIND[(group, kind)]
        found = self.objects.get((group, plural, namespace if namespaced else None, name))
        return copy.deepcopy(found)

    def all(self, kind: str, namespace: str | None = "shop") -> list[dict]:
        """Every stored object of that kind in the namespace, by name."""
        return [copy.deepcopy(o) for (g, p, ns, n), o in sorted(self.objects.items(), key=lambda kv: kv[0][3])
                if o.get("kind") == kind and ns == namespace]

    def fail(self, when: Callable[[Request], bool], status: int = 500, times: int = 1, message: str = "") -> None:
        """Answer `status` to the next `times` requests `when(request)` selects (recorded all the same)."""
        self.faults.append(_Fault(when, status, times, message))

    def before(self, when: Callable[[Request], bool], action: Callable[["FakeCluster"], None], times: int = 1) -> None:
        """Run `action(cluster)` just before the next `times` requests `when(request)` selects are
        served: someone else's write racing the product's."""
        self.reactions.append([when, action, times])

    def writes(self) -> list[Request]:
        """The recorded requests that ask to change something, in order (dry runs included)."""
        return [r for r in self.requests if r.is_write]

    def settle(self) -> None:
        """Let the controllers act now, as a watch would."""
        for controller in self.controllers:
            controller(self)

    # -- the transport --------------------------------------------------------------------------

    def transport(self, method: str, url: str, body, headers, timeout, stream: bool):
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        names = dict(headers)
        parsed = json.loads(body) if body else None
        request = Request(method, parts.path, query, parsed, names.get("Content-Type", ""), names.get("Accept", ""))
        with self.lock:
            self.requests.append(request)
            try:
                self._inject(request)
                if stream:
                    return _Stream(200, self._watch(request))
                status, answer = self._serve(request)
            except ApiStatus as error:
                status, answer = error.code, error.body()
                if stream:
                    return _Stream(status, [])
            return _Answer(status, json.dumps(answer).encode())

    def _inject(self, request: Request) -> None:
        for reaction in self.reactions:
            if reaction[2] and reaction[0](request):
                reaction[2] -= 1
                reaction[1](self)
        for fault in self.faults:
            if fault.times and fault.when(request):
                fault.times -= 1
                reason = {403: "Forbidden", 404: "NotFound", 409: "Conflict", 500: "InternalError",
                          503: "ServiceUnavailable", 429: "TooManyRequests"}.get(fault.status, "Unknown")
                raise ApiStatus(fault.status, reason, fault.message or f"injected {fault.status} for {request}")

    def _serve(self, request: Request) -> tuple[int, object]:
        route = _route(request.path)
        if route is None:
            raise ApiStatus(404, "NotFound", f"the server could not find the requested resource ({request.path})")
        if route[0] == "discovery":
            group, version = route[1], route[2]
            return 200, {"kind": "APIResourceList", "groupVersion": f"{group}/{version}" if group else version,
                         "resources": [{"name": p, "kind": k, "namespaced": n, "verbs": ["get", "list", "watch",
                                                                                        "create", "patch", "delete"]}
                                       for g, v, p, k, n in SERVED if (g, v) == (group, version)]}
        group, version, plural, namespace, name = route
        if plural in REVIEWS and request.method == "POST":
            return 201, self._review(plural, request.body)
        if request.method == "GET":
            return 200, (self._get(group, plural, namespace, name) if name else
                         self._list(group, version, plural, namespace, request))
        if request.method == "POST":
            return 201, self._create(group, plural, namespace, request.body, dry_run=request.dry_run)
        if request.method == "PATCH":
            return 200, self._patch(group, plural, namespace, name, request)
        if request.method == "DELETE":
            return 200, self._delete(group, plural, namespace, name, request)
        raise ApiStatus(405, "MethodNotAllowed", f"{request.method} is not supported by the fake")

    # -- verbs ----------------------------------------------------------------------------------

    def _get(self, group: str, plural: str, namespace: str | None, name: str) -> dict:
        found = self.objects.get((group, plural, namespace, name))
        if found is None:
            raise _not_found(group, plural, name)
        return copy.deepcopy(found)

    def _list(self, group: str, version: str, plural: str, namespace: str | None, request: Request) -> dict:
        matches = _selector(request.query.get("labelSelector", ""))
        fields = _field_selector(request.query.get("fieldSelector", ""))
        items = [copy.deepcopy(o) for (g, p, ns, _), o in sorted(self.objects.items(), key=lambda kv: (kv[0][2] or "",
                                                                                                       kv[0][3]))
                 if (g, p) == (group, plural) and (namespace is None or ns == namespace)
                 and matches((o["metadata"].get("labels") or {})) and fields(o)]
        start = int(request.query.get("continue") or 0)
        limit = int(request.query.get("limit") or 0) or len(items) or 1
        page, more = items[start:start + limit], start + limit < len(items)
        kind = _BY_PLURAL[(group, plural)][3]
        if request.metadata_only:
            page = [{"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": o["metadata"]}
                    for o in page]
        meta = {"resourceVersion": str(self.version), **({"continue": str(start + limit)} if more else {})}
        return {"apiVersion": "meta.k8s.io/v1" if request.metadata_only else (f"{group}/{version}" if group else
                                                                             version),
                "kind": "PartialObjectMetadataList" if request.metadata_only else f"{kind}List",
                "metadata": meta, "items": page}

    def _create(self, group: str, plural: str, namespace: str | None, body: dict, dry_run: bool = False) -> dict:
        obj = copy.deepcopy(body)
        _, version, _, kind, namespaced = _BY_PLURAL[(group, plural)]
        obj.setdefault("apiVersion", f"{group}/{version}" if group else version)
        obj.setdefault("kind", kind)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid5(uuid.NAMESPACE_OID, str(self.version + 1)).hex[:5]
        if namespaced:
            meta["namespace"] = namespace or meta.get("namespace")
        key = (group, plural, meta.get("namespace") if namespaced else None, meta["name"])
        if key in self.objects:
            raise ApiStatus(409, "AlreadyExists", f'{_qualified(group, plural)} "{meta["name"]}" already exists')
        meta.pop("resourceVersion", None)
        meta["uid"] = meta.get("uid") or str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, key))))
        meta.setdefault("creationTimestamp", _iso(self.clock.now()))
        if group in ("apps", "batch", "policy", "autoscaling"):
            meta["generation"] = 1
        if dry_run:
            return {**obj, "metadata": {**meta, "resourceVersion": str(self.version)}}
        return self._store(key, obj, "ADDED")

    def _patch(self, group: str, plural: str, namespace: str | None, name: str, request: Request) -> dict:
        key = (group, plural, namespace, name)
        live = self.objects.get(key)
        kind = request.patch_type
        if live is None:
            if kind != "apply":
                raise _not_found(group, plural, name)
            return self._create(group, plural, namespace, _with_manager(request.body, request), dry_run=request.dry_run)
        if kind == "json":
            try:
                patched = jsonpatch.apply_patch(live, request.body)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                raise ApiStatus(422, "Invalid", f"the JSON patch could not be applied: {exc}") from None
        elif kind == "merge":
            patched = _merge(live, request.body)
        elif kind == "strategic":
            _refuse_strategic_lists(request.body)
            patched = _merge(live, request.body)
        elif kind == "apply":
            patched = _with_manager(_merge(live, request.body, deletes=False), request)
        else:
            raise ApiStatus(415, "UnsupportedMediaType", f"patch type {request.content_type!r}")
        meta, before = patched.setdefault("metadata", {}), live["metadata"]
        for guarded in ("resourceVersion", "uid"):
            if meta.get(guarded) and meta[guarded] != before.get(guarded):
                raise _conflict(group, plural, name)
        meta.update({k: before[k] for k in ("uid", "creationTimestamp", "resourceVersion", "name") if k in before})
        patched = _next_generation(live, patched)
        if patched == live or request.dry_run:
            return copy.deepcopy(patched)
        return self._store(key, patched, "MODIFIED")

    def _delete(self, group: str, plural: str, namespace: str | None, name: str, request: Request) -> dict:
        key = (group, plural, namespace, name)
        live = self.objects.get(key)
        if live is None:
            raise _not_found(group, plural, name)
        options = request.body if isinstance(request.body, dict) else {}
        for field_name, value in (options.get("preconditions") or {}).items():
            if value and live["metadata"].get(field_name) != value:
                raise ApiStatus(409, "Conflict", f"Precondition failed: {field_name.capitalize()} in precondition: "
                                                 f"{value}, {field_name} in object meta: "
                                                 f"{live['metadata'].get(field_name)}")
        if request.dry_run:
            return copy.deepcopy(live)
        self._remove(key, orphan=options.get("propagationPolicy") == "Orphan")
        return {"kind": "Status", "apiVersion": "v1", "status": "Success", "details": {"name": name}}

    def _remove(self, key: tuple, orphan: bool) -> None:
        gone = self.objects.pop(key)
        self.version += 1
        self.changes.append((self.version, "DELETED", key, gone))
        if orphan:
            return
        uid = gone["metadata"]["uid"]
        for other, obj in list(self.objects.items()):
            if any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or []):
                self._remove(other, orphan)

    def _review(self, plural: str, body: dict) -> dict:
        if plural == "selfsubjectreviews":
            return {**body, "status": {"userInfo": {"username": self.user, "groups": ["system:authenticated"]}}}
        attributes = (body.get("spec") or {}).get("resourceAttributes") or {}
        allowed = (attributes.get("verb"), attributes.get("resource")) not in self.denied
        return {**body, "status": {"allowed": allowed}}

    def _watch(self, request: Request) -> list[bytes]:
        route = _route(request.path)
        if route is None or route[0] == "discovery" or route[4]:
            raise ApiStatus(404, "NotFound", f"cannot watch {request.path}")
        group, _, plural, namespace, _ = route
        for controller in self.controllers:
            controller(self)
        after = int(request.query.get("resourceVersion") or 0)
        fields = _field_selector(request.query.get("fieldSelector", ""))
        events = [json.dumps({"type": kind, "object": obj}).encode() + b"\n"
                  for version, kind, key, obj in self.changes
                  if version > after and key[:2] == (group, plural) and (namespace is None or key[2] == namespace)
                  and fields(obj)]
        if not events:  # the server ends a watch with nothing to say after timeoutSeconds
            self.clock.advance(float(request.query.get("timeoutSeconds") or 60))
        return events

    # -- storage --------------------------------------------------------------------------------

    def _store(self, key: tuple, obj: dict, kind: str) -> dict:
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)
        self.objects[key] = obj
        self.changes.append((self.version, kind, key, copy.deepcopy(obj)))
        return copy.deepcopy(obj)


def _next_generation(before: dict, after: dict) -> dict:
    """`after` with the generation the API server gives it: one more when its spec changed."""
    meta, was = after["metadata"], before["metadata"]
    for kept in ("uid", "creationTimestamp"):
        if kept in was:
            meta[kept] = was[kept]
    if "generation" in was:
        meta["generation"] = was["generation"] + (after.get("spec") != before.get("spec"))
    return after


def _kind_of(obj: dict) -> tuple:
    group = obj["apiVersion"].rpartition("/")[0]
    return _BY_KIND[(group, obj["kind"])]


def _route(path: str) -> tuple | None:
    """("discovery", group, version) or (group, version, plural, namespace, name) for a request path."""
    parts = [unquote(p) for p in path.strip("/").split("/")]
    if parts[:1] == ["api"] and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return "discovery", group, version
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 2 or (group, rest[0]) not in _BY_PLURAL:
        return None
    return group, version, rest[0], namespace, rest[1] if len(rest) == 2 else None


def _qualified(group: str, plural: str) -> str:
    return f"{plural}.{group}" if group else plural


def _not_found(group: str, plural: str, name: str) -> ApiStatus:
    return ApiStatus(404, "NotFound", f'{_qualified(group, plural)} "{name}" not found')


def _conflict(group: str, plural: str, name: str) -> ApiStatus:
    return ApiStatus(409, "Conflict", f'Operation cannot be fulfilled on {_qualified(group, plural)} "{name}": the '
                                      "object has been modified; please apply your changes to the latest version "
                                      "and try again")


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _merge(live: object, patch: object, deletes: bool = True) -> object:
    """RFC 7386 merge patch (`deletes`: a null removes the key; apply keeps nulls out instead)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(live) if isinstance(live, dict) else {}
    for name, value in patch.items():
        if value is None:
            if deletes:
                merged.pop(name, None)
        else:
            merged[name] = _merge(merged.get(name), value, deletes)
    return merged


def _refuse_strategic_lists(patch: object) -> None:
    """A strategic merge patch the fake would merge unlike the API server: refused, loudly."""
    if isinstance(patch, dict):
        for name, value in patch.items():
            if name.startswith("$") or (isinstance(value, list) and any(isinstance(v, dict) for v in value)):
                raise Unfaithful(f"the fake merges strategic patches as merge patches; {name!r} would "
                                          "be merged by the API server's schema: test it on the real control plane")
            _refuse_strategic_lists(value)


def _with_manager(obj: dict, request: Request) -> dict:
    """The object with its managedFields entry for the applying manager (operation Apply)."""
    obj = copy.deepcopy(obj)
    manager = request.query.get("fieldManager", "")
    meta = obj.setdefault("metadata", {})
    entries = [e for e in meta.get("managedFields") or [] if not (e.get("manager") == manager
                                                                   and e.get("operation") == "Apply")]
    meta["managedFields"] = entries + [{"manager": manager, "operation": "Apply", "apiVersion": obj.get("apiVersion"),
                                        "fieldsType": "FieldsV1", "fieldsV1": {}}]
    return obj


def _selector(text: str) -> Callable[[dict], bool]:
    """A label selector's test (the query-string grammar of the API)."""
    tests = []
    for term in _split_terms(text):
        term = term.strip()
        if " notin " in term or " in " in term:
            negate = " notin " in term
            name, values = term.split(" notin " if negate else " in ", 1)
            allowed = {v.strip() for v in values.strip().strip("()").split(",")}
            tests.append(lambda labels, n=name.strip(), a=allowed, neg=negate:
                         (labels.get(n) not in a) if neg else (labels.get(n) in a))
        elif "!=" in term:
            name, value = term.split("!=", 1)
            tests.append(lambda labels, n=name.strip(), v=value.strip(): labels.get(n) != v)
        elif "=" in term:
            name, value = term.replace("==", "=").split("=", 1)
            tests.append(lambda labels, n=name.strip(), v=value.strip(): labels.get(n) == v)
        elif term.startswith("!"):
            tests.append(lambda labels, n=term[1:].strip(): n not in labels)
        elif term:
            tests.append(lambda labels, n=term: n in labels)
    return lambda labels: all(test(labels) for test in tests)


def _split_terms(text: str) -> list[str]:
    terms, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    return terms + ([current] if current else [])


def _field_selector(text: str) -> Callable[[dict], bool]:
    tests = []
    for term in filter(None, text.split(",")):
        name, value = term.replace("==", "=").split("=", 1)
        path = {"metadata.name": ("metadata", "name"), "metadata.namespace": ("metadata", "namespace"),
                "type": ("type",)}.get(name)
        if path is None:
            raise Unfaithful(f'field selector "{name}" is not implemented by the fake')
        tests.append(lambda obj, p=path, v=value: _dig(obj, p) == v)
    return lambda obj: all(test(obj) for test in tests)


def _dig(obj: dict, path: tuple) -> object:
    for name in path:
        obj = (obj or {}).get(name)
    return obj

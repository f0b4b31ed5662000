"""Which RBAC rights a run used, from the requests it sent (as a Relay saw them).

RBAC authorizes request by request: a right that no request of a run needed, and that none of its
SelfSubjectAccessReviews asked about, cannot change that run. So the requests of one run with the
whole Role tell which rights matter for it, and which can be taken away without a trace.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

REVIEWS = "selfsubjectaccessreviews"
VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}


def request_right(method: str, path: str) -> tuple[str, str] | None:
    """(resource, verb) RBAC checks for a request in a namespace, or None (discovery, cluster-scoped
    reviews). `path` may carry its query (a watch is `?watch=1`)."""
    split = urlsplit(path)
    parts = [p for p in split.path.split("/") if p]
    if parts[:1] == ["api"]:
        rest = parts[2:]
    elif parts[:1] == ["apis"]:
        rest = parts[3:]
    else:
        return None
    if rest[:1] != ["namespaces"] or len(rest) < 2:
        return None
    if len(rest) == 2:  # the namespace itself
        return "namespaces", {"GET": "get", "DELETE": "delete"}.get(method, VERBS.get(method, method.lower()))
    resource = "/".join([rest[2], *rest[4:5]])  # a subresource is its own: deployments/scale
    named = len(rest) >= 4
    if method == "GET":
        query = parse_qs(split.query)
        if query.get("watch", [""])[0] in ("1", "true"):
            verb = "watch"
        else:
            verb = "get" if named else "list"
    elif method == "DELETE":
        verb = "delete" if named else "deletecollection"
    else:
        verb = VERBS.get(method, method.lower())
    return resource, verb


def reviewed_right(body: bytes) -> tuple[str, str] | None:
    """(resource, verb) a SelfSubjectAccessReview's body asks about."""
    attributes = (json.loads(body or b"{}").get("spec") or {}).get("resourceAttributes") or {}
    if not attributes.get("resource"):
        return None
    resource = attributes["resource"] + (f"/{attributes['subresource']}" if attributes.get("subresource") else "")
    return resource, attributes["verb"]


def rights_used(seen: list[tuple[str, str, bytes]]) -> set[tuple[str, str]]:
    """Every (resource, verb) the requests needed or their reviews asked about."""
    used = set()
    for method, path, body in seen:
        if urlsplit(path).path.endswith("/" + REVIEWS):
            right = reviewed_right(body)
        else:
            right = request_right(method, path)
        if right is not None:
            used.add(right)
    return used

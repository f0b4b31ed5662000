"""API errors, typed, in one line each.

API errors, typed, in one line: what the request layer (rest.py) raises for an HTTP error,
and what any other exception that escapes a command (urllib3's, the kubernetes client's) becomes."""

from __future__ import annotations

import json
import re
import sys

from kubectl_harness_rollback import errors
from kubectl_harness_rollback.errors import ClusterUnreachable, PluginError


class ApiError(PluginError):
    """The API server refused a request: status, its own message, and what was asked."""

    def __init__(self, message: str, status: int, server: str, verb: str, resource: str,
                 namespace: str | None = None, name: str | None = None):
        super().__init__(message)
        self.status, self.server, self.verb, self.resource = status, server, verb, resource
        self.namespace, self.name = namespace, name


class Forbidden(ApiError):
    """403: the user may not make this request."""


class NotFound(ApiError):
    """404: the object (or its namespace) does not exist."""


class Conflict(ApiError, errors.Conflict):
    """409: a write guarded by a resourceVersion (or a create) lost a race; nothing was overwritten."""


class Gone(ApiError):
    """410: a watch's resourceVersion is too old; list again."""


def _where(namespace: str | None) -> str:
    return f"in namespace {namespace}" if namespace else "in all namespaces"


def from_status(status: dict, verb: str, resource: str, namespace: str | None = None,
                name: str | None = None, code: int | None = None, acting_as: str | None = None) -> ApiError:
    """The typed error for an API Status object (an error response's body, or a watch's ERROR);
    `acting_as`: the user impersonated with --as, if any (the advice differs)."""
    code = code or status.get("code") or 0
    server = status.get("message") or f"{code} {status.get('reason') or ''}".strip()
    what = f"{resource}/{name}" if name else resource
    if code == 401:
        return ApiError("the API server rejected the credentials (401 Unauthorized); check --context, --user or "
                        "--token", code, server, verb, resource, namespace, name)
    if code == 403:
        # The server's message names the user, e.g. 'deployments.apps is forbidden: User "x" cannot list ...'.
        return Forbidden(_forbidden(server, verb, resource, namespace, acting_as), code, server, verb, resource,
                         namespace, name)
    if code == 404:
        return NotFound(f"{what} not found {_where(namespace)} ({server})", code, server, verb, resource, namespace,
                        name)
    if code == 409:
        return Conflict(f"conflict: {server}; someone else changed it after it was read and nothing of it was "
                        "overwritten: run the command again to re-plan", code, server, verb, resource, namespace,
                        name)
    if code == 410:
        return Gone(f"{verb} {resource}: {server}", code, server, verb, resource, namespace, name)
    return ApiError(f"the API server answered {code} to {verb} {what} {_where(namespace)}: {server}", code, server,
                    verb, resource, namespace, name)


def _forbidden(server: str, verb: str, resource: str, namespace: str | None, acting_as: str | None) -> str:
    """A 403 in one line; what to do depends on whether --as was given, and on whom the server refused."""
    if acting_as is not None and "cannot impersonate" in server:  # the user itself may not act as another
        return (f"forbidden: cannot impersonate {acting_as} (--as) ({server}); ask for the right to impersonate, "
                "or run without --as")
    advice = (f"ask for that permission for {acting_as} (--as), or run as a user who has it" if acting_as
              else "ask for that permission or use --as")
    return f"forbidden: cannot {verb} {resource} {_where(namespace)} ({server}); {advice}"


def from_response(code: int, body: bytes | str | None, verb: str, resource: str, namespace: str | None = None,
                  name: str | None = None, acting_as: str | None = None) -> ApiError:
    """The typed error for an HTTP error response of the request layer."""
    try:
        status = json.loads(body or b"{}")
    except ValueError:
        status = {}
    if not isinstance(status, dict):
        status = {}
    return from_status(status, verb, resource, namespace, name, code, acting_as)


def translate(exc: Exception) -> PluginError:
    """A PluginError for any exception that escaped a command."""
    if isinstance(exc, PluginError):
        return exc
    # urllib3 carries only an https or SOCKS proxy's requests: none of its errors exists unless it
    # was loaded, and loading it to learn that would cost more than the request.
    urllib3 = sys.modules.get("urllib3.exceptions")
    if urllib3 is not None and isinstance(exc, urllib3.HTTPError):
        reason = getattr(exc, "reason", None) or exc
        # A refused connection is a NewConnectionError, which urllib3 derives from its timeout.
        if isinstance(reason, urllib3.TimeoutError) and not isinstance(reason, urllib3.NewConnectionError):
            return ClusterUnreachable(f"timed out: {_waited(reason)}; check it with 'kubectl cluster-info', "
                                      "or allow longer with --request-timeout")
        return ClusterUnreachable(
            f"cannot reach the API server ({reason.__class__.__name__}: {_short(reason)}); "
            "check the context with 'kubectl cluster-info'"
        )
    if isinstance(exc, OSError):
        return ClusterUnreachable(f"cannot reach the API server: {exc}")
    return PluginError(f"unexpected {exc.__class__.__name__}: {exc}")


def _waited(reason: object) -> str:
    """What timed out, from urllib3's "... (read timeout=30.0)" / "(connect timeout=30.0)"."""
    found = re.search(r"\b(read|connect) timeout=([0-9.]+)", str(reason))
    if not found:
        return "the API server did not answer in time"
    seconds = f"{float(found.group(2)):g}s"
    if found.group(1) == "connect":
        return f"could not connect to the API server within {seconds}"
    return f"the API server did not answer within {seconds}"


def _short(reason: object) -> str:
    text = str(reason)
    # urllib3 wraps the socket error in long text; its tail is the useful part.
    return text.split(": ", 1)[-1] if ": " in text else text

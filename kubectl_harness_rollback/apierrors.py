"""Turn exceptions from the kubernetes client and urllib3 into one-line PluginErrors."""

from __future__ import annotations

import json
import re

from kubectl_harness_rollback.errors import ClusterUnreachable, Conflict, PluginError


def server_message(exc: Exception) -> str:
    """The API server's own sentence (its Status.message), else the HTTP reason."""
    body = getattr(exc, "body", None)
    if body:
        try:
            message = json.loads(body).get("message")
            if message:
                return message
        except (ValueError, AttributeError):
            pass
    return f"{getattr(exc, 'status', '')} {getattr(exc, 'reason', '')}".strip()


def translate(exc: Exception) -> PluginError:
    """A PluginError for any exception that escaped a command."""
    if isinstance(exc, PluginError):
        return exc
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError as Urllib3Error
    from urllib3.exceptions import NewConnectionError
    from urllib3.exceptions import TimeoutError as Urllib3Timeout

    if isinstance(exc, ApiException):
        status = exc.status
        if status == 401:
            return PluginError("the API server rejected the credentials (401 Unauthorized); check --context, --user or --token")
        if status == 403:
            # The server's message names the verb, resource and namespace, e.g.
            # 'deployments.apps is forbidden: User "x" cannot list resource ...'.
            return PluginError(f"forbidden: {server_message(exc)}")
        if status == 409:
            # A write guarded by a resourceVersion, or a create, lost a race: the server refused it.
            return Conflict(f"conflict: {server_message(exc)}; someone else changed it after it was read and "
                            "nothing of it was overwritten: run the command again to re-plan")
        if status == 0 or status is None:
            return ClusterUnreachable(f"cannot reach the API server: {exc.reason}")
        return PluginError(f"the API server answered {status}: {server_message(exc)}")
    if isinstance(exc, Urllib3Error):
        reason = getattr(exc, "reason", None) or exc
        # A refused connection is a NewConnectionError, which urllib3 derives from its timeout.
        if isinstance(reason, Urllib3Timeout) and not isinstance(reason, NewConnectionError):
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

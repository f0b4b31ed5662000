"""Waiting for workloads by watching them, as `kubectl rollout status` does, not by polling.

Each workload is read once; its changes are then watched from that read's resourceVersion
(one object, by field selector), so a change is seen as soon as the controller writes it. A
watch the server ends, or that breaks (a cut connection, an API server that restarts, 429/5xx),
is started again from the last version seen, after a back-off as client-go's RetryWatcher does;
a version too old to watch from (410 Gone) is read again. All within the deadline.
"""

from __future__ import annotations

import time
from typing import Callable, Iterator

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback import workloads as adapters
from kubectl_harness_rollback.cluster.apierrors import ApiError, Forbidden, Gone
from kubectl_harness_rollback.cluster.rest import Resource
from kubectl_harness_rollback.errors import ClusterUnreachable, NotSteady, PluginError
from kubectl_harness_rollback.model import WorkloadRef

# The longest single watch; the server ends it earlier when the deadline is nearer.
WATCH_SECONDS = 300
# A watch of a connection that can be interrupted from another thread (many contexts: rest.py's
# `cancel`) is this short, so that its thread sees the interruption soon (a blocked read cannot be
# woken); each renewal is one more request.
CANCELLABLE_WATCH_SECONDS = 2
# What a timeout leaves the user with, unless the caller knows better.
WRITTEN_STILL_ROLLING = ("the rollback was written: watch it with 'kubectl rollout status' or run again with "
                         "a longer --timeout")
# Without the right to watch, the workload is read again this often.
POLL_SECONDS = 1.0


def retry_delay(failures: int) -> float:
    """How long to wait before asking again after `failures` failures in a row: client-go's
    RetryWatcher backs off from 100 ms, doubling, to at most 2 s (no retry storm against a server
    that is restarting, and a watch cut by a proxy is back within a fraction of a second)."""
    return min(RETRY_FIRST_SECONDS * 2 ** max(failures - 1, 0), RETRY_MAX_SECONDS)


RETRY_FIRST_SECONDS = 0.1
RETRY_MAX_SECONDS = 2.0


def transient(error: PluginError) -> bool:
    """An error that asking again may cure: the connection (cut, refused, timed out) or a server
    that is overloaded or restarting (429, 5xx). A refusal (403, 404, 422) is not."""
    if isinstance(error, ClusterUnreachable):
        return True
    return isinstance(error, ApiError) and (error.status == 429 or error.status >= 500)


def _versions(kube, ref: WorkloadRef, deadline: float, monotonic: Callable[[], float],
              sleep: Callable[[float], None] | None = None, start: dict | None = None) -> Iterator[dict]:
    """The workload now (`start`, a version just written or seen, saves reading it), then each
    version of it the API server reports, until the deadline. A watch that breaks (a proxy cuts
    it, the API server restarts) is started again from the last version seen, after a back-off."""
    adapter = adapters.adapter_for(ref.kind)
    resource = Resource.of(kinds.BY_NAME[ref.kind])
    sleep = sleep or time.sleep  # looked up now: a test's clock replaces it
    version, may_watch, failures = None, True, 0
    if start is not None and (start.get("metadata") or {}).get("resourceVersion"):
        version = start["metadata"]["resourceVersion"]
        yield start
    while version is None or monotonic() < deadline:
        reading = version is None or not may_watch
        try:
            if reading:  # first, after 410 Gone, or polling: read it (again)
                if version is not None:
                    sleep(min(POLL_SECONDS, max(deadline - monotonic(), 0)))
                obj = adapter.read(kube, ref.namespace, ref.name)
                version, failures = obj["metadata"]["resourceVersion"], 0
                yield obj
                continue
            seconds = max(1, min(WATCH_SECONDS if getattr(kube, "cancel", None) is None else CANCELLABLE_WATCH_SECONDS,
                                 int(deadline - monotonic()) + 1))
            began, events = monotonic(), 0
            for kind, event in kube.watch(resource, ref.namespace, version, f"metadata.name={ref.name}", seconds):
                version, failures, events = (event.get("metadata") or {}).get("resourceVersion") or version, 0, 1
                if kind == "DELETED":
                    raise PluginError(f"{ref} was deleted during the wait")
                if kind in ("ADDED", "MODIFIED"):
                    yield event
            if not events and monotonic() - began < 1:  # closed at once (a proxy, a restart): not a hot loop
                failures += 1
                sleep(min(retry_delay(failures), max(deadline - monotonic(), 0)))
        except Gone:
            version = None
        except Forbidden:
            if reading:
                raise  # without the right to read it there is nothing to wait for: asking again never helps
            may_watch = False  # a Role from before waits were watched (get, no watch): poll, as then
        except PluginError as error:
            if monotonic() >= deadline:
                return  # a request cut short by the deadline is the timeout
            if not transient(error):
                raise
            failures += 1
            sleep(min(retry_delay(failures), max(deadline - monotonic(), 0)))


def wait_for(kube, refs: list[WorkloadRef], until: Callable[[object, dict], tuple[bool, str]], deadline: float,
             progress: Callable[[str], None], monotonic: Callable[[], float] = time.monotonic,
             meanwhile: str = WRITTEN_STILL_ROLLING, start: dict[WorkloadRef, dict] | None = None,
             seen: Callable[[WorkloadRef, dict, bool, str], None] | None = None) -> dict[WorkloadRef, dict]:
    """Watch each workload until `until(adapter, obj)` says done; NotSteady past the deadline,
    ending with `meanwhile` (where that leaves the user). Progress lines are printed as they change;
    with `seen` (a live display), each version goes to `seen(ref, obj, done, message)` instead.
    `start` has the versions of workloads already in hand (the write's answer, the last wait's):
    watched from there, they are not read first."""
    done = {}
    for ref in refs:
        adapter, last = adapters.adapter_for(ref.kind), None
        for obj in _versions(kube, ref, deadline, monotonic, start=(start or {}).get(ref)):
            finished, message = until(adapter, obj)
            if seen is not None:
                seen(ref, obj, finished, message)
            elif message and message != last:
                progress(message)
                last = message
            if finished:
                done[ref] = obj
                break
        else:
            pending = [r for r in refs if r not in done]
            raise NotSteady(f"{', '.join(map(str, pending))} not steady within the timeout; {meanwhile}")
    return done

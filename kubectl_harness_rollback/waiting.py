"""Waiting for workloads by watching them, as `kubectl rollout status` does, not by polling.

Each workload is read once; its changes are then watched from that read's resourceVersion
(one object, by field selector), so a change is seen as soon as the controller writes it. A
watch the server ends is started again from the last version seen; a version too old to watch
from (410 Gone) is read again.
"""

from __future__ import annotations

import time
from typing import Callable, Iterator

from kubectl_harness_rollback import workloads as adapters
from kubectl_harness_rollback.apierrors import Forbidden, Gone
from kubectl_harness_rollback.errors import NotSteady, PluginError
from kubectl_harness_rollback.model import WorkloadRef
from kubectl_harness_rollback.rest import Resource

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


def _versions(kube, ref: WorkloadRef, deadline: float, monotonic: Callable[[], float],
              sleep: Callable[[float], None] = time.sleep, start: dict | None = None) -> Iterator[dict]:
    """The workload now (`start`, a version just written or seen, saves reading it), then each
    version of it the API server reports, until the deadline."""
    adapter = adapters.adapter_for(ref.kind)
    resource = Resource("apps", "v1", ref.kind.lower() + "s")
    version, may_watch = None, True
    if start is not None and (start.get("metadata") or {}).get("resourceVersion"):
        version = start["metadata"]["resourceVersion"]
        yield start
    while version is None or monotonic() < deadline:
        try:
            if version is None or not may_watch:  # first, after 410 Gone, or polling: read it (again)
                if version is not None:
                    sleep(min(POLL_SECONDS, max(deadline - monotonic(), 0)))
                obj = adapter.read(kube, ref.namespace, ref.name)
                version = obj["metadata"]["resourceVersion"]
                yield obj
                continue
            seconds = max(1, min(WATCH_SECONDS if getattr(kube, "cancel", None) is None else CANCELLABLE_WATCH_SECONDS,
                                 int(deadline - monotonic()) + 1))
            for kind, event in kube.watch(resource, ref.namespace, version, f"metadata.name={ref.name}", seconds):
                version = (event.get("metadata") or {}).get("resourceVersion") or version
                if kind == "DELETED":
                    raise PluginError(f"{ref} was deleted during the wait")
                if kind in ("ADDED", "MODIFIED"):
                    yield event
        except Gone:
            version = None
        except Forbidden:
            may_watch = False  # a Role from before waits were watched (get, no watch): poll, as then
        except PluginError:
            if monotonic() < deadline:
                raise
            return  # a request cut short by the deadline is the timeout


def wait_for(kube, refs: list[WorkloadRef], until: Callable[[object, dict], tuple[bool, str]], deadline: float,
             progress: Callable[[str], None], monotonic: Callable[[], float] = time.monotonic,
             meanwhile: str = WRITTEN_STILL_ROLLING, start: dict[WorkloadRef, dict] | None = None,
             ) -> dict[WorkloadRef, dict]:
    """Watch each workload until `until(adapter, obj)` says done; NotSteady past the deadline,
    ending with `meanwhile` (where that leaves the user). Progress lines are printed as they change.
    `start` has the versions of workloads already in hand (the write's answer, the last wait's):
    watched from there, they are not read first."""
    done = {}
    for ref in refs:
        adapter, last = adapters.adapter_for(ref.kind), None
        for obj in _versions(kube, ref, deadline, monotonic, start=(start or {}).get(ref)):
            finished, message = until(adapter, obj)
            if message and message != last:
                progress(message)
                last = message
            if finished:
                done[ref] = obj
                break
        else:
            pending = [r for r in refs if r not in done]
            raise NotSteady(f"{', '.join(map(str, pending))} not steady within the timeout; {meanwhile}")
    return done

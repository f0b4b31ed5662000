"""Waiting for what `status` shows to change, by watching, not by re-reading every second.

After a read of the release, one watch per collection it was read from that holds what the view
shows (its workloads' kinds, their ReplicaSets or ControllerRevisions, blue/green Services), each
from that list's resourceVersion, so that nothing written between the read and the watch is
missed, and each in a thread of its own, as an informer's. An event about an object of the
release wakes the waiter; any other object of the namespace does not. A watch the server ends is
started again from the last version seen, and so is one that breaks (a cut connection, an API
server restarting), after a back-off; one that cannot go on (410 Gone, a connection lost for
good) wakes the waiter: the next read lists again and is watched from there. Without the right to
watch (a Role from before `status` watched), the release is read again every second.
"""

from __future__ import annotations

import threading
import time

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.cluster.apierrors import Forbidden, Gone
from kubectl_harness_rollback.cluster.rest import SERVICES, Resource
from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.model import ReleaseModel
from kubectl_harness_rollback.records.assemble import release_name_of
from kubectl_harness_rollback.workloads.waiting import POLL_SECONDS, WATCH_SECONDS, retry_delay, transient

# Breaks in a row after which a watch gives up and the waiter reads again every second instead.
MAX_WATCH_RETRIES = 8


def collections(model: ReleaseModel) -> list[Resource]:
    """The resource types that hold what `status` shows of `model`."""
    shown = [kinds.BY_NAME[name] for name in sorted({ref.kind for ref in model.workloads})]
    found = [Resource.of(kind) for kind in shown]
    found += [Resource.of(kind.revisions) for kind in shown if kind.revisions is not None]
    found += [SERVICES] if model.services else []
    return sorted(set(found), key=lambda resource: resource.plural)


class Changes:
    """`wait(model, seconds)` returns once an object `model` shows changes, or `seconds` pass."""

    def __init__(self, kube):
        self.kube = kube
        self.woken = threading.Event()
        self.lock = threading.Lock()
        self.watching: set[str] = set()  # the paths of the collections watched now
        self.polling = False
        self.closed = False
        self.release, self.names, self.uids = "", frozenset(), frozenset()

    def wait(self, model: ReleaseModel, seconds: float | None) -> None:
        self._follow(model)
        if self.polling:
            self.woken.wait(POLL_SECONDS if seconds is None else min(POLL_SECONDS, seconds))
        else:
            self.woken.wait(seconds)
        # Cleared before the next read: a change during that read wakes the next wait at once.
        self.woken.clear()

    def close(self) -> None:
        """Stop following (each watch ends at its next event; its thread does not keep the process)."""
        self.closed = True

    def _follow(self, model: ReleaseModel) -> None:
        """Watch what the view of `model` shows, from the versions it was read at."""
        self.release = model.release_name
        self.names = frozenset({(kinds.BY_NAME[ref.kind].plural, ref.name) for ref in model.workloads}
                               | {(kinds.SERVICE.plural, service.name) for service in model.services})
        self.uids = frozenset(state.raw["metadata"].get("uid") for state in model.workloads.values()
                              if state.raw)
        for resource in collections(model):
            path = resource.path(model.namespace)
            version = self.kube.listed.get(path)
            with self.lock:
                if path in self.watching:
                    continue
                if not version:  # not read from a list: nothing to watch from
                    self.polling = True
                    continue
                self.watching.add(path)
            threading.Thread(target=self._watch, args=(resource, model.namespace, version), daemon=True,
                             name=f"watch {path}").start()

    def _watch(self, resource: Resource, namespace: str, version: str) -> None:
        failures = 0
        try:
            while not self.closed:
                try:
                    for kind, obj in self.kube.watch(resource, namespace, version, timeout_seconds=WATCH_SECONDS):
                        version, failures = (obj.get("metadata") or {}).get("resourceVersion") or version, 0
                        if kind != "BOOKMARK" and self._shown(resource.plural, obj):
                            self.woken.set()
                        if self.closed:
                            return
                except (Gone, Forbidden):
                    raise
                except PluginError as error:
                    # A cut connection or a restarting API server: watched again from the last
                    # version seen, after a back-off (RetryWatcher); anything else ends following.
                    failures += 1
                    if not transient(error) or failures > MAX_WATCH_RETRIES:
                        raise
                    time.sleep(retry_delay(failures))
        except Gone:
            pass  # the version is too old: the next read lists again, and is watched from there
        except (Forbidden, PluginError):
            self.polling = True  # no right to watch, or a lost connection: read again every second
        except KeyboardInterrupt:
            pass  # the run was interrupted (its connection's `cancel`): stop following
        finally:
            with self.lock:
                self.watching.discard(resource.path(namespace))
            self.woken.set()

    def _shown(self, plural: str, obj: dict) -> bool:
        """Whether `obj` is (or belongs to, or joins) what the view shows."""
        meta = obj.get("metadata") or {}
        if (plural, meta.get("name")) in self.names:
            return True
        if any(owner.get("uid") in self.uids for owner in meta.get("ownerReferences") or []):
            return True
        return plural != kinds.SERVICE.plural and release_name_of(obj) == self.release

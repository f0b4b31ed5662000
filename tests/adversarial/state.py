"""What the adversarial tests compare: every object a rollback could write, by resourceVersion.

A refused rollback must leave each of them exactly as it was; a second run must too. Pods and
ReplicaSets are left out: their status moves with the controllers, not with the plugin (the
Deployment that owns them is in). Events count separately: the plugin only ever adds them.
"""

from __future__ import annotations

from kubernetes import client as k8s


def versions(api_client, namespace: str) -> dict[tuple[str, str], str]:
    """(kind, name) -> resourceVersion of every object a rollback reads or writes, and the count of
    RolledBack Events."""
    apps, core = k8s.AppsV1Api(api_client), k8s.CoreV1Api(api_client)
    listed = {
        "Deployment": apps.list_namespaced_deployment(namespace).items,
        "StatefulSet": apps.list_namespaced_stateful_set(namespace).items,
        "DaemonSet": apps.list_namespaced_daemon_set(namespace).items,
        "ConfigMap": core.list_namespaced_config_map(namespace).items,
        "Secret": core.list_namespaced_secret(namespace).items,
        "Service": core.list_namespaced_service(namespace).items,
    }
    state = {(kind, o.metadata.name): o.metadata.resource_version for kind, items in listed.items() for o in items}
    events = core.list_namespaced_event(namespace, field_selector="reason=RolledBack").items
    state[("Event", "RolledBack")] = str(len(events))
    return state


def changed(before: dict, after: dict) -> list[str]:
    """The objects whose version differs, appeared or vanished, for an assertion message."""
    return sorted(f"{kind}/{name}" for kind, name in set(before) | set(after)
                  if before.get((kind, name)) != after.get((kind, name)))

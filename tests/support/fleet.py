"""A kubeconfig for the many-clusters tests and benchmark: one context per cluster (each with its own
cluster and user entries), more contexts pointing at the same clusters if asked, each context's
default namespace set."""

from __future__ import annotations

import yaml


def fleet_kubeconfig(path: str, clusters: list, contexts: dict[str, int], namespace: str | dict[str, str]) -> str:
    """Write a kubeconfig at `path` whose context NAME uses cluster number contexts[NAME] of
    `clusters` (TestCluster) with `namespace` (or namespace[NAME]) as its default; returns the path."""
    doc = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": [],
           "current-context": next(iter(contexts))}
    for number, cluster in enumerate(clusters):
        with open(cluster.kubeconfig, encoding="utf-8") as handle:
            own = yaml.safe_load(handle)
        doc["clusters"].append({"name": f"cluster-{number}", "cluster": own["clusters"][0]["cluster"]})
        doc["users"].append({"name": f"user-{number}", "user": own["users"][0]["user"]})
    for name, number in contexts.items():
        doc["contexts"].append({"name": name, "context": {"cluster": f"cluster-{number}", "user": f"user-{number}",
                                                          "namespace": namespace if isinstance(namespace, str)
                                                          else namespace[name]}})
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(doc, handle)
    return path

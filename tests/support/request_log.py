"""The requests of a cluster-wide read that a test may count while other tests run beside it."""

from __future__ import annotations

# Cluster-wide lists made only while some namespace holds what they look for: typed release
# Secrets (declarative releases) and Services (blue/green workloads). Other tests' namespaces
# decide whether they are sent.
_DECIDED_BY_OTHERS = ("fieldSelector=type%3D",)
_DECIDED_BY_OTHERS_PATHS = ("/api/v1/services",)


def about(requests: list, namespace: str) -> list:
    """`requests` about `namespace` or the whole cluster, without a list's next pages (other tests'
    objects come and go) and without the lists that other namespaces' contents decide."""
    return [sent for sent in requests
            if "continue=" not in sent.query
            and not any(mark in sent.query for mark in _DECIDED_BY_OTHERS)
            and sent[1] not in _DECIDED_BY_OTHERS_PATHS
            and ("/namespaces/" not in sent[1] or f"/namespaces/{namespace}/" in sent[1])]

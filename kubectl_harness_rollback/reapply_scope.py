"""What a declarative rollback may re-apply from a release Secret (issue 10). Pure: no I/O.

A declarative release is restored by server-side applying the manifests stored in its Secret
(`harness.release.<name>.<N>`). Anyone who can create a Secret in the namespace can write such a
Secret, but the apply runs with the rights of whoever runs the rollback — often a cluster
operator. So a rollback re-applies only what a Harness release deploys *into its own namespace*:
the objects of the kinds below, whose `metadata.namespace` is absent or the release's. Anything
else refuses the whole rollback before any write: restoring part of a release would leave the
rest at the failed version, and silently dropping an object would hide that someone put it there.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_harness_rollback.errors import PluginError

# (API group, kind) -> resource (the plural RBAC names it by). Every one is namespaced, so none
# reaches beyond the release's namespace, and none grants rights:
#   workloads (what the release runs), Services (how it is reached), ConfigMaps and Secrets (its
#   configuration), HorizontalPodAutoscalers and PodDisruptionBudgets (how it scales and drains),
#   Ingresses (how it is exposed).
# Left out on purpose:
#   ServiceAccount — an identity: creating one can bring a dangling RoleBinding to life, and
#     applying one can change which image pull Secrets and tokens an existing account uses;
#   NetworkPolicy — a security boundary like RBAC: it decides who may reach whom in the namespace;
#   Jobs and CronJobs — run to completion as soon as they are applied, which a rollback must not
#     start as a side effect;
#   RBAC kinds, and everything cluster-scoped (Namespace, CRDs, webhooks, PersistentVolumes,
#     StorageClasses, ...).
REAPPLIED_KINDS: dict[tuple[str, str], str] = {
    ("apps", "Deployment"): "deployments",
    ("apps", "StatefulSet"): "statefulsets",
    ("apps", "DaemonSet"): "daemonsets",
    ("apps", "ReplicaSet"): "replicasets",
    ("", "Service"): "services",
    ("", "ConfigMap"): "configmaps",
    ("", "Secret"): "secrets",
    ("autoscaling", "HorizontalPodAutoscaler"): "horizontalpodautoscalers",
    ("policy", "PodDisruptionBudget"): "poddisruptionbudgets",
    ("networking.k8s.io", "Ingress"): "ingresses",
}

RBAC_GROUP = "rbac.authorization.k8s.io"
# The cluster mints a ServiceAccount's token into a Secret of this type.
TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token"
# Well-known cluster-scoped kinds, named in the refusal so that it says why; any other kind not
# in REAPPLIED_KINDS is refused too, with the list of kinds that are re-applied.
CLUSTER_SCOPED_KINDS = frozenset({
    "Namespace", "CustomResourceDefinition", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding", "APIService", "PersistentVolume", "StorageClass", "PriorityClass",
    "RuntimeClass", "IngressClass", "Node", "CSIDriver", "VolumeAttachment", "FlowSchema",
    "PriorityLevelConfiguration", "CertificateSigningRequest",
})


class OutsideReapplyScope(PluginError):
    """A declarative release holds an object a rollback does not re-apply; nothing was changed."""


@dataclass(frozen=True, order=True)
class ReapplyObject:
    """One object of a release that a rollback re-applies (never its content: Secrets stay unseen)."""

    kind: str
    name: str
    api_version: str

    @property
    def group(self) -> str:
        return group_of(self.api_version)

    def __str__(self) -> str:
        return f"{self.kind.lower()}/{self.name}"


def group_of(api_version: str) -> str:
    """`apps/v1` -> `apps`; `v1` -> `` (the core group)."""
    return api_version.rpartition("/")[0]


def kinds_text() -> str:
    return ", ".join(kind for _, kind in REAPPLIED_KINDS)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _safe(text: str, limit: int = 63) -> str:
    """Text from a release Secret as it may appear in a one-line message: printable, short."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _shown(manifest: dict) -> str:
    """kind/name of a manifest for a message, whatever shape it has."""
    meta = manifest.get("metadata") if isinstance(manifest.get("metadata"), dict) else {}
    kind, name = _text(manifest.get("kind")) or "<no kind>", _text(meta.get("name")) or "<no name>"
    return f"{_safe(kind.lower())}/{_safe(name, 253)}"


def refusal(manifest: object, namespace: str) -> str | None:
    """Why a rollback must not re-apply this manifest into `namespace`; None when it may."""
    if not isinstance(manifest, dict):
        return "it is not a Kubernetes object"
    meta = manifest.get("metadata") if isinstance(manifest.get("metadata"), dict) else {}
    kind, api_version = _text(manifest.get("kind")), _text(manifest.get("apiVersion"))
    if kind is None or api_version is None:
        return "it has no kind or no apiVersion"
    if _text(meta.get("name")) is None:
        return "it has no metadata.name"
    group = group_of(api_version)
    if group == RBAC_GROUP:
        return (f"it is an RBAC object ({_safe(api_version)}): re-applying it would grant rights with the rights of "
                "whoever runs the rollback, not of the release's author")
    if kind in CLUSTER_SCOPED_KINDS:
        return "it is cluster-scoped: a rollback re-applies only objects in the release's namespace"
    if (group, kind) not in REAPPLIED_KINDS:
        if kind == "ServiceAccount":
            return "ServiceAccounts are identities, which a rollback does not re-create or change"
        known = [g for g, k in REAPPLIED_KINDS if k == kind]
        if known:
            return (f"a rollback re-applies {kind} of API group {known[0] or 'v1 (core)'} only, and its apiVersion is "
                    f"{_safe(api_version)}")
        return f"a rollback re-applies only {kinds_text()}"
    own = meta.get("namespace")
    if own not in (None, "") and own != namespace:  # empty is the request's namespace, as for kubectl
        return (f"its metadata.namespace is {_safe(str(own))!r}, not the release's namespace {namespace}: "
                "a rollback re-applies only into the release's namespace")
    if kind == "Secret" and manifest.get("type") == TOKEN_SECRET_TYPE:
        return f"a Secret of type {TOKEN_SECRET_TYPE} makes the cluster mint a ServiceAccount token"
    return None


def reapply_scope(manifests: list[dict], namespace: str, release: str = "the release") -> list[ReapplyObject]:
    """Every object of the release a rollback re-applies, in manifest order.

    Raises OutsideReapplyScope, naming the first object outside the scope and why (and how many
    more there are), when any object is outside it: then nothing at all is re-applied."""
    refused = [(manifest, why) for manifest in manifests
               if (why := refusal(manifest, namespace)) is not None]
    if refused:
        manifest, why = refused[0]
        shown = _shown(manifest) if isinstance(manifest, dict) else "a document"
        more = f" ({len(refused) - 1} more object(s) of it are refused too)" if len(refused) > 1 else ""
        raise OutsideReapplyScope(
            f"{release} holds {shown}, which a rollback does not re-apply: {why}{more}; nothing was changed: "
            "check who wrote that release Secret, and roll the release back with Harness if it is genuine")
    return [ReapplyObject(m["kind"], m["metadata"]["name"], m["apiVersion"]) for m in manifests]

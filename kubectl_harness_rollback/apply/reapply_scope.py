"""What a declarative rollback may re-apply from a release Secret: a safety filter. Pure: no I/O.

Harness restores a declarative release by applying every resource of its stored manifest
(K8sRollingRollbackBaseHandler.rollbackReleaseResources), whatever the kind, and so does this
plugin. But anyone who can create a Secret in the namespace can write such a Secret, while the
apply runs with the rights of whoever runs the rollback — often a cluster operator. So instead of
a list of kinds, each object passes a filter of what would let a Secret's author reach further
than a namespace editor can: anything cluster-scoped or in another namespace, RBAC, a Secret that
makes the cluster mint a token, a Service with `externalIPs`, an Ingress with snippet
annotations. One object refused refuses the whole rollback before any write: restoring part of a
release would leave the rest at the failed version, and silently dropping an object would hide
that someone put it there.

Jobs are re-applied as Harness re-applies them (`kubectl apply`, no special case): an existing
Job whose spec is unchanged stays as it is (it does not run again), a deleted one is created and
runs, and one whose template differs is refused by the API server (a Job's template is
immutable) — here in the dry run every object goes through first, so before any write, where
Harness's apply fails half-way.

`refusal(manifest, namespace)` is one rule after another: a rule that needs more than the
manifest (the live object, discovery) lives with the code that reads it.
"""

from __future__ import annotations

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.errors import PluginError

# (API group, kind) -> resource (the plural RBAC names it by), for the namespaced kinds a Harness
# release commonly carries: `rbac` grants re-applying them, and the permission review asks for
# them by these names. Any other namespaced kind (a custom resource) is re-applied too; discovery
# names its plural when it is applied. A kind listed here is re-applied only from its own group.
REAPPLIED: tuple[kinds.Kind, ...] = (
    *kinds.WORKLOADS, kinds.SERVICE, kinds.CONFIG_MAP, kinds.SECRET, kinds.SERVICE_ACCOUNT,
    kinds.PERSISTENT_VOLUME_CLAIM, kinds.JOB, kinds.CRON_JOB, kinds.HORIZONTAL_POD_AUTOSCALER,
    kinds.POD_DISRUPTION_BUDGET, kinds.INGRESS, kinds.NETWORK_POLICY,
)
REAPPLIED_KINDS: dict[tuple[str, str], str] = {(kind.group, kind.name): kind.plural for kind in REAPPLIED}

RBAC_GROUP = kinds.RBAC_GROUP
# The cluster mints a ServiceAccount's token into a Secret of this type.
TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token"
# Well-known cluster-scoped kinds, refused here already (so that `plan` shows them); any other
# cluster-scoped kind is refused when the API server's discovery says so, before any write.
# (RBAC's own cluster-scoped kinds are refused as RBAC.)
CLUSTER_SCOPED_KINDS = frozenset(kind.name for kind in kinds.CLUSTER_SCOPED if kind.group != RBAC_GROUP)
# ingress-nginx runs the value of `nginx.ingress.kubernetes.io/<anything>-snippet` as its own
# configuration (CVE-2021-25742, CVE-2023-5044): whoever writes one reads every Secret the
# controller can.
SNIPPET_SUFFIX = "-snippet"

# The rules, by name: `plan -o json` reports the name, the message says the reason.
RULE_MALFORMED = "malformed"
RULE_RBAC = "rbac"
RULE_CLUSTER_SCOPED = "cluster-scoped"
RULE_OTHER_GROUP = "other-api-group"
RULE_OTHER_NAMESPACE = "other-namespace"
RULE_TOKEN_SECRET = "service-account-token"
RULE_EXTERNAL_IPS = "service-external-ips"
RULE_SNIPPET = "ingress-snippet"


class OutsideReapplyScope(PluginError):
    """A declarative release holds an object a rollback does not re-apply; nothing was changed."""


@data_class(frozen=True, order=True)
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


@data_class(frozen=True)
class Refused:
    """One object of a release the rollback refuses to re-apply, and the rule that refuses it."""

    shown: str  # kind/name, made safe to print
    kind: str
    name: str
    rule: str  # one of RULE_*
    reason: str  # the rule in words, for the one-line error

    def __str__(self) -> str:
        return self.shown


def group_of(api_version: str) -> str:
    """`apps/v1` -> `apps`; `v1` -> `` (the core group)."""
    return api_version.rpartition("/")[0]


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


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def rule_of(manifest: object, namespace: str) -> tuple[str, str] | None:
    """(rule, reason) that refuses re-applying this manifest into `namespace`; None when it may."""
    if not isinstance(manifest, dict):
        return RULE_MALFORMED, "it is not a Kubernetes object"
    meta = _mapping(manifest.get("metadata"))
    kind, api_version = _text(manifest.get("kind")), _text(manifest.get("apiVersion"))
    if kind is None or api_version is None:
        return RULE_MALFORMED, "it has no kind or no apiVersion"
    if _text(meta.get("name")) is None:
        return RULE_MALFORMED, "it has no metadata.name"
    group = group_of(api_version)
    if group == RBAC_GROUP:
        return RULE_RBAC, (f"it is an RBAC object ({_safe(api_version)}): re-applying it would grant rights with the "
                           "rights of whoever runs the rollback, not of the release's author")
    if kind in CLUSTER_SCOPED_KINDS:
        return RULE_CLUSTER_SCOPED, ("it is cluster-scoped: a rollback re-applies only objects in the release's "
                                     "namespace")
    known = [g for g, k in REAPPLIED_KINDS if k == kind]
    if known and group not in known:
        return RULE_OTHER_GROUP, (f"a rollback re-applies {kind} of API group {known[0] or 'v1 (core)'} only, and its "
                                  f"apiVersion is {_safe(api_version)}")
    own = meta.get("namespace")
    if own not in (None, "") and own != namespace:  # empty is the request's namespace, as for kubectl
        return RULE_OTHER_NAMESPACE, (f"its metadata.namespace is {_safe(str(own))!r}, not the release's namespace "
                                      f"{namespace}: a rollback re-applies only into the release's namespace")
    if kind == kinds.SECRET.name and manifest.get("type") == TOKEN_SECRET_TYPE:
        return RULE_TOKEN_SECRET, f"a Secret of type {TOKEN_SECRET_TYPE} makes the cluster mint a ServiceAccount token"
    if kind == kinds.SERVICE.name and _mapping(manifest.get("spec")).get("externalIPs"):
        return RULE_EXTERNAL_IPS, ("a Service with spec.externalIPs can intercept traffic to those addresses from "
                                   "every pod of the cluster (CVE-2020-8554)")
    if kind == kinds.INGRESS.name:
        snippets = sorted(str(key) for key in _mapping(meta.get("annotations")) if str(key).endswith(SNIPPET_SUFFIX))
        if snippets:
            return RULE_SNIPPET, (f"its annotation {_safe(snippets[0], 100)} injects configuration into the ingress "
                                  "controller, which can read every Secret it can (CVE-2021-25742)")
    return None


def refusal(manifest: object, namespace: str) -> str | None:
    """Why a rollback must not re-apply this manifest into `namespace`; None when it may."""
    found = rule_of(manifest, namespace)
    return found[1] if found else None


def split_scope(manifests: list, namespace: str) -> tuple[list[tuple[ReapplyObject, dict]], list[Refused]]:
    """(what a rollback re-applies, each with its manifest; what it refuses), in manifest order."""
    allowed: list[tuple[ReapplyObject, dict]] = []
    refused: list[Refused] = []
    for manifest in manifests:
        found = rule_of(manifest, namespace)
        if found is None:
            obj = ReapplyObject(manifest["kind"], manifest["metadata"]["name"], manifest["apiVersion"])
            allowed.append((obj, manifest))
            continue
        document = manifest if isinstance(manifest, dict) else {}
        kind = _safe(_text(document.get("kind")) or "")
        name = _safe(_text(_mapping(document.get("metadata")).get("name")) or "", 253)
        refused.append(Refused(_shown(manifest) if isinstance(manifest, dict) else "a document", kind, name, *found))
    return allowed, refused


def refusal_error(refused: list[Refused], release: str = "the release") -> OutsideReapplyScope:
    """The one-line error naming the first refused object and its rule (and how many more there are)."""
    first = refused[0]
    more = f" ({len(refused) - 1} more object(s) of it are refused too)" if len(refused) > 1 else ""
    return OutsideReapplyScope(
        f"{release} holds {first.shown}, which a rollback does not re-apply: {first.reason}{more}; nothing was "
        "changed: check who wrote that release Secret, and roll the release back with Harness if it is genuine")


def reapply_scope(manifests: list[dict], namespace: str, release: str = "the release") -> list[ReapplyObject]:
    """Every object of the release a rollback re-applies, in manifest order.

    Raises OutsideReapplyScope, naming the first object outside the scope and why (and how many
    more there are), when any object is outside it: then nothing at all is re-applied."""
    allowed, refused = split_scope(manifests, namespace)
    if refused:
        raise refusal_error(refused, release)
    return [obj for obj, _ in allowed]

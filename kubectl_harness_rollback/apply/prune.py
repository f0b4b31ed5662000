"""`--prune`: delete what the failed release applied and the rollback-to release does not hold.

Harness's rollback with pruning enabled (K8sRollingRollbackRequestHandler, then
K8sRollingRollbackBaseHandler.deleteNewResourcesForCurrentFailedRelease) deletes, before it
re-applies the rollback-to release, every resource of the failed release that is not marked
`harness.io/skipPruning`, not versioned and not in the rollback-to release, in the reverse of the
order resources are created (K8sTaskHelperBase.arrangeResourceIdsInDeletionOrder). A resource
that is already gone is passed over.

A release Secret is anyone's to write who may create Secrets, and the deletes run with the rights
of whoever runs the rollback. So, beyond Harness: only objects in the release's namespace, never
RBAC or cluster-scoped ones, only objects that carry the failed release's mark (its
`harness.io/release-name` label, or the failed release's own manifest as their
`last-applied-configuration`), each deleted only if it is still the object that was read (UID).

Pure: `candidates` and `decide` here; reading the candidates and deleting them is prune_live.py.
"""

from __future__ import annotations

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.apply import last_applied
from kubectl_harness_rollback.apply.reapply_scope import CLUSTER_SCOPED_KINDS, RBAC_GROUP
from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.harness_names import RELEASE_NAME_LABEL
from kubectl_harness_rollback.model import Release, ReleaseModel

SKIP_PRUNING = "harness.io/skipPruning"  # HarnessAnnotations.skipPruning
# KubernetesResourceComparer.KindOrder: the order Harness creates kinds in; it deletes backwards,
# so workloads go before the ConfigMaps and Secrets they use. Unknown kinds come last on creation.
CREATION_ORDER = tuple(kind.name for kind in (
    kinds.NAMESPACE, kinds.RESOURCE_QUOTA, kinds.LIMIT_RANGE, kinds.POD_SECURITY_POLICY, kinds.SECRET, kinds.CONFIG_MAP,
    kinds.STORAGE_CLASS, kinds.PERSISTENT_VOLUME, kinds.PERSISTENT_VOLUME_CLAIM, kinds.SERVICE_ACCOUNT,
    kinds.CUSTOM_RESOURCE_DEFINITION, kinds.CLUSTER_ROLE, kinds.CLUSTER_ROLE_BINDING, kinds.ROLE, kinds.ROLE_BINDING,
    kinds.SERVICE, kinds.DAEMON_SET, kinds.POD, kinds.REPLICATION_CONTROLLER, kinds.REPLICA_SET, kinds.DEPLOYMENT,
    kinds.DEPLOYMENT_CONFIG, kinds.STATEFUL_SET, kinds.JOB, kinds.CRON_JOB, kinds.INGRESS, kinds.API_SERVICE,
))
# Kinds whose object only people write: their resourceVersion guards the delete too. Others have a
# status that controllers rewrite all the time, and only their UID proves it is the object read.
NO_STATUS_KINDS = (kinds.CONFIG_MAP.name, kinds.SECRET.name, kinds.SERVICE_ACCOUNT.name)


@data_class(frozen=True)
class Candidate:
    """A resource of the failed release that pruning would delete, if it still exists."""

    kind: str
    name: str
    api_version: str

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.name

    def __str__(self) -> str:
        return f"{self.kind.lower()}/{self.name}"


@data_class(frozen=True)
class PruneObject:
    """A live object that --prune deletes, with what guards its delete."""

    kind: str
    name: str
    api_version: str
    group: str
    resource: str  # the plural, as RBAC names it
    uid: str
    resource_version: str

    def __str__(self) -> str:
        return f"{self.kind.lower()}/{self.name}"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def manifest_metadata(manifest: dict) -> dict:
    meta = manifest.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _ids(manifests: list[dict], namespace: str) -> set[tuple[str, str, str]]:
    """(kind, name, namespace) of each manifest: KubernetesResourceId's identity, the namespace
    filled in as Harness does (setNamespaceToKubernetesResourcesIfRequired)."""
    return {(m.get("kind"), manifest_metadata(m).get("name"), manifest_metadata(m).get("namespace") or namespace)
            for m in manifests if isinstance(m, dict)}


def _skip_pruning(manifest: dict) -> bool:
    annotations = manifest_metadata(manifest).get("annotations")
    value = annotations.get(SKIP_PRUNING) if isinstance(annotations, dict) else None
    return str(value).lower() == "true" if value is not None else False


def deletion_order(items: list) -> list:
    """Harness's deletion order: KubernetesResourceComparer reversed (kinds backwards, then by kind
    and by name, both descending)."""
    def key(item) -> tuple:
        kind = item.kind
        position = CREATION_ORDER.index(kind) if kind in CREATION_ORDER else len(CREATION_ORDER)
        return position, kind.lower(), item.name.lower()
    return sorted(items, key=key, reverse=True)


def candidates(current: Release, target: Release, namespace: str) -> tuple[list[Candidate], list[str]]:
    """(what pruning would delete, in deletion order; why the rest of the failed release's own
    resources are kept). Pure: from the two releases' stored manifests."""
    kept = _ids(target.manifests, namespace)
    found: list[Candidate] = []
    notes: list[str] = []
    for manifest in current.manifests:
        if not isinstance(manifest, dict):
            continue
        meta = manifest_metadata(manifest)
        kind, name, api_version = _text(manifest.get("kind")), _text(meta.get("name")), _text(manifest.get("apiVersion"))
        if kind is None or name is None or api_version is None:
            continue
        own = meta.get("namespace") or namespace
        if (kind, name, own) in kept:
            continue
        shown = f"{kind.lower()}/{name}"
        if _skip_pruning(manifest):
            notes.append(f"{shown} is marked {SKIP_PRUNING}: never pruned")
        elif api_version.rpartition("/")[0] == RBAC_GROUP or kind in CLUSTER_SCOPED_KINDS:
            notes.append(f"{shown} is {'an RBAC object' if kind not in CLUSTER_SCOPED_KINDS else 'cluster-scoped'}: "
                         "never pruned (delete it yourself if it must go)")
        elif own != namespace:
            notes.append(f"{shown} is in namespace {own}: never pruned (a rollback stays in namespace {namespace})")
        elif Candidate(kind, name, api_version) not in found:
            found.append(Candidate(kind, name, api_version))
    return deletion_order(found), notes


def possible(model: ReleaseModel) -> list[Candidate]:
    """Every candidate against any older declarative release: what `read` reads before the
    rollback-to release is chosen (one GET each)."""
    current = model.current
    if current is None or not current.is_declarative:
        return []
    found: dict[tuple[str, str], Candidate] = {}
    for older in model.releases[1:]:
        if older.is_declarative:
            for item in candidates(current, older, model.namespace)[0]:
                found.setdefault(item.key, item)
    return list(found.values())


def marked(obj: dict, manifest: dict | None, release_name: str) -> bool:
    """The object carries the failed release's mark: its release-name label (on it or on its pod
    template), or that release's manifest as the last configuration `kubectl apply` applied."""
    meta = obj.get("metadata") or {}
    template = ((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}
    if release_name in ((meta.get("labels") or {}).get(RELEASE_NAME_LABEL),
                        (template.get("labels") or {}).get(RELEASE_NAME_LABEL)):
        return True
    return manifest is not None and last_applied.records((meta.get("annotations") or {}).get(last_applied.ANNOTATION),
                                                         manifest)


def decide(model: ReleaseModel, current: Release, target: Release, enabled: bool) -> tuple[list[PruneObject],
                                                                                             list[str]]:
    """(what the rollback deletes, notes for the plan). Without `enabled`, nothing is deleted and
    the notes name what --prune would delete. Pure."""
    if not (current.is_declarative and target.is_declarative):
        return [], ([f"--prune: release {current.number} or {target.number} is not a declarative release, whose "
                     "stored manifests pruning compares; nothing is pruned"] if enabled else [])
    found, notes = candidates(current, target, model.namespace)
    if not enabled:
        if found:
            notes.append(f"{', '.join(map(str, found))} {'was' if len(found) == 1 else 'were'} applied by release "
                         f"{current.number} but {'is' if len(found) == 1 else 'are'} not in release {target.number}: "
                         "left as it is (--prune deletes what still exists)")
        return [], notes
    pruned = []
    for item in found:
        live = model.prune_objects.get(item.key)
        if isinstance(live, str):
            notes.append(live)
        elif live is not None:
            pruned.append(live)
    return pruned, notes

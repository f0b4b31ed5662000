"""The least RBAC a pipeline needs to run kubectl harness-rollback (pure: manifests as dicts).

Derived from the API calls the plugin makes, and kept honest by tests that scan the package for
them (tests/unit/test_rbac.py) and run a whole rollback as a ServiceAccount bound to exactly this
Role (tests/integration/test_rbac.py). Not granted, because the plugin copes without them:
`create selfsubjectreviews` (every authenticated user may already; without it the audit trail
names the kubeconfig context) and `get priorityclasses` (cluster-scoped, which a Role cannot
grant: without it the preflight warns that it did not check the PriorityClass). Discovery, which
the re-apply asks for, is open to every authenticated user too. Re-applying a kind not in
reapply_scope.REAPPLIED_KINDS (a custom resource) needs `create` and `patch` on it, granted apart.
"""

from __future__ import annotations

from kubectl_harness_rollback import kinds
from kubectl_harness_rollback.apply.reapply_scope import REAPPLIED
from kubectl_harness_rollback.kinds import Kind

ROLE_NAME = "kubectl-harness-rollback"
LIST_CLUSTER_ROLE_NAME = "kubectl-harness-rollback-list"
RBAC_API_VERSION = kinds.ROLE.api_version
VERB_ORDER = ("get", "list", "watch", "create", "update", "patch", "delete")


def _needs() -> dict[tuple[str, str], set[str]]:
    """(API group, resource) -> verbs that every command uses in a namespace: `list` (without -A),
    `status`, `history`, `plan`, `diff`, `rollback` and `record`."""
    needs: dict[tuple[str, str], set[str]] = {}

    def need(kind: Kind, *verbs: str) -> None:
        needs.setdefault((kind.group, kind.plural), set()).update(verbs)

    for kind in kinds.WORKLOADS:
        # reader: one list per kind; rollback/record: read and watch while waiting (waiting.py), patch
        # to restore, scale, and annotate; delete a failed canary's workload (canary.py: whichever kind).
        need(kind, "get", "list", "watch", "patch", "delete")
    need(kinds.CONTROLLER_REVISION, "list", "patch")  # StatefulSet/DaemonSet revisions; record annotates one
    # status --watch follows the revisions and blue/green Services it shows (status_watch.py); without
    # the right it reads the release again every second.
    need(kinds.CONTROLLER_REVISION, "watch")
    need(kinds.SERVICE, "watch")
    # History Secret; release Secrets (listed, status label; a roll forward creates the new release's); preflight
    need(kinds.SECRET, "get", "list", "create", "patch")
    need(kinds.CONFIG_MAP, "get", "create", "patch")  # history ConfigMap (record creates it); preflight
    # preflight: what the restored template references exists (a GET for one name, else one list),
    # and the namespace is not Terminating (a Role grants `get` on its own namespace).
    need(kinds.CONFIG_MAP, "list")
    need(kinds.SERVICE_ACCOUNT, "get", "list")
    need(kinds.PERSISTENT_VOLUME_CLAIM, "get", "list")
    need(kinds.NAMESPACE, "get")
    need(kinds.SERVICE, "list", "patch")  # blue/green: find the Services, swap their selectors back
    need(kinds.EVENT, "create")  # the RolledBack Event
    # Why a release is not steady (diagnosis.py): the pods of its current revision and the Warning
    # Events of what creates them, listed only when it is not steady.
    need(kinds.POD, "list")
    need(kinds.EVENT, "list")
    for kind in (kinds.HORIZONTAL_POD_AUTOSCALER, kinds.POD_DISRUPTION_BUDGET, kinds.CONFIG_MAP, kinds.SECRET):
        # canary.py: a failed canary's `-canary` HPA, PDB, ConfigMaps and Secrets, read for the
        # resourceVersion that guards their delete.
        need(kind, "get", "delete")
    for kind in REAPPLIED:
        # Declarative rollback: each object is read to compare it with the release's manifest; the
        # apply is a PATCH, and where the object is gone the API server asks for `create` too.
        # --prune (prune.py) reads what the failed release applied, for the UID that guards its
        # delete, and deletes it. A kind outside this list is refused by the rights check first.
        need(kind, "get", "create", "patch", "delete")
    return needs


def _rules(needs: dict[tuple[str, str], set[str]]) -> list[dict]:
    """One rule per API group and set of verbs, in a fixed order."""
    grouped: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for (group, resource), verbs in needs.items():
        ordered = tuple(v for v in VERB_ORDER if v in verbs)
        grouped.setdefault((group, ordered), []).append(resource)
    return [{"apiGroups": [group], "resources": sorted(resources), "verbs": list(verbs)}
            for (group, verbs), resources in sorted(grouped.items(), key=lambda item: (
                item[0][0], [VERB_ORDER.index(v) for v in item[0][1]]))]


def role(namespace: str) -> dict:
    """The Role for every command in `namespace` (`list -A` needs list_cluster_role too)."""
    return {"apiVersion": RBAC_API_VERSION, "kind": kinds.ROLE.name,
            "metadata": {"name": ROLE_NAME, "namespace": namespace},
            "rules": _rules(_needs())}


def list_cluster_role() -> dict:
    """The ClusterRole for `list -A`: one list per kind across every namespace, ReplicaSets and
    ControllerRevisions included for what is live, Services for blue/green swap-backs (Secrets and
    Services may be left out: `list` then warns and shows what it can see)."""
    # What listing.py lists, and no more: the kinds `list` shows.
    listed = (*kinds.RELEASE_WORKLOADS, *kinds.REVISION_KINDS, kinds.CONFIG_MAP, kinds.SECRET, kinds.SERVICE)
    needs = {(kind.group, kind.plural): {"list"} for kind in listed}
    return {"apiVersion": RBAC_API_VERSION, "kind": kinds.CLUSTER_ROLE.name,
            "metadata": {"name": LIST_CLUSTER_ROLE_NAME}, "rules": _rules(needs)}


def manifest(namespace: str, all_namespaces: bool = False) -> dict:
    """What `rbac` prints: the Role, or with `all_namespaces` a List of the Role and the ClusterRole."""
    if not all_namespaces:
        return role(namespace)
    return {"apiVersion": "v1", "kind": "List", "items": [role(namespace), list_cluster_role()]}

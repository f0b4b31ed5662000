"""`rbac`: the least Role a pipeline needs, derived from the calls the package makes."""

import json
import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from kubectl_harness_rollback.apply.reapply_scope import REAPPLIED_KINDS
from kubectl_harness_rollback.cli.app import cli
from kubectl_harness_rollback.cluster import rest
from kubectl_harness_rollback.rbac import list_cluster_role, manifest, role

PACKAGE = Path(__file__).resolve().parents[2] / "kubectl_harness_rollback"


def rule(group, resources, verbs):
    return {"apiGroups": [group], "resources": resources, "verbs": verbs}


def test_role_is_exactly_what_record_and_rollback_call():
    assert role("shop") == {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "kubectl-harness-rollback", "namespace": "shop"},
        "rules": [
            rule("", ["namespaces"], ["get"]),
            rule("", ["services"], ["get", "list", "watch", "create", "patch", "delete"]),
            rule("", ["configmaps", "persistentvolumeclaims", "secrets", "serviceaccounts"],
                 ["get", "list", "create", "patch", "delete"]),
            rule("", ["pods"], ["list"]),
            rule("", ["events"], ["list", "create"]),
            rule("apps", ["daemonsets", "deployments", "replicasets", "statefulsets"],
                 ["get", "list", "watch", "create", "patch", "delete"]),
            rule("apps", ["controllerrevisions"], ["list", "watch", "patch"]),
            rule("autoscaling", ["horizontalpodautoscalers"], ["get", "create", "patch", "delete"]),
            rule("batch", ["cronjobs", "jobs"], ["get", "create", "patch", "delete"]),
            rule("networking.k8s.io", ["ingresses", "networkpolicies"], ["get", "create", "patch", "delete"]),
            rule("policy", ["poddisruptionbudgets"], ["get", "create", "patch", "delete"]),
        ],
    }


def test_cluster_role_for_list_all_namespaces_only_lists():
    assert list_cluster_role() == {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "kubectl-harness-rollback-list"},
        "rules": [rule("", ["configmaps", "secrets", "services"], ["list"]),
                  rule("apps", ["controllerrevisions", "daemonsets", "deployments", "replicasets", "statefulsets"],
                       ["list"])],
    }
    assert manifest("shop", all_namespaces=True) == {"apiVersion": "v1", "kind": "List",
                                                     "items": [role("shop"), list_cluster_role()]}
    assert manifest("shop") == role("shop")


def granted(manifest_dict):
    return {(group, resource, verb) for r in manifest_dict["rules"] for group in r["apiGroups"]
            for resource in r["resources"] for verb in r["verbs"]}


VERBS = {"get": "get", "get_or_none": "get", "list": "list", "watch": "watch", "patch": "patch",
         "create": "create", "delete": "delete"}
# Every request goes through the request layer: kube.VERB(RESOURCE, ...), or a helper handed
# kube.VERB and RESOURCE (reader._secrets_or_note).
CALL = re.compile(r"\bkube\.(get_or_none|get|list|watch|patch|create|delete)\b[(,]\s*([A-Za-z_][\w.\[\]]*)")
# Calls whose resource is a variable: what it can be, file by file (a new one fails the scan).
INDIRECT = {
    ("bookkeeping.py", "resource"): {"CONFIGMAPS", "SECRETS"},
    ("overtaken.py", "resource"): {"CONFIGMAPS", "SECRETS"},
    ("recorder.py", "resource"): {"REPLICASETS", "CONTROLLERREVISIONS"},
    ("canary.py", "RESOURCES[ref.kind]"): {"HORIZONTALPODAUTOSCALERS", "PODDISRUPTIONBUDGETS", "CONFIGMAPS",
                                           "SECRETS"},
    ("preflight.py", "resource"): {"CONFIGMAPS", "SECRETS", "SERVICEACCOUNTS", "PERSISTENTVOLUMECLAIMS",
                                   "PRIORITYCLASSES"},
    ("calls.py", "self.api"): {"DEPLOYMENTS", "STATEFULSETS", "DAEMONSETS", "REPLICASETS"},
    ("waiting.py", "resource"): {"DEPLOYMENTS", "STATEFULSETS", "DAEMONSETS", "REPLICASETS"},
    ("status_watch.py", "resource"): {"DEPLOYMENTS", "STATEFULSETS", "DAEMONSETS", "REPLICASETS", "CONTROLLERREVISIONS",
                                 "SERVICES"},
    ("manifests.py", "resource"): set(),  # read and apply of REAPPLIED_KINDS, added below
    ("manifests.py", "resources[obj]"): set(),
    ("listing.py", "resource"): set(),  # `list`: the ClusterRole, below
    ("traffic.py", "STAGE_RESOURCES[ref.kind]"): {"HORIZONTALPODAUTOSCALERS", "PODDISRUPTIONBUDGETS"},
    ("prune_live.py", "Resource"): set(),  # --prune: get and delete of REAPPLIED_KINDS, added below
}
# Granted to every authenticated user, or done without (see rbac.py's docstring).
NOT_GRANTED = {"SELF_SUBJECT_REVIEWS", "SELF_SUBJECT_ACCESS_REVIEWS", "PRIORITYCLASSES"}


def calls(exclude=()) -> set[tuple[str, str, str]]:
    """(group, resource, verb) of every request the package makes, from its source."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name in exclude:
            continue
        for verb, argument in CALL.findall(path.read_text()):
            names = INDIRECT[(path.name, argument)] if (path.name, argument) in INDIRECT else {argument}
            for name in names - NOT_GRANTED:
                resource = getattr(rest, name)
                found.add((resource.group, resource.plural, VERBS[verb]))
    return found


def test_every_namespaced_call_of_the_package_is_granted():
    # listing.py is `list`, which the ClusterRole covers (and -n NS needs list on configmaps too);
    # completion.py lists namespaces for -n, which a Role cannot grant (completion offers none then).
    needed = calls(exclude={"listing.py", "completion.py"})
    assert len(needed) > 10, "the scan found no API call: has the request layer's naming changed?"
    # Declarative rollback: read each object to compare it, then apply (patch, and create where the
    # object is gone).
    needed |= {(group, plural, verb) for (group, _), plural in REAPPLIED_KINDS.items()
               for verb in ("get", "create", "patch")}
    # --prune: the failed release's objects, read for the UID that guards their delete, and deleted.
    needed |= {(group, plural, "delete") for (group, _), plural in REAPPLIED_KINDS.items()}
    assert needed == granted(role("shop"))  # all of it, and nothing more


def test_every_all_namespaces_list_is_granted_by_the_cluster_role():
    source = (PACKAGE / "listing.py").read_text()
    needed = {(getattr(rest, name).group, getattr(rest, name).plural, "list")
              for name in re.findall(r"\b(CONFIGMAPS|SECRETS|SERVICES|DEPLOYMENTS|STATEFULSETS|DAEMONSETS|REPLICASETS|CONTROLLERREVISIONS)\b", source)}
    assert {verb for verb, _ in CALL.findall(source)} == {"list"}  # histories too are read by a list
    assert needed == granted(list_cluster_role())


def test_rbac_command_prints_yaml_by_default_and_json_when_asked():
    runner = CliRunner()
    done = runner.invoke(cli, ["rbac", "-n", "shop"])
    assert done.exit_code == 0, done.output
    assert yaml.safe_load(done.output) == role("shop")
    done = runner.invoke(cli, ["-n", "shop", "rbac", "-A", "-o", "json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == manifest("shop", all_namespaces=True)


def test_rbac_command_takes_the_namespace_from_the_kubeconfig_without_contacting_it(tmp_path):
    config = tmp_path / "config"
    config.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {}}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u", "namespace": "payments"}}]}))
    done = CliRunner().invoke(cli, ["rbac", "--kubeconfig", str(config)])
    assert done.exit_code == 0, done.output
    assert yaml.safe_load(done.output)["metadata"] == {"name": "kubectl-harness-rollback", "namespace": "payments"}

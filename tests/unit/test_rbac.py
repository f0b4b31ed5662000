"""`rbac`: the least Role a pipeline needs, derived from the calls the package makes."""

import json
import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from kubectl_harness_rollback.cli import cli
from kubectl_harness_rollback.rbac import list_cluster_role, manifest, role
from kubectl_harness_rollback.reapply_scope import REAPPLIED_KINDS

PACKAGE = Path(__file__).resolve().parents[2] / "kubectl_harness_rollback"


def rule(group, resources, verbs):
    return {"apiGroups": [group], "resources": resources, "verbs": verbs}


def test_role_is_exactly_what_record_and_rollback_call():
    assert role("shop") == {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "kubectl-harness-rollback", "namespace": "shop"},
        "rules": [
            rule("", ["secrets"], ["get", "list", "create", "patch", "delete"]),
            rule("", ["configmaps"], ["get", "create", "patch", "delete"]),
            rule("", ["services"], ["list", "create", "patch"]),
            rule("", ["events"], ["create"]),
            rule("apps", ["daemonsets", "deployments", "replicasets", "statefulsets"],
                 ["get", "list", "create", "patch", "delete"]),
            rule("apps", ["controllerrevisions"], ["list", "patch"]),
            rule("autoscaling", ["horizontalpodautoscalers"], ["get", "create", "patch", "delete"]),
            rule("networking.k8s.io", ["ingresses"], ["create", "patch"]),
            rule("policy", ["poddisruptionbudgets"], ["get", "create", "patch", "delete"]),
        ],
    }


def test_cluster_role_for_list_all_namespaces_only_lists():
    assert list_cluster_role() == {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "kubectl-harness-rollback-list"},
        "rules": [rule("", ["configmaps", "secrets"], ["list"]),
                  rule("apps", ["controllerrevisions", "daemonsets", "deployments", "replicasets", "statefulsets"],
                       ["list"])],
    }
    assert manifest("shop", all_namespaces=True) == {"apiVersion": "v1", "kind": "List",
                                                     "items": [role("shop"), list_cluster_role()]}
    assert manifest("shop") == role("shop")


def granted(manifest_dict):
    return {(group, resource, verb) for r in manifest_dict["rules"] for group in r["apiGroups"]
            for resource in r["resources"] for verb in r["verbs"]}


VERBS = {"read": "get", "list": "list", "patch": "patch", "create": "create", "delete": "delete",
         "replace": "update"}
CALL = re.compile(r"\b(read|list|patch|create|delete|replace)_namespaced_([a-z_]+)")
GROUPS = {"deployment": "apps", "stateful_set": "apps", "daemon_set": "apps", "replica_set": "apps",
          "controller_revision": "apps", "horizontal_pod_autoscaler": "autoscaling",
          "pod_disruption_budget": "policy", "ingress": "networking.k8s.io"}
ALL_NAMESPACES = re.compile(r"\.list_([a-z_]+)_for_all_namespaces")


def resource(snake):
    word = snake.replace("_", "")
    return word + ("es" if word.endswith("s") else "s")


def calls(pattern, exclude=()):
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name not in exclude:
            found |= {m.groups() for m in pattern.finditer(path.read_text())}
    return found


def test_every_namespaced_call_of_the_package_is_granted():
    # catalog.py is `list`, which the ClusterRole covers (and -n NS needs list on configmaps too).
    needed = {(GROUPS.get(what, ""), resource(what), VERBS[verb])
              for verb, what in calls(CALL, exclude={"catalog.py"})}
    assert needed, "the scan found no API call: has the client's naming changed?"
    # The workload adapters call through NamespacedCalls (list/read/patch; delete for canaries).
    needed |= {("apps", r, v) for r in ("deployments", "statefulsets", "daemonsets", "replicasets")
               for v in ("list", "get", "patch", "delete")}
    # Declarative rollback: server-side apply (patch, and create where the object is gone).
    needed |= {(group, plural, verb) for (group, _), plural in REAPPLIED_KINDS.items()
               for verb in ("create", "patch")}
    assert needed == granted(role("shop"))  # all of it, and nothing more


def test_every_all_namespaces_list_is_granted_by_the_cluster_role():
    needed = {("apps" if what in ("deployment", "stateful_set", "daemon_set", "replica_set", "controller_revision")
               else "", resource(what), "list")
              for (what,) in calls(ALL_NAMESPACES)}
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

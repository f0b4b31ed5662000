"""A declarative release re-applies only objects that are its own.

A release Secret is anyone's to write who may create Secrets in the namespace, and the re-apply
runs with the rights of whoever rolls back. Harness labels every workload it deploys with
harness.io/release-name (K8sTaskHelperBase.addRevisionNumber / getWorkloads: the release name label
on pod templates); an object that exists and carries another release's label, or a workload without
this release's label, or an object no other release of this name ever deployed, is refused before
any write, naming the object and the rule.
"""

import json

from tests.integration.test_declarative_scope import settled_versions
from tests.support.harness import wait_for_rollout, write_declarative_release

RELEASE = "release-infra-prod"


def deployment(name, tag, label=RELEASE):
    labels = {"app": name, **({"harness.io/release-name": label} if label else {})}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": name, "image": f"registry.example/{name}:{tag}"}]}}}}


def test_a_release_secret_cannot_repoint_another_teams_deployment(api_client, apps, core, namespace, plugin):
    apps.create_namespaced_deployment(namespace, deployment("api", 3))
    apps.create_namespaced_deployment(namespace, deployment("billing", 7, label=None))  # another team's
    wait_for_rollout(apps, namespace, "api")
    wait_for_rollout(apps, namespace, "billing")
    write_declarative_release(core, namespace, RELEASE, 1, "Succeeded",
                              [deployment("api", 1), deployment("billing", "evil", label=None)])
    write_declarative_release(core, namespace, RELEASE, 2, "Failed", [deployment("api", 3)])
    before = settled_versions(api_client, namespace)

    for command in ("plan", "rollback"):
        done = plugin(command, RELEASE, "-n", namespace, check_exit=1)
        assert "deployment/billing" in done.stderr and "nothing was changed" in done.stderr
        assert "harness.io/release-name" in done.stderr
    assert settled_versions(api_client, namespace) == before
    assert apps.read_namespaced_deployment("billing", namespace).spec.template.spec.containers[0].image == \
        "registry.example/billing:7"


def test_an_object_of_another_release_is_refused(api_client, apps, core, namespace, plugin):
    apps.create_namespaced_deployment(namespace, deployment("api", 3))
    apps.create_namespaced_deployment(namespace, deployment("worker", 5, label="release-other"))
    wait_for_rollout(apps, namespace, "api")
    wait_for_rollout(apps, namespace, "worker")  # its controllers' writes are over before `before` is read
    write_declarative_release(core, namespace, RELEASE, 1, "Succeeded",
                              [deployment("api", 1), deployment("worker", "evil", label=RELEASE)])
    write_declarative_release(core, namespace, RELEASE, 2, "Failed", [deployment("api", 3)])
    before = settled_versions(api_client, namespace)

    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=1)
    assert "deployment/worker" in done.stderr and "belongs to release release-other" in done.stderr
    assert settled_versions(api_client, namespace) == before


def test_objects_an_earlier_release_deployed_are_its_own(apps, core, namespace, plugin):
    """A ConfigMap without labels that release 1 and 2 both deployed comes back as release 1 had it."""
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-config"}, "data": {"mode": "1"}}
    broken = {**config, "data": {"mode": "2"}}
    apps.create_namespaced_deployment(namespace, deployment("api", 2))
    core.create_namespaced_config_map(namespace, broken)
    wait_for_rollout(apps, namespace, "api")
    write_declarative_release(core, namespace, RELEASE, 1, "Succeeded", [config, deployment("api", 1)])
    write_declarative_release(core, namespace, RELEASE, 2, "Failed", [broken, deployment("api", 2)])

    view = json.loads(plugin("plan", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert {(item["kind"], item["name"]) for item in view["reapply"]} == {("ConfigMap", "api-config"),
                                                                         ("Deployment", "api")}
    plugin("rollback", RELEASE, "-n", namespace, "--timeout", "90s", check_exit=0)
    assert core.read_namespaced_config_map("api-config", namespace).data == {"mode": "1"}

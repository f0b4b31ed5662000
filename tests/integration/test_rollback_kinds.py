"""`rollback` for every other kind: StatefulSet, DaemonSet, bare ReplicaSet, declarative and canary
releases, each deployed good, good, bad on the real control plane and rolled back."""

import json

from kubernetes import client as k8s

from tests.support.harness import (
    HarnessRollingDeployer,
    Identity,
    Release,
    wait_for_rollout,
    write_declarative_release,
    write_history,
)
from tests.support.waiting import eventually

RELEASE = "release-infra-prod"
LABEL = {"harness.io/release-name": RELEASE}


def template(app, image, extra_labels=None):
    return k8s.V1PodTemplateSpec(
        metadata=k8s.V1ObjectMeta(labels={"app": app, **LABEL, **(extra_labels or {})}),
        spec=k8s.V1PodSpec(containers=[k8s.V1Container(name=app, image=image)]))


def controller_revision_of(apps, namespace, kind, name):
    """The .revision of the ControllerRevision the workload now runs (once observed)."""
    read = apps.read_namespaced_stateful_set if kind == "StatefulSet" else apps.read_namespaced_daemon_set
    obj = read(name, namespace)
    eventually(lambda: (read(name, namespace).status.observed_generation or 0) >= obj.metadata.generation)
    obj = read(name, namespace)
    owned = [cr for cr in apps.list_namespaced_controller_revision(namespace).items
             if any(ref.uid == obj.metadata.uid for ref in cr.metadata.owner_references or [])]
    if kind == "StatefulSet":
        return str(next(cr.revision for cr in owned if cr.metadata.name == obj.status.update_revision))
    return str(max(cr.revision for cr in owned))


def deploy_controller_revisions(apps, core, namespace, kind):
    """good, good, bad for a StatefulSet or DaemonSet, with the legacy history Harness would keep."""
    name = "db" if kind == "StatefulSet" else "agent"
    releases = []
    for number, (tag, status) in enumerate([("1", "Succeeded"), ("2", "Succeeded"), ("3", "Failed")], start=1):
        image = f"registry.example/{name}:{tag}"
        if number == 1 and kind == "StatefulSet":
            apps.create_namespaced_stateful_set(namespace, k8s.V1StatefulSet(
                metadata=k8s.V1ObjectMeta(name=name, annotations=Identity().annotations()),
                spec=k8s.V1StatefulSetSpec(service_name=name, replicas=2, template=template(name, image),
                                           selector=k8s.V1LabelSelector(match_labels={"app": name}))))
        elif number == 1:
            apps.create_namespaced_daemon_set(namespace, k8s.V1DaemonSet(
                metadata=k8s.V1ObjectMeta(name=name, annotations=Identity().annotations()),
                spec=k8s.V1DaemonSetSpec(template=template(name, image),
                                         selector=k8s.V1LabelSelector(match_labels={"app": name}))))
        else:
            patch = (apps.patch_namespaced_stateful_set if kind == "StatefulSet" else apps.patch_namespaced_daemon_set)
            patch(name, namespace, {"spec": {"template": {"spec": {"containers": [{"name": name, "image": image}]}}}})
        releases.append(Release(number, status, [(kind, name, controller_revision_of(apps, namespace, kind, name))],
                                namespace))
        write_history(core, namespace, RELEASE, releases)
    return name


def images_running(core, namespace, app):
    pods = core.list_namespaced_pod(namespace, label_selector=f"app={app}").items
    return sorted(p.spec.containers[0].image for p in pods if p.metadata.deletion_timestamp is None
                  and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or []))


def history(plugin, namespace):
    rows = json.loads(plugin("history", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    return [(r["number"], r["status"], r["workloads"][0]["revision"] if r["workloads"] else None) for r in rows]


def test_statefulset(apps, core, namespace, plugin):
    name = deploy_controller_revisions(apps, core, namespace, "StatefulSet")
    plugin("rollback", RELEASE, "-n", namespace, "--timeout", "90s", check_exit=0)
    assert apps.read_namespaced_stateful_set(name, namespace).spec.template.spec.containers[0].image == \
        "registry.example/db:2"
    eventually(lambda: images_running(core, namespace, name) == ["registry.example/db:2"] * 2)
    assert history(plugin, namespace) == [(3, "Failed", 3), (2, "Succeeded", 4), (1, "Succeeded", 1)]


def test_daemonset(apps, core, namespace, plugin):
    name = deploy_controller_revisions(apps, core, namespace, "DaemonSet")
    plugin("rollback", RELEASE, "-n", namespace, "--timeout", "90s", check_exit=0)
    assert apps.read_namespaced_daemon_set(name, namespace).spec.template.spec.containers[0].image == \
        "registry.example/agent:2"
    nodes = len(core.list_node().items)
    eventually(lambda: images_running(core, namespace, name) == ["registry.example/agent:2"] * nodes)
    assert history(plugin, namespace) == [(3, "Failed", 3), (2, "Succeeded", 4), (1, "Succeeded", 1)]


def test_bare_replica_sets_are_rolled_back_by_scale(apps, core, namespace, plugin):
    releases = []
    for number, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
        apps.create_namespaced_replica_set(namespace, k8s.V1ReplicaSet(
            metadata=k8s.V1ObjectMeta(name=f"web-{number}", labels=LABEL),
            spec=k8s.V1ReplicaSetSpec(
                replicas=2, selector=k8s.V1LabelSelector(match_labels={"app": "web", "version": str(number)}),
                template=template("web", f"registry.example/web:{number}", {"version": str(number)}))))
        if number > 1:  # Harness scales the previous release down when the new one is up
            apps.patch_namespaced_replica_set(f"web-{number - 1}", namespace, {"spec": {"replicas": 0}})
        releases.append(Release(number, status, [("ReplicaSet", f"web-{number}", "")], namespace))
    write_history(core, namespace, RELEASE, releases)
    # Harness waits for steady state; so does this test, or the controller's status writes race the
    # rollback's guarded writes (a 409 that says, rightly, the ReplicaSet changed after it was read).
    eventually(lambda: all((rs.status.observed_generation or 0) >= rs.metadata.generation
                           and (rs.status.replicas or 0) == (rs.status.ready_replicas or 0) == rs.spec.replicas
                           for rs in apps.list_namespaced_replica_set(namespace).items))

    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    scale = {rs.metadata.name: rs.spec.replicas for rs in apps.list_namespaced_replica_set(namespace).items}
    assert scale == {"web-1": 0, "web-2": 2, "web-3": 0}
    eventually(lambda: images_running(core, namespace, "web") == ["registry.example/web:2"] * 2)
    assert [(n, s) for n, s, _ in history(plugin, namespace)] == [(3, "Failed"), (2, "Succeeded"), (1, "Succeeded")]


def test_declarative_release_is_reapplied(apps, core, namespace, plugin):
    def manifest(tag):
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": namespace},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
                         "template": {"metadata": {"labels": {"app": "api", **LABEL}},
                                      "spec": {"containers": [{"name": "api", "image": f"registry.example/api:{tag}"}]}}}}
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-config"}, "data": {"mode": "x"}}
    for number, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
        body = manifest(number)
        try:
            apps.create_namespaced_deployment(namespace, body)
        except k8s.exceptions.ApiException:
            apps.replace_namespaced_deployment("api", namespace, {**body, "metadata": {
                **body["metadata"], "resourceVersion": apps.read_namespaced_deployment("api", namespace).metadata.resource_version}})
        wait_for_rollout(apps, namespace, "api")
        write_declarative_release(core, namespace, RELEASE, number, status,
                                  [{**config, "data": {"mode": str(number)}}, manifest(number)])

    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert apps.read_namespaced_deployment("api", namespace).spec.template.spec.containers[0].image == \
        "registry.example/api:2"
    assert core.read_namespaced_config_map("api-config", namespace).data == {"mode": "2"}
    eventually(lambda: images_running(core, namespace, "api") == ["registry.example/api:2"] * 2)
    failed = core.read_namespaced_secret(f"harness.release.{RELEASE}.3", namespace)
    assert failed.metadata.labels["status"] == "Failed"


def test_failed_canary_is_deleted_then_stable_rolled_back(apps, core, namespace, plugin):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2")
    apps.create_namespaced_deployment(namespace, k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name="web-canary", labels={"harness.io/track": "canary"}),
        spec=k8s.V1DeploymentSpec(replicas=1, selector=k8s.V1LabelSelector(match_labels={"app": "web-canary"}),
                                  template=template("web-canary", "registry.example/web:3",
                                                    {"harness.io/track": "canary"}))))
    wait_for_rollout(apps, namespace, "web-canary")
    deployer.deploy("registry.example/web:3", status="Failed")

    view = json.loads(plugin("plan", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert view["mode"] == "canary"
    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert [d.metadata.name for d in apps.list_namespaced_deployment(namespace).items] == ["web"]
    assert apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].image == \
        "registry.example/web:2"

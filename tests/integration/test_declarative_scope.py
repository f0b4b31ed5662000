"""Issue 10, declarative releases: re-applying a release Secret must not borrow the operator's rights.

Anyone who may create a Secret in the namespace can write a `harness.release.<name>.<N>` Secret.
A rollback re-applies only the release's own kinds, into the release's namespace; a release holding
anything else is refused before any write — by `plan` and by `rollback` alike.
"""

import json
import time
import uuid

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from tests.support.harness import wait_for_rollout, write_declarative_release

RELEASE = "release-infra-prod"
LABEL = {"harness.io/release-name": RELEASE}


def deployment(tag, namespace=None):
    meta = {"name": "api", **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
                     "template": {"metadata": {"labels": {"app": "api", **LABEL}},
                                  "spec": {"containers": [{"name": "api", "image": f"registry.example/api:{tag}"}]}}}}


def run_image(apps, namespace, tag):
    """Deploy registry.example/api:TAG as a Harness pipeline would, and wait for it."""
    body = deployment(tag)
    try:
        apps.create_namespaced_deployment(namespace, body)
    except ApiException as exc:
        assert exc.status == 409
        apps.patch_namespaced_deployment("api", namespace, {"spec": body["spec"]})
    wait_for_rollout(apps, namespace, "api")


def versions(api_client, namespace):
    """Every object a rollback could write in the namespace, with its resourceVersion. Pods are
    left out: the kubelet stand-in updates their status on its own; so are the controllers' Events."""
    core, apps = k8s.CoreV1Api(api_client), k8s.AppsV1Api(api_client)
    listed = {
        "Deployment": apps.list_namespaced_deployment, "ReplicaSet": apps.list_namespaced_replica_set,
        "StatefulSet": apps.list_namespaced_stateful_set, "DaemonSet": apps.list_namespaced_daemon_set,
        "ConfigMap": core.list_namespaced_config_map, "Secret": core.list_namespaced_secret,
        "Service": core.list_namespaced_service, "ServiceAccount": core.list_namespaced_service_account,
        "Event": core.list_namespaced_event,
    }
    return {(kind, o.metadata.name): o.metadata.resource_version
            for kind, method in listed.items() for o in method(namespace).items
            if kind != "Event" or not by_a_controller(o)}


# The control plane's writers of Events: they report on pods they create and schedule seconds after
# the writes themselves (and more than once a minute on a busy control plane). Any other Event,
# the plugin's own included, counts.
CONTROLLERS = {"deployment-controller", "replicaset-controller", "statefulset-controller",
               "daemonset-controller", "default-scheduler", "kubelet", "endpoint-slice-controller"}


def by_a_controller(event) -> bool:
    return bool({event.reporting_component, event.source and event.source.component} & CONTROLLERS)


def _rolled_out(api_client, namespace) -> bool:
    """Every Deployment's controller has caught up with it and every ReplicaSet has the pods it asks
    for: until then the controllers still scale, and their Events still come."""
    apps = k8s.AppsV1Api(api_client)
    for d in apps.list_namespaced_deployment(namespace).items:
        wanted, st = d.spec.replicas, d.status
        if (st.observed_generation or 0) < d.metadata.generation or \
                not (st.replicas or 0) == (st.updated_replicas or 0) == (st.available_replicas or 0) == wanted:
            return False
    return all((rs.status.replicas or 0) == rs.spec.replicas
               for rs in apps.list_namespaced_replica_set(namespace).items)


def settled_versions(api_client, namespace, timeout=30):
    """versions(), once the controllers have stopped writing (their rollouts done, then two equal
    reads in a row: on a busy control plane a pause of theirs can look like rest)."""
    deadline, last = time.monotonic() + timeout, None
    while True:
        now = versions(api_client, namespace) if _rolled_out(api_client, namespace) else None
        if now is not None and now == last:
            return now
        assert time.monotonic() < deadline, "the namespace never settled"
        last = now
        time.sleep(1)


@pytest.fixture
def other_namespace(core):
    name = f"khr-other-{uuid.uuid4().hex[:6]}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


def test_hostile_release_secret_is_refused_before_any_write(api_client, apps, core, namespace, other_namespace,
                                                            plugin):
    rbac = k8s.RbacAuthorizationV1Api(api_client)
    takeover = f"{namespace}-takeover"
    hostile = [
        deployment(1),
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": takeover},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
         "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}]},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "planted", "namespace": other_namespace},
         "type": "Opaque", "stringData": {"token": "planted-secret-value"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "planted", "namespace": other_namespace},
         "data": {"mode": "planted"}},
    ]
    run_image(apps, namespace, 1)
    write_declarative_release(core, namespace, RELEASE, 1, "Succeeded", hostile)  # written by a tenant
    run_image(apps, namespace, 2)
    write_declarative_release(core, namespace, RELEASE, 2, "Failed", [deployment(2)])
    before = settled_versions(api_client, namespace)

    try:
        for command in (["plan", RELEASE, "-o", "json"], ["rollback", RELEASE]):
            done = plugin(*command, "-n", namespace, check_exit=1)
            assert done.stderr.count("\n") == 1, done.stderr
            assert done.stderr.startswith(f"error: release 1 (secret/harness.release.{RELEASE}.1) holds "
                                          f"clusterrolebinding/{takeover}, which a rollback does not re-apply: "
                                          "it is an RBAC object"), done.stderr
            assert "nothing was changed" in done.stderr and "planted-secret-value" not in done.stderr + done.stdout

        with pytest.raises(ApiException) as missing:
            rbac.read_cluster_role_binding(takeover)
        assert missing.value.status == 404
        assert [s.metadata.name for s in core.list_namespaced_secret(other_namespace).items
                if s.metadata.name == "planted"] == []
        assert [c.metadata.name for c in core.list_namespaced_config_map(other_namespace).items
                if c.metadata.name == "planted"] == []
        assert versions(api_client, namespace) == before
        assert apps.read_namespaced_deployment("api", namespace).spec.template.spec.containers[0].image == \
            "registry.example/api:2"
    finally:  # before the fix the rollback created it: never leave cluster-admin behind
        try:
            rbac.delete_cluster_role_binding(takeover)
        except ApiException as exc:
            if exc.status != 404:
                raise


def clean_release(namespace, tag):
    """A release as Harness stores it: a Service, a ConfigMap and a Deployment, all of this tag."""
    return [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "annotations": {"release": str(tag)}},
         "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 8000 + tag}]}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-config", "namespace": namespace},
         "data": {"mode": str(tag)}},
        deployment(tag),
    ]


def test_clean_declarative_release_lists_and_reapplies_everything(apps, core, namespace, plugin):
    for number, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
        run_image(apps, namespace, number)
        write_declarative_release(core, namespace, RELEASE, number, status, clean_release(namespace, number))
    # The cluster runs release 3: its Service is there, its ConfigMap is gone (re-applying recreates it).
    core.create_namespaced_service(namespace, clean_release(namespace, 3)[0])

    view = json.loads(plugin("plan", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert view["target"]["number"] == 2
    assert [(item["kind"], item["name"]) for item in view["reapply"]] == [
        ("Service", "api"), ("ConfigMap", "api-config"), ("Deployment", "api")]
    assert view["reapply"][1]["differences"] == ["created from the stored manifest"]
    text = plugin("plan", RELEASE, "-n", namespace, check_exit=0).stdout
    assert "Re-apply from release 2's stored manifest (as kubectl apply):\n  service/api\n" in text
    assert "\n  configmap/api-config\n    created from the stored manifest\n  deployment/api\n" in text

    plugin("rollback", RELEASE, "-n", namespace, check_exit=0)
    assert apps.read_namespaced_deployment("api", namespace).spec.template.spec.containers[0].image == \
        "registry.example/api:2"
    assert core.read_namespaced_config_map("api-config", namespace).data == {"mode": "2"}
    service = core.read_namespaced_service("api", namespace)
    assert (service.metadata.annotations["release"], service.spec.ports[0].target_port) == ("2", 8002)
    assert core.read_namespaced_secret(f"harness.release.{RELEASE}.3", namespace).metadata.labels["status"] == "Failed"


def with_kinds(tag):
    """A release as Helm charts ship them: a ServiceAccount, a migration Job (the same in every
    release), a NetworkPolicy, and the Deployment."""
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "api", "annotations": {"tier": str(tag)}}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
         "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
             {"name": "migrate", "image": "registry.example/migrate:1"}]}}}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "api"},
         "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Ingress"],
                  "ingress": [{"ports": [{"port": 8000 + tag}]}]}},
        deployment(tag),
    ]


def test_a_release_with_a_service_account_a_job_and_a_network_policy_is_rolled_back(api_client, apps, core,
                                                                                    namespace, plugin):
    """Such releases were refused whole ("holds serviceaccount/..."), so Helm-chart services never
    rolled back. Harness applies every resource of the release, Jobs included, with kubectl apply
    (harness-core 930-delegate-tasks/src/main/java/io/harness/delegate/k8s/K8sRollingRollbackBaseHandler.java:397-425,
    rollbackReleaseResources -> K8sTaskHelperBase.applyManifests, k8sbase/K8sTaskHelperBase.java:801-818): an
    existing Job whose spec is unchanged is left as it is — it does not run again."""
    batch, networking = k8s.BatchV1Api(api_client), k8s.NetworkingV1Api(api_client)
    run_image(apps, namespace, 1)
    write_declarative_release(core, namespace, RELEASE, 1, "Succeeded", with_kinds(1))
    run_image(apps, namespace, 2)
    service_account, job, policy, _ = with_kinds(2)
    core.create_namespaced_service_account(namespace, service_account)
    batch.create_namespaced_job(namespace, job)
    networking.create_namespaced_network_policy(namespace, policy)
    write_declarative_release(core, namespace, RELEASE, 2, "Failed", with_kinds(2))
    job_uid = batch.read_namespaced_job("migrate", namespace).metadata.uid

    view = json.loads(plugin("plan", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert view["refused"] == []
    assert {(item["kind"], item["name"]) for item in view["reapply"]} >= {
        ("ServiceAccount", "api"), ("NetworkPolicy", "api"), ("Deployment", "api")}
    plugin("rollback", RELEASE, "-n", namespace, "--timeout", "90s", check_exit=0)

    assert apps.read_namespaced_deployment("api", namespace).spec.template.spec.containers[0].image == \
        "registry.example/api:1"
    assert core.read_namespaced_service_account("api", namespace).metadata.annotations["tier"] == "1"
    assert networking.read_namespaced_network_policy("api", namespace).spec.ingress[0].ports[0].port == 8001
    assert batch.read_namespaced_job("migrate", namespace).metadata.uid == job_uid  # not re-created, not re-run
    assert core.read_namespaced_secret(f"harness.release.{RELEASE}.2", namespace).metadata.labels["status"] == "Failed"


def test_a_service_with_external_ips_or_an_ingress_with_a_snippet_is_refused_and_listed(api_client, apps, core,
                                                                                          namespace, plugin):
    """A release Secret made the rollback create a Service with externalIPs (CVE-2020-8554: it
    intercepts traffic to those addresses cluster-wide) and an Ingress with a configuration-snippet
    (CVE-2021-25742: the ingress controller runs it with its own rights). Both are refused before
    any write, and `plan` lists them with their rule."""
    networking = k8s.NetworkingV1Api(api_client)
    hostile = [
        deployment(1),
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb"},
         "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}], "externalIPs": ["203.0.113.10"]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
         "metadata": {"name": "web", "annotations": {
             "nginx.ingress.kubernetes.io/configuration-snippet": "more_set_headers 'X: y';"}},
         "spec": {"defaultBackend": {"service": {"name": "api", "port": {"number": 80}}}}},
    ]
    run_image(apps, namespace, 1)
    write_declarative_release(core, namespace, RELEASE, 1, "Succeeded", hostile)  # written by a tenant
    run_image(apps, namespace, 2)
    write_declarative_release(core, namespace, RELEASE, 2, "Failed", [deployment(2)])
    before = settled_versions(api_client, namespace)
    error = (f"error: release 1 (secret/harness.release.{RELEASE}.1) holds service/lb, which a rollback does not "
             "re-apply: a Service with spec.externalIPs can intercept traffic to those addresses from every pod of "
             "the cluster (CVE-2020-8554) (1 more object(s) of it are refused too); nothing was changed")

    done = plugin("plan", RELEASE, "-n", namespace, "-o", "json", check_exit=1)
    assert [(r["kind"], r["name"], r["rule"]) for r in json.loads(done.stdout)["refused"]] == [
        ("Service", "lb", "service-external-ips"), ("Ingress", "web", "ingress-snippet")]
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(error), done.stderr
    text = plugin("plan", RELEASE, "-n", namespace, check_exit=1).stdout
    assert "Refused from release 1's stored manifest (the rollback writes nothing while any object is refused):\n" \
           "  service/lb: service-external-ips: " in text
    assert "  ingress/web: ingress-snippet: its annotation nginx.ingress.kubernetes.io/configuration-snippet" in text
    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=1)
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(error), done.stderr

    assert versions(api_client, namespace) == before
    assert "lb" not in [s.metadata.name for s in core.list_namespaced_service(namespace).items]
    assert networking.list_namespaced_ingress(namespace).items == []
    assert apps.read_namespaced_deployment("api", namespace).spec.template.spec.containers[0].image == \
        "registry.example/api:2"


def test_a_job_whose_template_changed_is_refused_by_the_api_server_before_any_write(api_client, apps, core,
                                                                                    namespace, plugin):
    """Harness's `kubectl apply` of a Job whose template differs fails (spec.template is immutable),
    after the objects before it in the manifest were applied. Here every object goes through a
    dryRun=All apply first: the API server's refusal stops the rollback before any write."""
    batch = k8s.BatchV1Api(api_client)
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
           "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
               {"name": "migrate", "image": "registry.example/migrate:2"}]}}}}
    old_job = {**job, "spec": {**job["spec"], "template": {"spec": {"restartPolicy": "Never", "containers": [
        {"name": "migrate", "image": "registry.example/migrate:1"}]}}}}
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-config"}, "data": {"mode": "1"}}
    run_image(apps, namespace, 1)
    write_declarative_release(core, namespace, RELEASE, 1, "Succeeded", [config, old_job, deployment(1)])
    run_image(apps, namespace, 2)
    core.create_namespaced_config_map(namespace, {**config, "data": {"mode": "2"}})
    batch.create_namespaced_job(namespace, job)
    write_declarative_release(core, namespace, RELEASE, 2, "Failed", [{**config, "data": {"mode": "2"}}, job,
                                                                       deployment(2)])
    before = settled_versions(api_client, namespace)

    done = plugin("rollback", RELEASE, "-n", namespace, check_exit=1)
    assert done.stderr.count("\n") == 1 and "job" in done.stderr.lower() and "immutable" in done.stderr, done.stderr
    assert "already written" not in done.stderr
    assert versions(api_client, namespace) == before
    assert core.read_namespaced_config_map("api-config", namespace).data == {"mode": "2"}

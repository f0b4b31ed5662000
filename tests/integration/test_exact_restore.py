"""After a rollback, exactly the release rolled back to runs: the whole object decides, and a
declarative rollback ends where `kubectl apply -f <that release's manifest>` ends.

Harness re-applies a declarative release with `kubectl apply`: K8sRollingRollbackBaseHandler
.rollbackReleaseResources (930-delegate-tasks/.../delegate/k8s/K8sRollingRollbackBaseHandler.java)
applies every resource of the last successful release with `k8sTaskHelperBase.applyManifests(client,
previousResourcesToBeCreated, ...)`, a client-side three-way merge against
`kubectl.kubernetes.io/last-applied-configuration`; an unchanged object is a no-op there, and is not
written here. The twin: both namespaces
are deployed by real `kubectl apply` (as the delegate does), then the twin is rolled back by real
`kubectl apply` of release 1 and ours by the plugin, and the objects are compared.
"""

import copy
import json
import subprocess

import pytest
import yaml

from tests.support.harness import wait_for_rollout, write_declarative_release
from tests.support.profiles import examples

RELEASE = "release-infra-prod"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def good_release():
    """Release 1: what worked."""
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-config"}, "data": {"mode": "safe"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "labels": {"app": "api"}},
         "spec": {"selector": {"app": "api"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "api", "labels": {"app": "api"}, "annotations": {"team": "shop"}},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
                  "template": {"metadata": {"labels": {"app": "api", "harness.io/release-name": RELEASE}},
                               "spec": {"containers": [{"name": "api", "image": "registry.example/api:1",
                                                        "env": [{"name": "MODE", "value": "safe"}]}]}}}},
    ]


def failed_release():
    """Release 2 changed no image: it changed config and added fields, the kinds a failed release adds."""
    config, service, deployment = good_release()
    config["data"].update(mode="BROKEN", extra="1")  # a changed value and an added ConfigMap key
    service["spec"]["ports"].append({"name": "admin", "port": 8443, "targetPort": 8443})  # an added Service port
    deployment["metadata"]["labels"]["tier"] = "canary"  # an added label
    deployment["metadata"]["annotations"]["note"] = "bad"  # an added annotation
    template = deployment["spec"]["template"]
    template["metadata"]["labels"]["flavour"] = "bad"  # an added pod label
    template["metadata"]["annotations"] = {"prometheus.io/scrape": "true"}  # an added pod annotation
    pod = template["spec"]
    pod["containers"][0]["env"] = [{"name": "MODE", "value": "BROKEN"}, {"name": "EXTRA", "value": "1"}]  # env
    pod["containers"].append({"name": "sidecar", "image": "registry.example/proxy:1"})  # an added container
    pod["volumes"] = [{"name": "config", "configMap": {"name": "api-config"}}]  # an added volume
    pod["containers"][0]["volumeMounts"] = [{"name": "config", "mountPath": "/etc/api"}]
    return [config, service, deployment]


def kubectl(test_cluster, *args, stdin=None):
    return subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, check=True,
                          env=test_cluster.env(), timeout=60)


def kubectl_apply(test_cluster, namespace, manifests, *flags):
    kubectl(test_cluster, "apply", "-n", namespace, *flags, "-f", "-", stdin=yaml.safe_dump_all(manifests))


def deploy_as_harness(test_cluster, apps, core, namespace, releases):
    """Each release applied with `kubectl apply`, rolled out, and recorded in its release Secret."""
    for number, (manifests, status) in enumerate(releases, start=1):
        kubectl_apply(test_cluster, namespace, manifests)
        wait_for_rollout(apps, namespace, "api")
        if core is not None:
            write_declarative_release(core, namespace, RELEASE, number, status, manifests)


@pytest.fixture
def twin(core, namespace):
    name = namespace[:50] + "-twin"
    from kubernetes import client as k8s
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


def comparable(test_cluster, namespace):
    """Every object of the release as a user compares them: spec (data), labels, annotations (the
    last-applied one parsed, its namespace taken out), with what the server assigns left out."""
    listed = json.loads(kubectl(test_cluster, "get", "deployment,service,configmap", "-n", namespace,
                                "-o", "json").stdout)["items"]
    objects = {}
    for obj in listed:
        meta = obj["metadata"]
        if meta["name"] == "kube-root-ca.crt":
            continue
        annotations = dict(meta.get("annotations") or {})
        annotations.pop("deployment.kubernetes.io/revision", None)
        if LAST_APPLIED in annotations:
            # Byte for byte as kubectl writes it, but for the namespace's name.
            annotations[LAST_APPLIED] = annotations[LAST_APPLIED].replace(f'"namespace":"{namespace}"',
                                                                          '"namespace":"NS"')
        body = copy.deepcopy(obj.get("spec") or obj.get("data"))
        if obj["kind"] == "Service":
            for key in ("clusterIP", "clusterIPs"):
                body.pop(key, None)
        objects[f"{obj['kind']}/{meta['name']}"] = {"labels": meta.get("labels"), "annotations": annotations,
                                                    "body": body}
    return objects


def test_a_declarative_rollback_ends_where_kubectl_apply_ends(test_cluster, apps, core, namespace, twin, plugin):
    releases = [(good_release(), "Succeeded"), (failed_release(), "Failed")]
    deploy_as_harness(test_cluster, apps, core, namespace, releases)
    deploy_as_harness(test_cluster, apps, None, twin, releases)

    plan = json.loads(plugin("plan", RELEASE, "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert plan["changes"] and plan["target"]["number"] == 1
    shown = {f"{item['kind']}/{item['name']}": item["differences"] for item in plan["reapply"]}
    assert "data.mode: BROKEN → safe" in shown["ConfigMap/api-config"]
    assert "data.extra: 1 → <none>" in shown["ConfigMap/api-config"]
    assert "spec.template.spec.containers[api].env[MODE].value: BROKEN → safe" in shown["Deployment/api"]
    assert any(line.startswith("spec.template.spec.containers[sidecar]:") for line in shown["Deployment/api"])
    assert any(line.startswith("spec.ports[8443]:") for line in shown["Service/api"])

    kubectl_apply(test_cluster, twin, good_release())  # what Harness's rollback runs
    wait_for_rollout(apps, twin, "api")
    plugin("rollback", RELEASE, "-n", namespace, "--timeout", "90s", check_exit=0)

    ours, theirs = comparable(test_cluster, namespace), comparable(test_cluster, twin)
    assert ours == theirs
    # What the user cares about, said plainly: every field release 2 added is gone, every value is 1's.
    pod = apps.read_namespaced_deployment("api", namespace).spec.template
    assert [(c.name, [(e.name, e.value) for e in c.env or []]) for c in pod.spec.containers] == [
        ("api", [("MODE", "safe")])]
    assert pod.spec.volumes is None and pod.metadata.annotations is None and "flavour" not in pod.metadata.labels
    assert core.read_namespaced_config_map("api-config", namespace).data == {"mode": "safe"}
    assert [p.port for p in core.read_namespaced_service("api", namespace).spec.ports] == [80]
    secret = core.read_namespaced_secret(f"harness.release.{RELEASE}.2", namespace)
    assert secret.metadata.labels["status"] == "Failed"

    # A second run changes nothing: nothing differs any more.
    again = plugin("rollback", RELEASE, "-n", namespace, "-o", "json", check_exit=0)
    assert json.loads(again.stdout)["outcome"]["written"] == []

    # Fit for Harness's next deploy (client-side `kubectl apply`) and for a server-side apply after it:
    # both namespaces take them alike, without a conflict.
    third = failed_release()
    third[2]["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example/api:3"
    for ns in (namespace, twin):
        kubectl_apply(test_cluster, ns, third)
    assert comparable(test_cluster, namespace) == comparable(test_cluster, twin)
    fourth = good_release()
    fourth[2]["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example/api:4"
    for ns in (namespace, twin):
        kubectl_apply(test_cluster, ns, fourth, "--server-side")
    assert comparable(test_cluster, namespace) == comparable(test_cluster, twin)


def test_a_config_only_failure_is_rolled_back_not_called_done(test_cluster, apps, core, namespace, plugin):
    """Release 2 changed only an env var: the images match, and the failed value must still go."""
    failed = good_release()
    failed[2]["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "MODE", "value": "BROKEN"}]
    deploy_as_harness(test_cluster, apps, core, namespace, [(good_release(), "Succeeded"), (failed, "Failed")])

    done = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "90s", check_exit=0)
    assert "already rolled back" not in done.stdout + done.stderr
    env = apps.read_namespaced_deployment("api", namespace).spec.template.spec.containers[0].env
    assert [(e.name, e.value) for e in env] == [("MODE", "safe")]


def test_a_legacy_config_only_failure_names_the_field(apps, core, namespace, plugin):
    """A legacy release whose failure changed only an env var: plan names the field, and the
    rollback restores the whole template (kubectl's EqualIgnoreHash decides, not the image)."""
    from tests.support.harness import HarnessRollingDeployer, Release, current_revision, write_history

    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "env": [{"name": "MODE", "value": "BROKEN"}]}]}}}})
    deployment = wait_for_rollout(apps, namespace, "web")
    revision = current_revision(apps, namespace, deployment)
    deployer.releases.append(Release(2, "Failed", [("Deployment", "web", revision)], namespace))
    write_history(core, namespace, deployer.release_name, deployer.releases)

    plan = json.loads(plugin("plan", "deployment/web", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert plan["workloads"][0]["differences"][0] == "spec.template.spec.containers[web].env: " \
        '[{"name":"MODE","value":"BROKEN"}] → <none>'
    plugin("rollback", "deployment/web", "-n", namespace, "--timeout", "90s", check_exit=0)
    assert apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].env is None


# --- the same, as a property: whatever a failed release changed or added, the rollback ends where
# `kubectl apply` of the good release ends -------------------------------------------------------------

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

KEYS = st.sampled_from(["mode", "level", "extra", "color", "ttl"])
VALUES = st.sampled_from(["a", "b", "safe", "BROKEN", "1", ""])
ENV = st.dictionaries(st.sampled_from(["MODE", "LEVEL", "EXTRA", "DEBUG"]), VALUES, max_size=3)
# (No `y`/`n` values: kubectl's YAML reads them as booleans.)
LABELS = st.dictionaries(st.sampled_from(["tier", "flavour", "team"]), st.sampled_from(["blue", "green"]), max_size=2)
PORTS = st.sets(st.sampled_from([80, 443, 8080, 9090]), min_size=1, max_size=3)


@st.composite
def releases(draw):
    """A release: its ConfigMap data, pod env, pod labels, Service ports, and maybe a sidecar."""
    return {"data": draw(st.dictionaries(KEYS, VALUES, max_size=3)), "env": draw(ENV), "labels": draw(LABELS),
            "ports": sorted(draw(PORTS)), "sidecar": draw(st.booleans())}


def manifests_of(release):
    config, service, deployment = good_release()
    config["data"] = release["data"]
    service["spec"]["ports"] = [{"name": f"p{port}", "port": port, "targetPort": port} for port in release["ports"]]
    template = deployment["spec"]["template"]
    template["metadata"]["labels"].update(release["labels"])
    containers = template["spec"]["containers"]
    containers[0]["env"] = [{"name": k, "value": v} for k, v in sorted(release["env"].items())]
    if release["sidecar"]:
        containers.append({"name": "sidecar", "image": "registry.example/proxy:1"})
    return [config, service, deployment]


# Each example deploys twice into two namespaces: a few locally, more with KHR_TWIN_EXAMPLES; no
# shrinking (minutes on a real cluster): the failing example is printed whole.
@settings(max_examples=examples(dev=6, ci=6, env="KHR_TWIN_EXAMPLES"), deadline=None,
          derandomize=True, phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
@given(good=releases(), failed=releases())
def test_any_failed_release_is_undone_as_kubectl_apply_undoes_it(test_cluster, apps, core, plugin, good, failed):
    import uuid

    from kubernetes import client as k8s

    ours, theirs = (f"khr-twin-{uuid.uuid4().hex[:8]}" for _ in range(2))
    for name in (ours, theirs):
        core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    try:
        history = [(manifests_of(good), "Succeeded"), (manifests_of(failed), "Failed")]
        deploy_as_harness(test_cluster, apps, core, ours, history)
        deploy_as_harness(test_cluster, apps, None, theirs, history)
        kubectl_apply(test_cluster, theirs, manifests_of(good))
        plugin("rollback", RELEASE, "-n", ours, "--timeout", "90s", check_exit=0)
        assert comparable(test_cluster, ours) == comparable(test_cluster, theirs)
        again = json.loads(plugin("rollback", RELEASE, "-n", ours, "-o", "json", check_exit=0).stdout)
        assert again["outcome"]["written"] == []
    finally:
        for name in (ours, theirs):
            core.delete_namespace(name)

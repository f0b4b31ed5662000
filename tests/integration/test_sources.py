"""Every source of releases read from the real cluster: list, declarative Secrets,
annotations without a history, and ControllerRevisions of StatefulSets and DaemonSets."""

import json
import time

from kubernetes import client as k8s

from tests.support import request_log
from tests.support.harness import HarnessRollingDeployer, Identity, Release, write_declarative_release, write_history


def pod_template(app, image, release_name=None):
    labels = {"app": app, **({"harness.io/release-name": release_name} if release_name else {})}
    return k8s.V1PodTemplateSpec(metadata=k8s.V1ObjectMeta(labels=labels),
                                 spec=k8s.V1PodSpec(containers=[k8s.V1Container(name=app, image=image)]))


def test_list_finds_releases_from_every_source(apps, core, namespace, plugin):
    HarnessRollingDeployer(apps, core, namespace, store="secret").deploy("registry.example/web:1", status="Failed")
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
                "spec": {"template": {"spec": {"containers": [{"name": "api", "image": "registry.example/api:7"}]}}}}
    write_declarative_release(core, namespace, "release-api", 1, "Succeeded", [manifest])
    write_declarative_release(core, namespace, "release-api", 2, "Failed", [manifest])

    rows = json.loads(plugin("list", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(r["release"], r["latest"], r["status"], r["workloads"], r["source"]) for r in rows] == [
        ("release-api", 2, "Failed", [], "declarative"),
        ("release-infra-prod", 1, "Failed", ["deployment/web"], "secret/release-infra-prod"),
    ]
    everywhere = json.loads(plugin("list", "-A", "-o", "json", check_exit=0).stdout)
    assert {("release-api", namespace), ("release-infra-prod", namespace)} <= {
        (r["release"], r["namespace"]) for r in everywhere}


def test_list_finds_a_release_of_bare_replica_sets_by_their_labels(apps, core, namespace, plugin):
    """A release whose workloads are bare ReplicaSets (no Deployment): their labels name the
    release, so `list` reads its history, and shows them as its workloads and what they run."""
    releases = []
    for number, status in ((1, "Succeeded"), (2, "Failed")):
        template = pod_template("web", f"registry.example/web:{number}", "release-web")
        template.metadata.labels["version"] = str(number)
        apps.create_namespaced_replica_set(namespace, k8s.V1ReplicaSet(
            metadata=k8s.V1ObjectMeta(name=f"web-{number}"),  # the release's label only on the template
            spec=k8s.V1ReplicaSetSpec(replicas=1 if number == 2 else 0, template=template, selector=k8s.V1LabelSelector(
                match_labels={"app": "web", "version": str(number)}))))
        releases.append(Release(number, status, [("ReplicaSet", f"web-{number}", "")], namespace))
    write_history(core, namespace, "release-web", releases)
    apps.create_namespaced_replica_set(namespace, k8s.V1ReplicaSet(  # not a release's: not a workload of one
        metadata=k8s.V1ObjectMeta(name="other"), spec=k8s.V1ReplicaSetSpec(
            replicas=0, selector=k8s.V1LabelSelector(match_labels={"app": "other"}),
            template=pod_template("other", "registry.example/other:1"))))

    for where in (["-n", namespace], ["-A"]):
        rows = json.loads(plugin("list", *where, "-o", "json", check_exit=0).stdout)
        assert [(r["release"], r["latest"], r["status"], r["workloads"], r["source"], r["liveReleases"])
                for r in rows if r["namespace"] == namespace] == [
            ("release-web", 2, "Failed", ["replicaset/web-1", "replicaset/web-2"], "configmap/release-web", [2])]


def test_declarative_release_secrets_make_the_history(core, namespace, plugin):
    def manifest(tag):
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": namespace},
                "spec": {"template": {"spec": {"containers": [{"name": "api", "image": f"registry.example/api:{tag}"}]}}}}
    for number, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
        write_declarative_release(core, namespace, "release-api", number, status,
                                  [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"}}, manifest(number)],
                                  identity=Identity(service_id="svc-api", infra_id="infra-2"))
    rows = json.loads(plugin("history", "release-api", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(r["number"], r["status"], r["source"], [w["name"] for w in r["workloads"]]) for r in rows] == [
        (3, "Failed", "declarative", ["api"]), (2, "Succeeded", "declarative", ["api"]),
        (1, "Succeeded", "declarative", ["api"])]
    assert rows[0]["infraMapping"]["serviceId"] == "svc-api"


def test_annotations_alone_give_releases_with_status(apps, namespace, plugin):
    """A pipeline that stamps release number and status on the Deployment (no history object)."""
    def deploy(number, status, image):
        body = {"metadata": {"annotations": {"harness.io/release-number": str(number),
                                             "harness.io/release-status": status,
                                             "harness.io/workflow-id": "wf", "harness.io/service": "svc",
                                             "harness.io/infra": "inf", "harness.io/cluster-name": "c"}},
                "spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}}
        if number == 1:
            apps.create_namespaced_deployment(namespace, k8s.V1Deployment(
                metadata=k8s.V1ObjectMeta(name="web", annotations=body["metadata"]["annotations"]),
                spec=k8s.V1DeploymentSpec(replicas=1, selector=k8s.V1LabelSelector(match_labels={"app": "web"}),
                                          template=pod_template("web", image, "rel-web"))))
        else:
            apps.patch_namespaced_deployment("web", namespace, body)
        from tests.support.harness import wait_for_rollout
        wait_for_rollout(apps, namespace, "web")

    deploy(1, "Succeeded", "registry.example/web:1")
    deploy(2, "Failed", "registry.example/web:2")
    rows = json.loads(plugin("history", "rel-web", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(r["number"], r["status"], r["source"], r["workloads"][0]["images"]) for r in rows] == [
        (2, "Failed", "annotations", ["registry.example/web:2"]),
        (1, "Succeeded", "annotations", ["registry.example/web:1"])]
    view = json.loads(plugin("plan", "rel-web", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert view["target"]["number"] == 1 and view["workloads"][0]["toRevision"] == 1


def test_statefulset_and_daemonset_revisions_come_from_controller_revisions(apps, namespace, plugin):
    apps.create_namespaced_stateful_set(namespace, k8s.V1StatefulSet(
        metadata=k8s.V1ObjectMeta(name="db"),
        spec=k8s.V1StatefulSetSpec(service_name="db", replicas=1, selector=k8s.V1LabelSelector(match_labels={"app": "db"}),
                                   template=pod_template("db", "registry.example/db:1"))))
    apps.create_namespaced_daemon_set(namespace, k8s.V1DaemonSet(
        metadata=k8s.V1ObjectMeta(name="agent"),
        spec=k8s.V1DaemonSetSpec(selector=k8s.V1LabelSelector(match_labels={"app": "agent"}),
                                 template=pod_template("agent", "registry.example/agent:1"))))
    def observed():
        """Each template change is seen by its controller before the next (one revision each)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            objs = [apps.read_namespaced_stateful_set("db", namespace), apps.read_namespaced_daemon_set("agent", namespace)]
            if all((o.status.observed_generation or 0) >= o.metadata.generation for o in objs):
                return
            time.sleep(0.2)
        raise AssertionError("controllers did not observe the template change")

    observed()
    for tag in ("2", "3"):
        apps.patch_namespaced_stateful_set("db", namespace, {"spec": {"template": {"spec": {"containers": [
            {"name": "db", "image": f"registry.example/db:{tag}"}]}}}})
        apps.patch_namespaced_daemon_set("agent", namespace, {"spec": {"template": {"spec": {"containers": [
            {"name": "agent", "image": f"registry.example/agent:{tag}"}]}}}})
        observed()

    for target, image in (("statefulset/db", "registry.example/db"), ("daemonset/agent", "registry.example/agent")):
        rows = json.loads(plugin("history", target, "-n", namespace, "-o", "json", check_exit=0).stdout)
        assert [(r["number"], r["status"], r["source"], r["workloads"][0]["images"]) for r in rows] == [
            (3, None, "revisions", [f"{image}:3"]), (2, None, "revisions", [f"{image}:2"]),
            (1, None, "revisions", [f"{image}:1"])], target
        view = json.loads(plugin("plan", target, "-n", namespace, "-o", "json", check_exit=0).stdout)
        assert (view["workloads"][0]["fromRevision"], view["workloads"][0]["toRevision"]) == (3, 2)
        assert "kubectl's rule" in " ".join(view["notes"])


def test_list_all_namespaces_reads_no_secret_that_is_not_a_release_history(apps, core, namespace, test_cluster):
    """`list -A` lists Secrets as metadata only and reads just the histories: Helm's release
    Secrets, certificates and the like are never downloaded, however many there are."""
    from kubectl_harness_rollback.cluster.client import connect
    from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags
    from kubectl_harness_rollback.listing import read_catalog

    HarnessRollingDeployer(apps, core, namespace, store="secret").deploy("registry.example/web:1", status="Failed")
    HarnessRollingDeployer(apps, core, namespace, name="api", release_name="release-api").deploy(
        "registry.example/api:1")  # a ConfigMap history
    unrelated = [f"sh.helm.release.v1.other.v{n}" for n in range(1, 13)]
    for name in unrelated:
        core.create_namespaced_secret(namespace, k8s.V1Secret(
            metadata=k8s.V1ObjectMeta(name=name, labels={"owner": "helm"}), data={"release": "eHh4" * 1000}))

    def read_all():
        kube = connect(ConnectionFlags(), env={"KUBECONFIG": test_cluster.kubeconfig})
        rows, warnings = read_catalog(kube, None)
        return kube.requests, [r for r in rows if r["namespace"] == namespace], warnings

    requests, rows, warnings = read_all()
    assert [(r["release"], r["latest"], r["source"]) for r in rows] == [
        ("release-api", 1, "configmap/release-api"), ("release-infra-prod", 1, "secret/release-infra-prod")]
    secrets = [sent for sent in requests if "/secrets" in sent[1]]
    # Every Secret of the cluster as metadata; then only histories, each by name (other tests'
    # namespaces may still hold theirs); in this namespace, the one history. Nothing else.
    assert secrets[0] == ("GET", "/api/v1/secrets") and secrets[0].metadata_only
    # Where any Secret carries a declarative release's labels (other tests' namespaces may), one
    # more list, of the release type only and as metadata, tells the releases from look-alikes.
    typed = [sent for sent in secrets[1:] if "fieldSelector=type%3Dharness.io%2Frelease%2Fv2" in sent.query]
    assert len(typed) <= 1 and all(sent.metadata_only for sent in typed)
    secrets = [secrets[0]] + [sent for sent in secrets[1:] if sent not in typed]
    assert all("fieldSelector=metadata.name" in sent.query and not sent.metadata_only for sent in secrets[1:])
    assert [sent.query for sent in secrets[1:] if sent[1] == f"/api/v1/namespaces/{namespace}/secrets"] == [
        "fieldSelector=metadata.name%3Drelease-infra-prod&limit=500"]
    assert all(method == "GET" for method, _ in requests) and warnings == []

    # More unrelated Secrets add no request.
    for n in range(13, 40):
        core.create_namespaced_secret(namespace, k8s.V1Secret(metadata=k8s.V1ObjectMeta(
            name=f"sh.helm.release.v1.other.v{n}"), data={"release": "eA=="}))
    assert len(request_log.about(read_all()[0], namespace)) == len(request_log.about(requests, namespace))

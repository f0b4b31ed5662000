"""history and plan against histories built on the real control plane by the test helpers."""

import json

import pytest

from kubectl_harness_rollback.cluster.client import connect
from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags
from kubectl_harness_rollback.reader import Target, read_release
from tests.support.harness import HarnessRollingDeployer, Identity

W1, W2 = Identity(workflow_id="w1"), Identity(workflow_id="w2")


@pytest.mark.parametrize("store, compressed", [("configmap", True), ("configmap", False),
                                               ("secret", True), ("secret", False)])
def test_history_json_reports_what_was_deployed(apps, core, namespace, plugin, store, compressed):
    deployer = HarnessRollingDeployer(apps, core, namespace, store=store, compressed=compressed)
    deployer.deploy("registry.example/web:1.0")
    deployer.deploy("registry.example/web:1.1")
    deployer.deploy("registry.example/web:2.0", status="Failed")

    rows = json.loads(plugin("history", "release-infra-prod", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert [(r["number"], r["status"], r["workloads"][0]["revision"], r["workloads"][0]["images"]) for r in rows] == [
        (3, "Failed", 3, ["registry.example/web:2.0"]),
        (2, "Succeeded", 2, ["registry.example/web:1.1"]),
        (1, "Succeeded", 1, ["registry.example/web:1.0"]),
    ]
    assert rows[0]["source"] == f"{store}/release-infra-prod"
    assert rows[0]["workflowId"] == "wf-deploy"
    assert rows[0]["infraMapping"] == {"serviceId": "svc-web", "infraId": "infra-prod",
                                       "clusterName": "prod-cluster", "namespace": namespace}


def test_plan_json_by_workflow_and_by_infra(apps, core, namespace, plugin):
    # Harness's rule (same workflow and infrastructure mapping): w1 succeeded as release 3 (after two more), w2 as 4, w1 failed as 5.
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1", identity=W1)
    deployer.deploy("registry.example/web:2", identity=W1)
    deployer.deploy("registry.example/web:3", identity=W1)
    deployer.deploy("registry.example/web:4", identity=W2)
    deployer.deploy("registry.example/web:5", status="Failed", identity=W1)

    by_workflow = json.loads(plugin("plan", "deployment/web", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert by_workflow["current"] == {"number": 5, "status": "Failed", "workflowId": "w1"}
    assert by_workflow["target"] == {"number": 3, "status": "Succeeded", "workflowId": "w1"}
    assert by_workflow["workloads"] == [{
        "kind": "Deployment", "name": "web", "fromRevision": 5, "toRevision": 3, "recordedRevision": 3,
        "fromImages": ["registry.example/web:5"], "toImages": ["registry.example/web:3"],
        "source": by_workflow["workloads"][0]["source"], "unchanged": False,
        "differences": ["spec.template.spec.containers[web].image: registry.example/web:5 → registry.example/web:3",
                        "spec.replicas: 2, kept (a rollback restores the template, not the scale)"],
    }]
    assert by_workflow["workloads"][0]["source"].startswith("ReplicaSet/web-")

    by_infra = json.loads(plugin("plan", "release-infra-prod", "-n", namespace, "--match", "infra",
                                 "-o", "json", check_exit=0).stdout)
    assert by_infra["target"] == {"number": 4, "status": "Succeeded", "workflowId": "w2"}
    assert by_infra["workloads"][0]["toImages"] == ["registry.example/web:4"]


def test_plan_when_the_first_deployment_failed_exits_3(apps, core, namespace, plugin):
    HarnessRollingDeployer(apps, core, namespace).deploy("registry.example/web:1", status="Failed")
    done = plugin("plan", "release-infra-prod", "-n", namespace, "-o", "json", check_exit=3)
    assert json.loads(done.stdout)["target"] is None
    assert "nothing to roll back to" in done.stderr


def test_plan_after_kubectl_undo_finds_the_renumbered_revision(apps, core, namespace, plugin, test_cluster):
    import subprocess

    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2", status="Failed")
    subprocess.run(["kubectl", "rollout", "undo", "deployment/web", "--to-revision=1", "-n", namespace],
                   check=True, capture_output=True, env=test_cluster.env())
    deployer.deploy("registry.example/web:3", status="Failed")  # the undo made web:1 revision 3

    view = json.loads(plugin("plan", "release-infra-prod", "-n", namespace, "-o", "json", check_exit=0).stdout)
    assert view["target"]["number"] == 1
    change, = view["workloads"]
    assert (change["recordedRevision"], change["toRevision"], change["toImages"]) == (1, 3, ["registry.example/web:1"])


def test_reading_a_release_costs_the_same_requests_whatever_the_revisions(apps, core, namespace, test_cluster):
    def requests_to_read(count):
        deployer = HarnessRollingDeployer(apps, core, namespace, name=f"web{count}", release_name=f"rel-{count}")
        for i in range(count):
            deployer.deploy(f"registry.example/web:{i}")
        kube = connect(ConnectionFlags(namespace=namespace), env={"KUBECONFIG": test_cluster.kubeconfig})
        model = read_release(kube, namespace, Target(release_name=f"rel-{count}"))
        assert len(model.releases) == count
        return kube.requests

    few, many = requests_to_read(2), requests_to_read(8)
    assert len(few) == len(many)
    assert [method for method, _ in many] == ["GET"] * len(many)  # reading never writes
    # Secret GET, ConfigMap GET, release Secrets, 4 workload kinds; the Deployment's ReplicaSets
    # are found in the ReplicaSets listed as a workload kind (its selector is labels alone).
    assert len(many) == 7


@pytest.mark.parametrize("command", ["plan", "history", "status"])
def test_a_command_reads_ahead_what_one_read_of_the_release_sends_in_the_same_order(apps, core, namespace, plugin,
                                                                                     test_cluster, command):
    # reader.read_ahead: the release is read in a thread while the command loads the rest; the
    # requests are those of read_release in the command's own thread, no more, in that order.
    deployer = HarnessRollingDeployer(apps, core, namespace)
    deployer.deploy("registry.example/web:1")
    deployer.deploy("registry.example/web:2", status="Failed")
    kube = connect(ConnectionFlags(namespace=namespace), env={"KUBECONFIG": test_cluster.kubeconfig})
    read_release(kube, namespace, Target(release_name="release-infra-prod"))
    one_read = [f"{method} {kube.host}{path}" for method, path in kube.requests]

    done = plugin(command, "release-infra-prod", "-n", namespace, "-v", "6", check_exit=None)
    assert done.returncode in (0, 4), done.stderr  # status: the failed release may not be steady
    sent = [" ".join(line.split()[:2]).split("?")[0] for line in done.stderr.splitlines()
            if line.startswith(("GET ", "POST ", "PATCH ", "PUT ", "DELETE "))]
    # plan and history send nothing else; status may then look at why a workload is not steady.
    assert (sent if command != "status" else sent[:len(one_read)]) == one_read

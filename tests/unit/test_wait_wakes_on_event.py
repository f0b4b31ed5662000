"""A rollback's wait ends on the watch event that makes the workload steady: from the PATCH to
the end, the Deployment is never read again, nothing sleeps, and no request follows the watch
that delivered the steady version (as `kubectl rollout status`, a watch with UntilWithSync)."""

from tests.support.fake_harness import FakeRollingDeployer, deployment_controller, rollback
from tests.support.fake_rest import FakeCluster

RELEASE = "release-infra-prod"
WEB = "registry.example/web:{}"


class RollingController:
    """The Deployment controller, one step per watch once armed (each write of the Deployment's
    status shows the next step): the template observed with no replica updated yet, then one of
    two, then the old one pending termination, then steady (kubectl's progress lines)."""

    def __init__(self):
        self.steps: list[dict] | None = None  # None: steady at once (deploying the releases)
        self.armed_at = None

    def arm(self, cluster: FakeCluster) -> None:
        self.armed_at = cluster.find("Deployment", "web")["metadata"].get("generation")
        self.steps = [{"updatedReplicas": 0, "replicas": 2}, {"updatedReplicas": 1, "replicas": 2},
                      {"updatedReplicas": 2, "replicas": 3}]

    def __call__(self, cluster: FakeCluster) -> None:
        web = cluster.find("Deployment", "web")
        if self.steps is None or not self.steps or web["metadata"].get("generation") == self.armed_at:
            deployment_controller(cluster)
            return
        step, update = self.steps.pop(0), cluster.update

        def in_steps(obj: dict) -> dict:
            if obj.get("kind") == "Deployment" and obj["metadata"]["name"] == "web":
                obj = {**obj, "status": {**obj["status"], **step}}
            return update(obj)

        cluster.update = in_steps
        try:
            deployment_controller(cluster)
        finally:
            del cluster.update


def test_the_rollback_returns_on_the_watch_event_that_makes_the_deployment_steady(monkeypatch):
    controller = RollingController()
    cluster = FakeCluster(controllers=[controller])
    deployer = FakeRollingDeployer(cluster)
    for n, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
        deployer.deploy(WEB.format(n), status=status)
    controller.arm(cluster)
    slept = []
    monkeypatch.setattr("kubectl_harness_rollback.workloads.waiting.time.sleep", slept.append)

    ran = rollback(cluster, RELEASE)

    assert ran.error is None and ran.outcome.steady
    assert [line for line in ran.progress if line.startswith("Waiting")] == [
        'Waiting for deployment "web" rollout to finish: 0 out of 2 new replicas have been updated...',
        'Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...',
        'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...']
    steady_version = cluster.find("Deployment", "web")["metadata"]["resourceVersion"]
    deployment_requests = [r.short for r in ran.requests if "/deployments" in r.path]
    # The write, then only watches, each from the last version seen: no read, no poll.
    assert deployment_requests[0] == "PATCH deployments/web"
    watches = [r for r in ran.requests if r.query.get("watch")]
    assert len(deployment_requests) == 1 + len(watches) and watches
    # One watch per step of the controller (the fake's server ends each watch after the changes
    # it has), and the last request of the rollback is the watch that brought the steady
    # version: nothing is read or waited for after it.
    assert len(watches) == 4
    assert ran.requests[-1] is watches[-1]
    assert int(watches[-1].query["resourceVersion"]) < int(steady_version)
    assert slept == []

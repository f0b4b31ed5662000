"""An API server far away (every answer late, through a relay): the rollback asks the rights
check's reviews at once, as many round trips as it saves, and a right missing still stops it
before any write. A near one (this cluster, directly) gets them one after another: the rest of
the suite, and tests/unit/test_near_server.py."""

import threading
import time

from kubernetes import client as k8s

from tests.adversarial.state import versions
from tests.support.accounts import answers, pipeline_account
from tests.support.harness import HarnessRollingDeployer
from tests.support.relay import RELAY, run_through

RELEASE = "release-infra-prod"
LATE = 0.01  # seconds added to every answer: five times rest.NEAR_SECONDS
REVIEW_LATE = 0.2  # a review's answer: long enough to see the others asked meanwhile


class FarServer:
    """A relay hook: every request late, and how many reviews were asked at once, at most."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reviews_in_flight = self.most_reviews_in_flight = 0

    def __call__(self, method: str, path: str) -> str:
        review = method == "POST" and path.endswith(("/selfsubjectaccessreviews", "/selfsubjectreviews"))
        with self.lock:
            self.reviews_in_flight += review
            self.most_reviews_in_flight = max(self.most_reviews_in_flight, self.reviews_in_flight)
        time.sleep(REVIEW_LATE if review else LATE)
        with self.lock:
            self.reviews_in_flight -= review
        return RELAY


def good_good_bad(apps, core, namespace):
    deployer = HarnessRollingDeployer(apps, core, namespace)
    for tag, status in ((1, "Succeeded"), (2, "Succeeded"), (3, "Failed")):
        deployer.deploy(f"registry.example/web:{tag}", status=status)


def image(apps, namespace):
    return apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].image


def test_a_far_server_gets_the_reviews_at_once_and_the_rollback_completes(apps, core, namespace, test_cluster,
                                                                         tmp_path):
    good_good_bad(apps, core, namespace)
    far = FarServer()

    done = run_through(test_cluster, tmp_path, namespace, far, "rollback", RELEASE)

    assert done.returncode == 0, done.stderr
    assert far.most_reviews_in_flight > 1
    assert image(apps, namespace) == "registry.example/web:2"


def test_a_far_server_still_refuses_a_missing_right_before_any_write(api_client, apps, core, namespace, plugin,
                                                                     test_cluster, tmp_path):
    good_good_bad(apps, core, namespace)
    account = pipeline_account(api_client, namespace, plugin)
    rbac = k8s.RbacAuthorizationV1Api(api_client)
    role = rbac.read_namespaced_role("kubectl-harness-rollback", namespace)
    for rule in role.rules:  # the workload may be patched, the Event may not be left
        if "events" in rule.resources:
            rule.verbs = [v for v in rule.verbs if v != "create"]
    rbac.replace_namespaced_role("kubectl-harness-rollback", namespace, role)
    answers(api_client, namespace, "deployer", "create", "", "events", allowed=False)
    before = versions(api_client, namespace)
    far = FarServer()

    refused = run_through(test_cluster, tmp_path, namespace, far, "rollback", RELEASE, "--as", account)

    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.startswith("error: forbidden: cannot create events in namespace "), refused.stderr
    assert "nothing was changed" in refused.stderr
    assert far.most_reviews_in_flight > 1
    assert versions(api_client, namespace) == before
    assert image(apps, namespace) == "registry.example/web:3"

"""The newcomer's demo: a Harness-style release that succeeds, then one that fails.

Run through hack/demo, which starts the local cluster first. The namespace it uses
(default: harness-demo) is recreated on every run.
"""

import os
import sys
import time

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tests.support.harness import HarnessRollingDeployer, Identity  # noqa: E402

NAMESPACE = os.environ.get("KHR_DEMO_NAMESPACE", "harness-demo")


def fresh_namespace(core: k8s.CoreV1Api) -> None:
    try:
        core.delete_namespace(NAMESPACE)
        print(f"# recreating namespace {NAMESPACE}", flush=True)
        while True:
            core.read_namespace(NAMESPACE)
            time.sleep(0.5)
    except ApiException as exc:
        if exc.status != 404:
            raise
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=NAMESPACE)))


def main() -> None:
    api = k8s_config.new_client_from_config()
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    fresh_namespace(core)
    deployer = HarnessRollingDeployer(apps, core, NAMESPACE, name="web", release_name="release-infra-prod",
                                      store="configmap", compressed=True)
    steps = [("registry.example/web:1.0", "Succeeded"), ("registry.example/web:1.1", "Succeeded"),
             ("registry.example/web:2.0-broken", "Failed")]
    for image, status in steps:
        release = deployer.deploy(image, status=status, identity=Identity(workflow_id="wf-deploy-web"))
        print(f"# Harness release {release.number}: deployed {image}, "
              f"Deployment revision {release.workloads[0][2]}, status {status}", flush=True)


if __name__ == "__main__":
    main()

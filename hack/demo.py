"""The newcomer's demo: two Harness-style releases that succeed, then one that really fails.

Release 3's pods crash-loop (on the local cluster, KWOK's stage khr-crash-loop plays them: see
hack/kwok-stages.yaml), its rollout stalls, the Deployment controller gives up after
progressDeadlineSeconds, and Harness's bookkeeping marks the release Failed.

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
from tests.support.harness import Identity
from tests.support.pod_behavior import CRASH_LOOP, BehaviorDeployer, describe

NAMESPACE = os.environ.get("KHR_DEMO_NAMESPACE", "harness-demo")
PROGRESS_DEADLINE = int(os.environ.get("KHR_DEMO_PROGRESS_DEADLINE", "15"))


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
    deployer = BehaviorDeployer(apps, core, NAMESPACE, name="web", release_name="release-infra-prod",
                                store="configmap", compressed=True, replicas=4,
                                progress_deadline_seconds=PROGRESS_DEADLINE,
                                progress=lambda line: print(f"#   controller: web: {line}", flush=True))
    identity = Identity(workflow_id="wf-deploy-web")
    for version in ("1.0", "1.1"):
        release = deployer.deploy_version(version, identity=identity)
        deployment = apps.read_namespaced_deployment("web", NAMESPACE)
        print(f"# Harness release {release.number}: deployed web {version}, Deployment revision "
              f"{release.workloads[0][2]}, {release.status} ({describe(deployment)})", flush=True)

    print(f"# Harness release 3: deploying web 2.0, whose pods crash-loop; progressDeadlineSeconds: "
          f"{PROGRESS_DEADLINE}. Harness records it InProgress and waits for steady state:", flush=True)
    release = deployer.deploy_version("2.0", CRASH_LOOP, status="Failed", identity=identity)
    print(f"# Harness release 3: the Deployment controller gave up on revision {release.workloads[0][2]}; "
          f"Harness marks the release {release.status}", flush=True)


if __name__ == "__main__":
    main()

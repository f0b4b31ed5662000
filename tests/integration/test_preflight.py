"""What can never roll out is refused before the first write.

A Deployment being deleted (deletionTimestamp set, held by a finalizer) takes the patch but its
controller no longer acts on it; a template whose ServiceAccount is gone makes the ReplicaSet
controller fail every pod create. Before, the rollback patched, recorded the rollback-to release
as live, left its Event, and waited out --timeout (exit 4) — every retry the same, while the
history said the good release runs. A missing image pull Secret is only warned about: the image
may be on the nodes, or pull without it.
"""

import time

from tests.support.harness import Release, current_revision, wait_for_rollout, write_history

RELEASE = "release-infra-prod"
HOLD = "example.com/hold"


def web(image, account=None, pull_secret=None):
    spec = {"containers": [{"name": "web", "image": image}]}
    if account:
        spec["serviceAccountName"] = account
    if pull_secret:
        spec["imagePullSecrets"] = [{"name": pull_secret}]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"harness.io/release-name": RELEASE}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web", "harness.io/release-name": RELEASE}},
                                  "spec": spec}}}


def deploy_two(apps, core, namespace, first, second):
    """Release 1 (Succeeded) runs `first`, release 2 (Failed) `second`, recorded as Harness does."""
    releases = []
    for number, (status, body) in enumerate((("Succeeded", first), ("Failed", second)), 1):
        if number == 1:
            apps.create_namespaced_deployment(namespace, body)
        else:
            apps.replace_namespaced_deployment("web", namespace, {**body, "metadata": {
                **body["metadata"], "resourceVersion": apps.read_namespaced_deployment("web", namespace)
                .metadata.resource_version}})
        deployment = wait_for_rollout(apps, namespace, "web")
        releases.append(Release(number, status, [("Deployment", "web", current_revision(apps, namespace, deployment))],
                                namespace))
        write_history(core, namespace, RELEASE, releases)


def snapshot(apps, core, namespace):
    """What a rollback would write: the Deployment's spec and annotations, the history, the Events."""
    deployment = apps.read_namespaced_deployment("web", namespace)
    history = core.read_namespaced_config_map(RELEASE, namespace)
    events = [e.metadata.name for e in core.list_namespaced_event(namespace).items if e.reason == "RolledBack"]
    return (deployment.metadata.generation, deployment.metadata.annotations, deployment.spec.template.to_dict(),
            history.metadata.resource_version, events)


def test_a_deployment_being_deleted_is_refused_before_any_write(apps, core, namespace, plugin):
    deploy_two(apps, core, namespace, web("registry.example/web:1"), web("registry.example/web:2"))
    apps.patch_namespaced_deployment("web", namespace, {"metadata": {"finalizers": [HOLD]}})
    apps.delete_namespaced_deployment("web", namespace)
    try:
        assert apps.read_namespaced_deployment("web", namespace).metadata.deletion_timestamp is not None
        before = snapshot(apps, core, namespace)

        done = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "20s", check_exit=1)
        assert done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith("error: deployment/web is being deleted (since "), done.stderr
        assert f"held by {HOLD}): a rollback of it would never roll out; nothing was changed" in done.stderr
        assert snapshot(apps, core, namespace) == before
    finally:
        apps.patch_namespaced_deployment("web", namespace, {"metadata": {"finalizers": None}})


def test_a_template_whose_service_account_is_gone_is_refused_before_any_write(apps, core, namespace, plugin):
    for account in ("web-v1", "web-v2"):
        core.create_namespaced_service_account(namespace, {"metadata": {"name": account}})
    deploy_two(apps, core, namespace, web("registry.example/web:1", "web-v1"), web("registry.example/web:2", "web-v2"))
    core.delete_namespaced_service_account("web-v1", namespace)
    before = snapshot(apps, core, namespace)

    for command in (["rollback", RELEASE], ["rollback", RELEASE, "--dry-run=server"]):
        done = plugin(*command, "-n", namespace, "--timeout", "20s", check_exit=1)
        assert done.stderr == (f"error: serviceaccount/web-v1 needed by the template restored to deployment/web no "
                               f"longer exists in namespace {namespace}; nothing was changed (recreate it, or choose "
                               "another release with --to-release)\n")
    assert snapshot(apps, core, namespace) == before


def test_a_missing_image_pull_secret_is_a_warning(apps, core, namespace, plugin):
    deploy_two(apps, core, namespace, web("registry.example/web:1", pull_secret="regcred"),
               web("registry.example/web:2"))

    done = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "60s", check_exit=0)
    assert (f"warning: image pull secret/regcred of the template restored to deployment/web does not exist in "
            f"namespace {namespace}") in done.stderr
    deadline = time.monotonic() + 30
    while apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers[0].image != \
            "registry.example/web:1":
        assert time.monotonic() < deadline
        time.sleep(0.5)

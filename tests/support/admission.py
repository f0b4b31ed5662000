"""Deny chosen writes on the real API server, the way a webhook, a quota or a policy engine would:
a ValidatingAdmissionPolicy (CEL) bound to one namespace, removed afterwards."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

# Writes to the blue/green stage Service of the test deployers (tests/support/harness.py).
DENY_STAGE_SERVICE = "object.metadata.name != 'shop-stage'"
PROBE = {"metadata": {"labels": {"probe": "x"}}}


def _denied(probe: Callable[[], object]) -> bool:
    """Whether a dry-run write is refused by admission now."""
    try:
        probe()
    except ApiException as exc:
        if exc.status in (400, 403, 422):
            return True
        raise
    return False


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.25)


@contextmanager
def _updates_denied(core: k8s.CoreV1Api, namespace: str, policy: str, resource: str, expression: str,
                    message: str, probe: Callable[[], object]):
    """Within the block, UPDATEs (patches too) of `resource` in `namespace` must satisfy
    `expression`. In force (as `probe`, a dry-run write, shows) before the block starts: the policy
    reaches the API server a moment after it is created."""
    admission = k8s.AdmissionregistrationV1Api(core.api_client)
    admission.create_validating_admission_policy({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": policy},
        "spec": {"failurePolicy": "Fail",
                 "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                         "operations": ["UPDATE"], "resources": [resource]}]},
                 "validations": [{"expression": expression, "message": message}]}})
    admission.create_validating_admission_policy_binding({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": policy},
        "spec": {"policyName": policy, "validationActions": ["Deny"],
                 "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}}})
    try:
        _until(lambda: _denied(probe), "the admission policy never came into force")
        yield
    finally:
        admission.delete_validating_admission_policy_binding(policy)
        admission.delete_validating_admission_policy(policy)


@contextmanager
def denying_service_updates(core: k8s.CoreV1Api, namespace: str, expression: str = DENY_STAGE_SERVICE):
    """Within the block, Service UPDATEs (patches too) in `namespace` must satisfy `expression`."""
    # The stage Service is denied by every expression the tests use.
    probe = lambda: core.patch_namespaced_service("shop-stage", namespace, PROBE, dry_run="All")
    with _updates_denied(core, namespace, f"khr-deny-{namespace}", "services", expression, "denied by the test",
                         probe):
        yield


@contextmanager
def denying_configmap_updates(core: k8s.CoreV1Api, namespace: str, name: str):
    """Within the block, every UPDATE (patches too) of configmap/`name` in `namespace` is denied,
    as a policy engine guarding it would; the other writes of the namespace pass."""
    probe = lambda: core.patch_namespaced_config_map(name, namespace, PROBE, dry_run="All")
    try:
        with _updates_denied(core, namespace, f"khr-deny-cm-{namespace}", "configmaps",
                             f"object.metadata.name != '{name}'", "the release history is frozen by the test", probe):
            yield
    finally:
        # Out of force again before the block's caller goes on.
        _until(lambda: not _denied(probe), "the admission policy never went out of force")

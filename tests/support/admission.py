"""Deny chosen writes on the real API server, the way a webhook, a quota or a policy engine would:
a ValidatingAdmissionPolicy (CEL) bound to one namespace, removed afterwards."""

from __future__ import annotations

import time
from contextlib import contextmanager

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

# Writes to the blue/green stage Service of the test deployers (tests/support/harness.py).
DENY_STAGE_SERVICE = "object.metadata.name != 'shop-stage'"


@contextmanager
def denying_service_updates(core: k8s.CoreV1Api, namespace: str, expression: str = DENY_STAGE_SERVICE):
    """Within the block, Service UPDATEs (patches too) in `namespace` must satisfy `expression`.
    Waits until the policy is in force: it reaches the API server a moment after it is created."""
    admission = k8s.AdmissionregistrationV1Api(core.api_client)
    policy = f"khr-deny-{namespace}"
    admission.create_validating_admission_policy({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": policy},
        "spec": {"failurePolicy": "Fail",
                 "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                         "operations": ["UPDATE"], "resources": ["services"]}]},
                 "validations": [{"expression": expression, "message": "denied by the test"}]}})
    admission.create_validating_admission_policy_binding({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": policy},
        "spec": {"policyName": policy, "validationActions": ["Deny"],
                 "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}}})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:  # the stage Service is denied by every expression the tests use
                core.patch_namespaced_service("shop-stage", namespace, {"metadata": {"labels": {"probe": "x"}}},
                                              dry_run="All")
            except ApiException as exc:
                if exc.status in (400, 403, 422):
                    break
                raise
            assert time.monotonic() < deadline, "the admission policy never came into force"
            time.sleep(0.25)
        yield
    finally:
        admission.delete_validating_admission_policy_binding(policy)
        admission.delete_validating_admission_policy(policy)


@contextmanager
def denying_configmap_updates(core: k8s.CoreV1Api, namespace: str, name: str):
    """Within the block, every UPDATE (patches too) of configmap/`name` in `namespace` is denied,
    as a policy engine guarding it would; the other writes of the namespace pass. Waits until the
    policy is in force (probed with a dry-run patch of that ConfigMap)."""
    admission = k8s.AdmissionregistrationV1Api(core.api_client)
    policy = f"khr-deny-cm-{namespace}"
    admission.create_validating_admission_policy({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": policy},
        "spec": {"failurePolicy": "Fail",
                 "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                         "operations": ["UPDATE"], "resources": ["configmaps"]}]},
                 "validations": [{"expression": f"object.metadata.name != '{name}'",
                                  "message": "the release history is frozen by the test"}]}})
    admission.create_validating_admission_policy_binding({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": policy},
        "spec": {"policyName": policy, "validationActions": ["Deny"],
                 "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}}})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                core.patch_namespaced_config_map(name, namespace, {"metadata": {"labels": {"probe": "x"}}},
                                                 dry_run="All")
            except ApiException as exc:
                if exc.status in (400, 403, 422):
                    break
                raise
            assert time.monotonic() < deadline, "the admission policy never came into force"
            time.sleep(0.25)
        yield
    finally:
        admission.delete_validating_admission_policy_binding(policy)
        admission.delete_validating_admission_policy(policy)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # out of force again before the block's caller goes on
            try:
                core.patch_namespaced_config_map(name, namespace, {"metadata": {"labels": {"probe": "x"}}},
                                                 dry_run="All")
                break
            except ApiException:
                time.sleep(0.25)

"""One hostile object must not stall or break every admin's `list -A`.

- an 81-136 KiB history ConfigMap (gzip of 16 million lines) cost `list -A` 49 s and 2.4 GB: the
  text was split into lines before any bound applied, and decoded twice. Now it is refused while
  it inflates and shows in its own row as `<unreadable history: ...>`;
- a `²` (a Unicode digit, which str.isdigit() accepts and int() refuses) in a ReplicaSet's
  revision-history annotation, or in harness.io/release-number, gave `unexpected ValueError` in
  `list -A`, `plan`, `history` and `status`. Harness parses these numbers with Integer.parseInt
  (ASCII digits), e.g. 960-api-services/.../k8s/releasehistory/K8sLegacyRelease.java.
"""

import base64
import gzip
import json
import time

from kubernetes import client as k8s

from tests.adversarial.test_interrupted import good_good_bad

RELEASE = "release-infra-prod"
HOSTILE = "release-hostile"


def hostile_history(core, apps, namespace) -> int:
    """A Deployment of release HOSTILE and its history: a gzip of 16M lines. Returns its size."""
    packed = base64.b64encode(gzip.compress(b"a\n" * 16_000_000, compresslevel=1)).decode()
    core.create_namespaced_config_map(namespace, k8s.V1ConfigMap(
        metadata=k8s.V1ObjectMeta(name=HOSTILE), data={"releaseHistory": packed, "isReleaseHistoryCompressed": "true"}))
    labels = {"app": "other", "harness.io/release-name": HOSTILE}
    apps.create_namespaced_deployment(namespace, k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name="other", labels=labels),
        spec=k8s.V1DeploymentSpec(replicas=1, selector=k8s.V1LabelSelector(match_labels={"app": "other"}),
                                  template=k8s.V1PodTemplateSpec(
                                      metadata=k8s.V1ObjectMeta(labels=labels),
                                      spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="c",
                                                                                     image="registry.example/o:1")])))))
    return len(packed)


def unicode_digits(apps, namespace) -> None:
    """`²` where numbers live, on every ReplicaSet of web."""
    for rs in apps.list_namespaced_replica_set(namespace, label_selector="app=web").items:
        apps.patch_namespaced_replica_set(rs.metadata.name, namespace, {"metadata": {"annotations": {
            "deployment.kubernetes.io/revision-history": "²", "harness.io/release-number": "²"}}})


def test_one_hostile_history_and_unicode_digits_leave_list_and_the_rest_working(apps, core, namespace, plugin):
    good_good_bad(apps, core, namespace)
    size = hostile_history(core, apps, namespace)
    unicode_digits(apps, namespace)

    began = time.monotonic()
    listed = plugin("list", "-A", "-o", "json", check_exit=0)
    took = time.monotonic() - began
    rows = {row["release"]: row for row in json.loads(listed.stdout) if row["namespace"] == namespace}
    assert rows[HOSTILE]["status"].startswith("<unreadable history: releaseHistory inflates to more than "), rows
    assert (rows[RELEASE]["latest"], rows[RELEASE]["status"]) == (3, "Failed")
    assert "unexpected" not in listed.stderr and "Traceback" not in listed.stderr
    assert took < 20, f"list -A took {took:.1f}s next to a {size // 1024} KiB history"

    for command in (("plan", RELEASE), ("history", RELEASE), ("status", RELEASE)):
        done = plugin(*command, "-n", namespace)
        assert done.returncode in (0, 4), done.stderr
        assert "unexpected" not in done.stderr and "Traceback" not in done.stderr
    refused = plugin("plan", HOSTILE, "-n", namespace, check_exit=1)
    [line] = refused.stderr.strip().splitlines()
    assert f"configmap/{HOSTILE}" in line and "is corrupt: releaseHistory inflates to more than" in line

"""Declarative release Secrets, built here by hand from the format description (README, harness_names.py)."""

from __future__ import annotations

import base64
import gzip

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kubectl_harness_rollback.errors import CorruptHistory
from kubectl_harness_rollback.model import Identity, InfraMapping, ReleaseWorkload, Status, WorkloadRef
from kubectl_harness_rollback.records.declarative import DeclarativeRelease, images_of, parse_release_secret

NS = "shop"
RELEASE_NAME = "release-infra-prod"
SECRET_MARKER = "hunter2-token"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def secret_name(number: int) -> str:
    return f"harness.release.{RELEASE_NAME}.{number}"


def release_secret(number: int, status: str, manifests: str, *, color: str | None = None,
                   bg_environment: str | None = None) -> dict:
    """The keyword arguments of parse_release_secret for a Secret as Harness writes it."""
    labels = {"owner": "harness", "release": RELEASE_NAME, "release-number": str(number), "status": status}
    if color:
        labels["color"] = color
    if bg_environment:
        labels["harness.io/bg-environment"] = bg_environment
    annotations = {"harness.io/service": "svc-web", "harness.io/env": "prod", "harness.io/infra": "infra-prod",
                   "harness.io/infra-key": "abc123"}
    # data.release: gzip of the multi-document YAML, base64-encoded once by the API as for any Secret
    data = {"release": b64(gzip.compress(manifests.encode()))}
    return dict(name=secret_name(number), namespace=NS, labels=labels, annotations=annotations, data=data)


ROLLING = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config-3}
data: {password: hunter2-token}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      initContainers: [{name: migrate, image: "migrate:1"}]
      containers:
      - {name: web, image: "nginx:1.25"}
      - {name: sidecar, image: "envoy:1.30"}
---
apiVersion: v1
kind: Service
metadata: {name: web}
"""

EVERY_KIND = """\
---
kind: StatefulSet
metadata: {name: db}
---
---
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
---
kind: ReplicaSet
metadata: {name: legacy}
---
kind: CronJob
metadata: {name: nightly}
"""

BLUE_GREEN = """\
kind: Deployment
metadata: {name: web-green}
spec: {template: {spec: {containers: [{name: web, image: "web:2"}]}}}
"""


def ref(kind: str, name: str, namespace: str = NS) -> ReleaseWorkload:
    return ReleaseWorkload(WorkloadRef(kind, name, namespace), None)


CASES = {
    "rolling": (release_secret(3, "Failed", ROLLING), 3, Status.FAILED, [ref("Deployment", "web")], 3, None, None),
    "every workload kind": (release_secret(2, "Succeeded", EVERY_KIND), 2, Status.SUCCEEDED, [
        ref("StatefulSet", "db"), ref("DaemonSet", "agent", "kube-system"), ref("ReplicaSet", "legacy"),
    ], 4, None, None),
    "blue/green": (release_secret(7, "InProgress", BLUE_GREEN, color="green", bg_environment="stage"),
                   7, Status.IN_PROGRESS, [ref("Deployment", "web-green")], 1, "green", "stage"),
    "no manifests": ({**release_secret(1, "Succeeded", ""), "data": {}}, 1, Status.SUCCEEDED, [], 0, None, None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_reads_a_release_secret(case):
    secret, number, status, workloads, manifest_count, color, bg_environment = CASES[case]
    parsed = parse_release_secret(**secret)
    assert isinstance(parsed, DeclarativeRelease)
    assert parsed.secret_name == secret["name"]
    assert len(parsed.manifests) == manifest_count and all(isinstance(m, dict) for m in parsed.manifests)
    release = parsed.release
    assert (release.number, release.status, release.workloads) == (number, status, workloads)
    assert (release.color, release.bg_environment, release.source) == (color, bg_environment, "declarative")
    assert release.identity == Identity(workflow_id=None, infra=InfraMapping(
        service_id="svc-web", infra_id="infra-prod", cluster_name=None, namespace=NS))


def test_manifests_keep_their_order_and_content():
    parsed = parse_release_secret(**release_secret(3, "Failed", ROLLING))
    assert [m["kind"] for m in parsed.manifests] == ["ConfigMap", "Deployment", "Service"]
    assert parsed.manifests[1]["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"


def test_number_falls_back_to_the_name():
    secret = release_secret(12, "Succeeded", BLUE_GREEN)
    del secret["labels"]["release-number"]
    assert parse_release_secret(**secret).release.number == 12


def test_label_number_wins_over_the_name():
    secret = release_secret(12, "Succeeded", BLUE_GREEN)
    secret["labels"]["release-number"] = "13"
    assert parse_release_secret(**secret).release.number == 13


def test_missing_annotations_make_an_unknown_mapping():
    secret = {**release_secret(1, "Succeeded", BLUE_GREEN), "annotations": None}
    identity = parse_release_secret(**secret).release.identity
    assert identity.infra == InfraMapping(None, None, None, NS) and not identity.infra.known


def test_plain_yaml_without_gzip_is_read_too():
    secret = release_secret(1, "Succeeded", "")
    secret["data"] = {"release": b64(BLUE_GREEN.encode())}
    assert parse_release_secret(**secret).release.workloads == [ref("Deployment", "web-green")]


# -- images -------------------------------------------------------------------------------------

@pytest.mark.parametrize("manifest, images", [
    ({"kind": "Deployment", "spec": {"template": {"spec": {
        "initContainers": [{"name": "i", "image": "init:1"}],
        "containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:2"}]}}}}, ("a:1", "b:2")),
    ({"kind": "StatefulSet", "spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}}, ()),
    ({"kind": "Service", "spec": {"ports": []}}, ()),
    ({"kind": "Deployment", "spec": {"template": None}}, ()),
    ({"kind": "Deployment", "spec": {"template": {"spec": {"containers": "nginx"}}}}, ()),
    ({}, ()),
])
def test_images_of(manifest, images):
    assert images_of(manifest) == images


# -- corrupt Secrets: one line, naming the Secret, never its content ------------------------------

def corrupted(**changes) -> dict:
    secret = release_secret(4, "Failed", ROLLING)
    for key, value in changes.items():
        if key in ("release-number", "status"):
            secret["labels"][key] = value
            if value is None:
                del secret["labels"][key]
        else:
            secret[key] = value
    return secret


CORRUPTIONS = {
    "bad base64": (corrupted(data={"release": "%%" + SECRET_MARKER}), "data.release is not valid base64"),
    "bad gzip": (corrupted(data={"release": b64(b"\x1f\x8b" + SECRET_MARKER.encode())}),
                 "data.release is not valid gzip"),
    "truncated gzip": (corrupted(data={"release": b64(gzip.compress(ROLLING.encode())[:-4])}),
                       "data.release is not valid gzip"),
    "not utf-8": (corrupted(data={"release": b64(gzip.compress(b"\xff" + SECRET_MARKER.encode()))}),
                  "data.release is not UTF-8 text"),
    "bad yaml": (corrupted(data={"release": b64(gzip.compress(f"password: [{SECRET_MARKER}".encode()))}),
                 "data.release is not valid YAML"),
    "document not a mapping": (corrupted(data={"release": b64(gzip.compress(f"---\n{SECRET_MARKER}\n".encode()))}),
                               "data.release holds a YAML document that is not a mapping"),
    "non-numeric release-number": (corrupted(**{"release-number": "four"}),
                                   "label release-number 'four' is not a number"),
    "unknown status": (corrupted(status="Done"),
                       "label status 'Done' is unknown (expected one of InProgress, Succeeded, Failed)"),
    "missing status": (corrupted(status=None), "it has no status label (expected one of InProgress, Succeeded, Failed)"),
    "no number anywhere": (corrupted(**{"release-number": None}, name="harness.release.x.latest"),
                           "it has no release-number label and its name does not end in one"),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_corrupt_secrets_are_one_line_errors(case):
    secret, reason = CORRUPTIONS[case]
    with pytest.raises(CorruptHistory) as caught:
        parse_release_secret(**secret)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"declarative release secret/{secret['name']} in namespace {NS} is corrupt: ")
    assert reason in message
    assert message.endswith("; fix or delete the Secret")
    assert SECRET_MARKER not in message
    assert caught.value.exit_code == 1


# -- properties ---------------------------------------------------------------------------------

@given(
    st.one_of(st.text(max_size=100), st.binary(max_size=200).map(b64),
              st.binary(max_size=200).map(lambda raw: b64(gzip.compress(raw)))),
    st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["1", "12", "Failed"])),
    st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["Succeeded", "Failed", "InProgress"])),
)
def test_property_random_secrets_raise_only_corrupt_history(release, number, status):
    labels = {key: value for key, value in (("release-number", number), ("status", status)) if value is not None}
    try:
        parse_release_secret("harness.release.r.1", NS, labels, {}, {"release": release})
    except CorruptHistory as err:
        assert "\n" not in str(err) and "secret/harness.release.r.1 in namespace shop" in str(err)


workload_documents = st.fixed_dictionaries({
    "kind": st.sampled_from(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Service", "ConfigMap"]),
    "metadata": st.fixed_dictionaries({"name": st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)}),
})


@given(st.lists(workload_documents, max_size=5), st.integers(0, 10**6), st.sampled_from(list(Status)))
def test_property_every_workload_is_found_once(documents, number, status):
    text = yaml.safe_dump_all(documents)
    secret = release_secret(number, status.value, text)
    parsed = parse_release_secret(**secret)
    expected = []
    for doc in documents:
        workload = ref(doc["kind"], doc["metadata"]["name"])
        if doc["kind"] not in ("Service", "ConfigMap") and workload not in expected:
            expected.append(workload)
    assert parsed.manifests == documents
    assert (parsed.release.number, parsed.release.status, parsed.release.workloads) == (number, status, expected)

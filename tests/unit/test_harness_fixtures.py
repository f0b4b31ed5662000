"""Harness's own legacy release-history test resources, decoded with our codec.

The YAML files under tests/fixtures/harness/ are copied byte for byte from Harness's public
harness-core test resources (930-delegate-tasks/src/test/resources/k8s/), each with a comment
header naming the repository, path and commit. They are Harness's format as Harness's own tests
feed it to K8sLegacyRelease/ReleaseHistory, not as this plugin's writer would produce it, so they
check the reader against the real thing rather than against our own encoder.
"""

from __future__ import annotations

import base64
import copy
import re
from pathlib import Path

import pytest
import yaml

from kubectl_harness_rollback.model import ReleaseWorkload, Status, WorkloadRef
from kubectl_harness_rollback.records.history_codec import (
    decode_history,
    encode_history,
    releases_from_history,
    set_release_status,
    set_workload_revision,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "harness"
SOURCE = "configmap/release-x"
NS = "default"
# The statuses Harness's reader (IK8sRelease.Status in harness-core today) accepts, spelled exactly.
HARNESS_STATUSES = {"InProgress", "Succeeded", "Failed"}
# The fields of a release record in Harness's fixtures, in the order Harness wrote them.
RELEASE_FIELDS = ["customWorkloads", "managedWorkload", "managedWorkloadRevision", "managedWorkloads",
                  "number", "resources", "resourcesWithSpec", "status"]

DEPLOYMENT = WorkloadRef("Deployment", "test-value-deployment", NS)


def load(name: str) -> dict:
    return yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))


def read(name: str):
    return releases_from_history(load(name), SOURCE, NS)


# fixture -> [(number, status, [workloads], bg_environment)], newest first, as Harness means it.
# Release 46 in every fixture has `managedWorkload:` and `managedWorkloadRevision:` left empty and
# `managedWorkloads: []`: no managed workload recorded at all (its Deployment is only in `resources`).
EXPECTED = {
    "rolling-succeeded.yaml": [
        (46, Status.SUCCEEDED, [], None),
        (45, Status.SUCCEEDED, [ReleaseWorkload(DEPLOYMENT, 13)], None),
    ],
    "canary-in-progress.yaml": [
        (46, Status.IN_PROGRESS, [], None),
        (45, Status.SUCCEEDED, [ReleaseWorkload(DEPLOYMENT, 13)], None),
    ],
    "canary-failed.yaml": [
        (46, Status.FAILED, [], None),
        (45, Status.SUCCEEDED, [ReleaseWorkload(DEPLOYMENT, 13)], None),
    ],
    "empty.yaml": [],
}
# Written while Harness's IK8sRelease.Status enum was IN_PROGRESS/SUCCEEDED/FAILED (Harness's own
# fixtures were edited to match); the same histories, so the same releases are meant.
UPPERCASE_EXPECTED = {
    "canary-in-progress-uppercase-status.yaml": [
        (46, Status.IN_PROGRESS, [], None),
        (45, Status.SUCCEEDED, [ReleaseWorkload(DEPLOYMENT, 13)], None),
    ],
    "canary-failed-uppercase-status.yaml": [
        (46, Status.FAILED, [], None),
        (45, Status.SUCCEEDED, [ReleaseWorkload(DEPLOYMENT, 13)], None),
    ],
}
ALL_FIXTURES = sorted({**EXPECTED, **UPPERCASE_EXPECTED})
WITH_RELEASES = sorted(name for name, releases in EXPECTED.items() if releases)


def summary(releases):
    return [(r.number, r.status, r.workloads, r.bg_environment) for r in releases]


def test_every_fixture_file_is_covered_and_names_its_source():
    on_disk = sorted(p.name for p in FIXTURES.glob("*.yaml"))
    assert on_disk == ALL_FIXTURES
    for name in on_disk:
        first = (FIXTURES / name).read_text(encoding="utf-8").splitlines()[0]
        assert re.fullmatch(r"# Copied from \S+/harness-core/\S+\.yaml at commit [0-9a-f]{40} "
                            r"\(Harness's own test resource\)\.", first), name


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_fixture_is_a_v1_legacy_history(name):
    doc = load(name)
    assert doc["version"] == "v1"
    assert isinstance(doc["releases"], list)
    for item in doc["releases"]:
        assert list(item) == RELEASE_FIELDS  # the fixtures carry every field, in Harness's order


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_releases_from_harness_fixture(name):
    releases = read(name)
    assert summary(releases) == EXPECTED[name]
    assert [r.number for r in releases] == sorted((r.number for r in releases), reverse=True)
    assert all(r.store == SOURCE and r.is_legacy for r in releases)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_read_through_a_configmap_as_harness_stores_it(name):
    """The file's text as the plain `releaseHistory` value of a ConfigMap decodes to the same."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    doc, compressed = decode_history("ConfigMap", "release-x", NS, {"releaseHistory": text})
    assert compressed is False
    assert doc == load(name)
    assert summary(releases_from_history(doc, SOURCE, NS)) == EXPECTED[name]


def test_revisions_are_quoted_strings_and_empty_fields_are_null_in_harness_fixture():
    """What the reader has to cope with: revision '13' is a string, empty fields load as None."""
    doc = load("rolling-succeeded.yaml")
    newest, previous = doc["releases"]
    assert newest["managedWorkload"] is None and newest["managedWorkloadRevision"] is None
    assert newest["managedWorkloads"] == []
    assert previous["managedWorkloads"][0]["revision"] == "13"
    assert previous["managedWorkloads"][0]["workload"] == {
        "name": "test-value-deployment", "kind": "Deployment", "namespace": "default", "versioned": False}


@pytest.mark.parametrize("name", sorted(UPPERCASE_EXPECTED))
def test_releases_from_harness_fixture_with_uppercase_statuses(name):
    """Harness's status enum was once IN_PROGRESS/SUCCEEDED/FAILED; its own fixtures keep that."""
    assert summary(read(name)) == UPPERCASE_EXPECTED[name]


def test_a_history_in_uppercase_statuses_is_written_back_in_them():
    doc = load("canary-in-progress-uppercase-status.yaml")
    set_release_status(doc, 46, Status.FAILED)
    assert [r["status"] for r in doc["releases"]] == ["FAILED", "SUCCEEDED"]


@pytest.mark.parametrize("compressed", [True, False], ids=["gzip", "plain"])
@pytest.mark.parametrize("kind", ["ConfigMap", "Secret"])
@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_encode_decode_round_trip(name, kind, compressed):
    doc = load(name)
    original = copy.deepcopy(doc)
    data = encode_history(doc, kind, compressed)
    assert doc == original  # encoding does not touch the document
    if kind == "Secret":  # Secret .data values are base64 text, as the API server wants them
        for value in data.values():
            base64.b64decode(value, validate=True)
    decoded, was_compressed = decode_history(kind, "release-x", NS, data)
    assert decoded == original
    assert was_compressed is compressed


def written_back(doc: dict) -> str:
    """The YAML text we would store, as a Harness reader would get it from the ConfigMap."""
    data = encode_history(doc, "ConfigMap", False)
    return data["releaseHistory"]


def status_lines(text: str) -> list[str]:
    return re.findall(r"^\s*status: (.*)$", text, flags=re.MULTILINE)


@pytest.mark.parametrize("name", WITH_RELEASES)
def test_written_back_status_keeps_harness_format(name):
    """Rollback marks the newest release Failed: every other byte of meaning stays Harness's."""
    doc = load(name)
    original = copy.deepcopy(doc)
    set_release_status(doc, 46, Status.FAILED)
    text = written_back(doc)

    assert status_lines(text) == ["Failed", "Succeeded"]
    assert set(status_lines(text)) <= HARNESS_STATUSES
    assert re.search(r"^\s*- revision: '13'$", text, flags=re.MULTILINE)  # still a quoted string
    reread = yaml.safe_load(text)
    assert reread["version"] == "v1"
    assert list(reread) == list(original)
    for before, after in zip(original["releases"], reread["releases"]):
        assert list(after) == list(before)  # field names and their order unchanged
        assert after["managedWorkloads"] == before["managedWorkloads"]
        assert after["resources"] == before["resources"]
    assert reread["releases"][1]["managedWorkloads"][0]["revision"] == "13"
    assert reread["releases"][0]["managedWorkload"] is None
    assert reread["releases"][0]["managedWorkloadRevision"] is None
    expected = copy.deepcopy(original)
    expected["releases"][0]["status"] = "Failed"
    assert reread == expected
    assert summary(releases_from_history(reread, SOURCE, NS))[0][1] is Status.FAILED


@pytest.mark.parametrize("name", WITH_RELEASES)
def test_written_back_revision_is_a_string_like_harness_writes(name):
    """Rollback records the workload's new revision on the release rolled back to: as a string."""
    doc = load(name)
    original = copy.deepcopy(doc)
    set_workload_revision(doc, 45, DEPLOYMENT, 14)
    text = written_back(doc)

    assert re.search(r"^\s*- revision: '14'$", text, flags=re.MULTILINE)
    assert "revision: 14\n" not in text
    assert set(status_lines(text)) <= HARNESS_STATUSES
    reread = yaml.safe_load(text)
    revision = reread["releases"][1]["managedWorkloads"][0]["revision"]
    assert revision == "14" and isinstance(revision, str)
    assert list(reread["releases"][1]["managedWorkloads"][0]) == ["revision", "workload"]
    assert reread["releases"][1]["managedWorkloads"][0]["workload"] == original["releases"][1][
        "managedWorkloads"][0]["workload"]
    assert reread["releases"][1]["managedWorkloadRevision"] is None  # not invented for the list form
    expected = copy.deepcopy(original)
    expected["releases"][1]["managedWorkloads"][0]["revision"] = "14"
    assert reread == expected
    assert summary(releases_from_history(reread, SOURCE, NS))[1][2] == [ReleaseWorkload(DEPLOYMENT, 14)]


def test_revision_of_release_without_a_managed_workload_is_refused():
    """Release 46 records no managed workload: there is nothing to store a revision on."""
    doc = load("rolling-succeeded.yaml")
    with pytest.raises(ValueError):
        set_workload_revision(doc, 46, DEPLOYMENT, 14)

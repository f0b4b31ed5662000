"""The legacy release history codec, checked against the format as described.

Encoded inputs are built here by hand (base64, gzip, YAML text), never with encode_history, so the
parser is tested against the format rather than against its own writer.
"""

from __future__ import annotations

import base64
import copy
import gzip

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_harness_rollback.errors import CorruptHistory
from kubectl_harness_rollback.model import Release, ReleaseWorkload, Source, Status, WorkloadRef
from kubectl_harness_rollback.records import bounded
from kubectl_harness_rollback.records.history_codec import (
    decode_history,
    encode_history,
    releases_from_history,
    set_release_status,
    set_workload_revision,
)
from tests.support.profiles import examples

NS = "shop"
NAME = "release-x"
ENCODINGS = [("ConfigMap", False), ("ConfigMap", True), ("Secret", False), ("Secret", True)]
ENCODING_IDS = ["configmap-plain", "configmap-gzip", "secret-plain", "secret-gzip"]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def encoded(kind: str, compressed: bool, text: str) -> dict[str, str]:
    """`.data` of the history object as the kubernetes client returns it (base64 for a Secret)."""
    raw = text.encode()
    if kind == "ConfigMap":
        if compressed:  # base64 text of the gzip stream, and the flag as the string "true"
            return {"releaseHistory": b64(gzip.compress(raw)), "isReleaseHistoryCompressed": "true"}
        return {"releaseHistory": text}
    if compressed:  # Secret data is base64 of the bytes: the gzip stream, and the flag byte 0x01
        return {"releaseHistory": b64(gzip.compress(raw)), "isReleaseHistoryCompressed": b64(b"\x01")}
    return {"releaseHistory": b64(raw)}


def source_of(kind: str) -> str:
    return f"{kind.lower()}/{NAME}"


def read(kind: str, data: dict | None) -> list[Release]:
    doc, _ = decode_history(kind, NAME, NS, data)
    return releases_from_history(doc, source_of(kind), NS)


def dep(name: str, revision: int | None, kind: str = "Deployment", namespace: str = NS) -> ReleaseWorkload:
    return ReleaseWorkload(WorkloadRef(kind, name, namespace), revision)


# -- what each form of the YAML means -------------------------------------------------------------

LIST_FORM_QUOTED = """\
version: v1
releases:
- number: 3
  status: Failed
  resources:
  - {kind: Deployment, name: web, namespace: shop, versioned: false}
  managedWorkloads:
  - workload: {kind: Deployment, name: web, namespace: shop, versioned: false}
    revision: "3"
- number: 2
  status: Succeeded
  resources:
  - {kind: Deployment, name: web, namespace: shop, versioned: false}
  managedWorkloads:
  - workload: {kind: Deployment, name: web, namespace: shop, versioned: false}
    revision: '2'
- number: 1
  status: Succeeded
  managedWorkloads:
  - workload: {kind: Deployment, name: web, namespace: shop, versioned: false}
    revision: "1"
"""

LIST_FORM_BARE = """\
version: v1
releases:
- number: 2
  status: InProgress
  managedWorkloads:
  - workload: {kind: Deployment, name: web, namespace: shop, versioned: false}
    revision: 12
  - workload: {kind: StatefulSet, name: db, namespace: shop, versioned: false}
    revision: 7
- number: 1
  status: Succeeded
  managedWorkloads:
  - workload: {kind: Deployment, name: web, namespace: shop, versioned: false}
    revision: 11
  - workload: {kind: StatefulSet, name: db, namespace: shop, versioned: false}
    revision: 6
"""

SINGLE_FORM_BLUE_GREEN = """\
version: v1
releases:
- number: 5
  status: Failed
  resources:
  - {kind: Deployment, name: web-green, namespace: shop, versioned: false}
  managedWorkload: {kind: Deployment, name: web-green, namespace: shop, versioned: false}
  managedWorkloadRevision: "4"
  bgEnvironment: stage
- number: 4
  status: Succeeded
  managedWorkload: {kind: Deployment, name: web-blue, namespace: shop, versioned: false}
  managedWorkloadRevision: 3
  bgEnvironment: primary
"""

# Older records: no namespace on the workload, revisions absent or empty, releases out of order,
# fields this plugin does not know.
OLD_RECORD = """\
version: v1
someFutureField: {keep: me}
releases:
- number: 1
  status: Succeeded
  managedWorkload: {kind: Deployment, name: web}
  managedWorkloadRevision: ""
  customerNote: hello
- number: 3
  status: Failed
  managedWorkloads:
  - workload: {kind: Deployment, name: web}
    revision:
  startTime: 2024-01-02T03:04:05Z
- number: 2
  status: Succeeded
  managedWorkloads: []
"""

BOTH_FORMS = """\
version: v1
releases:
- number: 1
  status: Succeeded
  managedWorkloads:
  - workload: {kind: Deployment, name: web, namespace: shop}
    revision: "9"
  managedWorkload: {kind: Deployment, name: web-canary, namespace: shop}
  managedWorkloadRevision: "2"
"""

OTHER_NAMESPACE = """\
version: v1
releases:
- number: 1
  status: Succeeded
  managedWorkloads:
  - workload: {kind: DaemonSet, name: agent, namespace: kube-system}
    revision: "5"
"""

CASES = {
    "list form, quoted revisions": (LIST_FORM_QUOTED, [
        (3, Status.FAILED, [dep("web", 3)], None),
        (2, Status.SUCCEEDED, [dep("web", 2)], None),
        (1, Status.SUCCEEDED, [dep("web", 1)], None),
    ]),
    "list form, bare revisions, two workloads": (LIST_FORM_BARE, [
        (2, Status.IN_PROGRESS, [dep("web", 12), dep("db", 7, "StatefulSet")], None),
        (1, Status.SUCCEEDED, [dep("web", 11), dep("db", 6, "StatefulSet")], None),
    ]),
    "single form, blue/green": (SINGLE_FORM_BLUE_GREEN, [
        (5, Status.FAILED, [dep("web-green", 4)], "stage"),
        (4, Status.SUCCEEDED, [dep("web-blue", 3)], "primary"),
    ]),
    "old record: no namespace, no revision, out of order": (OLD_RECORD, [
        (3, Status.FAILED, [dep("web", None)], None),
        (2, Status.SUCCEEDED, [], None),
        (1, Status.SUCCEEDED, [dep("web", None)], None),
    ]),
    "both forms in one release": (BOTH_FORMS, [
        (1, Status.SUCCEEDED, [dep("web", 9), dep("web-canary", 2)], None),
    ]),
    "workload in another namespace": (OTHER_NAMESPACE, [
        (1, Status.SUCCEEDED, [dep("agent", 5, "DaemonSet", "kube-system")], None),
    ]),
    "empty history": ("version: v1\nreleases: []\n", []),
    "null releases": ("version: v1\nreleases:\n", []),
}


@pytest.mark.parametrize("kind, compressed", ENCODINGS, ids=ENCODING_IDS)
@pytest.mark.parametrize("case", list(CASES))
def test_reads_every_encoding_and_form(case, kind, compressed):
    text, expected = CASES[case]
    doc, was_compressed = decode_history(kind, NAME, NS, encoded(kind, compressed, text))
    assert was_compressed is compressed
    assert doc == yaml.safe_load(text)
    releases = releases_from_history(doc, source_of(kind), NS)
    assert [(r.number, r.status, r.workloads, r.bg_environment) for r in releases] == expected
    assert all(r.store == source_of(kind) and r.is_legacy and r.identity is None for r in releases)


@pytest.mark.parametrize("kind", ["ConfigMap", "Secret"])
@pytest.mark.parametrize("data", [None, {}, {"releaseHistory": ""}, {"other": "x"}])
def test_no_history_text_is_an_empty_history(kind, data):
    assert decode_history(kind, NAME, NS, data) == ({"version": "v1", "releases": []}, False)


@pytest.mark.parametrize("kind", ["ConfigMap", "Secret"])
def test_a_document_of_only_comments_is_an_empty_history(kind):
    doc, _ = decode_history(kind, NAME, NS, encoded(kind, False, "# nothing yet\n"))
    assert doc == {"version": "v1", "releases": []}


@pytest.mark.parametrize("data", [
    {"releaseHistory": b64(gzip.compress(LIST_FORM_QUOTED.encode()))},  # flag missing
    {"releaseHistory": b64(gzip.compress(LIST_FORM_QUOTED.encode())), "isReleaseHistoryCompressed": "false"},
    {"releaseHistory": b64(gzip.compress(LIST_FORM_QUOTED.encode())), "isReleaseHistoryCompressed": "TRUE"},
], ids=["no flag", "flag false", "flag upper case"])
def test_configmap_gzip_is_recognised_by_its_magic_too(data):
    doc, compressed = decode_history("ConfigMap", NAME, NS, data)
    assert compressed and doc == yaml.safe_load(LIST_FORM_QUOTED)


@pytest.mark.parametrize("flag", [None, b64(b"\x00"), b64(b"true")], ids=["no flag", "flag 0", "flag text"])
def test_secret_gzip_is_recognised_by_its_magic_too(flag):
    data = {"releaseHistory": b64(gzip.compress(LIST_FORM_QUOTED.encode()))}
    if flag:
        data["isReleaseHistoryCompressed"] = flag
    doc, compressed = decode_history("Secret", NAME, NS, data)
    assert compressed and doc == yaml.safe_load(LIST_FORM_QUOTED)


def test_secret_flag_zero_with_plain_yaml_is_plain():
    data = {"releaseHistory": b64(LIST_FORM_QUOTED.encode()), "isReleaseHistoryCompressed": b64(b"\x00")}
    assert decode_history("Secret", NAME, NS, data) == (yaml.safe_load(LIST_FORM_QUOTED), False)


def test_wrapped_base64_is_accepted():
    text = b64(gzip.compress(LIST_FORM_QUOTED.encode()))
    wrapped = "\n".join(text[i:i + 76] for i in range(0, len(text), 76))
    doc, _ = decode_history("ConfigMap", NAME, NS, {"releaseHistory": wrapped, "isReleaseHistoryCompressed": "true"})
    assert doc == yaml.safe_load(LIST_FORM_QUOTED)


# -- writing back -------------------------------------------------------------------------------

def undo_encoding(kind: str, data: dict[str, str]) -> tuple[str, bool]:
    """encode_history's output read back by hand, independently of decode_history."""
    if kind == "ConfigMap":
        if data.get("isReleaseHistoryCompressed") == "true":
            return gzip.decompress(base64.b64decode(data["releaseHistory"])).decode(), True
        return data["releaseHistory"], False
    raw = base64.b64decode(data["releaseHistory"])
    if "isReleaseHistoryCompressed" in data:
        assert base64.b64decode(data["isReleaseHistoryCompressed"]) == b"\x01"
        return gzip.decompress(raw).decode(), True
    return raw.decode(), False


@pytest.mark.parametrize("kind, compressed", ENCODINGS, ids=ENCODING_IDS)
@pytest.mark.parametrize("case", list(CASES))
def test_encode_writes_the_encoding_it_was_read_in(case, kind, compressed):
    doc, was_compressed = decode_history(kind, NAME, NS, encoded(kind, compressed, CASES[case][0]))
    data = encode_history(doc, kind, was_compressed)
    assert set(data) == ({"releaseHistory", "isReleaseHistoryCompressed"} if compressed else {"releaseHistory"})
    text, by_hand_compressed = undo_encoding(kind, data)
    assert by_hand_compressed is compressed
    assert yaml.safe_load(text) == doc
    assert decode_history(kind, NAME, NS, data) == (doc, compressed)


def test_encode_keeps_key_order_and_unknown_fields():
    doc, _ = decode_history("ConfigMap", NAME, NS, encoded("ConfigMap", False, OLD_RECORD))
    text = encode_history(doc, "ConfigMap", False)["releaseHistory"]
    assert text.index("version") < text.index("someFutureField") < text.index("releases")
    assert "customerNote: hello" in text and "startTime" in text


def test_encode_is_deterministic():
    doc = yaml.safe_load(LIST_FORM_QUOTED)
    assert encode_history(doc, "Secret", True) == encode_history(copy.deepcopy(doc), "Secret", True)


# -- bookkeeping edits ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind, compressed", ENCODINGS, ids=ENCODING_IDS)
def test_rollback_bookkeeping_keeps_everything_else(kind, compressed):
    doc, _ = decode_history(kind, NAME, NS, encoded(kind, compressed, OLD_RECORD))
    before = copy.deepcopy(doc)
    set_release_status(doc, 3, Status.FAILED)
    set_release_status(doc, 2, Status.FAILED)
    set_workload_revision(doc, 1, WorkloadRef("Deployment", "web", NS), 12)
    set_workload_revision(doc, 3, WorkloadRef("Deployment", "web", NS), 13)

    expected = copy.deepcopy(before)
    expected["releases"][2]["status"] = "Failed"
    expected["releases"][0]["managedWorkloadRevision"] = "12"
    expected["releases"][1]["managedWorkloads"][0]["revision"] = "13"
    assert doc == expected
    assert [list(r) for r in doc["releases"]] == [list(r) for r in before["releases"]]  # key order kept

    reread, _ = decode_history(kind, NAME, NS, encode_history(doc, kind, compressed))
    assert reread == expected
    releases = releases_from_history(reread, source_of(kind), NS)
    assert [(r.number, r.status, r.workloads) for r in releases] == [
        (3, Status.FAILED, [dep("web", 13)]),
        (2, Status.FAILED, []),
        (1, Status.SUCCEEDED, [dep("web", 12)]),
    ]


def test_revision_is_written_as_a_quoted_string_like_harness():
    doc = yaml.safe_load(LIST_FORM_BARE)
    set_workload_revision(doc, 1, WorkloadRef("StatefulSet", "db", NS), 8)
    assert doc["releases"][1]["managedWorkloads"][1]["revision"] == "8"
    assert doc["releases"][1]["managedWorkloads"][0]["revision"] == 11  # the other one untouched
    assert "revision: '8'" in encode_history(doc, "ConfigMap", False)["releaseHistory"]


def test_single_form_revision_update():
    doc = yaml.safe_load(SINGLE_FORM_BLUE_GREEN)
    set_workload_revision(doc, 4, WorkloadRef("Deployment", "web-blue", NS), 6)
    assert doc["releases"][1]["managedWorkloadRevision"] == "6"
    assert doc["releases"][1]["bgEnvironment"] == "primary"


@pytest.mark.parametrize("edit, message", [
    (lambda doc: set_release_status(doc, 9, Status.FAILED), "release 9 is not in the release history"),
    (lambda doc: set_workload_revision(doc, 9, WorkloadRef("Deployment", "web", NS), 1),
     "release 9 is not in the release history"),
    (lambda doc: set_workload_revision(doc, 2, WorkloadRef("Deployment", "api", NS), 1),
     "release 2 in the release history has no workload deployment/api"),
    (lambda doc: set_workload_revision(doc, 2, WorkloadRef("Deployment", "web", "other"), 1),
     "release 2 in the release history has no workload deployment/web"),
])
def test_edits_name_what_is_missing(edit, message):
    doc = yaml.safe_load(LIST_FORM_QUOTED)
    before = copy.deepcopy(doc)
    with pytest.raises(ValueError, match=message):
        edit(doc)
    assert doc == before


# -- corrupt objects: one line, naming the object, no Secret content -------------------------------

SECRET_MARKER = "hunter2-token"
GZIP_OF_MARKER = gzip.compress(f"password: {SECRET_MARKER}\n".encode())

DECODE_CORRUPTIONS = {
    "configmap bad base64": ("ConfigMap", {"releaseHistory": "not base64!", "isReleaseHistoryCompressed": "true"},
                             "releaseHistory is not valid base64"),
    "configmap bad gzip": ("ConfigMap", {"releaseHistory": b64(b"no gzip here"), "isReleaseHistoryCompressed": "true"},
                           "releaseHistory is not valid gzip"),
    "configmap truncated gzip": ("ConfigMap", {"releaseHistory": b64(GZIP_OF_MARKER[:-9]),
                                               "isReleaseHistoryCompressed": "true"},
                                 "releaseHistory is not valid gzip"),
    "configmap bad yaml": ("ConfigMap", {"releaseHistory": "releases: [\n  - {number: 1"},
                           "releaseHistory is not valid YAML"),
    "configmap yaml not a mapping": ("ConfigMap", {"releaseHistory": "- 1\n- 2\n"},
                                     "releaseHistory is not a YAML mapping"),
    "configmap releases not a list": ("ConfigMap", {"releaseHistory": "version: v1\nreleases: 5\n"},
                                      "releases is not a list"),
    "configmap bad date": ("ConfigMap", {"releaseHistory": "version: v1\nreleases: []\nat: 2001-02-30\n"},
                           "releaseHistory is not valid YAML"),
    "secret bad base64": ("Secret", {"releaseHistory": "%%%%"}, "releaseHistory is not valid base64"),
    "secret bad flag base64": ("Secret", {"releaseHistory": b64(b"x"), "isReleaseHistoryCompressed": "?"},
                               "isReleaseHistoryCompressed is not valid base64"),
    "secret bad gzip": ("Secret", {"releaseHistory": b64(SECRET_MARKER.encode()),
                                   "isReleaseHistoryCompressed": b64(b"\x01")},
                        "releaseHistory is not valid gzip"),
    "secret truncated gzip": ("Secret", {"releaseHistory": b64(GZIP_OF_MARKER[:-9])},
                              "releaseHistory is not valid gzip"),
    "secret not utf-8": ("Secret", {"releaseHistory": b64(b"\xff\xfe" + SECRET_MARKER.encode())},
                         "releaseHistory is not UTF-8 text"),
    "secret bad yaml": ("Secret", {"releaseHistory": b64(gzip.compress(f"a: [{SECRET_MARKER}".encode()))},
                        "releaseHistory is not valid YAML"),
    "secret yaml not a mapping": ("Secret", {"releaseHistory": b64(SECRET_MARKER.encode())},
                                  "releaseHistory is not a YAML mapping"),
    "secret releases not a list": ("Secret", {"releaseHistory": b64(f"releases: {SECRET_MARKER}".encode())},
                                   "releases is not a list"),
}


def assert_one_line_naming(err: CorruptHistory, kind: str, reason: str) -> None:
    message = str(err)
    assert "\n" not in message
    assert message.startswith(f"release history {source_of(kind)} in namespace {NS} is corrupt: ")
    assert reason in message
    assert message.endswith("; fix or delete the object")
    assert SECRET_MARKER not in message
    assert err.exit_code == 1


@pytest.mark.parametrize("case", list(DECODE_CORRUPTIONS))
def test_corrupt_encodings_are_one_line_errors(case):
    kind, data, reason = DECODE_CORRUPTIONS[case]
    with pytest.raises(CorruptHistory) as caught:
        decode_history(kind, NAME, NS, data)
    assert_one_line_naming(caught.value, kind, reason)


def test_yaml_error_gives_the_position_only():
    with pytest.raises(CorruptHistory, match=r"not valid YAML \(line 2, column 1\); fix") as caught:
        decode_history("ConfigMap", NAME, NS, {"releaseHistory": "version: v1\n\tbad: tab\n"})
    assert "tab" not in str(caught.value)


def history_with(release: str) -> str:
    return "version: v1\nreleases:\n" + release


# (history, reason, the bad value as quoted for a ConfigMap: never quoted for a Secret)
RELEASE_CORRUPTIONS = {
    "unknown status": (history_with("- {number: 4, status: Done}\n"),
                       "release 4 has an unknown status{} (expected one of InProgress, Succeeded, Failed)", "'Done'"),
    "missing status": (history_with("- {number: 4}\n"), "release 4 has no status (expected one of", None),
    "non-numeric revision": (history_with(
        "- number: 4\n  status: Failed\n  managedWorkloads:\n"
        "  - {workload: {kind: Deployment, name: web}, revision: twelve}\n"),
        "release 4 has a revision of deployment/web that is not a number{}", "'twelve'"),
    "non-numeric single revision": (history_with(
        "- number: 4\n  status: Failed\n  managedWorkload: {kind: Deployment, name: web}\n"
        "  managedWorkloadRevision: '4a'\n"),
        "release 4 has a revision of deployment/web that is not a number{}", "'4a'"),
    "negative revision": (history_with(
        "- number: 4\n  status: Failed\n  managedWorkloads:\n"
        "  - {workload: {kind: Deployment, name: web}, revision: -1}\n"),
        "release 4 has a revision of deployment/web that is not a number{}", "-1"),
    "missing number": (history_with("- {status: Failed}\n"), "entry 1 of releases has no number", None),
    "non-integer number": (history_with("- {number: 1, status: Failed}\n- {number: three, status: Failed}\n"),
                           "entry 2 of releases has a number that is not an integer{}", "'three'"),
    "float number": (history_with("- {number: 1.5, status: Failed}\n"),
                     "entry 1 of releases has a number that is not an integer{}", "1.5"),
    "boolean number": (history_with("- {number: true, status: Failed}\n"),
                       "entry 1 of releases has a number that is not an integer{}", "True"),
    "release not a mapping": (history_with("- {number: 1, status: Failed}\n- just text\n"),
                              "entry 2 of releases is not a mapping", None),
    "duplicate numbers": (history_with("- {number: 2, status: Failed}\n- {number: 2, status: Succeeded}\n"),
                          "release number 2 appears more than once", None),
    "managedWorkloads not a list": (history_with("- {number: 2, status: Failed, managedWorkloads: web}\n"),
                                    "release 2 has a managedWorkloads that is not a list", None),
    "managedWorkloads entry not a mapping": (history_with("- {number: 2, status: Failed, managedWorkloads: [web]}\n"),
                                             "release 2 has an entry of managedWorkloads that is not a mapping", None),
    "workload without a name": (history_with(
        "- number: 2\n  status: Failed\n  managedWorkloads:\n  - {workload: {kind: Deployment}, revision: '1'}\n"),
        "release 2 has a managedWorkloads workload without a kind and a name", None),
    "single workload not a mapping": (history_with("- {number: 2, status: Failed, managedWorkload: web}\n"),
                                      "release 2 has a managedWorkload workload that is not a mapping", None),
}


@pytest.mark.parametrize("case", list(RELEASE_CORRUPTIONS))
def test_corrupt_releases_name_the_source_release_and_field(case):
    text, reason, shown = RELEASE_CORRUPTIONS[case]
    doc, _ = decode_history("ConfigMap", NAME, NS, {"releaseHistory": text})
    with pytest.raises(CorruptHistory) as caught:
        releases_from_history(doc, source_of("ConfigMap"), NS)
    assert_one_line_naming(caught.value, "ConfigMap", reason.format(f" {shown}" if shown else ""))


@pytest.mark.parametrize("case", list(RELEASE_CORRUPTIONS))
def test_corrupt_releases_in_a_secret_do_not_quote_its_content(case):
    text, reason, shown = RELEASE_CORRUPTIONS[case]
    if shown and shown.strip("'").isalpha():
        text = text.replace(shown.strip("'"), SECRET_MARKER)  # a value that would be a secret's content
    doc, _ = decode_history("Secret", NAME, NS, encoded("Secret", True, text))
    with pytest.raises(CorruptHistory) as caught:
        releases_from_history(doc, source_of("Secret"), NS)
    assert_one_line_naming(caught.value, "Secret", reason.format(""))
    if shown:
        assert shown not in str(caught.value)


def test_releases_not_a_list_in_a_document_built_elsewhere():
    with pytest.raises(CorruptHistory, match="releases is not a list"):
        releases_from_history({"releases": {"number": 1}}, "configmap/x", NS)


# -- properties ---------------------------------------------------------------------------------

KNOWN_RELEASE_FIELDS = {"number", "status", "resources", "managedWorkloads", "managedWorkload",
                        "managedWorkloadRevision", "bgEnvironment"}
# Up to 15 ms an example (every encoding round trip): five hundred under CI.
PROPERTY_SETTINGS = settings(max_examples=examples(dev=100, ci=500))

names = st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True)
revisions = st.one_of(st.none(), st.just(""), st.integers(0, 10**9), st.integers(0, 10**9).map(str))
unknown_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def unknown_fields(known: set[str]):
    return st.dictionaries(st.text(max_size=10).filter(lambda k: k not in known), unknown_values, max_size=2)


def expected_revision(value) -> int | None:
    return None if value in (None, "") else int(value)


@st.composite
def release_records(draw, number: int):
    """One release as Harness might write it, and the Release it means."""
    status = draw(st.sampled_from(list(Status)))
    single = draw(st.booleans())
    workloads = draw(st.lists(
        st.tuples(st.sampled_from(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]), names,
                  st.one_of(st.none(), names), revisions),
        min_size=1 if single else 0, max_size=1 if single else 3, unique_by=lambda w: (w[0], w[1], w[2] or NS)))
    # A number may be written as a string too; it means the same release.
    record = {"number": draw(st.sampled_from([number, str(number)])), "status": status.value}
    record["resources"] = [{"kind": k, "name": n, "namespace": ns or NS, "versioned": False} for k, n, ns, _ in workloads]

    def ref(kind, name, namespace):
        out = {"kind": kind, "name": name}
        if namespace:
            out["namespace"] = namespace
        return out

    if single:
        (kind, name, namespace, revision), = workloads
        record["managedWorkload"] = ref(kind, name, namespace)
        if revision is not None:
            record["managedWorkloadRevision"] = revision
    else:
        record["managedWorkloads"] = [{"workload": ref(k, n, ns), "revision": rev} for k, n, ns, rev in workloads]
    bg_environment = draw(st.sampled_from([None, "primary", "stage"]))
    if bg_environment:
        record["bgEnvironment"] = bg_environment
    record.update(draw(unknown_fields(KNOWN_RELEASE_FIELDS)))
    release = Release(
        number=number, status=status, source=Source.LEGACY,
        workloads=[ReleaseWorkload(WorkloadRef(k, n, ns or NS), expected_revision(rev)) for k, n, ns, rev in workloads],
        bg_environment=bg_environment,
        resources=[WorkloadRef(k, n, ns or NS) for k, n, ns, _ in workloads],
    )
    return record, release


@st.composite
def histories(draw):
    numbers = draw(st.lists(st.integers(1, 10**6), unique=True, max_size=4))
    pairs = [draw(release_records(n)) for n in numbers]
    doc = {"version": "v1", **draw(unknown_fields({"version", "releases"})), "releases": [r for r, _ in pairs]}
    return doc, sorted((r for _, r in pairs), key=lambda r: r.number, reverse=True)


@PROPERTY_SETTINGS
@given(histories())
def test_property_histories_round_trip_in_every_encoding(history):
    doc, expected = history
    for kind, compressed in ENCODINGS:
        decoded, was_compressed = decode_history(kind, NAME, NS, encode_history(doc, kind, compressed))
        assert was_compressed is compressed
        assert decoded == doc
        releases = releases_from_history(decoded, source_of(kind), NS)
        for release in expected:
            release.store = source_of(kind)
        assert releases == expected


def read_or_corrupt(kind: str, data) -> None:
    """The whole read path; CorruptHistory is the only exception allowed to escape."""
    try:
        read(kind, data)
    except CorruptHistory as err:
        assert "\n" not in str(err) and source_of(kind) in str(err)


base64_of_bytes = st.binary(max_size=200).map(b64)
history_values = st.one_of(st.text(max_size=200), base64_of_bytes,
                           st.binary(max_size=200).map(lambda raw: b64(gzip.compress(raw))))


@PROPERTY_SETTINGS
@given(st.sampled_from(["ConfigMap", "Secret"]),
       st.dictionaries(st.sampled_from(["releaseHistory", "isReleaseHistoryCompressed", "other"]),
                       st.one_of(history_values, st.sampled_from(["true", "AQ==", "AA==", ""])), max_size=3))
def test_property_random_data_raises_only_corrupt_history(kind, data):
    read_or_corrupt(kind, data)


@PROPERTY_SETTINGS
@given(histories(), st.sampled_from(ENCODINGS), st.data())
def test_property_corrupted_encodings_raise_only_corrupt_history(history, encoding, data):
    kind, compressed = encoding
    doc, _ = history
    text = yaml.safe_dump(doc, sort_keys=False).encode()
    raw = gzip.compress(text) if compressed else text
    # Corrupt the innermost bytes (gzip stream or YAML text), then wrap them as the format says.
    position = data.draw(st.integers(0, max(len(raw) - 1, 0)))
    how = data.draw(st.sampled_from(["flip", "truncate", "insert"]))
    if how == "flip" and raw:
        raw = raw[:position] + bytes([raw[position] ^ data.draw(st.integers(1, 255))]) + raw[position + 1:]
    elif how == "truncate":
        raw = raw[:position]
    else:
        raw = raw[:position] + data.draw(st.binary(min_size=1, max_size=8)) + raw[position:]
    if kind == "ConfigMap":
        value = b64(raw) if compressed else raw.decode("utf-8", "replace")
        encoded_data = {"releaseHistory": value, **({"isReleaseHistoryCompressed": "true"} if compressed else {})}
    else:
        encoded_data = {"releaseHistory": b64(raw), **({"isReleaseHistoryCompressed": "AQ=="} if compressed else {})}
    # And sometimes corrupt the base64 text itself.
    if data.draw(st.booleans()):
        value = encoded_data["releaseHistory"]
        cut = data.draw(st.integers(0, len(value)))
        encoded_data["releaseHistory"] = value[:cut] + data.draw(st.text(max_size=3)) + value[cut:]
    read_or_corrupt(kind, encoded_data)


yaml_scalars = st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=False) \
    | st.text(max_size=6) | st.sampled_from(["Failed", "Succeeded", "InProgress", "12", "", "Deployment"])
yaml_values = st.recursive(yaml_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["kind", "name", "namespace", "workload", "revision", "x"]), inner, max_size=4), max_leaves=10)
release_like = st.dictionaries(st.sampled_from(sorted(KNOWN_RELEASE_FIELDS | {"x"})), yaml_values, max_size=6)


@PROPERTY_SETTINGS
@given(st.one_of(yaml_values, st.lists(st.one_of(release_like, yaml_values), max_size=4)))
def test_property_odd_documents_raise_only_corrupt_history(releases):
    try:
        releases_from_history({"version": "v1", "releases": releases}, "configmap/x", NS)
    except CorruptHistory as err:
        assert "\n" not in str(err) and "configmap/x in namespace shop" in str(err)


def test_a_gzip_bomb_is_refused_without_inflating_it():
    import gzip as gzip_module

    from kubectl_harness_rollback.records.bounded import gunzip

    bomb = gzip_module.compress(b"\0" * (3 * 1024 * 1024))
    assert gunzip(bomb, limit=4 * 1024 * 1024) == b"\0" * (3 * 1024 * 1024)
    with pytest.raises(ValueError, match="inflates to more than 1 MiB"):
        gunzip(bomb, limit=1024 * 1024)


def test_concatenated_gzip_members_are_read_whole():
    import gzip as gzip_module

    from kubectl_harness_rollback.records.bounded import gunzip

    assert gunzip(gzip_module.compress(b"version: v1\n") + gzip_module.compress(b"releases: []\n")) == \
        b"version: v1\nreleases: []\n"


def test_a_gzip_of_millions_of_lines_is_refused_while_it_inflates():
    """81 KiB of gzip (16 million lines) cost `list -A` 49 s and 2.4 GB: the text was split into a
    list of lines before any bound applied. The line count now stops the inflating itself."""
    import base64 as base64_module
    import gzip as gzip_module
    import time

    from kubectl_harness_rollback.records import history_codec

    packed = gzip_module.compress(b"a\n" * 16_000_000, compresslevel=1)
    data = {"releaseHistory": base64_module.b64encode(packed).decode(), "isReleaseHistoryCompressed": "true"}
    began = time.monotonic()
    with pytest.raises(CorruptHistory, match=f"more than {bounded.MAX_LINES} lines"):
        history_codec.decode_history("ConfigMap", "x", NS, data)
    assert time.monotonic() - began < 1.0


def test_plain_text_and_compressed_size_are_bounded_too():
    import base64 as base64_module

    from kubectl_harness_rollback.records import history_codec

    lines = "a\n" * bounded.MAX_LINES
    with pytest.raises(CorruptHistory, match="more than .* lines"):
        history_codec.decode_history("ConfigMap", "x", NS, {"releaseHistory": lines})
    with pytest.raises(CorruptHistory, match="more than .* lines"):
        history_codec.decode_history("Secret", "x", NS,
                                     {"releaseHistory": base64_module.b64encode(lines.encode()).decode()})
    huge = base64_module.b64encode(b"\x1f\x8b" + b"\0" * (bounded.MAX_COMPRESSED_BYTES + 3)).decode()
    with pytest.raises(CorruptHistory, match="larger than 2 MiB"):
        history_codec.decode_history("ConfigMap", "x", NS, {"releaseHistory": huge,
                                                            "isReleaseHistoryCompressed": "true"})


def test_a_truncated_gzip_is_still_not_valid_gzip():
    import gzip as gzip_module

    from kubectl_harness_rollback.records.bounded import gunzip

    packed = gzip_module.compress(b"version: v1\nreleases: []\n" * 100)
    for cut in (len(packed) // 2, len(packed) - 4, 11):
        with pytest.raises(ValueError, match="not valid gzip"):
            gunzip(packed[:cut])

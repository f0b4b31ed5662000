"""block_yaml_dump writes a release history exactly as yaml.safe_dump(doc, sort_keys=False) does,
or declines (None): generated documents of every shape and type, Harness's own fixtures, and the
histories a rollback writes back, which it must not decline (else PyYAML is imported mid-wait)."""

import pathlib
import subprocess
import sys

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_harness_rollback import block_yaml
from kubectl_harness_rollback.block_yaml_dump import dump
from kubectl_harness_rollback.harness_names import HISTORY_KEY
from kubectl_harness_rollback.records import history_codec
from tests.support.profiles import examples
from tests.unit.test_history_yaml import typed

FIXTURES = sorted((pathlib.Path(__file__).parent.parent / "fixtures" / "harness").glob("*.yaml"))


def pyyaml(doc) -> str:
    return yaml.safe_dump(doc, sort_keys=False)


def same_or_declined(doc) -> bool:
    """True if the writer wrote it (as PyYAML writes it); False if it declined."""
    text = dump(doc)
    if text is None:
        return False
    assert text == pyyaml(doc), doc
    return True


# -- any document: the writer writes what PyYAML writes, or declines ------------------------------

words = st.sampled_from(["Deployment", "Succeeded", "Failed", "web", "release-infra-prod", "v1", "13", "0", "007",
                         "089", "0755", "1.5", "1.2.3", "1e3", "1_000", "0x1F", "true", "tRue", "False", "yes",
                         "no", "on", "OFF", "null", "Null", "~", "", "2026-01-02", "2026-01-02T03:04:05Z", "1:20",
                         "a b", "x:y", "a#b", "it's", "-x", ".inf", ".x", "/x", "_x", "x.", "x-", "=", "<<",
                         "é", "a" * 130, "a " * 50, "registry.example/web:2", "line\nbreak", " lead", "trail "])
near = st.text(alphabet="ab0189_./- :'#", max_size=6)
scalars = st.one_of(near, words, st.integers(-10**20, 10**20), st.booleans(), st.none(), st.text(max_size=8),
                    st.floats(allow_nan=False))
keys = st.one_of(near, words, st.sampled_from(["number", "status", "a" * 127, "b" * 128]), st.integers(0, 3),
                 st.booleans(), st.none())


def documents(leaves, names, depth=3):
    if depth == 0:
        return leaves
    inner = documents(leaves, names, depth - 1)
    return st.one_of(leaves, st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=4))


@given(st.one_of(st.dictionaries(keys, documents(scalars, keys), max_size=5), documents(scalars, keys)))
def test_any_document_is_written_as_pyyaml_writes_it_or_declined(doc):
    same_or_declined(doc)


# Strings of the subset, among them those PyYAML quotes ('13', 'true', '2026-01-02', '1.5', '0755').
subset_strings = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_./-]{0,8}", fullmatch=True) | st.sampled_from(
    ["13", "0", "089", "0755", "1.5", "1.2.3", "1e3", "1_000", "0x1F", "true", "tRue", "False", "yes", "no", "on",
     "OFF", "null", "Null", "NULL", "2026-01-02", "y", "n", "inf", "nan", ""])
subset_scalars = st.one_of(subset_strings, st.integers(-10**20, 10**20), st.booleans(), st.none())


def without_lists_in_lists(doc) -> bool:
    if isinstance(doc, list):
        return all(not isinstance(item, list) and without_lists_in_lists(item) for item in doc)
    return not isinstance(doc, dict) or all(map(without_lists_in_lists, doc.values()))


subset_keys = subset_strings.filter(bool)  # PyYAML writes an empty key as a `? ` complex key


# About 3 ms an example.
@settings(max_examples=examples(dev=100, ci=1000))
@given(st.dictionaries(subset_keys, documents(subset_scalars, subset_keys), max_size=5).filter(
    without_lists_in_lists))
def test_a_document_of_the_subset_is_written_as_pyyaml_writes_it(doc):
    assert same_or_declined(doc)


# -- histories: written here, never declined -------------------------------------------------------

names = st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True)
workload = st.fixed_dictionaries({"name": names, "kind": st.sampled_from(["Deployment", "StatefulSet", "DaemonSet"]),
                                  "namespace": names, "versioned": st.booleans()})
release = st.fixed_dictionaries({
    "customWorkloads": st.builds(list), "managedWorkload": st.none() | workload,
    "managedWorkloadRevision": st.none() | st.integers(1, 10**6).map(str),
    "managedWorkloads": st.lists(st.fixed_dictionaries({"revision": st.integers(1, 10**6).map(str),
                                                        "workload": workload}), max_size=3),
    "number": st.integers(1, 10**6), "resources": st.lists(workload, max_size=4), "resourcesWithSpec": st.builds(list),
    "status": st.sampled_from(["Succeeded", "Failed", "InProgress", "SUCCEEDED", "FAILED"])},
    optional={"bgEnvironment": st.sampled_from(["blue", "green"])})
histories = st.fixed_dictionaries({"releases": st.lists(release, max_size=6), "version": st.just("v1")})


# About 20 ms an example (PyYAML writes it too).
@settings(max_examples=examples(dev=50, ci=200))
@given(histories)
def test_a_history_is_written_as_pyyaml_writes_it_and_read_back_the_same(doc):
    assert same_or_declined(doc)
    read = block_yaml.read(dump(doc), max_nodes=10**6)
    assert typed(read) == typed(doc)


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_harness_fixtures_are_written_as_pyyaml_writes_them(path):
    doc = yaml.safe_load(path.read_text())
    if doc is None:  # empty.yaml: no document
        pytest.skip("no document to write")
    assert same_or_declined(doc)


@pytest.mark.parametrize("doc", [
    {"a": 1.5}, {"a": "x:y"}, {"a": "a b"}, {"a": "é"}, {"a": [[1]]}, {1: "a"}, {"a" * 128: 1}, [1],
    {"a": float("nan")}, {"a": ("t",)}, {"": 1},
])
def test_what_is_outside_the_subset_is_declined(doc):
    assert dump(doc) is None


def test_a_list_or_mapping_met_twice_is_declined_pyyaml_writes_an_anchor():
    shared = [{"kind": "Deployment"}]
    doc = {"resources": shared, "again": shared}
    assert dump(doc) is None
    assert "&id001" in pyyaml(doc)
    assert dump({"a": shared[0], "b": {"c": shared[0]}}) is None
    empty = []
    assert dump({"a": empty, "b": empty}) is None and "&id001" in pyyaml({"a": empty, "b": empty})
    assert dump({"a": {"b": 1}, "c": {"b": 1}}) == pyyaml({"a": {"b": 1}, "c": {"b": 1}})  # equal, not the same


def test_writing_a_history_back_imports_no_pyyaml():
    program = (
        "import sys\n"
        "from kubectl_harness_rollback.records.history_codec import encode_history\n"
        "doc = {'version': 'v1', 'releases': [{'number': 2, 'status': 'Failed', 'managedWorkloads': "
        "[{'revision': '3', 'workload': {'kind': 'Deployment', 'name': 'web', 'namespace': 'shop'}}]}]}\n"
        "encode_history(doc, 'ConfigMap', compressed=False)\n"
        "encode_history(doc, 'Secret', compressed=True)\n"
        "print('yaml' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"


def test_a_history_outside_the_subset_is_still_written_by_pyyaml():
    doc = {"version": "v1", "releases": [{"number": 1, "status": "Succeeded", "note": "a: b"}]}
    assert dump(doc) is None
    assert history_codec.encode_history(doc, "ConfigMap", compressed=False) == {HISTORY_KEY: pyyaml(doc)}

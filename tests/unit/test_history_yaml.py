"""block_yaml reads the block YAML of release histories exactly as yaml.safe_load does, or
declines: generated histories in the styles Harness's writers use, Harness's own fixtures, and
arbitrary YAML-like text (where PyYAML may fail: the reader must then decline)."""

import pathlib
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_harness_rollback import block_yaml
from kubectl_harness_rollback.records import bounded
from tests.support.profiles import examples

FIXTURES = sorted((pathlib.Path(__file__).parent.parent / "fixtures" / "harness").glob("*.yaml"))
MAX_NODES = bounded.MAX_YAML_NODES


def typed(value):
    """A value with its types spelled out: True == 1 and 1.0 == 1 in Python, not in YAML."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    return (type(value).__name__, repr(value))


def safe_load(text):
    try:
        return ("loaded", typed(yaml.safe_load(text)))
    except (yaml.YAMLError, ValueError):  # 2001-02-30 is a ValueError
        return ("error", None)


def read(text):
    return block_yaml.read(text, max_nodes=MAX_NODES, max_releases=bounded.MAX_RELEASES)


def same_or_declined(text) -> bool:
    """True if the reader read it (as yaml.safe_load does); False if it declined."""
    doc = read(text)
    if doc is block_yaml.DECLINED:
        return False
    assert ("loaded", typed(doc)) == safe_load(text), text
    return True


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_harness_fixtures_read_as_pyyaml_reads_them(path):
    assert same_or_declined(path.read_text())


# -- histories as Harness's writers emit them ---------------------------------------------------

words = st.sampled_from(["Deployment", "StatefulSet", "Succeeded", "Failed", "InProgress", "default", "web",
                         "release-infra-prod", "app-00", "v1", "13", "0", "007", "1.5", "true", "False", "yes",
                         "no", "on", "null", "Null", "~", "", "2026-01-02", "2001-02-30", "2026-13-01T00:00:00Z", "2026-01-02T03:04:05Z", "1:20",
                         "a b", "a  b", "x:y", "0x1F", "1_000", ".inf", "-1", "+1", "=", "<<", "a#b", "it's",
                         "registry.example/web:2", "@x", "%x", "(x)", "e", "1e3", "NaN", ".nan", "Y", "n"])
scalars = st.one_of(words, st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
                    st.integers(-5, 10**6), st.booleans(), st.none())
keys = st.sampled_from(["number", "status", "managedWorkloads", "workload", "kind", "name", "namespace",
                        "revision", "versioned", "resources", "customWorkloads", "managedWorkload",
                        "managedWorkloadRevision", "resourcesWithSpec", "bgEnvironment", "releaseName",
                        "a.b", "a/b", "x-y", "true", "1", "null", "on"])


def documents(depth=3):
    leaf = scalars
    if depth == 0:
        return leaf
    inner = documents(depth - 1)
    return st.one_of(leaf, st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5))


@st.composite
def rendered(draw):
    """A document written in one of the block styles YAML writers use, scalars quoted or not."""
    doc = draw(st.dictionaries(keys, documents(), min_size=1, max_size=5) | st.fixed_dictionaries(
        {"version": st.just("v1"), "releases": st.lists(st.dictionaries(keys, documents(2), max_size=6), max_size=4)}))
    indent = draw(st.sampled_from([2, 4]))
    indentless = draw(st.booleans())
    dash_gap = draw(st.sampled_from([1, 1, 3]))
    start = draw(st.sampled_from(["", "---\n", "# a comment\n"]))

    def scalar(value):
        if value is None:
            return draw(st.sampled_from(["", "null", "~"]))
        if isinstance(value, bool) or isinstance(value, int):
            return str(value).lower() if isinstance(value, bool) else str(value)
        style = draw(st.sampled_from(["plain", "single", "double"]))
        if style == "single":
            return "'" + value.replace("'", "''") + "'"
        if style == "double":
            return '"' + value + '"'
        return value

    def lines(value, column):
        pad = " " * column
        if isinstance(value, dict):
            if not value:
                return None
            out = []
            for key, item in value.items():
                nested = lines(item, column + (0 if indentless and isinstance(item, list) else indent))
                if nested is None:
                    out.append(f"{pad}{key}: {inline(item)}".rstrip(" ") if inline(item) != "" else f"{pad}{key}:")
                else:
                    out.append(f"{pad}{key}:")
                    out.extend(nested)
            return out
        if isinstance(value, list):
            if not value:
                return None
            out = []
            for item in value:
                nested = lines(item, column + 1 + dash_gap)
                if nested is None:
                    out.append(f"{pad}-{' ' * dash_gap}{inline(item)}".rstrip(" "))
                elif isinstance(item, dict):
                    out.append(f"{pad}-{' ' * dash_gap}{nested[0].lstrip(' ')}")
                    out.extend(nested[1:])
                else:
                    out.append(f"{pad}-")
                    out.extend(nested)
            return out
        return None

    def inline(value):
        if value == {}:
            return "{}"
        if value == []:
            return "[]"
        return scalar(value)

    return start + "\n".join(lines(doc, 0)) + "\n"


# About 10 ms an example: a thousand under CI.
@settings(max_examples=examples(dev=100, ci=1000))
@given(rendered())
def test_generated_histories_read_as_pyyaml_reads_them(text):
    same_or_declined(text)


def test_the_block_style_of_harness_histories_is_read_not_declined():
    text = ("version: v1\nreleases:\n- number: 2\n  status: Failed\n  managedWorkloads:\n  - workload:\n"
            "      kind: Deployment\n      name: web\n      namespace: shop\n    revision: '2'\n"
            "  resources: []\n  managedWorkload:\n- number: 1\n  status: Succeeded\n")
    assert same_or_declined(text)
    assert read(text)["releases"][0]["managedWorkloads"][0]["revision"] == "2"


# -- anything YAML-like: where PyYAML reads something else, or fails, the reader declines ------

fragments = st.sampled_from(["a: ", "b:", "- ", "- c: ", "1", "'x'", "a", "b", ":", ": ", "-", "- ", " ", "  ", "'", "''", '"', "#", " #", "1", "x",
                             "[", "]", "{", "}", ",", "&a", "*a", "!!str", "|", ">", "?", "---", "...", "\t",
                             "\\", "%", "@", "`", "true", "null", "~", "="])


@given(st.lists(st.tuples(st.integers(0, 6), st.lists(fragments, max_size=6).map("".join)), max_size=8))
def test_yaml_like_text_is_read_as_pyyaml_reads_it_or_declined(lines):
    same_or_declined("".join(" " * indent + content + "\n" for indent, content in lines))


@pytest.mark.parametrize("text", [
    "a: [1, 2]\n", "a: {b: 1}\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: |\n  x\n", "a: b\n  c\n",
    "a: 'b\n  c'\n", 'a: "b\\n"\n', "a: b # c\n", "a:\tb\n", "a: é\n", "a: b\r\n", "? a\n: b\n",
    "a: 1\n---\nb: 2\n", "- - a\n", "a:\n    b: 1\n  c: 2\n", "=: 1\n", "a: =\n", "<<: {}\n", "a: -1\n",
])
def test_what_is_outside_the_subset_is_declined(text):
    assert read(text) is block_yaml.DECLINED


def test_bounds_are_left_to_pyyaml_which_says_which():
    text = "releases:\n" + "- 1\n" * 11
    assert block_yaml.read(text, max_nodes=MAX_NODES, max_releases=10) is block_yaml.DECLINED
    assert block_yaml.read(text, max_nodes=10, max_releases=None) is block_yaml.DECLINED
    assert block_yaml.read("a:\n" * 1 + "".join("  " * n + "b:\n" for n in range(1, 40)), max_nodes=MAX_NODES) \
        is block_yaml.DECLINED


# -- lines of the subset at any indentation: the part a line-based reader could get wrong -------

subset_lines = st.tuples(st.integers(0, 6), st.sampled_from(["", "- ", "-   ", "-"]),
                         st.sampled_from(["", "a:", "b:", "number:", "a: ", "b: "]),
                         st.sampled_from(["", "1", "x", "'1'", "[]", "{}", "~", "Failed", "a b"]))


# About 1.5 ms an example: five thousand under CI.
@settings(max_examples=examples(dev=100, ci=5000))
@given(st.lists(subset_lines, min_size=1, max_size=10))
def test_the_subset_at_any_indentation_is_read_as_pyyaml_reads_it_or_declined(lines):
    same_or_declined("".join(" " * indent + (dash + key + value).rstrip(" ") + "\n"
                             for indent, dash, key, value in lines))


# Plain scalars are typed here by PyYAML's own regular expressions, without importing PyYAML.
TRICKY_SCALARS = ["0", "00", "07", "08", "0x1f", "0b10", "0o7", "1_000", "1:30", "190:20:30", "1:30.5", "1.5", "1.",
                  ".5", ".inf", ".NaN", ".nan", "1e3", "1.0e+3", "2001-02-03", "2001-02-30", "2001-2-3 4:05:06",
                  "2001-02-03t04:05:06Z", "2001-02-03 04:05:06.5 +01:00", "yes", "No", "ON", "oFF", "y", "n", "~",
                  "null", "NULL", "nUll", "True", "tRue", "12345678901234567890", "3", "10", "v1", "1.2.3", "1-2",
                  "(x)", "_1", "/a/b", "https://127.0.0.1:6443", "Succeeded", "off-by-one"]


@pytest.mark.parametrize("scalar", TRICKY_SCALARS)
def test_a_plain_scalar_is_typed_as_pyyaml_types_it_or_declined(scalar):
    text = f"key: {scalar}\nlist:\n- {scalar}\n"
    doc = block_yaml.read(text, max_nodes=100)
    assert doc is block_yaml.DECLINED or (
        typed(doc["key"]), typed(doc["list"][0])) == (typed(yaml.safe_load(text)["key"]),) * 2


@settings(max_examples=examples(dev=200, ci=5000))
@given(st.from_regex(r"[0-9a-fA-FxXbBeEnN._:~+ -]{1,14}", fullmatch=True))
def test_number_like_plain_scalars_are_typed_as_pyyaml_types_them_or_declined(scalar):
    text = f"key: {scalar}\n"
    doc = block_yaml.read(text, max_nodes=100)
    if doc is not block_yaml.DECLINED:
        assert typed(doc["key"]) == typed(yaml.safe_load(text)["key"])


@settings(max_examples=examples(dev=200, ci=5000))
@given(st.from_regex(re.compile(block_yaml._NUMBER_OR_TIME, re.X)))
def test_what_looks_like_a_number_or_a_time_begins_as_the_reader_expects(text):
    # The reader compiles PyYAML's number and time expression only for a scalar that begins so.
    assert re.match(block_yaml._NUMBER_OR_TIME, text, re.X)
    assert text[0] in block_yaml._NUMBER_OR_TIME_START

"""Any tenant can write the ConfigMaps and Secrets the plugin reads.

Property: whatever the history object holds, `rollback` never prints a traceback, and when it
refuses (exit ≠ 0) it says so in one line and no object's resourceVersion has changed. Histories
are generated (hypothesis) over structure and encoding: a valid history broken in one place.
"""

import base64
import gzip
import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes import client as k8s

from tests.adversarial.state import changed, versions
from tests.adversarial.test_interrupted import good_good_bad
from tests.support.profiles import examples

RELEASE = "release-infra-prod"


def put_history(core, namespace, data: dict, binary: bool = False):
    """Replace the history ConfigMap's data (binaryData for raw bytes)."""
    body = k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=RELEASE),
                           **({"binary_data": data} if binary else {"data": data}))
    core.replace_namespaced_config_map(RELEASE, namespace, body)


def assert_refused_or_sound(done, before, after):
    assert "Traceback" not in done.stderr + done.stdout
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
        assert not changed(before, after), (done.stderr, changed(before, after))


EMPTY_HISTORIES = {
    "no data at all": {},
    "empty releaseHistory": {"releaseHistory": ""},
    "an empty mapping": {"releaseHistory": "{}"},
    "comments only": {"releaseHistory": "# nothing here\n"},
    "releases: null": {"releaseHistory": "version: v1\nreleases: null\n"},
    "releases: []": {"releaseHistory": "version: v1\nreleases: []\n"},
    "empty gzip": {"releaseHistory": base64.b64encode(gzip.compress(b"")).decode(),
                   "isReleaseHistoryCompressed": "true"},
    "another key only": {"somethingElse": "x"},
}


@pytest.mark.parametrize("data", EMPTY_HISTORIES.values(), ids=EMPTY_HISTORIES.keys())
def test_an_empty_history_is_refused_before_any_write(apps, core, api_client, namespace, plugin, data):
    good_good_bad(apps, core, namespace)
    put_history(core, namespace, data)
    before = versions(api_client, namespace)
    for _ in range(2):  # and again: no retry flips anything either
        done = plugin("rollback", RELEASE, "-n", namespace)
        assert done.returncode == 3, done.stdout + done.stderr
        assert "holds no releases" in done.stderr and len(done.stderr.strip().splitlines()) == 1
        assert not changed(before, versions(api_client, namespace))


# -- generated corruption ------------------------------------------------------------------------

def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, prefix + (index,))


def _replace(doc, path, value):
    if not path:
        return value
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                 st.text(max_size=20), st.lists(st.integers(), max_size=3),
                 st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
                 st.sampled_from(["Succeeded", "FAILED", "", "²", "1e3", "-1", "0x10", "deployment", "../x"]))


@st.composite
def corrupt_histories(draw, valid_yaml: str):
    """(ConfigMap data, binary?) — a valid history broken by one structural edit and one encoding."""
    doc = yaml.safe_load(valid_yaml)
    paths = list(_paths(doc))
    path = draw(st.sampled_from(paths))
    doc = _replace(doc, path, draw(JUNK))
    text = yaml.safe_dump(doc) if draw(st.booleans()) else json.dumps(doc, default=str)
    raw = text.encode()
    encoding = draw(st.sampled_from(["plain", "gzip", "gzip-truncated", "bad-base64", "not-utf8", "flag-no-gzip",
                                     "deep-nesting", "alias-bomb"]))
    if encoding == "plain":
        return {"releaseHistory": text}
    if encoding == "gzip":
        return {"releaseHistory": base64.b64encode(gzip.compress(raw)).decode(), "isReleaseHistoryCompressed": "true"}
    if encoding == "gzip-truncated":
        packed = gzip.compress(raw)
        cut = draw(st.integers(1, len(packed) - 1))
        return {"releaseHistory": base64.b64encode(packed[:cut]).decode(), "isReleaseHistoryCompressed": "true"}
    if encoding == "bad-base64":
        return {"releaseHistory": "!!" + base64.b64encode(gzip.compress(raw)).decode()[2:],
                "isReleaseHistoryCompressed": "true"}
    if encoding == "not-utf8":
        return {"releaseHistory": base64.b64encode(gzip.compress(b"\xff\xfe" + raw)).decode(),
                "isReleaseHistoryCompressed": "true"}
    if encoding == "flag-no-gzip":
        return {"releaseHistory": text, "isReleaseHistoryCompressed": "true"}
    if encoding == "deep-nesting":
        depth = draw(st.integers(300, 3000))
        return {"releaseHistory": "releases: " + "[" * depth + "]" * depth}
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)) + "releases: *i\n"
    return {"releaseHistory": laughs}


def over_generated_histories(apps, core, namespace, check) -> None:
    """Hypothesis drives one cluster state through many corrupt histories: each is written over
    the history ConfigMap, then `check()` runs."""
    good_good_bad(apps, core, namespace)
    valid = core.read_namespaced_config_map(RELEASE, namespace).data
    plain = gzip.decompress(base64.b64decode(valid["releaseHistory"])).decode()

    @settings(max_examples=examples(dev=25, ci=25, env="KHR_ADVERSARIAL_EXAMPLES"), deadline=None,
              derandomize=True, suppress_health_check=list(HealthCheck))
    @given(corrupt_histories(plain))
    def one(data):
        put_history(core, namespace, data)
        check()

    one()


def test_generated_bad_histories_never_write_when_refused(apps, core, api_client, namespace, plugin):
    """Hypothesis drives one cluster state through many corrupt histories (each run starts from
    what the previous one left: the property holds from any state)."""
    tried = {"refused": 0, "accepted": 0}

    def check():
        before = versions(api_client, namespace)
        done = plugin("rollback", RELEASE, "-n", namespace, "--timeout", "20s")
        assert_refused_or_sound(done, before, versions(api_client, namespace))
        tried["refused" if done.returncode else "accepted"] += 1

    over_generated_histories(apps, core, namespace, check)
    print(f"generated histories: {tried}")
    assert tried["refused"] > 0


# -- status reads the same histories -------------------------------------------------------------

HOSTILE = {
    "bad base64": {"releaseHistory": "!!not base64!!", "isReleaseHistoryCompressed": "true"},
    "truncated gzip": None,  # built from the valid history below
    "not utf-8": {"releaseHistory": base64.b64encode(gzip.compress(b"\xff\xfe releases: []")).decode(),
                  "isReleaseHistoryCompressed": "true"},
    "deep nesting": {"releaseHistory": "releases: " + "[" * 3000 + "]" * 3000},
    "not yaml": {"releaseHistory": "releases: [\n  - {number: 1"},
    "releases not a list": {"releaseHistory": "version: v1\nreleases: 7\n"},
}


@pytest.mark.parametrize("case", HOSTILE, ids=HOSTILE.keys())
def test_status_of_a_hostile_history_is_one_line_exit_1_and_writes_nothing(apps, core, api_client, namespace,
                                                                            plugin, case):
    good_good_bad(apps, core, namespace)
    data = HOSTILE[case]
    if data is None:
        packed = base64.b64decode(core.read_namespaced_config_map(RELEASE, namespace).data["releaseHistory"])
        data = {"releaseHistory": base64.b64encode(packed[:len(packed) // 2]).decode(),
                "isReleaseHistoryCompressed": "true"}
    put_history(core, namespace, data)
    before = versions(api_client, namespace)
    for args in ((), ("--watch", "--timeout", "2s"), ("-o", "json")):
        done = plugin("status", RELEASE, "-n", namespace, *args)
        assert done.returncode == 1, done.stdout + done.stderr
        assert done.stdout == "" and "Traceback" not in done.stderr
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("error: ") and f"configmap/{RELEASE}" in line, line
    assert not changed(before, versions(api_client, namespace))


def test_generated_bad_histories_status_never_writes(apps, core, api_client, namespace, plugin):
    """`status` over generated corrupt histories: an answer (exit 0 or 4) or one line; never a write."""
    codes = set()

    def check():
        before = versions(api_client, namespace)
        done = plugin("status", RELEASE, "-n", namespace)
        assert done.returncode in (0, 1, 4), done.stderr
        assert_refused_or_sound(done, before, versions(api_client, namespace))
        assert not changed(before, versions(api_client, namespace))
        codes.add(done.returncode)

    over_generated_histories(apps, core, namespace, check)
    assert 1 in codes

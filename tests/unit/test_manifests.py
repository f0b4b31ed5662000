"""plugin.yaml (the template) and krew-manifest.yaml (the index manifest) agree with each other
and with the package version."""

import re
from pathlib import Path

import yaml

from kubectl_harness_rollback import __version__

ROOT = Path(__file__).resolve().parents[2]


def load(name):
    return yaml.safe_load((ROOT / name).read_text())


def test_index_manifest_is_the_template_filled_in():
    template, manifest = load("plugin.yaml"), load("krew-manifest.yaml")
    assert (manifest["apiVersion"], manifest["kind"]) == ("krew.googlecontainertools.github.com/v1alpha2", "Plugin")
    assert manifest["metadata"] == template["metadata"] == {"name": "harness-rollback"}
    for key in ("shortDescription", "description", "caveats"):
        assert manifest["spec"][key] == template["spec"][key], key
    assert [p["selector"] for p in manifest["spec"]["platforms"]] == \
        [p["selector"] for p in template["spec"]["platforms"]]


def test_version_is_the_packages_with_a_v():
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert load("krew-manifest.yaml")["spec"]["version"] == f"v{__version__}"
    assert load("plugin.yaml")["spec"]["version"] == "{{VERSION}}"


def test_every_platform_is_complete():
    platforms = load("krew-manifest.yaml")["spec"]["platforms"]
    assert {(p["selector"]["matchLabels"]["os"], p["selector"]["matchLabels"]["arch"]) for p in platforms} == {
        ("linux", "amd64"), ("linux", "arm64"), ("darwin", "amd64"), ("darwin", "arm64")}
    for platform in platforms:
        assert re.fullmatch(r"[0-9a-f]{64}", platform["sha256"])
        assert platform["uri"].startswith("https://") and platform["uri"].endswith(".tar.gz")
        assert platform["uri"].rsplit("/", 2)[-2] == f"v{__version__}"
        assert platform["bin"] == "kubectl-harness_rollback"

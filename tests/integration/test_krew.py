"""The release archive, installed by real krew and run through kubectl's plugin discovery.

This is what a krew user gets: hack/release's archive and manifest, installed with
`kubectl krew install --manifest --archive` into a fresh KREW_ROOT, then run as `kubectl
harness-rollback` with $KREW_ROOT/bin on PATH, on a python3 outside any virtualenv.

No network: with --manifest krew does not touch its index (no git clone), KREW_NO_UPGRADE_CHECK
skips its release check, and a proxy on a closed loopback port makes any request krew might
still try fail here instead of leaving the machine.

The zipapp extracts itself into $XDG_CACHE_HOME on its first run; every test points that at a
temporary directory, so the machine's own cache is left alone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from kubectl_harness_rollback import __version__
from tests.support import krew as krew_support
from tests.support.harness import HarnessRollingDeployer

# One worker: the archive is built once, for the module.
pytestmark = pytest.mark.xdist_group("krew")

CLOSED_PORT_PROXY = "http://127.0.0.1:9"


@pytest.fixture(scope="session")
def krew_binary():
    try:
        return krew_support.build_krew()
    except krew_support.KrewUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"krew is unavailable: {exc}", pytrace=False)
        pytest.skip(f"krew is unavailable: {exc}")


@pytest.fixture(scope="session")
def release(tmp_path_factory):
    return krew_support.build_release(tmp_path_factory.mktemp("dist"))


def _without_virtualenvs(path: str) -> str:
    """PATH minus virtualenvs' bin directories, so `/usr/bin/env python3` is a plain python3."""
    return os.pathsep.join(entry for entry in path.split(os.pathsep)
                           if entry and not (Path(entry).parent / "pyvenv.cfg").exists())


class KrewHome:
    """A KREW_ROOT with the plugin installed, and the environment that sees it."""

    def __init__(self, root: Path, env: dict[str, str]):
        self.root, self.env = root, env

    def run(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(list(args), capture_output=True, text=True, timeout=180,
                              stdin=subprocess.DEVNULL, env={**self.env, **(env or {})})
        if check:
            assert done.returncode == 0, \
                f"{args}: exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        return done


@pytest.fixture(scope="module")
def krew_home(krew_binary, release, test_cluster, tmp_path_factory):
    root = tmp_path_factory.mktemp("krew-root")
    tools = tmp_path_factory.mktemp("krew-tools")
    (tools / "kubectl-krew").symlink_to(krew_binary)  # `kubectl krew` is a plugin too
    env = test_cluster.env()
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(name, None)
    env.update(KREW_ROOT=str(root), KREW_NO_UPGRADE_CHECK="1",
               XDG_CACHE_HOME=str(tmp_path_factory.mktemp("xdg-cache")))
    env["PATH"] = os.pathsep.join([str(root / "bin"), str(tools), _without_virtualenvs(env["PATH"])])
    home = KrewHome(root, env)
    offline = {key: CLOSED_PORT_PROXY for key in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")}
    offline.update(NO_PROXY="", no_proxy="")
    home.run("kubectl", "krew", "install", f"--manifest={release.manifest}", f"--archive={release.archive}",
             env=offline)
    return home


def test_krew_installs_the_archive_offline(krew_home):
    link = krew_home.root / "bin" / "kubectl-harness_rollback"
    assert link.is_symlink()
    assert link.resolve().parent == (krew_home.root / "store" / "harness-rollback" / f"v{__version__}").resolve()
    assert not any((krew_home.root / "index").iterdir()), "krew fetched its index"
    installed = link.resolve().parent
    assert "Apache License" in (installed / "LICENSE").read_text()  # the krew index requires it
    # `krew list` wants an index; the receipt is what it would read.
    receipt = (krew_home.root / "receipts" / "harness-rollback.yaml").read_text()
    assert f"version: v{__version__}" in receipt and "name: detached" in receipt
    # `plugin list` exits 1 when a second copy (e.g. pip's) is shadowed; the first one listed runs.
    found = krew_home.run("kubectl", "plugin", "list", check=False).stdout
    first = next(line for line in found.splitlines() if line.endswith("/kubectl-harness_rollback"))
    assert first == str(link), f"kubectl would run {first}, not krew's copy"


def test_version_through_kubectl(krew_home):
    out = krew_home.run("kubectl", "harness-rollback", "version").stdout
    assert out.startswith(f"kubectl-harness_rollback v{__version__} (python ")


def test_history_through_kubectl(krew_home, apps, core, namespace):
    HarnessRollingDeployer(apps, core, namespace).deploy("registry.example/web:1")

    table = krew_home.run("kubectl", "harness-rollback", "history", "release-infra-prod", "-n", namespace).stdout
    header, *rows = table.splitlines()
    assert header.split()[:3] == ["RELEASE", "STATUS", "WORKLOAD"]
    assert [row.split()[:3] for row in rows] == [["1", "Succeeded", "deployment/web"]]

    as_json = krew_home.run("kubectl", "harness-rollback", "history", "deployment/web", "-n", namespace,
                            "-o", "json").stdout
    assert [(r["number"], r["workloads"][0]["images"]) for r in json.loads(as_json)] == \
        [(1, ["registry.example/web:1"])]


def test_kubectl_completion_through_the_caveats_link(krew_home, apps, core, namespace):
    # The manifest's caveats tell krew users to add this link; the zipapp answers as
    # kubectl_complete-harness_rollback when called by that name.
    link = krew_home.root / "bin" / "kubectl_complete-harness_rollback"
    link.symlink_to(krew_home.root / "bin" / "kubectl-harness_rollback")
    try:
        HarnessRollingDeployer(apps, core, namespace).deploy("registry.example/web:1")
        out = krew_home.run("kubectl", "__complete", "harness-rollback", "history", "-n", namespace, "rel").stdout
    finally:
        link.unlink()
    lines = out.splitlines()
    assert [line.split("\t")[0] for line in lines[:-1]] == ["release-infra-prod"]
    assert lines[-1] == ":4"


def _extracted_copies(cache: Path) -> list[Path]:
    return sorted((cache / "kubectl-harness-rollback").iterdir())


def _uncompiled(copy: Path) -> list[Path]:
    """The modules of the extracted copy that have no .pyc of this python3 yet (the kubernetes
    client's generated API classes and models are never compiled: the plugin never imports them)."""
    generated = re.compile(r"/kubernetes/client/(api|models)/")
    return [source for source in copy.rglob("*.py") if not generated.search(str(source))
            and not list((source.parent / "__pycache__").glob(source.stem + ".*.pyc"))]


def _compiled_whole(copy: Path, seconds: float = 120) -> None:
    """Wait for the first run's compilation in the background to finish (it runs niced)."""
    deadline = time.monotonic() + seconds
    while _uncompiled(copy) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _uncompiled(copy), f"not compiled: {_uncompiled(copy)[:5]}"


def test_first_run_extracts_the_zipapp_and_later_runs_reuse_it(krew_home, tmp_path):
    # Python keeps no .pyc for modules imported from a zip: the first run extracts the archive
    # into the cache, runs from there and compiles it in the background; later runs import from
    # there (PYTHONVERBOSE says from where).
    cache = tmp_path / "cache"
    first = krew_home.run("kubectl", "harness-rollback", "version", env={"XDG_CACHE_HOME": str(cache),
                                                                        "PYTHONVERBOSE": "1"})
    assert "import 'compileall'" not in first.stderr, "the first run compiled the copy itself"
    copies = _extracted_copies(cache)
    assert len(copies) == 1 and re.fullmatch(r"zipapp-[0-9a-f]{64}", copies[0].name), copies
    copy = copies[0]
    # compiled whole, not only what it imported: `version` imports no kubernetes module
    _compiled_whole(copy)
    (copy / "test-mark").write_text("")  # lost if a later run replaced the copy

    verbose = {"XDG_CACHE_HOME": str(cache), "PYTHONVERBOSE": "1"}
    link = krew_home.root / "bin" / "kubectl_complete-harness_rollback"
    link.symlink_to(krew_home.root / "bin" / "kubectl-harness_rollback")
    try:
        runs = [krew_home.run("kubectl", "harness-rollback", "version", env=verbose),
                krew_home.run("kubectl", "__complete", "harness-rollback", "history", "-n", "default", "rel", env=verbose)]
    finally:
        link.unlink()
    for done in runs:
        assert _extracted_copies(cache) == [copy] and (copy / "test-mark").exists(), "extracted again"
        assert "import 'compileall'" not in done.stderr, "extracted again"
        assert f"code object from '{copy / 'kubectl_harness_rollback' / '__pycache__'}/" in done.stderr, \
            "the plugin was not imported from the extracted copy's .pyc files"
    assert runs[0].stdout.startswith(f"kubectl-harness_rollback v{__version__} (python ")
    assert runs[1].stdout.splitlines()[-1] == ":4"  # called by the link's name, it still answers completion

    # A copy without this python3's .pyc files (another version extracted it) gets them, even where
    # Python itself would write none.
    for pycache in copy.rglob("__pycache__"):
        shutil.rmtree(pycache)
    krew_home.run("kubectl", "harness-rollback", "version",
                  env={"XDG_CACHE_HOME": str(cache), "PYTHONDONTWRITEBYTECODE": "1"})
    assert _extracted_copies(cache) == [copy] and (copy / "test-mark").exists(), "extracted again"
    _compiled_whole(copy)


def test_runs_from_the_zip_when_the_cache_cannot_be_written(krew_home, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("")  # nothing can be created below a file, not even by root
    done = krew_home.run("kubectl", "harness-rollback", "version",
                         env={"XDG_CACHE_HOME": str(blocked / "cache"), "PYTHONVERBOSE": "1"})
    assert done.stdout.startswith(f"kubectl-harness_rollback v{__version__} (python ")
    assert re.search(r"^import 'kubectl_harness_rollback\.cli\.fast_path' # <zipimporter ", done.stderr, re.M)

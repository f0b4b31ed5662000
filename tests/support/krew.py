"""krew and the release archive, for the test that installs the plugin as a krew user would.

krew is built from Go modules (`go install sigs.k8s.io/krew/cmd/krew@KREW_VERSION`, the version
pinned in hack/versions.env) and cached outside the repository next to the test cluster's
binaries, so only the first run pays for it (20-40 seconds). The archive and its manifest
come from hack/release, built into a temporary directory; without --manifest it leaves the
committed krew-manifest.yaml alone, which build_release checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RELEASE = REPO / "hack" / "release"


class KrewUnavailable(RuntimeError):
    pass


def _pinned(name: str) -> str:
    for line in (REPO / "hack" / "versions.env").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name:
            return value.strip()
    raise KrewUnavailable(f"{name} is not pinned in hack/versions.env")


def cache_root() -> Path:
    """The cache hack/local-cluster uses: KHR_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache."""
    if os.environ.get("KHR_CACHE_DIR"):
        return Path(os.environ["KHR_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kubectl-harness-rollback"


def build_krew() -> Path:
    """The krew binary of the pinned version, built on first use."""
    version = _pinned("KREW_VERSION")
    bin_dir = cache_root() / f"krew-{version}"
    krew = bin_dir / "krew"
    if krew.exists():
        return krew
    go = shutil.which("go") or ("/usr/local/go/bin/go" if os.access("/usr/local/go/bin/go", os.X_OK) else None)
    if not go:
        raise KrewUnavailable("Go is needed to build krew (go install sigs.k8s.io/krew/cmd/krew)")
    bin_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [go, "install", "-trimpath", "-ldflags", "-s -w", f"sigs.k8s.io/krew/cmd/krew@{version}"],
        cwd=bin_dir, env={**os.environ, "GOBIN": str(bin_dir), "CGO_ENABLED": "0"},
        capture_output=True, text=True, timeout=15 * 60,
    )
    if done.returncode != 0 or not krew.exists():
        tail = "\n".join(done.stderr.strip().splitlines()[-20:])
        raise KrewUnavailable(f"building krew {version} failed (exit {done.returncode}):\n{tail}")
    return krew


@dataclass
class Release:
    archive: Path
    manifest: Path


def build_release(dist: Path) -> Release:
    """Run hack/release into `dist`, as a developer runs it (no --manifest): the archive and the
    manifest rendered for it, and nothing outside `dist` (the committed krew-manifest.yaml stays)."""
    tracked = REPO / "krew-manifest.yaml"
    before = tracked.read_bytes()
    done = subprocess.run([sys.executable, str(RELEASE), "--dist", str(dist)], capture_output=True, text=True,
                          timeout=15 * 60)
    if done.returncode != 0:
        raise AssertionError(f"hack/release failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    written = sorted(p.name for p in dist.iterdir())
    expected = ["harness-rollback.yaml", "kubectl-harness_rollback.tar.gz", "kubectl-harness_rollback.tar.gz.sha256"]
    assert written == expected, f"hack/release wrote {written} into {dist}"
    assert tracked.read_bytes() == before, "hack/release rewrote krew-manifest.yaml without --manifest"
    return Release(dist / "kubectl-harness_rollback.tar.gz", dist / "harness-rollback.yaml")

"""A few seconds' memory of completion candidates, per context, so a second TAB sends no request.

kubectl keeps API discovery under ~/.kube/cache for the same reason. Entries live in
${XDG_CACHE_HOME:-~/.cache}/kubectl-harness-rollback-completion/ (kubectl-harness-rollback/ holds
the krew zipapp's extracted copies, and nothing else), one 0600 file per kubeconfig content,
connection flags on the line and kind of candidate (named by a hash: the file holds no
credential), and are used for TTL seconds. Only shell completion reads them (cli/completion.py): every command reads
the cluster itself, so a stale entry can at worst offer a name that is gone, or miss a new one
that shares its prefix with an old one (an entry without a match is read again).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Mapping

TTL = 10.0  # seconds an entry is used


def directory(env: Mapping[str, str]) -> str:
    base = env.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # unset, empty or relative: the XDG default
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kubectl-harness-rollback-completion")


def key(what: str, identity: object) -> str:
    """The entry's name: a hash of what is completed and of whom asks where (server, user and
    credentials, namespace), so no two contexts share an entry and no credential is written."""
    return hashlib.sha256(json.dumps([what, identity], sort_keys=True, default=str).encode()).hexdigest()


def load(folder: str, name: str, now: float | None = None) -> list[tuple[str, str]] | None:
    """The candidates (value, description) of a fresh entry of ours, else None."""
    path = os.path.join(folder, name)
    try:
        with open(path, encoding="utf-8") as handle:
            if os.fstat(handle.fileno()).st_uid != os.getuid():
                return None
            entry = json.load(handle)
        written = float(entry["written"])
        items = [(str(value), str(help_)) for value, help_ in entry["items"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    age = (time.time() if now is None else now) - written
    return items if 0 <= age < TTL else None


def store(folder: str, name: str, items: list[tuple[str, str]], now: float | None = None) -> None:
    """Write an entry (0600, in a 0700 directory), replacing the old one at once; a cache that
    cannot be written is no error."""
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        temporary = os.path.join(folder, f".{name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({"written": time.time() if now is None else now, "items": items}, handle)
        os.replace(temporary, os.path.join(folder, name))
    except OSError:
        pass
